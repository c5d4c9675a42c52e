"""The house rules, checked by machines on every run of the suite: the import floors
(import-linter contracts in pyproject.toml), ruff's rule set, and mypy (strict on the core,
the config and the app layer; elsewhere no more errors than when the rule was set)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

MYPY_ERRORS_ELSEWHERE = 31  # the count when strict typing began; only ever lowered
STRICT = re.compile(r"^wadoctor/(core/|app/|config\.py)")
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_no_import_runs_back_up_the_floors() -> None:
    run = _run(str(BIN / "lint-imports"), "--no-cache")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_ruff_finds_nothing() -> None:
    run = _run(sys.executable, "-m", "ruff", "check", "--no-cache", "wadoctor", "tests", "benchmarks")
    assert run.returncode == 0, run.stdout[-3000:]


def test_mypy_strict_floors_are_clean_and_the_rest_no_worse() -> None:
    run = _run(sys.executable, "-m", "mypy", "--no-incremental")
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if STRICT.match(e)], "\n".join(errors)
    assert len(errors) <= MYPY_ERRORS_ELSEWHERE, "\n".join(errors)
