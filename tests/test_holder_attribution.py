"""Who holds which session when gateways run as servers run them, and what fix may signal.

Real processes throughout: the real Baileys loading its session (tests/node/gateway.mjs),
PM2 and nodemon from npm, Debian's Chromium. Where a small script stands in for a program,
its comment says what it stands for. After every `fix --terminate-duplicates` the tests
assert which processes are still alive.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, by_id, codes, unavailable
from tests.fixtures import baileys, managers
from tests.fixtures.chromium import CHROMIUM, FLAGS
from tests.fixtures.containers import Container, require_namespaces
from tests.test_holders import HOLD_STORE_OPEN, NODE, check, pids, spawn, stop

GATEWAY = str(baileys.NODE_DIR / "gateway.mjs")
# A CommonJS app as PM2 runs it in cluster mode: it reads its creds.json the way Baileys'
# multi-file store does, and keeps nothing open (so only its folder ties it to the session).
CJS_APP = "require('fs').readFileSync('sessions/shop/creds.json'); setInterval(() => {}, 1000)\n"
SCRIPT = "console.log('ready'); setInterval(() => {}, 1000)\n"


@pytest.fixture(scope="session")
def real_managers() -> None:
    try:
        managers.ensure_managers()
    except managers.ManagersUnavailable as exc:
        unavailable(f"process managers: {exc}")


def app_with(tmp_path: Path, **sessions: str) -> Path:
    """An application folder with sessions/<name> copied from the examples (name=example)."""
    app = tmp_path / "app"
    for name, example in sessions.items():
        shutil.copytree(EXAMPLES / example, app / "sessions" / name, copy_function=shutil.copy)
    return app


def alive(*processes) -> list[bool]:
    return [p.poll() is None for p in processes]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


def terminate(cli, keep, *paths):
    run = cli("fix", "--json", "--terminate-duplicates", keep, *paths)
    assert run.code in (0, 1, 2), run
    return [a for a in run.json()["actions"] if a["action"] == "terminate" or "duplicate-holder" in a["codes"]]


def test_two_tenants_of_one_app_each_hold_only_their_own(tmp_path, cli, real_baileys):
    app = app_with(tmp_path, **{"tenant-a": "shop-main", "tenant-b": "marketing"})
    a = spawn([NODE, GATEWAY, "sessions/tenant-a"], cwd=app, ready="ready")
    b = spawn([NODE, GATEWAY, "sessions/tenant-b"], cwd=app, ready="ready")
    try:
        run = check(cli, app)
        sessions = by_id(run.json())
        assert pids(sessions["tenant-a"]) == {a.pid} and pids(sessions["tenant-b"]) == {b.pid}
        for session in sessions.values():
            assert not codes(session) & {"duplicate-holder", "holders-unproven"}
            holder, = session["holders"]
            assert holder["proof"] is False  # named on its command line: inferred, and said so
        assert run.code != 2
        assert terminate(cli, "keep-newest", app) == []
        assert alive(a, b) == [True, True]
    finally:
        stop(a, b)


def test_supervisor_and_worker_in_one_folder_are_possible_holders_not_a_duplicate(tmp_path, cli):
    app = app_with(tmp_path, shop="shop-main")
    for name in ("supervisor.js", "worker.js"):  # two programs, neither the other's parent
        (app / name).write_text(SCRIPT)
    supervisor = spawn([NODE, "supervisor.js"], cwd=app, ready="ready")
    worker = spawn([NODE, "worker.js"], cwd=app, ready="ready")
    try:
        run = check(cli, app)
        session = by_id(run.json())["shop"]
        assert pids(session) == {supervisor.pid, worker.pid}
        finding, = (f for f in session["findings"] if f["code"] == "holders-unproven")
        assert finding["severity"] == "info" and "wadoctor guard" in finding["hint"]
        assert "duplicate-holder" not in codes(session) and run.code == 0
        assert terminate(cli, "keep-newest", app) == [] and terminate(cli, "keep-oldest", app) == []
        assert alive(supervisor, worker) == [True, True]
        table = cli("check", "-v", app, env={"COLUMNS": "200"})
        assert "[inferred]" in table.out and "2 processes?" in table.out
    finally:
        stop(supervisor, worker)


def test_one_program_started_twice_is_critical_and_keep_newest_stops_exactly_the_older(tmp_path, cli):
    app = app_with(tmp_path, shop="shop-main", sales="sales")
    (app / "server.js").write_text(SCRIPT)
    old = spawn([NODE, "server.js"], cwd=app, ready="ready")
    time.sleep(1.1)  # start times have clock-tick precision
    new = spawn([NODE, "server.js"], cwd=app, ready="ready")
    try:
        session = by_id(check(cli, app).json())["shop"]
        finding = next(f for f in session["findings"] if f["code"] == "duplicate-holder")
        assert finding["severity"] == "critical" and finding["evidence"]["basis"] == "same program"
        dry = cli("fix", "--json", "--dry-run", "--terminate-duplicates", "keep-newest", app).json()
        planned = [a for a in dry["actions"] if a["action"] == "terminate"]
        assert [a["pids"] for a in planned] == [[old.pid], [old.pid]]  # one per session, the older only
        assert alive(old, new) == [True, True]
        run = cli("fix", "--json", "--terminate-duplicates", "keep-newest", app)
        assert old.wait(timeout=15) == -15 and alive(new) == [True]
        done = [a for a in run.json()["actions"] if a["action"] == "terminate"]
        assert {a["status"] for a in done} <= {"done", "failed"} and any(a["status"] == "done" for a in done)
    finally:
        stop(old, new)


def test_a_word_in_the_argv_or_environment_of_a_process_elsewhere_is_no_evidence(tmp_path, cli):
    app = app_with(tmp_path, sales="shop-main")
    elsewhere = tmp_path / "reports"
    elsewhere.mkdir()
    (elsewhere / "report.js").write_text(SCRIPT)
    report = spawn([NODE, "report.js", "sales"], cwd=elsewhere, ready="ready")
    department = spawn([NODE, "report.js"], cwd=elsewhere, ready="ready", env={"DEPARTMENT": "sales"})
    try:
        assert by_id(check(cli, app).json())["sales"]["holders"] == []
        gateway = spawn([NODE, "-e", SCRIPT], cwd=app, ready="ready")
        try:
            run = check(cli, app)
            session = by_id(run.json())["sales"]
            assert pids(session) == {gateway.pid} and codes(session) == set() and run.code == 0
            assert terminate(cli, "keep-newest", app) == []
            assert alive(gateway, report, department) == [True, True, True]
        finally:
            stop(gateway)
    finally:
        stop(report, department)


def test_pm2_fork_mode_with_log_viewers_names_the_manager(tmp_path, cli, real_managers):
    app = app_with(tmp_path, shop="shop-main")
    (app / "gateway.js").write_text(CJS_APP)
    with managers.pm2(tmp_path, app) as pm2:
        pm2("start", "gateway.js", "--name", "gw")
        gateway, = pm2.pids("gw", 1)
        viewers = [pm2.viewer(), pm2.viewer()]
        try:
            time.sleep(1)
            run = check(cli, app)
            session = by_id(run.json())["shop"]
            holder, = session["holders"]  # neither the God daemon nor `pm2 logs`
            assert holder["pid"] == gateway and holder["name"] == "node"
            # the title PM2 gave it, cut by the kernel to the length of its first command line
            assert f"node {app / 'gateway.js'}".startswith(holder["cmdline"]) and len(holder["cmdline"]) > 20
            manager, = holder["managers"]
            assert manager["label"] == "pm2 (app gw, id 0)" and manager["restarts"] is True
            assert manager["stop"] == f"PM2_HOME={pm2.home} pm2 stop gw"
            assert codes(session) == set() and run.code == 0
            assert terminate(cli, "keep-newest", app) == []
            assert pid_alive(gateway) and pid_alive(pm2.daemon) and alive(*viewers) == [True, True]
        finally:
            stop(*viewers)


def test_pm2_cluster_of_one_app_is_critical_and_fix_names_pm2_instead_of_killing(tmp_path, cli, real_managers):
    app = app_with(tmp_path, shop="shop-main")
    (app / "gateway.js").write_text(CJS_APP)
    with managers.pm2(tmp_path, app) as pm2:
        pm2("start", "gateway.js", "--name", "gw", "-i", "2")
        workers = pm2.pids("gw", 2)
        run = check(cli, app)
        session = by_id(run.json())["shop"]
        finding = next(f for f in session["findings"] if f["code"] == "duplicate-holder")
        assert finding["severity"] == "critical" and sorted(finding["evidence"]["pids"]) == workers
        assert pm2.daemon not in pids(session) and run.code == 2
        skipped, = terminate(cli, "keep-newest", app)
        assert skipped["status"] == "skipped" and f"PM2_HOME={pm2.home} pm2 scale gw 1" in skipped["result"]
        assert all(map(pid_alive, workers)) and pid_alive(pm2.daemon)


def test_nodemon_is_never_a_holder_and_its_restarted_worker_is_one(tmp_path, cli, real_managers):
    app = app_with(tmp_path, shop="shop-main")
    (app / "worker.js").write_text(SCRIPT)
    monitor = managers.nodemon(app, "worker.js")
    try:
        for _ in range(2):  # the first worker, then the one nodemon starts after a change
            while "ready" not in monitor.stdout.readline():
                pass
            session = by_id(check(cli, app).json())["shop"]
            holder, = session["holders"]
            assert holder["pid"] != monitor.pid and holder["managers"][0]["kind"] == "nodemon"
            assert codes(session) == set()
            first = holder["pid"]
            (app / "worker.js").write_text(SCRIPT + "// changed\n")
        assert holder["pid"] == first and pid_alive(monitor.pid)
    finally:
        os.killpg(monitor.pid, 9)
        monitor.wait()


CLIENT = textwrap.dedent("""
    // What whatsapp-web.js's LocalAuth does through puppeteer.launch: start Chromium as this
    // process's own child on .wwebjs_auth/session-<clientId>.
    const { spawn } = require('child_process')
    const [browser, clientId, ...flags] = process.argv.slice(2)
    spawn(browser, [...flags, `--user-data-dir=.wwebjs_auth/session-${clientId}`, 'about:blank'], { stdio: 'ignore' })
    console.log('ready')
    setInterval(() => {}, 1000)
