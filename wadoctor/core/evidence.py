"""What each finding code carries as evidence: one frozen record per shape, and the table of
which shape each code has. `findings[].evidence` in the JSON is the record's fields (those
that are set); docs/contracts.md names them per code, and tests/test_evidence.py holds the
table and the document to each other."""

from __future__ import annotations

from typing import Any

from wadoctor.util.records import Record


class Evidence(Record, frozen=True):
    """A shape: its annotated fields in order, frozen, those given a value in the class body
    optional (a record: util/records.py)."""

    __hash__ = None  # type: ignore[assignment]  # some carry dicts: never a key

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, as the JSON document writes them."""
        found = ((name, getattr(self, name)) for name in self.record_fields)
        return {name: list(value) if isinstance(value, tuple) else value for name, value in found
                if value is not None}

    def but(self, **changes: Any) -> Evidence:
        return type(self)(**{**{name: getattr(self, name) for name in self.record_fields}, **changes})


class KeyFiles(Evidence, frozen=True):
    """How many key files lie beside creds that are missing, empty or reset."""

    key_files: int


class Damage(Evidence, frozen=True):
    """The size of what could not be parsed, and the key files beside it where they matter."""

    bytes: int | None = None
    key_files: int | None = None
    quick_check: tuple[str, ...] | None = None  # what SQLite's quick_check said


class LockedBy(Evidence, frozen=True):
    pid: int | None = None


class Problems(Evidence, frozen=True):
    problems: tuple[str, ...]


class DamagedFiles(Evidence, frozen=True):
    """A count and the first few names (of files, or of keys inside one legacy file)."""

    count: int
    files: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None


class Holders(Evidence, frozen=True):
    """The processes, oldest first; `basis` says why a duplicate is one (`proven`, `same program`)."""

    pids: tuple[int, ...]
    basis: str | None = None


class GuardLock(Evidence, frozen=True):
    lock: str
    pid: int
    host: str


class ProfileLock(Evidence, frozen=True):
    """A Chromium SingletonLock (or LevelDB lock) and whom it names; `container_host` and
    `host_pid` when the hostname is a live container's."""

    lock: str | None = None
    pid: int | None = None
    host: str | None = None
    this_host: str | None = None
    container_host: str | None = None
    host_pid: int | None = None


class Copies(Evidence, frozen=True):
    """Where else one identity is: here (`copies`, `held` separate process trees) or on other
    hosts of the fleet (`hosts`, `guards` holding it live)."""

    others: tuple[str, ...]
    copies: int | None = None
    held: int | None = None
    hosts: tuple[str, ...] | None = None
    guards: tuple[dict[str, Any], ...] | None = None


class Reason(Evidence, frozen=True):
    reason: str


class Side(Evidence, frozen=True):
    """Which side of an Evolution instance is missing: `row`, `instance` or `keys`."""

    side: str


class File(Evidence, frozen=True):
    file: str


class Crash(Evidence, frozen=True):
    traceback: tuple[str, ...]
    check: str | None = None


class Age(Evidence, frozen=True):
    minutes: float
    threshold_minutes: float


class Bloat(Evidence, frozen=True):
    files: int
    threshold: int
    by_type: dict[str, int]


class LogConflicts(Evidence, frozen=True):
    conflicts: int
    worst_hourly: int


class Storms(Evidence, frozen=True):
    storms: int
    worst_burst: int


class Count(Evidence, frozen=True):
    count: int


class SilentHost(Evidence, frozen=True):
    host: str
    minutes: int


# The shape each code's evidence has; a code not here carries none.
EVIDENCE: dict[str, type[Evidence]] = {
    "creds-missing": KeyFiles, "creds-empty": KeyFiles, "creds-reset": KeyFiles,
    "creds-corrupt": Damage, "store-corrupt": Damage, "store-locked": LockedBy,
    "creds-invalid": Problems, "device-invalid": Problems,
    "key-file-corrupt": DamagedFiles, "leftover-temp": DamagedFiles, "path-unreadable": DamagedFiles,
    "duplicate-holder": Holders, "holders-unproven": Holders,
    "lock-stale": GuardLock, "lock-unproven": GuardLock,
    "profile-lock-live": ProfileLock, "profile-lock-stale": ProfileLock, "profile-lock-foreign": ProfileLock,
    "profile-lock-corrupt": ProfileLock,
    "duplicate-identity": Copies,
    "state-unknown": Reason,
    "instance-orphan": Side,
    "gateway-tokens-corrupt": File,
    "check-crashed": Crash,
    "pairing-abandoned": Age, "instance-stuck-connecting": Age,
    "bloat": Bloat,
    "log-conflicts": LogConflicts, "log-reconnect-storm": Storms,
    "log-logged-out": Count, "log-profile-in-use": Count, "log-db-locked": Count, "log-decrypt-failures": Count,
    "fleet-host-silent": SilentHost,
}
