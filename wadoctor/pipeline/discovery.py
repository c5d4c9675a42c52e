"""Finding sessions under the paths a user names, without ever crashing on one of them.

Each directory is listed once; a directory that an adapter reads as a session is a leaf,
anything else is searched further down to `max_depth`. Symlinked directories met on the way
are not followed (no loops, no escaping the tree); a path named by the user is.

A folder that is a gateway's application folder is recognised on the way down, and each
session found is given its gateway and the name the gateway knows it by (wadoctor.gateways).

Reading a session costs one lstat per file, taken as its folder is listed (`list_folder`),
which is the whole price of a plain check; so the subfolders of a large folder of sessions
are read by worker processes, one per core.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from wadoctor.core.evidence import Crash
from wadoctor.core.model import Session
from wadoctor.gateways.detect import AppFolder, detect
from wadoctor.gateways.naming import HIDDEN_DIRS, Namer, gateway_file
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import describe_errno, describe_os_error, list_folder, read_head
from wadoctor.util.forked import ordered_map

# Folders that never hold sessions and can be huge.
SKIP_DIRS = frozenset({
    "node_modules", "__pycache__", "site-packages", "venv", "proc", "sys", "dev",
})
HEAD_BYTES = 256
FAN_OUT_MIN = 8  # subfolders per worker below which forking costs more than it saves


@dataclass(frozen=True)
class Problem:
    """A path that could not be searched: the scan is incomplete."""

    path: str
    message: str


class Discovery:
    def __init__(self, adapters: Sequence[StoreAdapter], max_depth: int, deep: bool = False,
                 workers: int = 1, apps: Sequence[AppFolder] = ()) -> None:
        self.adapters = adapters
        self.max_depth = max_depth
        self.deep = deep
        self.workers = workers
        self.problems: list[Problem] = []
        self._seen: set[str] = set()
        self._suffixes = tuple(s for a in adapters for s in a.file_suffixes)
        self._hidden = frozenset(h for a in adapters for h in a.hidden_dirs) | HIDDEN_DIRS
        self.apps: list[AppFolder] = list(apps)  # application folders recognised so far
        self._namer = Namer(self.apps)

    def sessions(self, paths: Sequence[Path]) -> Iterator[Session]:
        for path in paths:
            yield from self._start(path)

    def _problem(self, path: Path, message: str) -> None:
        self.problems.append(Problem(str(path), message))

    def _start(self, path: Path) -> Iterator[Session]:
        if path.name in ("", ".", ".."):
            path = Path(os.path.abspath(path))  # so that `check .` names the session, not ''
        try:
            is_dir = path.is_dir()
            exists = is_dir or path.exists()
        except OSError as exc:
            self._problem(path, describe_os_error(exc))
            return
        if not exists:
            self._problem(path, "no such file or directory")
        elif is_dir:
            yield from self._visit(path, 0)
        elif path.name == "creds.json":
            yield from self._visit(path.parent, self.max_depth)
        else:
            known = len(self.problems)
            found = list(self._file(path, explicit=True))
            if not found and len(self.problems) == known:
                self._problem(path, "not a session store wadoctor knows")
            yield from found

    def _visit(self, path: Path, depth: int) -> Iterator[Session]:
        key = os.path.realpath(path)
        if key in self._seen:
            return
        self._seen.add(key)
        try:
            listing = list_folder(path)
        except OSError as exc:
            self._problem(path, f"cannot read folder: {describe_os_error(exc)}")
            return
        for adapter in self.adapters:
            if adapter.claims_dir(path, listing):
                found = _guarded(adapter, path, lambda a=adapter: _listed(a.read_dir(path, listing, self.deep)))
                if found:
                    yield from self._named(found)
                    return
        app = detect(path, listing.every_name())
        if app is not None:
            self.apps.append(app)
        if depth >= self.max_depth:
            return
        for name, code in listing.failed:
            if code != errno.ENOENT:  # one gone since the listing is no loss
                self._problem(path / name, describe_errno(code))
        folders: list[Path] = []
        for name, mode in sorted(zip(listing.names, listing.modes)):
            if stat.S_ISDIR(mode):
                if name not in SKIP_DIRS and (not name.startswith(".") or name in self._hidden):
                    folders.append(path / name)
            elif stat.S_ISREG(mode) and name.endswith(self._suffixes) and not gateway_file(path / name):
                yield from self._file(path / name)
        if self.workers > 1 and len(folders) >= FAN_OUT_MIN * self.workers:
            yield from self._fan_out(folders, depth + 1)
        else:
            for folder in folders:
                yield from self._visit(folder, depth + 1)

    def _fan_out(self, folders: list[Path], depth: int) -> Iterator[Session]:
        """Visit subfolders in worker processes, in order, streaming their sessions back."""
        apps = tuple(self.apps)
        jobs = [(self.adapters, self.max_depth, self.deep, folder, depth, apps) for folder in folders]
        chunk = max(1, len(jobs) // (self.workers * 16))
        for sessions, problems, found in ordered_map(_visit_subtree, jobs, self.workers, chunk):
            self.problems.extend(problems)
            self.apps.extend(found)
            yield from sessions

    def _file(self, path: Path, explicit: bool = False) -> Iterator[Session]:
        """Sessions in a store file. A file the user named is read by the adapter its name
        points to even when its content is unrecognisable, so that damage is reported."""
        try:
            head = read_head(path, HEAD_BYTES)
        except OSError as exc:
            self._problem(path, f"cannot read: {describe_os_error(exc)}")
            return
        by_name = [a for a in self.adapters if explicit and path.name.endswith(a.file_suffixes)]
        for adapter in [a for a in self.adapters if a.match_file(path, head)] or by_name[:1]:
            key = os.path.realpath(path)
            if key not in self._seen:
                self._seen.add(key)
                yield from self._named(_guarded(adapter, path, lambda a=adapter: list(a.read_file(path, self.deep))))
            return

    def _named(self, sessions: list[Session]) -> list[Session]:
        for session in sessions:
            self._namer.name(session)
        return sessions


def _visit_subtree(job: tuple[Sequence[StoreAdapter], int, bool, Path, int, tuple[AppFolder, ...]],
                   ) -> tuple[list[Session], list[Problem], list[AppFolder]]:
    """Worker: everything found below one folder, and the application folders met there."""
    adapters, max_depth, deep, path, depth, apps = job
    discovery = Discovery(adapters, max_depth, deep, apps=apps)
    sessions = list(discovery._visit(path, depth))
    return sessions, discovery.problems, discovery.apps[len(apps):]


def _listed(session: Session | None) -> list[Session]:
    return [] if session is None else [session]


def _guarded(adapter: StoreAdapter, path: Path, read: Callable[[], list[Session]]) -> list[Session]:
    """Run an adapter; a bug in it becomes a check-crashed session, never a dead scan."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - any adapter bug must not end the run
        import traceback  # only for a crash

        session = Session(id=path.name, path=path, format=adapter.format)
        session.observe(
            "check-crashed",
            f"reading the {adapter.format} store failed: {type(exc).__name__}: {exc}",
            Crash(tuple(traceback.format_exc(limit=-3).splitlines())),
        )
        return [session]
