"""The holder scan against `lsof -n` on the same machine.

    python benchmarks/bench_holders.py [--processes 200] [--repeat 5]

Starts N idle child processes that each keep a few files of a demo session open (a busy
gateway server), then times wadoctor's whole holder index (one pass over /proc, /proc/*/fd, /proc/locks) and
the session's holders with their evidence, managers and programs, beside `lsof -n`, both best
of --repeat. Target: ratio <= 0.5.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wadoctor.core.model import Session
from wadoctor.holders.index import HolderIndex

CHILD = "import sys, time; files = [open(p) for p in sys.argv[1:]]; print('ready', flush=True); time.sleep(3600)"


def best_of(repeat: int, run) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("lsof"):
        sys.exit("lsof is not installed (apt-get install lsof)")
    work = Path(tempfile.mkdtemp(prefix="wadoctor-holders-"))
    session = Path(shutil.copytree(ROOT / "examples" / "sessions" / "shop-main", work / "sessions" / "shop"))
    files = [str(p) for p in sorted(session.iterdir())[:5]]
    children = [subprocess.Popen([sys.executable, "-c", CHILD, *files], stdout=subprocess.PIPE, text=True)
                for _ in range(args.processes)]
    try:
        for child in children:
            child.stdout.readline()
        processes = len(list(Path("/proc").glob("[0-9]*")))
        shop = Session(id="shop", path=session, format="baileys")
        index_s = best_of(args.repeat, lambda: HolderIndex.build([work]).holders(shop))
        lsof_s = best_of(args.repeat, lambda: subprocess.run(["lsof", "-n"], stdout=subprocess.DEVNULL,
                                                             stderr=subprocess.DEVNULL))
        held = HolderIndex.build([work]).holders(shop)
        print(f"machine: {processes} processes, {args.processes} of them holding 5 session files each")
        print(f"wadoctor holders:      {index_s:7.3f} s   ({len(held)} holders found for the session)")
        print(f"lsof -n:               {lsof_s:7.3f} s")
        print(f"ratio index/lsof:      {index_s / lsof_s:7.3f}   (target <= 0.5)")
    finally:
        for child in children:
            child.kill()
            child.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
