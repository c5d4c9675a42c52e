"""Errors the core raises for the CLI to print as one line, each carrying its exit code."""

from wadoctor.util.exitcodes import ExitCode


class WadoctorError(Exception):
    """A user-facing failure: printed as one line, never as a traceback."""

    exit_code: ExitCode = ExitCode.INCOMPLETE


class NotFound(WadoctorError):
    """A path, session or entry named that is not there: the command cannot complete (3),
    whichever command it is."""


class ConfigError(WadoctorError):
    exit_code = ExitCode.CONFIG


class UsageError(WadoctorError):
    exit_code = ExitCode.USAGE
