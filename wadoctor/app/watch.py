"""`watch`: the doctor's picture kept current from outside the gateway.

One process follows the gateways' logs (each in a thread that only reads and queues), sees
session folders change through the kernel's notifications (watchfiles, the Rust `notify`
crate's inotify), re-judges what changed, and runs a full check every interval for what
notifications miss. Every change is an event. Conflicts feed a per-session circuit breaker;
when a circuit opens, the cause is read from what the last check proved (a second holder
here, a copy of the identity, or nothing on this host) and the policy's action for that cause
is taken: always an event and the notifications; `stop-duplicate` signals only what `fix
--terminate-duplicates keep-oldest` would, under the same proof and manager rules. Each
action is recorded in the history before it runs, so none runs twice across restarts.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wadoctor.app.check import inspect
from wadoctor.app.fix import fix
from wadoctor.config import Config
from wadoctor.core.evidence import Copies
from wadoctor.core.model import Session
from wadoctor.guard import GuardBusy
from wadoctor.logs.analysis import LogAnalysis
from wadoctor.logs.containers import PREFIX, follow_container
from wadoctor.logs.events import CONFLICT, LineParser, may_matter
from wadoctor.logs.journal import PREFIX as JOURNAL
from wadoctor.logs.journal import follow_journal
from wadoctor.logs.run import make_parser
from wadoctor.logs.sources import follow
from wadoctor.pipeline.report import Report
from wadoctor.repair.execute import execute
from wadoctor.repair.lock import RunLock
from wadoctor.repair.plan import ABANDONED, FixOptions, plan_session
from wadoctor.stores.sources import StoreSource
from wadoctor.util.masking import mask_url
from wadoctor.util.times import iso
from wadoctor.watch.breaker import Breaker, Verdict
from wadoctor.watch.gateway_api import ApiFailed, call
from wadoctor.watch.history import History
from wadoctor.watch.notify import post_webhook, run_hook

HOUR = 3600.0
OPEN_SECONDS = 5.0  # how long the first check waits for the logs to be open
Emit = Callable[[dict[str, Any]], None]


def cause_of(session: Session | None) -> str:
    """Why a session's connection is being replaced, from what the last check proved."""
    if session is None:
        return "no-local-cause"
    codes = {f.code: f for f in session.findings}
    if "duplicate-holder" in codes:
        return "duplicate-here"
    copies = codes.get("duplicate-identity")
    if copies is not None and isinstance(copies.evidence, Copies):
        return "other-host" if copies.evidence.hosts else "copy-here"
    return "no-local-cause"


@dataclass
class _Snapshot:
    state: str
    findings: frozenset[str]
    holders: frozenset[int]


