"""The registry's whole picture and the identities present on two hosts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wadoctor.core.model import identity_label
from wadoctor.fleet.registry import GuardRow, HostRow
from wadoctor.util.exitcodes import ExitCode, outcome


@dataclass
class FleetView:
    hosts: list[HostRow]
    sessions: list[dict[str, Any]]
    guards: list[GuardRow]
    conflicts: list[dict[str, Any]]
    silent: list[str]  # hosts that have not reported within the stale limit

    @property
    def exit_code(self) -> ExitCode:
        """2 when an identity is live on two hosts, 1 for other conflicts or silent hosts."""
        return outcome(critical=any(c["severity"] == "critical" for c in self.conflicts),
                       warning=bool(self.conflicts or self.silent))


def cross_host(sessions: list[dict[str, Any]], guards: list[GuardRow]) -> list[dict[str, Any]]:
    """Identities present on more than one host, in published checks or held by live guards;
    critical when held live on two of them."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in sessions:
        key = identity_label(row["device_key"], row["noise_fingerprint"])
        if key:
            groups.setdefault(key, []).append(row)
    for guard in guards:
        groups.setdefault(guard.identity, []).append({"host": guard.host, "path": f"(guard pid {guard.pid})",
                                                      "held": True})
    found = []
    for identity, rows in sorted(groups.items()):
        hosts = sorted({r["host"] for r in rows})
        if len(hosts) >= 2:
            held = sorted({r["host"] for r in rows if r["held"]})
            found.append({"identity": identity, "hosts": hosts, "held_on": held,
                          "severity": "critical" if len(held) >= 2 else "warning",
                          "paths": [f"{r['host']}:{r['path']}" for r in rows]})
    return found
