"""`wadoctor restore` and `wadoctor quarantine list|purge`: the way back, and the only delete."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from wadoctor.cli import completion
from wadoctor.cli.options import ConfigFile, Json, Paths, Roots
from wadoctor.util.errors import UsageError
from wadoctor.util.exitcodes import ExitCode
from wadoctor.util.times import AGE_EXAMPLES, parse_age

if TYPE_CHECKING:
    from wadoctor.app.quarantine import Found

app = typer.Typer(help="List and purge quarantined sessions and files.", no_args_is_help=True)


def _found(paths: list[Path] | None, config_file: ConfigFile) -> Found:
    from wadoctor.app.quarantine import find
    from wadoctor.config import load_config

    found = find(paths, load_config(config_file))
    _warn_refused(found.problems)
    return found


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
    from wadoctor.app.quarantine import restore_run

    result = restore_run(_found(root, config_file), entry_id, force, dry_run)
    if json:
        from wadoctor.render.envelope import write_json
        from wadoctor.render.quarantine import restored_document

        write_json(restored_document(result))
    else:
        from wadoctor.cli.output import Output
        from wadoctor.render.quarantine import print_restored

        output = Output()
        print_restored(output.out, output.warn, result)
    raise typer.Exit(int(result.exit_code))


@app.command("list")
def list_entries(paths: Paths = None, root: Roots = None, config_file: ConfigFile = None, json: Json = False) -> None:
    """List quarantine entries, oldest first, with the run each belongs to.

    \b
    Example: wadoctor quarantine list /srv/gateway/sessions
    """
    found = _found([*(paths or []), *(root or [])] or None, config_file)
    if json:
        from wadoctor.render.envelope import write_json
        from wadoctor.render.quarantine import entries_document

        write_json(entries_document(found))
    else:
        from wadoctor.cli.output import Output
        from wadoctor.render.quarantine import entries_table

        output = Output()
        output.out.print(entries_table(found.entries) if found.entries else "The quarantine is empty.")
    raise typer.Exit(int(found.exit_code))


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
    from wadoctor.app.quarantine import older_than as chosen_older
    from wadoctor.app.quarantine import purge_entries
    from wadoctor.cli.output import Output
    from wadoctor.render.quarantine import age_text

    found = _found([*(paths or []), *(root or [])] or None, config_file)
    chosen = chosen_older(found, age)
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
        purge_entries(chosen)
    raise typer.Exit(int(found.exit_code))
