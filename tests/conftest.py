from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.fixtures import baileys

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "sessions"
SHARED_SESSION = REPO.parent / "shared" / "reference" / "baileys-7.0.0-rc14" / "session-A"
# Root reads everything; without these two capabilities it meets permissions as users do.
AS_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []


@pytest.fixture(scope="session")
def real_baileys() -> None:
    """Baileys from npm; skipped with a reason where node is missing, a failure under CI."""
    try:
        baileys.ensure_baileys()
    except baileys.NodeUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real-library tests: {exc}")
        pytest.skip(f"real Baileys fixtures unavailable ({exc}); no hand-made stand-in is used")


@pytest.fixture
def write(real_baileys: None, tmp_path: Path):
    """Write Baileys sessions under tmp_path/sessions with the real library."""
    root = tmp_path / "sessions"
    root.mkdir()

    def _write(*specs: dict[str, Any]) -> list[baileys.Written]:
        return baileys.write_sessions([{**s, "dir": root / s["dir"]} if "dir" in s else s for s in specs])

    _write.root = root  # type: ignore[attr-defined]
    return _write


class Run:
    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        self.code = result.returncode
        self.out = result.stdout
        self.err = result.stderr

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            unprivileged: bool = False, timeout: float = 60) -> Run:
    """Run the real command in a child process, as a user would (`unprivileged`: file
    permissions apply even when the tests run as root)."""
    full_env = {k: v for k, v in os.environ.items() if k != "WADOCTOR_CONFIG"}
    full_env.update(env or {})
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [(env or {}).get("PYTHONPATH"), str(REPO)]))
    prefix = AS_USER if unprivileged else []
    result = subprocess.run([*prefix, sys.executable, "-m", "wadoctor", *map(str, args)], cwd=cwd,
                            env=full_env, capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return Run(result)


@pytest.fixture
def cli():
    return run_cli


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in report["sessions"]}


def codes(session: dict[str, Any]) -> set[str]:
    return {f["code"] for f in session["findings"]}


@pytest.fixture(scope="session")
def neonize_store_template(tmp_path_factory) -> Path:
    """One store created by neonize for the whole run; tests copy it."""
    from tests.fixtures import whatsmeow

    path = tmp_path_factory.mktemp("neonize") / "template.db"
    try:
        whatsmeow.create_store(path)
    except whatsmeow.NeonizeUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the neonize tests: {exc}")
        pytest.skip(str(exc))
    return path


@pytest.fixture
def whatsmeow_store(neonize_store_template, tmp_path):
    """A fresh copy of the neonize-made store, at tmp_path/app/storages/whatsapp.db."""
    import shutil

    path = tmp_path / "app" / "storages" / "whatsapp.db"
    path.parent.mkdir(parents=True)
    shutil.copy(neonize_store_template, path)
    return path


@pytest.fixture(scope="session")
def real_chromium() -> None:
    import shutil as _shutil

    if not (_shutil.which("chromium") or _shutil.which("chromium-browser")):
        if os.environ.get("CI"):
            pytest.fail("CI must run the Chromium tests: install Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")


def unavailable(reason: str) -> NoReturn:
    """A real server is missing: a failure under CI, which must run every test, else a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run these tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the whole run (see tests/fixtures/postgres.py)."""
    from tests.fixtures.postgres import Postgres, PostgresUnavailable

    try:
        server = Postgres()
        server.start()
    except PostgresUnavailable as exc:
        unavailable(f"PostgreSQL: {exc}")
    yield server
    server.destroy()


@pytest.fixture
def registry(postgres):
    """The registry URL, on an empty database for each test."""
    import psycopg

    with psycopg.connect(postgres.url, autocommit=True) as conn:
        for table in ("wadoctor_sessions", "wadoctor_hosts", "wadoctor_guards", "wadoctor_meta"):
            conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    return postgres.url


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server for the whole run (see tests/fixtures/redis_server.py)."""
    from tests.fixtures.redis_server import RedisServer, RedisUnavailable

    try:
        server = RedisServer(password="r3dis-pass-word")
    except RedisUnavailable as exc:
        unavailable(f"Redis: {exc}")
    yield server
    server.stop()


@pytest.fixture
def evolution_db(postgres):
    """An empty database with Evolution API's auth-state tables; yields its URL (and a connection)."""
    import uuid

    import psycopg

    from tests.fixtures import evolution

    name = f"evolution_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        evolution.create_schema(conn)
        yield url, conn


def pytest_report_header() -> str:
    """The crash test's seed, at the top of every run: any failure replays with it."""
    from tests.test_crash import SEED

    return f"crash test seed: {SEED} (replay: WADOCTOR_CRASH_SEED={SEED})"
