"""Baileys' multi-file store (`useMultiFileAuthState`): creds.json plus one file per key."""

from __future__ import annotations

import heapq
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wadoctor.model import Sample, Session, SessionState
from wadoctor.stores.baileys_creds import apply_creds, parse_json_bytes
from wadoctor.stores.baileys_keys import KEY_FILE, KEY_FILE_CAP, LEFTOVER_SUFFIXES, SIZE_FLOORS, key_file_problem
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import TooLarge, describe_os_error, read_capped

CREDS = "creds.json"
CREDS_CAP = 64 << 20
# Keys only Baileys' creds have: a creds.json without any is some other program's.
_CREDS_MARKERS = ("noiseKey", "signedIdentityKey", "advSecretKey")


# The crash window. Baileys writes every key file with a plain writeFile, one transaction's
# files at once and creds.json right after, so a SIGKILL or a full disk cuts the files written
# last. Measured with tests/node/crash_writer.mjs on 2 cores: one round's files (a Signal
# session, pre-keys, a sender key, creds) land within 35 ms of each other. A plain check
# therefore reads the key files written within CRASH_WINDOW seconds of the session's newest
# write, at most CRASH_WINDOW_FILES of them (a fresh pairing writes 800 pre-keys at once; a
# cut pre-key is caught by its size floor instead), and every file under its type's floor.
CRASH_WINDOW = 2.0
CRASH_WINDOW_FILES = 32


@dataclass
class KeyScan:
    """What one pass over a session folder's entries found."""

    files: int = 0
    bytes: int = 0
    newest: float = 0.0
    creds: os.stat_result | None = None
    key_types: dict[str, int] = field(default_factory=dict)


def scan_key_files(path: Path, entries: list[os.DirEntry[str]], deep: bool,
                   damaged: Callable[[str, str], None], leftover: Callable[[str], None],
                   unreadable: Callable[[str, str], None]) -> KeyScan:
    """One lstat per entry, and a read of the key files a crash may have cut (all with `deep`).

    The check keeps a sample of the names it is told, a repair keeps them all: both walk here,
    so a plain `fix` repairs exactly what a plain `check` reports."""
    found = KeyScan()
    key_types = found.key_types
    recent: list[tuple[float, str, str, int]] = []  # (mtime, name, kind, size) of the newest: a min-heap

    def judge(name: str, kind: str, mode: int, size: int, read: bool) -> None:
        try:
            problem = key_file_damage(path / name, kind, mode, size, read)
        except OSError as exc:
            unreadable(name, describe_os_error(exc))
            return
        if problem:
            damaged(name, problem)

    files = size_total = 0
    newest = 0.0
    floors, window, is_regular, is_dir, lstat = SIZE_FLOORS, CRASH_WINDOW_FILES, stat.S_ISREG, stat.S_ISDIR, os.stat
    folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # names, not paths, walked from here
    try:
        for entry in entries:  # the hot loop of a plain check: one lstat, few comparisons, locals only
            name = entry.name
            try:
                st = lstat(name, dir_fd=folder, follow_symlinks=False)
            except OSError as exc:
                unreadable(name, describe_os_error(exc))
                continue
            mode = st.st_mode
            if is_dir(mode):
                continue
            size = st.st_size
            mtime = st.st_mtime
            files += 1
            size_total += size
            if mtime > newest:
                newest = mtime
            if name.startswith("pre-key-") and name.endswith(".json") and len(name) > 13:  # most files, no regex
                kind = "pre-key"
            elif name == CREDS:
                found.creds = st
                continue
            else:
                match = KEY_FILE.match(name)
                if match is None:
                    if name.endswith(LEFTOVER_SUFFIXES):
                        leftover(name)
                    continue
                kind = match[1]
            key_types[kind] = key_types.get(kind, 0) + 1
            if deep or size < floors[kind] or not is_regular(mode):  # the rare path
                judge(name, kind, mode, size, True)
            elif len(recent) < window:
                heapq.heappush(recent, (mtime, name, kind, size))
            elif mtime > recent[0][0]:
                heapq.heapreplace(recent, (mtime, name, kind, size))
    finally:
        os.close(folder)
    found.files, found.bytes, found.newest = files, size_total, newest
    cutoff = found.newest - CRASH_WINDOW
    for mtime, name, kind, size in sorted(recent):
        if mtime >= cutoff:
            judge(name, kind, stat.S_IFREG, size, True)
    return found


class BaileysMultiFile(StoreAdapter):
    format = "baileys"

    def claims_dir(self, path: Path, entries: list[os.DirEntry[str]]) -> bool:
        return any(e.name == CREDS or KEY_FILE.match(e.name) for e in entries)

    def read_dir(self, path: Path, entries: list[os.DirEntry[str]], deep: bool) -> Session | None:
        session = Session(id=path.name, path=path, format=self.format)
        corrupt, leftovers, unreadable = Sample(), Sample(), Sample()
        found = scan_key_files(path, entries, deep, lambda name, why: corrupt.add(f"{name} ({why})"), leftovers.add,
                               lambda name, why: unreadable.add(f"{name} ({why})"))
        session.files, session.bytes, session.last_activity = found.files, found.bytes, found.newest or None
        key_files = sum(found.key_types.values())
        if found.creds is None and not key_files:
            return None
        session.key_types = found.key_types
        if found.creds is None:
            session.state = SessionState.KEYS_ONLY
            session.observe("creds-missing", f"{key_files} key files but no {CREDS}", key_files=key_files)
        elif not _read_creds(session, path / CREDS, found.creds, key_files):
            return None
        _observe_samples(session, corrupt, leftovers, unreadable)
        return session


def key_file_damage(path: Path, kind: str, mode: int, size: int, read: bool) -> str | None:
    """What is wrong with one key file, judged from its lstat (and, with `read`, its content)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link; Baileys never writes one"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if size == 0:
        return "empty"
    if not read:
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
        entries = list(listing)
    scan_key_files(path, entries, deep, lambda name, why: damaged.append((path / name, why)),
                   lambda name: leftovers.append(path / name), lambda name, why: None)
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
