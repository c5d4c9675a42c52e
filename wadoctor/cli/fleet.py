"""`wadoctor fleet`: every host, session, holder and conflict the registry knows."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import typer

from wadoctor.cli.options import ConfigFile, Json, Registry
from wadoctor.util.errors import ConfigError
from wadoctor.util.exitcodes import outcome

if TYPE_CHECKING:
    from wadoctor.fleet.registry import GuardRow


def _conflicts(sessions: list[dict[str, Any]], guards: list[GuardRow]) -> list[dict[str, Any]]:
    """Identities present on more than one host, in published checks or held by live guards."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in sessions:
        key = row["device_key"] and f"device {row['device_key']}" or (
            row["noise_fingerprint"] and f"noise key {row['noise_fingerprint']}")
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


def fleet(registry: Registry = None, config_file: ConfigFile = None, json: Json = False) -> None:
    """Show the whole fleet from the registry: hosts, sessions, holders, cross-host conflicts.
    Exit 2 when an identity is live on two hosts, 1 for other conflicts or silent hosts.

    \b
    Example: wadoctor fleet --registry postgresql://wadoctor@db.internal/gateways
    """
    from wadoctor.config import load_config, registry_url
    from wadoctor.fleet.registry import connect, ensure_schema, live_guards, read_fleet
    from wadoctor.util.times import iso

    config = load_config(config_file)
    url = registry_url(config, registry)
    if not url:
        raise ConfigError("no registry: give --registry URL, $WADOCTOR_REGISTRY or [registry] url")
    conn = connect(url)
    try:
        ensure_schema(conn)
        hosts, sessions = read_fleet(conn)
        guards = live_guards(conn)
    finally:
        conn.close()
    conflicts = _conflicts(sessions, guards)
    silent = [h.host for h in hosts if h.age_seconds > config.registry_stale_minutes * 60]
    code = outcome(critical=any(c["severity"] == "critical" for c in conflicts), warning=bool(conflicts or silent))
    if json:
        from wadoctor.render.envelope import document, write_json

        write_json(document("fleet", {
            "hosts": [{"host": h.host, "reported_at": iso(h.reported_at.timestamp()), "sessions": h.sessions,
                       "wadoctor": h.wadoctor, "silent": h.host in silent} for h in hosts],
            "sessions": sessions, "conflicts": conflicts,
            "guards": [{"identity": g.identity, "host": g.host, "pid": g.pid, "started": iso(g.started),
                        "cmdline": g.cmdline, "since": iso(g.since.timestamp())} for g in guards],
        }, int(code), {"hosts": len(hosts), "sessions": len(sessions), "conflicts": len(conflicts)}))
        raise typer.Exit(int(code))
    from rich.table import Table

    from wadoctor.cli.output import Output
    from wadoctor.render.console import text
    from wadoctor.render.table import human_age

    out = Output().out
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("HOST", "SESSION", "IDENTITY", "STATE", "HELD BY", "FINDINGS"):
        table.add_column(column, overflow="fold")
    for row in sessions:
        holders = ", ".join(f"{h['name']} {h['pid']}" for h in row["holders"]) or "-"
        worst = sorted({f["code"] for f in row["findings"] if f["severity"] != "info"})
        table.add_row(row["host"] + (" (silent)" if row["host"] in silent else ""), row["session_id"],
                      row["device_key"] or "-", row["state"], holders, ", ".join(worst) or "ok")
    out.print(table)
    if guards:
        held = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("GUARDED IDENTITY", "HOST", "PID", "SINCE"):
            held.add_column(column, overflow="fold")
        for g in guards:
            held.add_row(g.identity, g.host, str(g.pid), human_age(g.since.timestamp(), time.time()))
        out.print()
        out.print(held)
    for conflict in conflicts:
        style = "bold red" if conflict["severity"] == "critical" else "yellow"
        out.print(text(f"{conflict['severity']}: {conflict['identity']} on {', '.join(conflict['paths'])}"
                       f" (held on {', '.join(conflict['held_on']) or 'none'})", style))
    out.print(f"{len(hosts)} hosts, {len(sessions)} sessions, {len(guards)} guarded identities, "
              f"{len(conflicts)} cross-host conflicts"
              + (f", silent: {', '.join(silent)}" if silent else ""))
    raise typer.Exit(int(code))
