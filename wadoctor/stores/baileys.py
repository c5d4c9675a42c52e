"""Baileys' multi-file store (`useMultiFileAuthState`): creds.json plus one file per key."""

from __future__ import annotations

import heapq
import operator
import re
import stat
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import compress, repeat
from pathlib import Path
from typing import NamedTuple

from wadoctor.core.evidence import Damage, DamagedFiles, KeyFiles
from wadoctor.core.model import Sample, Session, SessionState
from wadoctor.stores.baileys_creds import apply_creds, parse_creds
from wadoctor.stores.baileys_keys import (
    KEY_FILE,
    KEY_FILE_CAP,
    KEY_SUFFIX,
    KEY_TYPES,
    LEFTOVER_SUFFIXES,
    SIZE_FLOORS,
    key_file_problem,
)
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


# Without the C helper: a name's key type, or "" for any other file, for every name of a folder
# in one regex pass over the names joined by line ends (a per-name loop cost twice the lstat).
_KINDS = re.compile(r"^(?:" + KEY_FILE.pattern.replace("(.+)", ".+").removesuffix(r"\Z") + r"$)?.*$", re.MULTILINE)
_FLOOR = {"": -1, **SIZE_FLOORS}.__getitem__
_FLOORS = tuple(SIZE_FLOORS[kind] for kind in KEY_TYPES)
try:  # the same pass in C (wadoctor/stores/_speedups.c), where it was built
    from wadoctor.stores._speedups import judge_keys as _native_judge_keys
except ImportError:
    _native_judge_keys = None


class KeyJudgement(NamedTuple):
    """What one pass over a folder's lstat'ed entries decides; folders are skipped, indices
    are into the listing."""

    files: int
    bytes: int
    newest: float
    key_types: dict[str, int]  # in the order the types first appear
    creds: int  # the index of creds.json, or -1
    others: list[int]  # files that are neither keys nor creds
    judged: list[tuple[int, str]]  # (index, type) of the key files to read, whatever their time
    recent: list[tuple[int, str]]  # the newest others written within the crash window, oldest first


def judge_keys(listing: Listing, deep: bool) -> KeyJudgement:
    """The per-file work of a plain check, in C where the helper was built: every name typed,
    every size held to its type's floor, the crash window chosen; no object per file."""
    names, modes, sizes, mtimes, _ = listing
    if _native_judge_keys is None:
        return _judge_keys(names, modes, sizes, mtimes, deep)
    return KeyJudgement(*_native_judge_keys(names, modes, sizes, mtimes, KEY_TYPES, KEY_SUFFIX, _FLOORS, CREDS,
                                            CRASH_WINDOW, CRASH_WINDOW_FILES, deep))


def _judge_keys(names: list[str], modes: list[int], sizes: list[int], mtimes: list[float],
                deep: bool) -> KeyJudgement:
    """judge_keys in Python: per file, only C loops (map, zip, compress) over the lstat results."""
    index: Sequence[int] = range(len(names))
    regular = all(map(stat.S_ISREG, modes))
    if not regular:  # folders are skipped, links and devices judged
        index = list(compress(index, map(operator.not_, map(stat.S_ISDIR, modes))))
        names, modes, sizes, mtimes = ([column[i] for i in index] for column in (names, modes, sizes, mtimes))
    kinds = _kinds(names)
    newest = max(mtimes, default=0.0)
    counts = Counter(kinds)
    creds = names.index(CREDS) if CREDS in names else -1
    others = [i for i in compress(range(len(names)), map(operator.not_, kinds)) if i != creds]
    counts.pop("", None)
    if deep:  # every key file
        suspects = map(bool, kinds)
    else:  # every key file under its type's floor, and every one that is not a regular file
        suspects = map(operator.lt, sizes, map(_FLOOR, kinds))
        if not regular:
            suspects = map(operator.or_, suspects,
                           map(operator.and_, map(bool, kinds), map(operator.not_, map(stat.S_ISREG, modes))))
    judged = list(compress(range(len(names)), suspects))
    done = set(judged)
    recent = compress(range(len(names)), map(operator.ge, mtimes, repeat(newest - CRASH_WINDOW)))
    window = [(mtimes[i], i) for i in recent if kinds[i] and i not in done]  # links and devices are done
    newest_keys = [i for _, i in sorted(heapq.nlargest(CRASH_WINDOW_FILES, window))]
    return KeyJudgement(len(names), sum(sizes), newest, dict(counts), index[creds] if creds >= 0 else -1,
                        [index[i] for i in others], [(index[i], kinds[i]) for i in judged],
                        [(index[i], kinds[i]) for i in newest_keys])


def scan_key_files(path: Path, listing: Listing, deep: bool,
                   damaged: Callable[[str, str], None], leftover: Callable[[str], None],
                   unreadable: Callable[[str, str], None]) -> KeyJudgement:
    """Judge a folder's lstat'ed entries, reading the key files a crash may have cut (all with `deep`).

    The check keeps a sample of the names it is told, a repair keeps them all: both walk here,
    so a plain `fix` repairs exactly what a plain `check` reports."""
    names, modes, sizes, _, failed = listing
    for name, code in failed:
        unreadable(name, describe_errno(code))
    judgement = judge_keys(listing, deep)
    for index in judgement.others:
        if names[index].endswith(LEFTOVER_SUFFIXES):
            leftover(names[index])
    for index, kind in (*judgement.judged, *judgement.recent):
        try:
            problem = key_file_damage(path / names[index], kind, modes[index], sizes[index], True)
        except OSError as exc:
            unreadable(names[index], describe_os_error(exc))
            continue
        if problem:
            damaged(names[index], problem)
    return judgement


def _kinds(names: list[str]) -> list[str]:
    """Each name's key type, "" for other files."""
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
        session.files, session.size, session.last_activity = found.files, found.bytes, found.newest or None
        key_files, at = sum(found.key_types.values()), found.creds
        if at < 0 and not key_files:
            return None
        session.key_types = found.key_types
        if at < 0:
            session.state = SessionState.KEYS_ONLY
            session.observe("creds-missing", f"{key_files} key files but no {CREDS}", KeyFiles(key_files))
        elif not _read_creds(session, path / CREDS, CredsStat(listing.modes[at], listing.sizes[at],
                                                              listing.mtimes[at]), key_files):
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
        session.observe("creds-empty", f"{CREDS} is 0 bytes{left}", KeyFiles(key_files))
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
    creds, healthy, why = parse_creds(raw)
    if why:
        session.state = SessionState.BROKEN
        session.observe("creds-corrupt", f"{CREDS} is {why}", Damage(len(raw), key_files))
        return True
    if not key_files and not (isinstance(creds, dict) and any(k in creds for k in _CREDS_MARKERS)):
        return False
    apply_creds(session, creds, key_files, CREDS, healthy)
    return True


def _observe_samples(session: Session, corrupt: Sample, leftovers: Sample, unreadable: Sample) -> None:
    for code, sample, what in (("key-file-corrupt", corrupt, "damaged key file"),
                               ("leftover-temp", leftovers, "leftover temp/backup file"),
                               ("path-unreadable", unreadable, "file that could not be read")):
        if sample.count:
            session.observe(code, f"{_counted(sample.count, what)}: {_named(sample)}",
                            DamagedFiles(sample.count, tuple(sample.names)))


def _counted(count: int, what: str) -> str:
    return f"{count} {what}" if count == 1 else f"{count} {what.replace(' file', ' files', 1)}"


def _named(sample: Sample) -> str:
    """The first names, and how many more there are: the message never hides that it is a sample."""
    shown = sample.names[:3]
    more = sample.count - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")
