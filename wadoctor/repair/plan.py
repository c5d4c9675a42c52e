"""Findings -> planned actions. Nothing here touches a file: `fix --dry-run` prints this plan.

Repair comes first, purging last, and a session a live process holds is left alone (with the
reason said) unless --force: the one action allowed on a held session is stopping the
duplicate holders it was asked to stop. Only members of a duplicate are ever planned to be
signalled, and never one that a manager would start again (PM2, a systemd unit, a container
with a restart policy): its own stop command is named instead, unless --signal-managed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wadoctor.config import Config
from wadoctor.core.evidence import GuardLock, Holders
from wadoctor.core.model import Holder, Session
from wadoctor.repair.backups import Backup, database_state_root, newest_backup
from wadoctor.repair.quarantine import whole
from wadoctor.stores.baileys import damaged_files

BROKEN_CREDS = {"creds-empty", "creds-corrupt", "creds-invalid", "creds-reset"}
ABANDONED = {"pairing-abandoned", "logged-out"}
SINGLETONS = ("SingletonLock", "SingletonCookie", "SingletonSocket")
KEY_FOLDERS = ("baileys", "evolution")  # formats whose folder holds Baileys' key files
FIX_ALWAYS = {"leftover-temp", "lock-stale"}  # info findings that fix still clears


@dataclass
class FixOptions:
    force: bool = False
    deep: bool = False
    foreign_locks: bool = False
    purge_abandoned: bool = False
    purge_unrecoverable: bool = False
    terminate: str | None = None  # keep-oldest | keep-newest
    signal_managed: bool = False  # signal a holder even where its manager would restart it
    backups: bool = True  # keep creds backups while scanning, as check does


@dataclass
class Action:
    """One step of a plan; `kind` says what execute() does with it."""

    session: Session
    kind: str  # quarantine, restore-creds, salvage-store, quarantine-session, terminate, skip
    codes: list[str]
    detail: str
    paths: list[tuple[Path, str]] = field(default_factory=list)
    backup: Backup | None = None
    state_root: Path | None = None  # restore-stored-creds: where the replaced value is quarantined
    victims: list[Holder] = field(default_factory=list)
    status: str = "planned"  # planned, done, skipped, failed
    result: str = ""
    quarantine_id: str | None = None


def _holder_names(holders: list[Holder]) -> str:
    return ", ".join(h.label for h in holders)


def _victims(session: Session, keep: str) -> list[Holder]:
    """The members of the session's duplicate but the one kept: nothing outside it."""
    pids = next(f.evidence.pids for f in session.findings
                if f.code == "duplicate-holder" and isinstance(f.evidence, Holders))
    ordered = sorted((h for h in session.holders if h.pid in pids), key=lambda h: (h.started or 0.0, h.pid))
    kept = ordered[0] if keep == "keep-oldest" else ordered[-1]
    return [h for h in ordered if h is not kept]


def _stops(session: Session, victims: list[Holder], codes: list[str], why: str, signal_managed: bool) -> list[Action]:
    """A terminate action for the victims no manager would restart; a skip naming the
    manager's own command for each one that would come back (or may: unknown counts)."""
    actions: list[Action] = []
    managed = [] if signal_managed else [v for v in victims if v.restarted_by is not None]
    for victim in managed:
        manager = victim.restarted_by
        assert manager is not None
        command = manager.scale if manager.scale and all(v.restarted_by == manager for v in victims) else manager.stop
        restarts = "would start it again" if manager.restarts else "may start it again"
        actions.append(Action(session, "skip", codes, f"stop {victim.label} ({why})", status="skipped",
                              victims=[victim], result=f"run by {manager.label}, which {restarts}: run "
                              f"`{command}` (or --signal-managed)"))
    chosen = [v for v in victims if v not in managed]
    if chosen:
        actions.insert(0, Action(session, "terminate", codes, f"stop {_holder_names(chosen)} ({why})",
                                 victims=chosen))
    return actions


