"""Times in every output: the C `iso` (wadoctor/util/_times.c) writes what time.gmtime and
strftime write, for every second a four-digit year holds, fractions and edges included."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wadoctor.util import times

YEAR_10000 = 253402300800


def _native() -> None:
    assert times._iso is not times._gmtime_iso, (
        "wadoctor/util/_times.c was not built: reinstall with a C compiler (pip install -e .)")


@given(st.floats(min_value=0, max_value=YEAR_10000, exclude_max=True))
def test_c_iso_writes_what_gmtime_writes(timestamp):
    _native()
    assert times._iso(timestamp) == times._gmtime_iso(timestamp)


@pytest.mark.parametrize("timestamp", [0, 0.999, 59, 86399.5, 951782400, 951868800, 4107542400, 1763805600,
                                       253402300799, 253402300799.999])
def test_c_iso_at_the_edges(timestamp):
    _native()
    assert times._iso(timestamp) == times._gmtime_iso(timestamp)


def test_iso_outside_four_digit_years_and_none():
    assert times.iso(None) is None
    assert times.iso(-1) == "1969-12-31T23:59:59Z"
    for unwritable in (float("inf"), float("-inf"), float("nan"), YEAR_10000, 1e300, -1e300):
        assert times.iso(unwritable) is None
    with pytest.raises(ValueError):
        times._iso(-0.5)
