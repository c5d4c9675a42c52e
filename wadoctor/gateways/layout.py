"""The shape of a gateway table, and how a session's path is matched against it.

Matching is by the tail of the session's path, so it works the same whether the user named
the application folder, its `.sessions` folder or one session: the gateway's layout, not
the starting point, says what a folder is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePath


@dataclass(frozen=True)
class NamesQuery:
    """A table in the store file itself that names each device: `SELECT name WHERE jid = ?`."""

    table: str
    jid_column: str
    name_column: str


@dataclass(frozen=True)
class Place:
    """Where a gateway keeps sessions of one format, relative to its application folder."""

    pattern: str
    format: str
    engine: str | None = None
    companion: str | None = None  # a file beside the store that the gateway keeps per session
    names: NamesQuery | None = None
    creds_in: str | None = None  # where the gateway keeps the creds instead (the folder holds only keys)
    # How the gateway's code and logs name the session, from its folder's name (a regex whose
    # `name` group is that name): whatsapp-web.js logs the clientId of `session-<clientId>`.
    logged_as: str | None = None

    def log_name(self, path: PurePath) -> str | None:
        """The name the gateway's logs give the session at `path`, where it differs."""
        matched = re.fullmatch(self.logged_as, path.name) if self.logged_as else None
        return matched["name"] if matched else None

    @cached_property
    def parts(self) -> tuple[re.Pattern[str], ...]:
        return tuple(_component(part) for part in self.pattern.split("/"))

    def match(self, path: PurePath) -> dict[str, str] | None:
        """The captures (`name`) when `path` ends as this place's pattern, else None."""
        tail = path.parts[-len(self.parts):]
        if len(tail) < len(self.parts):
            return None
        found: dict[str, str] = {}
        for regex, part in zip(self.parts, tail):
            matched = regex.fullmatch(part)
            if matched is None:
                return None
            found.update(matched.groupdict())
        return found

    def companion_path(self, path: PurePath, name: str) -> PurePath | None:
        """The companion file of the session at `path` (the application folder is found by
        walking up as many folders as the pattern has)."""
        if self.companion is None:
            return None
        app = path.parents[len(self.parts) - 1]
        return app / self.companion.format(name=name)


@dataclass(frozen=True)
class Gateway:
    """What is known of one gateway: how to recognise its folder, where its sessions live."""

    name: str
    places: tuple[Place, ...]
    packages: tuple[str, ...] = ()  # package.json `name`/dependencies, or a go.mod module
    images: tuple[str, ...] = ()  # container images, without registry or tag
    not_sessions: tuple[str, ...] = ()  # patterns of the gateway's own files beside its sessions
    hidden_dirs: tuple[str, ...] = field(default=())  # hidden folders that hold its sessions

    def place_for(self, path: PurePath, store_format: str) -> tuple[Place, dict[str, str]] | None:
        for place in self.places:
            if place.format == store_format and (found := place.match(path)) is not None:
                return place, found
        return None

    @cached_property
    def _own_files(self) -> tuple[Place, ...]:
        return tuple(Place(pattern, "") for pattern in self.not_sessions)

    def owns_file(self, path: PurePath) -> bool:
        """Whether `path` is one of the gateway's own files, which are never session stores."""
        return any(place.match(path) is not None for place in self._own_files)


def _component(part: str) -> re.Pattern[str]:
    regex = re.escape(part).replace(r"\{name\}", "(?P<name>.+)").replace(r"\*", "[^/]+")
    return re.compile(regex)
