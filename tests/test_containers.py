"""Gateways in containers, seen from the host: real namespaces, real programs, real volumes.

Each "container" is a real process tree in its own mount and pid namespace (and UTS, for a
hostname) with a host folder bind-mounted where the host has no such path, as Docker runs one
(tests/fixtures/containers.py). Nothing matches by path text there: only file identity does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import EXAMPLES, REPO, by_id, codes
from tests.fixtures import baileys
from tests.fixtures.containers import Container, require_namespaces

NODE = shutil.which("node")
GATEWAY = str(baileys.NODE_DIR / "gateway.mjs")


@pytest.fixture(autouse=True)
def _namespaces():
    require_namespaces()


def volume(tmp_path: Path, name: str, *sessions: str) -> Path:
    """A gateway's volume on the host: its app folder with sessions/<name> copied from the demo."""
    root = tmp_path / name
    for session in sessions:
        shutil.copytree(EXAMPLES / session, root / "sessions" / session, copy_function=shutil.copy)
    return root


def baileys_container(vol: Path, docker_name: str | None = None, session: str = "shop-main") -> Container:
    """The real Baileys loading sessions/<session> with its working folder in the volume."""
    return Container({vol: "/srv/evolution"}, [NODE, GATEWAY, f"sessions/{session}"], workdir="/srv/evolution",
                     docker_name=docker_name)


def check(cli, *paths) -> dict:
    run = cli("check", "--json", "--no-backup", *paths)
    assert run.code in (0, 1, 2, 3), run
    return run.json()


def test_container_gateway_is_found_through_its_volume_and_named(tmp_path, cli, real_baileys):
    vol = volume(tmp_path, "vol", "shop-main")
    with baileys_container(vol, docker_name="evolution-api-1").start(ready="ready") as ctr:
        session = by_id(check(cli, vol / "sessions"))["shop-main"]
        holder, = session["holders"]
        assert holder["pid"] == ctr.main_pid and holder["name"] == "node"
        assert holder["container"] == ctr.id[:12]
        assert holder["container_info"] == {"id": ctr.id[:12], "name": "evolution-api-1",
                                            "image": "atendai/evolution-api:v2.2.3", "runtime": "docker",
                                            "restarts": False}
        assert holder["evidence"] == [  # sessions/shop-main on its command line, resolved in its container
            "session named on its command line or in its environment",
            f"working folder is the application folder ({vol}; /srv/evolution in its container)"]
        table = cli("check", "--no-backup", vol / "sessions", env={"COLUMNS": "200"})
        assert f"container evolution-api-1 (pid {ctr.main_pid})" in table.out
    assert by_id(check(cli, vol / "sessions"))["shop-main"]["holders"] == []


def test_two_containers_on_one_volume_are_a_duplicate_holder(tmp_path, cli, real_baileys):
    vol = volume(tmp_path, "vol", "shop-main")
    with baileys_container(vol, "evolution-api-1").start("ready") as old, \
            baileys_container(vol, "evolution-api-2").start("ready") as new:
        session = by_id(check(cli, vol / "sessions"))["shop-main"]
        finding = next(f for f in session["findings"] if f["code"] == "duplicate-holder")
        assert finding["severity"] == "critical"
        assert finding["message"] == (f"held twice: container evolution-api-1 (pid {old.main_pid}) and "
                                      f"container evolution-api-2 (pid {new.main_pid}) (two instances of one program)")
        assert finding["evidence"]["basis"] == "same program"  # one image, one script, one volume
        assert sorted(finding["evidence"]["pids"]) == sorted([old.main_pid, new.main_pid])


def test_one_identity_in_two_volumes_both_held_is_critical_naming_both(tmp_path, cli, real_baileys):
    vol_a, vol_b = volume(tmp_path, "a", "shop-main"), volume(tmp_path, "b", "shop-main")  # a copied volume
    with baileys_container(vol_a, "stack-a-evolution-1").start("ready"), \
            baileys_container(vol_b, "stack-b-evolution-1").start("ready"):
        doc = check(cli, vol_a / "sessions", vol_b / "sessions")
        for session in doc["sessions"]:
            finding = next(f for f in session["findings"] if f["code"] == "duplicate-identity")
            assert finding["severity"] == "critical"
            assert "container stack-a-evolution-1" in finding["message"]
            assert "container stack-b-evolution-1" in finding["message"]
    # one container gone, its copy still on disk: a warning, as on a bare host
    with baileys_container(vol_a, "stack-a-evolution-1").start("ready"):
        doc = check(cli, vol_a / "sessions", vol_b / "sessions")
        assert {f["severity"] for s in doc["sessions"] for f in s["findings"] if f["code"] == "duplicate-identity"} \
            == {"warning"}


def test_python_gateway_holding_a_whatsmeow_store_in_a_container(tmp_path, cli, whatsmeow_store):
    data = whatsmeow_store.parent
    holder_code = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('select 1'); " \
                  "print('ready', flush=True); " \
                  "import time; time.sleep(120)"
    with Container({data: "/srv/data"}, [sys.executable, "-c", holder_code, "/srv/data/whatsapp.db"]).start("ready") \
            as ctr:
        doc = check(cli, data)
        holders = {h["pid"]: h for s in doc["sessions"] for h in s["holders"]}
        holder = holders[ctr.main_pid]
        assert holder["evidence"][0] == "open descriptor on whatsapp.db; /srv/data/whatsapp.db in its container"


