"""The documented contracts match the code: every finding code and exit code is on the page."""

from __future__ import annotations

from tests.conftest import REPO
from wadoctor.core.findings import CODES
from wadoctor.util.exitcodes import ExitCode

CONTRACTS = (REPO / "docs" / "contracts.md").read_text()


def test_every_finding_code_is_documented_with_its_default_severity():
    for code in CODES.values():
        assert f"| `{code.code}` | {code.severity.value} |" in CONTRACTS, code.code


def test_every_exit_code_is_documented():
    for code in ExitCode:
        assert f"| {int(code)} |" in CONTRACTS, code
