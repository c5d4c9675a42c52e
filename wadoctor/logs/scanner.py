"""Reading whole logs fast: one pass per block finds every candidate line, on every core.

A busy gateway logs gigabytes a day and one line in a hundred matters. Each block (256 KiB as
read, scanned in place up to its last line end: small enough that the passes over it find it
in the core's cache) is lower-cased once and searched once for all the keywords at the same
time with an Aho-Corasick automaton (the Rust `aho-corasick` crate that ripgrep uses, through
ahocorasick-rs: SIMD prefilters, gigabytes per second, where 18 `find` passes gave 110 MB/s);
only the lines holding a keyword are decoded and classified. A large file is cut into ranges
at line ends (at most RANGE_MAX each) and the ranges are read by worker processes, one per
core; their events come back as plain tuples, in order, so the per-session analysis, which
depends on order, sees exactly the events a single pass would. A gzip file is inflated block
by block in the reading process instead: what it inflates to is unknown until read (a few
megabytes can hold terabytes of zeros), so only a block of it and its events are ever held,
never a whole file's events."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from functools import cache
from sys import intern
from typing import BinaryIO

from wadoctor.logs.events import KEYWORDS, LineParser
from wadoctor.logs.sources import oldest_first
from wadoctor.util.errors import NotFound
from wadoctor.util.escape import visible
from wadoctor.util.forked import ordered_map

BLOCK = 1 << 18  # a line longer than a block is carried into the next, whole up to LINE_CAP
RANGE_MIN = 32 << 20  # a file smaller than this is one range; below it, forking costs more than it saves
GZIP_MAGIC = b"\x1f\x8b"
LINE_CAP = 8 << 20  # a longer line (a binary dump, a disk of NULs) is read up to this and counted
RANGE_MAX = 256 << 20  # a worker's range: its events are sent back at once


@cache
def _finder():  # type: ignore[no-untyped-def]
    import ahocorasick_rs

    return ahocorasick_rs.BytesAhoCorasick([k.encode() for k in KEYWORDS],
                                           matchkind=ahocorasick_rs.MatchKind.LeftmostFirst)


try:  # the byte loops in C (wadoctor/logs/_blocks.c), where they were built
    from wadoctor.logs._blocks import lower_into as _lower_into
    from wadoctor.logs._blocks import newline_counts as _newline_counts
except ImportError:
    _newline_counts = _lower_into = None


_reused: dict[str, bytearray] = {}  # this process's block buffers, by use


def _buffer(use: str, size: int) -> bytearray:
    """This process's buffer for `use`, at least `size` bytes, kept for its next block: a fresh
    block each time cost more in page faults (to read into it, to lower-case into it) than
    the work done in it, a quarter of a worker's time."""
    buffer = _reused.get(use)
    if buffer is None or len(buffer) < size:
        buffer = _reused[use] = bytearray(size)
    return buffer


def _lowered(block: bytes | bytearray, start: int, end: int) -> bytes | bytearray:
    """`block[start:end]` lower-cased at the same offsets: in C, into this process's buffer
    (overwritten by the next call; outside those offsets it holds stale bytes); else the
    whole block by bytes.lower."""
    if _lower_into is None:
        return block.lower()
    lowered = _buffer("lower", end)
    _lower_into(memoryview(block)[start:end], memoryview(lowered)[start:end])
    return lowered


def _line_counts(block: bytes | bytearray, start: int, end: int, positions: list[int]) -> list[int]:
    """The line ends in `block[start:p]` for each ascending position p, then in `block[start:end]`."""
    counts: list[int]
    if _newline_counts is not None:
        counts = _newline_counts(block, start, end, positions)
        return counts
    counts, found, previous = [], 0, start
    for position in [*positions, end]:
        found += block.count(b"\n", previous, position)
        counts.append(found)
        previous = position
    return counts


Range = tuple[str, int, int, LineParser]  # a plain file's byte range: name, start, end, parser


