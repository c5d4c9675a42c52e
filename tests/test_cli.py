"""The contracts scripts rely on: exit codes, the JSON document, quiet output, config."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, by_id, codes
from tests.fixtures import baileys


def demo(tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "sessions"
    for name in names:
        shutil.copytree(EXAMPLES / name, root / name, copy_function=shutil.copy)  # fresh mtimes
    return root


@pytest.mark.parametrize("names, code", [
    (("shop-main",), 0),
    (("shop-main", "new-kiosk"), 0),  # info only
    (("shop-main", "marketing"), 1),  # warning
    (("marketing", "support-bot"), 2),  # critical wins
])
def test_check_exit_code_follows_the_worst_finding(tmp_path, cli, names, code):
    run = cli("check", demo(tmp_path, *names))
    assert run.code == code, run


def test_critical_beats_incomplete_beats_warning(tmp_path, cli):
    warn = demo(tmp_path, "marketing")
    assert cli("check", warn, tmp_path / "missing").code == 3
    shutil.copytree(EXAMPLES / "sales", warn / "sales")
    assert cli("check", warn, tmp_path / "missing").code == 2


def test_list_exit_code_ignores_findings(tmp_path, cli):
    root = demo(tmp_path, "support-bot")
    assert cli("list", root).code == 0
    assert cli("list", root, tmp_path / "missing").code == 3


def test_json_document_fields(tmp_path, cli):
    run = cli("check", "--json", demo(tmp_path, "shop-main", "support-bot"))
    doc = run.json()
    assert doc["schema_version"] == 1
    assert doc["command"] == "check" and doc["tool"]["name"] == "wadoctor"
    assert doc["generated_at"].endswith("Z")
    shop = by_id(doc)["shop-main"]
    for field in ("id", "path", "format", "state", "identity", "files", "bytes", "last_activity",
                  "key_files", "holders", "findings"):
        assert field in shop
    assert shop["identity"]["jid"] == "15550000001:12@s.whatsapp.net"
    assert shop["identity"]["phone"] == "15550000001"
    finding, = by_id(doc)["support-bot"]["findings"]
    assert set(finding) == {"code", "severity", "message", "hint", "fixable", "evidence"}
    assert doc["summary"] == {
        "sessions": 2,
        "states": {"paired": 1, "broken": 1},
        "findings": {"info": 0, "warning": 0, "critical": 1},
        "complete": True,
        "empty_roots": [],
        "processes_uninspected": 0,
        "exit_code": 2,
    }
    assert run.code == 2


def test_table_shows_sessions_findings_and_summary(tmp_path, cli):
    run = cli("check", demo(tmp_path, "shop-main", "support-bot"))
    assert "+15550000001 :12" in run.out
    assert "creds-empty" in run.out and "restores the newest verified backup" in run.out
    assert run.out.rstrip().endswith("2 sessions: 1 critical, 1 ok; 1 finding")  # sessions add up
    verbose = cli("check", "-v", demo(tmp_path / "v", "support-bot"))
    assert "key_files: 36" in verbose.out


def test_quiet_prints_only_problems_and_nothing_when_healthy(tmp_path, cli):
    healthy = cli("check", "-q", demo(tmp_path / "a", "shop-main", "new-kiosk"))
    assert (healthy.code, healthy.out) == (0, "")
    run = cli("check", "-q", demo(tmp_path / "b", "support-bot", "new-kiosk"))
    line, = run.out.splitlines()
    assert line.startswith("critical creds-empty ") and "support-bot" in line


@pytest.mark.parametrize("args", [["check", "--bogus"], ["frobnicate"], ["check", "--json", "--quiet"]])
def test_usage_errors_exit_64(cli, args):
    run = cli(*args)
    assert run.code == 64, run
    assert "Traceback" not in run.err


def test_init_looks_before_it_writes_and_refuses_to_overwrite(tmp_path, cli):
    app = tmp_path / "app"
    shutil.copytree(EXAMPLES, app / "gateway" / "sessions", symlinks=True)
    run = cli("init", cwd=app)
    assert run.code == 0 and "with roots gateway/sessions" in run.err
    text = (app / "wadoctor.toml").read_text()
    config = tomllib.loads(text)
    assert config["roots"] == ["gateway/sessions"]  # the sessions found, not a folder that is not there
    assert "pairing_abandoned_minutes = 10  # " in text and "10.0" not in text  # integers, each key commented
    assert all("  # " in line for line in text.splitlines() if " = " in line and not line.startswith("#"))
    assert len(cli("check", "--json", cwd=app).json()["sessions"]) == len(
        cli("check", "--json", app / "gateway" / "sessions").json()["sessions"])
    again = cli("init", cwd=app)
    assert again.code == 64 and "already exists" in again.err
    empty = tmp_path / "empty"
    empty.mkdir()
    fresh = cli("init", "--root", "sessions", cwd=empty)
    assert fresh.code == 0 and "sessions does not exist" in fresh.err
    assert cli("check", cwd=empty).code == 3  # a configured root that is not there is said, never green


@pytest.mark.parametrize("text, words", [
    ("roots = [", "not valid TOML"),
    ("[thresholds]\nbloat_flies = 3\n", "unknown key 'thresholds.bloat_flies'"),
    ("[thresholds]\nbloat_files = 'many'\n", "thresholds.bloat_files must be an integer >= 1, not 'many'"),
    ("[discovery]\nmax_depth = -1\n", "discovery.max_depth must be an integer >= 0, not -1"),
    ("[logs]\nstorm_seconds = nan\n", "logs.storm_seconds must be a number > 0, not nan"),
    ("[severity]\ncreds-empyt = 'info'\n", "unknown finding code 'creds-empyt'"),
    ("[severity]\ncreds-empty = 'loud'\n", "must be one of info, warning, critical, ignore"),
])
def test_bad_config_is_one_line_and_exit_78(tmp_path, cli, text, words):
    (tmp_path / "wadoctor.toml").write_text(text)
    run = cli("check", cwd=tmp_path)
    assert run.code == 78, run
    assert run.err.count("\n") == 1 and words in run.err


def test_config_from_env_and_flag_and_missing_file(tmp_path, cli):
    root = demo(tmp_path, "support-bot")
    cfg = tmp_path / "quiet.toml"
    cfg.write_text("[severity]\ncreds-empty = 'warning'\n")
    assert cli("check", root).code == 2
    assert cli("check", root, env={"WADOCTOR_CONFIG": str(cfg)}).code == 1
    assert cli("check", "--config", cfg, root).code == 1
    missing = cli("check", "--config", tmp_path / "nope.toml", root)
    assert missing.code == 78 and "config file not found" in missing.err


def test_severity_override_can_ignore_a_code(tmp_path, cli):
    root = demo(tmp_path, "evolution-7")
    (tmp_path / "wadoctor.toml").write_text("[severity]\ncreds-missing = 'ignore'\n")
    run = cli("check", "--json", root, cwd=tmp_path)
    assert run.code == 0 and by_id(run.json())["evolution-7"]["findings"] == []


def test_pairing_abandoned_after_the_configured_age(tmp_path, cli):
    root = demo(tmp_path, "new-kiosk", "onboarding")
    assert {c for s in cli("check", "--json", root).json()["sessions"] for c in codes(s)} == {"unpaired", "half-paired"}
    baileys.age(root / "new-kiosk", 11 * 60)
    baileys.age(root / "onboarding", 4 * 60)
    run = cli("check", "--json", root)
    sessions = by_id(run.json())
    assert codes(sessions["new-kiosk"]) == {"unpaired", "pairing-abandoned"}
    assert codes(sessions["onboarding"]) == {"half-paired"}
    assert run.code == 1
    (tmp_path / "wadoctor.toml").write_text("[thresholds]\npairing_abandoned_minutes = 3\n")
    sessions = by_id(cli("check", "--json", root, cwd=tmp_path).json())
    assert "pairing-abandoned" in codes(sessions["onboarding"])


def test_bloat_threshold(tmp_path, cli):
    root = demo(tmp_path, "shop-main")
    assert cli("check", root).code == 0
    (tmp_path / "wadoctor.toml").write_text("[thresholds]\nbloat_files = 20\n")
    run = cli("check", "--json", root, cwd=tmp_path)
    finding, = by_id(run.json())["shop-main"]["findings"]
    assert finding["code"] == "bloat" and "most are pre-key (30)" in finding["message"]


def test_version(cli):
    run = cli("--version")
    assert run.code == 0 and run.out.startswith("wadoctor ")


def test_an_empty_root_is_a_warning_not_a_healthy_box(tmp_path, cli):
    """A sessions volume that failed to mount leaves an empty folder: never green forever."""
    empty = tmp_path / "sessions"
    empty.mkdir()
    run = cli("check", "--json", empty)
    assert run.code == 1 and run.json()["summary"]["empty_roots"] == [str(empty)]
    nagios = cli("check", "--nagios", empty)
    assert nagios.code == 1 and nagios.out.startswith("WADOCTOR WARNING - 0 sessions; no session found in")
    assert "no session found in" in cli("check", empty).out
    assert cli("list", empty).code == 0  # an inventory, not a judgement
    shutil.copytree(EXAMPLES / "shop-main", empty / "shop-main")
    named = cli("check", "--json", "sessions", cwd=tmp_path)  # a relative root that holds a session
    assert named.code == 0 and named.json()["summary"]["empty_roots"] == []


def test_shared_flags_mean_the_same_wherever_they_are(tmp_path, cli):
    sessions = tmp_path / "sessions"
    shutil.copytree(EXAMPLES / "shop-main", sessions / "shop-main")
    for command in ("check", "fix"):  # a strictly read-only run: no backup folder appears
        assert cli(command, "--no-backup", sessions).code == 0
        assert not (sessions / ".wadoctor").exists()
    config = tmp_path / "wadoctor.toml"
    config.write_text("[logs]\ntimezone = 'nowhere/nothing'\n")
    # it reads the config named
    assert cli("guard", "--config", config, sessions / "shop-main", "--", "true").code == 78


def _on_a_terminal(columns: int, *args: str) -> str:
    """The command's screen in a real pseudo-terminal `columns` wide (styles stripped)."""
    import fcntl
    import pty
    import re
    import struct
    import subprocess
    import sys
    import termios

    from tests.conftest import REPO

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-m", "wadoctor", *args], stdin=slave, stdout=slave, stderr=slave,
                             env=env, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        out += chunk
    child.wait(timeout=60)
    os.close(master)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace")).replace("\r\n", "\n")


