"""The quarantine: where every destructive action puts what it takes, with a manifest.

An entry is `<root>/.wadoctor/quarantine/<id>/` on the session's own filesystem, holding
`manifest.toml` and the moved paths under `files/`. The steps are ordered so that a kill at
any point loses nothing: the manifest (every planned item with its size and hash) is written
and fsynced before the first move; each move is one rename(2), atomic; the manifest is marked
complete last. So every original byte is always either where it was or in an entry whose
manifest names it, and `restore` puts back whatever an entry holds.

Gateway users own the roots, so nothing in them is taken on trust (wadoctor/trusted.py):
wadoctor's folders and manifests must be its user's (or root's) and private, a manifest may
name only paths inside its entry and its root, and every walk to a path opens folder after
folder without following a link. Every entry of one run shares a run id.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from wadoctor import __version__
from wadoctor.repair.safety import Refused, check_inside, file_safe
from wadoctor.util.errors import WadoctorError
from wadoctor.util.trusted import Untrusted, exists, read_private, rename_noreplace, replace_private, walk

STATE_DIR = ".wadoctor"
MANIFEST = "manifest.toml"


def quarantine_root(root: Path) -> Path:
    return root / STATE_DIR / "quarantine"


def own_mount(folder: Path) -> bool:
    """A folder that is a filesystem of its own (a Docker volume or a Kubernetes PVC mounted per
    session): nothing can be renamed out of it, nor the folder itself be moved."""
    try:
        return folder.is_dir() and not folder.is_symlink() and folder.stat().st_dev != folder.parent.stat().st_dev
    except OSError:
        return False


def state_root(path: Path) -> Path:
    """The folder whose `.wadoctor/` keeps the quarantine and the backups of a session's `path`:
    the folder beside it, or, where the session is a mount of its own, the session folder
    itself (a hidden folder, which gateways ignore). Either way on the same filesystem as what
    it holds, so every move is a rename."""
    return path if own_mount(path) else path.parent


def whole(path: Path, reason: str) -> list[tuple[Path, str]]:
    """The paths that quarantine a whole session: the folder, or its contents where it is a mount."""
    if not own_mount(path):
        return [(path, reason)]
    return [(child, reason) for child in sorted(path.iterdir()) if child.name != STATE_DIR]


@dataclass
class Item:
    original: str  # absolute, under the entry's root
    stored: str  # `files/<name>`, relative to the entry
    kind: str  # file, symlink, dir
    size: int
    sha256: str | None
    reason: str


class BadManifest(WadoctorError):
    """A manifest that points outside its entry or its root: never acted on."""


MANIFEST_CAP = 4 << 20
_STORED = re.compile(r"files/(?!\.\.?$)[^/\x00]+")


@dataclass
class Entry:
    root: Path  # the folder whose .wadoctor/quarantine holds it, absolute
    id: str
    created: datetime
    session: str
    reason: str
    state: str  # pending until every move is done, then complete
    run: str  # the fix, clean or clean-all run that made it: restore --last undoes a whole run
    items: list[Item] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return quarantine_root(self.root) / self.id

    def to_toml(self) -> dict[str, Any]:
        return {
            "id": self.id, "created": self.created, "wadoctor": __version__, "session": self.session,
            "root": str(self.root), "run": self.run, "reason": self.reason, "state": self.state,
            "items": [{k: v for k, v in vars(item).items() if v is not None} for item in self.items],
        }

    @classmethod
    def load(cls, root: Path, name: str) -> Entry:
        """An entry as its manifest says, refused unless wadoctor's user wrote it and every path
        in it stays inside the entry (`stored`) and inside the root it is kept under (`original`)."""
        with walk(root, (STATE_DIR, "quarantine", name), private=True) as folder:
            raw = read_private(MANIFEST, folder, root / STATE_DIR / "quarantine" / name / MANIFEST, MANIFEST_CAP)
        try:
            data = tomllib.loads(raw.decode())
            entry = cls(root, data["id"], data["created"], data["session"], data["reason"], data["state"],
                        str(data.get("run") or data["id"]),
                        [Item(**{"sha256": None, **item}) for item in data.get("items", [])])
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
            raise BadManifest(f"{name}: unreadable manifest ({exc})") from None
        if entry.id != name or Path(str(data.get("root"))) != root or not isinstance(entry.created, datetime):
            raise BadManifest(f"{name}: its manifest names another entry or root: refused")
        for item in entry.items:
            original = Path(item.original)
            if not _STORED.fullmatch(item.stored):
                raise BadManifest(f"{name}: stored path {item.stored!r} leaves the entry: refused")
            if not original.is_absolute() or ".." in original.parts or root not in original.parents:
                raise BadManifest(f"{name}: original {item.original!r} is not under {root}: refused")
        return entry

    @property
    def bytes(self) -> int:
        return sum(item.size for item in self.items)

    def write_manifest(self, folder: int) -> None:
        """Replace the manifest in the entry's folder atomically and durably."""
        replace_private(MANIFEST, folder, tomli_w.dumps(self.to_toml()).encode())


