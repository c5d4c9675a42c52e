"""What root may trust in folders other users own: OpenSSH's StrictModes, and link-free walks.

wadoctor runs as root over session folders that gateway users own. A file it obeys (a config)
or a folder it keeps its own state in (the quarantine, the backups) must be one that no other
user could have written: owned by root or by the user running wadoctor, and not writable by
group or others. And no path is followed through a link on the way: folders are opened one
component at a time from a directory descriptor with O_NOFOLLOW, and renames and unlinks are
made relative to the last one, so a folder swapped for a link mid-way is refused, not followed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wadoctor.util.errors import WadoctorError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
RENAME_NOREPLACE = 1


class Untrusted(WadoctorError):
    """A path that another user could have written or redirected: refused, never followed."""


def distrust(st: os.stat_result) -> str | None:
    """Why a file or folder with this status is not trustworthy, or None."""
    if st.st_uid not in (0, os.geteuid()):
        return f"owned by uid {st.st_uid}, neither root nor the user running wadoctor"
    sticky_dir = stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX
    if st.st_mode & 0o022 and not sticky_dir:
        return "writable by group or others"
    return None


def check_file_and_folders(path: Path) -> None:
    """Refuse a file (a config) or folder (where metrics go) that another user wrote, may
    write, or could swap: every folder on the way as written, every link on it (owned by root
    or us, in a folder that passed), and the file and every folder above its real path must
    pass `distrust`."""
    written = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    for part, follow in [*((p, False) for p in reversed([written, *written.parents])),
                         *((p, True) for p in (real, *real.parents))]:
        try:
            st = os.stat(part, follow_symlinks=follow)
        except OSError as exc:
            raise Untrusted(f"{path}: cannot check {part}: {exc.strerror}") from None
        if stat.S_ISLNK(st.st_mode):
            why = None if st.st_uid in (0, os.geteuid()) else f"a link owned by uid {st.st_uid}"
        else:
            why = distrust(st)
        if why:
            shown = "it is" if part in (written, real) else f"{part} is"
            raise Untrusted(f"{path}: refused: {shown} {why}")


def _open_dir(name: str, parent: int | None, shown: Path | str) -> int:
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Untrusted(f"{shown} is a symbolic link or not a folder: refused") from None
        raise


def _open_root(root: Path) -> int:
    """The folder a walk starts from. It may itself be a link where the admin made it (a link
    root owns, in a folder only root may change: /srv/sessions -> /data/sessions); a link
    another user could have made or swapped in is refused like any other."""
    try:
        return _open_dir(str(root), None, root)
    except Untrusted:
        try:
            link, folder = os.lstat(root), os.stat(root.parent)
        except OSError:
            raise Untrusted(f"{root} is a symbolic link or not a folder: refused") from None
        if not stat.S_ISLNK(link.st_mode) or link.st_uid not in (0, os.geteuid()) or distrust(folder):
            raise
        return os.open(root, DIR_FLAGS & ~os.O_NOFOLLOW)


@contextmanager
def walk(root: Path, names: Iterable[str], private: bool = False, create: bool = False,
         mode: int = 0o700) -> Iterator[int]:
    """A descriptor of `root/names...`, each folder opened from the last without following a
    link. `private`: each folder below the root must pass `distrust` (wadoctor's own state).
    `create`: missing folders are made with `mode`, owned as the root is when running as root."""
    fd = _open_root(root)
    try:
        with walk_from(fd, root, names, private, create, mode) as found:
            yield found
    finally:
        os.close(fd)


@contextmanager
def walk_from(start: int, shown: Path | str, names: Iterable[str], private: bool = False, create: bool = False,
              mode: int = 0o700) -> Iterator[int]:
    """`walk` from a folder already walked and held open (`start`, shown as `shown`): a run
    that opens thousands of folders below one walks the folders above it once. `start` stays
    open. Names are shown in messages only, so none is made a Path on the way."""
    fd = start
    try:
        for name in names:
            if name in ("", ".", "..") or "/" in name:
                raise Untrusted(f"{os.path.join(shown, name)}: not a plain folder name: refused")
            shown = os.path.join(shown, name)
            try:
                child = _open_dir(name, fd, shown)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(name, mode, dir_fd=fd)
                child = _open_dir(name, fd, shown)
                if not private and os.geteuid() == 0:
                    parent = os.fstat(fd)
                    os.fchown(child, parent.st_uid, parent.st_gid)
            if fd != start:
                os.close(fd)
            fd = child
            why = distrust(os.fstat(fd)) if private else None
            if why:
                raise Untrusted(f"{shown} is {why}: refused")
        yield fd
    finally:
        if fd != start:
            os.close(fd)


def read_private(name: str, folder: int, shown: Path, cap: int) -> bytes:
    """A regular file of wadoctor's own, read without following a link and only if trusted."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Untrusted(f"{shown} is a symbolic link: refused") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        why = distrust(st) or (None if stat.S_ISREG(st.st_mode) else "not a regular file")
        if why:
            raise Untrusted(f"{shown} is {why}: refused")
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise Untrusted(f"{shown} is larger than {cap} bytes: refused")
    return data


def replace_private(name: str, folder: int, data: bytes) -> None:
    """Put `data` at `name` in the folder atomically and durably: a private (0600) temporary
    file beside it, never through a link, fsynced, renamed over it, the folder fsynced."""
    temp = f".{name}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    os.fsync(folder)


def exists(name: str, folder: int) -> bool:
    """Whether `name` is in the folder, as itself (a dangling link exists)."""
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


_libc = ctypes.CDLL(None, use_errno=True)


def rename_noreplace(src: str, src_dir: int, dst: str, dst_dir: int) -> None:
    """rename(2) relative to two folders that fails (EEXIST) rather than replace what is at
    `dst`: a file that reappeared between a look and the move is never overwritten."""
    if _libc.renameat2(src_dir, os.fsencode(src), dst_dir, os.fsencode(dst), RENAME_NOREPLACE) == 0:
        return
    code = ctypes.get_errno()
    if code not in (errno.EINVAL, errno.ENOSYS):  # a filesystem without the flag: look, then move
        raise OSError(code, os.strerror(code), dst)
    if exists(dst, dst_dir):
        raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), dst)
    os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
