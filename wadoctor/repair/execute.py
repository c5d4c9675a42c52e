"""Carrying out a plan, one action at a time; a failed action leaves everything in place."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from wadoctor.repair.backups import restored_creds
from wadoctor.repair.plan import Action
from wadoctor.repair.quarantine import STATE_DIR, new_run, quarantine, state_root
from wadoctor.repair.safety import file_safe, write_synced
from wadoctor.repair.salvage import salvage
from wadoctor.repair.terminate import NotAllowed, recheck, terminate
from wadoctor.stores.adapters import source_adapter
from wadoctor.stores.baileys import CREDS
from wadoctor.stores.connect import first_line
from wadoctor.util.errors import WadoctorError

JOURNALS = ("-journal", "-wal", "-shm")


def _root(action: Action) -> Path:
    return state_root(action.session.path)


def _same_owner(new: Path, like: Path) -> None:
    """Give a replacement the owner and mode of the file it replaces (or of its folder), so a
    gateway running as another user can still read what root wrote for it."""
    st = like.lstat() if os.path.lexists(like) and not like.is_symlink() else like.parent.stat()
    if os.geteuid() == 0:
        os.chown(new, st.st_uid, st.st_gid)
    os.chmod(new, st.st_mode & 0o666 if like.is_file() else 0o600)


def _restore_creds(action: Action, run: str) -> str:
    assert action.backup is not None
    creds = action.session.path / CREDS
    temp = write_synced(action.session.path / f".{CREDS}.wadoctor-{os.urandom(3).hex()}.tmp",
                        restored_creds(action.backup, action.session.path))
    try:
        _same_owner(temp, creds)
        if os.path.lexists(creds):
            entry = quarantine(_root(action), action.session.id, ",".join(action.codes),
                               [(creds, f"{action.codes[0]}: replaced by {action.backup.path.name}")], run,
                               replacements={creds: temp})
            action.quarantine_id = entry.id
        else:
            os.rename(temp, creds)
    finally:
        if temp.exists():
            temp.unlink()
    return f"creds.json restored from {action.backup.path.name}, pre-key counters brought forward"


def _restore_stored_creds(action: Action, run: str) -> str:
    """Put a backup back into the database, compare-and-set; the value replaced goes to the
    quarantine (beside the config) before the transaction commits."""
    backup, state_root = action.backup, action.state_root
    assert backup is not None and state_root is not None
    session = action.session
    adapter = source_adapter(session.store.kind)
    new = restored_creds(backup, session.path)

    def keep_old() -> None:
        if session.creds_raw is None:
            return
        folder = state_root / STATE_DIR
        folder.mkdir(mode=0o700, exist_ok=True)
        old = write_synced(folder / f".{file_safe(session.id)}-creds-{os.urandom(3).hex()}.json", session.creds_raw)
        entry = quarantine(state_root, session.id, ",".join(action.codes),
                           [(old, f"{action.codes[0]}: the creds {session.creds_source} held, replaced by "
                                  f"{backup.path.name}")], run)
        action.quarantine_id = entry.id

    adapter.replace_creds(session, session.creds_raw, new, keep_old)
    return f"creds restored in {session.creds_source} from {backup.path.name}"


def _salvage_store(action: Action, run: str) -> str:
    db = action.session.path
    target = db.with_name(f".{db.name}.salvage")
    rows = salvage(db, target)
    try:
        _same_owner(target, db)
        paths = [(db, "store-corrupt: replaced by a salvaged copy")] + [
            (db.with_name(db.name + s), "journal of the damaged store") for s in JOURNALS
            if os.path.lexists(db.with_name(db.name + s))]
        entry = quarantine(_root(action), action.session.id, "store-corrupt", paths, run, replacements={db: target})
        action.quarantine_id = entry.id
    finally:
        target.unlink(missing_ok=True)
    return f"salvaged {rows} rows into a new {db.name}"


def execute(actions: Sequence[Action], force: bool, journal: Callable[[Action, bool], None] | None = None) -> None:
    """Run each planned action, recording done/failed on it; never stops at the first failure.
    `journal(action, started)` is told before each action starts and once it has ended, so a
    log names every destructive step before it happens."""
    salvaged: set[Path] = set()
    run = new_run()
    for action in actions:
        if action.status != "planned":
            continue
        if journal is not None:
            journal(action, True)
        _run(action, force, salvaged, run)
        if journal is not None:
            journal(action, False)


def _run(action: Action, force: bool, salvaged: set[Path], run: str) -> None:
    """One action; whatever fails, it fails alone and says why."""
    if action.kind == "restore-stored-creds":
        pass  # a database row: no path of the session is touched
    elif os.path.islink(action.session.path) or os.path.islink(_root(action)):
        action.status = "failed"
        action.result = f"{action.session.path} or its root is a symbolic link: refused"
        return
    try:
        if action.kind == "terminate":
            recheck(action.session, action.victims, in_duplicate="duplicate-holder" in action.codes)
            action.result = "; ".join(terminate(victim, force) for victim in action.victims)
        elif action.kind in ("quarantine", "quarantine-session"):
            entry = quarantine(_root(action), action.session.id, ",".join(action.codes), action.paths, run)
            action.quarantine_id = entry.id
            action.result = f"moved {len(entry.items)} path(s) to quarantine {entry.id}"
        elif action.kind == "restore-creds":
            action.result = _restore_creds(action, run)
        elif action.kind == "restore-stored-creds":
            action.result = _restore_stored_creds(action, run)
        elif action.kind == "salvage-store":
            if action.session.path in salvaged:  # one store, several device sessions
                action.status, action.result = "skipped", "salvaged with another device of this store"
                return
            salvaged.add(action.session.path)
            action.result = _salvage_store(action, run)
        action.status = "done"
    except (WadoctorError, NotAllowed, OSError) as exc:
        action.status = "failed"
        action.result = str(exc) if not isinstance(exc, OSError) else f"{exc.strerror}: {exc.filename}"
    except Exception as exc:  # noqa: BLE001 - a database refusing a write (a read-only role) fails this action only
        action.status = "failed"
        action.result = f"{type(exc).__name__}: {first_line(exc)}"
