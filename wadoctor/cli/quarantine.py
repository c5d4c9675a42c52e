"""`wadoctor restore` and `wadoctor quarantine list|purge`: the way back, and the only delete."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from wadoctor.cli import completion
from wadoctor.cli.options import ConfigFile, Json, Paths, Roots
from wadoctor.util.errors import UsageError, WadoctorError
from wadoctor.util.exitcodes import ExitCode, outcome
from wadoctor.util.times import AGE_EXAMPLES, parse_age

if TYPE_CHECKING:
    from wadoctor.config import Config
    from wadoctor.repair.quarantine import Entry

app = typer.Typer(help="List and purge quarantined sessions and files.", no_args_is_help=True)


def _roots(paths: Paths, config: Config) -> list[Path]:
    """The named paths, else the config's roots and, with [[stores]], the folder beside the config
    that keeps what fix replaced in databases."""
    from wadoctor.app.targets import default_paths
    from wadoctor.repair.backups import database_state_root

    if paths:
        return list(paths)
    return default_paths(config) + ([database_state_root(config.source)] if config.stores else [])


def _entries(paths: Paths, config_file: ConfigFile, problems: list[str]) -> list[Entry]:
    from wadoctor.config import load_config
    from wadoctor.repair.quarantine import entries, state_roots

    config = load_config(config_file)
    roots = _roots(paths, config)
    problems += [f"{root}: no such file or directory" for root in roots if not os.path.lexists(root)]
    return entries(state_roots([r for r in roots if os.path.lexists(r)], config.max_depth), problems)


def _warn_refused(problems: list[str]) -> None:
    """What could not be trusted, one line each: the rest of the command went on."""
    from wadoctor.cli.output import Output

    output = Output()
    for problem in problems:
        output.warn(problem)


def restore(
    entry_id: Annotated[Optional[str], typer.Argument(metavar="RUN-OR-ENTRY", help="A run id (every entry one "
                                                      "fix or clean made) or one entry's id.",
                                                      autocompletion=completion.quarantine_ids)] = None,
    last: Annotated[bool, typer.Option("--last", help="Undo the newest run: every entry it made.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Put files back even where a file has reappeared "
                                        "(the newcomer is quarantined in turn).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be put back; move nothing.")] = False,
    root: Roots = None,
    config_file: ConfigFile = None,
    json: Json = False,
) -> None:
    """Put quarantined paths back where they came from: a whole run, or one entry.

    \b
    Example: wadoctor restore --last --dry-run --root /srv/gateway/sessions
    """
    if (entry_id is None) == (not last):
        raise UsageError("name one RUN-OR-ENTRY, or --last")
    from wadoctor.repair.quarantine import new_run
    from wadoctor.repair.quarantine import restore as restore_entry

    problems: list[str] = []
    found = _entries(root, config_file, problems)
    run = found[-1].run if last and found else entry_id
    chosen = [e for e in found if e.run == run] or [e for e in found if e.id == entry_id]
    _warn_refused(problems)
    if not chosen:
        raise WadoctorError(f"no quarantine entry or run {entry_id or ''} found (see `wadoctor quarantine list`)")
    report = []
    run = new_run()
    for entry in reversed(chosen):  # newest first: undo in the opposite order of the run
        if dry_run:
            report.append({"entry": entry.id, "session": entry.session,
                           "restored": [i.original for i in entry.items], "refused": [], "missing": []})
            continue
        result = restore_entry(entry, run, force)
        report.append({"entry": entry.id, "session": entry.session, "restored": result.restored,
                       "refused": result.refused, "missing": result.missing})
    refused = any(r["refused"] for r in report)
    code = outcome(incomplete=bool(problems), warning=refused)
    if json:
        from wadoctor.render.envelope import document, write_json

        write_json(document("restore", {"run": chosen[0].run, "dry_run": dry_run, "entries": report,
                                        "problems": problems}, int(code), {"entries": len(report)}))
        raise typer.Exit(int(code))
    from wadoctor.cli.output import Output

    output = Output()
    verb = "would restore" if dry_run else "restored"
    for part in report:
        for path in part["restored"]:
            output.out.print(f"{verb} {path}  (entry {part['entry']})", markup=False)
        for path in part["refused"]:
            output.warn(f"{path} exists again: left in quarantine (use --force to put it back anyway)")
    raise typer.Exit(int(code))


@app.command("list")
def list_entries(paths: Paths = None, root: Roots = None, config_file: ConfigFile = None, json: Json = False) -> None:
    """List quarantine entries, oldest first, with the run each belongs to.

    \b
    Example: wadoctor quarantine list /srv/gateway/sessions
    """
    problems: list[str] = []
    found = _entries([*(paths or []), *(root or [])] or None, config_file, problems)
    code = outcome(incomplete=bool(problems))
    if json:
        from wadoctor.render.envelope import document, write_json
        from wadoctor.render.quarantine import entry_dict

        write_json(document("quarantine list", {"entries": [entry_dict(e) for e in found], "problems": problems},
                            int(code), {"entries": len(found)}))
        raise typer.Exit(int(code))
    from wadoctor.cli.output import Output
    from wadoctor.render.quarantine import entries_table

    _warn_refused(problems)
    output = Output()
    if not found:
        output.out.print("The quarantine is empty.")
        raise typer.Exit(int(code))
    output.out.print(entries_table(found))
    raise typer.Exit(int(code))


@app.command("purge")
def purge_entries(
    older_than: Annotated[str, typer.Option("--older-than", metavar="AGE", help="e.g. 30d, 12h, 2w.")],
    paths: Paths = None,
    root: Roots = None,
    config_file: ConfigFile = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required when not on a terminal).")] = False,
) -> None:
    """Delete quarantine entries older than AGE: the one command that really deletes.

    \b
    Example: wadoctor quarantine purge --older-than 30d --dry-run
    """
    age = parse_age(older_than)
    if age is None:
        raise UsageError(f"--older-than takes an age such as {AGE_EXAMPLES}, not {older_than!r}")
    from wadoctor.cli.output import Output
    from wadoctor.render.quarantine import age_text
    from wadoctor.repair.quarantine import purge

    problems: list[str] = []
    cutoff = datetime.now(UTC).timestamp() - age
    chosen = [e for e in _entries([*(paths or []), *(root or [])] or None, config_file, problems)
              if e.created.timestamp() < cutoff]
    _warn_refused(problems)
    output = Output()
    for entry in chosen:
        verb = "would purge" if dry_run else "purging"
        output.out.print(f"{verb} {entry.id} ({entry.session}, made {age_text(entry.created)})", markup=False)
    if chosen and not dry_run and not yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to delete without --yes when standard input is not a terminal")
        if not typer.confirm(f"Delete {len(chosen)} quarantine entr{'y' if len(chosen) == 1 else 'ies'} for good?",
                             err=True):
            raise typer.Exit(int(ExitCode.OK))
    if not dry_run:
        purge(chosen)
    raise typer.Exit(int(outcome(incomplete=bool(problems))))
