"""Reading one localStorage key from a Chromium LevelDB, read only, without opening the database.

Chromium keeps localStorage in `Default/Local Storage/leveldb`. Recent writes sit in `*.log`
files as LevelDB write batches (puts and deletes in sequence order); once a log outgrows its
write buffer LevelDB moves it into a table (`*.ldb`, `*.sst`): data blocks of prefix-compressed
keys (a key shares its first bytes with the one before it), each block stored raw, snappy- or
zstd-compressed (through cramjam), found through the table's index block. Every entry carries
its sequence number: the newest across logs and tables wins, a deletion included. What cannot
be read for certain (a table cut, an unknown compression, a file too large) makes the answer
`unknown`, never `absent`. Keys look like `_https://web.whatsapp.com\\x00\\x01last-wid-md`;
values are `\\x01` + Latin-1 or `\\x00` + UTF-16-LE.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from wadoctor.stores.adv import read_varint
from wadoctor.stores.files import TooLarge, read_capped

BLOCK = 32768
FILE_CAP = 32 << 20
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER = 48
TABLES = ("*.ldb", "*.sst")


class Unreadable(Exception):
    """A table that cannot be read for certain."""


class Lookup(NamedTuple):
    value: str | None  # the newest value, None when the key is absent or deleted
    unknown: str | None = None  # why absence could not be established


def _decompress(kind: int, raw: bytes) -> bytes:
    if kind == 0:
        return raw
    import cramjam  # imported only when a compressed table is read

    try:
        if kind == 1:
            return bytes(cramjam.snappy.decompress_raw(raw))
        if kind == 2:
            return bytes(cramjam.zstd.decompress(raw))
    except cramjam.DecompressionError as exc:
        raise Unreadable(f"a block does not decompress ({exc})") from None
    raise Unreadable(f"a block uses compression type {kind}, which wadoctor does not read")


def _block(data: bytes, offset: int, size: int) -> bytes:
    """A block's contents by its handle, decompressed as its trailer says."""
    if offset < 0 or offset + size + 5 > len(data):
        raise Unreadable("a block handle points past the end of the table")
    return _decompress(data[offset + size], data[offset: offset + size])


def _entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of a block, keys rebuilt from their shared prefixes."""
    if len(block) < 4:
        raise Unreadable("a block is shorter than its restart count")
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * restarts
    if end < 0:
        raise Unreadable("a block's restart array does not fit")
    key, pos = b"", 0
    while pos < end:
        shared, pos = read_varint(block, pos)
        unshared, pos = read_varint(block, pos)
        length, pos = read_varint(block, pos)
        if shared > len(key) or pos + unshared + length > end:
            raise Unreadable("a block entry runs past its block")
        key = key[:shared] + block[pos: pos + unshared]
        pos += unshared
        yield key, block[pos: pos + length]
        pos += length


def _handle(raw: bytes, pos: int = 0) -> tuple[int, int, int]:
    offset, pos = read_varint(raw, pos)
    size, pos = read_varint(raw, pos)
    return offset, size, pos


def _table_ops(data: bytes, suffix: bytes) -> Iterator[tuple[int, bytes | None]]:
    """(sequence, value or None for a deletion) of every entry whose key ends with `suffix`."""
    if len(data) < FOOTER or struct.unpack_from("<Q", data, len(data) - 8)[0] != TABLE_MAGIC:
        raise Unreadable("not a whole LevelDB table (no footer magic)")
    footer = data[-FOOTER:]
    _, _, pos = _handle(footer)  # the metaindex (filters) is not needed
    offset, size, _ = _handle(footer, pos)
    for _, handle in _entries(_block(data, offset, size)):
        block_offset, block_size, _ = _handle(handle)
        for key, value in _entries(_block(data, block_offset, block_size)):
            if len(key) < 8:
                raise Unreadable("a key shorter than its sequence tag")
            if key[:-8].endswith(suffix):
                tag = struct.unpack_from("<Q", key, len(key) - 8)[0]
                yield tag >> 8, value if tag & 0xFF == 1 else None


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


def find_local_storage(leveldb: Path, name: str) -> Lookup:
    """The newest value of localStorage key `name` in any origin, across logs and tables."""
    suffix = b"\x00\x01" + name.encode()
    latest: tuple[int, bytes | None] | None = None
    unknown: str | None = None  # a table that could not be read: absence cannot be known

    def seen(sequence: int, value: bytes | None) -> None:
        nonlocal latest
        if latest is None or sequence > latest[0]:
            latest = (sequence, value)

    for log in sorted(leveldb.glob("*.log")):
        try:
            data = read_capped(log, FILE_CAP)
        except (TooLarge, OSError) as exc:
            unknown = f"{log.name}: {exc}"
            continue
        for batch in _log_records(data):
            try:
                ops = _batch_ops(batch)
            except (IndexError, ValueError, struct.error):
                continue  # a torn batch was never committed
            for sequence, key, value in ops:
                if key.endswith(suffix):
                    seen(sequence, value)
    in_log = latest is not None  # a log's entries are newer than every table's
    for pattern in TABLES:
        for table in sorted(leveldb.glob(pattern)):
            try:
                for sequence, value in _table_ops(read_capped(table, FILE_CAP), suffix):
                    seen(sequence, value)
            except (TooLarge, OSError, Unreadable, ValueError, struct.error) as exc:
                unknown = f"{table.name}: {exc}"
    if unknown is not None and not in_log:
        return Lookup(None, unknown)
    if latest is None or latest[1] is None:
        return Lookup(None)
    return Lookup(_decode_value(latest[1]))
