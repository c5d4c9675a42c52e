"""What a command works on when the command line names paths, URLs or nothing at all."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wadoctor.config import Config
from wadoctor.stores.sources import StoreSource, is_url, parse_source


def default_paths(config: Config) -> list[Path]:
    """Where to look when the command line names nothing: the config's roots, else here."""
    return list(config.roots) or ([] if config.stores else [Path.cwd()])


def targets(args: Sequence[str] | None, config: Config) -> tuple[list[Path], list[StoreSource]]:
    """Paths and database sources named on the command line; when none is, the config's roots
    and [[stores]]."""
    if not args:
        return default_paths(config), list(config.stores)
    return [Path(a) for a in args if not is_url(a)], [parse_source(a) for a in args if is_url(a)]
