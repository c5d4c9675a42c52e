"""The interface every store format implements, so discovery and checks stay format-blind."""

from __future__ import annotations

import os
from abc import ABC
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from wadoctor.model import Session


class StoreAdapter(ABC):
    """Recognises and reads one store format.

    A directory is listed once by discovery and its entries handed to `read_dir`, so a
    plain check costs one scandir and one lstat per file, whatever the format.
    """

    format: ClassVar[str]
    # Endings of the store files this format keeps (discovery peeks only at those).
    file_suffixes: ClassVar[tuple[str, ...]] = ()
    # Hidden folders that hold sessions of this format (discovery skips other hidden folders).
    hidden_dirs: ClassVar[tuple[str, ...]] = ()

    def claims_dir(self, path: Path, entries: list[os.DirEntry[str]]) -> bool:
        """A cheap look at the names: might this directory be one session of this format?"""
        return False

    def read_dir(self, path: Path, entries: list[os.DirEntry[str]], deep: bool) -> Session | None:
        """Read a directory as one session, or None when it is not this format."""
        return None

    def match_file(self, path: Path, head: bytes) -> bool:
        """Whether a file (of which `head` is the first bytes) is a store of this format."""
        return False

    def read_file(self, path: Path, deep: bool) -> Iterable[Session]:
        """Read a store file; one file may hold several sessions."""
        return ()