@pytest.mark.parametrize("columns", [60, 80, 120, 200])
def test_the_table_fits_the_terminal_it_is_on(tmp_path, columns):
    demo = shutil.copytree(EXAMPLES, tmp_path / "sessions", symlinks=True)
    screen = _on_a_terminal(columns, "check", "--no-backup", str(demo))
    lines = screen.splitlines()
    assert all(len(line.rstrip()) <= columns for line in lines), [
        line for line in lines if len(line.rstrip()) > columns]
    header = lines[0].split()
    assert header[0] == "SESSION" and "IDENTITY" in header and "STATE" in header and header[-1] == "HEALTH"
    rows = [row for row in lines[1:lines.index("")] if len(row.split()) > 1]  # at 60, a long id folds below
    ids = [row.split()[0] for row in rows]
    assert "session-helpdesk" in ids and ("whatsapp/15550000011.14" in ids or columns < 80)  # whole from 80 on
    assert all(row.split()[-1] in ("ok", "info", "warning", "critical") for row in rows)  # health words whole
    if columns >= 120:
        assert "FORMAT" in header and "ACTIVE" in header
    if columns <= 80:  # a remedy that wraps goes on under its own start, not at column 0
        hint = next(i for i, line in enumerate(lines) if line.startswith("      → If no browser"))
        assert lines[hint + 1].startswith("        ") and lines[hint + 1].strip()


def test_every_command_that_looks_for_sessions_or_entries_takes_root(tmp_path, cli):
    sessions = tmp_path / "srv" / "sessions"
    shutil.copytree(EXAMPLES / "new-kiosk", sessions / "new-kiosk")
    elsewhere = tmp_path / "cron"
    elsewhere.mkdir()
    assert cli("clean", "--yes", "--root", sessions, "new-kiosk", cwd=elsewhere).code == 0  # an id, found under --root
    listed = cli("quarantine", "list", "--json", "--root", sessions, cwd=elsewhere).json()["entries"]
    assert [e["session"] for e in listed] == ["new-kiosk"]
    assert cli("quarantine", "purge", "--older-than", "0s", "--dry-run", "--root", sessions, cwd=elsewhere).code == 0
    assert cli("restore", "--last", "--root", sessions, cwd=elsewhere).code == 0 and (sessions / "new-kiosk").is_dir()