def new_run() -> str:
    """The id every entry of one run shares (one fix, clean, clean-all or restore), made once
    per run, not per process: a long-lived process (a test, `watch`) makes many runs."""
    return f"run-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.urandom(3).hex()}"


def _describe(path: Path) -> tuple[str, int, str | None]:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return "symlink", 0, None
    if stat.S_ISDIR(st.st_mode):
        total = sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
        return "dir", total, None
    digest = hashlib.sha256()
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "file", st.st_size, digest.hexdigest()


def _os_error(action: str, path: Path, exc: OSError) -> WadoctorError:
    if exc.errno == errno.EXDEV:
        return Refused(f"cannot {action} {path}: the quarantine is on another filesystem "
                       "(wadoctor moves, never copies)")
    return WadoctorError(f"cannot {action} {path}: {exc.strerror}; nothing was lost, it is still in place")


def _below(root: Path, path: Path) -> tuple[str, ...]:
    """The folders from `root` down to `path`'s folder, as names."""
    return Path(path).parent.relative_to(root).parts


def quarantine(root: Path, session: str, reason: str, paths: list[tuple[Path, str]], run: str,
               replacements: dict[Path, Path] | None = None) -> Entry:
    """Move `paths` (each with its reason) from under `root` into a new quarantine entry.

    A path with a replacement (a restored creds.json, a salvaged store) is never missing:
    its bytes are hard-linked into the entry, then the replacement is renamed over it."""
    replacements = replacements or {}
    root = Path(os.path.abspath(root))
    for path, _ in paths:
        check_inside(root, path)
    stamp = datetime.now(UTC)
    entry_id = f"{stamp:%Y%m%dT%H%M%SZ}-{file_safe(session)}-{os.urandom(3).hex()}"
    entry = Entry(root, entry_id, stamp, session, reason, "pending", run)
    try:
        with walk(root, (STATE_DIR, "quarantine"), private=True, create=True) as quarantined:
            os.mkdir(entry_id, 0o700, dir_fd=quarantined)
            with walk(root, (STATE_DIR, "quarantine", entry_id), private=True) as folder:
                os.mkdir("files", 0o700, dir_fd=folder)
                for index, (path, why) in enumerate(paths):
                    kind, size, digest = _describe(Path(os.path.abspath(path)))
                    entry.items.append(Item(os.path.abspath(path), f"files/{index:04d}-{Path(path).name}", kind,
                                            size, digest, why))
                entry.write_manifest(folder)
    except OSError as exc:
        raise _os_error("prepare the quarantine for", root, exc) from None
    with walk(root, (STATE_DIR, "quarantine", entry_id, "files"), private=True) as files:
        for item in entry.items:
            original = Path(item.original)
            stored = item.stored.partition("/")[2]
            try:
                with walk(root, _below(root, original)) as parent:
                    if original in replacements:
                        os.link(original.name, stored, src_dir_fd=parent, dst_dir_fd=files, follow_symlinks=False)
                        os.replace(replacements[original], original)
                    else:
                        rename_noreplace(original.name, parent, stored, files)
                    os.fsync(parent)
            except OSError as exc:
                raise _os_error("move", original, exc) from None
        os.fsync(files)
    with walk(root, (STATE_DIR, "quarantine", entry_id), private=True) as folder:
        entry.state = "complete"
        entry.write_manifest(folder)
    return entry


