"""Turning what the adapters observed into findings, under the config's policy.

Adapters report facts named by code; here each gets its severity (or is dropped by a
severity override), its remedy, and the checks that need a threshold run. A check that
raises becomes a `check-crashed` finding and the others still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from wadoctor.config import Config
from wadoctor.core.evidence import Age, Bloat, Crash
from wadoctor.core.findings import Observation
from wadoctor.core.model import Session, SessionState

# A check says at most one thing of a session: a plain call, not a generator, since a database
# of a million sessions runs each a million times.
PolicyCheck = Callable[[Session, Config, float], Observation | None]


def _pairing_abandoned(session: Session, config: Config, now: float) -> Observation | None:
    if session.state not in (SessionState.UNPAIRED, SessionState.HALF_PAIRED):
        return None
    since = session.creds_mtime or session.last_activity
    if since is None:
        return None
    minutes = (now - since) / 60
    if minutes > config.pairing_abandoned_minutes:
        return Observation(
            "pairing-abandoned",
            f"{session.state.value} for {_age(minutes)} (threshold {config.pairing_abandoned_minutes:g} min)",
            Age(round(minutes, 1), config.pairing_abandoned_minutes),
        )
    return None


def _bloat(session: Session, config: Config, now: float) -> Observation | None:
    if config.bloat_files and session.files > config.bloat_files:
        top = max(session.key_types.items(), key=lambda kv: kv[1], default=None)
        most = f"; most are {top[0]} ({top[1]})" if top else ""
        return Observation(
            "bloat",
            f"{session.files} files (threshold {config.bloat_files}){most}",
            Bloat(session.files, config.bloat_files, dict(session.key_types)),
        )
    return None


def _stuck_connecting(session: Session, config: Config, now: float) -> Observation | None:
    connection = session.connection
    if connection is None or connection.status != "connecting" or connection.since is None:
        return None
    minutes = (now - connection.since) / 60
    if minutes > config.connecting_minutes:
        return Observation(
            "instance-stuck-connecting",
            f"{connection.reported_by} reports connecting for {_age(minutes)} "
            f"(threshold {config.connecting_minutes:g} min)",
            Age(round(minutes, 1), config.connecting_minutes),
        )
    return None


POLICY_CHECKS: tuple[PolicyCheck, ...] = (_pairing_abandoned, _bloat, _stuck_connecting)


def _age(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{minutes / 1440:.0f} days"


def _crash(check: str, exc: Exception) -> Observation:
    import traceback  # only for a crash

    evidence = Crash(tuple(traceback.format_exc(limit=-3).splitlines()), check)
    return Observation("check-crashed", f"check {check} failed: {type(exc).__name__}: {exc}", evidence)


def diagnose(session: Session, config: Config, now: float | None = None,
             checks: tuple[PolicyCheck, ...] = POLICY_CHECKS) -> Session:
    """Fill `session.findings`, most severe first."""
    now = time.time() if now is None else now
    observations = list(session.observations)
    for check in checks:
        try:
            found = check(session, config, now)
        except Exception as exc:  # noqa: BLE001 - a bug in one check must not hide the others
            found = _crash(check.__name__.strip("_"), exc)
        if found is not None:
            observations.append(found)
    if not observations:  # most sessions of a large fleet
        session.findings = []
        return session
    findings = [f for f in (o.finding(config.severity) for o in observations) if f is not None]
    session.findings = sorted(findings, key=lambda f: -f.severity.rank)
    return session
