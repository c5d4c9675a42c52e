"""A log scan's byte loops, in C and in Python: the same answers.

wadoctor/logs/_blocks.c lower-cases each block into a reused buffer and counts its line ends,
numbering the lines that matter on the way; where it was not built, bytes.lower and
bytes.count do. Both must agree byte for byte, on any
bytes (not only ASCII) and any slice bounds, and a scan must give the same events either way.
"""

from __future__ import annotations

import gzip
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from wadoctor.logs import scanner
from wadoctor.logs.events import LineParser

_bytes = st.binary(max_size=300) | st.lists(st.sampled_from([b"A", b"z", b"\n", b"\xc3\x89", b"Conflict", b"@["]),
                                            max_size=80).map(b"".join)


def _native() -> None:
    assert scanner._lower_into is not None and scanner._newline_counts is not None, (
        "wadoctor/logs/_blocks.c was not built: reinstall with a C compiler (pip install -e .)")


@given(st.lists(st.tuples(_bytes, st.integers(0, 300), st.integers(0, 300)), max_size=4))
def test_lower_into_lowers_as_bytes_lower_does(blocks: list[tuple[bytes, int, int]]) -> None:
    _native()
    for block, start, end in blocks:  # longer and shorter blocks through one buffer
        start, end = min(start, len(block)), min(max(start, end), len(block))
        assert bytes(scanner._lowered(block, start, end)[start:end]) == block[start:end].lower()


@given(_bytes, st.data())
def test_newline_counts_count_as_bytes_count_does(data: bytes, draw: st.DataObject) -> None:
    """Every count, at every position, in one call; past 16 * 255 bytes the vector lanes of
    one-byte counters are summed and start again, so long inputs are drawn too."""
    _native()
    data = data * draw.draw(st.sampled_from([1, 17, 300]))
    start = draw.draw(st.integers(0, len(data)))
    end = draw.draw(st.integers(start, len(data)))
    positions = sorted(draw.draw(st.lists(st.integers(start, end), max_size=6)))
    expected = [data.count(b"\n", start, p) for p in positions] + [data.count(b"\n", start, end)]
    assert scanner._newline_counts(data, start, end, positions) == expected
    assert scanner._line_counts(data, start, end, positions) == expected


def test_newline_counts_refuse_positions_out_of_order_or_bounds() -> None:
    _native()
    for start, end, positions in ((0, 4, [3, 1]), (2, 4, [1]), (0, 4, [5]), (0, 9, [])):
        try:
            scanner._newline_counts(b"a\nb\n", start, end, positions)
        except ValueError:
            continue
        raise AssertionError(f"accepted {start}..{end} {positions}")


def test_a_scan_finds_the_same_events_with_and_without_the_byte_loops(tmp_path, monkeypatch) -> None:
    _native()
    log = tmp_path / "gw.log"
    lines = [b'{"level":50,"time":1795300000000,"session":"shop","msg":"stream errored out",'
             b'"reasonNode":{"tag":"conflict","attrs":{"type":"replaced"}}}',
             b"2026-11-21 10:00:00 [s7] client disconnected: CONFLICT",
             b'{"level":30,"msg":"presence update","session":"shop"}',
             b"2026-11-21 10:00:01 [Client INFO] Got replaced stream error, sending StreamReplaced event"]
    log.write_bytes(b"\n".join(lines * 5000))
    monkeypatch.setattr(scanner, "BLOCK", 1 << 16)  # many blocks, lines cut at their ends

    def scan() -> scanner.Scanned:
        with open(log, "rb") as handle:
            return scanner._scan_stream(handle, LineParser(("session",), None))

    native = scan()
    monkeypatch.setattr(scanner, "_lower_into", None)
    monkeypatch.setattr(scanner, "_newline_counts", None)
    python = scan()
    assert (native.lines, native.events, native.warning) == (python.lines, python.events, python.warning)
    assert native.lines == 20000 and len(native.events) == 15000


