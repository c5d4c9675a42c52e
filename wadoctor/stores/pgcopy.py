"""PostgreSQL's binary COPY, read as the server sends it (postgresql.org/docs/15/sql-copy.html,
"Binary Format"): a header, one tuple per CopyData message, a trailer.

A database of a million instances is read by one process and judged by every core. The
process reading the COPY passes each tuple on as the bytes it came in (`tuples`), without a
Python object per field; `copy_tuple` reads the fields where the row is judged.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["SIGNATURE", "TRAILER", "copy_tuple", "tuples"]

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
TRAILER = b"\xff\xff"  # a tuple of -1 fields: the end of the data
_HEADER = struct.Struct(">11sII")  # signature, flags, length of the header extension
_COUNT = struct.Struct(">h")
_LENGTH = struct.Struct(">i")
_FLOAT8 = struct.Struct(">d")


def tuples(messages: Iterable[Any]) -> Iterator[bytes]:
    """Each tuple of a binary COPY, as bytes, from its CopyData messages (the header comes
    with the first tuple, the trailer alone at the end). Raises ValueError on data that is
    not a binary COPY."""
    stream = iter(messages)
    first = bytes(next(stream, b""))
    if len(first) < _HEADER.size:
        raise ValueError("the COPY sent no binary header")
    signature, flags, extension = _HEADER.unpack_from(first)
    if signature != SIGNATURE or flags & 0xFFFF0000 or _HEADER.size + extension > len(first):
        raise ValueError("the COPY's header is not PostgreSQL's binary format")
    data = first[_HEADER.size + extension:]
    while data != TRAILER:
        yield data
        data = bytes(next(stream, TRAILER))
    if next(stream, None) is not None:  # read to its end: psycopg takes the server's result there
        raise ValueError("the COPY sent data after its trailer")


def _copy_tuple(data: bytes, kinds: str) -> tuple[Any, ...]:
    """copy_tuple in Python (see wadoctor/stores/_speedups.c), where C was not built."""
    if len(data) < 2 or _COUNT.unpack_from(data)[0] != len(kinds):
        raise ValueError(f"a COPY tuple not of {len(kinds)} fields")
    fields: list[Any] = []
    at = 2
    for kind in kinds:
        if len(data) - at < 4:
            raise ValueError("a COPY tuple cut short")
        (length,) = _LENGTH.unpack_from(data, at)
        at += 4
        if length < -1 or length > len(data) - at:
            raise ValueError("a COPY tuple cut short")
        if length == -1:
            fields.append(None)
            continue
        value = data[at:at + length]
        at += length
        if kind == "t":
            fields.append(value.decode("utf-8", "replace"))
        elif kind == "f" and length == 8:
            fields.append(_FLOAT8.unpack(value)[0])
        elif kind == "b" and length == 1:
            fields.append(value != b"\x00")
        else:
            raise ValueError(f"a COPY field of {length} bytes is not a {kind} column")
    if at != len(data):
        raise ValueError("a COPY tuple with bytes after its fields")
    return tuple(fields)


try:  # in C (wadoctor/stores/_speedups.c), where it was built: one call, no object per length
    from wadoctor.stores._speedups import copy_tuple
except ImportError:  # pragma: no cover - a build without a C compiler
    copy_tuple = _copy_tuple
