"""Chromium-profile sessions with a real headless Chromium: identity and every kind of lock."""

from __future__ import annotations

import os
import signal
import socket

import pytest

from tests.conftest import by_id, codes
from tests.fixtures.chromium import chromium, stop

pytestmark = pytest.mark.usefixtures("real_chromium")


def session_of(cli, root, sid):
    run = cli("check", "--json", root)
    assert run.code in (0, 1, 2), run
    return by_id(run.json())[sid], run


def test_live_profile_identity_and_lock(tmp_path, cli):
    profile = tmp_path / ".wwebjs_auth" / "session-shop"
    with chromium(profile) as browser:
        session, run = session_of(cli, tmp_path, "session-shop")
        assert session["format"] == "chromium" and session["state"] == "paired"
        assert session["identity"]["jid"] == "15550000001:12@s.whatsapp.net"
        assert (session["identity"]["phone"], session["identity"]["device"]) == ("15550000001", 12)
        finding, = session["findings"]
        assert finding["code"] == "profile-lock-live" and finding["evidence"]["pid"] == browser.pid
        assert run.code == 0


def test_killed_browser_leaves_a_stale_lock(tmp_path, cli):
    profile = tmp_path / "tokens" / "sales"
    with chromium(profile) as browser:
        stop(browser, signal.SIGKILL)
    assert os.readlink(profile / "SingletonLock") == f"{socket.gethostname()}-{browser.pid}"
    session, run = session_of(cli, tmp_path, "sales")
    finding, = session["findings"]
    assert finding["code"] == "profile-lock-stale" and "is gone" in finding["message"]
    assert run.code == 1


def test_lock_from_another_host_is_foreign_and_chromium_really_refuses(tmp_path, cli):
    import subprocess

    from tests.fixtures.chromium import CHROMIUM, FLAGS

    profile = tmp_path / "userDataDir" / "support"
    with chromium(profile) as browser:
        stop(browser, signal.SIGKILL)
    (profile / "SingletonLock").unlink()
    os.symlink("old-container-4f2a-77", profile / "SingletonLock")
    session, run = session_of(cli, tmp_path, "support")
    finding, = session["findings"]
    assert finding["code"] == "profile-lock-foreign"
    assert finding["evidence"]["host"] == "old-container-4f2a" and finding["evidence"]["pid"] == 77
    assert run.code == 2
    refused = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                             capture_output=True, timeout=60)
    assert refused.returncode == 21, "the finding must match what Chromium does"


def test_regular_file_lock_is_corrupt(tmp_path, cli):
    profile = tmp_path / ".wwebjs_auth" / "session"
    with chromium(profile, wid=None) as browser:
        stop(browser, signal.SIGKILL)
    (profile / "SingletonLock").unlink()
    (profile / "SingletonLock").write_text("locked\n")
    session, _ = session_of(cli, tmp_path, "session")
    assert session["state"] == "unpaired"
    assert codes(session) == {"profile-lock-corrupt", "unpaired"}


def test_empty_local_auth_folder_is_logged_out(tmp_path, cli):
    (tmp_path / ".wwebjs_auth" / "session-gone").mkdir(parents=True)
    session, run = session_of(cli, tmp_path, "session-gone")
    assert session["state"] == "logged-out" and codes(session) == {"logged-out"}


def test_unreadable_profile_and_link_loop_end_in_a_report(tmp_path, cli):
    import shutil

    from tests.conftest import EXAMPLES

    profile = tmp_path / ".wwebjs_auth" / "session-helpdesk"
    shutil.copytree(EXAMPLES / ".wwebjs_auth" / "session-helpdesk", profile, symlinks=True)
    os.symlink(profile, profile / "Default" / "loop")
    leveldb = profile / "Default" / "Local Storage" / "leveldb"
    leveldb.chmod(0)
    try:
        run = cli("check", "--json", tmp_path, unprivileged=True, timeout=30)
    finally:
        leveldb.chmod(0o755)
    session = by_id(run.json())["session-helpdesk"]
    assert session["state"] == "unpaired"  # the identity could not be read, and is not guessed
    assert "profile-lock-foreign" in codes(session)