Row = tuple[int, str, "float | None", "str | None", str]  # line number, kind, time, session, detail


class Scanned:
    """What one range, file or stream gave: its line count and each event found, as a plain
    (line number within, kind, time, session, detail) row: rows cross from the workers ten
    times faster than pickled objects."""

    __slots__ = ("lines", "events", "warning")

    def __init__(self, lines: int = 0, events: list[Row] | None = None, warning: str | None = None) -> None:
        self.lines = lines
        self.events: list[Row] = [] if events is None else events
        self.warning = warning


def _scan_block(block: bytes | bytearray, parser: LineParser, into: Scanned, start: int = 0,
                end: int | None = None) -> None:
    """Classify every line of `block[start:end]` (whole lines) that holds a keyword, and count
    the lines: one pass of counting, which numbers the candidates on its way."""
    end = len(block) if end is None else end
    lowered = _lowered(block, start, end)
    candidates: list[tuple[int, int]] = []  # (start, end) of each line holding a keyword, in order
    line_end = -1
    for _, at, _ in _finder().find_matches_as_indexes(memoryview(lowered)[start:end]):
        if start + at >= line_end:  # hits come in order: the rest of a line's hits are passed over
            first = lowered.rfind(b"\n", start, start + at) + 1 or start
            line_end = lowered.find(b"\n", start + at, end) + 1 or end + 1
            candidates.append((first, line_end - 1))
    counts = _line_counts(block, start, end, [first for first, _ in candidates])
    for (first, last), before in zip(candidates, counts):
        for kind, time, session, detail in parser.parse(block[first:last].decode("utf-8", errors="replace")):
            # the same few sessions and details, thousands of times: one string each crosses the pipe
            into.events.append((into.lines + before, kind, time, session and intern(session), intern(detail)))
    into.lines += counts[-1]


def _stream(handle: BinaryIO, parser: LineParser, limit: int | None = None) -> Iterator[Scanned]:
    """Blocks of a stream (at most `limit` bytes), read into this process's buffer and each
    scanned there up to its last line end (the line cut at its end is carried into the next).
    Yields after each block: the lines counted so far and that block's events, numbered from
    the start of the stream, so no more than one block's events are ever held."""
    found = Scanned()
    buffer = _buffer("read", BLOCK)
    carry = bytearray()
    left = limit
    cut_lines = 0
    while left is None or left > 0:
        size = handle.readinto(memoryview(buffer)[:BLOCK if left is None else min(BLOCK, left)])
        if not size:
            break
        if left is not None:
            left -= size
        first = 0
        if carry:
            first = buffer.find(b"\n", 0, size) + 1
            if not first:  # a line longer than a block: kept up to LINE_CAP, the rest passed over
                if len(carry) < LINE_CAP:
                    carry += buffer[:min(size, LINE_CAP - len(carry))]
                    cut_lines += len(carry) >= LINE_CAP
                continue
            carry += buffer[:min(first, max(0, LINE_CAP - len(carry)))]
            _scan_block(carry + b"\n" if carry[-1:] != b"\n" else carry, parser, found)
        cut = max(first, buffer.rfind(b"\n", 0, size) + 1)
        _scan_block(buffer, parser, found, first, cut)
        carry = bytearray(buffer[cut:min(size, cut + LINE_CAP)])
        cut_lines += size - cut > LINE_CAP
        yield Scanned(found.lines, found.events)
        found.events = []
    if carry:
        _scan_block(carry, parser, found)
        found.lines += 1  # the last line, with no line end
    if cut_lines:
        cap = f"{LINE_CAP >> 20} MiB" if LINE_CAP >= 1 << 20 else f"{LINE_CAP} bytes"
        found.warning = f"{cut_lines} line(s) longer than {cap} read up to that length"
    yield found


def _scan_stream(handle: BinaryIO, parser: LineParser, limit: int | None = None) -> Scanned:
    """A whole stream's lines and events at once: what a worker sends back for its range."""
    whole = Scanned()
    for part in _stream(handle, parser, limit):
        whole.lines, whole.warning = part.lines, part.warning
        whole.events += part.events
    return whole


