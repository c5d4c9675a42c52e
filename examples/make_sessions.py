"""Rebuild examples/sessions/: a session in every state wadoctor reports, in all three families.

Baileys folders are written by Baileys 7.0.0-rc14 itself (through tests/node), the whatsmeow
store by neonize's whatsmeow, the whatsapp-web.js LocalAuth profile by a real headless
Chromium; all with random keys and no real identity, then damaged the way crashes, full disks
and re-created containers damage them. `billing` has a creds backup wadoctor's own check kept
before its creds.json was emptied: the demo of `fix` and `restore`. Run from the repository:
    python examples/make_sessions.py
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures import baileys, whatsmeow  # noqa: E402
from tests.fixtures.chromium import chromium, stop  # noqa: E402

TARGET = ROOT / "examples" / "sessions"
# What a whatsapp-web.js profile needs to show its identity and lock; the rest is browser cache.
PROFILE_KEEP = ("Local State", "Default", "SingletonLock", "SingletonCookie", "SingletonSocket")


def make_local_auth_profile(profile: Path) -> None:
    """A LocalAuth profile whose browser ran in a container that has since been re-created."""
    with chromium(profile, wid="15550000010:5@c.us") as browser:
        stop(browser, signal.SIGKILL)
    for entry in profile.iterdir():
        if entry.name not in PROFILE_KEEP:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for entry in (profile / "Default").iterdir():
        if entry.name != "Local Storage":
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    (profile / "SingletonLock").unlink()
    os.symlink("gateway-7f9c2b1d4e5a-88", profile / "SingletonLock")


def make_whatsmeow_store(path: Path) -> None:
    """A go-whatsapp-web-multidevice style store with two devices, one with a bad key length."""
    path.parent.mkdir(parents=True)
    whatsmeow.create_store(path)
    whatsmeow.add_devices(path, whatsmeow.Device("15550000011", 14, push_name="Orders"),
                          whatsmeow.Device("15550000012", 2, push_name="Billing", key_lengths={"signed_pre_key": 31}))


def make_restorable(session: Path) -> None:
    """A paired session whose creds.json a crash emptied after wadoctor's check had kept a
    verified backup: what `wadoctor fix` restores and `wadoctor restore --last` undoes."""
    baileys.write_sessions([baileys.paired(session, pn="15550000009", device=6)])
    run = subprocess.run([sys.executable, "-m", "wadoctor", "check", "--json", str(session)], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr  # the check that kept the backup, beside the session
    baileys.empty(session / "creds.json")


def main() -> None:
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    s = {name: TARGET / name for name in (
        "shop-main", "support-bot", "sales", "marketing", "alerts", "new-kiosk", "onboarding", "evolution-7")}
    baileys.write_sessions([
        baileys.paired(s["shop-main"], pn="15550000001", device=12, lid="100000000000001"),
        baileys.paired(s["support-bot"], pn="15550000002", device=3),
        baileys.paired(s["sales"], pn="15550000003", device=7),
        baileys.paired(s["marketing"], pn="15550000004", device=21),
        {"dir": s["alerts"], "kind": "reset", "pn": "15550000005", "device": 4, "preKeys": 30},
        {"dir": s["new-kiosk"], "kind": "unpaired"},
        {"dir": s["onboarding"], "kind": "half-paired", "pn": "15550000006"},
        baileys.paired(s["evolution-7"], pn="15550000007", device=9),
        {"file": TARGET / "auth_info_multi.json", "kind": "legacy", "pn": "15550000008", "device": 2, "preKeys": 10},
    ])
    baileys.empty(s["support-bot"] / "creds.json")
    baileys.truncate(s["sales"] / "creds.json", keep=0.6)
    session = sorted(s["marketing"].glob("session-*.json"))[0]
    baileys.truncate(session, keep=0.3)
    baileys.empty(s["marketing"] / "pre-key-7.json")
    shutil.copy(s["marketing"] / "creds.json", s["marketing"] / "creds.json.bak")
    (s["evolution-7"] / "creds.json").unlink()  # Evolution API v2 keeps creds in its database
    make_whatsmeow_store(TARGET / "storages" / "whatsapp.db")
    make_local_auth_profile(TARGET / ".wwebjs_auth" / "session-helpdesk")
    make_restorable(TARGET / "billing")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
