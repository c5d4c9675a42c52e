"""The console entry point: parses arguments with the Typer app, maps errors to exit codes.

`--version` is answered before Typer is even imported: cron jobs and monitoring ask it often.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from wadoctor import __version__
from wadoctor.util.errors import WadoctorError
from wadoctor.util.escape import visible
from wadoctor.util.exitcodes import ExitCode


def _fail(message: str, code: ExitCode) -> None:
    print(f"wadoctor: error: {visible(message)}", file=sys.stderr)
    sys.exit(int(code))


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: never a traceback for a user error, always a documented code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        print(f"wadoctor {__version__}")
        sys.exit(int(ExitCode.OK))
    import typer

    # Typer vendors Click (>= 0.26); its UsageError is what a bad command line raises.
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
    from typer._click.exceptions import UsageError as ClickUsageError

    from wadoctor.cli.app import build_app

    app = build_app(args[0] if args else None)  # a completion or `--help` run names none: all
    try:
        code = app(args=args, prog_name="wadoctor", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # bare `wadoctor` or a bare group: its help, as written
        print(exc.ctx.get_help() if exc.ctx else exc.message, file=sys.stderr)
        sys.exit(int(ExitCode.USAGE))
    except ClickUsageError as exc:
        exc.message = visible(exc.message)  # it may quote what was typed
        exc.show()
        sys.exit(int(ExitCode.USAGE))
    except ClickException as exc:
        exc.message = visible(exc.message)
        exc.show()
        sys.exit(int(ExitCode.INCOMPLETE))
    except WadoctorError as exc:
        _fail(str(exc), exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", ExitCode.INCOMPLETE)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        if os.environ.get("WADOCTOR_DEBUG"):
            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc} (set WADOCTOR_DEBUG=1 for the traceback "
              "and please report it)", ExitCode.INCOMPLETE)
    sys.exit(int(code or 0))
