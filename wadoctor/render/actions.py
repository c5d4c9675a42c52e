"""How fix, clean and clean-all show what they plan and what they did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from wadoctor.pipeline.report import Report
from wadoctor.render.console import text
from wadoctor.render.envelope import document
from wadoctor.render.jsonout import document_chunks, report_dict
from wadoctor.repair.plan import Action

_STATUS_STYLE = {"planned": "cyan", "done": "green", "skipped": "yellow", "failed": "bold red"}


def action_dict(action: Action) -> dict[str, Any]:
    return {
        "session": action.session.id,
        "path": action.session.location,
        "action": action.kind,
        "codes": action.codes,
        "detail": action.detail,
        "status": action.status,
        "result": action.result,
        "quarantine": action.quarantine_id,
        "paths": [str(p) for p, _ in action.paths],
        "pids": [h.pid for h in action.victims],
    }


def actions_chunks(command: str, actions: list[Action], dry_run: bool, state: Report, exit_code: int,
                   generated_at: float) -> Iterator[bytes]:
    """The document of fix, clean and clean-all, in pieces: the state's sessions a line each,
    as check writes its own (jsonout.document_chunks)."""
    counts = Counter(a.status for a in actions)
    whole = document(command, {
        "dry_run": dry_run,
        "actions": [action_dict(a) for a in actions],
        "state": report_dict(state, sessions=False),
    }, exit_code, {"actions": {s: counts.get(s, 0) for s in ("planned", "done", "skipped", "failed")}}, generated_at)
    return document_chunks(whole, state, 2)


def actions_table(actions: list[Action], left: Sequence[tuple[str, list[str]]] = (), verbose: bool = False) -> Table:
    """One row per action (with -v, each path it moves under it), then one per session whose
    findings no action answers: (id, codes)."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("SESSION", overflow="fold")
    table.add_column("ACTION", overflow="fold")
    table.add_column("STATUS", no_wrap=True)
    table.add_column("RESULT", overflow="fold")
    for action in actions:
        table.add_row(text(action.session.id), text(action.detail), text(action.status, _STATUS_STYLE[action.status]),
                      text(action.result))
        for path, why in action.paths if verbose else ():
            table.add_row("", text(f"  {path}", "dim"), "", text(why, "dim"))
    for session_id, codes in left:
        table.add_row(text(session_id), text("nothing fix can do"), text("left", "yellow"), text(", ".join(codes)))
    return table


def action_line(action: Action) -> str:
    """One line per action, for logs and syslog."""
    where = f" quarantine={action.quarantine_id}" if action.quarantine_id else ""
    return f"{action.status} {action.kind} {action.session.location}: {action.detail}; {action.result}{where}"


def print_actions(console: Console, actions: list[Action], left: Sequence[tuple[str, list[str]]] = (),
                  verbose: bool = False) -> None:
    if actions or left:
        console.print(actions_table(actions, left, verbose))
