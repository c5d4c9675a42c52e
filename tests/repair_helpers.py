"""Trees with every fixable problem, and the no-loss invariant the repair tests check."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tomllib
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.fixtures import baileys


def copy(name: str, dest: Path) -> Path:
    return Path(shutil.copytree(EXAMPLES / name, dest, symlinks=True, copy_function=shutil.copy))


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def fixable_tree(root: Path) -> Path:
    """A sessions root with one of every problem `fix` repairs without options."""
    sessions = root / "sessions"
    marketing = copy("marketing", sessions / "marketing")  # empty pre-key + creds.json.bak
    (marketing / "pre-key-9.json.tmp").write_text("{")
    copy("shop-main", sessions / "shop-main")
    return sessions


def break_creds_after_backup(cli, sessions: Path, name: str = "shop-main") -> None:
    """Let check back the creds up, then empty them as a crash would."""
    assert cli("check", sessions).code in (0, 1, 2)
    baileys.empty(sessions / name / "creds.json")


def stale_profile(dest: Path) -> Path:
    profile = copy(".wwebjs_auth/session-helpdesk", dest)
    (profile / "SingletonLock").unlink()
    os.symlink(f"{socket.gethostname()}-{dead_pid()}", profile / "SingletonLock")
    return profile


def inventory(root: Path) -> dict[str, str]:
    """sha256 of every regular file under root (outside .wadoctor), by absolute path."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".wadoctor"]
        for name in files:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return found


def quarantined(root: Path) -> dict[str, set[str]]:
    """original path -> hashes of copies held in quarantine entries whose manifest names them."""
    held: dict[str, set[str]] = {}
    for manifest in root.glob("**/.wadoctor/quarantine/*/manifest.toml"):
        data = tomllib.loads(manifest.read_text())
        for item in data.get("items", []):
            stored = manifest.parent / item["stored"]
            if stored.is_file():
                held.setdefault(item["original"], set()).add(hashlib.sha256(stored.read_bytes()).hexdigest())
            elif stored.is_dir():
                for path in stored.rglob("*"):
                    if path.is_file():
                        original = os.path.join(item["original"], str(path.relative_to(stored)))
                        held.setdefault(original, set()).add(hashlib.sha256(path.read_bytes()).hexdigest())
    return held


def lost_bytes(before: dict[str, str], root: Path) -> list[str]:
    """Originals that are neither in place nor in a quarantine entry that names them."""
    now = inventory(root)
    safe = quarantined(root)
    return [path for path, digest in before.items() if now.get(path) != digest and digest not in safe.get(path, set())]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def crash_tree(root: Path, cli, store_template: Path | None = None) -> Path:
    """Every problem fix repairs without options, on one root: damaged and leftover key
    files, creds emptied after a backup, a stale Chromium lock, a stale guard lock, and (with
    a neonize-made template) a corrupt whatsmeow store."""
    sessions = fixable_tree(root)
    stale_profile(sessions / "helpdesk")
    guarded = copy("onboarding", sessions / "guarded")
    (guarded / ".wadoctor.lock").write_text(json.dumps({"pid": dead_pid(), "host": socket.gethostname(),
                                                        "boot_id": None, "started": 1.0, "cmdline": [],
                                                        "since": 1.0}))
    if store_template is not None:
        store = sessions / "whatsapp.db"
        shutil.copy(store_template, store)
        corrupt_index(store)
    break_creds_after_backup(cli, sessions)
    return sessions


def corrupt_index(store: Path, devices: int = 50) -> None:
    """Add `devices` rows, then wreck an index page: quick_check fails, the rows still read."""
    import sqlite3

    from tests.fixtures.whatsmeow import Device, add_devices

    add_devices(store, *(Device(f"1555{i:07d}", 1) for i in range(devices)))
    connection = sqlite3.connect(store)
    connection.execute("CREATE INDEX wadoctor_test_idx ON whatsmeow_device (push_name, jid)")
    connection.commit()
    root_page = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'wadoctor_test_idx'").fetchone()[0]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    with open(store, "r+b") as handle:
        handle.seek((root_page - 1) * page_size)
        handle.write(b"\xff" * page_size)


def kill_fix_at(sessions: Path, delay: float, env: dict[str, str]) -> bool:
    """Run `wadoctor fix` and SIGKILL it after `delay` seconds; True if it was still running."""
    import signal
    import sys
    import time

    process = subprocess.Popen([sys.executable, "-m", "wadoctor", "fix", str(sessions)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    running = process.poll() is None
    if running:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return running
