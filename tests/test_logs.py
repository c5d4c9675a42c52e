"""`wadoctor logs` and `check --logs` on logs written as the libraries write them."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, REPO, by_id, codes
from tests.fixtures import baileys

NODE_DIR = REPO / "tests" / "node"
START = 1_795_300_000  # 2026-11-21T22:26:40Z


def baileys_log(path: Path, *specs: dict) -> Path:
    """Lines from Baileys' own logger calls, through pino (tests/node/make_baileys_logs.mjs)."""
    baileys.ensure_baileys()
    spec_file = path.with_suffix(".spec.json")
    spec_file.write_text(json.dumps(list(specs)))
    with open(path, "w") as out:
        subprocess.run(["node", str(NODE_DIR / "make_baileys_logs.mjs"), str(spec_file)], stdout=out, check=True,
                       cwd=NODE_DIR)
    return path


def sessions_of(run) -> dict:
    return {s["session"]: s for s in run.json()["sessions"]}


@pytest.fixture
def conflict_loop(tmp_path, real_baileys):
    return baileys_log(
        tmp_path / "gateway.log",
        {"session": "shop", "start": START, "every": 120, "count": 40, "kind": "conflict"},  # 30/h
        {"session": "calm", "start": START, "every": 1800, "count": 3, "kind": "conflict"},  # 2/h
        {"session": "bot", "start": START + 50, "every": 1, "count": 1, "kind": "device_removed"},
        {"session": "bot", "start": START + 60, "every": 5, "count": 4, "kind": "decrypt"},
        {"session": "flaky", "start": START, "every": 3, "count": 15, "kind": "reconnect"},
        {"session": "worker", "start": START, "every": 300, "count": 3, "kind": "restart"},
    )


def test_baileys_pino_logs_per_session(conflict_loop, cli):
    run = cli("logs", "--json", conflict_loop)
    assert run.code == 2, run
    found = sessions_of(run)
    shop = found["shop"]
    assert shop["conflicts"] == 40, "one conflict is logged twice by Baileys and counted once"
    assert shop["worst_hourly_conflicts"] == 30
    assert shop["first_seen"] == "2026-11-21T22:26:40Z"
    assert {(f["code"], f["severity"]) for f in shop["findings"]} == {("log-conflicts", "critical")}
    calm = found["calm"]
    assert calm["conflicts"] == 3 and calm["worst_hourly_conflicts"] == 2 and calm["findings"] == []
    bot = found["bot"]
    assert (bot["logouts"], bot["conflicts"], bot["decrypt_failures"]) == (1, 0, 4)
    assert {f["code"] for f in bot["findings"]} == {"log-logged-out", "log-decrypt-failures"}
    flaky = found["flaky"]
    assert flaky["reconnects"] == 15 and flaky["storms"] == 1
    assert "log-reconnect-storm" in {f["code"] for f in flaky["findings"]}
    assert found["worker"]["restarts"] == 3 and found["worker"]["findings"] == []


def test_table_and_thresholds_from_config(conflict_loop, cli, tmp_path):
    table = cli("logs", conflict_loop)
    assert "log-conflicts" in table.out and "critical at 10" in table.out
    (tmp_path / "wadoctor.toml").write_text("[logs]\nconflicts_warning_per_hour = 1\nconflicts_critical_per_hour = 50\n"
                                           "storm_reconnects = 100\n")
    found = sessions_of(cli("logs", "--json", conflict_loop, cwd=tmp_path))
    assert {(f["code"], f["severity"]) for f in found["shop"]["findings"]} == {("log-conflicts", "warning")}
    assert found["calm"]["findings"][0]["code"] == "log-conflicts"
    assert found["flaky"]["storms"] == 0


def test_since_until_and_session_filters(conflict_loop, cli):
    found = sessions_of(cli("logs", "--json", "--since", "2026-11-21T23:26:40Z", conflict_loop))
    assert found["shop"]["conflicts"] == 40 - 30
    found = sessions_of(cli("logs", "--json", "--until", "2026-11-21T22:36:40Z", "--session", "shop", conflict_loop))
    assert set(found) == {"shop"} and found["shop"]["conflicts"] == 6  # --until is inclusive
    bad = cli("logs", "--since", "yesterday-ish", conflict_loop)
    assert bad.code == 64 and "--since takes" in bad.err


