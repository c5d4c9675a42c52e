"""`wadoctor fleet` as a document and as tables."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table

from wadoctor.fleet.view import FleetView
from wadoctor.render.console import text
from wadoctor.render.envelope import document
from wadoctor.render.table import human_age
from wadoctor.util.times import iso


def fleet_document(view: FleetView) -> dict[str, Any]:
    return document("fleet", {
        "hosts": [{"host": h.host, "reported_at": iso(h.reported_at.timestamp()), "sessions": h.sessions,
                   "wadoctor": h.wadoctor, "silent": h.host in view.silent} for h in view.hosts],
        "sessions": view.sessions, "conflicts": view.conflicts,
        "guards": [{"identity": g.identity, "host": g.host, "pid": g.pid, "started": iso(g.started),
                    "cmdline": g.cmdline, "since": iso(g.since.timestamp())} for g in view.guards],
    }, int(view.exit_code), {"hosts": len(view.hosts), "sessions": len(view.sessions),
                             "conflicts": len(view.conflicts)})


def print_fleet(console: Console, view: FleetView) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("HOST", "SESSION", "IDENTITY", "STATE", "HELD BY", "FINDINGS"):
        table.add_column(column, overflow="fold")
    for row in view.sessions:
        holders = ", ".join(f"{h['name']} {h['pid']}" for h in row["holders"]) or "-"
        worst = sorted({f["code"] for f in row["findings"] if f["severity"] != "info"})
        table.add_row(row["host"] + (" (silent)" if row["host"] in view.silent else ""), row["session_id"],
                      row["device_key"] or "-", row["state"], holders, ", ".join(worst) or "ok")
    console.print(table)
    if view.guards:
        held = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("GUARDED IDENTITY", "HOST", "PID", "SINCE"):
            held.add_column(column, overflow="fold")
        for g in view.guards:
            held.add_row(g.identity, g.host, str(g.pid), human_age(g.since.timestamp(), time.time()))
        console.print()
        console.print(held)
    for conflict in view.conflicts:
        style = "bold red" if conflict["severity"] == "critical" else "yellow"
        console.print(text(f"{conflict['severity']}: {conflict['identity']} on {', '.join(conflict['paths'])}"
                           f" (held on {', '.join(conflict['held_on']) or 'none'})", style))
    console.print(f"{len(view.hosts)} hosts, {len(view.sessions)} sessions, {len(view.guards)} guarded identities, "
                  f"{len(view.conflicts)} cross-host conflicts"
                  + (f", silent: {', '.join(view.silent)}" if view.silent else ""))
