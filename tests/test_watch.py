"""`wadoctor watch`: events as the picture changes, and the circuit breaker acting once per
conflict loop, from real logs, real folders and real processes."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.repair_helpers import copy
from tests.test_repair_ops import NODE, node_gateway

# A Baileys 7 conflict as pino writes it (the shape tests/test_log_blocks.py reads too)
CONFLICT = ('{{"level":50,"time":{ms},"pid":4242,"hostname":"gw","session":"{session}","msg":"stream errored out",'
            '"reasonNode":{{"tag":"conflict","attrs":{{"type":"replaced"}}}}}}\n')


def conflicts(log: Path, session: str, count: int) -> None:
    """`count` conflicts two seconds apart (so none is an echo of another), appended at once."""
    start = int(time.time() * 1000)
    with open(log, "a") as out:
        out.write("".join(CONFLICT.format(ms=start + n * 2000, session=session) for n in range(count)))


class Watcher:
    """`wadoctor watch` as a process, its events read as they come."""

    def __init__(self, *args: str | Path, cwd: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "wadoctor", "watch", *map(str, args)], cwd=cwd,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        self.events: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def wait_for(self, event: str, seconds: float = 15) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                found = self.events.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if found["event"] == event:
                return found
        raise AssertionError(f"no {event} event within {seconds}s; stderr: {self.process.stderr.read()[-2000:]}"
                             if self.process.poll() is not None else f"no {event} event within {seconds}s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


def test_once_gives_each_session_s_picture_and_check_s_exit_code(tmp_path, cli):
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop-main")
    copy("support-bot", sessions / "support-bot")  # an emptied creds.json: critical
    run = cli("watch", "--once", "--history", tmp_path / "h.sqlite", sessions)
    events = [json.loads(line) for line in run.out.splitlines()]
    assert run.code == 2, run
    by_session = {e["session"]: e for e in events if e["event"] == "session"}
    assert by_session["support-bot"]["new"] == ["creds-empty"] and by_session["support-bot"]["severity"] == "critical"
    assert by_session["shop-main"]["findings"] == [] and by_session["shop-main"]["state"] == "paired"


def test_a_conflict_loop_opens_the_circuit_once_and_a_restart_does_not_act_again(tmp_path):
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop")
    log, said = tmp_path / "gateway.log", tmp_path / "hook.out"
    log.write_text("")
    (tmp_path / "wadoctor.toml").write_text(
        "[watch]\nconflicts = 3\nwindow_seconds = 600\ncooldown_seconds = 600\n"
        f"hook = \"sh -c 'cat >> {said}; echo >> {said}'\"\n")
    history = tmp_path / "watch.sqlite"
    watcher = Watcher("--log", log, "--history", history, sessions, cwd=tmp_path)
    try:
        watcher.wait_for("watching")
        conflicts(log, "shop", 3)
        opened = watcher.wait_for("circuit-open", 5)
        assert opened["session"] == "shop" and opened["conflicts"] == 3
        assert opened["cause"] == "no-local-cause" and opened["action"] == "notify"  # nothing here holds it
        action = watcher.wait_for("action", 5)
        assert action["notified"] == ["hook ran"]
        conflicts(log, "shop", 2)  # the loop goes on: the cooldown holds the next action back
        time.sleep(1.5)
    finally:
        assert watcher.stop() == 0
    told = [json.loads(line) for line in said.read_text().splitlines() if line.strip()]
    assert [t["event"] for t in told] == ["action"] and told[0]["cause"] == "no-local-cause"

    again = Watcher("--log", log, "--history", history, sessions, cwd=tmp_path)
    try:
        again.wait_for("watching")
        conflicts(log, "shop", 1)  # the loop goes on after the restart: the cooldown is remembered too
        held = again.wait_for("circuit-held", 5)
        assert held["session"] == "shop" and held["conflicts"] >= 3
    finally:
        again.stop()
    assert len([line for line in said.read_text().splitlines() if line.strip()]) == 1  # never twice


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_stop_duplicate_breaks_a_loop_a_second_local_gateway_causes(tmp_path):
    """Two real node gateways hold one session (the second started after a deploy); their
    conflicts open the circuit; the policy stops the newer one, under fix's proof rules."""
    app = tmp_path / "app"
    copy("shop-main", app / "sessions" / "shop")
    leftover = app / "sessions" / "shop" / "pre-key-9.json.tmp"
    leftover.write_text("{")  # what a plain fix would quarantine: not this action's business
    log = tmp_path / "gateway.log"
    log.write_text("")
    (tmp_path / "wadoctor.toml").write_text("[watch]\nconflicts = 3\non_duplicate = \"stop-duplicate\"\n")
    old = node_gateway(app)
    time.sleep(1.1)  # process start times have clock-tick precision
    new = node_gateway(app)
    watcher = Watcher("--log", log, "--history", tmp_path / "h.sqlite", app / "sessions", cwd=tmp_path)
    try:
        first = watcher.wait_for("session")
        assert "duplicate-holder" in first["findings"], first
        watcher.wait_for("watching")
        started = time.monotonic()
        conflicts(log, "shop", 3)
        action = watcher.wait_for("action", 10)
        assert action["cause"] == "duplicate-here" and action["action"] == "stop-duplicate", action
        assert new.wait(timeout=10) == -signal.SIGTERM and old.poll() is None
        assert time.monotonic() - started < 5, "the loop is broken within seconds"
        assert leftover.exists(), "stop-duplicate stops the duplicate and repairs nothing else"
    finally:
        watcher.stop()
        for process in (old, new):
            process.kill()
            process.wait()