class Watch:
    def __init__(self, paths: Sequence[Path], config: Config, history: History, emit: Emit,
                 sources: Sequence[StoreSource] = (), dry_run: bool = False,
                 on_check: Callable[[Report], None] | None = None, registry: str | None = None) -> None:
        self.paths, self.config, self.history, self.sources = list(paths), config, history, sources
        self.policy = config.watch
        self.dry_run = dry_run
        self._emit = emit
        self.on_check = on_check  # each whole check, for metrics kept current
        self.registry = registry  # with one, each whole check reads and publishes the fleet
        self.breaker = Breaker(self.policy.conflicts, self.policy.window_seconds, self.policy.cooldown_seconds)
        self.known: dict[str, _Snapshot] = {}
        self.by_name: dict[str, Session] = {}
        self.report: Report | None = None
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.failed: set[str] = set()  # log sources that could not be read

    def emit(self, event: str, **fields: Any) -> None:
        now = time.time()
        body = {"time": iso(now), "event": event, **fields}
        self.history.event(now, body)
        self._emit(body)

    # -- the picture ------------------------------------------------------------------

    def check(self) -> Report:
        """A whole check (compared with the fleet, with a registry), and an event for every
        session that changed since the last."""
        fleet = None
        if self.registry:
            from wadoctor.fleet.link import FleetLink

            fleet = FleetLink(self.registry, self.config.registry_stale_minutes)
        report = inspect(self.paths, self.config, "check", sources=self.sources, fleet=fleet)
        for session in report.sessions:
            self._see(session)
        for location in set(self.known) - {s.location for s in report.sessions}:
            del self.known[location]
            self.emit("session-gone", path=location)
        if self.policy.purge_abandoned:
            self._purge(report)
        return self._checked(report)

    def _purge(self, report: Report) -> None:
        """The seeds' cleanup loop, as an explicit policy: each session that crossed the
        abandoned line (and that no process holds) goes to the quarantine through fix's
        purge, once; `wadoctor restore` undoes it."""
        for session in report.sessions:
            if not {f.code for f in session.findings} & ABANDONED or session.holders or session.source:
                continue
            key = f"purge:{session.location}:{session.creds_mtime or session.last_activity}"
            if not self.history.claim(key, session.id, time.time(), "purge", "abandoned"):
                continue
            if self.dry_run:
                result = "would quarantine it"
            else:
                done = fix([session.path], self.config, FixOptions(purge_abandoned=True))
                result = "; ".join(f"{a.status}: {a.result}" for a in done.actions
                                   if a.kind == "quarantine-session") or "nothing to purge"
            self.history.done(key, result)
            self.emit("purged", session=session.id, path=session.location, result=result)

    def recheck(self, changed: set[str]) -> Report:
        """Re-judge only the sessions whose files changed. A whole check instead where that
        could change another session's verdict or where the change is not one session's own:
        an identity the changed session shares (or shared) with another, a session appearing
        or going, a path no known session owns."""
        report = self.report
        found = [self._owner(path) for path in changed]
        owners = {owner for owner in found if owner is not None}
        if report is None or len(owners) < len(set(found)):
            return self.check()
        old = [s for s in report.sessions if s.location in owners]
        new = inspect([Path(o) for o in sorted(owners)], self.config, "check").sessions
        others = {key for s in report.sessions if s.location not in owners for key in _identity_keys(s)}
        mine = {key for s in old + new for key in _identity_keys(s)}
        if sorted(s.location for s in new) != sorted(s.location for s in old) or mine & others:
            return self.check()
        for session in new:
            self._see(session)
        report.sessions = [s for s in report.sessions if s.location not in owners] + new
        return self._checked(report)

    def _see(self, session: Session) -> None:
        """Take in a session's verdict; an event when it differs from the last one."""
        now = _Snapshot(session.state.value, frozenset(f.code for f in session.findings),
                        frozenset(h.pid for h in session.holders))
        before = self.known.get(session.location)
        self.known[session.location] = now
        for name in (session.id, session.gateway.details.get("logged_as") if session.gateway else None):
            if name:
                self.by_name[name] = session
        if before == now:
            return
        self.emit("session", session=session.id, path=session.location, state=now.state,
                  findings=sorted(now.findings), new=sorted(now.findings - (before.findings if before else set())),
                  gone=sorted((before.findings if before else set()) - now.findings),
                  holders=sorted(now.holders), severity=max((f.severity.value for f in session.findings),
                                                            key=_rank, default="ok"))

    def _checked(self, report: Report) -> Report:
        self.report = report
        if self.on_check is not None:
            self.on_check(report)
        return report

    def _owner(self, path: str) -> str | None:
        """The known session a changed path belongs to: its folder or store file."""
        for location in self.known:
            if path == location or path.startswith(location.rstrip("/") + "/"):
                return location
        return None

    # -- conflicts and the breaker -------------------------------------------------------

    def remember(self, now: float) -> None:
        """Put the last hour's actions and the window's conflicts from the history back into
        the breaker: a restart neither forgets a loop nor acts on it again before its time."""
        self.history.prune(now)
        for session, at in self.history.conflicts_since(now - self.policy.window_seconds):
            self.breaker.record(session, at)  # acted on (or not) before the restart
        for session, at in self.history.actions_since(now - HOUR):
            self.breaker.acted(session, at)

    def conflict(self, session: str, at: float) -> None:
        self.history.conflict(session, at)
        verdict, count = self.breaker.record(session, at)
        if verdict is Verdict.OPEN:
            self.trip(session, count, at)
        elif verdict is Verdict.HELD:
            self.emit("circuit-held", session=session, conflicts=count,
                      until=iso(self.breaker.until(session)), reason="an action was taken; its cooldown runs")

    def trip(self, name: str, count: int, at: float) -> None:
        session = self.by_name.get(name)
        cause = cause_of(session)
        policy = self.policy
        action = {"duplicate-here": policy.on_duplicate, "copy-here": policy.on_copy, "other-host": policy.on_copy,
                  "no-local-cause": policy.on_unknown}[cause]
        key = f"{name}:{action}:{at:.3f}"
        self.breaker.acted(name, at)
        body: dict[str, Any] = {"session": name, "conflicts": count, "window_seconds": self.policy.window_seconds,
                                "cause": cause, "action": action, "dry_run": self.dry_run,
                                "path": session.location if session else None}
        if not self.history.claim(key, name, at, action, cause):
            return  # recorded already: this conflict was acted on before
        self.emit("circuit-open", **body)
        result = self._act(action, session, name) if not self.dry_run else f"would {action}"
        self.history.done(key, result)
        notified = self._notify({**body, "event": "action", "result": result})
        self.emit("action", **body, result=result, notified=notified)

    def _act(self, action: str, session: Session | None, name: str) -> str:
        if action == "pause-session":
            return self._pause(name)
        if action != "stop-duplicate" or session is None or session.source is not None:
            return "notified"
        return self._stop_duplicate(session)

    def _stop_duplicate(self, session: Session) -> str:
        """What `fix --terminate-duplicates keep-oldest` would do to this session's duplicate
        holders, and nothing else a fix would (this action is not a repair): the same plan,
        proof, manager rules and re-check just before the signal, under the run lock."""
        now = inspect([session.path], self.config, "fix")
        actions = [a for s in now.sessions for a in plan_session(s, FixOptions(terminate="keep-oldest"), self.config)
                   if "duplicate-holder" in a.codes]
        if not actions:
            return "no duplicate left to stop"
        try:
            with RunLock([session.path], 0):
                execute([a for a in actions if a.kind == "terminate"], force=False)
        except GuardBusy as exc:
            return f"not stopped: {exc}"
        return "; ".join(f"{a.status}: {a.result}" for a in actions)

    def _pause(self, name: str) -> str:
        """Stop the session through its gateway's API; it is resumed when the cooldown ends."""
        policy = self.policy
        if policy.gateway_api == "none" or not policy.api_url:
            return "not paused: no [watch] gateway_api and api_url; notified only"
        try:
            said = call(policy.gateway_api, policy.api_url.rstrip("/"), policy.api_key_env, name, "pause")
        except ApiFailed as exc:
            return f"pause failed: {exc}"
        self.history.resume_at(name, self.breaker.until(name))
        return f"{said}; resumed at {iso(self.breaker.until(name))}"

    def resume_due(self, now: float) -> None:
        """Resume each paused session whose cooldown has ended (also after a restart)."""
        for name in self.history.due(now):
            self.history.resumed(name)
            try:
                said = call(self.policy.gateway_api, (self.policy.api_url or "").rstrip("/"), self.policy.api_key_env,
                            name, "resume")
            except (ApiFailed, KeyError) as exc:
                said = f"resume failed: {exc}"
            self.emit("resumed", session=name, result=said)

    def _notify(self, body: dict[str, Any]) -> list[str]:
        said = []
        if self.policy.hook:
            said.append(run_hook(self.policy.hook, body))
        if self.policy.webhook:
            said.append(f"{post_webhook(self.policy.webhook, body)} ({mask_url(self.policy.webhook)})")
        return said

    # -- the loop ----------------------------------------------------------------------

    def run(self, logs: Sequence[str], stop: threading.Event, once: bool = False) -> Report:
        """Check, then (unless `once`) follow logs and folders until `stop` is set."""
        self.remember(time.time())
        if once:
            return self.check()
        parser = make_parser(self.config, None)
        ready = []
        for name in logs:  # open first: a conflict written during the first check is not missed
            ready.append(threading.Event())
            threading.Thread(target=self._read_log, args=(name, parser, stop, ready[-1]), daemon=True).start()
        folders = [p for p in self.paths if p.is_dir()]
        if folders:
            threading.Thread(target=self._watch_folders, args=(folders, stop), daemon=True).start()
        for opened in ready:
            opened.wait(OPEN_SECONDS)
        report = self.check()
        self.emit("watching", paths=[str(p) for p in self.paths], logs=list(logs),
                  unopened=[name for name, opened in zip(logs, ready) if not opened.is_set() or name in self.failed],
                  interval_seconds=self.policy.interval_seconds)
        next_check = time.monotonic() + self.policy.interval_seconds
        while not stop.is_set():
            try:
                kind, value = self.inbox.get(timeout=max(0.0, min(1.0, next_check - time.monotonic())))
            except queue.Empty:
                kind, value = "tick", None
            self.resume_due(time.time())
            if kind == "conflict":
                self.conflict(*value)
            elif kind == "source-failed":
                self.emit("source-failed", source=value[0], reason=value[1])
            elif kind == "changed":
                self.recheck(value)
            if time.monotonic() >= next_check:
                report = self.check()
                next_check = time.monotonic() + self.policy.interval_seconds
        return self.report or report

    def _read_log(self, name: str, parser: LineParser, stop: threading.Event, opened: threading.Event) -> None:
        """A thread: the log's counted conflicts (echoes of one conflict merged, as `logs`
        counts them) go to the inbox; everything else stays in this thread. A source that
        fails (a file gone, an engine that refuses) is said, and the others go on."""
        analysis = LogAnalysis(self.config.log_thresholds)
        try:
            if name.startswith(PREFIX):
                lines = follow_container(name.removeprefix(PREFIX), stop.is_set, opened.set)
            elif name.startswith(JOURNAL):
                lines = follow_journal(name.removeprefix(JOURNAL), stop, opened.set)
            else:
                lines = follow(name, stop.is_set, from_end=True, opened=opened.set)
            for line in lines:
                analysis.lines += 1  # echoes without a time are told apart by lines, as `logs` does
                if not may_matter(line):
                    continue
                for event in parser.parse(line):
                    counted = analysis.events
                    analysis.add(event)
                    if event.kind == CONFLICT and event.session and analysis.events > counted:
                        self.inbox.put(("conflict", (event.session, time.time())))
        except Exception as exc:  # noqa: BLE001 - one source failing never stops the others
            self.failed.add(name)
            self.inbox.put(("source-failed", (name, f"{type(exc).__name__}: {exc}")))
        finally:
            opened.set()  # a source that failed does not hold the first check back

    def _watch_folders(self, folders: list[Path], stop: threading.Event) -> None:
        """A thread: the paths that changed under the roots, as the kernel reports them
        (changes within 200 ms come as one batch)."""
        from watchfiles import watch

        for changes in watch(*folders, stop_event=stop, debounce=200, step=50, rust_timeout=1000,
                             yield_on_timeout=False, raise_interrupt=False):
            self.inbox.put(("changed", {path for _, path in changes}))


def _identity_keys(session: Session) -> set[str]:
    identity = session.identity
    return {k for k in (identity.device_key, identity.noise_fingerprint) if k} if identity else set()


def _rank(severity: str) -> int:
    return {"info": 0, "warning": 1, "critical": 2}.get(severity, -1)
