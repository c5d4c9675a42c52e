"""Holders and conflicts with real processes: gateways, open stores, browsers, guard locks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, by_id, codes
from tests.fixtures.whatsmeow import Device, add_devices

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def spawn(args, cwd=None, ready=None, env=None):
    """Start a real child process; wait until it prints `ready` (or has started)."""
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    if ready:
        line = process.stdout.readline().strip()
        assert line == ready, (line, process.stderr.read() if process.poll() is not None else "")
    return process


def stop(*processes):
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def check(cli, *paths):
    run = cli("check", "--json", *paths)
    assert run.code in (0, 1, 2, 3), run
    return run


def pids(session):
    return {h["pid"] for h in session["holders"]}


NODE_GATEWAY = "console.log('ready'); setInterval(() => {}, 1000)"


def app_with(tmp_path, *names):
    app = tmp_path / "gateway"
    for name in names:
        shutil.copytree(EXAMPLES / name, app / "sessions" / name, copy_function=shutil.copy)
    return app


@needs_node
def test_node_gateway_is_tied_to_its_sessions_by_working_folder(tmp_path, cli):
    app = app_with(tmp_path, "shop-main")
    gateway = spawn([NODE, "-e", NODE_GATEWAY, "--", "--token=s3cret"], cwd=app, ready="ready")
    try:
        session = by_id(check(cli, app).json())["shop-main"]
        holder, = session["holders"]
        assert holder["pid"] == gateway.pid and holder["name"] == "node"
        assert holder["evidence"] == [f"working folder is the application folder ({app})"]
        assert "--token=***" in holder["cmdline"] and "s3cret" not in holder["cmdline"]
        assert holder["started"].endswith("Z")
    finally:
        stop(gateway)
    assert by_id(check(cli, app).json())["shop-main"]["holders"] == []


@needs_node
def test_old_gateway_still_alive_after_deploy_is_duplicate_holder(tmp_path, cli):
    app = app_with(tmp_path, "shop-main", "marketing")
    old = spawn([NODE, "-e", NODE_GATEWAY], cwd=app, ready="ready")
    new = spawn([NODE, "-e", NODE_GATEWAY], cwd=app, ready="ready")
    try:
        run = check(cli, app)
        session = by_id(run.json())["shop-main"]
        assert pids(session) == {old.pid, new.pid}
        finding = next(f for f in session["findings"] if f["code"] == "duplicate-holder")
        assert finding["severity"] == "critical" and set(finding["evidence"]["pids"]) == {old.pid, new.pid}
        assert run.code == 2
        table = cli("check", app)
        assert "2 processes" in table.out and "duplicate-holder" in table.out
    finally:
        stop(old)
    session = by_id(check(cli, app).json())["shop-main"]
    assert pids(session) == {new.pid} and "duplicate-holder" not in codes(session)
    stop(new)


@needs_node
def test_a_gateway_and_its_own_child_are_one_holder(tmp_path, cli):
    app = app_with(tmp_path, "shop-main")
    parent = spawn([NODE, "-e", textwrap.dedent("""
        const { spawn } = require('child_process')
        const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
        console.log('ready')
        setInterval(() => {}, 1000)
    """)], cwd=app, ready="ready")
    try:
        time.sleep(0.3)
        session = by_id(check(cli, app).json())["shop-main"]
        assert len(session["holders"]) == 2
        assert "duplicate-holder" not in codes(session)
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)])
        stop(parent)


HOLD_STORE_OPEN = textwrap.dedent("""
    import sqlite3, sys, time
    c = sqlite3.connect(sys.argv[1])
    c.execute("SELECT count(*) FROM whatsmeow_device").fetchall()
    print("ready", flush=True)
    time.sleep(60)
