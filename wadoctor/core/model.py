"""The session model every store adapter fills in and every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from wadoctor.core.evidence import Evidence
from wadoctor.core.findings import Finding, Observation, Severity

SAMPLE_SIZE = 20  # names kept per kind of problem file; counts stay exact, memory stays flat


class SessionState(str, Enum):
    PAIRED = "paired"
    UNPAIRED = "unpaired"  # waiting for a QR scan
    HALF_PAIRED = "half-paired"  # pairing code requested, never completed
    RESET = "reset"  # new unpaired creds over an earlier identity's keys
    KEYS_ONLY = "keys-only"  # key files, creds kept elsewhere (or lost)
    BROKEN = "broken"  # creds empty, corrupt or invalid
    LOGGED_OUT = "logged-out"  # the phone removed the device and the gateway emptied the session
    UNKNOWN = "unknown"


def identity_label(device_key: str | None, noise_fingerprint: str | None) -> str | None:
    """What names an identity in messages, locks and the registry: its device, else its
    noise key. The one key two places are compared on, on one host or across the fleet."""
    if device_key:
        return f"device {device_key}"
    if noise_fingerprint:
        return f"noise key {noise_fingerprint}"
    return None


@dataclass
class Identity:
    """Who a session is to WhatsApp; two live sessions with one identity conflict."""

    jid: str | None = None
    phone: str | None = None
    device: int | None = None
    lid: str | None = None
    name: str | None = None
    platform: str | None = None
    business_name: str | None = None
    paired_at: float | None = None
    noise_fingerprint: str | None = None

    @property
    def device_key(self) -> str | None:
        """`phone:device`: one linked device, whatever the store format or host."""
        if self.phone is None or self.device is None:
            return None
        return f"{self.phone}:{self.device}"

    @property
    def label(self) -> str | None:
        return identity_label(self.device_key, self.noise_fingerprint)

    @staticmethod
    def fingerprint(public_key: bytes) -> str:
        """A short, non-secret name for a public key, safe to print and to share."""
        import hashlib  # not at import: a log scan never needs it

        return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass
class Sample:
    """A count with the first few names, so a million bad files cost a few bytes."""

    count: int = 0
    names: list[str] = field(default_factory=list)

    def add(self, name: str) -> None:
        self.count += 1
        if len(self.names) < SAMPLE_SIZE:
            self.names.append(name)


@dataclass(frozen=True)
class Container:
    """The container a holder runs in, as its runtime names it (what the host shows of it)."""

    id: str  # the 12-digit short id, as `docker ps` shows it
    name: str | None = None
    image: str | None = None
    runtime: str | None = None  # docker, podman, containerd, kubernetes
    restarts: bool | None = None  # its restart policy brings it back when its process dies (None: unknown)


@dataclass(frozen=True)
class Manager:
    """What runs a holder and would bring it back: PM2, nodemon, a systemd unit, a container."""

    kind: str  # pm2, nodemon, npm, systemd, container, ...
    label: str  # `pm2 (app gw, id 0)`, `systemd unit evolution.service`, `container evolution-api-1`
    stop: str  # the manager's own command that stops it for good
    restarts: bool | None  # restarts what it runs when that dies (None: cannot tell)
    scale: str | None = None  # for a cluster of one app: the command that leaves one instance


@dataclass
class Holder:
    """A live process that holds a session, and how we know: `proof` when some evidence proves
    it (a lock, a descriptor, a browser's profile or the process tree), else only inferred."""

    pid: int
    name: str
    user: str | None
    started: float | None
    cmdline: str  # secrets masked
    container: Container | None = None
    evidence: list[str] = field(default_factory=list)
    proof: bool = False
    managers: list[Manager] = field(default_factory=list)  # nearest first
    # What it runs, for telling two instances of one program apart from two programs; and
    # its ancestors, for telling one process tree from two. Neither is shown.
    program: tuple[str, ...] | None = field(default=None, repr=False)
    ancestors: tuple[int, ...] = field(default=(), repr=False)

    @property
    def restarted_by(self) -> Manager | None:
        """The manager that would bring it back if it were stopped (or may: unknown counts)."""
        return next((m for m in reversed(self.managers) if m.restarts is not False), None)

    @property
    def label(self) -> str:
        """How messages name it: `container evolution-api-1 (pid 4121)`, else `node 4121`."""
        if self.container is not None:
            return f"container {self.container.name or self.container.id} (pid {self.pid})"
        return f"{self.name} {self.pid}"


@dataclass
class GatewayRef:
    """The gateway a session belongs to, as the gateway's layout table places it."""

    name: str
    engine: str | None = None  # the gateway's engine for this store (WAHA: NOWEB, GOWS, WEBJS)
    app: Path | None = None  # the application folder, where one was recognised
    details: dict[str, Any] = field(default_factory=dict)  # what the gateway keeps beside the store


@dataclass
class Connection:
    """What a gateway itself records of a session's connection (Evolution's `connectionStatus`):
    a database session has no process to find, so this is what says it is live."""

    status: str  # open, connecting, close
    since: float | None  # when the gateway last changed the record
    reported_by: str  # e.g. "Evolution API"

    @property
    def live(self) -> bool:
        return self.status in ("open", "connecting")

    @property
    def label(self) -> str:
        return f"{self.reported_by} (connectionStatus {self.status})"


@dataclass
class Session:
    id: str
    path: Path
    format: str
    state: SessionState = SessionState.UNKNOWN
    identity: Identity | None = None
    files: int = 0
    size: int = 0  # bytes on disk (JSON: "bytes")
    last_activity: float | None = None
    creds_mtime: float | None = None
    key_types: dict[str, int] = field(default_factory=dict)
    holders: list[Holder] = field(default_factory=list)
    logs: dict[str, Any] | None = None  # figures from `check --logs`, joined on the session id
    gateway: GatewayRef | None = None
    source: str | None = None  # where a session without a folder is: a database's masked URL and key
    creds_source: str | None = None  # where creds kept in a database are (masked), folder or not
    connection: Connection | None = None
    # A database session's creds as read (None: none there), kept to back them up and to check
    # that a repair replaces what was read. Secret: never rendered.
    creds_raw: bytes | None = field(default=None, repr=False)
    # The database source it was read from; its URL carries credentials: never rendered.
    store: Any = field(default=None, repr=False)
    store_key: tuple[str, ...] | None = None  # where in that source its creds are (the adapter's own key)
    observations: list[Observation] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def location(self) -> str:
        """Where the session is, as shown: its database place, else its path."""
        return self.source or str(self.path)

    @property
    def held_by(self) -> list[str]:
        """Who keeps this session live: processes seen here, and a gateway's own live record."""
        live = [self.connection.label] if self.connection is not None and self.connection.live else []
        return [h.label for h in self.holders] + live

    def observe(self, code: str, message: str, evidence: Evidence | None = None,
                severity: Severity | None = None) -> None:
        self.observations.append(Observation(code, message, evidence, severity))