def test_a_gateway_piped_in_and_a_folder_change_keep_events_and_metrics_current(tmp_path):
    """`node app.js 2>&1 | wadoctor watch -`: conflicts from standard input open the circuit;
    a creds.json emptied by a crash is seen through inotify, re-judged, and in the metrics."""
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop")
    prom = tmp_path / "wadoctor.prom"
    (tmp_path / "wadoctor.toml").write_text("[watch]\nconflicts = 2\n")
    watcher = Watcher("--log", "-", "--history", tmp_path / "h.sqlite", "--prometheus", prom, sessions, cwd=tmp_path)
    try:
        watcher.wait_for("watching")
        start = int(time.time() * 1000)
        watcher.process.stdin.write("".join(CONFLICT.format(ms=start + n * 2000, session="shop") for n in range(2)))
        watcher.process.stdin.flush()
        assert watcher.wait_for("circuit-open", 5)["session"] == "shop"
        assert 'wadoctor_sessions{state="paired"} 1' in prom.read_text()
        (sessions / "shop" / "creds.json").write_bytes(b"")  # what a kill during writeFile leaves
        changed = watcher.wait_for("session", 10)
        assert changed["new"] == ["creds-empty"] and changed["state"] == "broken", changed
        deadline = time.monotonic() + 5  # the metrics are written once the check that said so ends
        while 'wadoctor_sessions{state="broken"} 1' not in prom.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert 'wadoctor_sessions{state="broken"} 1' in prom.read_text()
    finally:
        watcher.stop()


def test_killed_at_random_moments_it_never_acts_twice_and_loses_no_event(tmp_path):
    """SIGKILL while loops are being acted on, then a restart, again and again: per conflict
    loop at most one action is recorded and at most one hook call made, every hook call has
    its recorded action, and every event printed is in the history. The seed is printed."""
    import random
    import sqlite3

    from tests.test_crash import SEED

    rng = random.Random(SEED)
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop")
    log, said, history = tmp_path / "gateway.log", tmp_path / "hook.out", tmp_path / "h.sqlite"
    log.write_text("")
    (tmp_path / "wadoctor.toml").write_text(
        "[watch]\nconflicts = 2\nwindow_seconds = 600\ncooldown_seconds = 600\n"
        f"hook = \"sh -c 'cat >> {said}; echo >> {said}'\"\n")
    printed: list[dict] = []
    for trial in range(4):
        watcher = Watcher("--log", log, "--history", history, sessions, cwd=tmp_path)
        watcher.wait_for("watching")
        conflicts(log, f"loop{trial}", 2)
        time.sleep(rng.uniform(0.0, 1.0))
        watcher.process.kill()
        watcher.process.wait()
        time.sleep(0.2)  # the reader thread takes what was printed before the kill
        while not watcher.events.empty():
            printed.append(watcher.events.get())
    db = sqlite3.connect(history)
    actions = list(db.execute("SELECT session, count(*) FROM actions GROUP BY session"))
    assert all(count == 1 for _, count in actions), (SEED, actions)
    told = [json.loads(line) for line in said.read_text().splitlines() if line.strip()] if said.exists() else []
    assert len({t["session"] for t in told}) == len(told), (SEED, told)  # never twice for one loop
    assert {t["session"] for t in told} <= {session for session, _ in actions}, SEED
    kept = {(event, json.loads(body)["time"]) for event, body in db.execute("SELECT event, body FROM events")}
    assert {(e["event"], e["time"]) for e in printed} <= kept, SEED


