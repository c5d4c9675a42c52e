"""The circuit breaker every gateway team writes into its gateway, kept outside it: N stream
conflicts of one session within a window open its circuit; an action on it then waits out a
cooldown that doubles on each repeat, so a loop is acted on once, not once per conflict."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    CLOSED = "closed"  # fewer conflicts than the threshold within the window
    OPEN = "open"  # act now
    HELD = "held"  # open, but a cooldown holds the next action back (said once per cooldown)
    QUIET = "quiet"  # held, and already said so


@dataclass
class _Circuit:
    conflicts: deque[float] = field(default_factory=deque)
    quiet_until: float = 0.0  # no action before this
    repeats: int = 0  # actions taken; each doubles the next cooldown
    told: bool = False  # HELD was said since the last action


class Breaker:
    def __init__(self, conflicts: int, window: float, cooldown: float) -> None:
        self.threshold, self.window, self.cooldown = conflicts, window, cooldown
        self.circuits: dict[str, _Circuit] = {}

    def record(self, session: str, at: float) -> tuple[Verdict, int]:
        """Count a conflict: the verdict, and the conflicts within the window."""
        circuit = self.circuits.setdefault(session, _Circuit())
        window = circuit.conflicts
        window.append(at)
        while window and window[0] <= at - self.window:
            window.popleft()
        if len(window) < self.threshold:
            return Verdict.CLOSED, len(window)
        if at >= circuit.quiet_until:
            return Verdict.OPEN, len(window)
        verdict = Verdict.QUIET if circuit.told else Verdict.HELD
        circuit.told = True
        return verdict, len(window)

    def acted(self, session: str, at: float) -> float:
        """An action was taken on `session` at `at`: the time before which no other is."""
        circuit = self.circuits.setdefault(session, _Circuit())
        circuit.quiet_until = at + self.cooldown * (2 ** circuit.repeats)
        circuit.repeats += 1
        circuit.told = False
        return circuit.quiet_until

    def until(self, session: str) -> float:
        return self.circuits[session].quiet_until if session in self.circuits else 0.0
