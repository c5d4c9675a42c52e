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
from collections.abc import Iterator, Sequence

from wadoctor.core.evidence import Copies, GuardLock, Holders, ProfileLock
from wadoctor.core.findings import Observation, Severity
from wadoctor.core.model import SAMPLE_SIZE, Holder, Session
from wadoctor.holders.duplicates import distinct_trees, duplicate, independent
from wadoctor.holders.index import HolderIndex
from wadoctor.holders.namespaces import namespace_pid
from wadoctor.pipeline.stream import Member


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


def find_duplicate_identities(members: Sequence[Member]) -> Iterator[tuple[int, Observation]]:
    """duplicate-identity for every member that shares a device JID or a noise key with
    another, by its position in `members`. Same phone on other device slots is normal
    multi-device and not reported. Observed once sessions are judged (pipeline.scan.judge):
    streamed sessions are written by then, and this is what is added to them."""
    groups: list[list[int]] = []
    grouped: dict[int, int] = {}  # position -> its group by device (those groups never overlap)
    for field in ("device_key", "noise_fingerprint"):
        by_key: dict[str, list[int]] = {}
        for position, member in enumerate(members):
            value = getattr(member, field)
            if value:
                by_key.setdefault(value, []).append(position)
        for group in by_key.values():
            if len(group) < 2:
                continue
            if field == "device_key":
                grouped.update(dict.fromkeys(group, len(groups)))
            elif len({grouped.get(p, -1 - p) for p in group}) == 1:
                continue  # a noise key shared only within one device's group says nothing more
            groups.append(group)
    for group in groups:
        same = [members[p] for p in group]
        # separate process trees; a gateway's live record of a session no process here holds
        # (a database session) is one more
        held = distinct_trees([h for m in same for h in m.holders]) + sum(
            1 for m in same if not m.holders and m.held_by)
        labels = [m.held_by[0] for m in same if m.held_by][:3]
        state = (f"held by {' and '.join(labels)}: they are kicking each other off" if held >= 2
                 else "it will conflict once two run")
        for position, member in zip(group, same):
            # a thousand copies of one folder must not cost a million strings: name a few
            others = [m.location for m in same[:SAMPLE_SIZE + 1] if m is not member][:SAMPLE_SIZE]
            more = len(group) - 1 - min(3, len(others))
            named = ", ".join(others[:3]) + (f" and {more} more" if more > 0 else "")
            yield position, Observation(
                "duplicate-identity", f"{member.label} is also in {named}; {state}",
                Copies(tuple(others), copies=len(group), held=held),
                severity=Severity.CRITICAL if held >= 2 else None,
            )
