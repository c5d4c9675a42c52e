"""clean, clean-all, stopping duplicates, the run lock, pre-restart waits, logs, full disks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, by_id, codes
from tests.repair_helpers import copy, fixable_tree, inventory, lost_bytes

NODE = shutil.which("node")
GATEWAY = "console.log('ready'); setInterval(() => {}, 1000)"


def node_gateway(cwd: Path) -> subprocess.Popen:
    process = subprocess.Popen([NODE, "-e", GATEWAY], cwd=cwd, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_clean_by_id_and_by_path_then_restore(tmp_path, cli):
    sessions = tmp_path / "sessions"
    for name in ("shop-main", "new-kiosk", "onboarding"):
        copy(name, sessions / name)
    before = inventory(tmp_path)
    run = cli("clean", "--yes", "new-kiosk", sessions / "onboarding", cwd=tmp_path)
    assert run.code == 0, run
    assert sorted(p.name for p in sessions.iterdir() if not p.name.startswith(".")) == ["shop-main"]
    assert lost_bytes(before, tmp_path) == []
    assert cli("clean", "--yes", "no-such-session", cwd=tmp_path).code == 3
    undo = cli("restore", "--last", "--root", sessions, cwd=tmp_path / "sessions" / "shop-main")
    assert undo.code == 0 and undo.out.count("restored ") == 2, undo  # one clean, one run, from anywhere
    assert inventory(tmp_path) == before
    assert cli("restore", "--last", "--root", sessions).code == 3  # nothing left to undo


def test_clean_all_asks_and_refuses_without_yes_off_a_terminal(tmp_path, cli):
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "a")
    copy("new-kiosk", sessions / "b")
    refused = cli("clean-all", sessions)
    assert refused.code == 64 and "--yes" in refused.err
    dry = cli("clean-all", "--dry-run", "--json", sessions)
    assert {a["status"] for a in dry.json()["actions"]} == {"planned"} and (sessions / "a").exists()
    assert cli("clean-all", "--yes", sessions).code == 0
    assert not (sessions / "a").exists() and not (sessions / "b").exists()


def test_clean_on_a_terminal_asks_first(tmp_path):
    """A person at a shell is asked, and answering no changes nothing (run under a pty)."""
    import pty

    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "a")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["PYTHONPATH"] = str(REPO)
        os.execv(sys.executable, [sys.executable, "-m", "wadoctor", "clean-all", str(sessions)])
    output = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in output and time.monotonic() < deadline:
        output += os.read(fd, 1024)
    os.write(fd, b"n\n")
    _, status = os.waitpid(pid, 0)
    assert b"Move 1 session(s) to quarantine?" in output
    assert os.waitstatus_to_exitcode(status) == 0 and (sessions / "a" / "creds.json").exists()


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_clean_skips_held_sessions_unless_told_to_stop_the_holders(tmp_path, cli):
    sessions = tmp_path / "app" / "sessions"
    copy("shop-main", sessions / "shop")
    gateway = node_gateway(tmp_path / "app")
    try:
        run = cli("clean", "--yes", "--json", sessions / "shop")
        action, = run.json()["actions"]
        assert action["status"] == "skipped" and f"node {gateway.pid}" in action["result"]
        assert (sessions / "shop").exists()
        run = cli("clean", "--yes", "--stop-holders", "--json", sessions / "shop")
        assert run.code == 0, run
        assert gateway.wait(timeout=15) == -15  # SIGTERM
        assert not (sessions / "shop").exists()
    finally:
        gateway.kill()
        gateway.wait()


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("keep", ["keep-oldest", "keep-newest"])
def test_terminate_duplicates_keeps_the_chosen_one(tmp_path, cli, keep):
    sessions = tmp_path / "app" / "sessions"
    copy("shop-main", sessions / "shop")
    old = node_gateway(tmp_path / "app")
    time.sleep(1.1)  # process start times have clock-tick precision
    new = node_gateway(tmp_path / "app")
    try:
        plain = cli("fix", "--json", sessions)
        assert plain.code == 2 and old.poll() is None and new.poll() is None, "never killed by default"
        run = cli("fix", "--json", "--terminate-duplicates", keep, sessions)
        stopped, kept = (new, old) if keep == "keep-oldest" else (old, new)
        assert stopped.wait(timeout=15) == -15
        assert kept.poll() is None
        action = next(a for a in run.json()["actions"] if a["action"] == "terminate")
        assert action["pids"] == [stopped.pid] and action["status"] == "done"
        assert "duplicate-holder" not in codes(by_id(cli("check", "--json", sessions).json())["shop"])
    finally:
        for process in (old, new):
            process.kill()
            process.wait()


def test_a_second_fix_exits_75_while_one_runs_or_waits_for_it(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pathlib import Path
        from wadoctor.repair.lock import RunLock
        with RunLock([Path({str(sessions)!r})], 0):  # what a running fix holds
            print("ready", flush=True)
            time.sleep(1.5)
    """)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert holder.stdout.readline().strip() == "ready"
    busy = cli("fix", sessions)
    assert busy.code == 75 and "wadoctor fix on" in busy.err and f"pid {holder.pid}" in busy.err
    assert (sessions / "marketing" / "pre-key-7.json").exists()
    assert cli("fix", "--wait", "20", sessions).code == 0
    assert not (sessions / "marketing" / "pre-key-7.json").exists()
    holder.wait()


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_wait_free_for_a_pre_restart_hook(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    gateway = node_gateway(tmp_path)
    try:
        timeout = cli("fix", "--wait-free", "1", sessions)
        assert timeout.code == 75 and f"node {gateway.pid}" in timeout.err
        subprocess.Popen(["sh", "-c", f"sleep 1; kill {gateway.pid}"])
        started = time.monotonic()
        done = cli("fix", "--wait-free", "20", sessions)
        assert done.code == 0 and time.monotonic() - started >= 0.9
        assert not (sessions / "marketing" / "pre-key-7.json").exists()
    finally:
        gateway.kill()
        gateway.wait()


def test_actions_go_to_a_log_file(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    log = tmp_path / "fix.log"
    assert cli("fix", "--log", log, "--syslog", sessions).code == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 4  # each action named before it starts, then how it ended
    assert [" wadoctor: starting quarantine " in line for line in lines] == [True, False, True, False]
    assert all(" wadoctor: done quarantine " in line for line in lines[1::2])


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("failure", ["ENOSPC", "EROFS"])
def test_full_or_read_only_disk_leaves_everything_in_place(tmp_path, cli, failure):
    disk = tmp_path / "disk"
    if os.geteuid() != 0 or not _mount_tmpfs(disk, "2m"):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        sessions = fixable_tree(disk)
        before = inventory(disk)
        if failure == "ENOSPC":
            with open(disk / "filler", "wb") as handle:
                try:
                    while True:
                        handle.write(b"\0" * 65536)
                        handle.flush()
                except OSError:
                    pass
            before = inventory(disk)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        run = cli("fix", "--json", sessions)
        assert run.code == 3, run
        # the fix runs (its run lock is a flock on the root, which needs no write), and each
        # move fails before touching anything
        why = "No space left on device" if failure == "ENOSPC" else "Read-only file system"
        failed = [a["result"] for a in run.json()["actions"] if a["status"] == "failed"]
        assert failed and all(why in r and "nothing was lost" in r for r in failed), failed
        assert inventory(disk) == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_fix_quiet_prints_a_line_per_action_done_or_failed_and_nothing_else(tmp_path, cli):
    """What cron mails: each thing fix did, and nothing at all when it did nothing."""
    sessions = fixable_tree(tmp_path)
    run = cli("fix", "-q", sessions)
    assert run.code == 0 and run.err == ""
    lines = run.out.splitlines()
    assert len(lines) == 2 and all(line.startswith("done quarantine ") for line in lines), run
    again = cli("fix", "-q", sessions)
    assert (again.code, again.out, again.err) == (0, "", "")


def test_a_dry_run_shows_each_path_it_would_move_and_every_session_it_leaves(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    copy("support-bot", sessions / "support-bot")  # creds emptied, no backup: nothing fix can do
    run = cli("fix", "--dry-run", "-v", sessions, env={"COLUMNS": "250"})
    assert str(sessions / "marketing" / "pre-key-7.json") in run.out and "empty" in run.out
    left = [line for line in run.out.splitlines() if "nothing fix can do" in line]
    assert not any(line.startswith("marketing") for line in left)  # what the plan repairs is not 'left'
    assert any(line.startswith("support-bot") and "pair the device again" in line for line in run.out.splitlines())
    assert "still to attend to" not in run.out
