"""What `check` reports for Baileys sessions written by the real library, healthy and damaged."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED_SESSION, by_id, codes
from tests.fixtures import baileys


def check(cli, *paths: Path, deep: bool = False) -> dict:
    run = cli("check", "--json", *(["--deep"] if deep else []), *paths)
    assert run.code in (0, 1, 2), run
    return run.json()


def test_paired_session_reports_identity_and_no_findings(write, cli):
    written, = write(baileys.paired("shop", pn="6281234567890", device=12, lid="123456789012345",
                                    pairedAt=1_790_000_000, platform="smba"))
    session = by_id(check(cli, written.path, deep=True))["shop"]
    assert session["state"] == "paired"
    assert session["findings"] == []
    ident = session["identity"]
    assert ident["jid"] == written.jid == "6281234567890:12@s.whatsapp.net"
    assert (ident["phone"], ident["device"]) == ("6281234567890", 12)
    assert ident["lid"] == "123456789012345:12@lid"
    assert ident["platform"] == "smba"
    assert ident["paired_at"] == "2026-09-21T14:13:20Z"
    assert len(ident["noise_fingerprint"]) == 16
    assert session["key_files"]["pre-key"] == 30
    assert session["files"] == sum(1 for _ in written.path.iterdir())


def test_states_unpaired_half_paired_and_reset(write, cli):
    write({"dir": "qr", "kind": "unpaired"},
          {"dir": "code", "kind": "half-paired", "pn": "6281111111111"},
          {"dir": "reset", "kind": "reset", "pn": "6282222222222", "device": 3, "preKeys": 10})
    sessions = by_id(check(cli, write.root))
    assert sessions["qr"]["state"] == "unpaired" and codes(sessions["qr"]) == {"unpaired"}
    assert sessions["code"]["state"] == "half-paired" and codes(sessions["code"]) == {"half-paired"}
    assert sessions["code"]["identity"]["phone"] == "6281111111111"
    reset = sessions["reset"]
    assert reset["state"] == "reset"
    finding, = reset["findings"]
    assert (finding["code"], finding["severity"]) == ("creds-reset", "critical")
    assert finding["evidence"]["key_files"] == reset["files"] - 1


@pytest.mark.parametrize("damage, code, words", [
    (baileys.empty, "creds-empty", "0 bytes"),
    (lambda p: baileys.truncate(p, 0.5), "creds-corrupt", "cut short"),
    (lambda p: baileys.truncate(p, 0.97), "creds-corrupt", "cut short"),
    (baileys.zero_fill, "creds-corrupt", "NUL bytes"),
    (lambda p: p.write_bytes(b"\xff\xfe" + p.read_bytes()), "creds-corrupt", "not UTF-8"),
    (lambda p: baileys.set_json_field(p, "noiseKey.public.data", base64.b64encode(b"x" * 31).decode()),
     "creds-invalid", "noiseKey.public is 31 bytes, expected 32"),
    (lambda p: baileys.set_json_field(p, "signedIdentityKey", None), "creds-invalid", "signedIdentityKey is missing"),
    (lambda p: baileys.set_json_field(p, "account.accountSignature", "AAAA"), "creds-invalid",
     "account.accountSignature is 3 bytes, expected 64"),
    (lambda p: p.write_text("[1, 2]"), "creds-invalid", "not an object"),
])
def test_damaged_creds_are_critical_and_explained(write, cli, damage, code, words):
    written, = write(baileys.paired("s1"))
    damage(written.path / "creds.json")
    session = by_id(check(cli, write.root))["s1"]
    assert session["state"] == "broken"
    finding = session["findings"][0]
    assert (finding["code"], finding["severity"]) == (code, "critical")
    assert words in finding["message"]
    assert finding["hint"]


def test_plain_check_sees_crash_cut_key_files_deep_also_sees_old_damage(write, cli):
    written, = write(baileys.paired("s1"))
    baileys.empty(written.path / "pre-key-3.json")
    session_file, other_session = sorted(written.path.glob("session-*.json"))
    baileys.truncate(session_file, 0.9)  # cut by a crash: the newest write, above the size floor
    baileys.truncate(other_session, 0.95)  # cut by an older crash: outside the window, above the floor
    day_ago = time.time() - 86400
    os.utime(other_session, (day_ago, day_ago))
    plain = by_id(check(cli, write.root))["s1"]
    finding, = plain["findings"]
    assert finding["code"] == "key-file-corrupt" and finding["evidence"]["count"] == 2
    assert any(session_file.name in f and "cut short" in f for f in finding["evidence"]["files"])
    deep = by_id(check(cli, write.root, deep=True))["s1"]
    finding, = deep["findings"]
    assert finding["evidence"]["count"] == 3
    assert any(other_session.name in f for f in finding["evidence"]["files"])


def test_odd_names_are_typed_as_baileys_reads_them(write, cli):
    """Names are data: a line end or a missing id does not make a key file, a folder or a link
    named like one is not counted as a healthy key, and a pre-key cut below its floor is read."""
    written, = write(baileys.paired("s1"))
    folder = written.path
    before = by_id(check(cli, write.root))["s1"]["key_files"]
    (folder / "pre-key-1\n.json").write_text("{}")  # a line end: not a key file
    (folder / "session-.json").write_text("{}")  # no id: not a key file
    (folder / "sender-key-memory-.json").write_text("{}")  # Baileys' regex: a sender key with id "memory-"
    (folder / "pre-key-900.json").mkdir()  # a folder: skipped
    (folder / "pre-key-901.json").symlink_to(folder / "pre-key-1.json")
    old = time.time() - 86400
    for path in folder.iterdir():
        os.utime(path, (old, old), follow_symlinks=False)
    cut = sorted(folder.glob("pre-key-*.json"))[3]
    cut.write_bytes(cut.read_bytes()[:100])
    os.utime(cut, (old, old))  # outside the crash window: found by its size floor
    session = by_id(check(cli, write.root))["s1"]
    assert session["key_files"] == {**before, "pre-key": before["pre-key"] + 1,
                                    "sender-key": before.get("sender-key", 0) + 1}
    finding, = session["findings"]
    assert finding["code"] == "key-file-corrupt" and finding["evidence"]["count"] == 3
    files = " ".join(finding["evidence"]["files"])
    assert "pre-key-901.json (a symbolic link" in files and f"{cut.name} (cut short" in files
    assert "sender-key-memory-.json" in files  # an empty object is no sender-key record


def test_deep_check_finds_wrong_key_length_in_a_pre_key(write, cli):
    written, = write(baileys.paired("s1"))
    baileys.set_json_field(written.path / "pre-key-5.json", "public.data", base64.b64encode(b"k" * 33).decode())
    finding, = by_id(check(cli, write.root, deep=True))["s1"]["findings"]
    assert finding["code"] == "key-file-corrupt"
    assert "pre-key-5.json (public is 33 bytes, expected 32)" in finding["evidence"]["files"]


def test_temp_files_are_leftovers_not_key_files(write, cli):
    written, = write(baileys.paired("s1"))
    (written.path / "creds.json.tmp").write_text("{")
    (written.path / "pre-key-9.json.tmp").write_text("")
    session = by_id(check(cli, write.root, deep=True))["s1"]
    finding, = session["findings"]
    assert (finding["code"], finding["severity"], finding["evidence"]["count"]) == ("leftover-temp", "info", 2)
    assert session["key_files"]["pre-key"] == 30


def test_keys_only_folder_is_creds_missing_not_corrupt(write, cli):
    written, = write(baileys.paired("evo"))
    (written.path / "creds.json").unlink()
    session = by_id(check(cli, write.root))["evo"]
    assert session["state"] == "keys-only"
    assert codes(session) == {"creds-missing"}
    assert "Evolution API" in session["findings"][0]["hint"]


def test_six_x_integer_list_buffers_are_understood(write, cli):
    """Older 6.x wrote Buffer data as a list of ints: convert a real file to that form."""
    written, = write(baileys.paired("old"))
    path = written.path / "creds.json"

    def to_ints(node):
        if isinstance(node, dict):
            if node.get("type") == "Buffer":
                return {"type": "Buffer", "data": list(base64.b64decode(node["data"]))}
            return {k: to_ints(v) for k, v in node.items()}
        return [to_ints(v) for v in node] if isinstance(node, list) else node

    path.write_text(json.dumps(to_ints(json.loads(path.read_text()))))
    session = by_id(check(cli, write.root))["old"]
    assert session["state"] == "paired" and session["findings"] == []


def test_legacy_single_file_store(write, cli):
    path = write.root / "auth_info_multi.json"
    written, = write({"file": path, "kind": "legacy", "pn": "6283333333333", "device": 2, "preKeys": 5})
    session = by_id(check(cli, write.root, deep=True))["auth_info_multi"]
    assert session["format"] == "baileys-legacy"
    assert session["state"] == "paired" and session["findings"] == []
    assert session["identity"]["jid"] == written.jid
    assert session["key_files"]["preKeys"] == 5
    baileys.truncate(path, 0.5)
    session = by_id(check(cli, path))["auth_info_multi"]
    assert codes(session) == {"creds-corrupt"}


@pytest.mark.parametrize("damage, state", [
    ({"account": None}, "reset"),  # me.id but no account, beside the store's keys
    ({"signedPreKey": None}, "broken"),  # invalid creds still name their device
])
def test_whatever_identity_a_store_holds_is_shown(write, cli, damage, state):
    path = write.root / "auth_info_multi.json"
    written, = write({"file": path, "kind": "legacy", "pn": "6283333333333", "device": 2, "preKeys": 5})
    for field, value in damage.items():
        baileys.set_json_field(path, f"creds.{field}", value)
    session = by_id(check(cli, write.root))["auth_info_multi"]
    assert session["state"] == state
    assert session["identity"]["jid"] == written.jid and session["identity"]["device"] == 2
    assert session["identity"]["noise_fingerprint"]
    assert "+6283333333333 :2" in cli("list", write.root, env={"COLUMNS": "200"}).out


def test_a_creds_json_of_another_program_is_not_a_session(tmp_path, cli):
    app = tmp_path / "app"
    app.mkdir()
    (app / "creds.json").write_text(json.dumps({"type": "service_account", "project_id": "x"}))
    run = cli("list", "--json", app)
    assert run.code == 0 and run.json()["sessions"] == []


@pytest.mark.skipif(not SHARED_SESSION.is_dir(), reason="shared reference session not beside the project")
def test_reference_session_from_shared_is_healthy(cli):
    run = cli("check", "--json", "--deep", "--no-backup", SHARED_SESSION)
    session = by_id(run.json())["session-A"]
    assert session["state"] == "paired" and session["findings"] == []
    assert session["files"] == 835
    assert session["identity"]["jid"] == "6281234567890:12@s.whatsapp.net"
    assert set(session["key_files"]) == {
        "pre-key", "session", "sender-key", "sender-key-memory", "app-state-sync-key",
        "app-state-sync-version", "lid-mapping", "device-list", "tctoken", "identity-key"}