def test_rotated_and_gzipped_files_are_read_oldest_first(conflict_loop, cli, tmp_path):
    lines = conflict_loop.read_text().splitlines(keepends=True)
    half = len(lines) // 2
    old = tmp_path / "gateway.log.1.gz"
    with gzip.open(old, "wt") as handle:
        handle.writelines(lines[:half])
    new = tmp_path / "gateway.log"
    new.write_text("".join(lines[half:]))
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    found = sessions_of(cli("logs", "--json", new, old))
    assert found["shop"]["conflicts"] == 40 and found["shop"]["worst_hourly_conflicts"] == 30


def test_standard_input_streams(conflict_loop, cli, tmp_path):
    result = subprocess.run([sys.executable, "-m", "wadoctor", "logs", "--json", "-"], stdin=open(conflict_loop),
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2
    assert {s["session"]: s["conflicts"] for s in json.loads(result.stdout)["sessions"]}["shop"] == 40


TEXT_LOG = """\
10:00:01.123 [Client INFO] Got replaced stream error, sending StreamReplaced event
2026-11-21T10:00:05Z [shop] connection closed due to Error: Stream Errored (conflict) , reconnecting true
2026-11-21T10:10:05Z [shop] Connection closed, reason: 440
2026-11-21 10:20:00,123 INFO [bot] Got device removed stream error, sending LoggedOut event and deleting session
2026-11-21 10:20:00,200 WARNING [bot] Failed to delete store after device_removed error: database is locked
2026-11-21T10:30:00Z session=wweb client disconnected: CONFLICT
{chromium}
2026-11-21T10:40:00Z [sales] Connection Failure statusCode: 401
    statusCode: 440,
\x00\xff garbage that is not text at all
""".format(chromium="2026-11-21T10:31:00Z session=wweb Failed to launch the browser process! The profile appears to "
                    "be in use by another Chromium process (88) on another computer (gateway-7f9c). Chromium has "
                    "locked the profile so that it doesn't get corrupted.") + "x" * 200_000 + "\n"


def test_whatsmeow_neonize_wwebjs_and_chromium_text_lines(tmp_path, cli):
    log = tmp_path / "mixed.log"
    log.write_text(TEXT_LOG, errors="surrogateescape")
    run = cli("logs", "--json", log)
    found = sessions_of(run)
    assert found["shop"]["conflicts"] == 2
    assert found["(unknown)"]["conflicts"] == 1
    assert found["bot"]["logouts"] == 1 and found["bot"]["other"] == {"store-error": 1}
    assert found["wweb"]["conflicts"] == 1 and found["wweb"]["other"] == {"profile-in-use": 1}
    assert found["sales"]["logouts"] == 1
    assert {f["code"] for f in found["wweb"]["findings"]} == {"log-profile-in-use"}
    assert run.code == 2


def test_pattern_names_the_session(tmp_path, cli):
    log = tmp_path / "custom.log"
    log.write_text("2026-11-21T10:00:00Z tenant:acme Got replaced stream error, sending StreamReplaced event\n")
    found = sessions_of(cli("logs", "--json", "--pattern", r"tenant:(?P<session>\w+)", log))
    assert found["acme"]["conflicts"] == 1
    assert cli("logs", "--pattern", "tenant:(\\w+)", log).code == 64
    assert cli("logs", "--pattern", "([", log).code == 64


def test_follow_prints_alerts_as_the_file_grows(tmp_path, real_baileys):
    log = tmp_path / "live.log"
    log.write_text("")
    follower = subprocess.Popen([sys.executable, "-m", "wadoctor", "logs", "--follow", str(log)],
                                stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        time.sleep(0.5)
        burst = baileys_log(tmp_path / "burst.log", {"session": "shop", "start": START, "every": 60, "count": 4,
                                                     "kind": "conflict"})
        with open(log, "a") as handle:
            handle.write(burst.read_text())
        line = follower.stdout.readline()
        assert "alert shop: 3 conflicts within an hour (warning)" in line
        follower.send_signal(signal.SIGINT)
        rest = follower.communicate(timeout=15)[0]
        assert "shop" in rest and follower.returncode == 1
    finally:
        follower.kill()


def test_check_joins_log_figures_on_session_ids(conflict_loop, cli, tmp_path):
    sessions = tmp_path / "sessions"
    shutil.copytree(EXAMPLES / "shop-main", sessions / "shop", copy_function=shutil.copy)
    run = cli("check", "--json", "--logs", conflict_loop, sessions)
    shop = by_id(run.json())["shop"]
    assert shop["logs"]["conflicts"] == 40
    assert "log-conflicts" in codes(shop) and run.code == 2
    assert by_id(cli("check", "--json", sessions).json())["shop"]["logs"] is None
    table = cli("check", "--logs", conflict_loop, sessions, env={"COLUMNS": "200"})
    header, row = table.out.splitlines()[:2]
    at = header.index("CONFL/1H")  # a right-aligned column as wide as its header
    assert row[at:at + len("CONFL/1H")].strip() == str(shop["logs"]["conflicts_last_hour"])


def test_missing_log_file_is_one_line(cli, tmp_path):
    run = cli("logs", tmp_path / "nope.log")
    assert run.code == 3 and run.err.count("\n") == 1 and "No such file" in run.err


def reference_analysis(files: list[Path]):
    """The plain way: every line, oldest file first, through the keyword filter and the parser.
    The scanner (blocks, one multi-keyword pass, ranges on every core) must agree with it."""
    from wadoctor.config import Config
    from wadoctor.logs.analysis import feed
    from wadoctor.logs.events import may_matter
    from wadoctor.logs.run import make_parser, new_analysis
    from wadoctor.logs.sources import oldest_first

    config = Config()
    analysis, parser, number = new_analysis(config), make_parser(config, None), 0
    for name in oldest_first([str(f) for f in files]):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(name, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if may_matter(line):
                    feed(analysis, parser, [(number, line.rstrip("\n"))])
                number += 1
    analysis.lines = number
    return analysis


def test_scanner_agrees_with_a_line_by_line_read_of_the_benchmark_log(tmp_path):
    import random

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_logs import generate

    from wadoctor.config import Config
    from wadoctor.logs.report import figures
    from wadoctor.logs.run import analyze

    older, newest = tmp_path / "gw.log.1.gz", tmp_path / "gw.log"
    generate(newest, 260_000, random.Random(11))  # > 32 MiB: cut into ranges read on every core
    generate(tmp_path / "plain.1", 20_000, random.Random(12))
    with open(tmp_path / "plain.1", "rb") as src, gzip.open(older, "wb") as out:
        shutil.copyfileobj(src, out)
    os.utime(older, (START, START))
    (newest.parent / "tail").write_bytes(b'{"msg":"stream errored out","reasonNode":{"tag":"conflict"}}')  # no line end
    files = [newest, older, newest.parent / "tail"]
    os.utime(files[2], (time.time() + 60, time.time() + 60))
    expected = reference_analysis(files)
    found = analyze([str(f) for f in files], Config())
    assert found.lines == expected.lines == 280_001
    assert found.events == expected.events > 0
    assert {s: figures(log) for s, log in found.sessions.items()} == \
        {s: figures(log) for s, log in expected.sessions.items()}


@pytest.mark.parametrize("block", [7, 200, 4096])
def test_blocks_cut_anywhere_give_the_same_answer(tmp_path, monkeypatch, block):
    """A line cut by a block's end, a line longer than a block, a last line with no end."""
    import random

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_logs import generate

    from wadoctor.config import Config
    from wadoctor.logs import scanner
    from wadoctor.logs.report import figures
    from wadoctor.logs.run import analyze

    log = tmp_path / "gw.log"
    generate(log, 3_000, random.Random(block))
    long_line = json.dumps({"level": 50, "time": 1_795_300_000_000, "session": "long", "msg": "stream errored out",
                            "pad": "x" * 3 * block, "reasonNode": {"tag": "conflict", "attrs": {"type": "replaced"}}})
    with open(log, "a") as out:
        out.write(long_line + "\n" + long_line.replace('"long"', '"tail"'))
    monkeypatch.setattr(scanner, "BLOCK", block)
    expected, found = reference_analysis([log]), analyze([str(log)], Config())
    assert found.lines == expected.lines == 3_002
    assert {s: figures(log) for s, log in found.sessions.items()} == \
        {s: figures(log) for s, log in expected.sessions.items()}
    assert found.sessions["long"].conflicts == found.sessions["tail"].conflicts == 1


_json_texts = st.lists(st.sampled_from(['{"a":', '1', '}', ' ', '\r\n', '\x0c', 'NaN', '"x"', ',', '[', ']', 'é',
                                        '{}']),
                       max_size=12).map(lambda parts: "{" + "".join(parts))


@given(_json_texts)
@example('{"level":50} \t\r\n')
@example('{"level":50}\x0c')
def test_pino_lines_decode_as_json_loads_decodes_them(text):
    """The classifier's decoder skips loads' wrappers; it must accept and refuse what loads does."""
    from wadoctor.logs.events import _json_document

    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            _json_document(text)
        return
    assert repr(_json_document(text)) == repr(expected)  # repr: NaN equals itself


def test_times_without_a_zone_are_the_host_s_local_time(tmp_path, cli):
    """Python logging's default format writes local time with no zone (neonize logs through it);
    on a host five hours behind UTC, the last hour's conflicts must still be the last hour's."""
    log = tmp_path / "bot.log"
    writer = ("import logging, sys, time\n"
              "logging.basicConfig(filename=sys.argv[1], format='%(asctime)s %(levelname)s %(message)s')\n"
              "for minutes in (40, 30, 20, 10, 1):  # five conflicts in the last hour, minutes apart\n"
              "    logging.getLogger().handle(logging.makeLogRecord({'levelname': 'WARNING', 'levelno': 30,\n"
              "        'msg': '[shop] Got replaced stream error, sending StreamReplaced event',\n"
              "        'created': time.time() - minutes * 60}))\n")
    bogota = {"TZ": "America/Bogota"}
    subprocess.run([sys.executable, "-c", writer, str(log)], env={**os.environ, **bogota}, check=True)
    assert "+" not in log.read_text().split(" WARNING")[0] and "Z" not in log.read_text().split(" WARNING")[0]
    run = cli("logs", "--json", "--since", "1h", log, env=bogota)
    assert sessions_of(run)["shop"]["conflicts"] == 5
    config = tmp_path / "wadoctor.toml"
    config.write_text('[logs]\ntimezone = "Asia/Tokyo"\n')  # the gateway's clock was set elsewhere
    run = cli("logs", "--json", "--config", config, "--since", "1h", log, env=bogota)
    assert "shop" not in sessions_of(run)
    config.write_text('[logs]\ntimezone = "Mars/Olympus"\n')
    bad = cli("logs", "--json", "--config", config, log, env=bogota)
    assert bad.code == 78 and "logs.timezone" in bad.err


def test_check_joins_a_whatsapp_web_js_client_id_to_its_session_folder(cli, tmp_path):
    """whatsapp-web.js apps log their clientId (`helpdesk`); LocalAuth keeps it in
    .wwebjs_auth/session-helpdesk. The line is what an app's `disconnected` handler logs with
    the WAState reason whatsapp-web.js passes it (CONFLICT), through pino with the clientId bound."""
    root = tmp_path / "app"
    shutil.copytree(EXAMPLES / ".wwebjs_auth", root / ".wwebjs_auth", symlinks=True)
    now = int(time.time() * 1000)
    log = tmp_path / "app.log"
    log.write_text("".join(json.dumps({"level": 40, "time": now - minutes * 60_000, "clientId": "helpdesk",
                                       "msg": "disconnected: CONFLICT"}) + "\n"
                           for minutes in (50, 40, 30, 20)))
    session = by_id(cli("check", "--json", "--logs", log, root).json())["session-helpdesk"]
    assert session["gateway"]["logged_as"] == "helpdesk"
    assert session["logs"]["conflicts"] == 4 and "log-conflicts" in codes(session)


def test_wppconnect_server_state_changes_name_their_session(tmp_path, cli):
    """Lines in the form wppconnect-server's onStateChange handler logs them
    (src/util/createSessionUtil.ts: `State Change ${state}: ${client.session}` through its
    winston logger); CONNECTED is routine, CONFLICT is the conflict."""
    now = time.time()
    stamp = lambda minutes: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - minutes * 60))  # noqa: E731
    log = tmp_path / "wppconnect-server.log"
    log.write_text("".join(f"{stamp(m)} info: State Change {state}: sales\n"
                           for m, state in ((30, "CONNECTED"), (20, "CONFLICT"), (19, "CONNECTED"), (10, "CONFLICT"))))
    found = sessions_of(cli("logs", "--json", log))
    assert found["sales"]["conflicts"] == 2 and set(found) == {"sales"}


def test_the_table_says_times_as_people_do_and_counts_in_words_that_agree(tmp_path, cli):
    log = tmp_path / "one.log"
    log.write_text(json.dumps({"level": 50, "time": int((time.time() - 300) * 1000), "session": "shop",
                               "msg": "stream errored out",
                               "reasonNode": {"tag": "conflict", "attrs": {"type": "replaced"}}})
                   + "\n")
    run = cli("logs", log, env={"COLUMNS": "120", "TZ": "America/Bogota"})
    assert "5m ago" in run.out and run.out.rstrip().endswith("1 line, 1 event, 1 session")


def test_a_session_name_megabytes_long_is_cut_for_the_table_and_whole_in_json(tmp_path, cli):
    name = "x" * 2_000_000
    log = tmp_path / "huge.log"
    log.write_text(json.dumps({"level": 50, "time": int(time.time() * 1000), "session": name,
                               "msg": "stream errored out",
                               "reasonNode": {"tag": "conflict", "attrs": {"type": "replaced"}}})
                   + "\n")
    table = cli("logs", log, env={"COLUMNS": "120"})
    assert "… (2,000,000 characters)" in table.out and len(table.out) < 10_000
    assert sessions_of(cli("logs", "--json", log))[name]["conflicts"] == 1


# What the libraries throw when a message cannot be decrypted, as their own code words it
# (libsignal-node session_cipher.js and session_record.js, Baileys' decode-wa-message), each
# as a gateway logs it: the keyword search must let every one through to the parser.
DECRYPT_ERRORS = ["No matching sessions found for message", "No session found to decrypt message",
                  "Bad MAC", "failed to decrypt message"]


@pytest.mark.parametrize("error", DECRYPT_ERRORS)
def test_every_decrypt_failure_passes_the_keyword_search(tmp_path, cli, error):
    log = tmp_path / "gw.log"
    log.write_text(json.dumps({"level": 50, "time": 1795300000000, "session": "shop",
                               "msg": "error in handling message", "err": {"message": error}}) + "\n"
                   + f"2026-11-21 10:00:00 [shop] {error}\n")
    found = sessions_of(cli("logs", "--json", log))["shop"]
    assert found["decrypt_failures"] == 2, found


def test_a_line_nested_past_the_json_parser_s_depth_is_read_as_text(tmp_path, cli):
    """A hostile or broken line of 200,000 nested arrays made the JSON parser raise
    RecursionError, which ended the whole run as an internal error."""
    log = tmp_path / "gw.log"
    log.write_text('{"msg":"conflict","a":' + "[" * 200_000 + "]" * 200_000 + "}\n"
                   "2026-11-21 10:00:00 [shop] Got replaced stream error, sending StreamReplaced event\n")
    run = cli("logs", "--json", log)
    assert run.code == 0 and sessions_of(run)["shop"]["conflicts"] == 1, run