""")


def test_processes_with_a_whatsmeow_store_open(whatsmeow_store, cli):
    add_devices(whatsmeow_store, Device("15550000001", 12))
    first = spawn([sys.executable, "-c", HOLD_STORE_OPEN, str(whatsmeow_store)], ready="ready")
    try:
        session, = check(cli, whatsmeow_store).json()["sessions"]
        holder, = session["holders"]
        assert holder["pid"] == first.pid and "open descriptor on whatsapp.db" in holder["evidence"]
        second = spawn([sys.executable, "-c", HOLD_STORE_OPEN, str(whatsmeow_store)], ready="ready")
        try:
            run = check(cli, whatsmeow_store)
            session, = run.json()["sessions"]
            assert pids(session) == {first.pid, second.pid}
            assert "duplicate-holder" in codes(session) and run.code == 2
        finally:
            stop(second)
    finally:
        stop(first)
    session, = check(cli, whatsmeow_store).json()["sessions"]
    assert session["holders"] == [] and codes(session) == set()


def test_two_guards_on_one_folder_the_second_is_refused(tmp_path, cli):
    session = Path(shutil.copytree(EXAMPLES / "shop-main", tmp_path / "sessions" / "shop", copy_function=shutil.copy))
    first = spawn([sys.executable, "-m", "wadoctor", "guard", str(session), "--",
                   sys.executable, "-c", "print('ready', flush=True); import time; time.sleep(60)"],
                  ready="ready", env={"PYTHONPATH": str(Path(__file__).parent.parent)})
    try:
        second = cli("guard", session, "--", "echo", "should not run")
        assert second.code == 75
        assert f"held by pid {first.pid} on {socket.gethostname()}" in second.err
        assert "should not run" not in second.out
        waited = time.monotonic()
        assert cli("guard", "--wait", "1", session, "--", "true").code == 75
        assert time.monotonic() - waited >= 1
        found = by_id(check(cli, tmp_path / "sessions").json())["shop"]
        guard, gateway = sorted(found["holders"], key=lambda h: h["pid"] != first.pid)
        assert guard["pid"] == first.pid and guard["evidence"][0].startswith("guard lock held")
        assert "open descriptor on .wadoctor.lock" in gateway["evidence"][0]  # the lock, inherited
        assert found["findings"] == []  # one process tree
    finally:
        first.terminate()  # as systemd or PM2 stops it: the guard passes it on and cleans up
        assert first.wait(timeout=15) == 128 + 15
    run = check(cli, tmp_path / "sessions")
    after = by_id(run.json())["shop"]
    assert after["holders"] == [] and after["findings"] == [] and run.code == 0
    assert not (session / ".wadoctor.lock").exists()  # a guarded run leaves nothing behind
    assert cli("guard", session, "--", "true").code == 0 and not (session / ".wadoctor.lock").exists()
    assert cli("guard", session, "--", "sh", "-c", "exit 7").code == 7


def test_guard_wait_takes_over_when_the_holder_exits(tmp_path, cli):
    session = Path(shutil.copytree(EXAMPLES / "shop-main", tmp_path / "shop", copy_function=shutil.copy))
    holder = spawn([sys.executable, "-m", "wadoctor", "guard", str(session), "--", "sleep", "1.5"],
                   env={"PYTHONPATH": str(Path(__file__).parent.parent)})
    time.sleep(0.7)
    run = cli("guard", "--wait", "10", session, "--", "echo", "took over")
    assert run.code == 0 and "took over" in run.out
    stop(holder)


def test_guard_context_manager_for_python_gateways(tmp_path, cli):
    session = Path(shutil.copytree(EXAMPLES / "shop-main", tmp_path / "shop", copy_function=shutil.copy))
    bot = spawn([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from wadoctor.guard import SessionGuard
        with SessionGuard({str(session)!r}):
            print("ready", flush=True)
            time.sleep(60)
    """)], ready="ready", env={"PYTHONPATH": str(Path(__file__).parent.parent)})
    try:
        holder, = by_id(check(cli, tmp_path).json())["shop"]["holders"]
        assert holder["pid"] == bot.pid and holder["evidence"][0].startswith("guard lock held")
        assert cli("guard", session, "--", "true").code == 75
    finally:
        stop(bot)


def write_record(session: Path, **fields):
    record = {"pid": 1, "host": socket.gethostname(), "boot_id": None, "started": 1.0, "cmdline": ["node", "x"],
              "since": time.time(), **fields}
    (session / ".wadoctor.lock").write_text(json.dumps(record))


def test_guard_record_with_a_reused_pid_is_stale(tmp_path, cli):
    session = Path(shutil.copytree(EXAMPLES / "shop-main", tmp_path / "shop", copy_function=shutil.copy))
    write_record(session, pid=os.getpid(), started=1000.0)  # alive, but started at another time
    finding, = by_id(check(cli, tmp_path).json())["shop"]["findings"]
    assert finding["code"] == "lock-stale" and "another process" in finding["message"]
    dead = subprocess.Popen(["true"])
    dead.wait()
    write_record(session, pid=dead.pid)
    finding, = by_id(check(cli, tmp_path).json())["shop"]["findings"]
    assert finding["code"] == "lock-stale" and "is gone" in finding["message"]


def test_guard_record_from_another_host_is_never_stale(tmp_path, cli):
    session = Path(shutil.copytree(EXAMPLES / "shop-main", tmp_path / "shop", copy_function=shutil.copy))
    write_record(session, pid=999999, host="other-host")
    finding, = by_id(check(cli, tmp_path).json())["shop"]["findings"]
    assert finding["code"] == "lock-unproven" and "other-host" in finding["message"]


@needs_node
def test_copied_session_is_duplicate_identity_critical_once_both_run(tmp_path, cli):
    root = tmp_path / "srv"
    a = Path(shutil.copytree(EXAMPLES / "shop-main", root / "one" / "sessions" / "shop", copy_function=shutil.copy))
    b = Path(shutil.copytree(a, root / "two" / "sessions" / "shop-copy"))
    run = check(cli, root)
    sessions = by_id(run.json())
    finding, = sessions["shop-copy"]["findings"]
    assert (finding["code"], finding["severity"]) == ("duplicate-identity", "warning")
    assert finding["evidence"]["others"] == [str(a)]
    gw1 = spawn([NODE, "-e", NODE_GATEWAY], cwd=root / "one", ready="ready")
    gw2 = spawn([NODE, "-e", NODE_GATEWAY, "--", "--session", str(b)], cwd=tmp_path, ready="ready")
    try:
        run = check(cli, root)
        sessions = by_id(run.json())
        assert pids(sessions["shop"]) == {gw1.pid} and pids(sessions["shop-copy"]) == {gw2.pid}
        evidence = sessions["shop-copy"]["holders"][0]["evidence"]
        assert "session named on its command line or in its environment" in evidence
        finding, = sessions["shop"]["findings"]
        assert (finding["code"], finding["severity"]) == ("duplicate-identity", "critical")
        assert run.code == 2
    finally:
        stop(gw1, gw2)


