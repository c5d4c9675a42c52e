"""Build a synthetic fleet of Baileys sessions whose files are copies of real ones.

Each session gets the demo's real creds.json and key files, cycled and renamed to reach the
requested count, so names, sizes and contents are what Baileys 7 writes. Every session is
given its own device JID and noise key, as in a real fleet (a copied identity is a finding).
File times are a live gateway's: key files written over the past weeks, the session's last
write a batch of a few files with creds.json (what a plain check's crash window reads).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import re
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "examples" / "sessions" / "shop-main"


def _templates() -> tuple[dict, list[tuple[str, bytes]]]:
    creds = json.loads((TEMPLATE / "creds.json").read_text())
    keys = [(p.name, p.read_bytes()) for p in sorted(TEMPLATE.iterdir()) if p.name != "creds.json"]
    return creds, keys


LAST_BATCH = 5  # key files of a session's last write (a message: a Signal session, a sender key...)
HISTORY_DAYS = 30


def age_like_a_gateway(folder: Path, rng: random.Random, now: float) -> None:
    names = sorted(p.name for p in folder.iterdir())
    last = now - rng.uniform(0, 86400)
    batch = set(rng.sample(names, min(LAST_BATCH, len(names)))) | {"creds.json"}
    for name in names:
        stamp = last - rng.uniform(0, 0.05) if name in batch else last - rng.uniform(60, HISTORY_DAYS * 86400)
        os.utime(folder / name, (stamp, stamp))


def build_fleet(root: Path, sessions: int, files: int) -> int:
    """Write `sessions` folders of `files` files each under root; return the bytes written."""
    creds, keys = _templates()
    rng, now = random.Random(1), time.time()
    written = 0
    for n in range(sessions):
        folder = root / f"session-{n:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        creds["me"]["id"] = f"1555{n:07d}:12@s.whatsapp.net"
        creds["noiseKey"]["public"]["data"] = base64.b64encode(os.urandom(32)).decode()
        data = json.dumps(creds, separators=(",", ":")).encode()
        (folder / "creds.json").write_bytes(data)
        written += len(data)
        for i, (name, data) in zip(range(1, files), itertools.cycle(keys)):
            # keep the type prefix, make the id unique: pre-key-7.json -> pre-key-7-i.json
            unique = re.sub(r"\.json$", f"-{i}.json", name)
            (folder / unique).write_bytes(data)
            written += len(data)
        age_like_a_gateway(folder, rng, now)
    return written
