"""Finding codes, their default severities and remedies.

The codes are a public contract, like git fsck's message ids: scripts match on them and the
config may override their severity, so a code is never renamed or reused once shipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import TypeVar

from wadoctor.core.evidence import EVIDENCE, Evidence
from wadoctor.util.records import Record

T = TypeVar("T")


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Code(Record, frozen=True):
    """What a finding code means and what the operator should do about it."""

    code: str
    severity: Severity
    summary: str
    hint: str
    fixable: bool = False


class Finding(Record):
    code: str
    severity: Severity
    message: str
    hint: str
    fixable: bool
    evidence: Evidence | None = None


_CODES = [
    Code("creds-missing", Severity.WARNING,
         "Key files without a creds.json beside them.",
         "If this gateway keeps creds in a database (Evolution API v2 does), this is normal: "
         "set `creds-missing = \"info\"` under [severity] in wadoctor.toml. Otherwise the "
         "identity is lost: stop the gateway and pair the device again."),
    Code("creds-empty", Severity.CRITICAL,
         "creds.json is 0 bytes (a crash or a full disk during a save).",
         "Do not start the gateway: Baileys would make a new identity and overwrite the file. "
         "`wadoctor fix` restores the newest verified backup; without one, pair the device again."),
    Code("creds-corrupt", Severity.CRITICAL,
         "creds.json is not valid JSON (cut short or damaged).",
         "Do not start the gateway: Baileys would make a new identity and overwrite the file. "
         "`wadoctor fix` restores the newest verified backup; without one, pair the device again."),
    Code("creds-invalid", Severity.CRITICAL,
         "creds.json parses but a required field is missing or a key has the wrong length.",
         "`wadoctor fix` restores the newest verified backup; without one, pair the device again."),
    Code("creds-reset", Severity.CRITICAL,
         "Fresh unpaired creds beside the key files of an earlier identity: the old pairing "
         "was overwritten after creds.json was lost.",
         "Stop the gateway; `wadoctor fix` restores the old identity from the newest verified "
         "backup. Without one, `wadoctor clean` the session and pair again."),
    Code("key-file-corrupt", Severity.WARNING,
         "A key file is empty or not what the library wrote (a source of 'Bad MAC' errors).",
         "Stop the gateway and run `wadoctor fix` (`--deep` finds damaged content too): it "
         "quarantines the file, and Baileys renegotiates a missing session or sender key."),
    Code("unpaired", Severity.INFO,
         "Never paired: waiting for a QR scan.",
         "Scan the QR code, or remove the session if nobody will."),
    Code("half-paired", Severity.INFO,
         "A pairing code was requested but the pairing never completed.",
         "Enter the pairing code on the phone, or request a new one."),
    Code("state-unknown", Severity.WARNING,
         "wadoctor cannot establish whether the session is paired (a store table it cannot read, "
         "a format or version it does not know): it says unknown rather than guess, and no remedy "
         "acts on it.",
         "Check the session by hand; the reason is in the message. Report the format if it is a "
         "healthy file wadoctor should read."),
    Code("pairing-abandoned", Severity.WARNING,
         "Unpaired or half-paired for longer than the configured age.",
         "`wadoctor fix --purge-abandoned` quarantines it; or raise [thresholds] "
         "pairing_abandoned_minutes."),
    Code("leftover-temp", Severity.INFO,
         "Temporary or backup files left beside the store (*.tmp, *.bak).",
         "Harmless; `wadoctor fix` quarantines them."),
    Code("bloat", Severity.WARNING,
         "The session holds more files than the configured threshold.",
         "Old sessions and sender keys pile up; large folders slow every start. Re-pairing "
         "starts clean; or raise [thresholds] bloat_files."),
    Code("store-corrupt", Severity.CRITICAL,
         "A store file is damaged: a whatsmeow database that is not SQLite, is cut short or fails "
         "SQLite's quick_check, or a RemoteAuth archive that does not open.",
         "Stop the gateway and run `wadoctor fix`: it salvages what SQLite can read into a new "
         "store and keeps the original in quarantine (a damaged RemoteAuth archive is quarantined: "
         "the next backup writes a new one); lost devices must be paired again."),
    Code("remote-backup-leftover", Severity.WARNING,
         "A whatsapp-web.js RemoteAuth backup (its zip or staging folder) outlived the backup that made it.",
         "A crash or a failing remote store interrupted a backup; the leftover is a full copy of the "
         "profile's keys on disk. Check that the remote store has a recent backup, then `wadoctor fix` "
         "quarantines the leftover."),
    Code("gateway-tokens-corrupt", Severity.WARNING,
         "A wppconnect tokens file (tokens/<session>.data.json) cannot be read as JSON.",
         "wppconnect reads it at start; stop the session, quarantine or remove the file, and start "
         "again (the browser profile beside it still holds the login)."),
    Code("instance-stuck-connecting", Severity.WARNING,
         "Evolution API has reported the instance `connecting` for longer than the threshold.",
         "The gateway keeps retrying a connection that does not open (a reconnect loop, a conflict, or "
         "creds WhatsApp no longer accepts). Look at its log (`wadoctor logs`); restart the instance, or log "
         "it out and pair again. The threshold is [thresholds] connecting_minutes."),
    Code("instance-closed-paired", Severity.WARNING,
         "Evolution API reports the instance `close` while its creds are paired.",
         "The number is linked but not connected, so nothing is received. Connect the instance again "
         "(GET /instance/connect/<name>); if it closes again, look at its log."),
    Code("instance-orphan", Severity.WARNING,
         "One side of an Evolution instance is missing: key files or a Redis hash without an instance in "
         "the database, a Session row without its instance, or a paired instance whose keys are gone.",
         "Keys without an instance are left over from a deleted instance: remove them once you are sure. A "
         "paired instance without its keys cannot decrypt messages: log it out and pair again."),
    Code("store-locked", Severity.WARNING,
         "A whatsmeow store stayed locked beyond the busy timeout.",
         "A long write or a stuck process holds it: see which pid in the message; if it is not "
         "the gateway, stop it."),
    Code("store-schema-unknown", Severity.WARNING,
         "A whatsmeow store has no or an unexpected schema version.",
         "Check the gateway's whatsmeow version; wadoctor read what it could."),
    Code("store-empty", Severity.WARNING,
         "A whatsmeow store holds no device: never paired, or logged out (whatsmeow deletes the "
         "device row on a 401).",
         "Pair the device again, or remove the store if it is no longer used."),
    Code("device-invalid", Severity.CRITICAL,
         "A whatsmeow device row has a missing JID or a key of the wrong length.",
         "The device cannot connect with these keys: remove it and pair again."),
    Code("store-journal-hot", Severity.WARNING,
         "A -journal or -wal beside a store that no process has open: an interrupted write.",
         "Harmless if the gateway starts next (SQLite rolls back or replays it); do not copy the "
         "store without its journal."),
    Code("profile-lock-live", Severity.INFO,
         "A live browser holds this Chromium profile.",
         "Normal while the gateway runs. A second gateway on this profile would fail or conflict."),
    Code("profile-lock-stale", Severity.WARNING,
         "SingletonLock names a process of this host that is gone or is not a Chromium.",
         "Chromium takes such a lock over itself; some launchers do not. `wadoctor fix` "
         "removes it."),
    Code("profile-lock-foreign", Severity.CRITICAL,
         "SingletonLock names another host (a re-created container): Chromium refuses the "
         "profile with exit code 21 until it is removed.",
         "If no browser on any host uses this profile: `wadoctor fix --foreign-locks` (or "
         "[fix] foreign_locks = true)."),
    Code("profile-lock-corrupt", Severity.CRITICAL,
         "SingletonLock is not a link to <hostname>-<pid> (some tools write a regular file): "
         "every Chromium start fails.",
         "`wadoctor fix` removes it while no browser uses the profile."),
    Code("logged-out", Severity.WARNING,
         "The session folder is empty: the phone logged the device out.",
         "Scan a new QR code, or `wadoctor fix --purge-abandoned` if the session is retired."),
    Code("duplicate-holder", Severity.CRITICAL,
         "Two independent live processes hold the same session, each proven to (a lock, an open "
         "descriptor, a browser's profile) or as two instances of one program: the stream:error "
         "conflict (440 connectionReplaced, StreamReplaced) loop.",
         "Stop the stray process (often a gateway left alive by a deploy), or `wadoctor fix "
         "--terminate-duplicates keep-newest`; where a manager runs both, use its own command "
         "(named with the holders); start gateways under `wadoctor guard`."),
    Code("holders-unproven", Severity.INFO,
         "Several processes may hold the session, but only by inference (a working folder, a "
         "name on a command line) and they are different programs: tenants, a supervisor, a "
         "script run in the application folder. Not a duplicate; nothing is signalled.",
         "To prove which process holds the session, start the gateway under `wadoctor guard "
         "SESSION -- COMMAND`."),
    Code("duplicate-identity", Severity.WARNING,
         "Two stores carry the same device identity (device JID or noise key): critical when "
         "both are held, a warning while at most one runs.",
         "A session folder was copied: keep one, remove the other (or pair it again as a new "
         "device) before both run."),
    Code("lock-stale", Severity.INFO,
         "A guard lock file whose recorded holder is provably gone (dead pid, reused pid, or "
         "a reboot since). The lock itself is not held; the file is harmless.",
         "Nothing to do: the next `wadoctor guard` takes it over, and `wadoctor fix` removes it."),
    Code("lock-unproven", Severity.INFO,
         "A guard lock file recorded by another host: wadoctor cannot prove its holder is gone "
         "and never treats it as stale.",
         "If that host no longer runs this session, the record is harmless."),
    Code("log-conflicts", Severity.WARNING,
         "The logs show stream conflicts (440 connectionReplaced, StreamReplaced) at or above "
         "[logs] conflicts_warning_per_hour in some hour: critical at conflicts_critical_per_hour.",
         "Two connections use this identity: find the second holder with `wadoctor check`, and "
         "start gateways under `wadoctor guard`."),
    Code("log-reconnect-storm", Severity.CRITICAL,
         "The logs show a reconnect storm: [logs] storm_reconnects reconnects within storm_seconds.",
         "A reconnect loop burns the session: stop the gateway, run `wadoctor check` and fix "
         "what it finds before restarting."),
    Code("log-logged-out", Severity.WARNING,
         "The logs show the device was logged out (401 loggedOut, device_removed, LOGOUT).",
         "The phone removed the device: pair it again, or retire the session."),
    Code("log-profile-in-use", Severity.CRITICAL,
         "The logs show Chromium refusing the profile as in use by another process (exit 21).",
         "See the profile-lock findings of `wadoctor check`; `wadoctor fix` clears stale locks."),
    Code("log-db-locked", Severity.WARNING,
         "The logs show 'database is locked' from a whatsmeow store.",
         "Two processes share the store, or a long transaction runs: see `wadoctor check`."),
    Code("log-decrypt-failures", Severity.INFO,
         "The logs show decryption failures (Bad MAC, no session found).",
         "A few are normal after a restore; many point to corrupt keys: `wadoctor check --deep`."),
    Code("registry-unreachable", Severity.WARNING,
         "The fleet registry could not be reached or answered with an error: the report shows this "
         "host only (exit 3).",
         "Check the registry URL and that PostgreSQL is up; the local findings still stand."),
    Code("fleet-host-silent", Severity.WARNING,
         "A host of the fleet has not reported to the registry for longer than [registry] "
         "stale_after_minutes: its sessions may be running unchecked, or it is gone.",
         "Run `wadoctor check --registry` from cron on every host."),
    Code("path-unreadable", Severity.WARNING,
         "A file or folder of the session could not be read.",
         "Run wadoctor as the gateway's user or as root."),
    Code("check-crashed", Severity.WARNING,
         "A check raised an unexpected error; the session was not fully checked.",
         "Please report this with the evidence shown by `wadoctor check -v`."),
]

CODES: dict[str, Code] = {c.code: c for c in _CODES}


def placed(findings: list[T], finding: T, severity: Callable[[T], str]) -> list[T]:
    """`findings` (most severe first) with `finding` after those at least as severe: where a
    finding found once every session is in (duplicate-identity) goes, in memory or written."""
    rank = {s.value: s.rank for s in Severity}
    return sorted([*findings, finding], key=lambda f: -rank[severity(f)])


class Observation(Record):
    """A raw fact an adapter saw, named by the finding code it becomes. `severity` is set
    only where a code's severity depends on the case (duplicate-identity held twice)."""

    code: str
    message: str
    evidence: Evidence | None = None
    severity: Severity | None = None

    def __post_init__(self) -> None:
        if self.evidence is not None and type(self.evidence) is not EVIDENCE.get(self.code):
            raise TypeError(f"{self.code} carries {EVIDENCE.get(self.code)}, not {type(self.evidence).__name__}")

    def finding(self, overrides: Mapping[str, Severity | None]) -> Finding | None:
        """The finding this becomes under the config's [severity] (None: its code is ignored)."""
        code = CODES[self.code]
        if code.code in overrides:
            severity = overrides[code.code]
            if severity is None:
                return None
        else:
            severity = self.severity or code.severity
        return Finding(code.code, severity, self.message, code.hint, code.fixable, self.evidence)
