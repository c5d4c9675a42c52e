"""Streamed reports: each database session judged and written as it is read, then let go.

A database of a million instances would cost gigabytes as sessions in memory. Given a `Sink`
(the app's steps for one session, and the `Writer` of the output: a JSON record, -q's lines,
or the session itself for outputs that read sessions back), each session a database streams is
judged and written right away, a `Batch` at a time, on every core when the source allows
(stores.base.SourceRead.forkable). The report keeps each written record in a spool, its
counts, and what duplicate identities are judged on (Member, also spooled; in memory only a
hash of each key). Once all are in, the sessions that share a key are the only ones read
back, and their records amended.
"""

from __future__ import annotations

import operator
import pickle
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, count
from typing import TYPE_CHECKING, Any, NamedTuple

from wadoctor.core.findings import Finding, placed
from wadoctor.core.model import Holder, Session, identity_label
from wadoctor.pipeline.discovery import Problem

if TYPE_CHECKING:
    from typing import Protocol

    from wadoctor.util.spool import Spool

    class Writer(Protocol):
        """How a report's renderer writes one judged session, and adds a finding to one written."""

        def encode(self, session: Session) -> bytes: ...

        def amend(self, record: bytes, finding: Finding) -> bytes: ...


class Member(NamedTuple):
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
        return cls._make(cls.fields(session))

    @staticmethod
    def fields(session: Session) -> tuple[Any, ...]:
        """A session's Member as the plain tuple a Batch pickles, without making the Member."""
        device = noise = None
        if session.identity is not None:
            device, noise = session.identity.device_key, session.identity.noise_fingerprint
        return (device, noise, identity_label(device, noise), session.location, tuple(session.holders),
                tuple(session.held_by))


class Batch:
    """Sessions judged and written, a chunk of them at a time: what crosses back from a worker,
    as a few strings and arrays (one pickle of a few objects per chunk, not per session)."""

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.members: list[bytes] = []  # each a pickled Member's fields
        self.device = array("q")  # hashes of each session's identity keys (0: none)
        self.noise = array("q")
        self.states: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()
        self.crashed = False
        self.problems: list[Problem] = []
        self.backups_failed = 0
        self.last = ""  # the last session's name, for the progress shown
        self.kept: list[Session] = []  # those the sink keeps whole as well (Sink.keep)
        self.unpickled: tuple[bytes, array[int], bytes, array[int]] | None = None

    def add(self, session: Session, record: bytes, problem: Problem | None, backup_failed: bool) -> None:
        member = Member.fields(session)
        device, noise = member[0], member[1]
        self.records.append(record)
        self.members.append(pickle.dumps(member, pickle.HIGHEST_PROTOCOL))
        self.device.append(hash(device) if device else 0)
        self.noise.append(hash(noise) if noise else 0)
        self.states[session.state.value] += 1
        for finding in session.findings:
            self.severities[finding.severity.value] += 1
            self.crashed = self.crashed or finding.code == "check-crashed"
        if problem is not None:
            self.problems.append(problem)
        self.backups_failed += backup_failed
        self.last = session.id

    def joined(self) -> tuple[bytes, array[int], bytes, array[int]]:
        """(records end to end, their sizes, members end to end, their sizes)."""
        if self.unpickled is not None:
            return self.unpickled
        return (b"".join(self.records), array("I", map(len, self.records)), b"".join(self.members),
                array("I", map(len, self.members)))

    def __getstate__(self) -> tuple[Any, ...]:
        return (*self.joined(), self.device, self.noise, self.states, self.severities,
                self.crashed, self.problems, self.backups_failed, self.last, self.kept)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        """Unpickled, a batch keeps its records and members end to end, as they are spooled."""
        self.records, self.members = [], []
        self.unpickled = state[:4]
        rest = state[4:]
        (self.device, self.noise, self.states, self.severities, self.crashed, self.problems,
         self.backups_failed, self.last, self.kept) = rest


