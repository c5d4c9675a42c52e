"""SIGKILL `fix` at random points: nothing is ever lost, and a second fix finishes the job.
(benchmarks/crash_fix.py runs hundreds of these trials.)"""

from __future__ import annotations

import os
import random

import pytest

from tests.conftest import REPO
from tests.repair_helpers import crash_tree, inventory, kill_fix_at, lost_bytes

# Random unless replayed; printed in pytest's header (tests/conftest.py) and in every failure.
SEED = int(os.environ.get("WADOCTOR_CRASH_SEED", random.randrange(1 << 30)))


@pytest.mark.parametrize("trial", range(6))
def test_killed_fix_loses_nothing_and_a_second_fix_finishes(tmp_path, cli, neonize_store_template, trial):
    delay = random.Random(SEED + trial).uniform(0.15, 0.9)
    sessions = crash_tree(tmp_path, cli, neonize_store_template)
    before = inventory(tmp_path)
    kill_fix_at(sessions, delay, {**os.environ, "PYTHONPATH": str(REPO)})
    assert lost_bytes(before, tmp_path) == [], f"seed {SEED}, delay {delay:.3f}s"
    second = cli("fix", "--json", sessions)
    failed = [a for a in second.json()["actions"] if a["status"] == "failed"] if second.out else second.err
    assert second.code == 0, (failed, f"seed {SEED}, delay {delay:.3f}s")
    assert cli("check", sessions).code == 0
    assert lost_bytes(before, tmp_path) == []
