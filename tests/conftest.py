from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
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
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGPIPE)


def _in_process(args: list[str], cwd: Path | None, env: dict[str, str]) -> Run:
    """The command run in this process, as `wadoctor` runs it (its own main, its exit status),
    with its own environment, working folder and streams, each put back afterwards. Standard
    input is empty and not a terminal, as under cron."""
    from wadoctor.cli import main

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_signals = {number: signal.getsignal(number) for number in _SIGNALS}
    out, err = io.BytesIO(), io.BytesIO()
    streams = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8"),
               io.TextIOWrapper(out, encoding="utf-8", write_through=True),
               io.TextIOWrapper(err, encoding="utf-8", write_through=True))
    sys.stdin, sys.stdout, sys.stderr = streams
    os.environ.clear()
    os.environ.update(env)
    time.tzset()  # TZ, as a new process would read it
    code: int = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for stream in streams[1:]:
            stream.flush()
        written = out.getvalue().decode(), err.getvalue().decode()
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        time.tzset()
        for number, handler in saved_signals.items():
            signal.signal(number, handler)
    return Run(code, *written)


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
            unprivileged: bool = False, timeout: float | None = None, process: bool = False) -> Run:
    """Run the command as a user would. In this process, unless the test needs a process of
    its own: `unprivileged` (file permissions apply even when the tests run as root), a
    `timeout` (a hang must not hang the suite) or `process` (signals, start-up imports, the
    process table a holder test reads)."""
    full_env = {k: v for k, v in os.environ.items() if k != "WADOCTOR_CONFIG"}
    full_env.update(env or {})
    argv = list(map(str, args))
    process = process or argv[:1] == ["guard"]  # its COMMAND writes to the descriptors, not sys.stdout
    if not (unprivileged or timeout or process):
        run = _in_process(argv, cwd, full_env)
    else:
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [(env or {}).get("PYTHONPATH"), str(REPO)]))
        prefix = AS_USER if unprivileged else []
        result = subprocess.run([*prefix, sys.executable, "-m", "wadoctor", *argv], cwd=cwd, env=full_env,
                                capture_output=True, text=True, timeout=timeout or 60)
        run = Run(result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in run.err, run.err
    return run


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
