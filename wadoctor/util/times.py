"""Times as every output writes them: ISO 8601, UTC, whole seconds, a Z."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

_YEAR_10000 = 253402300800  # the first second datetime cannot hold


def _gmtime_iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


try:  # the same in C (wadoctor/util/_times.c), where it was built: a tenth of the cost
    from wadoctor.util._times import iso as _iso
except ImportError:  # pragma: no cover - a build without a C compiler
    _iso = _gmtime_iso


def iso(timestamp: float | None) -> str | None:
    """None for no time, and for one no calendar writes: a database's `infinity`, NaN, a year
    past 9999 (what a row holds is data; it never ends a run)."""
    if timestamp is None:
        return None
    if 0 <= timestamp < _YEAR_10000:  # three times per session written
        return _iso(timestamp)
    try:
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):
        return None


_AGE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
AGE_EXAMPLES = "30m, 12h, 30d or 2w"


def parse_age(text: str) -> float | None:
    """An age as people write it on a command line (`30m`, `2h`, `1d`, `2w`) in seconds;
    None when it is not one. The one parser of ages: --since and --older-than alike."""
    match = _AGE.match(text.strip())
    return int(match[1]) * _UNITS[match[2]] if match else None
