"""Start-up: wadoctor's fastest answers against `python3 -c pass`.

    python benchmarks/bench_startup.py [--runs 30]

Every command pays this: cron every few minutes, deploy hooks, monitoring every minute, tab
completion. wadoctor is installed into a fresh environment as `pip install .` leaves it
(benchmarks/timing.py), and each figure is the median wall time of --runs runs of a fresh
process after one warm-up run. The base is `python3 -c pass`, run as the interpreter the
shell's `python3` is (a version manager's shim in front of it costs from 1 to 60 ms more
from one minute to the next here); the installed environment's own `-c pass` is printed
beside it. Goals: --version <= 3x and any --help <= 4x; `logs --json` of an empty file, `check
--json` and `list --json` of an empty folder <= 2x (the table forms are printed too).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import installed

GOALS = {"--version": 3.0, "--help": 4.0, "check --help": 4.0, "fix --help": 4.0, "logs --help": 4.0,
         "logs --json EMPTY.log": 2.0, "check --json EMPTY": 2.0, "list --json EMPTY": 2.0,
         "logs EMPTY.log": None, "check EMPTY": None, "list EMPTY": None}


def median_of(command: list[str | Path], runs: int, cwd: Path) -> float:
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wadoctor-startup-") as folder:
        work = Path(folder)
        bin_dir = installed(work)
        (work / "EMPTY").mkdir()
        (work / "EMPTY.log").write_bytes(b"")
        python3 = subprocess.run([shutil.which("python3") or sys.executable, "-c", "import sys; print(sys.executable)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        base = median_of([python3, "-c", "pass"], args.runs, work)
        own = median_of([bin_dir / "python", "-c", "pass"], args.runs, work)
        print(f"python3 -c pass:                 {base * 1000:6.1f} ms   ({python3})")
        print(f"the interpreter's own -c pass:   {own * 1000:6.1f} ms")
        for words, goal in GOALS.items():
            took = median_of([bin_dir / "wadoctor", *words.split()], args.runs, work)
            verdict = f"goal <= {goal:g}: {'met' if took / base <= goal else 'NOT MET'}" if goal else "no goal"
            print(f"wadoctor {words:<22} {took * 1000:6.1f} ms   {took / base:4.2f}x python3, "
                  f"{took / own:4.1f}x the interpreter ({verdict})")


if __name__ == "__main__":
    main()
