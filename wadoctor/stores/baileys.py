"""Baileys' multi-file store (`useMultiFileAuthState`): creds.json plus one file per key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from wadoctor.model import Sample, Session, SessionState
from wadoctor.stores.baileys_creds import apply_creds, parse_json_bytes
from wadoctor.stores.baileys_keys import KEY_FILE, KEY_FILE_CAP, LEFTOVER_SUFFIXES, key_file_problem
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import TooLarge, describe_os_error, read_capped

CREDS = "creds.json"
CREDS_CAP = 64 << 20
# Keys only Baileys' creds have: a creds.json without any is some other program's.
_CREDS_MARKERS = ("noiseKey", "signedIdentityKey", "advSecretKey")


class BaileysMultiFile(StoreAdapter):
    format = "baileys"

    def claims_dir(self, path: Path, entries: list[os.DirEntry[str]]) -> bool:
        return any(e.name == CREDS or KEY_FILE.match(e.name) for e in entries)

    def read_dir(self, path: Path, entries: list[os.DirEntry[str]], deep: bool) -> Session | None:
        session = Session(id=path.name, path=path, format=self.format)
        creds: os.stat_result | None = None
        key_types: dict[str, int] = {}
        corrupt, leftovers, unreadable = Sample(), Sample(), Sample()
        files = size = 0
        newest = 0.0
        for entry in entries:  # the hot loop of a plain check: one lstat, no method calls
            name = entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                unreadable.add(f"{name} ({describe_os_error(exc)})")
                continue
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                continue
            files += 1
            size += st.st_size
            if st.st_mtime > newest:
                newest = st.st_mtime
            if name == CREDS:
                creds = st
                continue
            match = KEY_FILE.match(name)
            if match is None:
                if name.endswith(LEFTOVER_SUFFIXES):
                    leftovers.add(name)
                continue
            kind = match[1]
            key_types[kind] = key_types.get(kind, 0) + 1
            if deep or st.st_size == 0 or not stat.S_ISREG(mode):  # the rare path
                try:
                    problem = key_file_damage(path / name, kind, mode, st.st_size, deep)
                except OSError as exc:
                    unreadable.add(f"{name} ({describe_os_error(exc)})")
                    continue
                if problem:
                    corrupt.add(f"{name} ({problem})")
        session.files, session.bytes, session.last_activity = files, size, newest or None
        key_files = sum(key_types.values())
        if creds is None and not key_files:
            return None
        session.key_types = key_types
        if creds is None:
            session.state = SessionState.KEYS_ONLY
            session.observe("creds-missing", f"{key_files} key files but no {CREDS}", key_files=key_files)
        elif not _read_creds(session, path / CREDS, creds, key_files):
            return None
        _observe_samples(session, corrupt, leftovers, unreadable)
        return session


def key_file_damage(path: Path, kind: str, mode: int, size: int, deep: bool) -> str | None:
    """What is wrong with one key file, judged from its lstat (and its content when deep)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link; Baileys never writes one"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if size == 0:
        return "empty"
    if not deep:
        return None
    try:
        return key_file_problem(kind, read_capped(path, KEY_FILE_CAP))
    except TooLarge:
        return "far larger than any key Baileys writes"


def damaged_files(path: Path, deep: bool) -> tuple[list[tuple[Path, str]], list[Path]]:
    """Every damaged key file (with why) and every leftover of a session, for repair: the
    check keeps only a sample of names, a repair needs them all."""
    damaged: list[tuple[Path, str]] = []
    leftovers: list[Path] = []
    with os.scandir(path) as listing:
        for entry in listing:
            if entry.name.endswith(LEFTOVER_SUFFIXES):
                leftovers.append(Path(entry.path))
                continue
            match = KEY_FILE.match(entry.name)
            if match is None:
                continue
            st = entry.stat(follow_symlinks=False)
            try:
                problem = key_file_damage(Path(entry.path), match[1], st.st_mode, st.st_size, deep)
            except OSError:
                continue
            if problem:
                damaged.append((Path(entry.path), problem))
    return damaged, leftovers


def _read_creds(session: Session, path: Path, st: os.stat_result, key_files: int) -> bool:
    """Fill the session from creds.json; False when the file is some other program's."""
    session.creds_mtime = st.st_mtime
    if not stat.S_ISREG(st.st_mode):
        session.state = SessionState.BROKEN
        what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        session.observe("path-unreadable", f"{CREDS} is {what}; wadoctor does not follow or open it")
        return True
    if st.st_size == 0:
        session.state = SessionState.BROKEN
        left = f"; the identity's {key_files} key files are still here" if key_files else ""
        session.observe("creds-empty", f"{CREDS} is 0 bytes{left}", key_files=key_files)
        return True
    try:
        raw = read_capped(path, CREDS_CAP)
    except TooLarge:
        session.state = SessionState.BROKEN
        session.observe("creds-corrupt", f"{CREDS} is {st.st_size} bytes, far more than creds ever hold")
        return True
    except OSError as exc:
        session.state = SessionState.BROKEN
        session.observe("path-unreadable", f"{CREDS}: {describe_os_error(exc)}")
        return True
    creds, why = parse_json_bytes(raw)
    if why:
        session.state = SessionState.BROKEN
        session.observe("creds-corrupt", f"{CREDS} is {why}", bytes=len(raw), key_files=key_files)
        return True
    if not key_files and not (isinstance(creds, dict) and any(k in creds for k in _CREDS_MARKERS)):
        return False
    apply_creds(session, creds, key_files, CREDS)
    return True


def _observe_samples(session: Session, corrupt: Sample, leftovers: Sample, unreadable: Sample) -> None:
    if corrupt.count:
        session.observe("key-file-corrupt", f"{corrupt.count} key file(s) damaged: {corrupt.names[0]}",
                        count=corrupt.count, files=corrupt.names)
    if leftovers.count:
        session.observe("leftover-temp", f"{leftovers.count} leftover temp/backup file(s): {leftovers.names[0]}",
                        count=leftovers.count, files=leftovers.names)
    if unreadable.count:
        session.observe("path-unreadable", f"{unreadable.count} file(s) could not be read: {unreadable.names[0]}",
                        count=unreadable.count, files=unreadable.names)
