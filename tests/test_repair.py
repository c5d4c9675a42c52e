"""fix, restore and the quarantine: repairs that lose nothing and can be undone."""

from __future__ import annotations

import json
import os
import socket
import stat
import tomllib
from pathlib import Path

from tests.conftest import by_id, codes
from tests.fixtures import baileys
from tests.repair_helpers import (
    break_creds_after_backup,
    copy,
    corrupt_index,
    dead_pid,
    fixable_tree,
    inventory,
    lost_bytes,
    read_json,
    stale_profile,
)


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    before = inventory(tmp_path)
    run = cli("fix", "--dry-run", "--json", sessions)
    assert run.code == 1, run
    doc = run.json()
    assert doc["dry_run"] is True
    planned = {(a["session"], a["codes"][0]): a for a in doc["actions"]}
    assert planned[("marketing", "key-file-corrupt")]["status"] == "planned"
    cut_session = next(p for p in (sessions / "marketing").glob("session-*.json") if p.stat().st_size < 500)
    assert sorted(planned[("marketing", "key-file-corrupt")]["paths"]) == sorted(
        [str(sessions / "marketing" / "pre-key-7.json"), str(cut_session)])  # empty, and cut below its floor
    assert sorted(planned[("marketing", "leftover-temp")]["paths"]) == [
        str(sessions / "marketing" / "creds.json.bak"), str(sessions / "marketing" / "pre-key-9.json.tmp")]
    assert inventory(tmp_path) == before
    assert not (sessions / ".wadoctor").exists(), "a dry run writes nothing, not even backups"