def test_a_session_copied_while_watched_makes_both_copies_a_duplicate(tmp_path):
    """A change that touches another session's verdict (a new session with the identity of
    an old one) is judged across all sessions, not only where the files changed."""
    import shutil

    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop")
    copy("marketing", sessions / "marketing")
    watcher = Watcher("--history", tmp_path / "h.sqlite", sessions, cwd=tmp_path)
    try:
        watcher.wait_for("watching")
        shutil.copytree(sessions / "shop", tmp_path / "staging", copy_function=shutil.copy)
        (tmp_path / "staging").rename(sessions / "shop-copy")  # as a deploy copies a volume
        seen: dict[str, dict] = {}
        while {"shop", "shop-copy"} - set(seen):
            event = watcher.wait_for("session", 10)
            seen[event["session"]] = event
        assert all("duplicate-identity" in seen[name]["new"] for name in ("shop", "shop-copy")), seen
        assert "marketing" not in seen  # its verdict did not change: no event
    finally:
        watcher.stop()


class _Gateway:
    """A small local HTTP server answering as the gateway's API is documented to (WAHA's
    Sessions API; wppconnect-server's generate-token, close-session and start-session), a
    hand-made stand-in for the gateway that records every request it is sent."""

    def __init__(self, key: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen.append((self.path, dict(self.headers)))
                body = {"token": "tok-123"} if self.path.endswith("/generate-token") else {"status": "ok"}
                wanted = key in urllib.parse.unquote(self.path) or self.headers.get("X-Api-Key") == key or \
                    self.headers.get("Authorization") == "Bearer tok-123"
                self.send_response(201 if wanted else 401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.parametrize("gateway, pause, resume", [
    ("waha", "/api/sessions/shop%20one/stop", "/api/sessions/shop%20one/start"),
    ("wppconnect-server", "/api/shop%20one/close-session", "/api/shop%20one/start-session"),
])
def test_pause_session_stops_it_through_the_gateway_api_and_resumes_it_after_the_cooldown(tmp_path, gateway, pause,
                                                                                         resume):
    key = "K3y/with?odd&chars"
    api = _Gateway(key)
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop one")
    log = tmp_path / "gateway.log"
    log.write_text("")
    (tmp_path / "wadoctor.toml").write_text(
        f'[watch]\nconflicts = 2\ncooldown_seconds = 1\non_unknown = "pause-session"\ngateway_api = "{gateway}"\n'
        f'api_url = "{api.url}"\napi_key_env = "GATEWAY_KEY"\n')
    os.environ["GATEWAY_KEY"] = key
    try:
        watcher = Watcher("--log", log, "--history", tmp_path / "h.sqlite", sessions, cwd=tmp_path)
    finally:
        del os.environ["GATEWAY_KEY"]
    printed = []
    try:
        watcher.wait_for("watching")
        conflicts(log, "shop one", 2)
        action = watcher.wait_for("action", 5)
        assert action["action"] == "pause-session" and action["result"].startswith("paused through"), action
        resumed = watcher.wait_for("resumed", 5)
        assert resumed["result"] == f"resumed through {gateway}'s API", resumed
        printed = [action, resumed]
    finally:
        watcher.stop()
        api.server.shutdown()
    paths = [path for path, _ in api.requests]
    assert [p for p in paths if not p.endswith("/generate-token")] == [pause, resume]
    assert key not in json.dumps(printed)


def test_with_a_registry_a_loop_is_blamed_on_the_host_that_has_the_same_identity(tmp_path, cli, registry):
    """The same session copied to two hosts (real PostgreSQL registry): host b has checked in;
    on host a, watch reads the fleet with every check, so its conflicts are `other-host`."""
    b = tmp_path / "b" / "sessions"
    copy("shop-main", b / "shop")
    assert cli("check", "--registry", registry, b, env={"WADOCTOR_HOSTNAME": "gw-b"}).code in (0, 1, 2)
    a = tmp_path / "a" / "sessions"
    copy("shop-main", a / "shop")
    log = tmp_path / "gateway.log"
    log.write_text("")
    (tmp_path / "wadoctor.toml").write_text("[watch]\nconflicts = 2\n")
    os.environ["WADOCTOR_HOSTNAME"] = "gw-a"
    try:
        watcher = Watcher("--log", log, "--registry", registry, "--history", tmp_path / "h.sqlite", a, cwd=tmp_path)
    finally:
        del os.environ["WADOCTOR_HOSTNAME"]
    try:
        first = watcher.wait_for("session")
        assert "duplicate-identity" in first["findings"], first
        watcher.wait_for("watching")
        conflicts(log, "shop", 2)
        opened = watcher.wait_for("circuit-open", 5)
        assert opened["cause"] == "other-host", opened
    finally:
        watcher.stop()


class _Engine:
    """A unix socket answering `GET /containers/{id}/logs?follow=true` as the Docker Engine
    API documents it (a hand-made stand-in: no engine runs here): 200, the multiplexed stream
    content type, chunked, each write an 8-byte frame header (stream 1 = stdout, then the
    length big-endian) and its payload. Lines put in `lines` are sent as they come."""

    def __init__(self, path: Path, container: str) -> None:
        import socketserver
        import struct

        self.lines: queue.Queue[str | None] = queue.Queue()
        self.asked: list[str] = []
        lines, asked = self.lines, self.asked

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request = self.rfile.readline().decode()
                while self.rfile.readline().strip():
                    pass
                asked.append(request)
                if not request.startswith(f"GET /containers/{container}/logs?"):
                    self.wfile.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    return
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
                                 b"Transfer-Encoding: chunked\r\n\r\n")
                self.wfile.flush()
                while (line := lines.get()) is not None:
                    data = line.encode()
                    frame = struct.pack(">BxxxI", 1, len(data)) + data
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                    self.wfile.flush()
                with contextlib.suppress(OSError):  # the reader may be gone already
                    self.wfile.write(b"0\r\n\r\n")

        self.server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_container_s_log_is_followed_through_the_engine_socket(tmp_path):
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop")
    engine = _Engine(tmp_path / "engine.sock", "gw-1")
    (tmp_path / "wadoctor.toml").write_text("[watch]\nconflicts = 2\n")
    os.environ["DOCKER_HOST"] = f"unix://{tmp_path / 'engine.sock'}"
    try:
        watcher = Watcher("--log", "docker:gw-1", "--log", "docker:gone", "--history", tmp_path / "h.sqlite",
                          sessions, cwd=tmp_path)
    finally:
        del os.environ["DOCKER_HOST"]
    try:
        watching = watcher.wait_for("watching", 10)
        assert watching["unopened"] == ["docker:gone"], watching
        failed = watcher.wait_for("source-failed", 5)
        assert failed["source"] == "docker:gone" and "404" in failed["reason"]  # the other source goes on
        start = int(time.time() * 1000)
        for n in range(2):
            engine.lines.put(CONFLICT.format(ms=start + n * 2000, session="shop"))
        assert watcher.wait_for("circuit-open", 5)["session"] == "shop"
        assert any("follow=true" in line for line in engine.asked)
    finally:
        engine.lines.put(None)
        watcher.stop()
        engine.server.shutdown()


NAMESPACED = """
mount -t tmpfs none /run && mkdir -p /run/systemd/journal /run/log/journal
/lib/systemd/systemd-journald >/dev/null 2>&1 &
sleep 0.5
(while [ ! -e {trigger} ]; do sleep 0.1; done
 for line in {lines}; do
   printf 'MESSAGE=%s\\nOBJECT_SYSTEMD_UNIT=gw.service\\n' "$(cat $line)" | logger --journald
 done) &
exec "$@"
"""


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/lib/systemd/systemd-journald").exists(),
                    reason="needs root and systemd's journald to run a private journal")
