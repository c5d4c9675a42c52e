"""The quarantine: where every destructive action puts what it takes, with a manifest.

An entry is `<root>/.wadoctor/quarantine/<id>/` on the session's own filesystem, holding
`manifest.toml` and the moved paths under `files/`. The steps are ordered so that a kill at
any point loses nothing: the manifest (every planned item with its size and hash) is written
and fsynced before the first move; each move is one rename(2), atomic; the manifest is marked
complete last. So every original byte is always either where it was or in an entry whose
manifest names it, and `restore` puts back whatever an entry holds.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import tomli_w

from wadoctor import __version__
from wadoctor.errors import WadoctorError
from wadoctor.repair.safety import Refused, check_inside, fsync_dir

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
    original: str
    stored: str  # relative to the entry
    kind: str  # file, symlink, dir
    size: int
    sha256: str | None
    reason: str


@dataclass
class Entry:
    path: Path
    id: str
    created: datetime
    session: str
    root: str
    reason: str
    state: str  # pending until every move is done, then complete
    items: list[Item] = field(default_factory=list)

    def to_toml(self) -> dict[str, Any]:
        return {
            "id": self.id, "created": self.created, "wadoctor": __version__, "session": self.session,
            "root": self.root, "reason": self.reason, "state": self.state,
            "items": [{k: v for k, v in vars(item).items() if v is not None} for item in self.items],
        }

    @classmethod
    def load(cls, path: Path) -> Entry:
        with open(path / MANIFEST, "rb") as handle:
            data = tomllib.load(handle)
        items = [Item(**{"sha256": None, **raw}) for raw in data.get("items", [])]
        return cls(path, data["id"], data["created"], data["session"], data["root"], data["reason"],
                   data["state"], items)

    @property
    def bytes(self) -> int:
        return sum(item.size for item in self.items)

    def write_manifest(self) -> None:
        """Replace the manifest atomically and durably."""
        temp = self.path / f".{MANIFEST}.tmp"
        with open(temp, "wb") as handle:
            tomli_w.dump(self.to_toml(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path / MANIFEST)
        fsync_dir(self.path)


def _describe(path: Path) -> tuple[str, int, str | None]:
    st = path.lstat()
    if os.path.islink(path):
        return "symlink", 0, None
    if path.is_dir():
        total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
        return "dir", total, None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "file", st.st_size, digest.hexdigest()


def _os_error(action: str, path: Path, exc: OSError) -> WadoctorError:
    if exc.errno == errno.EXDEV:
        return Refused(f"cannot {action} {path}: the quarantine is on another filesystem (wadoctor moves, never copies)")
    return WadoctorError(f"cannot {action} {path}: {exc.strerror}; nothing was lost, it is still in place")


def quarantine(root: Path, session: str, reason: str, paths: list[tuple[Path, str]],
               replacements: dict[Path, Path] | None = None) -> Entry:
    """Move `paths` (each with its reason) from under `root` into a new quarantine entry.

    A path with a replacement (a restored creds.json, a salvaged store) is never missing:
    its bytes are hard-linked into the entry, then the replacement is renamed over it."""
    replacements = replacements or {}
    root = Path(os.path.abspath(root))
    for path, _ in paths:
        check_inside(root, path)
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    entry_id = f"{stamp:%Y%m%dT%H%M%SZ}-{session.replace('/', '_')}-{os.urandom(3).hex()}"
    entry = Entry(quarantine_root(root) / entry_id, entry_id, stamp, session, str(root), reason, "pending")
    try:
        (entry.path / "files").mkdir(parents=True)
        for index, (path, why) in enumerate(paths):
            kind, size, digest = _describe(path)
            stored = f"files/{index:04d}-{path.name}"
            entry.items.append(Item(str(path), stored, kind, size, digest, why))
        entry.write_manifest()
    except OSError as exc:
        shutil.rmtree(entry.path, ignore_errors=True)
        raise _os_error("prepare the quarantine for", root, exc) from None
    moved_from: set[Path] = set()
    for item in entry.items:
        original = Path(item.original)
        try:
            if original in replacements:
                os.link(original, entry.path / item.stored, follow_symlinks=False)
                os.replace(replacements[original], original)
            else:
                os.rename(original, entry.path / item.stored)
        except OSError as exc:
            raise _os_error("move", original, exc) from None
        moved_from.add(original.parent)
    for folder in (*moved_from, entry.path / "files"):
        fsync_dir(folder)
    entry.state = "complete"
    entry.write_manifest()
    return entry


def state_roots(paths: list[Path], max_depth: int) -> list[Path]:
    """Folders at or below `paths` (and their parents: a session's quarantine is beside it)
    that hold a quarantine."""
    found: set[Path] = set()
    for start in paths:
        start = Path(os.path.abspath(start))
        for candidate in (start, start.parent):
            if quarantine_root(candidate).is_dir():
                found.add(candidate)
        for folder, dirs, _ in os.walk(start):
            depth = len(Path(folder).relative_to(start).parts)
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "node_modules" and depth < max_depth]
            if quarantine_root(Path(folder)).is_dir():
                found.add(Path(folder))
    return sorted(found)


def entries(roots: list[Path]) -> list[Entry]:
    """Every quarantine entry under the roots, oldest first; unreadable manifests are skipped."""
    found: list[Entry] = []
    for root in roots:
        folder = quarantine_root(Path(os.path.abspath(root)))
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                found.append(Entry.load(path))
            except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
                continue
    return sorted(found, key=lambda e: (e.created, e.id))


@dataclass
class RestoreResult:
    restored: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the original path exists again
    missing: list[str] = field(default_factory=list)  # never moved (an interrupted entry)


def restore(entry: Entry, force: bool = False) -> RestoreResult:
    """Put an entry's paths back. A path that has reappeared is left alone unless `force`
    (then the newcomer is quarantined in turn, so nothing is lost either way)."""
    result = RestoreResult()
    for item in reversed(entry.items):
        stored, original = entry.path / item.stored, Path(item.original)
        if not os.path.lexists(stored):
            result.missing.append(item.original)
            continue
        if os.path.lexists(original):
            if not force:
                result.refused.append(item.original)
                continue
            quarantine(Path(entry.root), entry.session, f"replaced by restore of {entry.id}",
                       [(original, "was in the way of a restore")])
        try:
            original.parent.mkdir(parents=True, exist_ok=True)
            os.rename(stored, original)
        except OSError as exc:
            raise _os_error("restore", original, exc) from None
        fsync_dir(original.parent)
        result.restored.append(item.original)
    if not result.refused and not any(os.path.lexists(entry.path / i.stored) for i in entry.items):
        shutil.rmtree(entry.path)
    return result


def purge(roots: list[Path], older_than_seconds: float) -> list[Entry]:
    """Delete entries older than the age; the only step that really deletes."""
    cutoff = time.time() - older_than_seconds
    gone = [e for e in entries(roots) if e.created.timestamp() < cutoff]
    for entry in gone:
        shutil.rmtree(entry.path)
    return gone
