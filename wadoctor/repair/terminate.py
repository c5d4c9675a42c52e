"""Stopping processes safely: only the ones chosen, re-verified right before each signal.

This is the only code that signals. Before it does, the session's holders are found again
from a fresh look at the process table, by the same rules `check` used: a victim that no
longer holds the session, is no longer the process it was (pid and start time), or is no
longer a member of the duplicate it was chosen from, is not signalled.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import psutil

from wadoctor.core.model import Holder, Session
from wadoctor.guard import START_TOLERANCE
from wadoctor.holders.duplicates import duplicate
from wadoctor.holders.index import HolderIndex


class NotAllowed(Exception):
    """A process wadoctor refuses to signal."""


def recheck(session: Session, victims: Sequence[Holder], in_duplicate: bool) -> None:
    """Raise NotAllowed unless every victim still holds the session, as the same process,
    with its evidence found again now (and, for a duplicate, still inside one)."""
    index = HolderIndex.build([session.path])
    fresh = {h.pid: h for h in index.holders(session)}
    for victim in victims:
        role = index.role(victim.pid)
        if role is not None:  # a guard lock held by `npm start` is proof, but npm is never signalled
            raise NotAllowed(f"pid {victim.pid} is {role.name}, a process {role.kind}: not signalled")
        now = fresh.get(victim.pid)
        if now is None or now.started is None or victim.started is None or \
                abs(now.started - victim.started) > START_TOLERANCE:
            raise NotAllowed(f"pid {victim.pid} no longer holds {session.id} as it did: not signalled")
        if now.restarted_by is not None and victim.restarted_by is None:
            raise NotAllowed(f"pid {victim.pid} is now run by {now.restarted_by.label}: not signalled")
    if in_duplicate:
        found = duplicate(list(fresh.values()))
        members = {h.pid for h in found.holders} if found else set()
        if not all(v.pid in members for v in victims) or len(members) < 2:
            raise NotAllowed(f"{session.id} is no longer held twice: nothing signalled")


def _check_allowed(holder: Holder, force: bool) -> psutil.Process:
    if holder.pid in (1, os.getpid(), os.getppid()):
        raise NotAllowed(f"pid {holder.pid} is init, wadoctor or its parent")
    process = psutil.Process(holder.pid)
    if holder.started is not None and abs(process.create_time() - holder.started) > START_TOLERANCE:
        raise NotAllowed(f"pid {holder.pid} now belongs to another process")
    me = psutil.Process().username()
    if process.username() != me and not (os.geteuid() == 0 and force):
        raise NotAllowed(f"pid {holder.pid} belongs to {process.username()} (needs root and --force)")
    return process


def _gone(process: psutil.Process, seconds: float) -> bool:
    """Wait for a process to end; a zombie (ended, not yet reaped by its parent) counts."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def terminate(holder: Holder, force: bool, grace: float = 10.0) -> str:
    """SIGTERM, wait `grace` seconds, then SIGKILL; psutil re-checks the pid's identity
    before each signal, so a pid reused in the meantime is never hit."""
    try:
        process = _check_allowed(holder, force)
        process.terminate()
        if _gone(process, grace):
            return f"stopped pid {holder.pid} ({holder.name}) with SIGTERM"
        process.kill()
        if _gone(process, grace):
            return f"killed pid {holder.pid} ({holder.name}): it ignored SIGTERM for {grace:g}s"
        raise NotAllowed(f"pid {holder.pid} is still alive after SIGKILL (stuck in the kernel?)")
    except psutil.NoSuchProcess:
        return f"pid {holder.pid} had already exited"
    except psutil.AccessDenied:
        raise NotAllowed(f"pid {holder.pid}: permission denied") from None
