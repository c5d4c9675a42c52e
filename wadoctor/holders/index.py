"""Which live processes hold which session, with the evidence for each, strongest first.

Built once per run from one process-table pass and one read of /proc/locks; each session is
then a few stats and dictionary look-ups, so a busy server costs one scan, not one per
session. Everything is matched by file identity (st_dev, st_ino), never by path text: a
gateway in a container sees its volume under another path than the host does.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wadoctor.guard import GuardRecord, lock_path, read_record, record_is_stale
from wadoctor.holders.kernel_locks import KernelLock, locks_on, read_locks
from wadoctor.holders.containers import container_of
from wadoctor.holders.namespaces import FileId, as_seen_by, file_id, hostnames
from wadoctor.holders.processes import ProcessInfo, ProcessTable, scan_processes
from wadoctor.masking import mask_cmdline
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
# how far below a session folder an open file may be (Chromium: Default/IndexedDB/<origin>/LOG)
FOLDER_LEVELS = 8
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
        self._guards: dict[str, GuardState | None] = {}  # by target
        self._hostnames: dict[str, list[int]] | None = None
        self._own = {os.getpid(), *table.ancestors(os.getpid())}
        # inverted indexes by file identity, so a session costs a few stats and look-ups
        self._open: dict[FileId, list[tuple[int, str]]] = {}  # open file -> (pid, seen path)
        self._open_under: dict[FileId, list[tuple[int, str, str]]] = {}  # folder -> (pid, below it, seen path)
        self._user_data_dirs: dict[FileId, list[int]] = {}
        self._by_cwd: dict[FileId, list[int]] = {}
        self._by_value: dict[str, set[int]] = {}
        self._by_path: dict[FileId, set[int]] = {}
        chains: dict[tuple[int, str], list[tuple[FileId, str]]] = {}
        self._named: dict[tuple[str | None, str], FileId | None] = {}
        for process in table.processes.values():
            for opened in process.open_files:
                self._open.setdefault(opened.file, []).append((process.pid, opened.path))
                folder, name = os.path.split(opened.path)
                for above, prefix in self._folders_above(process, folder, chains):
                    self._open_under.setdefault(above, []).append((process.pid, prefix + name, opened.path))
            if process.is_chromium_main:
                for arg in process.cmdline:
                    if arg.startswith("--user-data-dir="):
                        folder_id = self._identity(process, arg.partition("=")[2])
                        if folder_id:
                            self._user_data_dirs.setdefault(folder_id, []).append(process.pid)
            if process.pid in self._own or not process.is_runtime:
                continue
            if process.is_js_runtime and process.cwd and process.cwd != "/":
                cwd = file_id(f"/proc/{process.pid}/cwd")
                if cwd:
                    self._by_cwd.setdefault(cwd, []).append(process.pid)
            for value in _named_values(process):
                if "/" in value:
                    named = self._identity(process, value)
                    if named:
                        self._by_path.setdefault(named, set()).add(process.pid)
                else:
                    self._by_value.setdefault(value, set()).add(process.pid)

    def _identity(self, process: ProcessInfo, path: str) -> FileId | None:
        """A path a process names, resolved as that process sees it (processes that see the
        filesystem as we do share one cache: a hundred workers name the same few paths)."""
        cwd = None if path.startswith("/") else process.cwd or "/"
        if not process.same_view:
            return file_id(as_seen_by(process.pid, path, cwd or "/"))
        key = (cwd, path)
        if key not in self._named:
            self._named[key] = file_id(os.path.join(cwd or "/", path))
        return self._named[key]

    @staticmethod
    def _folders_above(process: ProcessInfo, folder: str,
                       chains: dict[tuple[int, str], list[tuple[FileId, str]]]) -> list[tuple[FileId, str]]:
        """The identities of a folder and those above it, each with the path from it down to
        the folder: an open file is indexed under each, so a session folder finds the
        descriptors below it whatever path the holder's container uses. One chain per folder."""
        view = 0 if process.same_view else process.pid
        key = (view, folder)
        if key not in chains:
            chain: list[tuple[FileId, str]] = []
            prefix, current = "", folder
            for _ in range(FOLDER_LEVELS):
                found = file_id(current if view == 0 else as_seen_by(process.pid, current))
                if found is not None:
                    chain.append((found, prefix))
                if current in ("/", ""):
                    break
                prefix = f"{os.path.basename(current)}/{prefix}"
                current = os.path.dirname(current)
            chains[key] = chain
        return chains[key]

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

    def guard_state(self, folder_or_file: Path | str) -> GuardState | None:
        """The guard lock of a session folder, a store file or a sessions root, if any: read
        once per target, so a thousand sessions of one root read the root's lock once."""
        key = str(folder_or_file)
        if key not in self._guards:
            path = lock_path(Path(key))
            if not path.is_file():
                self._guards[key] = None
            else:
                holders = [lock.pid for lock in locks_on(self.locks, str(path)) if lock.kind == "FLOCK"]
                record = read_record(path)
                stale = record_is_stale(record) if record and not holders else None
                self._guards[key] = GuardState(path, record, holders[0] if holders else None, stale)
        return self._guards[key]

    def guards_over(self, session: Session) -> list[GuardState]:
        """Guard locks of the session itself and of the folders above it."""
        targets = [str(session.path)]  # as Path.parents names them, without a Path per folder
        for _ in range(APP_LEVELS):
            above = os.path.dirname(targets[-1]) or "."
            if above == targets[-1]:
                break
            targets.append(above)
        return [state for state in map(self.guard_state, targets) if state is not None]

    def holders(self, session: Session) -> list[Holder]:
        evidence: dict[int, list[str]] = {}

        def add(pid: int | None, why: str) -> None:
            if pid and pid > 0 and pid not in self._own and why not in evidence.setdefault(pid, []):
                evidence[pid].append(why)

        for state in self.guards_over(session):
            add(state.holder, f"{GUARD} ({state.path})")
        try:  # one stat: the session's identity and kind; its real path only where evidence names it
            st = os.stat(session.path)
        except OSError:
            st = None
        me = (st.st_dev, st.st_ino) if st is not None else None
        if st is not None and stat.S_ISDIR(st.st_mode):
            for pid, below, seen in self._open_under.get(me, []):
                shown = os.path.join(os.path.realpath(session.path), below)
                add(pid, f"{OPEN_FILE} {below}{self._seen_as(pid, seen, shown)}")
            for pid in self._user_data_dirs.get(me, []):
                add(pid, USER_DATA_DIR)
            lock_files = [os.path.join(session.path, LEVELDB_LOCK)]
        else:
            real = os.path.realpath(session.path)  # a store's journals lie beside the real file
            lock_files = [real + suffix for suffix in LOCKED_FILES]
            for path in lock_files:
                opened = file_id(path)
                for pid, seen in self._open.get(opened, []) if opened else []:
                    add(pid, f"{OPEN_FILE} {os.path.basename(path)}{self._seen_as(pid, seen, path)}")
        for path in filter(os.path.exists, lock_files):
            for lock in locks_on(self.locks, path):
                add(lock.pid, f"{KERNEL_LOCK} {os.path.basename(path)} ({lock.kind.lower()})")
        named = set(self._by_path.get(me, ()))
        if session.id not in GENERIC_IDS and len(session.id) >= 3:
            named |= self._by_value.get(session.id, set())
        for pid in named:
            add(pid, NAMED)
        if self._by_cwd:  # the working folders of gateways: the session's own and those above it
            folder = os.path.realpath(session.path)
            for _ in range(APP_LEVELS + 1):
                for pid in self._by_cwd.get(file_id(folder) or (-1, -1), []):
                    add(pid, f"{CWD} ({folder}{self._seen_as(pid, '', folder)})")
                folder = os.path.dirname(folder)
        return [self._holder(pid, why) for pid, why in sorted(evidence.items()) if pid in self.table.processes]

    def _seen_as(self, pid: int, seen: str, host_path: str) -> str:
        """`; /app/x in its container` where the holder sees the path under another name."""
        process = self.table.processes.get(pid)
        if process is None or process.same_view:
            return ""
        seen = seen or process.cwd or ""
        return f"; {seen} in its container" if seen and seen != host_path else ""

    def _holder(self, pid: int, evidence: list[str]) -> Holder:
        process = self.table.processes[pid]
        ordered = sorted(evidence, key=lambda e: next(i for i, s in enumerate(STRENGTH) if e.startswith(s)))
        return Holder(pid=pid, name=process.name, user=process.user, started=process.started,
                      cmdline=mask_cmdline(process.cmdline), container=container_of(pid), evidence=ordered)

    def hostname_holders(self, hostname: str) -> list[int]:
        """Live processes whose UTS hostname is `hostname` (a container's), asked on first need."""
        if self._hostnames is None:
            self._hostnames = hostnames(self.table.processes)
        return self._hostnames.get(hostname, [])

    def independent(self, holders: Sequence[Holder]) -> list[Holder]:
        """Holders none of whose ancestors also hold the session: `npm start` and the node it
        spawned, or a browser and its helpers, are one holder; two such trees conflict."""
        pids = {h.pid for h in holders}
        return [h for h in holders if not pids.intersection(self.table.ancestors(h.pid))]


def _named_values(process: ProcessInfo) -> Iterable[str]:
    """Arguments and environment values that may name a session: `--session=shop` gives
    `shop`; a path (relative to the process's working folder) is resolved by the caller."""
    for value in (*process.cmdline[1:], *process.environ):
        if value.startswith("-") and "=" in value:
            value = value.partition("=")[2]
        if value and not ("/" in value and ":" in value):  # not PATH-like lists or URLs
            yield value