def test_a_unit_s_journal_is_followed(tmp_path):
    """A real journald of its own (a private /run in a mount and PID namespace), the gateway's
    conflicts logged for gw.service as a root process logs them (OBJECT_SYSTEMD_UNIT): watch
    --log journal:gw.service reads them through journalctl."""
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop")
    (tmp_path / "wadoctor.toml").write_text("[watch]\nconflicts = 2\n")
    start = int(time.time() * 1000)
    lines = []
    for n in range(2):
        lines.append(tmp_path / f"line{n}")
        lines[-1].write_text(CONFLICT.format(ms=start + n * 2000, session="shop").strip())
    trigger = tmp_path / "go"
    script = NAMESPACED.format(trigger=trigger, lines=" ".join(map(str, lines)))
    watcher = Watcher.__new__(Watcher)
    watcher.process = subprocess.Popen(
        ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "sh", "-c", script, "sh", sys.executable, "-m",
         "wadoctor", "watch", "--log", "journal:gw.service", "--history", str(tmp_path / "h.sqlite"), str(sessions)],
        cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    watcher.events = queue.Queue()
    threading.Thread(target=watcher._read, daemon=True).start()
    try:
        assert watcher.wait_for("watching", 20)["unopened"] == []
        time.sleep(0.5)  # journalctl seeks to the journal's end
        trigger.touch()
        assert watcher.wait_for("circuit-open", 10)["session"] == "shop"
    finally:
        watcher.process.kill()
        watcher.process.wait()