def _singletons(session: Session) -> list[tuple[Path, str]]:
    return [(session.path / name, "stale Chromium profile lock") for name in SINGLETONS
            if (session.path / name).is_symlink() or (session.path / name).exists()]


def plan_session(session: Session, options: FixOptions, config: Config) -> list[Action]:
    codes = {f.code for f in session.findings}
    actions: list[Action] = []
    if "duplicate-holder" in codes and options.terminate:
        actions += _stops(session, _victims(session, options.terminate), ["duplicate-holder"], options.terminate,
                          options.signal_managed)
    repairs = _repairs(session, codes, options, config)
    if "state-unknown" in codes:  # nothing is changed on what could not be read for certain
        for action in repairs:
            action.kind, action.status = "skip", "skipped"
            action.result = "its state is unknown (state-unknown): wadoctor changes nothing it could not read"
    elif session.held_by and not options.force and repairs:
        held_by = ", ".join(session.held_by)
        for action in repairs:
            action.kind, action.status = "skip", "skipped"
            action.result = f"held by {held_by}: stop it first, or use --force"
    return actions + repairs


def fixable_codes(session: Session, config: Config) -> set[str]:
    """The codes of the findings a plain `wadoctor fix` would repair right now (a plan made
    and thrown away: nothing is changed)."""
    if not session.findings or all(f.severity.rank == 0 and f.code not in FIX_ALWAYS for f in session.findings):
        return set()
    return {code for a in plan_session(session, FixOptions(), config) if a.status == "planned" for code in a.codes}


def plan_clean(sessions: list[Session], everything: list[Session], force: bool, stop_holders: bool,
               signal_managed: bool = False) -> list[Action]:
    """Quarantine whole sessions. A whatsmeow store holds several devices in one file: it is
    taken only when every device in it was asked for."""
    chosen = {id(s) for s in sessions}
    actions: list[Action] = []
    for session in sessions:
        siblings = [s for s in everything if s.path == session.path]
        if any(id(s) not in chosen for s in siblings):
            others = ", ".join(s.id for s in siblings if id(s) not in chosen)
            actions.append(Action(session, "skip", [], "quarantine the session", status="skipped",
                                  result=f"its store also holds {others}: name them too to take the file"))
            continue
        if session.path in {a.session.path for a in actions if a.kind == "quarantine-session"}:
            continue
        stops = _stops(session, list(session.holders), [], "--stop-holders", signal_managed) if (
            session.holders and stop_holders) else []
        actions += stops
        action = Action(session, "quarantine-session", [], "quarantine the whole session",
                        paths=whole(session.path, "wadoctor clean"))
        if session.holders and not (force or stop_holders):
            action.kind, action.status = "skip", "skipped"
            action.result = f"held by {_holder_names(session.holders)}: --stop-holders or --force"
        elif any(a.kind == "skip" for a in stops) and not force:
            action.kind, action.status = "skip", "skipped"
            action.result = "a holder's manager would start it again: stop it with the command named, or --force"
        actions.append(action)
    return actions


def _stored_creds_actions(session: Session, codes: set[str], config: Config) -> list[Action]:
    """Creds kept in a database: put back the newest verified backup, compare-and-set. Nothing
    else of a database session is changed by fix."""
    broken = sorted(codes & BROKEN_CREDS)
    if not broken:
        return []
    if session.store is None:
        return [Action(session, "skip", broken, "restore the creds", status="skipped",
                       result="kept where wadoctor does not write them (Evolution's cache): restore by hand")]
    root = database_state_root(config.source)
    backup = newest_backup(session, root)
    if backup is None:
        return [Action(session, "skip", broken, "no verified creds backup", status="skipped",
                       result="unrecoverable: pair the device again")]
    return [Action(session, "restore-stored-creds", broken, f"restore the creds of {backup.jid} in "
                   f"{session.creds_source} from {backup.path.name}", backup=backup, state_root=root)]


