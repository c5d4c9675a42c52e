"""`restore`, `quarantine list` and `quarantine purge`: finding entries, undoing runs, and the
one delete, each returning what its command shows and the status it exits with."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wadoctor.app.targets import default_paths
from wadoctor.config import Config
from wadoctor.repair.backups import database_state_root
from wadoctor.repair.quarantine import Entry, entries, new_run, purge, restore, state_roots
from wadoctor.util.errors import NotFound
from wadoctor.util.exitcodes import ExitCode, outcome


@dataclass
class Found:
    """The entries wadoctor can trust under the roots, oldest first, and what it could not."""

    entries: list[Entry]
    problems: list[str]

    @property
    def exit_code(self) -> ExitCode:
        return outcome(incomplete=bool(self.problems))


@dataclass
class Restored:
    run: str  # the run (or the entry's run) put back
    dry_run: bool
    entries: list[dict[str, Any]] = field(default_factory=list)  # entry, session, restored, refused, missing
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return outcome(incomplete=bool(self.problems), warning=any(e["refused"] for e in self.entries))


def quarantine_roots(paths: list[Path] | None, config: Config) -> list[Path]:
    """The named paths, else the config's roots and, with [[stores]], the folder beside the
    config that keeps what fix replaced in databases."""
    if paths:
        return list(paths)
    return default_paths(config) + ([database_state_root(config.source)] if config.stores else [])


def find(paths: list[Path] | None, config: Config) -> Found:
    roots = quarantine_roots(paths, config)
    problems = [f"{root}: no such file or directory" for root in roots if not os.path.lexists(root)]
    found = entries(state_roots([r for r in roots if os.path.lexists(r)], config.max_depth), problems)
    return Found(found, problems)


def restore_run(found: Found, entry_id: str | None, force: bool, dry_run: bool) -> Restored:
    """Put back one entry, or every entry of a run (the newest run when `entry_id` is None),
    newest first: the opposite order of the run."""
    run = found.entries[-1].run if entry_id is None and found.entries else entry_id
    chosen = [e for e in found.entries if e.run == run] or [e for e in found.entries if e.id == entry_id]
    if not chosen:
        raise NotFound(f"no quarantine entry or run {entry_id or ''} found (see `wadoctor quarantine list`)")
    result = Restored(chosen[0].run, dry_run, problems=list(found.problems))
    this_run = new_run()
    for entry in reversed(chosen):
        if dry_run:
            back, refused, missing = [i.original for i in entry.items], [], []
        else:
            done = restore(entry, this_run, force)
            back, refused, missing = done.restored, done.refused, done.missing
        result.entries.append({"entry": entry.id, "session": entry.session, "restored": back,
                               "refused": refused, "missing": missing})
    return result


def older_than(found: Found, seconds: float) -> list[Entry]:
    cutoff = time.time() - seconds
    return [e for e in found.entries if e.created.timestamp() < cutoff]


def purge_entries(chosen: list[Entry]) -> None:
    purge(chosen)
