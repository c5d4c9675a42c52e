"""Duplicate identities among a million written sessions are found from hashes of their keys,
counted a slice at a time by set operations (pipeline.stream.repeated): whatever the slices
and the sessions kept in memory beside them, the hashes found repeated are those any count of
all of them finds (0, a session without that key, never)."""

from __future__ import annotations

from array import array
from collections import Counter
from itertools import chain

from hypothesis import given
from hypothesis import strategies as st

from wadoctor.pipeline import stream

HASHES = st.integers(-3, 40)  # few values: repeats within and across batches are common


@given(st.lists(HASHES, max_size=300), st.lists(HASHES, max_size=10), st.integers(1, 40))
def test_repeats_counted_by_slice_are_those_of_one_count(values, others, size):
    found = stream.repeated(array("q", values), others, size)
    counted = Counter(chain(values, others))
    assert found == {value for value, times in counted.items() if times > 1} - {0}
