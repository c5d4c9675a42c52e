"""Byte-compile wadoctor before it is timed, as `pip install` leaves an installed copy.

An editable install run with PYTHONDONTWRITEBYTECODE set (as on these machines) never
writes .pyc files, so every run would compile some 30 modules from source again: about
40 ms of CPU on each start, which no installed wadoctor pays.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wadoctor"


def byte_compile() -> None:
    compileall.compile_dir(PACKAGE, quiet=1)
