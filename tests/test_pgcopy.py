"""A database's rows, passed on as the bytes of a binary COPY and read where they are judged
(wadoctor.stores.pgcopy): real PostgreSQL's COPY reads as psycopg reads the same query, the C
reader (wadoctor/stores/_speedups.c) as the Python one, and anything that is not one tuple of
the columns asked for is a ValueError, never a crash or a wrong value."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wadoctor.stores import pgcopy

KINDS = {"t": st.text(), "f": st.floats(), "b": st.booleans()}


def _native() -> None:
    assert pgcopy.copy_tuple is not pgcopy._copy_tuple, (
        "wadoctor/stores/_speedups.c was not built: reinstall with a C compiler (pip install -e .)")


def _encoded(kinds: str, values: list) -> bytes:
    """A tuple as PostgreSQL's copyto.c writes one (int16 count; int32 length, -1 for NULL; bytes)."""
    out = struct.pack(">h", len(kinds))
    for kind, value in zip(kinds, values):
        if value is None:
            out += struct.pack(">i", -1)
            continue
        data = {"t": lambda v: v.encode("utf-8", "surrogatepass"), "f": lambda v: struct.pack(">d", v),
                "b": lambda v: bytes([v])}[kind](value)
        out += struct.pack(">i", len(data)) + data
    return out


def _same(left: tuple, right: tuple) -> bool:
    return len(left) == len(right) and all(
        (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or
        (type(a) is type(b) and a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b)))
        for a, b in zip(left, right))


@st.composite
def _rows(draw):
    kinds = draw(st.text(alphabet="tfb", min_size=1, max_size=12))
    values = [draw(st.none() | KINDS[kind]) for kind in kinds]
    return kinds, values


@given(_rows())
def test_c_and_python_read_every_tuple_back(row):
    _native()
    kinds, values = row
    data = _encoded(kinds, values)
    expected = tuple(v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if isinstance(v, str) else v
                     for v in values)  # a lone surrogate is no UTF-8: read as U+FFFD, as PostgreSQL never sends it
    assert _same(pgcopy.copy_tuple(data, kinds), expected)
    assert _same(pgcopy._copy_tuple(data, kinds), expected)


def _outcome(read, data: bytes, kinds: str):
    try:
        return read(data, kinds)
    except ValueError as exc:
        return ValueError, str(exc)


@given(_rows(), st.data())
def test_damaged_tuples_are_refused_alike(row, data):
    """Cut, lengthened, miscounted or retyped: the same ValueError from both, or the same tuple."""
    _native()
    kinds, values = row
    encoded = bytearray(_encoded(kinds, values))
    damage = data.draw(st.sampled_from(["cut", "extra", "kinds", "byte"]))
    if damage == "cut":
        encoded = encoded[:data.draw(st.integers(0, len(encoded) - 1))]
    elif damage == "extra":
        encoded += data.draw(st.binary(min_size=1, max_size=8))
    elif damage == "kinds":
        kinds = data.draw(st.text(alphabet="tfb", min_size=1, max_size=12).filter(lambda k: k != kinds))
    else:
        encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(st.integers(0, 255))
    native, python = _outcome(pgcopy.copy_tuple, bytes(encoded), kinds), _outcome(pgcopy._copy_tuple,
                                                                                 bytes(encoded), kinds)
    if isinstance(native, tuple) and native and native[0] is ValueError:
        assert python[0] is ValueError
    else:
        assert _same(native, python)


def test_a_stream_that_is_not_a_binary_copy_is_refused():
    with pytest.raises(ValueError):
        list(pgcopy.tuples([b"1\tsome text\n"]))
    with pytest.raises(ValueError):
        list(pgcopy.tuples([]))
    header = pgcopy.SIGNATURE + struct.pack(">II", 0, 0)
    assert list(pgcopy.tuples([header + pgcopy.TRAILER])) == []  # no rows: header and trailer in one message
    row = _encoded("t", ["x"])
    assert list(pgcopy.tuples([header + row, row, pgcopy.TRAILER])) == [row, row]


QUERY = """SELECT * FROM (VALUES
    ('plain', 1.5::float8, true), (NULL, NULL, NULL), ('', '-0'::float8, false),
    ('päärl 😀 ‮ bidi', 'Infinity'::float8, true), (E'tab\\there\\nnewline', '-Infinity'::float8, false),
    (repeat('x', 100000), 'NaN'::float8, true), ('"{\\"noiseKey\\":1}"', 1e-300::float8, NULL)
) AS t(a, b, c)"""


def test_real_copy_reads_as_psycopg_reads_the_same_rows(postgres):
    """Rows of every shape the Evolution read meets, from a real server: what tuples and
    copy_tuple give equals what psycopg's own typed fetch gives."""
    import psycopg

    with psycopg.connect(postgres.url) as conn:
        expected = conn.execute(QUERY).fetchall()
        conn.execute("SET LOCAL client_encoding = 'UTF8'")
        with conn.cursor().copy(f"COPY ({QUERY}) TO STDOUT (FORMAT BINARY)") as copy:
            read = [pgcopy.copy_tuple(row, "tfb") for row in pgcopy.tuples(copy)]
    assert len(read) == len(expected) == 7
    for got, want in zip(read, expected):
        assert _same(got, tuple(want)), (got, want)
        assert _same(pgcopy._copy_tuple(_encoded("tfb", list(want)), "tfb"), got)
