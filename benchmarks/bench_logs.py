"""`wadoctor logs` against `grep -ciE` over the same generated logs; then `logs --follow` on a
file growing at 20,000 lines/s.

    python benchmarks/bench_logs.py [--lines 2000000] [--routine-mb 100,500] [--follow-seconds 6]

wadoctor is installed into a fresh environment as `pip install .` leaves it
(benchmarks/timing.py), and each pair of commands takes turns, best of five rounds.

Two shapes of log. The routine one is what a gateway's log mostly is: Baileys pino lines of a
50-session gateway (messages received, receipts, notifications, presence, pre-key uploads)
with one stream conflict per 100 lines, at --routine-mb sizes; it is compared with the grep
a person would type for the same events (ROUTINE_GREP). Goals: <= 1.5x grep on 100 MB and
<= 1.0x on 500 MB. The dense one is a mix thick with conflicts, logouts, restarts,
reconnects and decrypt failures for 200 sessions, plus whatsmeow and whatsapp-web.js text
lines, compared with a grep of wadoctor's own keywords. Goals: <= 2.5x grep, >= 2.5M lines/s.
Peak RSS must not grow with the file. For --follow, a writer appends noise at 20,000 lines/s
with a logout of a probe session now and then; the delay from writing a probe line to its
alert on follow's output is printed (goal: every alert within 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_of, installed, measured
from wadoctor.logs.events import KEYWORDS

GREP_PATTERN = "|".join(KEYWORDS)  # the words wadoctor looks for first (no ERE metacharacters)
ROUTINE_GREP = "conflict|replaced|logged out|restart required|connection (closed|lost)|bad mac"
ROUTINE_GOALS = {100: 1.5, 500: 1.0}  # MB: most wall time allowed, as a multiple of grep's

NOISE = [
    {"level": 20, "msg": "recv xml", "xml": "<receipt from=\"6281234567890@s.whatsapp.net\" id=\"3EB0ABCDEF\"/>"},
    {"level": 30, "msg": "sending receipt for messages", "attrs": {"type": "read"}},
    {"level": 20, "msg": "handled 4 offline messages/notifications"},
    {"level": 30, "msg": "uploading pre-keys", "count": 30},
    {"level": 20, "msg": "presence update", "id": "120363025246125486@g.us"},
]
EVENTS = [
    {"level": 50, "msg": "stream errored out", "reasonNode": {"tag": "conflict", "attrs": {"type": "replaced"}}},
    {"level": 30, "msg": "connection errored", "trace": "Error: Stream Errored (conflict)\n    at ..."},
    {"level": 50, "msg": "failed to decrypt message", "err": {"message": "Bad MAC"}},
    {"level": 30, "msg": "connection closed due to Error: Connection Closed , reconnecting true"},
]
TEXT = ["{t} [Client INFO] Got replaced stream error, sending StreamReplaced event",
        "{t} [s{n}] client disconnected: CONFLICT"]


def generate(path: Path, lines: int, rng: random.Random) -> None:
    start = 1_795_300_000_000
    with open(path, "w") as out:
        for i in range(lines):
            session = f"s{rng.randrange(200)}"
            stamp = start + i * 50
            roll = rng.random()
            if roll < 0.985:
                record = {**rng.choice(NOISE), "time": stamp, "pid": 4242, "hostname": "gw", "session": session}
                out.write(json.dumps(record) + "\n")
            elif roll < 0.997:
                out.write(json.dumps({**rng.choice(EVENTS), "time": stamp, "pid": 4242, "hostname": "gw",
                                      "session": session}) + "\n")
            else:
                out.write(rng.choice(TEXT).format(t="2026-11-21T10:00:00Z", n=rng.randrange(200)) + "\n")


ROUTINE = [  # what Baileys logs about ordinary traffic, compact as pino writes it
    {"level": 30, "msg": "recv message", "key": {"remoteJid": "6281234567890@s.whatsapp.net", "id": "3EB0C4F1A9D2"}},
    {"level": 30, "msg": "sending receipt for messages", "attrs": {"type": "read"}, "count": 1},
    {"level": 20, "msg": "handled 4 offline messages/notifications"},
    {"level": 30, "msg": "uploading pre-keys", "count": 30},
    {"level": 20, "msg": "presence update", "id": "120363025246125486@g.us"},
    {"level": 30, "msg": "processing notification", "type": "w:gp2"},
]
CONFLICT = {"level": 50, "msg": "stream errored out",
            "reasonNode": {"tag": "conflict", "attrs": {"type": "replaced"}}}


def generate_routine(path: Path, megabytes: int, rng: random.Random) -> int:
    """A routine log of about `megabytes` MB: one conflict per 100 lines; returns its lines."""
    start, lines, size = 1_795_300_000_000, 0, 0
    with open(path, "w") as out:
        while size < megabytes * 1_000_000:
            record = CONFLICT if lines % 100 == 99 else rng.choice(ROUTINE)
            line = json.dumps({**record, "time": start + lines * 50, "pid": 4242, "hostname": "gw",
                               "session": f"s{rng.randrange(50)}"}, separators=(",", ":")) + "\n"
            out.write(line)
            size += len(line)
            lines += 1
    return lines


FOLLOW_RATE = 20_000  # lines per second
PROBE_EVERY = 0.25  # seconds between probe logouts


def bench_follow(wadoctor: str, work: Path, seconds: float) -> None:
    """Delay from a probe line's write to its alert, under 20,000 lines/s of other lines."""
    log = work / "live.log"
    log.write_text("")
    follow = subprocess.Popen([wadoctor, "logs", "--follow", str(log)], stdout=subprocess.PIPE, text=True)
    written: dict[str, float] = {}
    delays: list[float] = []

    def read_alerts() -> None:
        for line in follow.stdout:
            seen = time.perf_counter()
            for probe, at in list(written.items()):
                if f"{probe}: logged out" in line:
                    delays.append(seen - at)
                    written.pop(probe)

    reader = threading.Thread(target=read_alerts, daemon=True)
    reader.start()
    time.sleep(1.0)  # let follow open the file
    noise = json.dumps({**NOISE[0], "time": 1, "session": "s1"}) + "\n"
    batch = FOLLOW_RATE // 100
    start = time.perf_counter()
    lines = probes = 0
    with open(log, "a") as out:
        while time.perf_counter() - start < seconds:
            out.write(noise * batch)
            lines += batch
            if time.perf_counter() - start >= probes * PROBE_EVERY:
                probe = f"probe{probes}"
                out.write(json.dumps({"level": 50, "msg": "connection closed", "session": probe,
                                      "err": {"message": "Stream Errored (device_removed)"}}) + "\n")
                out.flush()
                written[probe] = time.perf_counter()
                probes += 1
            out.flush()
            time.sleep(max(0.0, start + lines / FOLLOW_RATE - time.perf_counter()))
    time.sleep(1.5)
    follow.terminate()
    follow.wait()
    rate = lines / (time.perf_counter() - start - 1.5)
    missed = len(written)
    worst = max(delays) if delays else float("nan")
    print(f"logs --follow at {rate:,.0f} lines/s: {len(delays)} alerts, median delay "
          f"{statistics.median(delays) * 1000:.0f} ms, worst {worst * 1000:.0f} ms, {missed} missed "
          "(goal: all within 1 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--routine-mb", default="100,500", help="sizes of the routine logs, in MB")
    parser.add_argument("--follow-seconds", type=float, default=6.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wadoctor-logs-") as work:
        wadoctor = str(installed(Path(work)) / "wadoctor")
        for megabytes in [int(m) for m in args.routine_mb.split(",") if m]:
            log = Path(work) / f"routine-{megabytes}.log"
            lines = generate_routine(log, megabytes, random.Random(megabytes))
            os.sync()  # the kernel's write-back of the new file would run during the timings
            (grep_s, _), (ours_s, _) = best_of([["grep", "-ciE", ROUTINE_GREP, str(log)],
                                                [wadoctor, "logs", "--json", str(log)]], 5)
            goal = ROUTINE_GOALS.get(megabytes)
            verdict = f"goal <= {goal:g}: {'met' if ours_s / grep_s <= goal else 'NOT MET'}" if goal else "no goal"
            _, peak = measured([wadoctor, "logs", "--json", str(log)])
            print(f"routine log, {log.stat().st_size / 1e6:.0f} MB, {lines:,} lines: grep {grep_s:5.3f} s, "
                  f"wadoctor logs {ours_s:5.3f} s: {ours_s / grep_s:4.2f}x ({verdict}); peak RSS {peak:.0f} MiB")
            log.unlink()
        log = Path(work) / "gateway.log"
        generate(log, args.lines, random.Random(7))
        size = log.stat().st_size
        os.sync()
        (grep_s, _), (ours_s, _) = best_of([["grep", "-ciE", GREP_PATTERN, str(log)],
                                            [wadoctor, "logs", "--json", str(log)]], 5)
        print(f"dense log: {args.lines:,} lines, {size / 2**20:.0f} MiB")
        print(f"grep -ciE (same patterns): {grep_s:6.2f} s")
        _, peak = measured([wadoctor, "logs", "--json", str(log)])
        print(f"wadoctor logs:             {ours_s:6.2f} s   ({args.lines / ours_s:,.0f} lines/s, "
              f"peak RSS {peak:.0f} MiB)")
        print(f"ratio logs/grep:           {ours_s / grep_s:6.2f}   (goals: <= 2.5, >= 2,500,000 lines/s)")
        if args.follow_seconds > 0:
            bench_follow(wadoctor, Path(work), args.follow_seconds)


if __name__ == "__main__":
    main()
