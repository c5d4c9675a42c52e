"""The fast path for the commands cron and monitoring run all day: `list`, `check`, `logs`.

Importing Typer (with the Click it vendors) and building a command costs more than the
interpreter's own start-up. For a plain command line of these three commands (known options,
no help, no completion) this table parses it and the command's body (cli/runs.py) runs with
the same arguments Typer would pass. Anything else (`--help`, a typo, a clustered `-qv`,
`--`, a completion request, a value Click would refuse) returns None, and Typer parses the
command line as ever, with its messages. tests/test_hot_path.py holds this table to the
Typer declarations, option by option.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

FLAG, VALUE, FILE, REPEAT = "flag", "value", "file", "repeat"  # how an option takes its value


class Hot(NamedTuple):
    """One command: its positional parameter, and its options as (names, parameter, kind)."""

    run: str  # the body's name in cli/runs.py
    positional: str
    required: bool  # at least one positional value
    options: tuple[tuple[tuple[str, ...], str, str], ...]


_SHARED = (
    (("--config", "-c"), "config_file", FILE),
    (("--json",), "json", FLAG),
    (("--quiet", "-q"), "quiet", FLAG),
    (("--verbose", "-v"), "verbose", FLAG),
)

HOT: dict[str, Hot] = {
    "list": Hot("list_sessions", "paths", False, _SHARED),
    "check": Hot("check", "paths", False, (
        *_SHARED,
        (("--deep",), "deep", FLAG),
        (("--no-backup",), "no_backup", FLAG),
        (("--logs",), "log_files", REPEAT),
        (("--registry",), "registry", VALUE),
        (("--nagios",), "nagios", FLAG),
        (("--prometheus",), "prometheus", FILE),
    )),
    "logs": Hot("logs", "files", True, (
        *_SHARED,
        (("--since",), "since", VALUE),
        (("--until",), "until", VALUE),
        (("--session",), "session", VALUE),
        (("--pattern",), "pattern", VALUE),
        (("--follow", "-f"), "follow", FLAG),
        (("--prometheus",), "prometheus", FILE),
    )),
}

COMPLETION_VARIABLE = "_WADOCTOR_COMPLETE"  # set by the shell when it asks for completions


def hot_call(args: list[str]) -> Callable[[], int] | None:
    """The command's body bound to its arguments, or None where Typer must parse."""
    if not args or args[0] not in HOT or COMPLETION_VARIABLE in os.environ:
        return None
    parsed = _parse(HOT[args[0]], args[1:])
    if parsed is None:
        return None
    from wadoctor.cli import runs

    body = getattr(runs, HOT[args[0]].run)
    return lambda: int(body(**parsed))


def _parse(command: Hot, args: list[str]) -> dict[str, Any] | None:
    by_name = {name: (parameter, kind) for names, parameter, kind in command.options for name in names}
    values: dict[str, Any] = {}
    positional: list[str] = []
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "-" or not arg.startswith("-"):
            positional.append(arg)
            continue
        name, has_value, value = arg.partition("=")
        if name not in by_name or (has_value and not name.startswith("--")):
            return None  # unknown, `--help`, `--`, `-qv`, `-cFILE`: Typer's to parse or refuse
        parameter, kind = by_name[name]
        if kind == FLAG:
            if has_value or parameter in values:
                return None
            values[parameter] = True
            continue
        if not has_value:
            if not queue:
                return None
            value = queue.pop(0)
        if kind == REPEAT:
            values.setdefault(parameter, []).append(value)
        elif parameter in values or (kind == FILE and (not value or os.path.isdir(value))):
            return None  # Click decides which of two values wins, and says what is wrong with a path
        else:
            values[parameter] = Path(value) if kind == FILE else value
    if command.required and not positional:
        return None
    if positional:
        values[command.positional] = positional
    return values
