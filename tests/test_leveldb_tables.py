"""Chromium profiles whose localStorage log was flushed into LevelDB tables.

The tables are written by the real LevelDB library (plyvel's bundled LevelDB, with and without
snappy), holding WhatsApp Web's keys as Chromium names them, `last-wid` right before
`last-wid-md` so that the second is stored as a suffix of the first. A table that cannot be
read must make the profile `unknown`, and no remedy may touch it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import by_id, codes

plyvel = pytest.importorskip("plyvel", reason="plyvel (the real LevelDB) is a test extra")

ORIGIN = b"_https://web.whatsapp.com\x00\x01"
WID = "15550000001:12@c.us"


def profile(tmp_path: Path, compression: str | None, name: str = "session-shop") -> tuple[Path, Path]:
    """A whatsapp-web.js LocalAuth profile whose `last-wid-md` sits only in compacted tables."""
    folder = tmp_path / ".wwebjs_auth" / name
    leveldb = folder / "Default" / "Local Storage" / "leveldb"
    leveldb.mkdir(parents=True)
    db = plyvel.DB(str(leveldb), create_if_missing=True, compression=compression)
    db.put(b"META:https://web.whatsapp.com", b"\x08\x80\x80\x80\x80\x80\x01")
    db.put(ORIGIN + b"last-wid", b'\x01"15550000001@c.us"')
    db.put(ORIGIN + b"last-wid-md", f'\x01"{WID}"'.encode())
    for n in range(200):  # WhatsApp Web's other keys, enough for several blocks
        db.put(ORIGIN + f"WebEncKeySalt-{n:04d}".encode(), b"\x01" + os.urandom(24).hex().encode())
    db.compact_range()
    db.close()
    return folder, leveldb


def age(folder: Path, seconds: float = 3600) -> None:
    """Make every file look untouched for an hour (an abandoned pairing would be 10 minutes)."""
    past = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (past, past))


@pytest.mark.parametrize("compression", ["snappy", None])
def test_a_logged_in_profile_whose_log_was_flushed_reads_as_paired(tmp_path, cli, compression):
    folder, leveldb = profile(tmp_path, compression)
    tables = list(leveldb.glob("*.ldb"))
    assert tables and not any(ORIGIN + b"last-wid-md" in t.read_bytes() for t in tables)  # prefix-compressed
    assert all(WID.encode() not in log.read_bytes() for log in leveldb.glob("*.log"))
    age(folder)
    session = by_id(cli("check", "--json", tmp_path).json())["session-shop"]
    assert session["state"] == "paired" and session["identity"]["jid"] == "15550000001:12@s.whatsapp.net"
    assert not codes(session) & {"unpaired", "pairing-abandoned", "state-unknown"}


def test_the_newest_entry_wins_across_tables_and_the_log(tmp_path, cli):
    folder, leveldb = profile(tmp_path, "snappy")
    db = plyvel.DB(str(leveldb))
    db.delete(ORIGIN + b"last-wid-md")  # a logout, still in the log only
    db.close()
    session = by_id(cli("check", "--json", tmp_path).json())["session-shop"]
    assert session["state"] == "unpaired"
    db = plyvel.DB(str(leveldb))
    db.put(ORIGIN + b"last-wid-md", b'\x01"15550000002:3@c.us"')  # paired again, as another device
    db.close()
    session = by_id(cli("check", "--json", tmp_path).json())["session-shop"]
    assert session["identity"]["jid"] == "15550000002:3@s.whatsapp.net"


@pytest.mark.parametrize("damage", ["cut", "compression"])
def test_an_unreadable_table_is_unknown_and_no_remedy_touches_it(tmp_path, cli, damage):
    folder, leveldb = profile(tmp_path, "snappy")
    table = max(leveldb.glob("*.ldb"), key=lambda t: t.stat().st_size)
    data = bytearray(table.read_bytes())
    if damage == "cut":
        data = data[: len(data) // 2]
    else:  # the index block's trailer says a compression no LevelDB writes
        data = bytearray(_with_unknown_compression(bytes(data)))
    table.write_bytes(data)
    age(folder)
    session = by_id(cli("check", "--json", tmp_path).json())["session-shop"]
    assert session["state"] == "unknown"
    finding, = (f for f in session["findings"] if f["code"] == "state-unknown")
    assert table.name in finding["message"]
    before = sorted((p, p.stat().st_size) for p in folder.rglob("*"))
    run = cli("fix", "--json", "--deep", "--purge-abandoned", "--purge-unrecoverable", "--foreign-locks", tmp_path)
    assert [a for a in run.json()["actions"] if a["session"] == "session-shop"] == []
    assert sorted((p, p.stat().st_size) for p in folder.rglob("*")) == before


def _with_unknown_compression(table: bytes) -> bytes:
    """The table with its index block's trailer saying compression type 7 (none exists)."""
    import struct

    from wadoctor.stores.adv import read_varint

    footer = table[-48:]
    _, pos = read_varint(footer, 0)
    _, pos = read_varint(footer, pos)
    offset, pos = read_varint(footer, pos)
    size, _ = read_varint(footer, pos)
    patched = bytearray(table)
    patched[offset + size] = 7
    assert struct.unpack_from("<Q", table, len(table) - 8)[0] == 0xDB4775248B80FB57
    return bytes(patched)
