"""The lstat of a session folder's files, in C and in Python: the same answers.

A plain check judges every file by the lstat that wadoctor/stores/_lstat.c takes; where it
was not built (no compiler at install) os.stat takes it. Both must give what os.lstat gives,
byte for byte in the names and to the last bit of the mtime (the crash window compares them).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from wadoctor.stores import files


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


def _both(folder: Path, names: list[str]) -> tuple[files.FolderStats, files.FolderStats]:
    assert files._native_lstat_names is not None, (
        "wadoctor/stores/_lstat.c was not built: reinstall with a C compiler (pip install -e .)")
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return files.FolderStats(*files._native_lstat_names(fd, names)), files._lstat_names(fd, names)
    finally:
        os.close(fd)


def test_c_and_python_give_what_lstat_gives(odd_folder: Path) -> None:
    names = os.listdir(odd_folder)
    native, python = _both(odd_folder, names)
    assert native == python
    assert native.names == names and not native.failed
    for name, mode, size, mtime in zip(native.names, native.modes, native.sizes, native.mtimes):
        st = os.lstat(odd_folder / name)
        assert (mode, size, mtime) == (st.st_mode, st.st_size, st.st_mtime), name
    assert native.mtimes[names.index("pre-key-1.json")] == 1_700_000_000.9876542


def test_a_name_gone_since_the_listing_is_reported_with_its_errno(odd_folder: Path) -> None:
    names = os.listdir(odd_folder)
    (odd_folder / "pre-key-1.json").unlink()
    native, python = _both(odd_folder, [*names, "never-was.json"])
    assert native == python
    assert native.failed == [("pre-key-1.json", errno.ENOENT), ("never-was.json", errno.ENOENT)]
    assert native.names == [n for n in names if n != "pre-key-1.json"]


def test_an_empty_folder_gives_empty_lists(tmp_path: Path) -> None:
    native, python = _both(tmp_path, [])
    assert native == python == files.FolderStats([], [], [], [], [])
