"""Which live processes hold which session, with the evidence for each, strongest first.

Built once per run from one process-table pass and one read of /proc/locks; each session is
then a handful of dictionary and prefix look-ups, so a busy server costs one scan, not one
per session.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wadoctor.guard import GuardRecord, lock_path, read_record, record_is_stale
from wadoctor.holders.kernel_locks import KernelLock, locks_on, read_locks
from wadoctor.masking import mask_cmdline
from wadoctor.holders.processes import ProcessInfo, ProcessTable, container_of, scan_processes
from wadoctor.model import Holder, Session

# Evidence, strongest first; the order is the order a holder's evidence is listed in.
GUARD = "guard lock held"
OPEN_FILE = "open descriptor on"
KERNEL_LOCK = "kernel lock on"
USER_DATA_DIR = "--user-data-dir on its command line"
NAMED = "session named on its command line or in its environment"
CWD = "working folder is the application folder"
STRENGTH = (GUARD, OPEN_FILE, KERNEL_LOCK, USER_DATA_DIR, NAMED, CWD)
# how far above a session a guard lock or a gateway's working folder may be
APP_LEVELS = 3
# ids too common to tie a process to one session by name
GENERIC_IDS = frozenset({"session", "sessions", "default", "auth", "auth_info", "tokens", "store", "main"})
# files whose kernel locks show a live holder: a store, its journals, a browser's LevelDB
LOCKED_FILES = ("", "-journal", "-wal", "-shm")
LEVELDB_LOCK = os.path.join("Default", "Local Storage", "leveldb", "LOCK")


@dataclass(frozen=True)
class GuardState:
    path: Path
    record: GuardRecord | None
    holder: int | None  # pid holding the flock
    stale: str | None  # why the recorded holder is provably gone


class HolderIndex:
    def __init__(self, table: ProcessTable, locks_file: str = "/proc/locks") -> None:
        self.table = table
        self._locks_file = locks_file
        self._locks: dict[tuple[int, int, int], list[KernelLock]] | None = None
        self._guards: dict[Path, GuardState | None] = {}
        self._open = sorted((path, p.pid) for p in table.processes.values() for path in p.open_paths)
        self._open_keys = [path for path, _ in self._open]
        self._user_data_dirs: dict[str, list[int]] = {}
        for process in table.processes.values():
            if process.is_chromium_main:
                for arg in process.cmdline:
                    if arg.startswith("--user-data-dir="):
                        folder = _absolute(arg.partition("=")[2], process.cwd)
                        self._user_data_dirs.setdefault(folder, []).append(process.pid)
        self._own = {os.getpid(), *table.ancestors(os.getpid())}
        # inverted indexes over gateway runtimes, so a session costs look-ups, not a scan
        self._by_cwd: dict[str, list[int]] = {}
        self._by_value: dict[str, set[int]] = {}
        for process in table.processes.values():
            if process.pid in self._own or not process.is_runtime:
                continue
            if process.cwd and process.cwd != "/" and process.is_js_runtime:
                self._by_cwd.setdefault(process.cwd, []).append(process.pid)
            for value in _named_values(process):
                self._by_value.setdefault(value, set()).add(process.pid)

    @classmethod
    def build(cls, roots: Sequence[Path]) -> HolderIndex:
        resolved = sorted({os.path.realpath(r) for r in roots})
        return cls(scan_processes(resolved))

    @property
    def locks(self) -> dict[tuple[int, int, int], list[KernelLock]]:
        """/proc/locks, read on first need: a server of Baileys folders never needs it."""
        if self._locks is None:
            self._locks = read_locks(self._locks_file)
        return self._locks

    def _opened_under(self, prefix: str) -> Iterable[tuple[str, int]]:
        start = bisect.bisect_left(self._open_keys, prefix)
        for path, pid in self._open[start:]:
            if not path.startswith(prefix):
                break
            yield path, pid

    def guard_state(self, folder_or_file: Path) -> GuardState | None:
        """The guard lock of a session folder, a store file or a sessions root, if any."""
        path = lock_path(folder_or_file)
        if path not in self._guards:
            if not path.is_file():
                self._guards[path] = None
            else:
                holders = [lock.pid for lock in locks_on(self.locks, str(path)) if lock.kind == "FLOCK"]
                record = read_record(path)
                stale = record_is_stale(record) if record and not holders else None
                self._guards[path] = GuardState(path, record, holders[0] if holders else None, stale)
        return self._guards[path]

    def guards_over(self, session: Session) -> list[GuardState]:
        """Guard locks of the session itself and of the folders above it."""
        targets = [session.path, *session.path.parents[:APP_LEVELS]]
        return [state for state in map(self.guard_state, targets) if state is not None]

    def holders(self, session: Session) -> list[Holder]:
        evidence: dict[int, list[str]] = {}

        def add(pid: int | None, why: str) -> None:
            if pid and pid > 0 and pid not in self._own and why not in evidence.setdefault(pid, []):
                evidence[pid].append(why)

        real = os.path.realpath(session.path)
        for state in self.guards_over(session):
            add(state.holder, f"{GUARD} ({state.path})")
        if session.path.is_dir():
            for path, pid in self._opened_under(real + "/"):
                add(pid, f"{OPEN_FILE} {os.path.relpath(path, real)}")
            for pid in self._user_data_dirs.get(real, []):
                add(pid, USER_DATA_DIR)
            lock_files = [os.path.join(real, LEVELDB_LOCK)]
        else:
            for suffix in LOCKED_FILES:
                for path, pid in self._opened_under(real + suffix):
                    if path == real + suffix:
                        add(pid, f"{OPEN_FILE} {os.path.basename(path)}")
            lock_files = [real + suffix for suffix in LOCKED_FILES]
        for path in filter(os.path.exists, lock_files):
            for lock in locks_on(self.locks, path):
                add(lock.pid, f"{KERNEL_LOCK} {os.path.basename(path)} ({lock.kind.lower()})")
        named = self._by_value.get(real, set()) | self._by_value.get(os.path.abspath(session.path), set())
        if session.id not in GENERIC_IDS and len(session.id) >= 3:
            named = named | self._by_value.get(session.id, set())
        for pid in named:
            add(pid, NAMED)
        folder = real
        for _ in range(APP_LEVELS + 1):
            for pid in self._by_cwd.get(folder, []):
                add(pid, f"{CWD} ({folder})")
            folder = os.path.dirname(folder)
        return [self._holder(pid, why) for pid, why in sorted(evidence.items()) if pid in self.table.processes]

    def _holder(self, pid: int, evidence: list[str]) -> Holder:
        process = self.table.processes[pid]
        ordered = sorted(evidence, key=lambda e: next(i for i, s in enumerate(STRENGTH) if e.startswith(s)))
        return Holder(pid=pid, name=process.name, user=process.user, started=process.started,
                      cmdline=mask_cmdline(process.cmdline), container=container_of(pid), evidence=ordered)

    def independent(self, holders: Sequence[Holder]) -> list[Holder]:
        """Holders none of whose ancestors also hold the session: `npm start` and the node it
        spawned, or a browser and its helpers, are one holder; two such trees conflict."""
        pids = {h.pid for h in holders}
        return [h for h in holders if not pids.intersection(self.table.ancestors(h.pid))]


def _absolute(path: str, cwd: str | None) -> str:
    return os.path.realpath(os.path.join(cwd or "/", path))


def _named_values(process: ProcessInfo) -> Iterable[str]:
    """Arguments and environment values that may name a session: `--session=shop` gives
    `shop`, and a relative path is resolved against the process's working folder."""
    for value in (*process.cmdline[1:], *process.environ):
        if value.startswith("-") and "=" in value:
            value = value.partition("=")[2]
        if "/" in value and ":" not in value:  # a path; not PATH-like lists or URLs
            yield os.path.normpath(os.path.join(process.cwd or "/", value))
        elif value:
            yield value
