"""`wadoctor check` against `find -printf '%s'` on the same synthetic fleet, at two shapes.

    python benchmarks/bench_check.py [--shape 1000x1000 --shape 300x800] [--root DIR]

Both run warm (one untimed pass first; wadoctor byte-compiled, as an installed copy is), taking
turns, best of --repeat, in wall time and in CPU time (user + system of the process and its
workers). The goal for a plain check, crash-window reads included: <= 1.5x find in wall time
and <= 2x in CPU time at every shape. Also prints the peak memory of check, which must stay
flat as files per session grow. With --root, a fleet built there is kept for the next run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import build_fleet
from timing import best_of, byte_compile, peak_rss_mib

WALL_GOAL, CPU_GOAL = 1.5, 2.0


def build(root: Path, sessions: int, files: int) -> None:
    """Build the fleet, or keep the one a previous run left in `root`; then flush it to disk,
    so that its write-back does not run during the timings."""
    marker = root / ".built"
    if marker.exists():
        print(f"fleet: {sessions} sessions x {files} files, kept from an earlier run in {root}")
    else:
        start = time.perf_counter()
        size = build_fleet(root, sessions, files)
        marker.touch()
        print(f"fleet: {sessions} sessions x {files} files = {sessions * files:,} files, {size / 2**20:.0f} MiB, "
              f"built in {time.perf_counter() - start:.1f} s")
    os.sync()


def run_shape(root: Path, sessions: int, files: int, repeat: int) -> None:
    build(root, sessions, files)
    (find_wall, find_cpu), (check_wall, check_cpu) = best_of(
        [["find", str(root), "-type", "f", "-printf", "%s\n"],
         [sys.executable, "-m", "wadoctor", "check", "--json", "--no-backup", str(root)]], repeat)
    print(f"  find -printf '%s':  {find_wall:6.2f} s wall  {find_cpu:6.2f} s CPU")
    print(f"  wadoctor check:     {check_wall:6.2f} s wall  {check_cpu:6.2f} s CPU   "
          f"({sessions * files / check_wall:,.0f} files/s, peak RSS {peak_rss_mib():.0f} MiB)")
    print(f"  ratio check/find:   {check_wall / find_wall:6.2f} wall (goal <= {WALL_GOAL})  "
          f"{check_cpu / find_cpu:6.2f} CPU (goal <= {CPU_GOAL})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", help="SESSIONSxFILES (repeatable; default 1000x1000 and 300x800)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--root", type=Path,
                        help="build here and keep it for the next run (default: a temp dir, removed)")
    args = parser.parse_args()
    byte_compile()
    for shape in args.shape or ["1000x1000", "300x800"]:
        sessions, files = (int(n) for n in shape.split("x"))
        root = args.root / shape if args.root else Path(tempfile.mkdtemp(prefix="wadoctor-bench-"))
        try:
            run_shape(root, sessions, files, args.repeat)
        finally:
            if args.root is None:
                shutil.rmtree(root, ignore_errors=True)
    print(f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
