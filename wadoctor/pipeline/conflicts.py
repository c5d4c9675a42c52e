"""Conflicts: every way two holders can meet on one WhatsApp identity.

Per session: two process trees holding it that are each proven, or two instances of one
program (duplicate-holder, holders/duplicates.py); several that are only inferred, which is
said as such (holders-unproven); and guard locks whose holder is provably gone (lock-stale)
or cannot be proven either way (lock-unproven). Across sessions: two stores carrying one
device identity (duplicate-identity), critical when two separate process trees hold them,
since that is the stream:error conflict loop itself.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from wadoctor.core.evidence import Copies, GuardLock, Holders, ProfileLock
from wadoctor.core.findings import Severity
from wadoctor.core.model import SAMPLE_SIZE, Holder, Session
from wadoctor.holders.duplicates import distinct_trees, duplicate, independent
from wadoctor.holders.index import HolderIndex
from wadoctor.holders.namespaces import namespace_pid


def attach_holders(session: Session, index: HolderIndex) -> None:
    """Fill `session.holders` and observe what the holders and guard locks show."""
    session.holders = index.holders(session)
    found = duplicate(session.holders)
    if found is not None:
        named = " and ".join(h.label for h in found.holders)
        why = "each proven to hold it" if found.basis == "proven" else "two instances of one program"
        session.observe("duplicate-holder", f"held {_times(len(found.holders))}: {named} ({why})",
                        Holders(tuple(h.pid for h in found.holders), found.basis))
    else:
        trees = independent(session.holders)
        if len(trees) >= 2:
            session.observe("holders-unproven", f"{len(trees)} processes may hold it, none proven and not one "
                                                f"program twice: {_possible(trees)}",
                            Holders(tuple(h.pid for h in trees)))
    _claim_container_locks(session, index)
    own = index.guard_state(session.path)
    if own is None or own.holder is not None or own.record is None:
        return
    if own.stale:
        session.observe("lock-stale", f"guard lock left by a holder that is gone: {own.stale}",
                        GuardLock(str(own.path), own.record.pid, own.record.host))
    elif own.record.host != socket.gethostname():
        session.observe("lock-unproven", f"guard lock recorded by pid {own.record.pid} on host "
                                         f"{own.record.host!r}; its holder cannot be checked from here",
                        GuardLock(str(own.path), own.record.pid, own.record.host))


def _possible(holders: list[Holder]) -> str:
    return "; ".join(f"{h.label} ({h.evidence[0].partition(' (')[0] if h.evidence else 'no evidence'})"
                     for h in holders[:5]) + (f" and {len(holders) - 5} more" if len(holders) > 5 else "")


def _times(count: int) -> str:
    return {2: "twice", 3: "three times"}.get(count, f"{count} times")


def _claim_container_locks(session: Session, index: HolderIndex) -> None:
    """A Chromium lock naming another hostname is foreign only if no container here has that
    hostname. If one has, the lock is that container's: held while its browser (the lock's pid,
    as the container numbers it) lives, stale once that browser is gone; never foreign, so
    `fix --foreign-locks` cannot take it from a live container."""
    for observation in list(session.observations):
        if observation.code != "profile-lock-foreign":
            continue
        found = observation.evidence
        if not isinstance(found, ProfileLock):
            continue
        host, pid = found.host, found.pid
        members = index.hostname_holders(host) if host else []
        if not members:
            continue
        browser = next((p for p in members if namespace_pid(p) == pid), None)
        session.observations.remove(observation)
        evidence = found.but(container_host=host, host_pid=browser)
        if browser is not None:
            session.observe("profile-lock-live", f"held by Chromium pid {pid} of container host {host!r} "
                                                 f"(pid {browser} here)", evidence)
        else:
            session.observe("profile-lock-stale", f"left by pid {pid} of container host {host!r}, which is "
                                                  "gone (the container still runs)", evidence)


def find_duplicate_identities(sessions: Sequence[Session]) -> None:
    """Observe duplicate-identity on every session that shares a device JID or a noise key
    with another. Same phone on other device slots is normal multi-device and not reported."""
    groups: list[list[Session]] = []
    for field in ("device_key", "noise_fingerprint"):
        by_key: dict[str, list[Session]] = {}
        for session in sessions:
            value = getattr(session.identity, field, None)
            if value:
                by_key.setdefault(value, []).append(session)
        for group in by_key.values():
            if len(group) >= 2 and not any(set(map(id, group)) <= set(map(id, g)) for g in groups):
                groups.append(group)
    for group in groups:
        # separate process trees; a gateway's live record of a session no process here holds
        # (a database session) is one more
        held = distinct_trees([h for s in group for h in s.holders]) + sum(
            1 for s in group if not s.holders and s.held_by)
        labels = [s.held_by[0] for s in group if s.held_by][:3]
        state = (f"held by {' and '.join(labels)}: they are kicking each other off" if held >= 2
                 else "it will conflict once two run")
        for session in group:
            # a thousand copies of one folder must not cost a million strings: name a few
            others = [s.location for s in group[:SAMPLE_SIZE + 1] if s is not session][:SAMPLE_SIZE]
            more = len(group) - 1 - min(3, len(others))
            named = ", ".join(others[:3]) + (f" and {more} more" if more > 0 else "")
            session.observe(
                "duplicate-identity", f"{session.identity.label} is also in {named}; {state}",  # type: ignore[union-attr]
                Copies(tuple(others), copies=len(group), held=held),
                severity=Severity.CRITICAL if held >= 2 else None,
            )
