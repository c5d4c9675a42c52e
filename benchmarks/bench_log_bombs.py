"""`wadoctor logs` on logs built to exhaust it: bounded memory and time on each.

    python benchmarks/bench_log_bombs.py [--bomb-gib 10] [--nul-gib 1] [--inflated-gib 2.4]

- a gzip bomb: --bomb-gib GiB of zeros (no line end at all) in a file of a few megabytes,
  a gzip member of 64 MiB of zeros repeated, as `cat a.gz b.gz` leaves rotated logs;
- a plain log holding one line of --nul-gib GiB of NULs (a crashed disk), events around it;
- a routine gateway log (benchmarks/bench_logs.py's mix, one event in ~70 lines) gzipped,
  --inflated-gib GiB once inflated: the per-session figures are kept, never every event.

Each against `zcat | grep -c` (or `grep -c`) on the same file, which reads it once with
no memory to speak of. Goals (issue 27): peak RSS < 100 MiB on each, and time within 2x
of the baseline.
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_logs import generate
from timing import byte_compile, measured

RSS_GOAL_MIB = 100
RATIO_GOAL = 2.0
CONFLICT = b"2026-11-21T10:00:01Z [shop] Got replaced stream error, sending StreamReplaced event\n"


def gzip_bomb(path: Path, gib: float) -> None:
    member = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    with open(path, "wb") as out:
        out.write(gzip.compress(CONFLICT))
        for _ in range(round(gib * 16)):
            out.write(member)
        out.write(gzip.compress(b"\n" + CONFLICT))


def nul_line(path: Path, gib: float) -> None:
    with open(path, "wb") as out:
        out.write(CONFLICT)
        out.truncate(len(CONFLICT) + int(gib * (1 << 30)))  # sparse: NULs that cost no disk
        out.seek(0, 2)
        out.write(b"\n" + CONFLICT)


def routine_gzip(path: Path, work: Path, gib: float) -> None:
    """One 128 MiB-ish piece of the routine mix, compressed once and repeated as members."""
    piece = work / "piece.log"
    generate(piece, 800_000, random.Random(7))
    member = gzip.compress(piece.read_bytes(), compresslevel=1)
    repeats = max(1, round(gib * (1 << 30) / piece.stat().st_size))
    with open(path, "wb") as out:
        for _ in range(repeats):
            out.write(member)
    piece.unlink()


def compare(label: str, log: Path, baseline: str) -> None:
    ours = measured([sys.executable, "-m", "wadoctor", "logs", "--json", str(log)])
    theirs = measured(baseline)
    print(f"{label:<28} wadoctor logs {ours[0]:6.1f} s, peak RSS {ours[1]:5.0f} MiB (goal < {RSS_GOAL_MIB})   "
          f"{baseline.split()[0]}: {theirs[0]:6.1f} s   ratio {ours[0] / theirs[0]:.2f} (goal <= {RATIO_GOAL:g})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-gib", type=float, default=10)
    parser.add_argument("--nul-gib", type=float, default=1)
    parser.add_argument("--inflated-gib", type=float, default=2.4)
    args = parser.parse_args()
    byte_compile()
    with tempfile.TemporaryDirectory(prefix="wadoctor-bombs-") as name:
        work = Path(name)
        bomb, nul, routine = work / "bomb.log.gz", work / "nul.log", work / "routine.log.gz"
        gzip_bomb(bomb, args.bomb_gib)
        nul_line(nul, args.nul_gib)
        routine_gzip(routine, work, args.inflated_gib)
        compare(f"gzip of {args.bomb_gib:g} GiB of zeros", bomb, f"zcat {bomb} | grep -c conflict")
        compare(f"one {args.nul_gib:g} GiB line of NULs", nul, f"grep -ac conflict {nul}")
        compare(f"routine log, {args.inflated_gib:g} GiB gzipped", routine,
                f"zcat {routine} | grep -ciE 'conflict|replaced|logged out|bad mac|restart'")


if __name__ == "__main__":
    main()
