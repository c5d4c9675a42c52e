"""whatsapp-web.js RemoteAuth's backups in flight: `RemoteAuth-<id>.zip`, `wwebjs_temp_session_<id>/`.

RemoteAuth keeps the live profile in `<dataPath>/RemoteAuth-<id>` (a Chromium profile, read
by the chromium adapter). Each backup copies the profile's Default folder into
`<dataPath>/wwebjs_temp_session_<id>/`, zips that to `<dataPath>/RemoteAuth-<id>.zip`, hands
the zip to the remote store and deletes both; a start extracts the remote copy to the same
zip. Either lives for seconds. Older, it was left by a crash or by a store that failed: it
holds a full copy of the profile's keys on disk, and a zip cut short is what the next start
would restore from if the store hands it back. Both are reported under the session's name.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

from wadoctor.core.evidence import Damage
from wadoctor.core.model import Session
from wadoctor.stores.base import StoreAdapter
from wadoctor.stores.files import Listing, describe_os_error, tree_footprint

STAGING = "wwebjs_temp_session_"
ARCHIVE = re.compile(r"RemoteAuth(?:-[-\w]+)?\.zip")
# A backup zips a profile of tens of MiB in seconds; five minutes is far beyond any save.
SETTLE_SECONDS = 300.0


def _name(client_id: str) -> str:
    """The session's name as RemoteAuth gives it (an unset clientId stages as `..._undefined`)."""
    return "RemoteAuth" if client_id in ("", "undefined") else f"RemoteAuth-{client_id}"


class RemoteAuthBackup(StoreAdapter):
    format = "wwebjs-remote-backup"
    file_suffixes = (".zip",)

    def claims_dir(self, path: Path, listing: Listing) -> bool:
        return path.name.startswith(STAGING)

    def read_dir(self, path: Path, listing: Listing, deep: bool) -> Session | None:
        session = Session(id=_name(path.name[len(STAGING):]), path=path, format=self.format)
        session.files, session.size, session.last_activity = tree_footprint(path)
        _leftover(session, "staging folder")
        return session

    def match_file(self, path: Path, head: bytes) -> bool:
        return ARCHIVE.fullmatch(path.name) is not None

    def read_file(self, path: Path, deep: bool) -> Iterator[Session]:
        session = Session(id=path.stem, path=path, format=self.format)
        try:
            st = path.stat()
        except OSError as exc:
            session.observe("path-unreadable", f"{path.name}: {describe_os_error(exc)}")
            yield session
            return
        session.files, session.size, session.last_activity = 1, st.st_size, st.st_mtime
        if _settled(session):
            problem = _zip_problem(path, deep)
            if problem:
                session.observe("store-corrupt", f"{path.name} {problem}: a restore from it would fail",
                                Damage(bytes=st.st_size))
        _leftover(session, "archive")
        yield session


def _zip_problem(path: Path, deep: bool) -> str | None:
    """Why the archive cannot be restored: its directory always, every member's CRC with `deep`."""
    import zipfile  # only where RemoteAuth archives are

    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip() if deep else None
    except (zipfile.BadZipFile, EOFError) as exc:
        return f"does not open as a zip ({exc})"
    except OSError as exc:
        return f"cannot be read ({describe_os_error(exc)})"
    return f"has a damaged member {bad!r}" if bad else None


def _settled(session: Session) -> bool:
    return session.last_activity is not None and time.time() - session.last_activity > SETTLE_SECONDS


def _leftover(session: Session, what: str) -> None:
    if _settled(session):
        session.observe("remote-backup-leftover",
                        f"RemoteAuth {what} left since an interrupted backup ({session.files} files, "
                        f"{session.size} bytes of profile data outside the profile)")