def _repairs(session: Session, codes: set[str], options: FixOptions, config: Config) -> list[Action]:
    if session.creds_source is not None and session.source is not None:
        return _stored_creds_actions(session, codes, config)  # no folder: only the creds can be repaired
    if session.creds_source is not None:
        return _stored_creds_actions(session, codes, config) + _folder_repairs(
            session, codes - BROKEN_CREDS - ABANDONED, options, config)  # the key files only
    return _folder_repairs(session, codes, options, config)


def _folder_repairs(session: Session, codes: set[str], options: FixOptions, config: Config) -> list[Action]:
    purge_abandoned = options.purge_abandoned or config.fix_purge_abandoned
    if codes & ABANDONED and purge_abandoned:
        what = sorted(codes & ABANDONED)
        return [Action(session, "quarantine-session", what, f"quarantine the {session.state.value} session",
                       paths=whole(session.path, what[0]))]
    actions: list[Action] = []
    if codes & BROKEN_CREDS or ("creds-missing" in codes and session.format == "baileys"):
        actions += _creds_actions(session, codes, options)
    if session.format in KEY_FOLDERS and codes & {"key-file-corrupt", "leftover-temp"}:
        damaged, leftovers = damaged_files(session.path, options.deep)
        if damaged and "key-file-corrupt" in codes:
            actions.append(Action(session, "quarantine", ["key-file-corrupt"],
                                  f"quarantine {len(damaged)} damaged key file(s); Baileys renegotiates them",
                                  paths=damaged))
        if leftovers and "leftover-temp" in codes:
            actions.append(Action(session, "quarantine", ["leftover-temp"],
                                  f"quarantine {len(leftovers)} leftover file(s)",
                                  paths=[(p, "leftover temp/backup file") for p in leftovers]))
    foreign = options.foreign_locks or config.fix_foreign_locks
    lock_codes = codes & {"profile-lock-stale", "profile-lock-corrupt"} | (
        {"profile-lock-foreign"} if foreign and "profile-lock-foreign" in codes else set())
    if lock_codes and _singletons(session):
        actions.append(Action(session, "quarantine", sorted(lock_codes), "remove the stale Chromium profile lock",
                              paths=_singletons(session)))
    elif "profile-lock-foreign" in codes:
        actions.append(Action(session, "skip", ["profile-lock-foreign"], "keep the other host's profile lock",
                              status="skipped", result="written by another host: use --foreign-locks (or [fix] "
                              "foreign_locks = true) once no browser on any host uses this profile"))
    if "lock-stale" in codes:
        lock = next(f.evidence.lock for f in session.findings
                    if f.code == "lock-stale" and isinstance(f.evidence, GuardLock))
        actions.append(Action(session, "quarantine", ["lock-stale"], "remove the stale guard lock file",
                              paths=[(Path(lock), "guard lock whose holder is gone")]))
    if session.format == "wwebjs-remote-backup" and codes & {"remote-backup-leftover", "store-corrupt"}:
        what = sorted(codes & {"remote-backup-leftover", "store-corrupt"})
        actions.append(Action(session, "quarantine", what, "quarantine the leftover RemoteAuth backup",
                              paths=[(session.path, what[0])]))
    if "store-corrupt" in codes and session.format == "whatsmeow":
        actions.append(Action(session, "salvage-store", ["store-corrupt"],
                              "salvage what SQLite can read into a new store; keep the original in quarantine"))
    return actions


def _creds_actions(session: Session, codes: set[str], options: FixOptions) -> list[Action]:
    broken = sorted(codes & BROKEN_CREDS) or ["creds-missing"]
    if session.format != "baileys":
        return []
    backup = newest_backup(session)
    if backup is not None:
        return [Action(session, "restore-creds", broken, f"restore creds.json of {backup.jid} from "
                       f"{backup.path.name}", backup=backup)]
    if "creds-missing" in broken:
        return []  # keys-only folders are normal where creds live in a database
    if options.purge_unrecoverable:
        return [Action(session, "quarantine-session", broken, "quarantine the unrecoverable session",
                       paths=whole(session.path, "creds lost and no backup"))]
    return [Action(session, "skip", broken, "no verified creds backup", status="skipped",
                   result="unrecoverable: pair the device again (--purge-unrecoverable quarantines it)")]
