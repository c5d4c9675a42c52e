"""Publishing 1,000 sessions to the fleet registry: one pipelined batch, not 1,000 queries.

    python benchmarks/bench_publish.py [--sessions 1000] [--url postgresql://...]

Without --url, starts a throwaway PostgreSQL (Debian's package) on a free loopback port. Prints
the batch's time and statement count beside one INSERT per session, as a naive publisher
would do it, on the same server.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wadoctor.core.model import Identity, Session, SessionState
from wadoctor.fleet.registry import connect, ensure_schema, publish, session_row


def fleet(count: int) -> list[Session]:
    return [Session(id=f"s{n:04d}", path=Path(f"/srv/gw/sessions/s{n:04d}"), format="baileys",
                    state=SessionState.PAIRED,
                    identity=Identity(jid=f"1555{n:07d}:12@s.whatsapp.net", phone=f"1555{n:07d}", device=12,
                                      noise_fingerprint=f"{n:016x}"))
            for n in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--url")
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        from tests.fixtures.postgres import Postgres

        server = Postgres()
        server.start()
        url = server.url
    try:
        conn = connect(url)
        ensure_schema(conn)
        sessions = fleet(args.sessions)
        publish(conn, "bench-host", sessions)  # warm-up
        start = time.perf_counter()
        publish(conn, "bench-host", sessions)
        batch = time.perf_counter() - start
        from psycopg.types.json import Jsonb

        start = time.perf_counter()
        with conn.transaction():
            conn.execute("DELETE FROM wadoctor_sessions WHERE host = 'bench-host'")
            for session in sessions:
                row = session_row(session)
                conn.execute("INSERT INTO wadoctor_sessions VALUES "
                             "('bench-host', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                             (row["path"], row["session_id"], row["format"], row["state"], row["jid"],
                              row["device_key"], row["noise_fingerprint"], row["held"], Jsonb(row["holders"]),
                              Jsonb(row["findings"])))
        naive = time.perf_counter() - start
        print(f"publish {args.sessions} sessions, one pipelined batch (3 statements, 1 round trip): "
              f"{batch * 1000:7.1f} ms")
        print(f"the same, one INSERT per session ({args.sessions + 1} statements):              {naive * 1000:7.1f} ms")
        print(f"ratio batch/naive: {batch / naive:.3f}")
        conn.close()
    finally:
        if server is not None:
            server.destroy()


if __name__ == "__main__":
    main()
