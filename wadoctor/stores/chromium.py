"""Chromium user-data-dirs used as WhatsApp Web sessions (whatsapp-web.js, WPPConnect, venom).

Found as `.wwebjs_auth/session[-<clientId>]` (LocalAuth), `.wwebjs_auth/RemoteAuth-<clientId>`,
`tokens/<session>` (WPPConnect, venom) and `userDataDir/<session>` (wppconnect-server).

Chromium's profile lock is `SingletonLock`, a symlink to `<hostname>-<pid>`. Chromium takes
over a lock of this host whose pid is dead or not a Chromium, but refuses to start (exit 21,
"The profile appears to be in use by another Chromium process") when the hostname differs,
as it does after a container is re-created. Proof of life beats reading the link: a live
Chromium holds a POSIX lock on the localStorage LevelDB's LOCK file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from wadoctor.core.evidence import ProfileLock, Reason
from wadoctor.core.model import Identity, Session, SessionState
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import Listing, describe_os_error, tree_footprint
from wadoctor.stores.jid import parse_jid
from wadoctor.stores.leveldb import find_local_storage
from wadoctor.stores.sqlite_probe import lock_owner

LOCK = "SingletonLock"
LEVELDB = Path("Default") / "Local Storage" / "leveldb"
# Folders whose children are sessions even when empty (LocalAuth empties one on logout).
SESSION_PARENTS = frozenset({".wwebjs_auth", "tokens", "userDataDir"})
PROFILE_MARKERS = frozenset({"Local State", "Default", LOCK})


def _is_chromium(pid: int) -> bool:
    import psutil  # only for a lock naming a pid of this host

    try:
        process = psutil.Process(pid)
        names = (process.name(), os.path.basename(process.exe() or ""))
    except (psutil.Error, OSError):
        return False
    return any("chrom" in name.lower() for name in names)


def _pid_alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(pid)


class ChromiumProfile(StoreAdapter):
    format = "chromium"
    hidden_dirs = (".wwebjs_auth",)

    def claims_dir(self, path: Path, listing: Listing) -> bool:
        return any(name in PROFILE_MARKERS for name in listing.every_name()) or (
            listing.empty and path.parent.name in SESSION_PARENTS)

    def read_dir(self, path: Path, listing: Listing, deep: bool) -> Session | None:
        session = Session(id=path.name, path=path, format=self.format)
        if listing.empty:
            session.state = SessionState.LOGGED_OUT
            session.observe("logged-out", "the profile folder is empty (whatsapp-web.js LocalAuth empties it "
                                          "when the phone logs the device out)")
            return session
        session.files, session.size, session.last_activity = tree_footprint(path)
        _read_identity(session, path)
        _check_lock(session, path)
        return session



def _read_identity(session: Session, path: Path) -> None:
    """WhatsApp Web keeps the logged-in device under localStorage `last-wid-md`, as a JSON
    string such as "15550000001:12@c.us"; where that cannot be read for certain, the state is
    unknown, never unpaired (a logged-in profile must not look abandoned)."""
    found = find_local_storage(path / LEVELDB, "last-wid-md")
    if found.unknown is not None:
        session.state = SessionState.UNKNOWN
        session.observe("state-unknown", f"whether a device is logged in cannot be read: {found.unknown}",
                        Reason(found.unknown))
        return
    wid = found.value
    jid = parse_jid(wid.strip('"')) if wid else None
    if jid is None or jid.device is None:
        session.state = SessionState.UNPAIRED
        session.identity = Identity()
        session.observe("unpaired", "no logged-in WhatsApp Web device in this profile (waiting for a QR scan, "
                                    "or logged out)")
        return
    session.state = SessionState.PAIRED
    session.identity = Identity(jid=f"{jid.user}:{jid.device}@s.whatsapp.net", phone=jid.user, device=jid.device)


def _check_lock(session: Session, path: Path) -> None:
    live = lock_owner(path / LEVELDB / "LOCK", 0, 0)
    try:
        target = os.readlink(path / LOCK)
    except FileNotFoundError:
        target = None
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            session.observe("path-unreadable", f"{LOCK}: {describe_os_error(exc)}")
            return
        kind = "a folder" if stat.S_ISDIR(os.lstat(path / LOCK).st_mode) else "a regular file"
        session.observe("profile-lock-corrupt", f"{LOCK} is {kind}, not a link: every Chromium start fails")
        return
    if live is not None:
        session.observe("profile-lock-live", f"held by a live browser (pid {live}: a POSIX lock on the LevelDB)",
                        ProfileLock(lock=target, pid=live))
        return
    if target is None:
        return
    host, _, pid_text = target.rpartition("-")
    if not host or not pid_text.isdigit():
        session.observe("profile-lock-corrupt", f"{LOCK} points to {target!r}, not <hostname>-<pid>",
                        ProfileLock(lock=target))
        return
    pid = int(pid_text)
    here = os.uname().nodename  # what gethostname() returns, without loading the socket module
    evidence = ProfileLock(host=host, pid=pid, this_host=here)
    if host != here:
        session.observe("profile-lock-foreign",
                        f"locked by pid {pid} on host {host!r}: Chromium here will refuse this profile (exit 21)",
                        evidence)
    elif _pid_alive(pid) and _is_chromium(pid):
        session.observe("profile-lock-live", f"held by Chromium pid {pid}", evidence)
    else:
        why = "is gone" if not _pid_alive(pid) else "is not a Chromium"
        session.observe("profile-lock-stale", f"left by pid {pid}, which {why}", evidence)
