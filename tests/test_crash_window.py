"""A plain check sees what a crash cut: the real Baileys writer killed at random moments.

tests/node/crash_writer.mjs runs Baileys' own write path (Signal sessions, pre-keys, sender
keys, creds) in a loop; each trial SIGKILLs it (or lets it run into a full tmpfs) and compares
a plain check with `--deep` on the files a crash can have cut.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, SHARED_SESSION, by_id, codes
from tests.fixtures import baileys
from wadoctor.stores.baileys import CRASH_WINDOW, CRASH_WINDOW_FILES
from wadoctor.stores.baileys_keys import KEY_FILE, SIZE_FLOORS

SEED = int(os.environ.get("WADOCTOR_CRASH_SEED", random.randrange(1 << 30)))
WRITER = baileys.NODE_DIR / "crash_writer.mjs"


def start_writer(folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(["node", str(WRITER), str(folder)], cwd=baileys.NODE_DIR, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    assert line == "ready", (line, process.stderr.read() if process.poll() is not None else "")
    return process


def damaged_paths(cli, root: Path, deep: bool) -> set[str]:
    """Every key file a plain (or deep) fix would quarantine as damaged."""
    run = cli("fix", "--dry-run", "--json", *(["--deep"] if deep else []), root)
    return {p for a in run.json()["actions"] if "key-file-corrupt" in a["codes"] for p in a["paths"]}


def in_crash_window(folder: Path) -> set[str]:
    """The key files a plain check reads: the newest ones near the newest write, and any below
    its type's floor."""
    stats = {p: p.lstat() for p in folder.iterdir() if p.is_file()}
    newest = max(st.st_mtime for st in stats.values())
    keys = [(st.st_mtime, str(p)) for p, st in stats.items() if KEY_FILE.match(p.name)]
    recent = {p for mtime, p in sorted(keys)[-CRASH_WINDOW_FILES:] if mtime >= newest - CRASH_WINDOW}
    small = {str(p) for p, st in stats.items()
             if (m := KEY_FILE.match(p.name)) and st.st_size < SIZE_FLOORS[m[1]]}
    return recent | small


def test_size_floors_never_exceed_what_real_baileys_writes(real_baileys, tmp_path):
    folder = shutil.copytree(EXAMPLES / "shop-main", tmp_path / "s", copy_function=shutil.copy)
    writer = start_writer(folder)
    time.sleep(1.0)
    writer.kill()
    writer.wait()
    folders = [folder] + ([SHARED_SESSION] if SHARED_SESSION.is_dir() else [])
    seen: dict[str, int] = {}
    for path in (p for f in folders for p in f.iterdir()):
        match = KEY_FILE.match(path.name)
        if match and path.stat().st_size > 0:  # an empty file is the kill's, not Baileys' format
            seen[match[1]] = min(seen.get(match[1], 1 << 30), path.stat().st_size)
    for kind, smallest in seen.items():
        assert SIZE_FLOORS[kind] <= smallest, (kind, smallest)
    assert {"pre-key", "session", "sender-key", "identity-key"} <= set(seen)


@pytest.mark.parametrize("trial", range(8))
def test_plain_check_classifies_a_killed_writer_as_deep_does(real_baileys, tmp_path, cli, trial):
    rng = random.Random(SEED + trial)
    root = tmp_path / "sessions"
    folder = shutil.copytree(EXAMPLES / "shop-main", root / "gw", copy_function=shutil.copy)
    assert cli("check", root).code == 0  # the cron check that keeps a creds backup
    writer = start_writer(folder)
    time.sleep(rng.uniform(0.05, 1.2))
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    if trial % 2:  # a crash in the window that its aftermath hides: cut the last file written
        newest = max((p for p in folder.iterdir() if KEY_FILE.match(p.name)), key=lambda p: p.stat().st_mtime_ns)
        stamp = newest.stat().st_mtime_ns
        baileys.truncate(newest, rng.uniform(0.55, 0.95))
        os.utime(newest, ns=(stamp, stamp))
    window = in_crash_window(folder)
    plain, deep = damaged_paths(cli, root, False), damaged_paths(cli, root, True)
    assert plain == {p for p in deep if p in window}, f"seed {SEED}"
    if trial % 2:
        assert plain, f"seed {SEED}: the cut file was not found"
    fixed = cli("fix", root)
    assert fixed.code in (0, 1), (fixed, f"seed {SEED}")
    after = by_id(cli("check", "--json", root).json())["gw"]
    assert "key-file-corrupt" not in codes(after), f"seed {SEED}"


def test_a_full_disk_during_saves_is_found_by_a_plain_check(real_baileys, tmp_path, cli):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=420k", "tmpfs", str(mount)]).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: a tmpfs mount must work")
        pytest.skip("mounting a tmpfs needs root")
    try:
        folder = shutil.copytree(EXAMPLES / "shop-main", mount / "gw", copy_function=shutil.copy)
        writer = subprocess.Popen(["node", str(WRITER), str(folder)], cwd=baileys.NODE_DIR, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        try:
            writer.wait(timeout=60)  # ENOSPC rejects a write: the writer dies as a gateway would
        finally:
            writer.kill()
        window = in_crash_window(folder)
        plain, deep = damaged_paths(cli, mount, False), damaged_paths(cli, mount, True)
        assert plain == {p for p in deep if p in window}
        session = by_id(cli("check", "--json", "--no-backup", mount).json())["gw"]
        damaged = {p for p in deep}
        if damaged:
            assert "key-file-corrupt" in codes(session)
    finally:
        subprocess.run(["umount", "-l", str(mount)])