""")


def test_two_chromium_clients_each_hold_the_profile_of_the_browser_they_launched(tmp_path, cli, real_chromium):
    app = tmp_path / "app"
    app.mkdir()
    (app / "client.js").write_text(CLIENT)
    clients = [spawn([NODE, "client.js", CHROMIUM, name, *FLAGS], cwd=app, ready="ready") for name in ("alpha", "beta")]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sessions = by_id(check(cli, app).json())
            if {"session-alpha", "session-beta"} <= sessions.keys() and all(
                    any("--user-data-dir" in e for h in s["holders"] for e in h["evidence"])
                    for s in sessions.values()):
                break
            time.sleep(0.5)
        for client, name in zip(clients, ("alpha", "beta")):
            session = sessions[f"session-{name}"]
            launcher = next(h for h in session["holders"] if h["pid"] == client.pid)
            assert launcher["proof"] and launcher["evidence"][0].startswith("launched the browser")
            other = clients[1] if client is clients[0] else clients[0]
            assert other.pid not in pids(session)
            assert "duplicate-holder" not in codes(session)
        assert terminate(cli, "keep-newest", app) == []
        assert alive(*clients) == [True, True]
    finally:
        for client in clients:
            subprocess.run(["pkill", "-P", str(client.pid)])
        stop(*clients)


def test_one_process_with_a_store_and_its_copy_open_is_one_holder_not_a_conflict(whatsmeow_store, cli):
    from tests.fixtures.whatsmeow import Device, add_devices

    add_devices(whatsmeow_store, Device("15550000001", 12))
    backup = whatsmeow_store.with_name("whatsapp-backup.db")
    shutil.copy(whatsmeow_store, backup)
    both = textwrap.dedent("""
        import sqlite3, sys, time
        stores = [sqlite3.connect(p) for p in sys.argv[1:]]
        for c in stores:
            c.execute("SELECT count(*) FROM whatsmeow_device").fetchall()
        print("ready", flush=True)
        time.sleep(60)
    """)
    holder = spawn([sys.executable, "-c", both, str(whatsmeow_store), str(backup)], ready="ready")
    try:
        run = check(cli, whatsmeow_store.parent)
        for session in run.json()["sessions"]:
            finding = next(f for f in session["findings"] if f["code"] == "duplicate-identity")
            assert finding["severity"] == "warning" and pids(session) == {holder.pid}
        assert run.code == 1
    finally:
        stop(holder)
    second = spawn([sys.executable, "-c", HOLD_STORE_OPEN, str(backup)], ready="ready")
    first = spawn([sys.executable, "-c", HOLD_STORE_OPEN, str(whatsmeow_store)], ready="ready")
    try:  # two processes, one on each copy: the conflict loop itself
        run = check(cli, whatsmeow_store.parent)
        assert {f["severity"] for s in run.json()["sessions"] for f in s["findings"]
                if f["code"] == "duplicate-identity"} == {"critical"}
    finally:
        stop(first, second)


def test_containers_that_docker_would_restart_are_not_killed(tmp_path, cli, real_baileys):
    require_namespaces()
    vol = tmp_path / "vol"
    shutil.copytree(EXAMPLES / "shop-main", vol / "sessions" / "shop-main", copy_function=shutil.copy)

    def replica(name: str) -> Container:
        return Container({vol: "/srv/evolution"}, [NODE, GATEWAY, "sessions/shop-main"], workdir="/srv/evolution",
                         docker_name=name, restart="unless-stopped")

    with replica("evolution-api-1").start("ready") as old, replica("evolution-api-2").start("ready") as new:
        older, newer = old.main_pid, new.main_pid
        session = by_id(check(cli, vol / "sessions").json())["shop-main"]
        holder = next(h for h in session["holders"] if h["pid"] == older)
        assert holder["managers"][-1] == {"kind": "container", "label": "container evolution-api-1",
                                          "stop": "docker stop evolution-api-1", "restarts": True, "scale": None}
        skipped, = terminate(cli, "keep-newest", vol / "sessions")
        assert skipped["status"] == "skipped" and "`docker stop evolution-api-1`" in skipped["result"]
        assert pid_alive(older) and pid_alive(newer)
        run = cli("fix", "--json", "--terminate-duplicates", "keep-newest", "--signal-managed", vol / "sessions")
        action, = (a for a in run.json()["actions"] if a["action"] == "terminate")
        assert action["pids"] == [older] and action["status"] == "done", action  # asked for explicitly
        assert not pid_alive(older) and pid_alive(newer)


def test_a_victim_is_found_again_right_before_the_signal(tmp_path):
    """The signaller re-derives the holders: a pid now started at another time, or a
    duplicate that has ended since the plan, is never signalled."""
    from wadoctor.core.model import Session
    from wadoctor.holders.index import HolderIndex
    from wadoctor.repair.terminate import NotAllowed, recheck

    app = app_with(tmp_path, shop="shop-main")
    (app / "server.js").write_text(SCRIPT)
    first = spawn([NODE, "server.js"], cwd=app, ready="ready")
    second = spawn([NODE, "server.js"], cwd=app, ready="ready")
    try:
        session = Session("shop", app / "sessions" / "shop", "baileys")
        holders = {h.pid: h for h in HolderIndex.build([app]).holders(session)}
        recheck(session, [holders[first.pid]], in_duplicate=True)  # as planned: allowed
        reused = holders[first.pid]
        reused.started = (reused.started or 0) - 3600  # as if the pid now belonged to another process
        with pytest.raises(NotAllowed, match="no longer holds"):
            recheck(session, [reused], in_duplicate=True)
        stop(second)
        victim = {h.pid: h for h in HolderIndex.build([app]).holders(session)}[first.pid]
        with pytest.raises(NotAllowed, match="no longer held twice"):
            recheck(session, [victim], in_duplicate=True)
        assert alive(first) == [True]
    finally:
        stop(first, second)


def test_a_guard_lock_a_process_manager_holds_is_proof_but_it_is_never_signalled(tmp_path):
    """A supervisor that takes the session's guard lock itself (a Python supervisord, through
    wadoctor.guard.SessionGuard) holds the session for certain, and is still never signalled."""
    from wadoctor.core.model import Session
    from wadoctor.holders.index import HolderIndex
    from wadoctor.repair.terminate import NotAllowed, recheck

    app = app_with(tmp_path, shop="shop-main")
    session = Session("shop", app / "sessions" / "shop", "baileys")
    supervisor = tmp_path / "bin" / "supervisord"  # named as the real one: a manager by its script
    supervisor.parent.mkdir()
    supervisor.write_text(textwrap.dedent(f"""
        import time
        from wadoctor.guard import SessionGuard
        with SessionGuard({str(session.path)!r}):
            print("ready", flush=True)
            time.sleep(60)
    """))
    held = spawn([sys.executable, str(supervisor)], ready="ready",
                 env={"PYTHONPATH": str(Path(__file__).parent.parent)})
    try:
        holder, = HolderIndex.build([app]).holders(session)
        assert holder.pid == held.pid and holder.proof and holder.evidence[0].startswith("guard lock held")
        with pytest.raises(NotAllowed, match="is supervisord, a process manager"):
            recheck(session, [holder], in_duplicate=False)
        assert alive(held) == [True]
    finally:
        stop(held)


def test_the_old_gateway_beside_the_new_one_under_guard_is_still_a_duplicate(tmp_path, cli):
    """The deploy that goes wrong: the old server.js still runs, the new one starts under
    `wadoctor guard` (the guard's child). One program twice: critical, and keep-newest
    stops exactly the old one, never the guard."""
    app = app_with(tmp_path, shop="shop-main")
    (app / "server.js").write_text(SCRIPT)
    old = spawn([NODE, "server.js"], cwd=app, ready="ready")
    time.sleep(1.1)
    guarded = spawn([sys.executable, "-m", "wadoctor", "guard", str(app / "sessions" / "shop"), "--",
                     NODE, "server.js"],
                    cwd=app, ready="ready", env={"PYTHONPATH": str(Path(__file__).parent.parent)})
    try:
        session = by_id(check(cli, app).json())["shop"]
        finding = next(f for f in session["findings"] if f["code"] == "duplicate-holder")
        assert finding["severity"] == "critical" and set(finding["evidence"]["pids"]) == {old.pid, guarded.pid}
        cli("fix", "--json", "--terminate-duplicates", "keep-newest", app)
        assert old.wait(timeout=15) == -15 and alive(guarded) == [True]
    finally:
        subprocess.run(["pkill", "-P", str(guarded.pid)])
        stop(old, guarded)
