"""Duplicate identities among a million written sessions are found from hashes of their keys,
counted a batch at a time as the batches arrive (pipeline.stream._Repeats): whatever the
batches and the sessions kept in memory beside them, the hashes found repeated are those any
count of all of them finds (0, a session without that key, never)."""

from __future__ import annotations

from collections import Counter
from itertools import chain

from hypothesis import given
from hypothesis import strategies as st

from wadoctor.pipeline.stream import _Repeats

HASHES = st.integers(-3, 40)  # few values: repeats within and across batches are common


@given(st.lists(st.lists(HASHES, max_size=30), max_size=12), st.lists(HASHES, max_size=10))
def test_repeats_counted_by_batch_are_those_of_one_count(batches, others):
    repeats = _Repeats()
    for batch in batches:
        repeats.note(batch)
    counted = Counter(chain(*batches, others))
    assert repeats.with_others(others) == {value for value, times in counted.items() if times > 1} - {0}
