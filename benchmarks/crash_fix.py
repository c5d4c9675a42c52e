"""Kill `wadoctor fix` with SIGKILL at random points, hundreds of times.

    python benchmarks/crash_fix.py [--trials 300] [--seed N]

Each trial builds a tree with every problem fix repairs (tests/repair_helpers.crash_tree; a
whatsmeow store too when neonize is installed), kills a fix at a random moment within the
time an uninterrupted fix takes, then checks that every original byte is in place or in a
quarantine entry whose manifest names it, and that a second fix finishes the job.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import run_cli
from tests.repair_helpers import crash_tree, inventory, kill_fix_at, lost_bytes


def store_template(work: Path) -> Path | None:
    try:
        from tests.fixtures.whatsmeow import NeonizeUnavailable, create_store

        path = work / "template.db"
        create_store(path)
        return path
    except (ImportError, NeonizeUnavailable):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    work = Path(tempfile.mkdtemp(prefix="wadoctor-crash-"))
    try:
        template = store_template(work)
        probe = crash_tree(work / "probe", run_cli, template)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wadoctor", "fix", str(probe)], env=env, capture_output=True)
        full = time.perf_counter() - started
        mid_run = lost = unfinished = 0
        for trial in range(args.trials):
            root = work / f"t{trial}"
            sessions = crash_tree(root, run_cli, template)
            before = inventory(root)
            mid_run += kill_fix_at(sessions, rng.uniform(0, full * 1.1), env)
            lost += len(lost_bytes(before, root))
            unfinished += run_cli("fix", sessions).code != 0 or run_cli("check", sessions).code != 0
            lost += len(lost_bytes(before, root))
            shutil.rmtree(root)
        print(f"seed {args.seed}; an uninterrupted fix takes {full:.2f} s"
              f" ({'with' if template else 'without'} a whatsmeow store)")
        print(f"trials: {args.trials}, killed mid-run: {mid_run}")
        print(f"files lost: {lost}   (must be 0)")
        print(f"second fix or check not clean: {unfinished}   (must be 0)")
        sys.exit(1 if lost or unfinished else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
