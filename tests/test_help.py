"""What a user reads before running anything: help texts intact, flags shown as flags, every
document named exists, and `--version` / `--help` load no more than the CLI itself."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import typer.main

from tests.conftest import REPO, run_cli
from wadoctor.cli.app import build_app

BRACKETED = re.compile(r"\[[^\]\s]+(?: [^\]\s]+)*\]")
DOC_LINK = re.compile(r"\b(docs/[\w./-]+\.md|contrib/[\w./-]+|README\.md)\b")


def _commands() -> list[tuple[list[str], object]]:
    """Every command path (["quarantine", "list"], ...) with its Click command."""
    found = []

    def walk(command, path):
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(build_app()), [])
    return found


COMMANDS = _commands()


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or "wadoctor" for p, _ in COMMANDS])
def test_help_keeps_every_bracketed_word_and_shows_flags_as_flags(path, command):
    run = run_cli(*path, "--help", env={"COLUMNS": "200"})
    assert run.code == 0, run
    shown = " ".join(run.out.split())
    sources = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    for source in sources:
        for word in BRACKETED.findall(" ".join(source.split())):
            assert word in shown, (word, run.out)
    assert "<bool>" not in run.out and "\x1b" not in run.out
    for param in command.params:
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            for opt in param.opts:
                assert re.search(rf"{re.escape(opt)}(?:,|\s{{2,}}|\s*$)", run.out, re.M), (opt, run.out)


def test_every_document_named_in_help_or_readme_exists():
    texts = [run_cli(*path, "--help", env={"COLUMNS": "200"}).out for path, _ in COMMANDS]
    texts.append((REPO / "README.md").read_text())
    named = {m for t in texts for m in DOC_LINK.findall(t)}
    assert "docs/contracts.md" in named
    for name in named:  # a path, or the stem of a glob such as contrib/systemd/wadoctor-fix.*
        assert (REPO / name.rstrip(".")).exists() or list(REPO.glob(name + "*")), name
    for target in re.findall(r"\]\(([^)#:]+)\)", (REPO / "README.md").read_text()):
        assert (REPO / target).exists(), target


def loaded_modules(args: list[str]) -> set[str]:
    """The modules a `wadoctor ARGS` run had imported when it ended."""
    probe = (  # main(ARGS) ends by SystemExit, so that the probe outlives it (the console script exits at once)
        "import atexit, sys\n"
        "atexit.register(lambda: print(' '.join(sorted(sys.modules)), file=sys.stderr))\n"
        "from wadoctor.cli import main\n"
        f"main({args!r})\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode in (0, 1, 2), result.stderr  # 1: an empty folder is a warning
    loaded = set(result.stderr.split())
    assert "wadoctor.cli" in loaded  # the probe did run the CLI
    return loaded


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["check", "--help"], ["logs", "--help"]])
def test_version_and_help_import_no_core_rich_psutil_or_fleet(args):
    heavy = {m for m in loaded_modules(args) if m.split(".")[0] in ("rich", "psutil", "psycopg")
             or m.startswith(("wadoctor.fleet", "wadoctor.pipeline.scan", "wadoctor.stores", "wadoctor.holders"))}
    assert not heavy, sorted(heavy)


def test_logs_json_imports_neither_typer_rich_nor_the_session_scan(tmp_path):
    log = tmp_path / "gw.log"
    log.write_text('{"level":50,"time":1795300000000,"session":"shop","msg":"stream errored out",'
                   '"reasonNode":{"tag":"conflict","attrs":{"type":"replaced"}}}\n')
    loaded = loaded_modules(["logs", "--json", str(log)])
    heavy = {m for m in loaded if m.split(".")[0] in ("typer", "rich", "psutil", "psycopg")
             or m.startswith(("wadoctor.pipeline.scan", "wadoctor.pipeline.discovery", "wadoctor.holders",
                              "wadoctor.stores.baileys"))}
    assert not heavy, sorted(heavy)
    assert "wadoctor.logs.scanner" in loaded


def test_check_json_of_folders_imports_neither_typer_rich_nor_database_or_log_code(tmp_path):
    loaded = loaded_modules(["check", "--json", str(tmp_path)])
    heavy = {m for m in loaded if m.split(".")[0] in ("typer", "rich", "psycopg", "redis")
             or m.startswith(("wadoctor.logs", "wadoctor.fleet", "wadoctor.stores.evolution",
                              "wadoctor.stores.baileys_redis"))}
    assert not heavy, sorted(heavy)
    assert "wadoctor.stores.baileys" in loaded


@pytest.mark.parametrize("path", [[], ["quarantine"]], ids=["wadoctor", "quarantine"])
def test_a_bare_command_or_group_prints_its_help_as_written_and_exits_64(path):
    run = run_cli(*path, env={"COLUMNS": "80"})
    assert run.code == 64 and "\\n" not in run.err, run
    lines = run.err.splitlines()
    assert lines[0] == f"Usage: {' '.join(['wadoctor', *path])} [OPTIONS] COMMAND [ARGS]..." and "Commands:" in lines


@pytest.mark.parametrize("path, command", [(p, c) for p, c in COMMANDS if p and not getattr(c, "commands", None)],
                         ids=[" ".join(p) for p, c in COMMANDS if p and not getattr(c, "commands", None)])
def test_every_command_s_help_has_an_example_on_one_line(path, command):
    run = run_cli(*path, "--help", env={"COLUMNS": "80"})
    example = [line.strip() for line in run.out.splitlines() if line.strip().startswith("Example: wadoctor ")]
    assert len(example) == 1 and example[0].startswith(f"Example: wadoctor {' '.join(path)}"), run.out


def test_logs_starts_without_dataclasses(tmp_path):
    """dataclasses imports inspect and compiles each class's methods: 8 ms of every start, a
    fifth of a `logs` run on an empty file (util/records.py)."""
    log = tmp_path / "gw.log"
    log.write_text("")
    loaded = loaded_modules(["logs", "--json", str(log)])
    assert "wadoctor.logs.scanner" in loaded and not {"dataclasses", "inspect"} & loaded
