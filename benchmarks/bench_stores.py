"""`wadoctor check` on auth state in databases, against the clients people read it with.

    python benchmarks/bench_stores.py [--instances 1000] [--sessions 1000] [--keys 800] [--repeat 3]

Starts a throwaway PostgreSQL and redis-server (Debian's binaries), then:

- Evolution API: N instances, each an "Instance" and a "Session" row (creds twice stringified,
  as Evolution writes them) and a key folder instances/<id>/ of the same Baileys 7 session.
  Baseline: `psql -c 'COPY (<the join>) TO STDOUT'` plus `find instances -printf` (the rows and
  the folders' listing: what the check reads).
- Baileys in Redis: N sessions of K keys each, one string key per entry (the layout that costs
  a SCAN most). Baseline: `redis-cli --scan` piped into `redis-cli` GETs of every creds key.

Each figure is the best of --repeat, wadoctor as a whole command (start-up included). Target:
ratio <= 2 for each. One real session written by Baileys (tests/node) is copied N times.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from fleet import age_like_a_gateway
from timing import byte_compile

from tests.fixtures import baileys, evolution
from tests.fixtures.postgres import Postgres
from tests.fixtures.redis_server import RedisServer

JOIN = ('SELECT i.id, i.name, i."connectionStatus", i."updatedAt", s.creds FROM "Instance" i '
        'FULL JOIN "Session" s ON s."sessionId" = i.id')


def best_of(repeat: int, command: list[str] | str) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, shell=isinstance(command, str), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def wadoctor(*args: str) -> list[str]:
    return [sys.executable, "-m", "wadoctor", "check", "--no-backup", *args]


def load_evolution(url: str, values: dict, template: Path, instances: Path, count: int) -> None:
    import psycopg

    keys = [p for p in sorted(template.iterdir()) if p.name != "creds.json"]
    with psycopg.connect(url, autocommit=True) as conn:
        evolution.create_schema(conn)
        with conn.cursor().copy('COPY "Instance" (id, name, "connectionStatus", integration, "updatedAt") '
                                "FROM STDIN") as copy:
            ids = [str(uuid.uuid4()) for _ in range(count)]
            for number, instance_id in enumerate(ids):
                copy.write_row((instance_id, f"bench-{number}", "open", "WHATSAPP-BAILEYS", "2026-11-22 10:00:00"))
        with conn.cursor().copy('COPY "Session" (id, "sessionId", creds) FROM STDIN') as copy:
            for instance_id in ids:
                copy.write_row((str(uuid.uuid4()), instance_id, values["creds"]["evolution"]))
    rng, now = random.Random(1), time.time()
    for instance_id in ids:
        folder = instances / instance_id
        folder.mkdir(parents=True)
        for key in keys:
            (folder / key.name).write_bytes(key.read_bytes())
        age_like_a_gateway(folder, rng, now)  # old pre-keys, a few recent writes: as a live instance


def load_redis(server: RedisServer, values: dict, sessions: int, keys: int) -> None:
    client = server.client(0)
    entries = values["keys"]
    for number in range(sessions):
        with client.pipeline(transaction=False) as pipe:
            pipe.set(f"bench:s{number}:creds", values["creds"]["hash"])
            for index in range(keys - 1):
                entry = entries[index % len(entries)]
                pipe.set(f"bench:s{number}:{entry['entry']}-{index}", entry["hash"])
            pipe.execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=800)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    byte_compile()
    work = Path(tempfile.mkdtemp(prefix="wadoctor-stores-"))
    template = baileys.write_sessions([baileys.paired(work / "template", preKeys=args.keys - 40)])[0].path
    values = evolution.encoded(template)
    postgres, redis = Postgres(), RedisServer()
    postgres.start()
    try:
        import psycopg

        with psycopg.connect(postgres.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE evolution")
        url = postgres.url.rsplit("/", 1)[0] + "/evolution"
        load_evolution(url, values, template, work / "instances", args.instances)
        load_redis(redis, values, args.sessions, args.keys)
        files = sum(1 for _ in (work / "instances").rglob("*.json"))
        print(f"evolution: {args.instances} instances, {files} key files; redis: {args.sessions} sessions x "
              f"{args.keys} keys")

        check_pg = best_of(args.repeat, wadoctor(url, str(work / "instances")))
        psql = best_of(args.repeat, f"psql '{url}' -c 'COPY ({JOIN}) TO STDOUT' >/dev/null && "
                                    f"find '{work / 'instances'}' -printf '%p %s %T@\\n' >/dev/null")
        print(f"evolution  wadoctor check {check_pg:.2f} s   psql COPY + find {psql:.2f} s   "
              f"ratio {check_pg / psql:.2f} (goal <= 2)")
        redis_url = f"redis://127.0.0.1:{redis.port}/0?prefix=bench:"
        check_redis = best_of(args.repeat, wadoctor(redis_url))
        cli = f"redis-cli -p {redis.port}"
        scan = best_of(args.repeat, f"{cli} --scan --pattern 'bench:*' | awk '/:creds$/ {{print \"GET \" $0}}' "
                                    f"| {cli} >/dev/null")
        print(f"redis      wadoctor check {check_redis:.2f} s   redis-cli --scan + GETs {scan:.2f} s   "
              f"ratio {check_redis / scan:.2f} (goal <= 2)")
        report = json.loads(subprocess.run(wadoctor("--json", redis_url), capture_output=True, text=True).stdout)
        print(f"           (wadoctor found {len(report['sessions'])} Redis sessions)")
    finally:
        redis.stop()
        postgres.destroy()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
