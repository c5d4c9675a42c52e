"""The interface every store format implements, so discovery and checks stay format-blind."""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from wadoctor.core.model import Session
from wadoctor.stores.files import Listing
from wadoctor.stores.sources import StoreSource


class StoreAdapter(ABC):
    """Recognises and reads one store format.

    A directory is listed once by discovery, each entry lstat'ed in the same pass, and the
    listing handed to `read_dir`: a plain check costs one listing and one lstat per file,
    whatever the format.
    """

    format: ClassVar[str]
    # Endings of the store files this format keeps (discovery peeks only at those).
    file_suffixes: ClassVar[tuple[str, ...]] = ()
    # Hidden folders that hold sessions of this format (discovery skips other hidden folders).
    hidden_dirs: ClassVar[tuple[str, ...]] = ()
    # Kinds of database source (`StoreSource.kind`) this adapter reads.
    kinds: ClassVar[tuple[str, ...]] = ()

    def claims_dir(self, path: Path, listing: Listing) -> bool:
        """A cheap look at the names: might this directory be one session of this format?"""
        return False

    def read_dir(self, path: Path, listing: Listing, deep: bool) -> Session | None:
        """Read a directory as one session, or None when it is not this format."""
        return None

    def match_file(self, path: Path, head: bytes) -> bool:
        """Whether a file (of which `head` is the first bytes) is a store of this format."""
        return False

    def read_file(self, path: Path, deep: bool) -> Iterable[Session]:
        """Read a store file; one file may hold several sessions."""
        return ()

    def read_source(self, source: StoreSource, deep: bool) -> SourceRead:
        """Open and read a database source (raises SourceUnavailable)."""
        raise NotImplementedError(f"{self.format} reads no database source")


    def replace_creds(self, session: Session, expected: bytes | None, new: bytes,
                      before_commit: Callable[[], None]) -> None:
        """Write `new` creds (Baileys' JSON) in one transaction that first checks the stored
        creds are still `expected` (raises CredsChanged) and runs `before_commit` last."""
        raise NotImplementedError(f"{self.format} cannot write creds")


class SourceRead:
    """What a database source gave. Some keep their key files in folders (Evolution's
    `instances/<id>/`): the scan also searches `folders`, offers every folder session it finds
    to `claim`, and asks for the source's own sessions once all folders are in: first one
    for each of its `jobs` (the rows it streams), then the rest (`sessions`)."""

    folders: tuple[Path, ...] = ()
    # `session_of` needs nothing but its job (no connection): jobs may be judged in forked workers
    forkable: bool = False

    def __init__(self, sessions: list[Session] | None = None) -> None:
        self._sessions = sessions or []

    def claim(self, session: Session) -> Session | None:
        """The database session a folder session completes, or None when it is not this source's."""
        return None

    def jobs(self) -> Iterable[Any]:
        """The records the source streams, each made into one session by `session_of`."""
        return ()

    def session_of(self, job: Any) -> Session:
        raise NotImplementedError(f"{type(self).__name__} streams no jobs")

    def sessions(self, scanned: list[Session]) -> Iterable[Session]:
        """This source's sessions not returned by `claim`, as they are read; may annotate
        `scanned` folder sessions."""
        return self._sessions

    def close(self) -> None:
        """Release connections the source kept open for `sessions`."""
