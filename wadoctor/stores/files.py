"""Reading store files without following links or swallowing a huge file whole."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class TooLarge(OSError):
    """A file far larger than anything the library writes for it."""


def read_capped(path: Path, cap: int) -> bytes:
    """Read a regular file, refusing symlinks (ELOOP), FIFOs and devices (which could block
    or never end) and anything larger than `cap`."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(cap + 1)
    finally:
        os.close(fd)
    if len(data) > cap:
        raise TooLarge(errno.EFBIG, f"larger than {cap // (1 << 20)} MiB", str(path))
    return data


def describe_os_error(exc: OSError) -> str:
    """A short reason for an OSError, without the path the caller already names."""
    if exc.errno == errno.ELOOP:
        return "is a symbolic link (wadoctor does not follow links)"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)
