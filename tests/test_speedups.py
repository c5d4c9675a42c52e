"""A plain check's per-file work, in C and in Python: the same answers.

A plain check judges every file by the listing and lstat that wadoctor/stores/_speedups.c
takes and the key type it reads from the name; where the helper was not built (no compiler at install)
Python does both. Both must give what os.lstat gives, byte for byte in the names and to the
last bit of the mtime (the crash window compares them), and type names as Baileys' regex does.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from wadoctor.stores import baileys, files
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
