"""Each finding code's evidence has one shape (wadoctor.core.evidence.EVIDENCE), the one
docs/contracts.md lists, and nothing else can be attached to it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import EXAMPLES, REPO
from wadoctor.core.evidence import EVIDENCE, GuardLock, KeyFiles
from wadoctor.core.findings import CODES, Observation


def test_the_contract_lists_each_code_s_evidence_fields_as_the_table_declares() -> None:
    text = (REPO / "docs" / "contracts.md").read_text()
    section = text.split("### Evidence per code", 1)[1].split("\n## ", 1)[0]
    documented = {code: re.findall(r"`(\w+)`", names)
                  for code, names in re.findall(r"^\| `([\w-]+)` \| (.+) \|$", section, re.M)}
    assert documented == {code: list(shape.record_fields) for code, shape in EVIDENCE.items()}
    assert set(EVIDENCE) <= set(CODES)


def test_a_code_takes_only_its_own_shape() -> None:
    assert Observation("lock-stale", "left", GuardLock("/s/.wadoctor.lock", 7, "gw")).evidence is not None
    with pytest.raises(TypeError):
        Observation("lock-stale", "left", KeyFiles(3))
    with pytest.raises(TypeError):
        Observation("unpaired", "waiting", KeyFiles(3))  # a code with no evidence takes none


def test_the_evidence_a_check_writes_is_what_the_table_says(cli) -> None:
    doc = cli("check", "--json", "--no-backup", EXAMPLES).json()
    seen = 0
    for session in doc["sessions"]:
        for finding in session["findings"]:
            allowed = set(EVIDENCE[finding["code"]].record_fields) if finding["code"] in EVIDENCE else set()
            assert set(finding["evidence"]) <= allowed, finding
            seen += bool(finding["evidence"])
    assert seen >= 5
