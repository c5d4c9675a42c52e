"""Creds backups: what turns a lost pairing into a restart.

Baileys writes creds.json with a plain writeFile, so a crash or a full disk can leave it empty,
and the next start replaces the identity. Every check and fix keeps, per session, the last few
verified copies of a valid paired creds.json (only when it changed, 0600, on the same
filesystem under `<root>/.wadoctor/backups/<session>/`), so fix can put it back.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from wadoctor.model import Session, SessionState
from wadoctor.repair.quarantine import STATE_DIR, state_root
from wadoctor.repair.safety import file_safe, fsync_dir, write_synced
from wadoctor.stores.baileys import CREDS, CREDS_CAP
from wadoctor.stores.baileys_creds import parse_json_bytes, validation_problems
from wadoctor.stores.files import read_capped


@dataclass(frozen=True)
class Backup:
    path: Path
    creds: dict[str, Any]

    @property
    def jid(self) -> str | None:
        return (self.creds.get("me") or {}).get("id")


def database_state_root(config_file: Path | None) -> Path:
    """The folder whose `.wadoctor/` keeps backups and quarantined values of creds kept in
    databases: beside the config file, else the system's (root: /var/lib/wadoctor) or the
    user's state folder."""
    if config_file is not None:
        return config_file.parent
    if os.geteuid() == 0:
        return Path("/var/lib/wadoctor")
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "wadoctor"


def backup_dir(session: Session, database_dir: Path | None = None) -> Path:
    """A session's backups: beside its folder, or for creds in a database under `database_dir`
    (one folder per place, named by the session and a digest of its masked place)."""
    if session.creds_source is not None:
        digest = hashlib.sha256(session.creds_source.encode()).hexdigest()[:12]
        root = database_dir or database_state_root(None)
        return root / STATE_DIR / "backups" / "databases" / f"{file_safe(session.id)}-{digest}"
    return state_root(session.path) / STATE_DIR / "backups" / session.id


def _verified(raw: bytes) -> dict[str, Any] | None:
    """Paired creds that Baileys would accept, or None."""
    creds, why = parse_json_bytes(raw)
    if why or validation_problems(creds) or not (creds.get("me") and creds.get("account")):
        return None
    return creds


def keep_backup(session: Session, keep: int, database_dir: Path | None = None) -> Path | None:
    """Back up a healthy paired Baileys session's creds (its creds.json, or the creds a database
    holds) if they changed; rotate to `keep`. Returns the new backup, or None when nothing was written."""
    if keep <= 0 or session.state is not SessionState.PAIRED:
        return None
    if session.creds_source is not None and session.creds_raw is not None:
        raw = session.creds_raw
    elif session.format == "baileys":
        raw = read_capped(session.path / CREDS, CREDS_CAP)
    else:
        return None
    if _verified(raw) is None:
        return None
    digest = hashlib.sha256(raw).hexdigest()[:12]
    folder = backup_dir(session, database_dir)
    existing = sorted(folder.glob("creds-*.json")) if folder.is_dir() else []
    if existing and existing[-1].name.endswith(f"-{digest}.json"):
        return None
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"creds-{stamp}-{digest}.json"
    os.replace(write_synced(folder / f".{target.name}.tmp", raw), target)
    fsync_dir(folder)
    for old in existing[: max(0, len(existing) + 1 - keep)]:
        old.unlink()
    return target


def newest_backup(session: Session, database_dir: Path | None = None) -> Backup | None:
    """The newest backup of this session that still verifies."""
    folder = backup_dir(session, database_dir)
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("creds-*.json"), reverse=True):
        try:
            creds = _verified(read_capped(path, CREDS_CAP))
        except OSError:
            continue
        if creds is not None:
            return Backup(path, creds)
    return None


def highest_pre_key_id(session_path: Path) -> int:
    """The highest pre-key id among a folder's key files (0 where there is no folder)."""
    highest = 0
    if not session_path.is_dir():
        return 0
    for name in os.listdir(session_path):
        if name.startswith("pre-key-") and name.endswith(".json") and name[8:-5].isdigit():
            highest = max(highest, int(name[8:-5]))
    return highest


def restored_creds(backup: Backup, session_path: Path) -> bytes:
    """The backup with its pre-key counters brought past every pre-key file on disk, so Baileys
    never hands out a key id twice; serialised as Baileys does (compact JSON)."""
    creds = dict(backup.creds)
    floor = highest_pre_key_id(session_path) + 1
    for counter in ("nextPreKeyId", "firstUnuploadedPreKeyId"):
        creds[counter] = max(int(creds.get(counter, 1)), floor)
    return json.dumps(creds, separators=(",", ":"), ensure_ascii=False).encode()
