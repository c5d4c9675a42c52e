"""Names and log text are data: every human-facing output shows them exactly and visibly, and
nothing from outside reaches a terminal as markup or a control sequence.

Rendering goes to a real pseudo-terminal (the console believes it is on one, so it emits its
own colours): what comes out may hold only the SGR colour sequences wadoctor itself writes.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, REPO
from wadoctor.core.evidence import DamagedFiles
from wadoctor.core.findings import Finding, Severity
from wadoctor.core.model import Container, Holder, Identity, Session, SessionState
from wadoctor.logs.analysis import SessionLog
from wadoctor.logs.report import LogReport
from wadoctor.pipeline.report import Report
from wadoctor.render.actions import print_actions
from wadoctor.render.console import SafeConsole
from wadoctor.render.logsout import logs_view
from wadoctor.render.quiet import quiet_lines
from wadoctor.render.table import render_table
from wadoctor.repair.plan import Action
from wadoctor.util.escape import unescape, visible

OWN_SGR = re.compile(r"\x1b\[[0-9;]*m")
HOSTILE = ["[bold red]acme[link=x]shop", "ti\x1b]0;owned\x07tle\x1b[2J", "new\nline ok", "rtl\u202eexe.txt",
           "csi\x9b31mred", "back\\slash\\x1b", "tab\there", "del\x7f", ":smile: [b]bold[reset] [i]"]
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40)


class Terminal:
    """A pseudo-terminal pair: write to `.slave` as a program would, read what a terminal gets."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        self.slave = os.fdopen(slave, "w", encoding="utf-8", errors="surrogateescape", closefd=True)
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 5)
                if not ready:
                    return
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    def close(self) -> str:
        self.slave.close()
        self._reader.join(10)
        os.close(self.master)
        return b"".join(self._chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")


def assert_only_own_sequences(output: str) -> None:
    bare = OWN_SGR.sub("", output)
    for char in "\x1b\x07\x9b\x9d\x8d\x90\x7f\u202e":
        assert char not in bare, (char, output)
    assert not re.search(r"[\x00-\x08\x0b-\x1f]", bare), output


def sample_report(name: str, other: str) -> tuple[Report, list[Action], LogReport]:
    """One session whose every outside-chosen field holds the given text."""
    session = Session(id=name, path=Path("/srv/gw/sessions") / name, format="baileys", state=SessionState.PAIRED,
                      identity=Identity(jid=f"{other}@s.whatsapp.net", phone=other, device=3, name=other),
                      files=3, size=100)
    session.holders = [Holder(pid=4242, name=other, user=other, started=None, cmdline=f"node {other} --session={name}",
                              container=Container("0123456789ab", name=other, image=other),
                              evidence=[f"open descriptor on {name}"])]
    session.findings = [Finding("key-file-corrupt", Severity.WARNING, f"1 key file(s) damaged: {name}", "hint",
                                False, DamagedFiles(2, (name, other)))]
    report = Report(command="check", sessions=[session])
    actions = [Action(session, "quarantine", ["key-file-corrupt"], f"quarantine {name}", result=f"moved {other}")]
    log = LogReport(sessions=[(SessionLog(name, counts={"conflict": 4}),
                               [Finding("log-conflicts", Severity.WARNING, f"conflicts in {other}", "hint", False)])])
    return report, actions, log


def render_everything(name: str, other: str) -> str:
    report, actions, log = sample_report(name, other)
    terminal = Terminal()
    console = SafeConsole(file=terminal.slave, force_terminal=True, color_system="standard", width=4000)
    render_table(report, console, verbose=True)
    for line in quiet_lines(report):
        console.print(line)
    print_actions(console, actions)
    console.print(logs_view(log, verbose=True))
    console.file.flush()
    return terminal.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=ANY_TEXT, other=ANY_TEXT)
def test_every_renderer_shows_any_text_visibly_and_exactly(name, other):
    output = render_everything(name, other)
    assert_only_own_sequences(output)
    plain = OWN_SGR.sub("", output)
    for text in (name, other):
        assert visible(text) in plain
        assert unescape(visible(text)) == text


def test_hostile_names_in_every_renderer():
    for name in HOSTILE:
        output = OWN_SGR.sub("", render_everything(name, "x"))
        assert_only_own_sequences(output)
        assert visible(name) in output
    assert "[bold red]acme[link=x]shop" in OWN_SGR.sub("", render_everything(HOSTILE[0], "x"))


def run_in_terminal(*args: str | Path, cwd: Path | None = None) -> tuple[int, str]:
    """Run the real command with stdout and stderr on a pseudo-terminal, as a person would."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "wadoctor", *map(str, args)], stdin=subprocess.DEVNULL,
                               stdout=slave, stderr=slave, env=env, cwd=cwd)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")


def hostile_tree(tmp_path: Path) -> Path:
    root = tmp_path / "sessions"
    for name in HOSTILE:
        shutil.copytree(EXAMPLES / "shop-main", root / name, copy_function=shutil.copy)
    # a damaged key file with a hostile name, so findings, fix and its log name it too
    (root / HOSTILE[1] / "session-\x1b]0;x\x07.json").write_bytes(b"")
    return root


def test_real_folders_with_hostile_names_on_a_terminal(tmp_path):
    root = hostile_tree(tmp_path)
    sessions = [str(p) for p in root.iterdir()]
    for command in (["list"], ["check", "-v"], ["check", "-q"], ["fix", "--dry-run"],
                    ["clean", "--dry-run", *sessions, "--root"]):  # the root comes last, as --root's value
        code, output = run_in_terminal(*command, root)
        assert code in (0, 1, 2), (command, output)
        assert_only_own_sequences(output)
        plain = OWN_SGR.sub("", output)
        for name in HOSTILE:
            assert visible(name) in plain, (command, name, plain)


def test_fix_log_file_and_errors_carry_no_raw_control_characters(tmp_path):
    root = hostile_tree(tmp_path)
    log = tmp_path / "fix.log"
    code, output = run_in_terminal("fix", "--log", log, root)
    assert code in (0, 1, 2), output
    written = log.read_text()
    assert "session-\\x1b]0;x\\x07.json" in written or visible(HOSTILE[1]) in written
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", written), written
    code, output = run_in_terminal("check", tmp_path / "gone\x1b]0;x\x07")
    assert code == 3 and "gone\\x1b]0;x\\x07" in output
    assert_only_own_sequences(output)
    code, output = run_in_terminal("check", "--bogus-\x1b[2J")
    assert code == 64
    assert_only_own_sequences(output)


def test_json_keeps_names_exact(tmp_path, cli):
    root = hostile_tree(tmp_path)
    run = cli("check", "--json", root)
    assert set(HOSTILE) <= {s["id"] for s in run.json()["sessions"]}
    assert run.out.isascii()  # all past ASCII escaped: no C1 control or bidi override raw


def test_json_of_a_database_streamed_keeps_names_exact_and_escaped(cli, evolution_db):
    """Instance names are written as each row is judged (by orjson, where the record is plain
    ASCII): exact when parsed, every character past ASCII escaped as json escapes it."""
    from tests.fixtures import evolution

    url, conn = evolution_db
    for name in [*HOSTILE, "caf\u00e9 \U0001f600"]:
        evolution.add_instance(conn, name, None, "close")
    run = cli("check", "--json", "--no-backup", url)
    assert {s["id"] for s in run.json()["sessions"]} == {*HOSTILE, "caf\u00e9 \U0001f600"}
    assert run.out.isascii() and "\\u009b31mred" in run.out
