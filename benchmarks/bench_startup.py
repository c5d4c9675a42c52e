"""Start-up: `wadoctor --version` and `--help` against the interpreter doing nothing.

    python benchmarks/bench_startup.py [--runs 30]

Every command pays this: cron every few minutes, deploy hooks, monitoring every minute, tab
completion. Each figure is the median wall time of --runs runs of a fresh process, after one
warm-up run that lets Python write its bytecode cache (as an installed package has). Goals:
--version <= 3x and any --help <= 4x `python -c pass` on the same interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(ROOT)}
GOALS = {"--version": 3.0, "--help": 4.0, "check --help": 4.0, "fix --help": 4.0, "logs --help": 4.0}


def median_of(command: list[str], runs: int) -> float:
    subprocess.run(command, stdout=subprocess.DEVNULL, env=ENV, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, env=ENV, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    base = median_of([sys.executable, "-c", "pass"], args.runs)
    print(f"python -c pass:            {base * 1000:6.1f} ms")
    for words, goal in GOALS.items():
        took = median_of([sys.executable, "-m", "wadoctor", *words.split()], args.runs)
        print(f"wadoctor {words:<16} {took * 1000:6.1f} ms   ratio {took / base:4.1f} (goal <= {goal:g})")


if __name__ == "__main__":
    main()
