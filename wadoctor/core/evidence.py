"""What each finding code carries as evidence: one frozen record per shape, and the table of
which shape each code has. `findings[].evidence` in the JSON is the record's fields (those
that are set); docs/contracts.md names them per code, and tests/test_evidence.py holds the
table and the document to each other."""

from __future__ import annotations

from typing import Any, ClassVar, dataclass_transform


@dataclass_transform(frozen_default=True)
class Evidence:
    """A shape: its annotated fields in order, frozen, those given a value in the class body
    optional. Not a dataclass: dataclasses generates and compiles six methods for each of the
    twenty shapes, 8 ms of every run's start, where these four serve them all."""

    field_names: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.field_names = tuple(cls.__dict__.get("__annotations__", {}))
        cls._defaults = {name: cls.__dict__[name] for name in cls.field_names if name in cls.__dict__}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kind = type(self).__name__
        if len(args) > len(self.field_names):
            raise TypeError(f"{kind} takes {len(self.field_names)} values, not {len(args)}")
        values = dict(zip(self.field_names, args))
        for name, value in kwargs.items():
            if name not in self.field_names or name in values:
                raise TypeError(f"{kind}: unexpected or repeated {name!r}")
            values[name] = value
        for name in self.field_names:
            if name not in values and name not in self._defaults:
                raise TypeError(f"{kind} needs {name!r}")
            object.__setattr__(self, name, values.get(name, self._defaults.get(name)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.field_names)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()

    __hash__ = None  # type: ignore[assignment]  # some carry dicts: never a key

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.field_names)})"

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, as the JSON document writes them."""
        return {name: list(value) if isinstance(value, tuple) else value
                for name, value in zip(self.field_names, self._values()) if value is not None}

    def but(self, **changes: Any) -> Evidence:
        return type(self)(**{**dict(zip(self.field_names, self._values())), **changes})


class KeyFiles(Evidence):
    """How many key files lie beside creds that are missing, empty or reset."""

    key_files: int


class Damage(Evidence):
    """The size of what could not be parsed, and the key files beside it where they matter."""

    bytes: int | None = None
    key_files: int | None = None
    quick_check: tuple[str, ...] | None = None  # what SQLite's quick_check said


class LockedBy(Evidence):
    pid: int | None = None


class Problems(Evidence):
    problems: tuple[str, ...]


class DamagedFiles(Evidence):
    """A count and the first few names (of files, or of keys inside one legacy file)."""

    count: int
    files: tuple[str, ...] | None = None
    keys: tuple[str, ...] | None = None


class Holders(Evidence):
    """The processes, oldest first; `basis` says why a duplicate is one (`proven`, `same program`)."""

    pids: tuple[int, ...]
    basis: str | None = None


class GuardLock(Evidence):
    lock: str
    pid: int
    host: str


class ProfileLock(Evidence):
    """A Chromium SingletonLock (or LevelDB lock) and whom it names; `container_host` and
    `host_pid` when the hostname is a live container's."""

    lock: str | None = None
    pid: int | None = None
    host: str | None = None
    this_host: str | None = None
    container_host: str | None = None
    host_pid: int | None = None


class Copies(Evidence):
    """Where else one identity is: here (`copies`, `held` separate process trees) or on other
    hosts of the fleet (`hosts`, `guards` holding it live)."""

    others: tuple[str, ...]
    copies: int | None = None
    held: int | None = None
    hosts: tuple[str, ...] | None = None
    guards: tuple[dict[str, Any], ...] | None = None


class Reason(Evidence):
    reason: str


class Side(Evidence):
    """Which side of an Evolution instance is missing: `row`, `instance` or `keys`."""

    side: str


class File(Evidence):
    file: str


class Crash(Evidence):
    traceback: tuple[str, ...]
    check: str | None = None


class Age(Evidence):
    minutes: float
    threshold_minutes: float


class Bloat(Evidence):
    files: int
    threshold: int
    by_type: dict[str, int]


class LogConflicts(Evidence):
    conflicts: int
    worst_hourly: int


class Storms(Evidence):
    storms: int
    worst_burst: int


class Count(Evidence):
    count: int


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
