"""Reading store files without following links, blocking on a FIFO or swallowing a huge file."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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
