"""Every `--json` command writes the same envelope, and its `summary.exit_code` is the code
the process exits with (docs/contracts.md)."""

from __future__ import annotations

import json
import time

from tests.conftest import EXAMPLES
from tests.repair_helpers import copy, fixable_tree

ENVELOPE = ["schema_version", "tool", "command", "generated_at"]


def _check_envelope(run, command: str) -> dict:
    doc = run.json()
    assert list(doc)[:4] == ENVELOPE and list(doc)[-1] == "summary", list(doc)
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "wadoctor" and doc["command"] == command
    assert abs(time.time() - time.mktime(time.strptime(doc["generated_at"], "%Y-%m-%dT%H:%M:%SZ"))
               + time.timezone) < 600
    assert doc["summary"]["exit_code"] == run.code, (command, run)
    return doc


def test_every_json_command_has_one_envelope_and_its_exit_code(tmp_path, cli, registry):
    sessions = fixable_tree(tmp_path)
    copy("support-bot", sessions / "support-bot")  # an empty creds.json: critical
    log = tmp_path / "gw.log"
    log.write_text('{"level":50,"time":1795300000000,"session":"shop","msg":"stream errored out",'
                   '"reasonNode":{"tag":"conflict","attrs":{"type":"replaced"}}}\n')
    runs = {
        "list": cli("list", "--json", sessions),
        "check": cli("check", "--json", "--registry", registry, sessions),
        "fix": cli("fix", "--json", sessions),
        "logs": cli("logs", "--json", log),
        "fleet": cli("fleet", "--json", "--registry", registry),
        "quarantine list": cli("quarantine", "list", "--json", sessions),
    }
    entry = runs["quarantine list"].json()["entries"][0]["id"]
    runs["restore"] = cli("restore", entry, "--root", sessions, "--dry-run", "--json")
    runs["clean"] = cli("clean", "support-bot", "--root", sessions, "--yes", "--json", cwd=tmp_path)
    for command, run in runs.items():
        _check_envelope(run, command)
    assert {run.code for run in runs.values()} >= {0, 2}  # the codes differ, the envelope does not
    assert runs["check"].json()["summary"]["complete"] is True


def test_a_missing_path_is_exit_3_in_json_too(tmp_path, cli):
    gone = tmp_path / "nowhere"
    for command in ("list", "check"):
        run = cli(command, "--json", gone)
        doc = _check_envelope(run, command)
        assert run.code == 3 and doc["problems"], run
    assert json.loads(cli("check", "--json", EXAMPLES).out)["summary"]["sessions"] > 0


def test_what_is_not_there_is_exit_3_in_every_command(tmp_path, cli):
    """A missing path, an unknown session or entry, a folder named as a session that holds
    none: one decision everywhere, the command could not complete (3), said in one line."""
    gone = tmp_path / "nowhere"
    sessions = fixable_tree(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    runs = {
        "fix": cli("fix", gone),
        "logs": cli("logs", tmp_path / "nope.log"),
        "quarantine list": cli("quarantine", "list", gone),
        "clean unknown": cli("clean", "no-such", "--root", sessions, "--yes", cwd=tmp_path),
        "clean empty folder": cli("clean", empty, "--yes", cwd=tmp_path),
        "clean a root": cli("clean", sessions, "--yes", cwd=tmp_path),
        "restore unknown": cli("restore", "no-such-entry", "--root", sessions),
    }
    for what, run in runs.items():
        assert run.code == 3 and run.err.count("\n") == 1, (what, run)
    assert "a folder of 2 sessions, not one" in runs["clean a root"].err
    assert sorted(p.name for p in sessions.iterdir()) == ["marketing", "shop-main"]  # nothing was taken


def test_a_reader_that_leaves_early_never_turns_the_verdict_into_exit_1(tmp_path):
    """`check | head`: wadoctor exits with its own code when all was written, or dies by
    SIGPIPE, as any filter does; never the 1 of a 'Broken pipe' error (a warning to cron)."""
    import shutil
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO

    for n in range(200):
        shutil.copytree(EXAMPLES / "support-bot", tmp_path / "many" / f"s{n}")
    for args in (["check", "--json"], ["check"], ["list"]):
        reader = subprocess.Popen([sys.executable, "-m", "wadoctor", *args, tmp_path / "many"], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.readline()
        reader.stdout.close()
        code = reader.wait(timeout=60)
        expected = 0 if args == ["list"] else 2
        assert code in (expected, -signal.SIGPIPE), (args, code, reader.stderr.read())
        assert b"Broken pipe" not in reader.stderr.read()
