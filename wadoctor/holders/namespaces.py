"""Seeing a process's files from the host, whatever mount, pid or UTS namespace it runs in.

Inside a container, `/proc/PID/cwd` and `/proc/PID/fd/N` read as the container's paths
(`/evolution/instances/shop`), which mean nothing on the host. Following the link instead
(stat, not readlink) gives the file's real identity, `(st_dev, st_ino)`, the same whatever the
namespace: that is what holders are matched on. `/proc/PID/root` is the process's own view of
the filesystem, so a path it names can be resolved as it sees it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence

FileId = tuple[int, int]  # (st_dev, st_ino)
CLONE_NEWUTS = 0x04000000


def file_id(path: str) -> FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def as_seen_by(pid: int, path: str, cwd: str = "/") -> str:
    """A path a process names (absolute, or relative to its working folder), made readable
    from here through its own root."""
    return f"/proc/{pid}/root{os.path.normpath(os.path.join(cwd, path))}"


def devices_under(roots: Sequence[str], mountinfo: str = "/proc/self/mountinfo") -> set[int]:
    """The devices of the roots and of every mount below them (a volume per session): only
    descriptors on these can hold a session, so no other file is looked at twice."""
    devices = {st.st_dev for st in map(_stat, roots) if st is not None}
    try:
        with open(mountinfo) as handle:
            lines = handle.readlines()
    except OSError:
        return devices
    prefixes = tuple(r.rstrip("/") + "/" for r in roots)
    for line in lines:
        fields = line.split()
        if len(fields) > 4 and fields[4].startswith(prefixes):
            major, _, minor = fields[2].partition(":")
            devices.add(os.makedev(int(major), int(minor)))
    return devices


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


@functools.cache
def _own_mounts() -> str | None:
    try:
        return os.readlink("/proc/self/ns/mnt")
    except OSError:
        return None


def same_view(pid: int) -> bool:
    """Whether a process sees the filesystem as we do (same mount namespace): its paths then
    mean the same here, and the container's view need not be shown."""
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt") == _own_mounts()
    except OSError:
        return True


def namespace_pid(pid: int) -> int:
    """A process's pid as its own (innermost) pid namespace numbers it, from /proc/PID/status."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return pid


def hostnames(pids: Iterable[int]) -> dict[str, list[int]]:
    """hostname -> pids, for processes in a UTS namespace other than ours (containers): one
    short-lived child per namespace joins it and asks, since only a member can read it."""
    own = _uts(os.getpid())
    members: dict[str, list[int]] = {}
    for pid in pids:
        uts = _uts(pid)
        if uts is not None and uts != own:
            members.setdefault(uts, []).append(pid)
    found: dict[str, list[int]] = {}
    for group in members.values():
        name = _hostname_in(group[0])
        if name:
            found.setdefault(name, []).extend(group)
    return found


def _uts(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/uts")
    except OSError:
        return None


def _hostname_in(pid: int) -> str | None:
    try:
        fd = os.open(f"/proc/{pid}/ns/uts", os.O_RDONLY)
    except OSError:
        return None
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which only asks and exits
        import ctypes

        try:
            if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWUTS) == 0:
                os.write(write, os.uname().nodename.encode())
        finally:
            os._exit(0)
    os.close(write)
    os.close(fd)
    try:
        name = os.read(read, 256).decode(errors="replace")
    finally:
        os.close(read)
        os.waitpid(child, 0)
    return name or None
