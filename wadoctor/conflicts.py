"""Conflicts: every way two holders can meet on one WhatsApp identity.

Per session: two independent live processes holding it (duplicate-holder), and guard locks
whose holder is provably gone (lock-stale) or cannot be proven either way (lock-unproven).
Across sessions: two stores carrying one device identity (duplicate-identity), critical when
both are held, since that is the stream:error conflict loop itself.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from wadoctor.holders.index import HolderIndex
from wadoctor.findings import Severity
from wadoctor.model import Session


def attach_holders(session: Session, index: HolderIndex) -> None:
    """Fill `session.holders` and observe what the holders and guard locks show."""
    session.holders = index.holders(session)
    independent = index.independent(session.holders)
    if len(independent) >= 2:
        named = ", ".join(f"{h.name} {h.pid}" for h in independent)
        session.observe("duplicate-holder", f"{len(independent)} live processes hold this session: {named}",
                        pids=[h.pid for h in independent])
    own = index.guard_state(session.path)
    if own is None or own.holder is not None or own.record is None:
        return
    if own.stale:
        session.observe("lock-stale", f"guard lock left by a holder that is gone: {own.stale}",
                        lock=str(own.path), pid=own.record.pid, host=own.record.host)
    elif own.record.host != socket.gethostname():
        session.observe("lock-unproven", f"guard lock recorded by pid {own.record.pid} on host "
                                         f"{own.record.host!r}; its holder cannot be checked from here",
                        lock=str(own.path), pid=own.record.pid, host=own.record.host)


def _device_key(session: Session) -> str | None:
    identity = session.identity
    if identity is None or identity.phone is None or identity.device is None:
        return None
    return f"{identity.phone}:{identity.device}"


def find_duplicate_identities(sessions: Sequence[Session]) -> None:
    """Observe duplicate-identity on every session that shares a device JID or a noise key
    with another. Same phone on other device slots is normal multi-device and not reported."""
    groups: list[list[Session]] = []
    for key in (_device_key, lambda s: s.identity.noise_fingerprint if s.identity else None):
        by_key: dict[str, list[Session]] = {}
        for session in sessions:
            value = key(session)
            if value:
                by_key.setdefault(value, []).append(session)
        for group in by_key.values():
            if len(group) >= 2 and not any(set(map(id, group)) <= set(map(id, g)) for g in groups):
                groups.append(group)
    for group in groups:
        held = [s for s in group if s.holders]
        for session in group:
            others = [s for s in group if s is not session]
            what = _device_key(session) or f"noise key {session.identity.noise_fingerprint}"  # type: ignore[union-attr]
            state = "both held: they are kicking each other off" if len(held) >= 2 else (
                "it will conflict as soon as both run")
            session.observe(
                "duplicate-identity",
                f"device {what} is also in {', '.join(str(s.path) for s in others)}; {state}",
                severity=Severity.CRITICAL if len(held) >= 2 else None,
                others=[str(s.path) for s in others], held=len(held),
            )
