"""`wadoctor check` on an Evolution API database of a million instances: bounded memory.

    python benchmarks/bench_evolution_scale.py [--instances 1000000] [--repeat 1]

Starts a throwaway PostgreSQL (Debian's binaries) and loads N "Instance" + "Session" rows, the
creds of one real Baileys session (tests/node) stringified twice as Evolution writes them, a
tenth of them closed and a hundredth never paired. Then times `wadoctor check --json` against
`psql COPY` of the same join plus `find` of the (empty) instances folder, and prints wadoctor's
peak RSS. Goals (issue 27): peak RSS < 500 MB, time <= 2x the baseline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
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
        with conn.cursor().copy('COPY "Session" (id, "sessionId", creds) FROM STDIN') as copy:
            for number, instance_id in enumerate(ids):
                value = creds["unpaired"] if number % 100 == 7 else creds["paired"]
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
        baseline = (f"psql '{url}' -c 'COPY ({JOIN}) TO STDOUT' && "
                    f"find '{work / 'instances'}' -printf '%p %s %T@\\n'")
        ours = min((measured(check) for _ in range(args.repeat)), key=lambda r: r[0])
        theirs = min((measured(baseline) for _ in range(args.repeat)), key=lambda r: r[0])
        print(f"wadoctor check --json {ours[0]:.1f} s, peak RSS {ours[1]:.0f} MiB (goal < {RSS_GOAL_MB} MiB)")
        print(f"psql COPY + find      {theirs[0]:.1f} s   ratio {ours[0] / theirs[0]:.2f} (goal <= {RATIO_GOAL:g})")
    finally:
        postgres.destroy()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
