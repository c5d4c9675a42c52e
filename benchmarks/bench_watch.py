"""`wadoctor watch` beside 1,000 sessions: its weight idle, and how fast it reacts.

    python benchmarks/bench_watch.py [--sessions 1000] [--files 100] [--idle-seconds 60]

Builds a fleet of real-shaped Baileys sessions (benchmarks/fleet.py), starts `watch` on it
with a log, then measures:
- idle: CPU (user + system, from /proc) and RSS over --idle-seconds (issue 30's goal: at most
  1% of one core and 100 MB on average over 10 minutes; pass --idle-seconds 600 for that);
- a conflict storm: from writing the Nth conflict line to the `circuit-open` event
  (goal: within 1 s) and to the `action` event (goal: within 2 s);
- a change to one session: from emptying its creds.json to the `session` event that says so
  (goal: within 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from fleet import build_fleet
from timing import byte_compile

CONFLICT = ('{{"level":50,"time":{ms},"session":"{session}","msg":"stream errored out",'
            '"reasonNode":{{"tag":"conflict","attrs":{{"type":"replaced"}}}}}}\n')


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=60)
    args = parser.parse_args()
    byte_compile()
    with tempfile.TemporaryDirectory(prefix="wadoctor-watch-") as name:
        work = Path(name)
        build_fleet(work / "sessions", args.sessions, args.files)
        log = work / "gateway.log"
        log.write_text("")
        (work / "wadoctor.toml").write_text("[watch]\nconflicts = 3\n")
        events: queue.Queue[tuple[float, dict]] = queue.Queue()
        watch = subprocess.Popen([sys.executable, "-m", "wadoctor", "watch", "--log", str(log), "--history",
                                  str(work / "h.sqlite"), str(work / "sessions")], cwd=work, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)

        def read() -> None:
            assert watch.stdout is not None
            for line in watch.stdout:
                events.put((time.perf_counter(), json.loads(line)))

        def wait_for(event: str, since: float) -> float:
            while True:
                at, body = events.get(timeout=60)
                if body["event"] == event:
                    return at - since

        threading.Thread(target=read, daemon=True).start()
        started = time.perf_counter()
        wait_for("watching", started)
        print(f"{args.sessions} sessions x {args.files} files: watching after {time.perf_counter() - started:.1f} s")
        cpu, wall = cpu_seconds(watch.pid), time.perf_counter()
        samples = []
        while time.perf_counter() - wall < args.idle_seconds:
            time.sleep(1)
            samples.append(rss_mib(watch.pid))
        share = (cpu_seconds(watch.pid) - cpu) / (time.perf_counter() - wall) * 100
        print(f"idle {args.idle_seconds:.0f} s: {share:.2f}% of one core (goal <= 1%), RSS mean "
              f"{sum(samples) / len(samples):.0f} MiB, max {max(samples):.0f} MiB (goal <= 100 MB)")
        base = int(time.time() * 1000)
        with open(log, "a") as out:
            out.write("".join(CONFLICT.format(ms=base + n * 2000, session="session-00007") for n in range(2)))
        time.sleep(0.5)
        with open(log, "a") as out:
            written = time.perf_counter()
            out.write(CONFLICT.format(ms=base + 4000, session="session-00007"))
        opened = wait_for("circuit-open", written)
        acted = wait_for("action", written)
        print(f"conflict storm: circuit-open {opened * 1000:.0f} ms after the 3rd line (goal <= 1000 ms), "
              f"action {acted * 1000:.0f} ms (goal <= 2000 ms)")
        victim = next(p for p in sorted((work / "sessions").iterdir()) if p.is_dir())
        changed = time.perf_counter()
        (victim / "creds.json").write_bytes(b"")
        seen = wait_for("session", changed)
        print(f"one session of {args.sessions} changed: re-judged {seen * 1000:.0f} ms later (goal <= 1000 ms)")
        watch.terminate()
        watch.wait(timeout=30)


if __name__ == "__main__":
    main()