def state_roots(paths: list[Path], max_depth: int) -> list[Path]:
    """Folders at or below `paths` (and their parents: a session's quarantine is beside it)
    that hold a quarantine."""
    found: set[Path] = set()
    for start in paths:
        start = Path(os.path.abspath(start))
        for candidate in (start, start.parent):
            if os.path.lexists(quarantine_root(candidate)):
                found.add(candidate)
        for folder, dirs, _ in os.walk(start):
            depth = len(Path(folder).relative_to(start).parts)
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "node_modules" and depth < max_depth]
            if os.path.lexists(quarantine_root(Path(folder))):
                found.add(Path(folder))
    return sorted(found)


def entries(roots: list[Path], problems: list[str] | None = None) -> list[Entry]:
    """Every quarantine entry under the roots that wadoctor can trust, oldest first; each one
    refused (a link, another owner, a manifest pointing elsewhere) is said in `problems`."""
    found: list[Entry] = []
    for root in roots:
        root = Path(os.path.abspath(root))
        try:
            with walk(root, (STATE_DIR, "quarantine"), private=True) as folder:
                names = os.listdir(folder)
        except FileNotFoundError:
            continue
        except (Untrusted, OSError) as exc:
            if problems is not None:
                problems.append(str(exc) if isinstance(exc, Untrusted) else f"{quarantine_root(root)}: {exc.strerror}")
            continue
        for name in names:
            try:
                found.append(Entry.load(root, name))
            except (Untrusted, BadManifest) as exc:
                if problems is not None:
                    problems.append(str(exc))
            except OSError as exc:
                if problems is not None:
                    problems.append(f"{quarantine_root(root) / name}: {exc.strerror}")
    return sorted(found, key=lambda e: (e.created, e.id))


@dataclass
class RestoreResult:
    restored: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the original path exists again
    missing: list[str] = field(default_factory=list)  # never moved (an interrupted entry)


def restore(entry: Entry, run: str, force: bool = False) -> RestoreResult:
    """Put an entry's paths back, folder by folder from its root without following a link. A
    path that has reappeared is left alone unless `force` (then the newcomer is quarantined in
    turn, in the restore's own `run`, so nothing is lost either way)."""
    result = RestoreResult()
    with walk(entry.root, (STATE_DIR, "quarantine", entry.id, "files"), private=True) as files:
        for item in reversed(entry.items):
            stored, original = item.stored.partition("/")[2], Path(item.original)
            if not exists(stored, files):
                result.missing.append(item.original)
                continue
            try:
                with walk(entry.root, _below(entry.root, original), create=True, mode=0o755) as parent:
                    if exists(original.name, parent):
                        if not force:
                            result.refused.append(item.original)
                            continue
                        quarantine(entry.root, entry.session, f"replaced by restore of {entry.id}",
                                   [(original, "was in the way of a restore")], run)
                    rename_noreplace(stored, files, original.name, parent)
                    os.fsync(parent)
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    result.refused.append(item.original)
                    continue
                raise _os_error("restore", original, exc) from None
            result.restored.append(item.original)
        left = any(exists(i.stored.partition("/")[2], files) for i in entry.items)
    if not result.refused and not left:
        with walk(entry.root, (STATE_DIR, "quarantine"), private=True) as folder:
            shutil.rmtree(entry.id, dir_fd=folder)
    return result


def purge(found: list[Entry]) -> None:
    """Delete entries: the only step that really deletes, each relative to its quarantine
    folder's descriptor (shutil.rmtree with dir_fd never follows a link)."""
    for entry in found:
        with walk(entry.root, (STATE_DIR, "quarantine"), private=True) as folder:
            if not stat.S_ISDIR(os.stat(entry.id, dir_fd=folder, follow_symlinks=False).st_mode):
                raise Untrusted(f"{entry.path} is not a folder: refused")
            shutil.rmtree(entry.id, dir_fd=folder)
