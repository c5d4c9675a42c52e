"""When holders of one session are a duplicate: the rule both `check` and the signaller apply.

Two process trees holding one session are a duplicate only when each is proven to hold it,
or when they are two instances of one program (same executable and script, in the same
working folder or from the same container image): the old gateway still alive after a
deploy, `npm start` run twice, a PM2 cluster of a Baileys app, two replicas on one volume.
Different programs that only share a working folder (tenants, a supervisor, a log viewer)
are possible holders, never a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wadoctor.core.model import Holder


@dataclass(frozen=True)
class Duplicate:
    holders: list[Holder]  # independent holders in conflict, oldest first
    basis: str  # "proven" or "same program"


def independent(holders: Sequence[Holder]) -> list[Holder]:
    """Holders none of whose ancestors also hold the session: `npm start` and the node it
    spawned, or a client and the browser it launched, are one holder; two such trees conflict."""
    pids = {h.pid for h in holders}
    return [h for h in holders if not pids.intersection(h.ancestors)]


def duplicate(holders: Sequence[Holder]) -> Duplicate | None:
    """The duplicate among a session's holders, if the rule above finds one. A tree is proven
    when any of its holders is, and runs every program its holders run: a gateway started
    under `wadoctor guard` is the guard's child, and still the same program as the old one."""
    trees = independent(holders)
    members = {tree.pid: [h for h in holders if h is tree or tree.pid in h.ancestors] for tree in trees}
    proven = [tree for tree in trees if any(h.proof for h in members[tree.pid])]
    by_program: dict[tuple[str, ...], list[Holder]] = {}
    for tree in trees:
        for program in {h.program for h in members[tree.pid] if h.program is not None}:
            by_program.setdefault(program, []).append(tree)
    twins = [h for group in by_program.values() if len(group) >= 2 for h in group]
    found = {h.pid: h for h in (proven if len(proven) >= 2 else []) + twins}
    if len(found) < 2:
        return None
    basis = "same program" if twins and len(proven) < 2 else "proven"
    return Duplicate(sorted(found.values(), key=lambda h: (h.started or 0.0, h.pid)), basis)


def distinct_trees(holders: Sequence[Holder]) -> int:
    """How many separate process trees hold these (one process with two stores open is one)."""
    roots: list[Holder] = []
    for holder in holders:
        if not any(_related(holder, root) for root in roots):
            roots.append(holder)
    return len(roots)


def _related(a: Holder, b: Holder) -> bool:
    return a.pid == b.pid or a.pid in b.ancestors or b.pid in a.ancestors
