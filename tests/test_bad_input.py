"""Property-based: whatever happens to the files, a scan ends in findings, never a crash or a hang."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES
from wadoctor.app.check import inspect
from wadoctor.config import Config
from wadoctor.render.jsonout import json_chunks, report_dict
from wadoctor.render.table import render_table

PAIRED = EXAMPLES / "shop-main"
LEGACY = EXAMPLES / "auth_info_multi.json"
# creds.json, one pre-key and one file of every other key type
TARGETS = sorted(p.name for p in PAIRED.iterdir() if not p.name.startswith("pre-key-")) + ["pre-key-3.json"]
SETTINGS = settings(max_examples=120, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def swap_type(raw: bytes, choice: int, value) -> bytes:
    """Replace one node of a JSON document, chosen by index, with a value of any type."""
    document = json.loads(raw)
    paths = list(_paths(document))
    path = paths[choice % len(paths)]
    if not path:
        return json.dumps(value).encode()
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return json.dumps(document).encode()


mutations = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("swap"), st.integers(0, 10**6), json_values),
    st.tuples(st.just("garbage"), st.binary(max_size=300)),
)


def mutate(raw: bytes, mutation) -> bytes:
    kind, *args = mutation
    if kind == "truncate":
        return raw[: int(len(raw) * args[0])]
    if kind == "flip":
        data = bytearray(raw)
        data[args[0] % len(data)] ^= args[1]
        return bytes(data)
    if kind == "swap":
        return swap_type(raw, *args)
    return args[0]


def scan_everything(root: Path, deep: bool) -> None:
    """Run a scan and render it every way; any exception fails the property."""
    from rich.console import Console

    report = inspect([root], Config(), "check", deep=deep)
    assert json.loads(b"".join(json_chunks(report))) == json.loads(json.dumps(report_dict(report), default=str))
    render_table(report, Console(file=open(os.devnull, "w"), width=100), verbose=True)
    severities = {f.severity.value for s in report.sessions for f in s.findings}
    expected = (2 if "critical" in severities else 3 if not report.complete
                else 1 if "warning" in severities or report.empty else 0)  # docs/contracts.md, said again
    assert report.exit_code() == expected, (severities, report.problems)
    for session in report.sessions:
        if session.state.value in ("broken", "reset"):
            assert session.findings, session


@SETTINGS
@given(mutation=mutations, target=st.sampled_from(TARGETS))
def test_damaged_session_files_end_in_findings(tmp_path_factory, mutation, target):
    root = tmp_path_factory.mktemp("prop")
    session = Path(shutil.copytree(PAIRED, root / "s"))
    path = session / target
    path.write_bytes(mutate(path.read_bytes(), mutation))
    scan_everything(root, deep=True)


@SETTINGS
@given(mutation=mutations)
def test_damaged_legacy_file_ends_in_findings(tmp_path_factory, mutation):
    root = tmp_path_factory.mktemp("legacy")
    path = root / "auth_info_multi.json"
    raw = LEGACY.read_bytes()
    path.write_bytes(raw[:40] + mutate(raw[40:], mutation) if mutation[0] != "swap" else mutate(raw, mutation))
    scan_everything(root, deep=True)


@pytest.mark.parametrize("make", [
    lambda p: os.truncate(p, 100 << 20),  # a 100 MiB (sparse) file
    lambda p: (p.unlink(), os.symlink("/dev/zero", p)),
    lambda p: (p.unlink(), os.symlink(p.parent, p)),
    lambda p: (p.unlink(), os.mkfifo(p)),
    lambda p: (p.unlink(), p.mkdir()),
])
@pytest.mark.parametrize("target", ["creds.json", "pre-key-3.json"])
def test_huge_files_links_fifos_and_folders_in_place_of_files(tmp_path, cli, make, target):
    session = Path(shutil.copytree(PAIRED, tmp_path / "s"))
    make(session / target)
    run = cli("check", "--json", "--deep", tmp_path, timeout=30)
    assert run.code in (0, 1, 2, 3), run
    found = run.json()["sessions"]
    if target == "creds.json":
        assert found and found[0]["findings"], run
