"""The spool a streamed report keeps its sessions in gives back what was put in, in order,
whatever was replaced since, and records larger than its read block."""

from __future__ import annotations

from array import array

from hypothesis import given
from hypothesis import strategies as st

from wadoctor.util.spool import _BUFFER, Spool

_records = st.lists(st.one_of(st.binary(max_size=40), st.just(b"z" * (_BUFFER + 7))), min_size=1, max_size=30)


@given(st.lists(_records, min_size=1, max_size=4), st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=50))))
def test_records_come_back_in_order_with_the_replaced_ones_new(batches, replacements):
    spool = Spool()
    expected: list[bytes] = []
    try:
        for batch in batches:
            spool.extend(b"".join(batch), array("I", map(len, batch)))
            expected += batch
        for pick, record in replacements:
            spool[pick % len(expected)] = record
            expected[pick % len(expected)] = record
        assert len(spool) == len(expected)
        assert list(spool) == expected
        assert [spool[i] for i in range(len(expected))] == expected
        spool.extend(b"tail", array("I", [4]))  # written after reading: read back too
        assert list(spool)[-1] == spool[len(expected)] == b"tail"
    finally:
        spool.close()