def _scan_range(job: Range) -> Scanned:
    """Worker: a byte range of a plain file (at most RANGE_MAX, so its events stay few)."""
    name, start, end, parser = job
    try:
        with open(name, "rb") as handle:
            handle.seek(start)
            return _scan_stream(handle, parser, end - start)
    except OSError as exc:
        return Scanned(warning=f"{visible(name)}: {visible(exc)}")


def _scan_gzip(name: str, parser: LineParser) -> Iterator[Scanned]:
    """A gzip file inflated block by block in this process, its events handed on as they are
    found: however far it inflates (a bomb of zeros), memory stays at a block and a line. A
    truncated or corrupt .gz still gives what it had, then a warning."""
    import gzip  # here: most logs read are plain
    import zlib

    try:
        with gzip.open(name, "rb") as handle:
            yield from _stream(handle, parser)  # type: ignore[arg-type]
    except (OSError, EOFError, zlib.error) as exc:
        yield Scanned(warning=f"{visible(name)}: {visible(exc)}")


def _ranges(name: str, parts: int) -> list[tuple[int, int]]:
    """Cut a file into about `parts` byte ranges (more where a range would pass RANGE_MAX),
    each starting at a line start."""
    size = os.path.getsize(name)
    if size < RANGE_MIN or parts < 2:
        return [(0, size)]
    parts = max(parts, -(-size // RANGE_MAX))
    cuts = [0]
    with open(name, "rb") as handle:
        for part in range(1, parts):
            handle.seek(size * part // parts)
            handle.readline(LINE_CAP)  # to the next line start (or LINE_CAP into a line without end)
            where = handle.tell()
            if cuts[-1] < where < size:
                cuts.append(where)
    cuts.append(size)
    return list(zip(cuts, cuts[1:]))


def _jobs(name: str, parser: LineParser, workers: int) -> list[Range | str]:
    """A plain file's ranges, for the workers; a gzip file's name, inflated here as read."""
    try:
        with open(name, "rb") as probe:
            gzipped = probe.read(2) == GZIP_MAGIC
    except OSError as exc:
        raise NotFound(f"{name}: {exc.strerror}") from None
    if gzipped:
        return [name]
    return [(name, start, end, parser) for start, end in _ranges(name, workers * 8)]


class LogScan:
    """Iterate for a row (line number, kind, time, session, detail) of each event, over the
    files oldest first (`-` is standard input), in order; then `lines` is the number of lines
    read. Plain files are read by the workers, range by range, ahead of the reader; gzip files
    and standard input are streamed here, a block at a time. Rows, not Events: the reader of a
    large log makes no object per event."""

    def __init__(self, names: list[str], parser: LineParser, workers: int) -> None:
        self.jobs: list[Range | str] = []
        for name in oldest_first(names):
            self.jobs += [name] if name == "-" else _jobs(name, parser, workers)
        self.parser = parser
        self.workers = workers
        self.lines = 0

    def _streamed(self, name: str) -> Iterator[Scanned]:
        if name == "-":
            return _stream(sys.stdin.buffer, self.parser)
        return _scan_gzip(name, self.parser)

    def __iter__(self) -> Iterator[Row]:
        ranges = [job for job in self.jobs if not isinstance(job, str)]
        _finder()  # built once, before the workers fork, rather than once in each of them
        results = ordered_map(_scan_range, ranges, self.workers)
        try:
            for job in self.jobs:
                parts = self._streamed(job) if isinstance(job, str) else iter((next(results),))
                lines = 0
                for part in parts:
                    if part.warning:
                        print(f"wadoctor: {part.warning}", file=sys.stderr)
                    for line, kind, time, session, detail in part.events:
                        yield self.lines + line, kind, time, session, detail
                    lines = max(lines, part.lines)
                self.lines += lines
        finally:
            results.close()  # stops the workers when the reader stops early