class SessionWriter:
    """Sessions written as themselves (pickled, without the creds and source a renderer never
    shows), for outputs that read sessions back one at a time (the table, `--nagios`, the
    metrics file)."""

    def encode(self, session: Session) -> bytes:
        kept = session.store, session.creds_raw
        session.store = session.creds_raw = None
        try:
            return pickle.dumps(session, pickle.HIGHEST_PROTOCOL)
        finally:
            session.store, session.creds_raw = kept

    def decode(self, record: bytes) -> Session:
        session: Session = pickle.loads(record)
        return session

    def amend(self, record: bytes, finding: Finding) -> bytes:
        session = self.decode(record)
        session.findings = placed(session.findings, finding, lambda f: f.severity.value)
        return self.encode(session)


# How a run judges and writes one session: (its record, a problem of the run, whether its
# backup failed).
Seal = Callable[[Session], tuple[bytes, Problem | None, bool]]


@dataclass(frozen=True)
class Sink:
    """How a run has the sessions databases stream judged and written as they are read;
    those `keep` picks (what fix acts on) are also kept whole, their creds with them."""

    seal: Seal
    writer: Writer
    keep: Callable[[Session], bool] | None = None


class Streamed:
    """The sessions of a report that were written as they came (see the module)."""

    def __init__(self, writer: Writer) -> None:
        from wadoctor.util.spool import Spool  # tempfile and its imports: only for a database read

        self.writer = writer
        self.records: Spool = Spool()
        self.members: Spool = Spool()
        self.device = array("q")
        self.noise = array("q")
        self.states: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()
        self.crashed = False
        self.kept: list[Session] = []  # written, and kept whole too (Sink.keep)

    def __len__(self) -> int:
        return len(self.records)

    def add(self, batch: Batch) -> None:
        records, sizes, members, member_sizes = batch.joined()
        self.records.extend(records, sizes)
        self.members.extend(members, member_sizes)
        self.device.extend(batch.device)
        self.noise.extend(batch.noise)
        self.states.update(batch.states)
        self.severities.update(batch.severities)
        self.crashed = self.crashed or batch.crashed
        self.kept += batch.kept

    def sharing(self, others: Iterable[Member]) -> list[tuple[int, Member]]:
        """(index, member) of each session whose device or noise key is also another's, here
        or among `others` (a hash match: the caller compares the keys themselves)."""
        others = list(others)
        devices = repeated(self.device, [hash(m.device_key) for m in others if m.device_key])
        noises = repeated(self.noise, [hash(m.noise_fingerprint) for m in others if m.noise_fingerprint])
        if not (devices or noises):
            return []
        shared = map(operator.or_, map(devices.__contains__, self.device), map(noises.__contains__, self.noise))
        return [(index, Member(*pickle.loads(self.members[index]))) for index in compress(count(), shared)]

    def amend(self, index: int, finding: Finding) -> None:
        self.records[index] = self.writer.amend(self.records[index], finding)
        self.severities[finding.severity.value] += 1

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.records)

    def sessions(self) -> Iterator[Session]:
        """The sessions themselves, read back one at a time (written by a SessionWriter)."""
        if not isinstance(self.writer, SessionWriter):
            raise TypeError("these sessions were written as records of their output, not as sessions")
        return map(self.writer.decode, self.records)

    def close(self) -> None:
        self.records.close()
        self.members.close()


def repeated(values: Sequence[int], others: Sequence[int] = (), size: int = 65536) -> set[int]:
    """The values found more than once among `values` and `others`, but 0 (no key): a slice at
    a time, by set operations in C. Half the memory of counting them, a fifth of the time of
    sorting them, and a third of the time of a Python loop over a million."""
    seen: set[int] = set()
    found: set[int] = set()
    for start in range(0, len(values), size):
        _note(values[start:start + size], seen, found)
    _note(others, seen, found)
    found.discard(0)
    return found


def _note(values: Sequence[int], seen: set[int], found: set[int]) -> None:
    batch = set(values)
    if len(batch) < len(values):  # a value twice within the slice
        found.update(value for value, times in Counter(values).items() if times > 1)
    found |= batch & seen
    seen |= batch
