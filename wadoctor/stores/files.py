"""Reading store files without following links, blocking on a FIFO or swallowing a huge file."""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple


class TooLarge(OSError):
    """A file far larger than anything the library writes for it."""


def tree_footprint(path: Path) -> tuple[int, int, float]:
    """(files, bytes, newest mtime) below a folder, links counted and not followed; the
    folder's own mtime stands for an empty one. Unreadable parts are skipped: a footprint."""
    files = size = 0
    try:
        newest = os.lstat(path).st_mtime
    except OSError:
        newest = 0.0
    for folder, _dirs, names in os.walk(path, onerror=lambda exc: None):
        for name in names:
            try:
                st = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            files, size, newest = files + 1, size + st.st_size, max(newest, st.st_mtime)
    return files, size, newest


class Listing(NamedTuple):
    """A folder's entries in listing order with the lstat fields a check judges, for each
    that could be lstat'ed; and (name, errno) for each that could not (gone since, say)."""

    names: list[str]
    modes: list[int]
    sizes: list[int]
    mtimes: list[float]
    failed: list[tuple[str, int]]

    @property
    def empty(self) -> bool:
        return not self.names and not self.failed

    def every_name(self) -> Iterator[str]:
        """Every name listed, lstat'ed or not: what recognising a store by its names reads."""
        yield from self.names
        for name, _ in self.failed:
            yield name


_FILE_NAMES = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()  # as os.fsencode


def _lstat_names(folder: int, names: list[str]) -> Listing:
    """The lstat of each name in the open folder, with os.stat, where the C helper was not
    built (no compiler at install). The names are encoded all at once: os.stat encoding each
    one cost a quarter of the lstat."""
    encoded = "\0".join(names).encode(*_FILE_NAMES).split(b"\0") if names else []  # no name holds a NUL
    kept, stats, failed = names, [], []
    try:
        stats = [os.stat(name, dir_fd=folder, follow_symlinks=False) for name in encoded]
    except OSError:
        kept, stats = [], []
        for name, raw in zip(names, encoded):
            try:
                stats.append(os.stat(raw, dir_fd=folder, follow_symlinks=False))
            except OSError as exc:
                failed.append((name, exc.errno or errno.EIO))
                continue
            kept.append(name)
    return Listing(kept, [s.st_mode for s in stats], [s.st_size for s in stats], [s.st_mtime for s in stats],
                   failed)


def _list_folder(path: Path) -> Listing:
    """list_folder in Python: os.listdir, then an lstat of each name in the open folder."""
    folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return _lstat_names(folder, os.listdir(folder))
    finally:
        os.close(folder)


try:  # the C helper (wadoctor/stores/_speedups.c): a third of a plain check's CPU
    from wadoctor.stores._speedups import list_folder as _native_list_folder
except ImportError:
    _native_list_folder = None


def list_folder(path: Path) -> Listing:
    """A folder's entries, each lstat'ed (links not followed): the whole price of a plain
    check, so read in one pass in C where the helper was built. Raises OSError when the
    folder cannot be read."""
    if _native_list_folder is None:
        return _list_folder(path)
    return Listing(*_native_list_folder(path))


@contextmanager
def _regular(path: Path) -> Iterator[tuple[int, int]]:
    """(descriptor, size) of a regular file opened for reading, refusing symlinks (ELOOP),
    FIFOs and devices (which could block or never end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        yield fd, st.st_size
    finally:
        os.close(fd)


def _read(fd: int, limit: int, size: int) -> bytes:
    """Up to `limit` bytes, to the end of a file of about `size` bytes (it may grow while read).
    Reads are sized by the file, not the limit: a 16 MiB buffer for a 200-byte key file cost
    four times the read itself."""
    chunks: list[bytes] = []
    total, step = 0, max(size + 1, 1 << 16)
    while total < limit:
        chunk = os.read(fd, min(step, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_head(path: Path, size: int) -> bytes:
    with _regular(path) as (fd, _):
        return _read(fd, size, size)


def read_capped(path: Path, cap: int) -> bytes:
    """Read a whole regular file, refusing one larger than `cap`."""
    with _regular(path) as (fd, size):
        data = b"" if size > cap else _read(fd, cap + 1, size)
    if size > cap or len(data) > cap:
        raise TooLarge(errno.EFBIG, f"larger than {cap // (1 << 20)} MiB", str(path))
    return data


def describe_os_error(exc: OSError) -> str:
    """A short reason for an OSError, without the path the caller already names."""
    if exc.errno == errno.ELOOP:
        return "is a symbolic link (wadoctor does not follow links)"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)


def describe_errno(code: int) -> str:
    """describe_os_error for an errno a listing recorded."""
    return describe_os_error(OSError(code, os.strerror(code)))
