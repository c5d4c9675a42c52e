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
