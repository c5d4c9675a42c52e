"""The rules every destructive step obeys before it touches a path."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from wadoctor.util.errors import WadoctorError


class Refused(WadoctorError):
    """A move wadoctor will not make (a link out of the root, another filesystem...)."""


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (a crash after this cannot undo it)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


SAFE_LENGTH = 64


def file_safe(name: str) -> str:
    """A name from outside (an instance name, a Redis key) as one harmless file-name part: it can
    neither climb out of its folder, nor hide as a dot file, nor outgrow a file name (a NUL, a
    slash or 250 characters); a name that had to change keeps a digest of itself, so two names
    never share one part."""
    safe = _UNSAFE.sub("_", name).lstrip(".") or "_"
    if safe == name and len(name) <= SAFE_LENGTH:
        return name
    digest = hashlib.sha256(name.encode(errors="surrogateescape")).hexdigest()[:8]
    return f"{safe[:SAFE_LENGTH]}-{digest}"


def write_synced(path: Path, data: bytes | Iterable[bytes]) -> Path:
    """Write a new private (0600) file and fsync it; the caller renames it into place. The
    file must not exist: what a killed run left at a name is never overwritten (callers make
    each name unique, and the leftover is found and quarantined like any other). `data` may
    come in pieces (metrics of a million sessions)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.writelines([data] if isinstance(data, bytes) else data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def check_inside(root: Path, path: Path) -> None:
    """Refuse a path that is not inside `root` through real folders: no component between the
    root and the path may be a symlink, and the root itself may not be one. The path itself
    may be a link: it is moved as a link, never followed."""
    root = Path(os.path.abspath(root))
    path = Path(os.path.abspath(path))
    if root.is_symlink():
        raise Refused(f"{root} is a symbolic link; wadoctor does not act through links")
    if root != path and root not in path.parents:
        raise Refused(f"{path} is outside {root}")
    for folder in [*reversed(path.parents)][len(root.parents) + 1:] if root != path else []:
        if folder.is_symlink():
            raise Refused(f"{folder} is a symbolic link; wadoctor does not act through links")