def test_real_baileys_lines_across_a_rotation_open_the_circuit(tmp_path, real_baileys):
    """Lines Baileys' own logger writes through pino (tests/node/make_baileys_logs.mjs; one
    conflict is logged twice and counted once), the log rotated by rename between them, as
    logrotate's default does: the conflicts on both sides of the rotation count together."""
    from tests.test_logs import baileys_log

    made = baileys_log(tmp_path / "made.log", {"session": "shop", "start": int(time.time()), "every": 2, "count": 3,
                                               "kind": "conflict"})
    lines = made.read_text().splitlines(keepends=True)
    sessions = tmp_path / "sessions"
    copy("shop-main", sessions / "shop")
    log = tmp_path / "gateway.log"
    log.write_text("")
    (tmp_path / "wadoctor.toml").write_text("[watch]\nconflicts = 3\n")
    watcher = Watcher("--log", log, "--history", tmp_path / "h.sqlite", sessions, cwd=tmp_path)
    try:
        watcher.wait_for("watching")
        half = len(lines) // 2
        with open(log, "a") as out:
            out.writelines(lines[:half])
        time.sleep(0.6)
        log.rename(tmp_path / "gateway.log.1")  # logrotate's default: rename, then a new file
        with open(log, "w") as out:
            out.writelines(lines[half:])
        opened = watcher.wait_for("circuit-open", 5)
        assert opened["session"] == "shop" and opened["conflicts"] == 3, opened
    finally:
        watcher.stop()


def test_abandoned_sessions_are_purged_only_by_explicit_policy_and_restorably(tmp_path, cli):
    sessions = tmp_path / "sessions"
    copy("new-kiosk", sessions / "new-kiosk")  # never paired
    copy("shop-main", sessions / "shop-main")
    (tmp_path / "wadoctor.toml").write_text("[thresholds]\npairing_abandoned_minutes = 0\n")
    kept = cli("watch", "--once", "--history", tmp_path / "h.sqlite", sessions, cwd=tmp_path)
    assert "purged" not in kept.out and (sessions / "new-kiosk").exists(), "never by default"
    (tmp_path / "wadoctor.toml").write_text("[thresholds]\npairing_abandoned_minutes = 0\n"
                                            "[watch]\npurge_abandoned = true\n")
    run = cli("watch", "--once", "--history", tmp_path / "h.sqlite", sessions, cwd=tmp_path)
    purged, = [json.loads(line) for line in run.out.splitlines() if '"purged"' in line]
    assert purged["session"] == "new-kiosk" and purged["result"].startswith("done"), purged
    assert not (sessions / "new-kiosk").exists() and (sessions / "shop-main").exists()
    assert cli("restore", "--last", "--root", sessions).code == 0 and (sessions / "new-kiosk").exists()
