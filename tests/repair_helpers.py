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
    shop = copy("shop-main", sessions / "shop-main")
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
