"""Every healthy file of every Baileys line is healthy; every damage is still found.

Sessions are written by each version's own code: @adiwajshing/baileys 4.4 and 5.0 and
@whiskeysockets/baileys 6.5, 6.6 and 6.7 from `npm pack` with their registry dependencies
(tests/fixtures/baileys_versions.py), 7.0 rc from npm (tests/fixtures/baileys.py). The damage
is what a crash or a bad copy does to a file.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import codes, unavailable
from tests.fixtures import baileys, baileys_versions
from wadoctor.stores import baileys_creds

LATEST = "@whiskeysockets/baileys@7.0.0-rc14"
VERSIONS = (*baileys_versions.VERSIONS, LATEST)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    """One paired session per version, written once; tests copy them."""
    root = tmp_path_factory.mktemp("versions")
    sessions = {spec: root / spec.replace("/", "+") for spec in VERSIONS}
    try:
        for spec in baileys_versions.VERSIONS:
            baileys_versions.write_session(spec, sessions[spec])
        baileys.write_sessions([{"dir": sessions[LATEST], "kind": "paired", "pn": "6281234567890", "device": 12}])
    except baileys.NodeUnavailable as exc:
        unavailable(f"Baileys versions from npm: {exc}")
    return sessions


def copy_of(written: dict[str, Path], version: str, tmp_path: Path, age: float = 0) -> Path:
    session = Path(shutil.copytree(written[version], tmp_path / "sessions" / "shop"))
    if age:  # older than the crash window: a plain check reads only what is below its size floor
        past = time.time() - age
        for path in [session, *session.iterdir()]:
            os.utime(path, (past, past))
    return session


def only_session(run) -> dict:
    session, = run.json()["sessions"]
    return session


@pytest.mark.parametrize("version", VERSIONS)
def test_every_healthy_file_of_every_version_is_healthy(written, tmp_path, cli, version):
    session = copy_of(written, version, tmp_path)
    types = {name.rsplit("-", 1)[0] for name in os.listdir(session)}
    assert any(t.startswith("sender-key-1") for t in types) and "sender-key-memory" in types
    for deep in ([], ["--deep"]):
        run = cli("check", "--json", "--no-backup", *deep, tmp_path / "sessions")
        found = only_session(run)
        assert found["state"] == "paired" and found["identity"]["jid"] == "6281234567890:12@s.whatsapp.net"
        assert found["findings"] == [] and run.code == 0, (deep, found["findings"])
        fix = cli("fix", "--json", *deep, tmp_path / "sessions")
        assert fix.json()["actions"] == [] and fix.code == 0
    assert sorted(os.listdir(session)) == sorted(os.listdir(written[version]))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_s_creds_take_the_fast_path(written, version):
    """Each line's healthy creds are recognised by the C pass (stores/_speedups.c), with the
    identity read_creds reads from them."""
    raw = (written[version] / "creds.json").read_bytes()
    _, healthy, why = baileys_creds.parse_creds(raw)
    identity, problems = baileys_creds.read_creds(json.loads(raw))
    assert why is None and problems == [] and identity.jid == "6281234567890:12@s.whatsapp.net"
    assert healthy == identity


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("damage", ["empty", "cut", "wrong type"])
def test_every_damage_of_a_sender_key_is_found_in_every_version(written, tmp_path, cli, version, damage):
    session = copy_of(written, version, tmp_path, age=3600)
    target = next(p for p in session.iterdir() if p.name.startswith("sender-key-1"))
    data = target.read_bytes()
    memory = session / "sender-key-memory-120363025246120@g.us.json"  # another type's content
    target.write_bytes({"empty": b"", "cut": data[: len(data) // 2], "wrong type": memory.read_bytes()}[damage])
    run = cli("check", "--json", "--no-backup", "--deep", tmp_path / "sessions")
    finding, = (f for f in only_session(run)["findings"] if f["code"] == "key-file-corrupt")
    assert target.name in finding["message"]
    if damage == "empty":  # below the type's size floor: a plain check reads it too, whatever its age
        assert "key-file-corrupt" in codes(only_session(cli("check", "--json", "--no-backup", tmp_path / "sessions")))


@pytest.mark.parametrize("level", ["error", "info"])
def test_a_6x_gateway_s_stream_conflicts_count_as_conflicts(tmp_path, cli, level):
    """Twelve conflicts logged by Baileys 6.7.16's own pino calls, at error level only (what many
    gateways keep) and at info (where the 'connection errored' trace repeats each one)."""
    import json
    import subprocess

    try:
        package = baileys_versions.ensure_version("@whiskeysockets/baileys@6.7.16")
    except baileys.NodeUnavailable as exc:
        unavailable(f"Baileys 6.7.16 from npm: {exc}")
    log = tmp_path / "gateway.log"
    with open(log, "w") as out:
        modules = package.parents[1]  # node_modules/@whiskeysockets/baileys
        subprocess.run(["node", str(baileys_versions.NODE_DIR / "make_logs.cjs"), str(modules), level, "12",
                        str(int(time.time()) - 1800), "shop"], stdout=out, check=True, timeout=60)
    assert all(json.loads(line)["level"] in (30, 50) for line in log.read_text().splitlines())
    run = cli("logs", "--json", "--since", "2h", log)
    shop, = (s for s in run.json()["sessions"] if s["session"] == "shop")
    assert shop["conflicts"] == 12 and run.code == 2
    assert {f["code"] for f in shop["findings"]} == {"log-conflicts"}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("damage", ["emptied", "cut", "no noise key"])
def test_damaged_creds_of_every_version_are_found(written, tmp_path, cli, version, damage):
    session = copy_of(written, version, tmp_path)
    creds = session / "creds.json"
    if damage == "emptied":
        baileys.empty(creds)
    elif damage == "cut":
        baileys.truncate(creds)
    else:
        baileys.set_json_field(creds, "noiseKey", None)
    found = only_session(cli("check", "--json", "--no-backup", tmp_path / "sessions"))
    assert found["state"] == "broken" and codes(found) & {"creds-empty", "creds-corrupt", "creds-invalid"}
