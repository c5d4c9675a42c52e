"""Baileys' multi-file store (`useMultiFileAuthState`): creds.json plus one file per key."""

from __future__ import annotations

import heapq
import operator
import re
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress, repeat
from pathlib import Path
from typing import NamedTuple

from wadoctor.model import Sample, Session, SessionState
from wadoctor.stores.baileys_creds import apply_creds, parse_json_bytes
from wadoctor.stores.baileys_keys import (KEY_FILE, KEY_FILE_CAP, KEY_SUFFIX, KEY_TYPES, LEFTOVER_SUFFIXES,
                                          SIZE_FLOORS, key_file_problem)
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import Listing, TooLarge, describe_errno, describe_os_error, list_folder, read_capped

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


class CredsStat(NamedTuple):
    """creds.json's lstat, as the folder's one pass read it."""

    mode: int
    size: int
    mtime: float


@dataclass
class KeyScan:
    """What one pass over a session folder's entries found."""

    files: int = 0
    bytes: int = 0
    newest: float = 0.0
    creds: CredsStat | None = None
    key_types: dict[str, int] = field(default_factory=dict)


# Without the C helper: a name's key type, or "" for any other file, for every name of a folder
# in one regex pass over the names joined by line ends (a per-name loop cost twice the lstat).
_KINDS = re.compile(r"^(?:" + KEY_FILE.pattern.replace("(.+)", ".+").removesuffix(r"\Z") + r"$)?.*$", re.MULTILINE)
_FLOOR = {"": -1, **SIZE_FLOORS}.__getitem__
try:  # the same typing in C (wadoctor/stores/_speedups.c), where it was built
    from wadoctor.stores._speedups import prefix_kinds as _native_kinds
except ImportError:
    _native_kinds = None


def scan_key_files(path: Path, listing: Listing, deep: bool,
                   damaged: Callable[[str, str], None], leftover: Callable[[str], None],
                   unreadable: Callable[[str, str], None]) -> KeyScan:
    """Judge a folder's lstat'ed entries, reading the key files a crash may have cut (all with `deep`).

    The check keeps a sample of the names it is told, a repair keeps them all: both walk here,
    so a plain `fix` repairs exactly what a plain `check` reports. The hot path of a plain check:
    per file, only C loops (map, zip, compress) run over the lstat results."""
    names, modes, sizes, mtimes, failed = listing
    for name, code in failed:
        unreadable(name, describe_errno(code))
    regular = all(map(stat.S_ISREG, modes))
    if not regular:  # folders are skipped, links and devices judged
        kept = list(map(operator.not_, map(stat.S_ISDIR, modes)))
        names, modes = list(compress(names, kept)), list(compress(modes, kept))
        sizes, mtimes = list(compress(sizes, kept)), list(compress(mtimes, kept))
    kinds = _kinds(names)
    found = KeyScan(files=len(names), bytes=sum(sizes), newest=max(mtimes, default=0.0))
    counts = Counter(kinds)
    if CREDS in names:
        at = names.index(CREDS)
        found.creds = CredsStat(modes[at], sizes[at], mtimes[at])
    if counts.pop("", 0) > (found.creds is not None):  # files other than keys and creds
        for name in compress(names, map(operator.not_, kinds)):
            if name.endswith(LEFTOVER_SUFFIXES):
                leftover(name)
    found.key_types = dict(counts)

    def judge(index: int) -> None:
        try:
            problem = key_file_damage(path / names[index], kinds[index], modes[index], sizes[index], True)
        except OSError as exc:
            unreadable(names[index], describe_os_error(exc))
            return
        if problem:
            damaged(names[index], problem)

    if deep:  # every key file
        suspects = map(bool, kinds)
    else:  # every key file under its type's floor, and every one that is not a regular file
        suspects = map(operator.lt, sizes, map(_FLOOR, kinds))
        if not regular:
            suspects = map(operator.or_, suspects,
                           map(operator.and_, map(bool, kinds), map(operator.not_, map(stat.S_ISREG, modes))))
    judged = list(compress(range(len(names)), suspects))
    for index in judged:
        judge(index)
    # the newest key files near the session's newest write
    recent = compress(range(len(names)), map(operator.ge, mtimes, repeat(found.newest - CRASH_WINDOW)))
    done = set(judged)
    window = [(mtimes[i], i) for i in recent if kinds[i] and i not in done]  # links and devices are done
    for _, index in sorted(heapq.nlargest(CRASH_WINDOW_FILES, window)):
        judge(index)
    return found


def _kinds(names: list[str]) -> list[str]:
    """Each name's key type, "" for other files."""
    if _native_kinds is not None:
        return _native_kinds(names, KEY_TYPES, KEY_SUFFIX)
    text = "\n".join(names)
    if text.count("\n") == len(names) - 1:  # no name holds a line end (names are data)
        return _KINDS.findall(text)
    return [match[1] if (match := KEY_FILE.match(name)) else "" for name in names]


class BaileysMultiFile(StoreAdapter):
    format = "baileys"

    def claims_dir(self, path: Path, listing: Listing) -> bool:
        return any(name == CREDS or KEY_FILE.match(name) for name in listing.every_name())

    def read_dir(self, path: Path, listing: Listing, deep: bool) -> Session | None:
        session = Session(id=path.name, path=path, format=self.format)
        corrupt, leftovers, unreadable = Sample(), Sample(), Sample()
        found = scan_key_files(path, listing, deep, lambda name, why: corrupt.add(f"{name} ({why})"), leftovers.add,
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
    scan_key_files(path, list_folder(path), deep, lambda name, why: damaged.append((path / name, why)),
                   lambda name: leftovers.append(path / name), lambda name, why: None)
    return damaged, leftovers


def _read_creds(session: Session, path: Path, st: CredsStat, key_files: int) -> bool:
    """Fill the session from creds.json; False when the file is some other program's."""
    session.creds_mtime = st.mtime
    if not stat.S_ISREG(st.mode):
        session.state = SessionState.BROKEN
        what = "a symbolic link" if stat.S_ISLNK(st.mode) else "not a regular file"
        session.observe("path-unreadable", f"{CREDS} is {what}; wadoctor does not follow or open it")
        return True
    if st.size == 0:
        session.state = SessionState.BROKEN
        left = f"; the identity's {key_files} key files are still here" if key_files else ""
        session.observe("creds-empty", f"{CREDS} is 0 bytes{left}", key_files=key_files)
        return True
    try:
        raw = read_capped(path, CREDS_CAP)
    except TooLarge:
        session.state = SessionState.BROKEN
        session.observe("creds-corrupt", f"{CREDS} is {st.size} bytes, far more than creds ever hold")
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
