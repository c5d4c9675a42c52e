"""What each finding code carries as evidence: one frozen dataclass per shape, and the table
of which shape each code has. `findings[].evidence` in the JSON is the dataclass's fields
(those that are set); docs/contracts.md names them per code, and tests/test_evidence.py holds
the table and the document to each other."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Evidence:
    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, as the JSON document writes them."""
        found = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: list(value) if isinstance(value, tuple) else value for name, value in found
                if value is not None}

    def but(self, **changes: Any) -> Evidence:
        return replace(self, **changes)


@dataclass(frozen=True)
class KeyFiles(Evidence):
    """How many key files lie beside creds that are missing, empty or reset."""

    key_files: int


@dataclass(frozen=True)
class Damage(Evidence):
    """The size of what could not be parsed, and the key files beside it where they matter."""

    bytes: int | None = None
    key_files: int | None = None
    quick_check: tuple[str, ...] | None = None  # what SQLite's quick_check said


@dataclass(frozen=True)
class LockedBy(Evidence):
    pid: int | None = None


@dataclass(frozen=True)
class Problems(Evidence):
    problems: tuple[str, ...]


@dataclass(frozen=True)
class DamagedFiles(Evidence):
    """A count and the first few names (of files, or of keys inside one legacy file)."""

    count: int
    files: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Holders(Evidence):
    """The processes, oldest first; `basis` says why a duplicate is one (`proven`, `same program`)."""

    pids: tuple[int, ...]
    basis: str | None = None


@dataclass(frozen=True)
class GuardLock(Evidence):
    lock: str
    pid: int
    host: str


@dataclass(frozen=True)
class ProfileLock(Evidence):
    """A Chromium SingletonLock (or LevelDB lock) and whom it names; `container_host` and
    `host_pid` when the hostname is a live container's."""

    lock: str | None = None
    pid: int | None = None
    host: str | None = None
    this_host: str | None = None
    container_host: str | None = None
    host_pid: int | None = None


@dataclass(frozen=True)
class Copies(Evidence):
    """Where else one identity is: here (`copies`, `held` separate process trees) or on other
    hosts of the fleet (`hosts`, `guards` holding it live)."""

    others: tuple[str, ...]
    copies: int | None = None
    held: int | None = None
    hosts: tuple[str, ...] | None = None
    guards: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class Reason(Evidence):
    reason: str


@dataclass(frozen=True)
class Side(Evidence):
    """Which side of an Evolution instance is missing: `row`, `instance` or `keys`."""

    side: str


@dataclass(frozen=True)
class File(Evidence):
    file: str


@dataclass(frozen=True)
class Crash(Evidence):
    traceback: tuple[str, ...]
    check: str | None = None


@dataclass(frozen=True)
class Age(Evidence):
    minutes: float
    threshold_minutes: float


@dataclass(frozen=True)
class Bloat(Evidence):
    files: int
    threshold: int
    by_type: dict[str, int]


@dataclass(frozen=True)
class LogConflicts(Evidence):
    conflicts: int
    worst_hourly: int


@dataclass(frozen=True)
class Storms(Evidence):
    storms: int
    worst_burst: int


@dataclass(frozen=True)
class Count(Evidence):
    count: int


@dataclass(frozen=True)
class SilentHost(Evidence):
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
