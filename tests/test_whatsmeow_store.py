"""whatsmeow/neonize SQLite stores: devices as sessions, damage, locks, schema, journals."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import by_id, codes
from tests.fixtures.whatsmeow import Device, add_devices
from wadoctor.core.model import Identity
from wadoctor.stores.x25519 import public_key


def check(cli, *paths):
    run = cli("check", "--json", *paths)
    assert run.code in (0, 1, 2, 3), run
    return run


def test_each_device_row_is_a_session_with_its_identity(whatsmeow_store, cli):
    shop, bot = Device("15550000001", 12, push_name="Shop", paired_at=1_790_000_000), Device("15550000002", 3)
    add_devices(whatsmeow_store, shop, bot)
    before = whatsmeow_store.read_bytes()
    run = check(cli, whatsmeow_store.parent.parent)  # found from the application folder
    sessions = by_id(run.json())
    assert set(sessions) == {"whatsapp/15550000001.12", "whatsapp/15550000002.3"}
    s = sessions["whatsapp/15550000001.12"]
    assert (s["format"], s["state"], s["findings"]) == ("whatsmeow", "paired", [])
    ident = s["identity"]
    assert ident["jid"] == shop.jid and (ident["phone"], ident["device"]) == ("15550000001", 12)
    assert ident["name"] == "Shop" and ident["platform"] == "android"
    assert ident["paired_at"] == "2026-09-21T14:13:20Z"
    assert ident["noise_fingerprint"] == Identity.fingerprint(public_key(shop.noise_key))
    assert run.code == 0
    assert whatsmeow_store.read_bytes() == before, "wadoctor must never write to a store"


def test_bad_key_length_is_device_invalid(whatsmeow_store, cli):
    add_devices(whatsmeow_store, Device("15550000001", 12), Device("15550000002", 4, key_lengths={"noise_key": 31}))
    run = check(cli, whatsmeow_store)
    sessions = by_id(run.json())
    bad = sessions["whatsapp/15550000002.4"]
    assert bad["state"] == "broken"
    assert bad["findings"][0]["code"] == "device-invalid"
    assert "noise_key is 31 bytes, expected 32" in bad["findings"][0]["message"]
    assert sessions["whatsapp/15550000001.12"]["findings"] == []
    assert run.code == 2


def test_store_without_devices_is_store_empty(whatsmeow_store, cli):
    run = check(cli, whatsmeow_store)
    session, = run.json()["sessions"]
    assert session["state"] == "unpaired" and codes(session) == {"store-empty"}
    assert run.code == 1


def test_truncated_and_garbage_stores_are_corrupt(whatsmeow_store, cli, tmp_path):
    add_devices(whatsmeow_store, *(Device(f"1555000{i:04d}", 1) for i in range(200)))
    data = whatsmeow_store.read_bytes()
    whatsmeow_store.write_bytes(data[: len(data) // 2])
    session, = check(cli, whatsmeow_store).json()["sessions"]
    assert session["state"] == "broken" and codes(session) == {"store-corrupt"}
    garbage = tmp_path / "whatsapp.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    run = check(cli, garbage)
    session, = run.json()["sessions"]
    assert codes(session) == {"store-corrupt"} and "not a SQLite database" in session["findings"][0]["message"]
    assert run.code == 2


def test_other_sqlite_files_are_not_sessions(tmp_path, cli):
    connection = sqlite3.connect(tmp_path / "cache.db")
    connection.execute("CREATE TABLE t (x)")
    connection.close()
    run = cli("list", "--json", tmp_path)
    assert run.code == 0 and run.json()["sessions"] == []


def test_unknown_schema_version(whatsmeow_store, cli):
    add_devices(whatsmeow_store, Device("15550000001", 12))
    connection = sqlite3.connect(whatsmeow_store)
    connection.execute("UPDATE whatsmeow_version SET version = 99, compat = 90")
    connection.commit()
    connection.close()
    session, = check(cli, whatsmeow_store).json()["sessions"]
    assert codes(session) == {"store-schema-unknown"}
    assert "99" in session["findings"][0]["message"]


HOLD_WRITE_LOCK = textwrap.dedent("""
    import sqlite3, sys, time
    c = sqlite3.connect(sys.argv[1], isolation_level=None)
    c.execute("BEGIN EXCLUSIVE")
    c.execute("UPDATE whatsmeow_device SET push_name = 'x'")
    print("locked", flush=True)
    time.sleep(60)
