"""`check --registry`: read the fleet before diagnosis, publish this host after it.

A registry that is down or slow never hides the local picture: the check completes, says
`registry-unreachable` and exits 3 unless something worse was found.
"""

from __future__ import annotations

from typing import Any

from wadoctor.core.evidence import Copies, SilentHost
from wadoctor.core.findings import Observation, Severity
from wadoctor.core.model import Session
from wadoctor.fleet.registry import (
    GuardRow,
    RegistryUnavailable,
    connect,
    ensure_schema,
    live_guards,
    publish,
    read_fleet,
    require_psycopg,
    this_host,
)
from wadoctor.util.masking import mask_url
from wadoctor.util.times import iso


class FleetLink:
    def __init__(self, url: str, stale_minutes: float) -> None:
        require_psycopg()  # a missing extra is a one-line config error, not an unreachable registry
        self.url = url
        self.stale_minutes = stale_minutes
        self.host = this_host()
        self.conn: Any = None
        self.hosts: list[Any] = []
        self.guards: list[GuardRow] = []
        self.observations: list[tuple[str, Observation]] = []  # (subject, observation) beyond one session

    def _fail(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, RegistryUnavailable) else f"registry error: {exc}"
        self.observations.append((self.url_shown, Observation("registry-unreachable", message)))
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @property
    def url_shown(self) -> str:
        """The URL without its password."""
        return mask_url(self.url)

    def observe(self, sessions: list[Session]) -> None:
        """Cross-host duplicate identities on local sessions, and hosts gone silent."""
        try:
            self.conn = connect(self.url)
            ensure_schema(self.conn)
            self.hosts, rows = read_fleet(self.conn)
            self.guards = [g for g in live_guards(self.conn) if g.host != self.host]
        except Exception as exc:  # noqa: BLE001 - psycopg's errors and ours alike end in a finding
            self._fail(exc)
            return
        # other hosts' rows by identity, so each local session is two look-ups, not a scan
        by_field: dict[str, dict[str, list[dict[str, Any]]]] = {"device_key": {}, "noise_fingerprint": {}}
        for row in rows:
            if row["host"] != self.host:
                for field, index in by_field.items():
                    if row[field]:
                        index.setdefault(row[field], []).append(row)
        # identities guards hold live on other hosts: the strongest evidence, published or not
        guarded: dict[str, list[GuardRow]] = {}
        for guard in self.guards:
            guarded.setdefault(guard.identity, []).append(guard)
        for session in sessions:
            if session.identity is None:
                continue
            found = {id(r): r for field, index in by_field.items()
                     for r in index.get(getattr(session.identity, field) or "", [])}
            same = list(found.values())
            guards = guarded.get(session.identity.label or "", [])
            if not same and not guards:
                continue
            places = [f"live on host {g.host} under guard pid {g.pid} since {iso(g.since.timestamp())}"
                      for g in guards]
            places += [f"on {r['host']}:{r['path']}" + (" (held)" if r["held"] else "") for r in same]
            live = bool(session.holders) and (bool(guards) or any(r["held"] for r in same))
            state = "live on two hosts: split brain" if live else "it will conflict once both run"
            session.observe("duplicate-identity", f"{session.identity.label} is also {', '.join(places[:3])}; "
                            f"{state}",
                            Copies(tuple(f"{r['host']}:{r['path']}" for r in same),
                                   hosts=tuple(sorted({r["host"] for r in same} | {g.host for g in guards})),
                                   guards=tuple({"host": g.host, "pid": g.pid, "since": iso(g.since.timestamp())}
                                                for g in guards)),
                            severity=Severity.CRITICAL if live else None)
        for host in self.hosts:
            if host.host != self.host and host.age_seconds > self.stale_minutes * 60:
                self.observations.append((f"host {host.host}", Observation(
                    "fleet-host-silent", f"host {host.host} has not reported for {host.age_seconds / 60:.0f} min "
                    f"(threshold {self.stale_minutes:g})", SilentHost(host.host, round(host.age_seconds / 60)))))

    def publish(self, sessions: list[Session]) -> None:
        if self.conn is None:
            return
        try:
            publish(self.conn, self.host, sessions)
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
        finally:
            if self.conn is not None:
                self.conn.close()
                self.conn = None

    def summary(self) -> dict[str, Any]:
        return {"registry": self.url_shown, "host": self.host,
                "hosts": [{"host": h.host, "reported_at": iso(h.reported_at.timestamp()), "sessions": h.sessions,
                           "wadoctor": h.wadoctor} for h in self.hosts]}
