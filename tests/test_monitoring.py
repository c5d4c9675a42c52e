"""What monitoring reads: Prometheus textfiles, monitoring-plugins lines, the shipped contrib
files (alert rules, dashboard, systemd units), config found without flags, shell completion."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import EXAMPLES, REPO

CONTRIB = REPO / "contrib"
NAGIOS = re.compile(r"^WADOCTOR (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+) \| "
                    r"((?:'?[\w ]+'?=[\d.]+[a-zA-Z%]*(?:;[\d.]*){0,4} ?)+)\n$")
STATUS_CODE = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def demo(tmp_path: Path) -> Path:
    root = tmp_path / "sessions"
    shutil.copytree(EXAMPLES, root, symlinks=True, copy_function=shutil.copy,
                    ignore=shutil.ignore_patterns(".wadoctor"))
    return root


def families(path: Path) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(path.read_text())}


def test_check_writes_a_textfile_the_prometheus_parser_accepts(tmp_path, cli):
    root, prom = demo(tmp_path), tmp_path / "textfile" / "wadoctor.prom"
    prom.parent.mkdir()
    run = cli("check", "--prometheus", prom, root)
    assert run.code == 2, run
    found = families(prom)
    states = {s.labels["state"]: s.value for s in found["wadoctor_sessions"]}
    assert states["paired"] >= 4 and states["broken"] >= 2
    by_code = {s.labels["code"]: s.value for s in found["wadoctor_sessions_with_finding"]}
    assert by_code["creds-empty"] == 2 and by_code["creds-corrupt"] == 1  # support-bot, and billing (backed up)
    info = {s.labels["session"]: s.labels for s in found["wadoctor_session_info"]}
    assert info["shop-main"]["state"] == "paired" and info["shop-main"]["held"] == "false"
    assert info["shop-main"]["phone"] == "155*****001"  # 15550000001, masked
    assert "15550000001" not in prom.read_text()
    run_labels = {s.name: s for s in found["wadoctor_run_exit_code"]}
    assert run_labels["wadoctor_run_exit_code"].value == 2
    first_success = found["wadoctor_last_success_timestamp_seconds"][0].value
    assert abs(first_success - time.time()) < 60
    assert list(prom.parent.iterdir()) == [prom]  # no temporary file left beside it
    assert oct(prom.stat().st_mode & 0o777) == "0o644"
    # a run that cannot complete keeps the last success of the one before
    time.sleep(1.1)
    assert cli("check", "--prometheus", prom, root, tmp_path / "missing").code == 2
    inode = prom.stat().st_ino
    assert cli("check", "--prometheus", prom, tmp_path / "missing").code == 3
    again = families(prom)
    assert again["wadoctor_run_exit_code"][0].value == 3
    assert again["wadoctor_last_success_timestamp_seconds"][0].value > first_success
    assert prom.stat().st_ino != inode  # replaced by a rename, never rewritten in place


def test_metrics_of_many_sessions_are_spilled_and_written_whole_in_order(tmp_path):
    """A million sessions' info lines are 300 MB of text: past a few thousand, a family's
    samples wait in a spool. The file is still every family once, its samples in order, and
    the Prometheus parser reads them all."""
    from wadoctor.render.prometheus import Metrics, _Samples, write_metrics

    metrics = Metrics()
    count = 2 * _Samples.HELD + 5
    for number in range(count):
        metrics.add("wadoctor_session_info", "gauge", "One per session.", 1, session=f"s{number}")
        metrics.add("wadoctor_session_holders", "gauge", "Holders.", number % 3, session=f"s{number}")
    path = tmp_path / "wadoctor.prom"
    try:
        write_metrics(path, metrics.chunks())
    finally:
        metrics.close()
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    info = [s.labels["session"] for s in families["wadoctor_session_info"].samples]
    assert info == [f"s{n}" for n in range(count)]
    assert [s.value for s in families["wadoctor_session_holders"].samples] == [n % 3 for n in range(count)]


def test_phones_shown_when_the_config_says_so_and_logs_and_fix_write_metrics(tmp_path, cli):
    root, prom = demo(tmp_path), tmp_path / "wadoctor.prom"
    config = tmp_path / "wadoctor.toml"
    config.write_text("[prometheus]\nmask_phones = false\n")
    cli("check", "--config", config, "--prometheus", prom, root)
    phones = {s.labels["phone"] for s in families(prom)["wadoctor_session_info"]}
    assert "15550000001" in phones
    log = tmp_path / "gw.log"
    stamp = time.time()
    log.write_text("".join(json.dumps({"level": 50, "time": int((stamp - 60 + i) * 1000), "session": "shop-main",
                                       "msg": "stream errored out",
                                       "reasonNode": {"tag": "conflict", "attrs": {"type": "replaced"}}}) + "\n"
                           for i in range(0, 40, 4)))
    assert cli("logs", "--prometheus", prom, log).code == 2
    found = families(prom)
    assert found["wadoctor_log_conflicts_last_hour"][0].labels["session"] == "shop-main"
    assert found["wadoctor_log_conflicts_last_hour"][0].value == 10
    assert found["wadoctor_run_exit_code"][0].labels["command"] == "logs"
    cli("check", "--logs", log, "--prometheus", prom, root)
    conflicts = {s.labels["session"]: s.value for s in families(prom)["wadoctor_log_conflicts_last_hour"]}
    assert conflicts == {"shop-main": 10}
    fixed = cli("fix", "--prometheus", prom, root)
    actions = {s.labels["status"]: s.value for s in families(prom)["wadoctor_fix_actions"]}
    assert actions["done"] >= 1 and fixed.code in (1, 2)


def test_nagios_line_follows_monitoring_plugins(tmp_path, cli):
    root = demo(tmp_path)
    for paths, status in (([root / "shop-main"], "OK"), ([root], "CRITICAL"),
                          ([root / "shop-main", tmp_path / "missing"], "UNKNOWN")):
        run = cli("check", "--nagios", "--no-backup", *paths)
        match = NAGIOS.match(run.out)
        assert match, run.out
        assert match[1] == status and run.code == STATUS_CODE[status], run
        perf = dict(item.split("=") for item in match[3].split())
        assert set(perf) == {"sessions", "critical", "warning", "held", "conflicts_1h"}
    crit = cli("check", "--nagios", "--no-backup", root)
    assert "creds-" in crit.out and "more" in crit.out


def test_contrib_uses_only_metrics_wadoctor_writes(tmp_path, cli):
    root, prom = demo(tmp_path), tmp_path / "all.prom"
    written: set[str] = set()
    log = tmp_path / "gw.log"
    log.write_text(json.dumps({"time": int(time.time() * 1000), "session": "shop-main", "msg": "stream errored out",
                               "reasonNode": {"tag": "conflict"}}) + "\n")
    for args in (["check", "--logs", log, root], ["fix", root], ["logs", log]):
        cli(*args[:1], "--prometheus", prom, *args[1:])
        written |= set(families(prom))
    rules = yaml.safe_load((CONTRIB / "prometheus" / "wadoctor.rules.yml").read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    assert {"WhatsAppSessionCritical", "WhatsAppSessionHeldTwice", "WhatsAppStreamConflicts",
            "WadoctorNotRunning"} <= set(alerts)
    assert alerts["WhatsAppSessionCritical"]["for"] == "10m"
    dashboard = json.loads((CONTRIB / "grafana" / "wadoctor.json").read_text())
    exprs = [r["expr"] for r in alerts.values()] + [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs.append(dashboard["templating"]["list"][0]["definition"])
    used = {name for expr in exprs for name in re.findall(r"\bwadoctor_[a-z_]+", expr)}
    assert used and used <= written, used - written


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("CI must verify the systemd units: apt-get install systemd")
        pytest.skip("systemd-analyze is not installed")
    wadoctor = Path(sys.executable).parent / "wadoctor"
    units = ("wadoctor-fix.service", "wadoctor-fix.timer", "wadoctor-watch.service")
    for unit in units:
        text = (CONTRIB / "systemd" / unit).read_text().replace("/usr/local/bin/wadoctor", str(wadoctor))
        (tmp_path / unit).write_text(text)
    result = subprocess.run([analyze, "verify", *(str(tmp_path / unit) for unit in units)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    service = (tmp_path / "wadoctor-fix.service").read_text()
    assert "Type=oneshot" in service
    # gateways under /home and /root must stay writable for fix: no ProtectHome, no read-only /root
    assert "ProtectHome" not in service and "ReadOnlyPaths" not in service


def test_the_readme_s_install_for_root_gives_a_wadoctor_on_path(tmp_path):
    """The one line README gives for root, run with its two places moved under tmp_path."""
    readme = (REPO / "README.md").read_text()
    line = next(text for text in readme.splitlines() if text.startswith("python3 -m venv /opt/wadoctor"))
    command = line.replace("/opt/wadoctor", str(tmp_path / "opt")).replace("/usr/local/bin", str(tmp_path / "bin"))
    (tmp_path / "bin").mkdir()
    subprocess.run(["bash", "-c", command], cwd=REPO, check=True, timeout=600)
    run = subprocess.run([str(tmp_path / "bin" / "wadoctor"), "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("wadoctor ")


def test_config_found_without_flags_and_named_by_check_verbose(tmp_path, cli):
    system = Path("/etc/wadoctor/wadoctor.toml")
    if system.exists() or os.geteuid() != 0:
        pytest.skip("needs root and no real /etc/wadoctor/wadoctor.toml to stand in for")
    root = demo(tmp_path)
    try:
        assert cli("init", "--system", "--root", root / "shop-main").code == 0
        assert f'roots = ["{root / "shop-main"}"]' in system.read_text()
        run = cli("check", "-v", "--json", cwd=tmp_path)
        assert run.code == 0 and [s["id"] for s in run.json()["sessions"]] == ["shop-main"]
        assert f"config: {system}" in run.err
        here = tmp_path / "wadoctor.toml"
        here.write_text(f'roots = ["{root / "marketing"}"]\n')
        run = cli("check", "-v", "--json", cwd=tmp_path)  # ./wadoctor.toml comes first
        assert [s["id"] for s in run.json()["sessions"]] == ["marketing"] and f"config: {here}" in run.err
    finally:
        shutil.rmtree(system.parent, ignore_errors=True)
    run = cli("check", "-v", "--no-backup", root / "shop-main", cwd=root)
    assert "config: none found; defaults" in run.err


def test_completion_in_a_real_bash(tmp_path, cli):
    tmux = shutil.which("tmux")
    if tmux is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the completion test: apt-get install tmux")
        pytest.skip("tmux is not installed")
    root = demo(tmp_path)
    assert cli("clean", "--yes", root / "new-kiosk").code in (0, 1, 2)
    entry = cli("quarantine", "list", "--json", root).json()["entries"][0]["id"]
    socket_name = f"wadoctor-{os.getpid()}"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}

    def screen() -> str:
        return subprocess.run([tmux, "-L", socket_name, "capture-pane", "-t", "t", "-p"], capture_output=True,
                              text=True).stdout

    def type_and_wait(keys: list[str], expect: str) -> str:
        subprocess.run([tmux, "-L", socket_name, "send-keys", "-t", "t", *keys], check=True)
        deadline = time.monotonic() + 20
        while expect not in screen():
            assert time.monotonic() < deadline, (expect, screen())
            time.sleep(0.2)
        return screen()

    subprocess.run([tmux, "-L", socket_name, "new-session", "-d", "-s", "t", "-x", "220", "-y", "40",
                    "bash --norc --noprofile -i"], check=True, env=env, cwd=root)
    try:
        type_and_wait(["PS1='$ '; source <(wadoctor --show-completion bash) && echo loaded", "Enter"], "\nloaded")
        type_and_wait(["clear", "Enter"], "$\n")
        type_and_wait(["wadoctor chec", "Tab"], "$ wadoctor check\n")
        type_and_wait(["C-u", "wadoctor clean --dry-ru", "Tab"], "$ wadoctor clean --dry-run\n")
        type_and_wait(["sho", "Tab"], "$ wadoctor clean --dry-run shop-main\n")
        type_and_wait(["C-u", "wadoctor restore ", "Tab"], f"$ wadoctor restore {entry}\n")
    finally:
        subprocess.run([tmux, "-L", socket_name, "kill-server"], capture_output=True)