def test_guards_in_two_containers_on_one_volume_refuse_each_other(tmp_path, cli):
    vol = volume(tmp_path, "vol", "shop-main")
    env = {"PYTHONPATH": str(REPO)}
    guard = [sys.executable, "-m", "wadoctor", "guard", "/srv/evolution/sessions/shop-main", "--"]
    holding = [sys.executable, "-c", "print('gateway up', flush=True); import time; time.sleep(120)"]
    with Container({vol: "/srv/evolution"}, guard + holding, env=env).start("gateway up") as first:
        second = Container({vol: "/srv/evolution"}, guard + ["echo", "should not run"], env=env).start()
        try:
            assert second.process.wait(timeout=30) == 75
            out, err = second.process.communicate()
            assert "should not run" not in out and "is held by pid 1" in err  # pid 1 of the first container
        finally:
            second.stop()
        assert first.process.poll() is None
        session = by_id(check(cli, vol / "sessions"))["shop-main"]
        assert session["holders"][0]["pid"] == first.main_pid
        assert session["holders"][0]["evidence"][0].startswith("guard lock held")


def test_fix_clean_and_restore_on_a_session_that_is_its_own_mount(tmp_path, cli):
    sessions = tmp_path / "sessions"
    shop = sessions / "shop"
    shop.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "volume-shop", str(shop)], check=True)
    try:
        for item in (EXAMPLES / "marketing").iterdir():  # an empty pre-key, a cut session file, leftovers
            shutil.copy(item, shop / item.name)
        before = {p.name: p.read_bytes() for p in shop.iterdir()}
        fixed = cli("fix", sessions)
        assert fixed.code == 0, fixed
        assert "another filesystem" not in fixed.out + fixed.err
        assert (shop / ".wadoctor" / "quarantine").is_dir()  # inside the mount: every move a rename
        assert not (sessions / ".wadoctor" / "quarantine").exists()
        listed = cli("quarantine", "list", "--json", sessions).json()["entries"]
        assert len(listed) == 2
        for entry in listed:
            assert cli("restore", entry["id"], "--root", sessions).code == 0
        assert {p.name: p.read_bytes() for p in shop.iterdir() if p.name != ".wadoctor"} == before
        cleaned = cli("clean", "--yes", shop)
        assert cleaned.code in (0, 1), cleaned
        assert [p.name for p in shop.iterdir()] == [".wadoctor"]
        assert cli("restore", "--last", "--root", sessions).code == 0
        assert {p.name: p.read_bytes() for p in shop.iterdir() if p.name != ".wadoctor"} == before
    finally:
        subprocess.run(["umount", "-l", str(shop)])


def chromium_processes(pid: int) -> list:
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "chrom" in child.name() and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.fixture
def chromium_in_container(tmp_path, real_chromium):
    """A headless Chromium in its own UTS namespace (hostname wa-bot-1), on a profile in a volume."""
    from tests.fixtures.chromium import CHROMIUM, FLAGS

    vol = tmp_path / "vol"
    (vol / ".wwebjs_auth" / "session-bot").mkdir(parents=True)
    # pid 1 stays a shell, so the container outlives its browser, as one with a supervisor does
    script = (f"{CHROMIUM} {' '.join(FLAGS)} --user-data-dir=/srv/app/.wwebjs_auth/session-bot about:blank "
              ">/dev/null 2>&1 & echo ready; wait; sleep 120")
    ctr = Container({vol: "/srv/app"}, ["sh", "-c", script], hostname="wa-bot-1").start("ready")
    profile = vol / ".wwebjs_auth" / "session-bot"
    deadline = time.monotonic() + 30
    while not (profile / "SingletonLock").is_symlink():
        assert time.monotonic() < deadline, "chromium did not take its profile"
        time.sleep(0.2)
    yield ctr, profile
    ctr.stop()


def test_chromium_lock_of_a_live_container_is_held_never_foreign(chromium_in_container, cli):
    ctr, profile = chromium_in_container
    assert os.readlink(profile / "SingletonLock").startswith("wa-bot-1-")
    session = by_id(check(cli, profile.parent))["session-bot"]
    assert "profile-lock-foreign" not in codes(session)
    assert "profile-lock-live" in codes(session)
    assert session["holders"], session
    dry = cli("fix", "--dry-run", "--json", "--foreign-locks", profile.parent).json()
    assert not [a for a in dry["actions"] if a["status"] == "planned"]
    # the browser dies, its container lives on: the lock is stale, not foreign
    deadline = time.monotonic() + 15
    while browsers := chromium_processes(ctr.main_pid):
        for browser in browsers:
            with contextlib.suppress(psutil.NoSuchProcess):  # it may exit on its own first
                browser.kill()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    session = by_id(check(cli, profile.parent))["session-bot"]
    assert "profile-lock-stale" in codes(session) and "profile-lock-foreign" not in codes(session)
    # the container is gone too: now the lock names a host that is nowhere here
    ctr.stop()
    session = by_id(check(cli, profile.parent))["session-bot"]
    assert "profile-lock-foreign" in codes(session)
