"""Which live processes hold which session, with the evidence for each, strongest first.

Built once per run from one process-table pass and one read of /proc/locks; each session is
then a few stats and dictionary look-ups, so a busy server costs one scan, not one per
session. Everything is matched by file identity (st_dev, st_ino), never by path text: a
gateway in a container sees its volume under another path than the host does.

Attribution follows how gateways are run. Managers and tools (holders/managers.py) hold
nothing. A process that names one session (its path anywhere, its id while it works in the
application folder) or launched the browser of one profile holds that one, not its
neighbours; only a process that names none is tied by its working folder to every session
below it, and that only by inference.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wadoctor.core.model import Holder, Session
from wadoctor.guard import GuardRecord, lock_path, read_record, record_is_stale
from wadoctor.holders.containers import container_of
from wadoctor.holders.evidence import CWD, GUARD, KERNEL_LOCK, LAUNCHED, NAMED, OPEN_FILE, USER_DATA_DIR, proves, rank
from wadoctor.holders.kernel_locks import KernelLock, locks_on, read_locks
from wadoctor.holders.managers import Role, managers_of, role_of
from wadoctor.holders.namespaces import FileId, as_seen_by, file_id, hostnames
from wadoctor.holders.processes import ProcessInfo, ProcessTable, scan_processes
from wadoctor.util.forked import running_workers
from wadoctor.util.masking import mask_cmdline

# how far above a session a guard lock or a gateway's working folder may be
APP_LEVELS = 3
# how far below a session folder an open file may be (Chromium: Default/IndexedDB/<origin>/LOG)
FOLDER_LEVELS = 8
# ids too common to tie a process to one session by name
GENERIC_IDS = frozenset({"session", "sessions", "default", "auth", "auth_info", "tokens", "store", "main"})
# How a gateway names a session folder after the id its code is given (whatsapp-web.js's
# LocalAuth: clientId `helpdesk` -> folder `session-helpdesk`); the bare id is the first form.
FOLDER_FORMS = ("{}", "session-{}")
# how far up the process tree a browser's launcher is looked for (through a shell at most)
LAUNCHER_LEVELS = 3
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
        # this process, what started it, and its own workers (the index may be built while
        # they read the sessions, holding their files open for a moment)
        self._own = {os.getpid(), *table.ancestors(os.getpid()), *running_workers()}
        self._roles: dict[int, Role | None] = {}
        # inverted indexes by file identity, so a session costs a few stats and look-ups
        self._open: dict[FileId, list[tuple[int, str]]] = {}  # open file -> (pid, seen path)
        self._open_under: dict[FileId, list[tuple[int, str, str]]] = {}  # folder -> (pid, below it, seen path)
        self._user_data_dirs: dict[FileId, list[int]] = {}
        self._launchers: dict[FileId, list[tuple[int, int]]] = {}  # profile -> (launcher, its browser)
        self._launched: dict[int, set[FileId]] = {}  # launcher -> profiles
        self._by_cwd: dict[FileId, list[int]] = {}
        self._by_value: dict[str, set[int]] = {}
        self._by_path: dict[FileId, set[int]] = {}
        self._words: dict[int, set[str]] = {}  # pid -> the bare words it names
        self._paths: dict[int, list[tuple[ProcessInfo, str]]] = {}  # pid -> the paths it names
        self._siblings: dict[str, set[str]] = {}  # folder -> its entries' names
        self._cwds: dict[int, FileId | None] = {}
        chains: dict[tuple[int, str], list[tuple[FileId, str]]] = {}
        self._named: dict[tuple[str | None, str], FileId | None] = {}
        for process in table.processes.values():
            for opened in process.open_files:
                self._open.setdefault(opened.file, []).append((process.pid, opened.path))
                folder, name = os.path.split(opened.path)
                for above, prefix in self._folders_above(process, folder, chains):
                    self._open_under.setdefault(above, []).append((process.pid, prefix + name, opened.path))
            if process.is_chromium_main:
                self._index_browser(process)
            if not self._may_hold(process.pid) or not process.is_runtime:
                continue
            if process.is_js_runtime and process.cwd and process.cwd != "/":
                cwd = self._cwd_id(process.pid)
                if cwd:
                    self._by_cwd.setdefault(cwd, []).append(process.pid)
            for value in _named_values(process):
                if "/" in value:
                    named = self._identity(process, value)
                    if named:
                        self._by_path.setdefault(named, set()).add(process.pid)
                        self._paths.setdefault(process.pid, []).append((process, value))
                elif len(value) >= 3 and value not in GENERIC_IDS:
                    self._by_value.setdefault(value, set()).add(process.pid)
                    self._words.setdefault(process.pid, set()).add(value)

    def role(self, pid: int) -> Role | None:
        """The process's role when it is a manager or a tool (never a holder), else None."""
        if pid not in self._roles:
            process = self.table.processes.get(pid)
            self._roles[pid] = role_of(process) if process is not None else None
        return self._roles[pid]

    def _visible(self, pid: int) -> bool:
        return pid > 0 and pid not in self._own and pid in self.table.processes

    def _may_hold(self, pid: int) -> bool:
        return self._visible(pid) and self.role(pid) is None

    def _index_browser(self, browser: ProcessInfo) -> None:
        """A Chromium's profile, and the client that launched it (whatsapp-web.js, WPPConnect
        and venom start the browser as their own child): both are proof of that profile."""
        profile = next((a.partition("=")[2] for a in browser.cmdline if a.startswith("--user-data-dir=")), "")
        folder_id = self._identity(browser, profile)
        if not folder_id:
            return
        self._user_data_dirs.setdefault(folder_id, []).append(browser.pid)
        for ancestor in list(self.table.ancestors(browser.pid))[:LAUNCHER_LEVELS]:
            role, process = self.role(ancestor), self.table.processes.get(ancestor)
            if role is None and process is not None and process.is_runtime:
                self._launchers.setdefault(folder_id, []).append((ancestor, browser.pid))
                self._launched.setdefault(ancestor, set()).add(folder_id)
                return
            if role is None or role.name != "shell":
                return

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

        def add(pid: int | None, why: str, chosen: bool = False) -> None:
            if not pid or not (self._may_hold(pid) or chosen and self._visible(pid)):
                return
            if why not in evidence.setdefault(pid, []):
                evidence[pid].append(why)

        for state in self.guards_over(session):  # `guard -- npm start` makes npm the lock's holder: it chose to be
            add(state.holder, f"{GUARD.prefix} ({state.path})", chosen=True)
        try:  # one stat: the session's identity and kind; its real path only where evidence names it
            st = os.stat(session.path)
        except OSError:
            st = None
        me = (st.st_dev, st.st_ino) if st is not None else None
        if st is not None and me is not None and stat.S_ISDIR(st.st_mode):
            real = os.path.realpath(session.path) if me in self._open_under else ""
            for pid, below, seen in self._open_under.get(me, []):
                shown = os.path.join(real, below)
                add(pid, f"{OPEN_FILE.prefix} {below}{self._seen_as(pid, seen, shown)}")
            for pid in self._user_data_dirs.get(me, []):
                add(pid, USER_DATA_DIR.prefix)
            for pid, browser in self._launchers.get(me, []):
                add(pid, f"{LAUNCHED.prefix} (pid {browser})")
            lock_files = [os.path.join(session.path, LEVELDB_LOCK)]
        else:
            real = os.path.realpath(session.path)  # a store's journals lie beside the real file
            lock_files = [real + suffix for suffix in LOCKED_FILES]
            for path in lock_files:
                opened = file_id(path)
                for pid, seen in self._open.get(opened, []) if opened else []:
                    add(pid, f"{OPEN_FILE.prefix} {os.path.basename(path)}{self._seen_as(pid, seen, path)}")
        for path in filter(os.path.exists, lock_files):
            for lock in locks_on(self.locks, path):
                add(lock.pid, f"{KERNEL_LOCK.prefix} {os.path.basename(path)} ({lock.kind.lower()})")
        if self._by_cwd or self._by_value or self._by_path:
            self._attribute(session, me, add)
        return [self._holder(pid, why) for pid, why in sorted(evidence.items())]

    def _attribute(self, session: Session, me: FileId | None, add: Callable[[int, str], None]) -> None:
        """Inferred holders: processes naming this session, then those working in its
        application folder that name no other session."""
        folder = os.path.realpath(session.path)
        parent = os.path.dirname(folder)
        app: list[tuple[str, FileId]] = []  # the session's folder and those above it
        for _ in range(APP_LEVELS + 1):
            found = file_id(folder)
            if found:
                app.append((folder, found))
            folder = os.path.dirname(folder)
        app_ids = {found for _, found in app}
        named = set(self._by_path.get(me, ())) if me else set()
        forms = _forms(session.id)
        for word in forms:
            named |= {pid for pid in self._by_value.get(word, ()) if self._cwd_id(pid) in app_ids}
        for pid in sorted(named):
            add(pid, NAMED.prefix)
        for where, found in app:
            for pid in self._by_cwd.get(found, []):
                if pid in named or not self._names_another(pid, me, parent, forms):
                    add(pid, f"{CWD.prefix} ({where}{self._seen_as(pid, '', where)})")

    def _cwd_id(self, pid: int) -> FileId | None:
        """A process's working folder by identity, stat'ed once per run."""
        if pid not in self._cwds:
            self._cwds[pid] = file_id(f"/proc/{pid}/cwd")
        return self._cwds[pid]

    def _names_another(self, pid: int, me: FileId | None, parent: str, forms: set[str]) -> bool:
        """Whether the process is tied to a sibling of this session instead: it launched the
        browser of another profile, or names a folder or an id beside this session."""
        if any(profile != me for profile in self._launched.get(pid, ())):
            return True
        siblings = self._entries(parent)
        if any(w not in forms and siblings.intersection(_forms(w)) for w in self._words.get(pid, ())):
            return True
        parent_id = file_id(parent)
        for process, value in self._paths.get(pid, []):
            named = self._identity(process, value)
            if named != me and self._identity(process, os.path.dirname(value.rstrip("/")) or ".") == parent_id:
                return True
        return False

    def _entries(self, folder: str) -> set[str]:
        if folder not in self._siblings:
            try:
                self._siblings[folder] = set(os.listdir(folder))
            except OSError:
                self._siblings[folder] = set()
        return self._siblings[folder]

    def _seen_as(self, pid: int, seen: str, host_path: str) -> str:
        """`; /app/x in its container` where the holder sees the path under another name."""
        process = self.table.processes.get(pid)
        if process is None or process.same_view:
            return ""
        seen = seen or process.cwd or ""
        return f"; {seen} in its container" if seen and seen != host_path else ""

    def _holder(self, pid: int, evidence: list[str]) -> Holder:
        process = self.table.processes[pid]
        container = container_of(pid, process.cgroup)
        rewritten = process.argv is not process.cmdline  # a title such as PM2 sets
        name = os.path.basename(process.exe) if rewritten and process.exe else process.name
        return Holder(pid=pid, name=name, user=process.user, started=process.started,
                      cmdline=mask_cmdline(process.argv), container=container, evidence=sorted(evidence, key=rank),
                      proof=proves(evidence), managers=managers_of(pid, self.table, self.role, container),
                      program=self._program(process, container), ancestors=tuple(self.table.ancestors(pid)))

    def _program(self, process: ProcessInfo, container: object) -> tuple[str, ...] | None:
        """What makes two processes instances of one program: executable, script, and where
        they run (working folder, or the container image)."""
        script = process.script
        if script is None:
            return None
        if script[1:2] != ":" and not script.startswith("/"):
            script = os.path.normpath(os.path.join(process.cwd or "/", script))
        image = getattr(container, "image", None)
        where = f"image {image}" if image else f"cwd {self._cwd_id(process.pid)}"
        return (process.exe or process.name, script, where)

    def hostname_holders(self, hostname: str) -> list[int]:
        """Live processes whose UTS hostname is `hostname` (a container's), asked on first need."""
        if self._hostnames is None:
            self._hostnames = hostnames(self.table.processes)
        return self._hostnames.get(hostname, [])


def _named_values(process: ProcessInfo) -> Iterable[str]:
    """Arguments and environment values that may name a session: `--session=shop` gives
    `shop`; a path (relative to the process's working folder) is resolved by the caller."""
    for value in (*process.argv[1:], *process.environ.values()):
        if value.startswith("-") and "=" in value:
            value = value.partition("=")[2]
        if value and not ("/" in value and ":" in value):  # not PATH-like lists or URLs
            yield value


def _forms(word: str) -> set[str]:
    """The folder names a gateway gives the session it calls `word`, and the reverse."""
    return {form.format(word) for form in FOLDER_FORMS} | {word.removeprefix("session-")}
