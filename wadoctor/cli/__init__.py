"""The console entry point: parses arguments, maps errors to exit codes.

`--version`, and plain command lines of `list`, `check` and `logs` (cli/hot.py), are answered
without importing Typer: cron jobs and monitoring run them often. Everything else goes through
the Typer app.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, TextIO

from wadoctor import __version__
from wadoctor.util.errors import WadoctorError
from wadoctor.util.escape import visible
from wadoctor.util.exitcodes import ExitCode


def _fail(message: str, code: ExitCode) -> NoReturn:
    print(f"wadoctor: error: {visible(message)}", file=sys.stderr)
    _exit(int(code))


class ReaderGone(BaseException):
    """Standard output's reader has gone (EPIPE). Not an OSError, so neither Click (which
    turns a broken pipe into exit 1) nor a handler of failed actions can swallow it."""


class _Stdout:
    """Standard output, raising ReaderGone where a write or flush meets a broken pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise ReaderGone from None

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise ReaderGone from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _exit(code: int) -> NoReturn:
    """Exit with `code`, even when the reader of standard output left after reading all it
    wanted (`check | head`): what was decided stands, no 'Broken pipe' is added."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ReaderGone):
        _stdout_to_devnull()
    sys.exit(code)


def _exit_now(code: int) -> NoReturn:
    """Exit as `_exit` does, without the interpreter's teardown: freeing every module and
    object one by one is a tenth of a cron `check` or `logs` run, and the kernel frees them
    at once. Only once the command's work is done: its files are closed, its output flushed."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ReaderGone):
        _stdout_to_devnull()
    sys.stderr.flush()
    os._exit(code)


def _stdout_to_devnull() -> None:
    """So that the interpreter's own last flush finds nowhere to fail."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _die_by_sigpipe() -> NoReturn:
    """The reader left while the output was still being written: end as any Unix filter
    does, by SIGPIPE, never with an exit status a script would take for a verdict."""
    _stdout_to_devnull()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(128 + signal.SIGPIPE)  # not reached


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: never a traceback for a user error, always a documented code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        print(f"wadoctor {__version__}")
        _exit(int(ExitCode.OK))
    from wadoctor.cli.hot import hot_call

    call = hot_call(args)
    sys.stdout = _Stdout(sys.stdout)
    if call is None:
        _exit(_typer(args))
    code = _guarded(call)
    if argv is None:  # the process is this command's: its work is done and written
        _exit_now(code)
    _exit(code)


def _typer(args: list[str]) -> int:
    """Any command line the fast path leaves (help, errors, completion, every other command)."""
    # Typer vendors Click (>= 0.26); its UsageError is what a bad command line raises.
    from typer import Abort
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
    from typer._click.exceptions import UsageError as ClickUsageError

    from wadoctor.cli.app import build_app

    app = build_app(args[0] if args else None)  # a completion or `--help` run names none: all

    def run() -> int:
        try:
            return int(app(args=args, prog_name="wadoctor", standalone_mode=False) or 0)
        except NoArgsIsHelpError as exc:  # bare `wadoctor` or a bare group: its help, as written
            print(exc.ctx.get_help() if exc.ctx else exc.message, file=sys.stderr)
            return int(ExitCode.USAGE)
        except ClickUsageError as exc:
            exc.message = visible(exc.message)  # it may quote what was typed
            exc.show()
            return int(ExitCode.USAGE)
        except ClickException as exc:
            exc.message = visible(exc.message)
            exc.show()
            return int(ExitCode.INCOMPLETE)
        except Abort:  # a confirmation prompt answered with ^C or ^D
            _fail("interrupted", ExitCode.INCOMPLETE)

    return _guarded(run)


def _guarded(run: Callable[[], int]) -> int:
    """The exit code of `run`, whatever it raises: a user's error is one line, never a traceback."""
    try:
        return run()
    except (BrokenPipeError, ReaderGone):
        _die_by_sigpipe()
    except WadoctorError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", ExitCode.INCOMPLETE)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        if os.environ.get("WADOCTOR_DEBUG"):
            import traceback

            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (set WADOCTOR_DEBUG=1 for the traceback "
              "and please report it)", ExitCode.INCOMPLETE)
