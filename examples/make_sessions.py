"""Rebuild examples/sessions/: one Baileys session in every state wadoctor reports.

Every file is written by Baileys 7.0.0-rc14 itself (through tests/node, random keys, no real
identity), then damaged the way crashes and full disks damage it. Run from the repository:
    python examples/make_sessions.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures import baileys  # noqa: E402

TARGET = ROOT / "examples" / "sessions"


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
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
