"""Giving each session its gateway and the name the gateway knows it by.

A session inside a recognised application folder belongs to that folder's gateway where its
table has a place for the session's path (and to none otherwise); elsewhere to the one gateway
whose table has such a place. Where two gateways keep the same layout (wppconnect and venom
both use `tokens/<session>`), the one whose per-session file is present wins, else neither.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from wadoctor.core.evidence import File
from wadoctor.core.model import GatewayRef, Session
from wadoctor.gateways.detect import AppFolder
from wadoctor.gateways.known import GATEWAYS
from wadoctor.gateways.layout import Gateway, NamesQuery, Place
from wadoctor.stores.files import describe_os_error, read_capped
from wadoctor.stores.sqlite_probe import connect_read_only
from wadoctor.stores.whatsmeow import BUSY_SECONDS

COMPANION_CAP = 1 << 20
# Hidden folders some gateway keeps sessions in: discovery searches these, no other.
HIDDEN_DIRS = frozenset(h for g in GATEWAYS for h in g.hidden_dirs)


def gateway_file(path: Path) -> bool:
    """A file that a gateway keeps beside its sessions and that is never a session store."""
    return any(g.owns_file(path) for g in GATEWAYS)


class Namer:
    def __init__(self, apps: Sequence[AppFolder]) -> None:
        self.apps = apps
        self._names: dict[Path, dict[str, str]] = {}

    def name(self, session: Session) -> None:
        match = self._match(session)
        if match is None:
            return
        app, gateway, place, found = match
        session.gateway = GatewayRef(gateway.name, place.engine, app.path if app else None)
        logged_as = place.log_name(session.path)
        if logged_as:
            session.gateway.details["logged_as"] = logged_as
        # a recognised gateway that keeps creds elsewhere: keys only is its shape
        if app is not None and place.creds_in:
            session.observations = [o for o in session.observations if o.code != "creds-missing"]
            session.gateway.details["creds"] = place.creds_in
        name = found.get("name")
        if place.names is not None and session.identity and session.identity.jid:
            name = self._names_in(session.path, place.names).get(session.identity.jid) or name
        if name:
            session.id = name
        companion = place.companion_path(session.path, found.get("name", session.id))
        if companion is not None:
            _read_companion(session, session.gateway, Path(companion))

    def _match(self, session: Session) -> tuple[AppFolder | None, Gateway, Place, dict[str, str]] | None:
        for app in sorted(self.apps, key=lambda a: len(a.path.parts), reverse=True):
            if app.path in session.path.parents:  # inside an app, only its gateway's table applies
                hit = app.gateway.place_for(session.path, session.format)
                return None if hit is None else (app, app.gateway, *hit)
        hits = [(g, *hit) for g in GATEWAYS if (hit := g.place_for(session.path, session.format))]
        if len(hits) > 1:
            hits = [h for h in hits if _companion_exists(session.path, h[1], h[2])]
        if len(hits) != 1:
            return None
        return None, *hits[0]

    def _names_in(self, path: Path, query: NamesQuery) -> dict[str, str]:
        """jid -> name from the gateway's own table in the store file, read once per file."""
        if path not in self._names:
            self._names[path] = _read_names(path, query)
        return self._names[path]


def _companion_exists(path: Path, place: Place, found: dict[str, str]) -> bool:
    companion = place.companion_path(path, found.get("name", ""))
    return companion is not None and Path(companion).is_file()


def _read_names(path: Path, query: NamesQuery) -> dict[str, str]:
    try:
        connection = connect_read_only(path, BUSY_SECONDS)
    except sqlite3.Error:
        return {}
    try:
        rows = connection.execute(
            f'SELECT "{query.jid_column}", "{query.name_column}" FROM "{query.table}"').fetchall()  # noqa: S608
    except sqlite3.Error:
        return {}
    finally:
        connection.close()
    names: dict[str, str] = {}
    for jid, name in rows:
        if isinstance(jid, str) and isinstance(name, str) and jid and name:
            names[jid] = name
    return names


def _read_companion(session: Session, ref: GatewayRef, path: Path) -> None:
    """wppconnect's tokens file: its presence, its fields and the browser id; never a value."""
    try:
        data = json.loads(read_capped(path, COMPANION_CAP))
    except FileNotFoundError:
        ref.details["tokens"] = None
        return
    except OSError as exc:
        session.observe("gateway-tokens-corrupt", f"{path.name}: {describe_os_error(exc)}", File(str(path)))
        return
    except ValueError as exc:
        session.observe("gateway-tokens-corrupt", f"{path.name} is not valid JSON ({exc})", File(str(path)))
        return
    if not isinstance(data, dict):
        session.observe("gateway-tokens-corrupt", f"{path.name} holds no object of tokens", File(str(path)))
        return
    browser_id = data.get("WABrowserId")
    ref.details["tokens"] = {
        "path": str(path),
        "fields": sorted(str(k) for k in data),
        "browser_id": browser_id.strip('"') if isinstance(browser_id, str) else None,
    }
