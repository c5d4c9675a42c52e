"""`wadoctor check` against `find -printf '%s'` on the same synthetic fleet.

    python benchmarks/bench_check.py [--sessions 1000] [--files 1000] [--root DIR]

Both run warm (one untimed pass first), best of --repeat. The target is a ratio <= 1.5 for
1,000 sessions x 1,000 files: a plain check must cost about what listing the files costs.
Also prints the peak memory of check, which must stay flat as files per session grow.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import build_fleet  # noqa: E402


def best_of(command: list[str], repeat: int) -> tuple[float, int]:
    """(best wall time, child peak RSS in KiB) over `repeat` runs, after one warm-up run."""
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--root", type=Path, help="build here and keep it (default: a temp dir, removed)")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="wadoctor-bench-"))
    try:
        start = time.perf_counter()
        size = build_fleet(root, args.sessions, args.files)
        print(f"fleet: {args.sessions} sessions x {args.files} files = {args.sessions * args.files:,} files, "
              f"{size / 2**20:.0f} MiB, built in {time.perf_counter() - start:.1f} s")
        find_s, _ = best_of(["find", str(root), "-type", "f", "-printf", "%s\n"], args.repeat)
        check_s, rss = best_of([sys.executable, "-m", "wadoctor", "check", "--json", str(root)], args.repeat)
        print(f"find -printf '%s':  {find_s:7.2f} s")
        print(f"wadoctor check:     {check_s:7.2f} s   ({args.sessions * args.files / check_s:,.0f} files/s, "
              f"peak RSS {rss / 1024:.0f} MiB)")
        print(f"ratio check/find:   {check_s / find_s:7.2f}   (target <= 1.5)")
    finally:
        if args.root is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
