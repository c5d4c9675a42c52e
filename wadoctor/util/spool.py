"""Byte records kept in an unlinked temporary file, only their places in memory.

A streamed report of a million sessions holds two gigabytes of JSON: here each record costs
12 bytes of memory (its offset and size), and the page cache, not the process, holds the
rest. The file is made with O_TMPFILE where the kernel has it (tempfile.TemporaryFile), so
it never has a name another user could race for, and it is gone when closed or killed.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Iterator

from wadoctor.util.errors import WadoctorError

_BUFFER = 1 << 20


class SpoolFailed(WadoctorError):
    """The temporary folder refused the spool: the run cannot complete (exit 3)."""

    def __init__(self, exc: OSError) -> None:
        super().__init__(f"cannot spool the report in {tempfile.gettempdir()}: {exc.strerror or exc} "
                         "(set TMPDIR to a folder with room)")


class Spool:
    """Records added in order, read back by index or all in order; a record replaced is
    written anew at the end and its place repointed."""

    def __init__(self) -> None:
        try:
            self._file = tempfile.TemporaryFile(buffering=_BUFFER)
        except OSError as exc:
            raise SpoolFailed(exc) from None
        self._offsets = array("Q")
        self._sizes = array("I")
        self._end = 0
        self._buffered = False  # writes not yet in the file
        self._replaced: set[int] = set()  # the records written anew, away from their neighbours

    def __len__(self) -> int:
        return len(self._offsets)

    def _write(self, record: bytes) -> int:
        """Appended: the file's position stays at its end, as records are read with pread."""
        offset = self._end
        try:
            self._file.write(record)
        except OSError as exc:
            raise SpoolFailed(exc) from None
        self._end += len(record)
        self._buffered = True
        return offset

    def extend(self, records: bytes, sizes: array[int]) -> None:
        """Records given end to end (`sizes` says where each ends), in one write."""
        offset = self._write(records)
        for size in sizes:
            self._offsets.append(offset)
            offset += size
        self._sizes.extend(sizes)

    def __setitem__(self, index: int, record: bytes) -> None:
        self._offsets[index] = self._write(record)
        self._sizes[index] = len(record)
        self._replaced.add(index)

    def _read(self, offset: int, size: int) -> bytes:
        """Bytes of the file, writes still buffered sent to it first (where a full folder
        says so); by pread, so that a record costs its own size, not a buffer's."""
        if self._buffered:
            try:
                self._file.flush()
            except OSError as exc:
                raise SpoolFailed(exc) from None
            self._buffered = False
        return os.pread(self._file.fileno(), size, offset)

    def __getitem__(self, index: int) -> bytes:
        return self._read(self._offsets[index], self._sizes[index])

    def __iter__(self) -> Iterator[bytes]:
        """Every record in index order: read a block at a time where records follow each other
        in the file; those replaced, alone (their block would be read for one record)."""
        block, start = b"", 0  # the block read, and where in the file it starts
        for index, (offset, size) in enumerate(zip(self._offsets, self._sizes)):
            if index in self._replaced:
                yield self._read(offset, size)
                continue
            if not start <= offset <= offset + size <= start + len(block):
                block, start = self._read(offset, max(size, _BUFFER)), offset
            yield block[offset - start:offset - start + size]

    def close(self) -> None:
        self._file.close()