def test_fix_quarantines_with_a_manifest_and_restore_undoes_it(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    before = inventory(tmp_path)
    run = cli("fix", sessions)
    assert run.code == 0, run
    assert "quarantine" in run.out
    assert not (sessions / "marketing" / "pre-key-7.json").exists()
    assert by_id(cli("check", "--json", sessions).json())["marketing"]["findings"] == []
    assert lost_bytes(before, tmp_path) == []
    manifests = sorted(sessions.glob(".wadoctor/quarantine/*/manifest.toml"))
    assert len(manifests) == 2
    manifest = tomllib.loads(next(m for m in manifests if "pre-key-7" in m.read_text()).read_text())
    item = next(i for i in manifest["items"] if i["original"].endswith("pre-key-7.json"))
    assert len(manifest["items"]) == 2  # and the session file cut short
    assert manifest["state"] == "complete" and manifest["wadoctor"] and manifest["reason"] == "key-file-corrupt"
    assert (item["original"], item["size"], item["reason"]) == (
        str(sessions / "marketing" / "pre-key-7.json"), 0, "empty")
    assert item["sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # idempotent and quiet: nothing left to do prints nothing
    again = cli("fix", sessions)
    assert (again.code, again.out, again.err) == (0, "", "")
    listed = cli("quarantine", "list", "--json", sessions).json()["entries"]
    assert len(listed) == 2 and listed[0]["run"] == listed[1]["run"]  # one fix, one run
    dry = cli("restore", "--last", "--dry-run", "--json", "--root", sessions).json()
    assert sorted(e["entry"] for e in dry["entries"]) == sorted(e["id"] for e in listed)
    assert cli("quarantine", "list", "--json", sessions).json()["entries"] == listed  # a dry run moves nothing
    undo = cli("restore", "--last", "--root", sessions)  # the whole run, not its last entry
    assert undo.code == 0 and undo.out.count("restored ") == sum(len(e["items"]) for e in listed), undo
    assert inventory(tmp_path) == before
    assert cli("quarantine", "list", "--json", sessions).json()["entries"] == []


def test_restore_refuses_to_overwrite_a_file_that_reappeared(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    fixed = cli("fix", sessions)
    assert fixed.code == 0, fixed  # the empty pre-key went to the quarantine
    (sessions / "marketing" / "pre-key-7.json").write_text("new")
    listed = cli("quarantine", "list", "--json", sessions).json()["entries"]
    entries = [e for e in listed if "pre-key-7" in json.dumps(e)]
    assert len(entries) == 1, listed
    entry, = entries
    refused = cli("restore", entry["id"], "--root", sessions)
    assert refused.code == 1 and "exists again" in refused.err, refused
    assert (sessions / "marketing" / "pre-key-7.json").read_text() == "new"
    assert cli("restore", entry["id"], "--root", sessions, "--force").code == 0
    assert (sessions / "marketing" / "pre-key-7.json").read_text() == ""
    entries = cli("quarantine", "list", "--json", sessions).json()["entries"]
    assert any("replaced by restore" in e["reason"] for e in entries)


def test_check_keeps_verified_creds_backups_only_when_they_change(tmp_path, cli):
    sessions = tmp_path / "sessions"
    shop = copy("shop-main", sessions / "shop-main")
    (tmp_path / "wadoctor.toml").write_text("[backups]\nkeep = 2\n")
    backups = sessions / ".wadoctor" / "backups" / "shop-main"
    cli("check", sessions, cwd=tmp_path)
    cli("check", sessions, cwd=tmp_path)
    first, = backups.iterdir()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600 and stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert first.read_bytes() == (shop / "creds.json").read_bytes()
    for n in range(3):
        baileys.set_json_field(shop / "creds.json", "accountSyncCounter", n + 5)
        cli("check", sessions, cwd=tmp_path)
    assert len(list(backups.iterdir())) == 2
    assert cli("check", "--no-backup", sessions).code == 0
    baileys.empty(shop / "creds.json")
    cli("check", sessions, cwd=tmp_path)
    assert len(list(backups.iterdir())) == 2, "a broken creds.json is never backed up"
    assert cli("list", copy("onboarding", tmp_path / "other" / "o")).code == 0
    assert not (tmp_path / "other" / ".wadoctor").exists(), "list never writes"


def test_emptied_creds_are_restored_with_counters_past_every_pre_key(tmp_path, cli):
    sessions = tmp_path / "sessions"
    shop = copy("shop-main", sessions / "shop-main")
    break_creds_after_backup(cli, sessions)
    (shop / "pre-key-200.json").write_bytes((shop / "pre-key-3.json").read_bytes())  # keys made after the backup
    assert cli("check", sessions).code == 2
    run = cli("fix", "--json", sessions)
    assert run.code == 0, run
    action, = run.json()["actions"]
    assert (action["action"], action["status"], action["codes"]) == ("restore-creds", "done", ["creds-empty"])
    creds = read_json(shop / "creds.json")
    assert creds["me"]["id"] == "15550000001:12@s.whatsapp.net"
    assert creds["nextPreKeyId"] == creds["firstUnuploadedPreKeyId"] == 201
    assert by_id(cli("check", "--json", sessions).json())["shop-main"]["state"] == "paired"
    entry, = cli("quarantine", "list", "--json", sessions).json()["entries"]
    assert entry["items"][0]["size"] == 0 and entry["items"][0]["original"] == str(shop / "creds.json")


def test_reset_session_gets_its_old_identity_back(tmp_path, cli, write):
    written, = write(baileys.paired("bot", pn="6281234567890", device=12))
    cli("check", write.root)
    baileys.empty(written.path / "creds.json")
    baileys.write_sessions([{"dir": written.path, "kind": "unpaired"}])  # Baileys starting over it
    assert by_id(cli("check", "--json", write.root).json())["bot"]["state"] == "reset"
    assert cli("fix", write.root).code == 0
    session = by_id(cli("check", "--json", write.root).json())["bot"]
    assert session["state"] == "paired" and session["identity"]["jid"] == written.jid


def test_lost_creds_without_backup_are_reported_and_purged_only_when_asked(tmp_path, cli):
    sessions = tmp_path / "sessions"
    copy("support-bot", sessions / "support-bot")
    run = cli("fix", "--json", sessions)
    action, = run.json()["actions"]
    assert action["status"] == "skipped" and "pair the device again" in action["result"]
    assert run.code == 2
    assert cli("fix", "--purge-unrecoverable", sessions).code == 0
    assert not (sessions / "support-bot").exists()
    assert cli("restore", "--last", "--root", sessions).code == 0
    assert (sessions / "support-bot" / "creds.json").exists()


def test_held_sessions_are_skipped_unless_forced(tmp_path, cli):
    import shutil
    import subprocess

    sessions = fixable_tree(tmp_path)
    node = shutil.which("node")
    gateway = subprocess.Popen([node, "-e", "console.log('ready'); setInterval(() => {}, 1000)"],
                               cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert gateway.stdout.readline().strip() == "ready"
        run = cli("fix", "--json", sessions)
        statuses = {a["status"] for a in run.json()["actions"] if a["session"] == "marketing"}
        assert statuses == {"skipped"}
        assert all(f"node {gateway.pid}" in a["result"] for a in run.json()["actions"])
        assert (sessions / "marketing" / "pre-key-7.json").exists()
        assert cli("fix", "--force", sessions).code == 0
        assert not (sessions / "marketing" / "pre-key-7.json").exists()
    finally:
        gateway.kill()
        gateway.wait()


def test_stale_and_corrupt_chromium_locks_are_removed_foreign_ones_only_when_allowed(tmp_path, cli):
    stale = stale_profile(tmp_path / ".wwebjs_auth" / "session-a")
    corrupt = copy(".wwebjs_auth/session-helpdesk", tmp_path / ".wwebjs_auth" / "session-b")
    (corrupt / "SingletonLock").unlink()
    (corrupt / "SingletonLock").write_text("x")
    foreign = copy(".wwebjs_auth/session-helpdesk", tmp_path / ".wwebjs_auth" / "session-c")
    # three copies of one profile: duplicate-identity stays (a warning fix never acts on)
    run = cli("fix", "--json", tmp_path)
    assert run.code == 2  # the foreign lock is still there
    assert not os.path.lexists(stale / "SingletonLock") and not os.path.lexists(stale / "SingletonCookie")
    assert not os.path.lexists(corrupt / "SingletonLock")
    assert os.path.islink(foreign / "SingletonLock")
    assert cli("fix", "--foreign-locks", tmp_path).code == 1
    assert not os.path.lexists(foreign / "SingletonLock")
    sessions = by_id(cli("check", "--json", tmp_path).json())
    assert all(codes(s) == {"duplicate-identity"} for s in sessions.values())


def test_stale_guard_lock_is_cleared(tmp_path, cli):
    shop = copy("shop-main", tmp_path / "shop")
    (shop / ".wadoctor.lock").write_text(json.dumps({"pid": dead_pid(), "host": socket.gethostname(),
                                                     "boot_id": None, "started": 1.0, "cmdline": [], "since": 1.0}))
    assert "lock-stale" in codes(by_id(cli("check", "--json", tmp_path).json())["shop"])
    assert cli("fix", tmp_path).code == 0
    assert not (shop / ".wadoctor.lock").exists()


def test_abandoned_sessions_are_purged_only_when_asked(tmp_path, cli):
    sessions = tmp_path / "sessions"
    kiosk = copy("new-kiosk", sessions / "new-kiosk")
    baileys.age(kiosk, 3600)
    assert cli("fix", sessions).code == 1 and kiosk.exists()
    assert cli("fix", "--purge-abandoned", sessions).code == 0 and not kiosk.exists()
    assert cli("restore", "--last", "--root", sessions).code == 0 and kiosk.exists()
    (tmp_path / "wadoctor.toml").write_text("[fix]\npurge_abandoned = true\n")
    assert cli("fix", sessions, cwd=tmp_path).code == 0 and not kiosk.exists()


def test_corrupt_whatsmeow_store_is_salvaged(whatsmeow_store, cli):
    corrupt_index(whatsmeow_store, devices=300)
    original = whatsmeow_store.read_bytes()
    assert codes(check_one(cli, whatsmeow_store)) == {"store-corrupt"}
    run = cli("fix", "--json", whatsmeow_store.parent)
    assert run.code == 0, run
    assert any(a["action"] == "salvage-store" and a["status"] == "done" for a in run.json()["actions"])
    sessions = cli("check", "--json", whatsmeow_store.parent).json()["sessions"]
    assert len(sessions) == 300 and all(s["findings"] == [] for s in sessions)
    entry, = cli("quarantine", "list", "--json", whatsmeow_store.parent).json()["entries"]
    stored = Path(entry["path"]) / entry["items"][0]["stored"]
    assert stored.read_bytes() == original


def check_one(cli, path):
    session, *_ = cli("check", "--json", path).json()["sessions"]
    return session


def test_key_file_symlinked_out_of_the_root_is_moved_as_a_link(tmp_path, cli):
    shop = copy("shop-main", tmp_path / "sessions" / "shop")
    (shop / "pre-key-4.json").unlink()
    os.symlink("/etc/passwd", shop / "pre-key-4.json")
    passwd = Path("/etc/passwd").read_bytes()
    assert cli("fix", tmp_path / "sessions").code == 0
    assert not os.path.lexists(shop / "pre-key-4.json")
    assert Path("/etc/passwd").read_bytes() == passwd
    stored = next((tmp_path / "sessions" / ".wadoctor" / "quarantine").glob("*/files/*pre-key-4.json"))
    assert os.readlink(stored) == "/etc/passwd"


def test_a_session_folder_that_is_a_symlink_is_refused(tmp_path, cli):
    outside = copy("support-bot", tmp_path / "elsewhere" / "support-bot")
    (tmp_path / "sessions").mkdir()
    os.symlink(outside, tmp_path / "sessions" / "support-bot")
    run = cli("clean", "--yes", "--json", tmp_path / "sessions" / "support-bot")
    assert run.code == 3
    action, = run.json()["actions"]
    assert action["status"] == "failed" and "symbolic link" in action["result"]
    assert (outside / "creds.json").exists() and os.path.islink(tmp_path / "sessions" / "support-bot")


def test_permission_denied_leaves_everything_in_place(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    before = inventory(tmp_path)
    (sessions / "marketing").chmod(0o555)
    try:
        run = cli("fix", "--json", sessions, unprivileged=True)
    finally:
        (sessions / "marketing").chmod(0o755)
    assert run.code == 3
    failed = [a for a in run.json()["actions"] if a["status"] == "failed"]
    assert failed and all("Permission denied" in a["result"] or "nothing was lost" in a["result"] for a in failed)
    assert inventory(tmp_path) == before


def test_fixable_says_whether_a_plain_fix_would_repair_it_now(tmp_path, cli):
    sessions = fixable_tree(tmp_path)
    copy("support-bot", sessions / "support-bot")
    found = {(s["id"], f["code"]): f["fixable"] for s in cli("check", "--json", sessions).json()["sessions"]
             for f in s["findings"]}
    assert found[("marketing", "key-file-corrupt")] is True
    assert found[("marketing", "leftover-temp")] is True
    assert found[("support-bot", "creds-empty")] is False  # no backup: only pairing again helps
    break_creds_after_backup(cli, sessions)
    found = {(s["id"], f["code"]): f["fixable"] for s in cli("check", "--json", sessions).json()["sessions"]
             for f in s["findings"]}
    assert found[("shop-main", "creds-empty")] is True


def test_no_remedy_acts_on_a_session_whose_state_is_unknown(tmp_path):
    """Walks every finding code with every fix option: a session a reader could not establish
    (state-unknown) gets no planned action on its files. The session is made here, with every
    code at once, because no real store carries them all; each code's remedy is the real
    planner's. (Stopping duplicate holders is about processes, not the state: not walked.)"""
    from wadoctor.config import Config
    from wadoctor.core.evidence import GuardLock, Holders
    from wadoctor.core.findings import CODES, Finding
    from wadoctor.core.model import Session, SessionState
    from wadoctor.repair.plan import FixOptions, plan_session

    session = Session("shop", copy("shop-main", tmp_path / "sessions" / "shop"), "baileys", state=SessionState.UNKNOWN)
    lock = session.path / ".wadoctor.lock"
    lock.write_text("{}")
    shaped = {"lock-stale": GuardLock(str(lock), 1, "gw"), "duplicate-holder": Holders((1, 2), "proven")}
    session.findings = [Finding(code, c.severity, "as found", c.hint, False, shaped.get(code))
                        for code, c in CODES.items()]
    everything = FixOptions(force=True, deep=True, foreign_locks=True, purge_abandoned=True, purge_unrecoverable=True)
    for options in (FixOptions(), everything):
        actions = plan_session(session, options, Config())
        assert actions and all(a.status == "skipped" for a in actions), [(a.kind, a.codes) for a in actions]
    session.findings = [f for f in session.findings if f.code != "state-unknown"]
    assert any(a.status == "planned" for a in plan_session(session, everything, Config()))  # the walk can fail


def test_a_temp_file_a_killed_fix_left_beside_emptied_creds_is_quarantined_not_overwritten(tmp_path, cli):
    """A fix killed while restoring creds leaves its temp file beside them. The next fix
    restores the creds through a temp of its own and quarantines the leftover: it used to
    write its temp at the same name (`.creds.json.wadoctor.tmp`, what fix before this change
    wrote), truncating the leftover, then failed to quarantine it (found by test_crash)."""
    sessions = fixable_tree(tmp_path)
    break_creds_after_backup(cli, sessions)
    leftover = sessions / "shop-main" / ".creds.json.wadoctor.tmp"
    leftover.write_bytes(b'{"noiseKey": ')  # cut where the kill came
    run = cli("fix", "--json", sessions)
    assert run.code == 0, [a for a in run.json()["actions"] if a["status"] == "failed"]
    shop = [a for a in run.json()["actions"] if a["session"] == "shop-main"]
    assert {a["action"] for a in shop} >= {"quarantine", "restore-creds"}, shop
    assert not leftover.exists() and read_json(sessions / "shop-main" / "creds.json")["me"]
    assert any(".creds.json.wadoctor.tmp" in manifest.read_text() for manifest in tmp_path.rglob("manifest.toml"))