def test_a_line_longer_than_the_cap_is_read_up_to_it_and_counted(tmp_path, monkeypatch) -> None:
    """A disk of NULs with no line end (what a crash leaves in a log) is carried in bounded
    memory: read up to LINE_CAP and passed over, not copied block after block; the lines
    around it are counted and classified as ever."""
    monkeypatch.setattr(scanner, "BLOCK", 1 << 16)
    monkeypatch.setattr(scanner, "LINE_CAP", 1 << 18)
    conflict = b"2026-11-21 10:00:01 [shop] Got replaced stream error, sending StreamReplaced event"
    log = tmp_path / "gw.log"
    log.write_bytes(conflict + b"\n" + b"\0" * (3 << 20) + b" conflict\n" + conflict + b"\n" + b"\0" * (2 << 20))
    with open(log, "rb") as handle:
        found = scanner._scan_stream(handle, LineParser(("session",), None))
    assert found.lines == 4
    assert [(line, kind, session) for line, kind, _, session, _ in found.events] == [
        (0, "conflict", "shop"), (2, "conflict", "shop")]  # the NUL line's own 'conflict' lay past the cap
    assert found.warning == "2 line(s) longer than 262144 bytes read up to that length"


def _zeros_gzip(path, mebibytes: int, before: bytes, after: bytes) -> None:
    """A gzip member per part: lines, then `mebibytes` of NULs with no line end (what a
    bomb, or a crashed disk, inflates to), then lines; gzip readers read members one after
    another, as `cat a.gz b.gz` leaves them."""
    zeros = gzip.compress(b"\0" * (1 << 20), compresslevel=1)
    with open(path, "wb") as out:
        out.write(gzip.compress(before))
        for _ in range(mebibytes):
            out.write(zeros)
        out.write(gzip.compress(b"\n" + after))


def test_a_gzip_bomb_is_inflated_in_bounded_memory_and_the_lines_around_it_count(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(scanner, "BLOCK", 1 << 20)
    monkeypatch.setattr(scanner, "LINE_CAP", 1 << 16)
    conflict = b"2026-11-21 10:00:01 [shop] Got replaced stream error, sending StreamReplaced event\n"
    bomb = tmp_path / "gw.log.1.gz"
    _zeros_gzip(bomb, 96, conflict * 3, conflict * 2)
    scan = scanner.LogScan([str(bomb)], LineParser(("session",), None), workers=2)
    tracemalloc.start()
    try:
        found = [(line, kind, session) for line, kind, _, session, _ in scan]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == [(0, "conflict", "shop"), (1, "conflict", "shop"), (2, "conflict", "shop"),
                     (4, "conflict", "shop"), (5, "conflict", "shop")]
    assert scan.lines == 6  # three, the NUL line, two
    assert peak < 8 << 20, f"96 MiB of zeros held {peak >> 20} MiB"


def test_a_gzip_log_hands_on_its_events_block_by_block(tmp_path, monkeypatch) -> None:
    """A compressed log of a hundred thousand events: the reader gets them as each block is
    read, not all at once after the file (which cost 6.5 GB for 2.4 GB inflated)."""
    monkeypatch.setattr(scanner, "BLOCK", 1 << 16)
    line = b"2026-11-21 10:00:01 [s%d] Got replaced stream error, sending StreamReplaced event\n"
    log = tmp_path / "gw.log.2.gz"
    log.write_bytes(gzip.compress(b"".join(line % (n % 7) for n in range(100_000)), compresslevel=1))
    scan = scanner.LogScan([str(log)], LineParser(("session",), None), workers=2)
    tracemalloc.start()
    try:
        count = sum(1 for _ in scan)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 100_000 and scan.lines == 100_000
    assert peak < 4 << 20, f"{count} events held {peak >> 20} MiB"


def test_a_truncated_gzip_gives_what_it_had_and_says_so(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(scanner, "BLOCK", 1 << 12)
    conflict = b"2026-11-21 10:00:%02d [shop-%d] Got replaced stream error, sending StreamReplaced event\n"
    whole = gzip.compress(b"".join(conflict % (n % 60, n) for n in range(2000)))
    log = tmp_path / "gw.log.3.gz"
    log.write_bytes(whole[:len(whole) // 2])
    scan = scanner.LogScan([str(log)], LineParser(("session",), None), workers=1)
    count = sum(1 for _ in scan)
    assert 0 < count < 2000 and scan.lines >= count
    assert "gw.log.3.gz" in capsys.readouterr().err
