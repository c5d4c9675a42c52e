"""A check's per-file and per-creds work, in C and in Python: the same answers.

A plain check judges every file by the listing and lstat that wadoctor/stores/_speedups.c
takes and the key type it reads from the name; where the helper was not built (no compiler at install)
Python does both. Both must give what os.lstat gives, byte for byte in the names and to the
last bit of the mtime (the crash window compares them), and type names as Baileys' regex does.
Creds the C pass (with orjson) calls healthy must be what read_creds (with json) finds nothing
wrong in, with the same identity: creds written by the real Baileys, then damaged every way.
"""

from __future__ import annotations

import base64
import copy
import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fixtures import baileys as real
from wadoctor.stores import baileys, baileys_creds, files
from wadoctor.stores.baileys_keys import KEY_FILE, KEY_TYPES


@pytest.fixture
def odd_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "session"
    folder.mkdir()
    (folder / "creds.json").write_text('{"me": null}')
    (folder / "pre-key-1.json").write_bytes(b"x" * 183)
    (folder / "session-6281234567890.0.json").write_bytes(b"")
    (folder / "app-state-sync-key-AAAA.json").write_bytes(b"y" * 5000)
    (folder / "pre-key-2\n.json").write_text("{}")  # a line end in a name
    (folder / "sender-key-grupo-ção.json").write_text("{}")  # not ASCII
    fd = os.open(os.fsencode(folder) + b"/pre-key-\xff.json", os.O_CREAT | os.O_WRONLY, 0o600)  # not UTF-8
    os.close(fd)
    (folder / "pre-key-3.json").symlink_to("/etc/passwd")  # a link out: lstat'ed, not followed
    (folder / "pre-key-4.json").symlink_to(folder / "gone")  # a dangling link
    (folder / "sub").mkdir()
    os.mkfifo(folder / "pre-key-5.json")
    os.utime(folder / "pre-key-1.json", ns=(1_700_000_000_123_456_789, 1_700_000_000_987_654_321))
    return folder


def _native():
    assert files._native_list_folder is not None and baileys._native_judge_keys is not None, (
        "wadoctor/stores/_speedups.c was not built: reinstall with a C compiler (pip install -e .)")


def _both(folder: Path) -> tuple[files.Listing, files.Listing]:
    _native()
    return files.Listing(*files._native_list_folder(folder)), files._list_folder(folder)


def test_c_and_python_list_what_listdir_and_lstat_give(odd_folder: Path) -> None:
    native, python = _both(odd_folder)
    assert native == python
    assert native.names == os.listdir(odd_folder) and not native.failed
    for name, mode, size, mtime in zip(native.names, native.modes, native.sizes, native.mtimes):
        st = os.lstat(odd_folder / name)
        assert (mode, size, mtime) == (st.st_mode, st.st_size, st.st_mtime), name
    assert native.mtimes[native.names.index("pre-key-1.json")] == 1_700_000_000.9876542


