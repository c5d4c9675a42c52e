"""The kernel's table of file locks (/proc/locks): which pid holds a lock on which inode.

Read once per run. It sees flock and POSIX locks of every process, whatever its user, so it
proves a holder is alive without touching the lock (F_GETLK asks about one file at a time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class KernelLock:
    pid: int
    kind: str  # FLOCK, POSIX, OFDLCK
    mode: str  # READ or WRITE


def _file_key(st: os.stat_result) -> tuple[int, int, int]:
    return os.major(st.st_dev), os.minor(st.st_dev), st.st_ino


def read_locks(path: str = "/proc/locks") -> dict[tuple[int, int, int], list[KernelLock]]:
    """(major, minor, inode) -> the locks held on it; empty where /proc/locks is unreadable."""
    table: dict[tuple[int, int, int], list[KernelLock]] = {}
    try:
        with open(path) as handle:
            lines = handle.readlines()
    except OSError:
        return table
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->":  # "->" marks a waiter, not a holder
            continue
        try:
            kind, mode, pid = fields[1], fields[3], int(fields[4])
            major, minor, inode = fields[5].split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except ValueError:
            continue
        table.setdefault(key, []).append(KernelLock(pid, kind, mode))
    return table


def locks_on(table: dict[tuple[int, int, int], list[KernelLock]], path: str) -> list[KernelLock]:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return []
    return table.get(_file_key(st), [])
