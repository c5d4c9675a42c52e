"""`wadoctor check` on an Evolution API database of a million instances: bounded memory.

    python benchmarks/bench_evolution_scale.py [--instances 1000000] [--repeat 1]

Starts a throwaway PostgreSQL (Debian's binaries) and loads N "Instance" + "Session" rows: the
creds of one real Baileys session (tests/node), stringified twice as Evolution writes them,
made into N devices by giving each its own phone number and noise key (the one hand-made
change: a fleet of a million real pairings cannot be made here). A tenth of the instances are
closed, a hundredth never paired, and a hundredth a copy of the instance before (a copied
session: duplicate identities to find among a million). Then times `wadoctor check --json`
against `psql COPY` of the same join plus `find` of the (empty) instances folder, and prints
wadoctor's peak RSS; then `wadoctor fix --json` (nothing to repair: every row is read, and
none kept). Goals (issue 27): peak RSS < 500 MB for both, check's time <= 2x the baseline.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from timing import byte_compile, measured

from tests.fixtures import baileys, evolution
from tests.fixtures.postgres import Postgres

JOIN = ('SELECT i.id, i.name, i."connectionStatus", i."updatedAt", s.creds FROM "Instance" i '
        'FULL JOIN "Session" s ON s."sessionId" = i.id')
RSS_GOAL_MB = 500
RATIO_GOAL = 2.0


def devices(creds: str) -> Callable[[int], str]:
    """The creds as device `number`: its own noise key, and its own phone (in me.id) once paired."""
    inner = json.loads(json.loads(creds))
    phone = inner["me"]["id"].partition(":")[0] if inner.get("me") else None
    noise = inner["noiseKey"]["public"]["data"]

    def device(number: int) -> str:
        key = base64.b64encode(hashlib.sha256(number.to_bytes(8, "big")).digest()).decode()
        made = creds.replace(noise, key)
        return made.replace(phone, f"62{8_000_000_000 + number}") if phone else made

    return device


def load(url: str, creds: dict[str, str], count: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        evolution.create_schema(conn)
        ids = [str(uuid.uuid4()) for _ in range(count)]
        with conn.cursor().copy('COPY "Instance" (id, name, "connectionStatus", integration, "updatedAt") '
                                "FROM STDIN") as copy:
            for number, instance_id in enumerate(ids):
                status = "close" if number % 10 == 3 else "open"
                copy.write_row((instance_id, f"tenant-{number}", status, "WHATSAPP-BAILEYS", "2026-11-22 10:00:00"))
        paired, unpaired = devices(creds["paired"]), devices(creds["unpaired"])
        with conn.cursor().copy('COPY "Session" (id, "sessionId", creds) FROM STDIN') as copy:
            for number, instance_id in enumerate(ids):
                value = (unpaired(number) if number % 100 == 7 else
                         paired(number - 1 if number % 100 == 51 else number))
                copy.write_row((str(uuid.uuid4()), instance_id, value))
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    byte_compile()
    work = Path(tempfile.mkdtemp(prefix="wadoctor-evo-scale-"))
    paired = baileys.write_sessions([baileys.paired(work / "paired", preKeys=5)])[0].path
    unpaired = baileys.write_sessions([{"dir": work / "unpaired", "kind": "unpaired"}])[0].path
    creds = {"paired": evolution.encoded(paired)["creds"]["evolution"],
             "unpaired": evolution.encoded(unpaired)["creds"]["evolution"]}
    (work / "instances").mkdir()
    postgres = Postgres()
    postgres.start()
    try:
        import psycopg

        with psycopg.connect(postgres.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE evolution")
        url = postgres.url.rsplit("/", 1)[0] + "/evolution"
        started = time.perf_counter()
        load(url, creds, args.instances)
        print(f"{args.instances} instances loaded in {time.perf_counter() - started:.0f} s")
        check = [sys.executable, "-m", "wadoctor", "check", "--json", "--no-backup", url, str(work / "instances")]
        fix = [sys.executable, "-m", "wadoctor", "fix", "--json", "--no-backup", url, str(work / "instances")]
        baseline = (f"psql '{url}' -c 'COPY ({JOIN}) TO STDOUT' && "
                    f"find '{work / 'instances'}' -printf '%p %s %T@\\n'")
        ours = min((measured(check) for _ in range(args.repeat)), key=lambda r: r[0])
        theirs = min((measured(baseline) for _ in range(args.repeat)), key=lambda r: r[0])
        print(f"wadoctor check --json {ours[0]:.1f} s, peak RSS {ours[1]:.0f} MiB (goal < {RSS_GOAL_MB} MiB)")
        print(f"psql COPY + find      {theirs[0]:.1f} s   ratio {ours[0] / theirs[0]:.2f} (goal <= {RATIO_GOAL:g})")
        fixed = measured(fix)
        print(f"wadoctor fix --json   {fixed[0]:.1f} s, peak RSS {fixed[1]:.0f} MiB (goal < {RSS_GOAL_MB} MiB)")
    finally:
        postgres.destroy()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