""")


def test_a_store_locked_by_a_live_process_is_reported_with_its_pid_without_hanging(whatsmeow_store, cli):
    add_devices(whatsmeow_store, Device("15550000001", 12))
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(whatsmeow_store)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        run = check(cli, whatsmeow_store)
        session, = run.json()["sessions"]
        finding, = session["findings"]
        assert finding["code"] == "store-locked"
        assert finding["evidence"]["pid"] == holder.pid
        assert f"pid {holder.pid}" in finding["message"]
    finally:
        holder.kill()
        holder.wait()


def killed_writer(script: str, store: Path, ready: str) -> Path:
    """Run a writer until it says `ready`, SIGKILL it there; the journal it leaves."""
    writer = subprocess.Popen([sys.executable, "-c", script, str(store)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == ready
    writer.kill()
    writer.wait()
    return store.with_name(store.name + "-journal")


def test_hot_journal_left_by_a_killed_writer(whatsmeow_store, cli):
    add_devices(whatsmeow_store, Device("15550000001", 12))
    journal = killed_writer(HOLD_WRITE_LOCK, whatsmeow_store, "locked")
    assert journal.exists()
    run = check(cli, whatsmeow_store)
    session, = run.json()["sessions"]
    assert "store-journal-hot" in codes(session)
    assert journal.exists(), "a read-only check must not roll the journal back"


def test_unreadable_store_is_named_not_a_traceback(whatsmeow_store, cli):
    add_devices(whatsmeow_store, Device("15550000001", 12))
    whatsmeow_store.chmod(0)
    run = cli("check", "--json", whatsmeow_store.parent, unprivileged=True)
    assert run.code == 3
    assert "permission denied" in run.json()["problems"][0]["message"]


SPILL_AND_DIE = textwrap.dedent("""
    import sqlite3, sys, time
    c = sqlite3.connect(sys.argv[1], isolation_level=None)
    c.execute("PRAGMA journal_mode=DELETE")  # SQLite's default rollback journal
    c.execute("PRAGMA cache_size=2")  # a small cache spills changed pages into the store mid-transaction
    c.execute("BEGIN")
    c.execute("UPDATE whatsmeow_device SET push_name = 'half-written'")
    c.execute("CREATE TABLE filler(x)")
    for _ in range(2000):
        c.execute("INSERT INTO filler VALUES (?)", (b"y" * 2000,))
    print("ready", flush=True)
    time.sleep(60)
""")


def test_a_writer_killed_mid_transaction_leaves_devices_that_read_as_after_rollback(whatsmeow_store, cli):
    """SQLite's read-only open refuses a hot journal it would have to roll back; the devices
    are read from a private rolled-back copy, and the store and its journal stay as they were."""
    add_devices(whatsmeow_store, Device("15550000001", 12), Device("15550000002", 3))
    journal = killed_writer(SPILL_AND_DIE, whatsmeow_store, "ready")
    before = (whatsmeow_store.read_bytes(), journal.read_bytes())
    run = check(cli, whatsmeow_store)
    sessions = run.json()["sessions"]
    assert sorted(s["identity"]["jid"] for s in sessions) == ["15550000001:12@s.whatsapp.net",
                                                              "15550000002:3@s.whatsapp.net"]
    for session in sessions:
        assert session["state"] == "paired" and codes(session) == {"store-journal-hot"}
    assert run.code == 1
    assert cli("fix", "--json", "--dry-run", whatsmeow_store.parent).json()["actions"] == []
    assert (whatsmeow_store.read_bytes(), journal.read_bytes()) == before
