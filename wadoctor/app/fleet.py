"""`fleet`: read the registry's whole picture once."""

from __future__ import annotations

from wadoctor.fleet.registry import connect, ensure_schema, live_guards, read_fleet
from wadoctor.fleet.view import FleetView, cross_host


def read_view(url: str, stale_minutes: float) -> FleetView:
    conn = connect(url)
    try:
        ensure_schema(conn)
        hosts, sessions = read_fleet(conn)
        guards = live_guards(conn)
    finally:
        conn.close()
    silent = [h.host for h in hosts if h.age_seconds > stale_minutes * 60]
    return FleetView(hosts, sessions, guards, cross_host(sessions, guards), silent)
