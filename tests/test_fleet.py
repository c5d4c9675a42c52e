"""The fleet registry against a real PostgreSQL: split brain across hosts, guards, outages."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import EXAMPLES, REPO, by_id

NODE = shutil.which("node")
GATEWAY = [sys.executable, "-c", "print('gateway up', flush=True); import time; time.sleep(120)"]


def host_tree(tmp_path: Path, host: str, *names: str) -> Path:
    sessions = tmp_path / host / "sessions"
    for name in names:
        shutil.copytree(EXAMPLES / name, sessions / name, copy_function=shutil.copy)
    return sessions


def as_host(host: str) -> dict[str, str]:
    return {"WADOCTOR_HOSTNAME": host}


def guard(sessions: Path, host: str, url: str, *extra: str) -> subprocess.Popen:
    """A gateway started under `wadoctor guard --registry` on a simulated host."""
    process = subprocess.Popen([sys.executable, "-m", "wadoctor", "guard", "--registry", url, *extra, str(sessions),
                                "--", *GATEWAY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO), **as_host(host)})
    return process


def wait_up(process: subprocess.Popen) -> None:
    line = process.stdout.readline()
    assert line.strip() == "gateway up", (line, process.stderr.read() if process.poll() is not None else "")


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_check_publishes_and_sees_the_same_identity_on_another_host(tmp_path, cli, registry):
    a = host_tree(tmp_path, "a", "shop-main", "new-kiosk")
    b = host_tree(tmp_path, "b", "shop-main")
    first = cli("check", "--json", "--registry", registry, a, env=as_host("gw-a"))
    assert first.code == 0, first
    assert first.json()["fleet"]["host"] == "gw-a" and first.json()["fleet"]["findings"] == []
    run = cli("check", "--json", "--registry", registry, b, env=as_host("gw-b"))
    finding, = by_id(run.json())["shop-main"]["findings"]
    assert (finding["code"], finding["severity"]) == ("duplicate-identity", "warning")
    assert finding["evidence"]["hosts"] == ["gw-a"]
    assert "gw-a:" in finding["message"]
    fleet = cli("fleet", "--json", "--registry", registry)
    doc = fleet.json()
    assert sorted(h["host"] for h in doc["hosts"]) == ["gw-a", "gw-b"]
    conflict, = doc["conflicts"]
    assert conflict["identity"] == "device 15550000001:12" and conflict["severity"] == "warning"
    assert fleet.code == 1


def test_identity_live_on_two_hosts_is_critical_with_both_named(tmp_path, cli, registry):
    a = host_tree(tmp_path, "a", "shop-main")
    b = host_tree(tmp_path, "b", "shop-main")
    gw_a = guard(a / "shop-main", "gw-a", registry, "--registry-optional")
    try:
        wait_up(gw_a)
        cli("check", "--registry", registry, a, env=as_host("gw-a"))
        # gw-b's gateway runs without the registry (the old habit), so nothing stopped it
        gw_b = subprocess.Popen([sys.executable, "-m", "wadoctor", "guard", str(b / "shop-main"), "--", *GATEWAY],
                                stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            wait_up(gw_b)
            run = cli("check", "--json", "--registry", registry, b, env=as_host("gw-b"))
            finding = next(f for f in by_id(run.json())["shop-main"]["findings"] if f["code"] == "duplicate-identity")
            assert finding["severity"] == "critical" and "split brain" in finding["message"]
            assert "gw-a" in finding["message"] and run.code == 2
            fleet = cli("fleet", "--registry", registry)
            assert fleet.code == 2 and "critical: device 15550000001:12" in fleet.out
        finally:
            stop(gw_b)
    finally:
        stop(gw_a)


def test_second_host_guard_is_refused_and_the_lock_dies_with_the_holder(tmp_path, cli, registry):
    a = host_tree(tmp_path, "a", "shop-main")
    b = host_tree(tmp_path, "b", "shop-main")
    holder = guard(a / "shop-main", "gw-a", registry)
    try:
        wait_up(holder)
        started = time.monotonic()
        refused = cli("guard", "--registry", registry, b / "shop-main", "--", "echo", "should not run",
                      env=as_host("gw-b"))
        assert refused.code == 75 and time.monotonic() - started < 10, refused
        assert "device 15550000001:12 is live on host gw-a" in refused.err
        assert f"pid {holder.pid}" not in refused.err  # the gateway's pid is named, not the guard's
        assert "should not run" not in refused.out
        gateway = next(p for p in __import__("psutil").Process(holder.pid).children())
        holder.send_signal(signal.SIGKILL)  # the host "dies": its registry connection drops
        holder.wait()
        gateway.wait(timeout=15)  # raises if it is still alive: the gateway never outlives its guard
        assert not gateway.is_running()
        deadline = time.monotonic() + 30
        while True:
            taken = cli("guard", "--registry", registry, b / "shop-main", "--", "echo", "took over",
                        env=as_host("gw-b"))
            if taken.code == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert taken.code == 0 and "took over" in taken.out, taken
    finally:
        stop(holder)


def test_guard_forwards_signals_and_exits_with_the_gateways_status(tmp_path, cli, registry):
    a = host_tree(tmp_path, "a", "shop-main")
    assert cli("guard", "--registry", registry, a / "shop-main", "--", sys.executable, "-c",
               "raise SystemExit(7)").code == 7
    holder = guard(a / "shop-main", "gw-a", registry)
    wait_up(holder)
    holder.send_signal(signal.SIGTERM)
    assert holder.wait(timeout=15) == 128 + signal.SIGTERM
    assert cli("guard", "--registry", registry, a / "shop-main", "--", "no-such-gateway").code == 127


def test_rolling_deploy_new_process_waits_for_the_old(tmp_path, cli, registry):
    """The new release starts while the old one still runs: refused until the old exits."""
    a = host_tree(tmp_path, "a", "shop-main")
    old = guard(a / "shop-main", "gw-a", registry)
    try:
        wait_up(old)
        assert cli("guard", "--registry", registry, a / "shop-main", "--", "true", env=as_host("gw-a2")).code == 75
        subprocess.Popen(["sh", "-c", f"sleep 1; kill {old.pid}"])
        new = cli("guard", "--wait", "20", "--registry", registry, a / "shop-main", "--", "echo", "new release",
                  env=as_host("gw-a2"))
        assert new.code == 0 and "new release" in new.out
    finally:
        stop(old)


def test_registry_down_check_still_reports_and_guard_refuses(tmp_path, cli, postgres):
    a = host_tree(tmp_path, "a", "shop-main", "support-bot")
    postgres.stop()
    try:
        started = time.monotonic()
        run = cli("check", "--json", "--registry", postgres.url, a)
        assert time.monotonic() - started < 15
        doc = run.json()
        assert run.code == 2  # the local critical finding wins over "could not complete"
        assert by_id(doc)["support-bot"]["findings"][0]["code"] == "creds-empty"
        assert doc["fleet"]["findings"][0]["code"] == "registry-unreachable" and not doc["summary"]["complete"]
        healthy = host_tree(tmp_path, "h", "shop-main")
        assert cli("check", "--registry", postgres.url, healthy).code == 3
        refused = cli("guard", "--registry", postgres.url, a / "shop-main", "--", "echo", "started")
        assert refused.code == 3 and "not starting the gateway" in refused.err and "started" not in refused.out
        optional = cli("guard", "--registry", postgres.url, "--registry-optional", a / "shop-main", "--", "echo",
                       "started")
        assert optional.code == 0 and "started" in optional.out
    finally:
        postgres.start()


def test_silent_host_is_reported(tmp_path, cli, registry):
    import psycopg

    cli("check", "--registry", registry, host_tree(tmp_path, "a", "new-kiosk"), env=as_host("gw-old"))
    with psycopg.connect(registry, autocommit=True) as conn:
        conn.execute("UPDATE wadoctor_hosts SET reported_at = now() - interval '2 hours'")
    run = cli("check", "--json", "--registry", registry, host_tree(tmp_path, "b", "shop-main"), env=as_host("gw-new"))
    finding, = run.json()["fleet"]["findings"]
    assert finding["code"] == "fleet-host-silent" and "gw-old" in finding["message"]
    assert run.code == 1


def test_schema_is_versioned_and_idempotent_and_stores_no_keys(tmp_path, cli, registry):
    import psycopg

    sessions = host_tree(tmp_path, "a", "shop-main")
    for _ in range(2):
        assert cli("check", "--registry", registry, sessions).code == 0
    creds = (EXAMPLES / "shop-main" / "creds.json").read_text()
    import json

    secrets = [v["data"] for k, v in json.loads(creds)["noiseKey"].items()]
    with psycopg.connect(registry) as conn:
        assert conn.execute("SELECT value FROM wadoctor_meta WHERE key = 'schema_version'").fetchone() == ("1",)
        dump = str(conn.execute("SELECT * FROM wadoctor_sessions").fetchall())
    assert all(secret not in dump for secret in secrets)


def test_missing_psycopg_says_which_extra(tmp_path, cli):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "psycopg.py").write_text("raise ImportError('simulated: not installed')\n")
    run = cli("check", "--no-backup", "--registry", "postgresql://x@127.0.0.1/db", EXAMPLES / "shop-main",
              env={"PYTHONPATH": str(shim)}, process=True)  # an interpreter that starts with the shim
    assert run.code == 78 and "pip install 'wadoctor[fleet]'" in run.err


def test_check_sees_an_identity_a_guard_holds_on_another_host_without_its_check(tmp_path, cli, registry):
    a = host_tree(tmp_path, "a", "shop-main")
    b = host_tree(tmp_path, "b", "shop-main", "marketing")
    holder = guard(a / "shop-main", "gw-a", registry)  # gw-a never runs `check --registry`
    try:
        wait_up(holder)
        gateway_pid = next(p for p in __import__("psutil").Process(holder.pid).children()).pid
        run = cli("check", "--json", "--registry", registry, b, env=as_host("gw-b"))
        sessions = by_id(run.json())
        finding = next(f for f in sessions["shop-main"]["findings"] if f["code"] == "duplicate-identity")
        assert finding["severity"] == "warning"  # not held on gw-b: it conflicts once started here
        assert f"live on host gw-a under guard pid {gateway_pid} since " in finding["message"]
        assert finding["evidence"]["hosts"] == ["gw-a"] and finding["evidence"]["guards"][0]["pid"] == gateway_pid
        assert not any(f["code"] == "duplicate-identity" for f in sessions["marketing"]["findings"])
        # started on gw-b as well (without the registry, the old habit): split brain, critical
        local = subprocess.Popen([sys.executable, "-m", "wadoctor", "guard", str(b / "shop-main"), "--", *GATEWAY],
                                 stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            assert local.stdout.readline().strip() == "gateway up"
            run = cli("check", "--json", "--registry", registry, b, env=as_host("gw-b"))
            finding = next(f for f in by_id(run.json())["shop-main"]["findings"] if f["code"] == "duplicate-identity")
            assert finding["severity"] == "critical" and run.code == 2
        finally:
            stop(local)
        fleet = cli("fleet", "--json", "--registry", registry)
        guarded, = fleet.json()["guards"]
        assert (guarded["identity"], guarded["host"], guarded["pid"]) == ("device 15550000001:12", "gw-a", gateway_pid)
        assert any(c["identity"] == "device 15550000001:12" and "gw-a" in c["hosts"] for c in fleet.json()["conflicts"])
        table = cli("fleet", "--registry", registry)
        assert "GUARDED IDENTITY" in table.out and "gw-a" in table.out
    finally:
        stop(holder)
    # the guard is gone: its record stays, its lock does not, and the check no longer cites it
    run = cli("check", "--json", "--registry", registry, b, env=as_host("gw-b"))
    assert "guard pid" not in run.out
