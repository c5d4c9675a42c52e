"""Where sessions are found, and that no odd folder ever stops a scan."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.conftest import EXAMPLES, by_id


def copy_session(name: str, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(EXAMPLES / name, dest, symlinks=True, copy_function=shutil.copy))


def ids(run) -> set[str]:
    return set(by_id(run.json()))


def test_application_folder_usual_places(tmp_path, cli):
    app = tmp_path / "gateway"
    copy_session("shop-main", app / "sessions" / "tenant-a")
    copy_session("new-kiosk", app / "auth_info_baileys")
    copy_session("onboarding", app / "instances" / "acme")
    copy_session("sales", app / "baileys_auth_2")
    copy_session("shop-main", app / "node_modules" / "pkg" / "fixture")  # never searched
    run = cli("list", "--json", app)
    assert run.code == 0, run
    assert ids(run) == {"tenant-a", "auth_info_baileys", "acme", "baileys_auth_2"}


def test_no_path_means_config_roots_else_current_folder(tmp_path, cli):
    copy_session("shop-main", tmp_path / "data" / "wa" / "one")
    copy_session("new-kiosk", tmp_path / "elsewhere" / "two")
    assert ids(cli("list", "--json", cwd=tmp_path)) == {"one", "two"}
    (tmp_path / "wadoctor.toml").write_text('roots = ["elsewhere"]\n')
    assert ids(cli("list", "--json", cwd=tmp_path)) == {"two"}


def test_session_folder_store_file_and_creds_file_as_paths(tmp_path, cli):
    session = copy_session("shop-main", tmp_path / "s")
    shutil.copy(EXAMPLES / "auth_info_multi.json", tmp_path / "auth_info_multi.json")
    assert ids(cli("list", "--json", session)) == {"s"}
    assert ids(cli("list", "--json", session / "creds.json")) == {"s"}
    assert ids(cli("list", "--json", tmp_path / "auth_info_multi.json")) == {"auth_info_multi"}
    assert ids(cli("list", "--json", ".", cwd=session)) == {"s"}


def test_overlapping_paths_report_a_session_once(tmp_path, cli):
    copy_session("shop-main", tmp_path / "root" / "a")
    run = cli("list", "--json", tmp_path / "root", tmp_path / "root" / "a")
    assert [s["id"] for s in run.json()["sessions"]] == ["a"]


def test_missing_path_is_reported_and_the_rest_still_scanned(tmp_path, cli):
    copy_session("shop-main", tmp_path / "a")
    run = cli("check", "--json", tmp_path / "nope", tmp_path / "a")
    assert run.code == 3, run
    assert ids(run) == {"a"}
    assert run.json()["problems"] == [{"path": str(tmp_path / "nope"), "message": "no such file or directory"}]
    assert "nope: no such file or directory" in run.err


def test_unreadable_folder_is_named_and_the_scan_goes_on(tmp_path, cli):
    copy_session("shop-main", tmp_path / "root" / "good")
    locked = copy_session("new-kiosk", tmp_path / "root" / "locked")
    locked.chmod(0)
    try:
        run = cli("check", "--json", tmp_path / "root", unprivileged=True)
    finally:
        locked.chmod(0o755)
    assert run.code == 3, run
    assert ids(run) == {"good"}
    problem, = run.json()["problems"]
    assert problem["path"] == str(locked) and "permission denied" in problem["message"]
    assert not run.json()["summary"]["complete"]


def test_unreadable_creds_is_a_finding(tmp_path, cli):
    session = copy_session("shop-main", tmp_path / "s")
    (session / "creds.json").chmod(0)
    run = cli("check", "--json", session, unprivileged=True)
    finding, = by_id(run.json())["s"]["findings"]
    assert finding["code"] == "path-unreadable" and "permission denied" in finding["message"]


def test_symlink_loops_and_links_out_are_not_followed(tmp_path, cli):
    root = tmp_path / "root"
    copy_session("shop-main", root / "real")
    outside = copy_session("new-kiosk", tmp_path / "outside")
    os.symlink(root, root / "loop")
    os.symlink(outside, root / "linked")
    run = cli("list", "--json", root, timeout=20)
    assert run.code == 0 and ids(run) == {"real"}
    # a link named on the command line is the user's choice, and is followed
    assert ids(cli("list", "--json", root / "linked")) == {"linked"}


def test_symlinked_creds_is_not_read(tmp_path, cli):
    session = copy_session("shop-main", tmp_path / "s")
    (session / "creds.json").unlink()
    os.symlink("/etc/passwd", session / "creds.json")
    finding, = by_id(cli("check", "--json", session).json())["s"]["findings"]
    assert finding["code"] == "path-unreadable" and "symbolic link" in finding["message"]


def test_a_file_that_is_no_store_is_a_one_line_error(tmp_path, cli):
    (tmp_path / "notes.txt").write_text("hello")
    run = cli("check", tmp_path / "notes.txt")
    assert run.code == 3
    assert run.err.strip().endswith("notes.txt: not a session store wadoctor knows")