def test_same_phone_on_another_device_slot_is_not_a_conflict(whatsmeow_store, cli):
    add_devices(whatsmeow_store, Device("15550000001", 12), Device("15550000001", 13))
    run = check(cli, whatsmeow_store)
    assert all(s["findings"] == [] for s in run.json()["sessions"]) and run.code == 0


def test_identity_shared_across_formats(whatsmeow_store, tmp_path, cli):
    """A Baileys folder and a whatsmeow row with one noise key are one identity."""
    import base64

    creds = json.loads((EXAMPLES / "shop-main" / "creds.json").read_text())
    noise_private = base64.b64decode(creds["noiseKey"]["private"]["data"])
    add_devices(whatsmeow_store, Device("15550000099", 1, noise_key=noise_private))
    shutil.copytree(EXAMPLES / "shop-main", whatsmeow_store.parent / "shop", copy_function=shutil.copy)
    sessions = by_id(check(cli, whatsmeow_store.parent).json())
    assert "duplicate-identity" in codes(sessions["shop"])
    assert "duplicate-identity" in codes(sessions["whatsapp/15550000099.1"])


def test_chromium_browser_is_one_holder_with_its_helpers(tmp_path, cli, real_chromium):
    from tests.fixtures.chromium import chromium

    profile = tmp_path / ".wwebjs_auth" / "session-shop"
    with chromium(profile) as browser:
        session = by_id(check(cli, tmp_path).json())["session-shop"]
        assert browser.pid in pids(session)
        main = next(h for h in session["holders"] if h["pid"] == browser.pid)
        assert "--user-data-dir on its command line" in main["evidence"]
        assert "duplicate-holder" not in codes(session)


def test_many_copies_of_one_identity_stay_small(tmp_path, cli):
    for n in range(30):
        shutil.copytree(EXAMPLES / "shop-main", tmp_path / f"copy-{n:02d}", copy_function=shutil.copy)
    finding, = by_id(check(cli, tmp_path).json())["copy-00"]["findings"]
    assert finding["code"] == "duplicate-identity" and finding["evidence"]["copies"] == 30
    assert len(finding["evidence"]["others"]) == 20
    assert finding["message"].count("copy-") == 3 and "and 26 more" in finding["message"]


@needs_node
def test_list_verbose_shows_who_holds_each_session_and_why(tmp_path, cli):
    app = app_with(tmp_path, "shop-main")
    gateway = spawn([NODE, "-e", NODE_GATEWAY], cwd=app, ready="ready")
    try:
        plain = cli("list", app, env={"COLUMNS": "200"})
        verbose = cli("list", "-v", app, env={"COLUMNS": "200"})
        assert f"held by pid {gateway.pid}" not in plain.out
        assert f"held by pid {gateway.pid} node" in verbose.out and "[inferred]" in verbose.out
        assert "working folder is the application folder" in verbose.out and verbose.code == 0
    finally:
        stop(gateway)


def _hold_open_until_released(job: tuple[str, str]) -> int:
    """A worker's job (util.forked): keep the session's creds open until the test says."""
    creds, release = job
    with open(creds, "rb"):
        Path(f"{release}.{os.getpid()}").touch()  # open now
        while not os.path.exists(release):
            time.sleep(0.01)
    return os.getpid()


def test_wadoctor_s_own_workers_reading_a_session_are_never_its_holders(tmp_path):
    """The holder index is built at the first session found, when the scan's forked workers
    may still be reading others: a worker with a creds.json open for a moment is wadoctor
    itself, not a second gateway (a duplicate-holder that fix would act on)."""
    import threading

    from wadoctor.core.model import Session
    from wadoctor.holders.index import HolderIndex
    from wadoctor.util.forked import ordered_map

    session = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "sales", session)
    release = str(tmp_path / "release")
    results: list[int] = []
    reader = threading.Thread(target=lambda: results.extend(ordered_map(
        _hold_open_until_released, [(str(session / "creds.json"), release)] * 2, workers=2)))
    reader.start()
    try:
        deadline = time.monotonic() + 10
        while len(list(tmp_path.glob("release.*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        workers = {int(p.suffix[1:]) for p in tmp_path.glob("release.*")}
        assert len(workers) == 2, "the workers did not open the session"
        index = HolderIndex.build([tmp_path])
        holders = index.holders(Session(id="shop", path=session, format="baileys-multifile"))
        assert not workers & {h.pid for h in holders}, holders
    finally:
        Path(release).touch()
        reader.join(timeout=10)
    assert sorted(results) == sorted(workers)
