"""Times as every output writes them: ISO 8601, UTC, whole seconds, a Z."""

from __future__ import annotations

from datetime import datetime, timezone


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
