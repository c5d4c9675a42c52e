"""Streamed reports: each database session judged and written as it is read, then let go.

A database of a million instances would cost gigabytes as sessions in memory. When a run
says how its report will be written (`Seal`), each session a database streams is judged and
written right away, on every core when the source allows (stores.base.SourceRead.forkable);
the report keeps its written record in a spool, its counts, and what duplicate identities
are judged on (Member, also spooled; in memory only a hash of each key). Once all
are in, the sessions that share a key are the only ones read back, and their records amended.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wadoctor.core.findings import Finding
from wadoctor.core.model import Holder, Session
from wadoctor.pipeline.discovery import Problem

if TYPE_CHECKING:
    from wadoctor.util.spool import Spool


@dataclass(frozen=True)
class Member:
    """What duplicate identities are judged on (pipeline.conflicts), of one session: all a
    streamed report keeps of a session once it is written."""

    device_key: str | None
    noise_fingerprint: str | None
    label: str | None
    location: str
    holders: tuple[Holder, ...]
    held_by: tuple[str, ...]

    @classmethod
    def of(cls, session: Session) -> Member:
        identity = session.identity
        return cls(identity.device_key if identity else None, identity.noise_fingerprint if identity else None,
                   identity.label if identity else None, session.location, tuple(session.holders),
                   tuple(session.held_by))


@dataclass(slots=True)
class Sealed:
    """One session, judged and written: what crosses back from a worker."""

    id: str
    record: bytes
    member: bytes  # a pickled conflicts.Member
    device: int  # hashes of its identity keys (0: none)
    noise: int
    state: str
    severities: tuple[str, ...]
    crashed: bool
    problem: Problem | None = None
    backup_failed: bool = False

    @classmethod
    def of(cls, session: Session, record: bytes, problem: Problem | None = None,
           backup_failed: bool = False) -> Sealed:
        import pickle

        member = Member.of(session)
        return cls(session.id, record, pickle.dumps(member, pickle.HIGHEST_PROTOCOL),
                   hash(member.device_key) if member.device_key else 0,
                   hash(member.noise_fingerprint) if member.noise_fingerprint else 0,
                   session.state.value, tuple(f.severity.value for f in session.findings),
                   any(f.code == "check-crashed" for f in session.findings), problem, backup_failed)


# How a run judges and writes a session, and adds a finding to a session so written.
Seal = Callable[[Session], Sealed]
Amend = Callable[[bytes, Finding], bytes]


@dataclass(frozen=True)
class Sink:
    """How a run has the sessions databases stream written as they are read."""

    seal: Seal
    amend: Amend


class Streamed:
    """The sessions of a report that were written as they came (see the module)."""

    def __init__(self, amend: Amend) -> None:
        from wadoctor.util.spool import Spool  # tempfile and its imports: only for a database read

        self.amend_record = amend
        self.records: Spool = Spool()
        self.members: Spool = Spool()
        self.device = array("q")
        self.noise = array("q")
        self.states: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()
        self.crashed = False

    def __len__(self) -> int:
        return len(self.records)

    def add(self, sealed: Sealed) -> None:
        self.records.append(sealed.record)
        self.members.append(sealed.member)
        self.device.append(sealed.device)
        self.noise.append(sealed.noise)
        self.states[sealed.state] += 1
        self.severities.update(sealed.severities)
        self.crashed = self.crashed or sealed.crashed

    def sharing(self, others: Iterable[Member]) -> list[tuple[int, Member]]:
        """(index, member) of each session whose device or noise key is also another's, here
        or among `others` (a hash match: the caller compares the keys themselves)."""
        import pickle

        others = list(others)
        shared = [_repeated([*self.device, *(hash(m.device_key) for m in others if m.device_key)]),
                  _repeated([*self.noise, *(hash(m.noise_fingerprint) for m in others if m.noise_fingerprint)])]
        return [(index, pickle.loads(self.members[index]))
                for index, keys in enumerate(zip(self.device, self.noise))
                if any(key and key in found for key, found in zip(keys, shared))]

    def amend(self, index: int, finding: Finding) -> None:
        self.records[index] = self.amend_record(self.records[index], finding)
        self.severities[finding.severity.value] += 1

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.records)

    def close(self) -> None:
        self.records.close()
        self.members.close()


def _repeated(values: list[int]) -> set[int]:
    """The values found more than once (0, no key, aside)."""
    ordered = sorted(values)
    return {a for a, b in zip(ordered, ordered[1:]) if a == b and a}