def test_a_name_gone_since_the_listing_is_reported_with_its_errno(odd_folder: Path) -> None:
    names = os.listdir(odd_folder)
    (odd_folder / "pre-key-1.json").unlink()
    fd = os.open(odd_folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        listed = files._lstat_names(fd, [*names, "never-was.json"])
    finally:
        os.close(fd)
    assert listed.failed == [("pre-key-1.json", errno.ENOENT), ("never-was.json", errno.ENOENT)]
    assert listed.names == [n for n in names if n != "pre-key-1.json"]
    assert "pre-key-1.json" in listed.every_name() and not listed.empty


def test_an_empty_folder_gives_empty_lists(tmp_path: Path) -> None:
    native, python = _both(tmp_path)
    assert native == python == files.Listing([], [], [], [], []) and native.empty


@pytest.mark.parametrize("lister", [files._list_folder, files.list_folder], ids=["python", "c"])
def test_a_folder_that_cannot_be_listed_raises_with_its_path(tmp_path: Path, lister) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    for path, code in [(tmp_path / "missing", errno.ENOENT), (tmp_path / "file", errno.ENOTDIR),
                       (tmp_path / "link", errno.ENOENT)]:
        with pytest.raises(OSError) as raised:
            lister(path)
        assert (raised.value.errno, raised.value.filename) == (code, str(path))


# Names made of the pieces that matter: type prefixes, dashes, line ends, the suffix.
_pieces = st.sampled_from([*KEY_TYPES, "-", "--", "\n", ".json", ".jso", "json", ".", "x", "é", "1", ".tmp", ""])
_names = st.lists(_pieces, max_size=6).map("".join)


def _judged_both(names, modes, sizes, mtimes, deep):
    _native()
    listing = files.Listing(names, modes, sizes, mtimes, [])
    native = baileys.judge_keys(listing, deep)
    return native, baileys._judge_keys(names, modes, sizes, mtimes, deep)


@given(st.lists(_names, max_size=20))
@example(["sender-key-memory-.json", "sender-key-memory-x.json", "session-.json", "pre-key-1\n.json",
          "pre-key-1.json\n", "pre-key-.json.json", "pre-key--.json", "pre-keyx-1.json", ".json", ""])
def test_names_are_typed_as_baileys_regex_types_them(names: list[str]) -> None:
    expected = [(i, match[1]) for i, name in enumerate(names) if (match := KEY_FILE.match(name))]
    count = len(names)
    native, python = _judged_both(names, [stat.S_IFREG | 0o600] * count, [1000] * count, [0.0] * count, True)
    assert native.judged == python.judged == expected  # with deep, every key file is read


_REGULAR = stat.S_IFREG | 0o600
_modes = st.sampled_from([_REGULAR] * 4 + [stat.S_IFDIR | 0o700, stat.S_IFLNK | 0o777, stat.S_IFIFO | 0o600])
_key_names = st.builds("{}-{}.json".format, st.sampled_from(KEY_TYPES), st.integers(0, 99))
_entry = st.tuples(st.one_of(_key_names, _names, st.sampled_from(["creds.json", "x.json.tmp"])), _modes,
                   st.integers(0, 700), st.sampled_from([0.0, 1.0, 2.5, 3.0, 4.5, 5.0, 5.0, -1.5]))
_folders = st.one_of(st.lists(_entry, max_size=10), st.lists(_entry, min_size=40, max_size=120))  # over the cap


@given(_folders, st.booleans())
def test_c_and_python_judge_a_folder_alike(entries, deep) -> None:
    names, modes, sizes, mtimes = (list(column) for column in zip(*entries)) if entries else ([], [], [], [])
    native, python = _judged_both(names, modes, sizes, mtimes, deep)
    assert native == python
    assert list(native.key_types) == list(python.key_types)  # the same order, too


def test_the_window_reads_the_newest_key_files_and_floors_the_rest() -> None:
    # 40 pre-keys written a second apart, then 40 written at once; a cut session file, a folder
    names = [f"pre-key-{n}.json" for n in range(80)] + ["session-1.0.json", "creds.json", "sub", "a.json.tmp"]
    mtimes = [1000.0 + n for n in range(40)] + [2000.0] * 40 + [1500.0, 2000.5, 3000.0, 2000.0]
    sizes = [164] * 80 + [37, 900, 4096, 10]
    modes = [stat.S_IFREG | 0o600] * 82 + [stat.S_IFDIR | 0o700, stat.S_IFREG | 0o600]
    native, python = _judged_both(names, modes, sizes, mtimes, False)
    assert native == python
    assert native.judged == [(80, "session")]  # under its floor, whenever it was written
    assert native.recent == [(n, "pre-key") for n in range(48, 80)]  # the 32 newest near creds' write
    assert (native.files, native.bytes, native.newest) == (83, 164 * 80 + 37 + 900 + 10, 2000.5)
    assert native.key_types == {"pre-key": 80, "session": 1}
    assert (native.creds, native.others) == (81, [83])


# Creds: one healthy creds.json written by the real Baileys, then changed at any place in it.

@pytest.fixture(scope="module")
def creds_json(real_baileys: None, tmp_path_factory) -> bytes:
    written, = real.write_sessions([real.paired(tmp_path_factory.mktemp("creds") / "s")])
    return (written.path / "creds.json").read_bytes()


def _places(value: Any, at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of a creds object (the object itself too)."""
    places = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            places += _places(inner, (*at, key))
    return places


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


_base64s = st.one_of(st.integers(0, 70).flatmap(lambda n: st.binary(min_size=n, max_size=n)).map(_b64),
                     st.sampled_from([32, 64]).flatmap(lambda n: st.binary(min_size=n, max_size=n)).map(_b64))
_spoilt = st.tuples(_base64s, st.integers(0, 90), st.sampled_from(["=", "==", " ", "\n", "-", "_", "é", ""])).map(
    lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + (t[2] == ""):])  # a character put in, or taken out
_buffers = st.one_of(_base64s, _spoilt).map(lambda data: {"type": "Buffer", "data": data})
_jids = st.tuples(st.sampled_from(["6281234567890", "", "62812_3", "628¹"]),
                  st.sampled_from(["", ":12", ":0", ":", ":1:2", ":٣", ":²", ":1234567890123", ":012"]),
                  st.sampled_from(["@s.whatsapp.net", "@", "@lid", "@a@b", ""])).map("".join)
# a device identity: fields 1-5 as varints, wire types 1, 2 and 5, a cut, a long varint
_fields = st.lists(st.sampled_from([b"\x08\x01", b"\x10\xe0\xb4\x9b\xbd\x06", b"\x18\x0c", b"\x20\x00",
                                    b"\x10" + b"\xff" * 9 + b"\x01", b"\x10\x80", b"\x11" + b"\x00" * 8,
                                    b"\x12\x03abc", b"\x12\x09ab", b"\x15\x00\x00\x00\x00", b"\x0b"]), max_size=5)
_details = _fields.map(lambda parts: _b64(b"".join(parts)))
_values = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                    st.text(max_size=8), _base64s, _spoilt, _buffers, _jids, _details,
                    st.lists(st.integers(-1, 256), max_size=40).map(lambda data: {"type": "Buffer", "data": data}),
                    st.just({}), st.just({"type": "buffer", "data": _b64(bytes(32))}))


def _changed(creds: dict[str, Any], place: tuple[str, ...], value: Any) -> None:
    *parents, key = place
    for name in parents:
        creds = creds[name]
    if value is KeyError:
        del creds[key]
    else:
        creds[key] = copy.deepcopy(value)  # a strategy's value is shared between examples


def _agree(creds: dict[str, Any]) -> None:
    """parse_creds (orjson, the C pass) and read_creds (json) judge the creds alike."""
    raw = json.dumps(creds).encode()
    parsed, healthy, why = baileys_creds.parse_creds(raw)
    identity, problems = baileys_creds.read_creds(json.loads(raw))
    assert why is None and parsed == json.loads(raw)
    if healthy is not None:
        assert (healthy, []) == (identity, problems)
    assert baileys_creds._healthy_creds is not None, "wadoctor/stores/_speedups.c was not built"
    assert (healthy is None) == bool(problems) or _left_to_python(creds), problems


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=400)
@given(data=st.data())
def test_creds_the_c_pass_calls_healthy_are_those_read_creds_finds_healthy(creds_json: bytes, data) -> None:
    creds = json.loads(creds_json)
    for _ in range(data.draw(st.integers(1, 3))):
        places = [p for p in _places(creds) if p]
        _changed(creds, data.draw(st.sampled_from(places)), data.draw(st.one_of(_values, st.just(KeyError))))
    _agree(creds)


def _varints(*fields: bytes) -> str:
    return _b64(b"".join(fields))


# Each edge of the C pass, on its own (the random changes above find them only now and then).
_EDGES = [
    ("registrationId", True), ("registrationId", 2**70), ("registrationId", 1.0), ("nextPreKeyId", None),
    ("firstUnuploadedPreKeyId", "1"), ("platform", 7), ("me", {}), ("me", "x"), ("me", None), ("me.lid", 5),
    ("me.name", "~"), ("me.name", "Shop"), ("me.id", "6281234567890:012@s.whatsapp.net"), ("me.id", "628:1/2@s"),
    ("me.id", "628:9@s"), ("me.id", "628:²@s"), ("me.id", "628:٣@s"), ("me.id", "628:1234567890@s"),
    ("me.id", "628:123456789@s"),
    ("me.id", "628:" + "9" * 19 + "@s"), ("me.id", "_1:1@s"), ("me.id", "628_7:1@s"), ("me.id", "628:1@"),
    ("me.id", "628@a@b"), ("me.id", "628:@s"), ("me.id", "628:1:2@s"), ("account", None), ("account", []),
    ("account.details", ""), ("account.details", {"type": "Buffer", "data": [8, 1]}),
    ("account.details", _varints(b"\x08\x01")), ("account.details", _varints(b"\x10\x01", b"\x10\x02")),
    ("account.details", _varints(b"\x10" + b"\xff" * 8 + b"\x01")),
    ("account.details", _varints(b"\x10" + b"\xff" * 9 + b"\x01")), ("account.details", _varints(b"\x13")),
    ("account.details", _varints(b"\x12\x05ab")), ("account.details", _varints(b"\x12\x02ab\x10\x07")),
    ("account.details", _varints(b"\x11" + bytes(8), b"\x15" + bytes(4), b"\x10\x03")),
    ("account.details", _varints(b"\x11" + bytes(7))), ("account.details", _varints(b"\x90\x00\x05")),
    ("account.accountSignature", _b64(bytes(64))),
    ("account.deviceSignature", {"type": "Buffer", "data": _b64(bytes(63))}),
    ("noiseKey.public.data", _b64(bytes(31))), ("noiseKey.public.data", _b64(bytes(33))),
    ("noiseKey.public.data", "=" + _b64(bytes(32))[1:]), ("noiseKey.public.data", _b64(bytes(32))[:-1] + "=="),
    ("noiseKey.public.data", _b64(bytes(32))[:-2] + "A="), ("noiseKey.public.type", "buffer"),
    ("noiseKey.public", _b64(bytes(32))), ("noiseKey.private", {"data": _b64(bytes(32))}), ("noiseKey", None),
    ("pairingEphemeralKeyPair", None), ("pairingEphemeralKeyPair", KeyError), ("signedPreKey.keyPair", KeyError),
    ("signedPreKey.signature.data", _b64(bytes(63))), ("signedPreKey", "x"), ("advSecretKey", _b64(bytes(32))),
    ("advSecretKey", _b64(bytes(32)) + "\n"), ("signedIdentityKey.public.data", "é" * 44),
]


@pytest.mark.parametrize(("place", "value"), _EDGES, ids=[f"{p}={v!r}"[:40] for p, v in _EDGES])
def test_the_c_pass_and_read_creds_agree_on_each_edge(creds_json: bytes, place: str, value: Any) -> None:
    creds = json.loads(creds_json)
    _changed(creds, tuple(place.split(".")), value)
    _agree(creds)


def _left_to_python(creds: dict[str, Any]) -> bool:
    """What the C pass leaves to read_creds though it may be healthy: bytes as lists of ints
    (4.x, older 6.x), a JID not in ASCII or with a device past 9 digits, a varint of 10 bytes,
    and values orjson reads otherwise than json (integers past 64 bits)."""
    me, account = creds.get("me"), creds.get("account")
    jid = me.get("id") if isinstance(me, dict) else None
    details = account.get("details") if isinstance(account, dict) else None
    details = details.get("data") if isinstance(details, dict) else details
    try:
        long_varint = b"\xff" * 9 in base64.b64decode(details, validate=True)
    except (TypeError, ValueError):
        long_varint = False
    text = json.dumps(creds)
    return ('"data": [' in text or long_varint or repr(orjson.loads(text)) != repr(json.loads(text))
            or (isinstance(jid, str) and (not jid.isascii() or len(jid.partition("@")[0].partition(":")[2]) > 9)))


def test_the_real_creds_are_recognised_healthy_in_c(creds_json: bytes) -> None:
    parsed, healthy, why = baileys_creds.parse_creds(creds_json)
    assert healthy is not None and healthy.jid == "6281234567890:12@s.whatsapp.net" and healthy.paired_at
    assert (healthy, []) == baileys_creds.read_creds(json.loads(creds_json))
