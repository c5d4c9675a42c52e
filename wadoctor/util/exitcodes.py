"""Process exit codes: a contract that cron jobs and monitoring scripts match on."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # nothing above info
    WARNING = 1  # at least one warning, no critical finding
    CRITICAL = 2  # at least one critical finding
    INCOMPLETE = 3  # could not complete: a path or check could not be read or run
    USAGE = 64  # bad command line (sysexits EX_USAGE)
    BUSY = 75  # a session or lock is held by someone else (EX_TEMPFAIL)
    CONFIG = 78  # bad configuration (EX_CONFIG)


def outcome(critical: bool = False, incomplete: bool = False, warning: bool = False) -> ExitCode:
    """The one rule every command's status follows: critical (2) > could not complete (3) >
    warning (1) > ok (0)."""
    if critical:
        return ExitCode.CRITICAL
    if incomplete:
        return ExitCode.INCOMPLETE
    return ExitCode.WARNING if warning else ExitCode.OK
