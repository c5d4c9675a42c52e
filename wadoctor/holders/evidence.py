"""What each kind of holder evidence proves: the one table diagnosis and repair read.

Proof is what the kernel or the process tree shows: a lock held, a descriptor open, a
browser's own profile, the process that launched that browser. Inference is what a name or a
place suggests: a working folder above the session, the session named in an argument or an
environment value. Only proof, or two instances of one program, may make a duplicate critical
or justify a signal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    prefix: str  # every evidence string of this kind starts with it (docs/contracts.md)
    proof: bool


GUARD = Kind("guard lock held", True)
OPEN_FILE = Kind("open descriptor on", True)
KERNEL_LOCK = Kind("kernel lock on", True)
USER_DATA_DIR = Kind("--user-data-dir on its command line", True)
LAUNCHED = Kind("launched the browser that holds the profile", True)
NAMED = Kind("session named on its command line or in its environment", False)
CWD = Kind("working folder is the application folder", False)
KINDS = (GUARD, OPEN_FILE, KERNEL_LOCK, USER_DATA_DIR, LAUNCHED, NAMED, CWD)  # strongest first


def kind_of(evidence: str) -> Kind:
    return next(kind for kind in KINDS if evidence.startswith(kind.prefix))


def rank(evidence: str) -> int:
    return KINDS.index(kind_of(evidence))


def proves(evidence: list[str]) -> bool:
    return any(kind_of(e).proof for e in evidence)
