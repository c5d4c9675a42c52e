"""`list`, `check` and `logs` parsed without Typer (wadoctor/cli/hot.py): the same options, the
same answers, and every command line the table does not know left to Typer, with its messages.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer.main
from typer.models import TyperPath

from tests.conftest import REPO, run_cli
from wadoctor.cli import hot
from wadoctor.cli.app import build_app


def _declared(name: str) -> tuple[set[tuple[frozenset[str], str, str]], tuple[str, bool]]:
    """What Typer declares for a command: (names, parameter, kind) of each option, and the
    positional parameter with whether it needs a value."""
    command = typer.main.get_command(build_app(name)).commands[name]  # type: ignore[attr-defined]
    options, positional = set(), None
    for param in command.params:
        if param.param_type_name == "argument":
            positional = (param.name, param.required)
            continue
        kind = (hot.FLAG if param.is_flag else hot.REPEAT if param.multiple
                else hot.FILE if isinstance(param.type, TyperPath) else hot.VALUE)
        options.add((frozenset([*param.opts, *param.secondary_opts]), param.name, kind))
    options.discard((frozenset(["-h", "--help"]), "help", hot.FLAG))
    assert positional is not None
    return options, positional


@pytest.mark.parametrize("name", sorted(hot.HOT))
def test_the_fast_table_declares_what_typer_declares(name):
    options, positional = _declared(name)
    entry = hot.HOT[name]
    assert {(frozenset(names), parameter, kind) for names, parameter, kind in entry.options} == options
    assert (entry.positional, entry.required) == positional


@pytest.fixture
def demo(tmp_path) -> Path:
    """The shipped demo tree and a log of the demo's kind, copied so a check may back up."""
    root = tmp_path / "sessions"
    shutil.copytree(REPO / "examples" / "sessions", root, symlinks=True)
    log = tmp_path / "gw.log"
    log.write_text('{"level":50,"time":1795300000000,"session":"shop","msg":"stream errored out",'
                   '"reasonNode":{"tag":"conflict","attrs":{"type":"replaced"}}}\n'
                   "2026-11-21 10:00:00 [s7] client disconnected: CONFLICT\n" * 3)
    return tmp_path


LINES = [
    ["list", "--json", "{root}/sessions"],
    ["list", "-q", "{root}/sessions"],
    ["check", "--json", "--no-backup", "{root}/sessions"],
    ["check", "--nagios", "--no-backup", "{root}/sessions"],
    ["check", "--no-backup", "--logs", "{root}/gw.log", "--logs={root}/gw.log", "--json", "{root}/sessions"],
    ["check", "-v", "--no-backup", "{root}/sessions", "--prometheus", "{root}/metrics.prom"],
    ["logs", "--json", "{root}/gw.log"],
    ["logs", "{root}/gw.log", "--since=2026-01-01T00:00:00Z", "--session", "s7"],
    ["logs", "-q", "-c", "{root}/none.toml", "{root}/gw.log"],  # a config that is not there: exit 78
    ["check", "--json", "--quiet", "{root}/sessions"],  # options that exclude each other: exit 64
]


def _without_clock(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return text
    document.pop("generated_at", None)
    return json.dumps(document)


@pytest.mark.parametrize("line", LINES, ids=[" ".join(line) for line in LINES])
def test_the_fast_path_answers_as_typer_does(demo, monkeypatch, line):
    args = [arg.format(root=demo) for arg in line]
    assert hot.hot_call(args) is not None, "this line should take the fast path"
    fast = run_cli(*args, cwd=demo)
    monkeypatch.setattr(hot, "hot_call", lambda args: None)
    slow = run_cli(*args, cwd=demo)
    assert (fast.code, _without_clock(fast.out), fast.err) == (slow.code, _without_clock(slow.out), slow.err)
    assert fast.code in (0, 1, 2, 64, 78), fast


@pytest.mark.parametrize("line, says", [
    (["check", "--bogus"], "No such option: --bogus"),
    (["check", "-qv"], None),
    (["logs"], "Missing argument 'files'"),
    (["logs", "--since"], "Option '--since' requires an argument"),
    (["list", "--config", "."], "is a directory"),
    (["check", "--", "-odd-name"], None),
    (["check", "--json=yes"], "does not take a value"),
    (["list", "--help"], None),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_what_the_table_does_not_know_is_typer_s_to_parse(tmp_path, line, says):
    assert hot.hot_call(line) is None
    if says is not None:
        run = run_cli(*line, cwd=tmp_path)
        assert run.code == 64 and says in run.err, run


def test_a_completion_request_is_never_taken_for_a_command(monkeypatch):
    monkeypatch.setenv(hot.COMPLETION_VARIABLE, "complete_bash")
    assert hot.hot_call(["check", "--json"]) is None
