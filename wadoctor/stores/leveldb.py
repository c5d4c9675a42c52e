"""Reading one localStorage key from a Chromium LevelDB, without a LevelDB dependency.

Chromium keeps localStorage in `Default/Local Storage/leveldb`. Recent writes sit in `*.log`
files as LevelDB write batches, which are simple to parse exactly (puts and deletes in
sequence order); older ones are compacted into `*.ldb` tables, which are only scanned for the
key's bytes (a block may be compressed; then the value stays unknown rather than guessed).
Keys look like `_https://web.whatsapp.com\\x00\\x01last-wid-md`; values are `\\x01` + Latin-1
or `\\x00` + UTF-16-LE.
"""

from __future__ import annotations

import struct
from pathlib import Path

from wadoctor.stores.adv import read_varint
from wadoctor.stores.files import TooLarge, read_capped

BLOCK = 32768
FILE_CAP = 32 << 20
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def _log_records(data: bytes) -> list[bytes]:
    """Reassemble the log's physical records (32 KiB blocks, 7-byte headers) into batches."""
    records, partial, pos = [], b"", 0
    while pos + 7 <= len(data):
        room = BLOCK - pos % BLOCK
        if room < 7:
            pos += room
            continue
        length, kind = struct.unpack_from("<HB", data, pos + 4)
        payload = data[pos + 7: pos + 7 + length]
        pos += 7 + length
        if kind == FULL:
            records.append(payload)
        elif kind == FIRST:
            partial = payload
        elif kind == MIDDLE:
            partial += payload
        elif kind == LAST:
            records.append(partial + payload)
        else:
            break  # zero padding or a torn tail: the rest was never committed
    return records


def _batch_ops(batch: bytes) -> list[tuple[int, bytes, bytes | None]]:
    """(sequence, key, value or None for a delete) of one write batch."""
    sequence, count = struct.unpack_from("<QI", batch, 0)
    ops, pos = [], 12
    for offset in range(count):
        tag = batch[pos]
        length, pos = read_varint(batch, pos + 1)
        key, pos = batch[pos: pos + length], pos + length
        value = None
        if tag == 1:
            length, pos = read_varint(batch, pos)
            value, pos = batch[pos: pos + length], pos + length
        ops.append((sequence + offset, key, value))
    return ops


def _decode_value(raw: bytes) -> str | None:
    if raw[:1] == b"\x01":
        return raw[1:].decode("latin-1")
    if raw[:1] == b"\x00":
        return raw[1:].decode("utf-16-le", errors="replace")
    return None


def find_local_storage(leveldb: Path, name: str) -> str | None:
    """The latest value of localStorage key `name` in any origin, or None if absent or unreadable."""
    suffix = b"\x00\x01" + name.encode()
    latest: tuple[int, bytes | None] | None = None
    for log in sorted(leveldb.glob("*.log")):
        try:
            data = read_capped(log, FILE_CAP)
        except OSError:
            continue
        for batch in _log_records(data):
            try:
                ops = _batch_ops(batch)
            except (IndexError, ValueError, struct.error):
                continue
            for sequence, key, value in ops:
                if key.endswith(suffix) and (latest is None or sequence > latest[0]):
                    latest = (sequence, value)
    if latest is not None:
        return _decode_value(latest[1]) if latest[1] is not None else None
    return _scan_tables(leveldb, suffix)


def _scan_tables(leveldb: Path, suffix: bytes) -> str | None:
    """Best effort in compacted tables: a key stored uncompressed, then its value."""
    for table in sorted(leveldb.glob("*.ldb"), reverse=True):
        try:
            data = read_capped(table, FILE_CAP)
        except (TooLarge, OSError):
            continue
        at = data.rfind(suffix)
        if at < 0:
            continue
        # in a table block the key is followed by its 8-byte sequence/type tag, then the value
        window = data[at + len(suffix): at + len(suffix) + 200]
        quote = window.find(b'\x01"')
        if quote >= 0:
            end = window.find(b'"', quote + 2)
            if end > 0:
                return window[quote + 1: end + 1].decode("latin-1")
    return None
