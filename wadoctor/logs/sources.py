"""Log sources: plain, rotated and gzip files, standard input, and a growing file (--follow)."""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from wadoctor.util.errors import NotFound

POLL_SECONDS = 0.25


def _open(name: str) -> TextIO:
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    path = Path(name)
    try:
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        if gzipped:
            import gzip  # here: most logs followed are plain

            return gzip.open(path, "rt", encoding="utf-8", errors="replace")
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NotFound(f"{name}: {exc.strerror}") from None


def oldest_first(names: list[str]) -> list[str]:
    """Rotated logs (app.log.2.gz, app.log.1, app.log) in the order they were written."""
    def age(name: str) -> float:
        try:
            return os.stat(name).st_mtime if name != "-" else float("inf")
        except OSError:
            return float("inf")
    return sorted(names, key=age)


def follow(name: str, stop: Callable[[], bool], from_end: bool = False,
           opened: Callable[[], None] | None = None) -> Iterator[str]:
    """Lines of a file as it grows, reopening it when it is rotated or truncated; with
    `from_end`, only what is written after it was opened (a file rotated in is read whole).
    `opened()` is called once it is open: from then on, nothing written is missed."""
    handle = _open(name)
    inode = os.fstat(handle.fileno()).st_ino if name != "-" else None
    if from_end and name != "-":
        handle.seek(0, os.SEEK_END)
    if opened is not None:
        opened()
    partial = ""
    while not stop():
        chunk = handle.readline()
        if chunk:
            partial += chunk
            if partial.endswith("\n"):
                yield partial
                partial = ""
            continue
        if name != "-":
            try:
                st = os.stat(name)
                if st.st_ino != inode or st.st_size < handle.tell():
                    handle.close()
                    handle, inode = _open(name), st.st_ino
                    continue
            except FileNotFoundError:
                pass
        time.sleep(POLL_SECONDS)
    if partial:
        yield partial
