"""Evolution API v2: creds in PostgreSQL, key files in `instances/<instance id>/` or in Redis.

Read from Evolution's own source (src/utils/use-multi-file-auth-state-prisma.ts and
-redis-db.ts, prisma/postgresql-migrations/*_init): the `"Session"` row of an instance holds
its creds as `JSON.stringify(JSON.stringify(creds, BufferJSON.replacer))`; its `"Instance"` row
holds the name, number, owner JID and Evolution's own `connectionStatus`. The key files are
Baileys' multi-file key files, on disk under INSTANCE_DIR/<instance id>/ or, with
CACHE_REDIS_ENABLED, fields of the hash `<CACHE_REDIS_PREFIX_KEY>:instance:<instance id>`.

The database is only read here: the instance ids when a key folder is to be matched, then
every row through one binary COPY, which the server streams as fast as they are taken and no
faster (a million instances never stand in memory); each row is judged as a creds.json would
be, on every core when the rows are many (`jobs` and `session_of`): the process reading the
COPY passes each row on undecoded, and the worker judging it reads its fields.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wadoctor.core.evidence import Side
from wadoctor.core.model import Connection, GatewayRef, Session, SessionState
from wadoctor.stores.baileys_creds import apply_stored_creds
from wadoctor.stores.baileys_redis import find_sessions, observe_key_damage
from wadoctor.stores.base import SourceRead, StoreAdapter
from wadoctor.stores.pgcopy import copy_tuple, tuples
from wadoctor.stores.sources import STATEMENT_TIMEOUT_MS, CredsChanged, SourceUnavailable, StoreSource
from wadoctor.util.masking import mask_url

GATEWAY = "evolution-api"  # as the gateway tables name it (wadoctor.gateways.known)
TABLES = ("Instance", "Session")
DEFAULT_REDIS_PREFIX = "evolution"  # CACHE_REDIS_PREFIX_KEY's default
REDIS_MODULE = "instance"  # the CacheService the auth state writes through: new CacheEngine(config, 'instance')
# Both sides of the join, one row per instance of a linked device (a Session row without
# its Instance is shown too), WHERE_ONE picks one instance. Every column is cast to the type
# COLUMNS reads it as (pgcopy.copy_tuple: t text, f float8, b bool): a binary COPY carries
# each in its own type's wire format. A time is read only where it is one: PostgreSQL's
# `infinity` is NULL, unknown (a row's value never ends a run).
QUERY = """
SELECT coalesce(i.id, s."sessionId")::text, i.name::text, i."connectionStatus"::text, i."ownerJid"::text,
       i.number::text,
       CASE WHEN isfinite(coalesce(i."updatedAt", i."createdAt"))
            THEN extract(epoch FROM coalesce(i."updatedAt", i."createdAt"))::float8 END,
       s."sessionId" IS NOT NULL, s.creds::text,
       CASE WHEN isfinite(s."createdAt") THEN extract(epoch FROM s."createdAt")::float8 END
FROM "Instance" i FULL JOIN "Session" s ON s."sessionId" = i.id
WHERE i.integration IS NULL OR i.integration = 'WHATSAPP-BAILEYS'
"""
WHERE_ONE = ' AND coalesce(i.id, s."sessionId") = %s'
IDS = """SELECT coalesce(i.id, s."sessionId") FROM "Instance" i FULL JOIN "Session" s ON s."sessionId" = i.id
WHERE i.integration IS NULL OR i.integration = 'WHATSAPP-BAILEYS'"""
COLUMNS = "tttttfbtf"


@dataclass
class Instance:
    id: str
    name: str | None
    status: str | None
    owner_jid: str | None
    number: str | None
    updated: float | None
    has_row: bool
    creds: str | None
    row_created: float | None


def stored_creds(text: str | None) -> bytes | None:
    """The creds JSON as Baileys wrote it, from the column's second stringify (a single one is
    read too). None: no creds at all."""
    import orjson  # as baileys_creds loads it: with the first creds

    if text is None:
        return None
    try:
        inner = orjson.loads(text)  # a sixth of json's cost on a string of escaped quotes
    except orjson.JSONDecodeError:  # json reads what orjson refuses (a lone surrogate, say)
        try:
            inner = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return text.encode()  # not Evolution's encoding: judged (and reported) as it stands
    # a lone surrogate (a `\\ud83d` escape) is kept as its bytes: judged corrupt, not a failed source
    return inner.encode("utf-8", "surrogatepass") if isinstance(inner, str) else text.encode()


def check_tables(conn: Any, shown: str) -> None:
    missing = [t for t in TABLES if conn.execute("SELECT to_regclass(%s)", (f'"{t}"',)).fetchone()[0] is None]
    if missing:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        raise SourceUnavailable(f"{shown}: not an Evolution API database: no table \"{missing[0]}\" in schema "
                                f"{schema} (set ?schema= as in Evolution's DATABASE_CONNECTION_URI)")


def instance_ids(conn: Any) -> set[str]:
    """The ids of the database's linked-device instances (WHATSAPP-BUSINESS instances have
    none): what a key folder is matched against before the rows themselves are read."""
    return {row[0] for row in conn.execute(IDS)}


def read_instance(conn: Any, instance_id: str) -> Instance | None:
    row = conn.execute(QUERY + WHERE_ONE, (instance_id,)).fetchone()
    return Instance(*row) if row else None


def read_rows(conn: Any) -> Iterator[bytes]:
    """Every instance's row, as the server streams them through a binary COPY: undecoded
    (`copy_tuple(row, COLUMNS)` reads one), as they are judged on other cores. The COPY is one
    statement however long a million rows take to judge, so the connection's statement
    timeout is lifted for it (SET LOCAL: this read's transaction only); the scan's deadline
    for each step still stands, and a table locked by a migration is given up on as soon as
    the statement timeout would have. Text comes as UTF-8 whatever the database's encoding."""
    conn.execute(f"SET LOCAL lock_timeout = {STATEMENT_TIMEOUT_MS}")
    conn.execute("SET LOCAL statement_timeout = 0")
    conn.execute("SET LOCAL client_encoding = 'UTF8'")
    with conn.cursor().copy(f"COPY ({QUERY}) TO STDOUT (FORMAT BINARY)") as copy:
        yield from tuples(copy)


class EvolutionRead(SourceRead):
    def __init__(self, source: StoreSource, conn: Any, deep: bool, redis: Any = None) -> None:
        super().__init__()
        self.source = source
        self.shown = source.shown
        self.deep = deep
        self.conn = conn
        check_tables(conn, self.shown)
        self.ids: set[str] | None = None  # read at the first key folder to match
        self.folders = source.instances
        self.joined: set[str] = set()
        self.parents: set[str] = {os.path.realpath(f) for f in source.instances}
        self.redis = redis
        self.hashes: dict[str, Any] = {}
        # a row is judged from itself alone, unless keys in Redis are read deeply for it
        self.forkable = not (deep and redis is not None)

    def _session(self, instance: Instance, path: Path | None = None) -> Session:
        place = f"{self.shown} instance {instance.name or instance.id}"
        session = Session(id=instance.name or instance.id, path=path or Path(place), format="evolution",
                          source=None if path else place, creds_source=place, store=self.source,
                          store_key=(instance.id,))
        session.gateway = GatewayRef(GATEWAY, details={
            "instance_id": instance.id, "instance": instance.name, "number": instance.number,
            "owner_jid": instance.owner_jid, "connection_status": instance.status})
        if instance.status is not None:
            session.connection = Connection(instance.status, instance.updated, "Evolution API")
        session.last_activity = instance.updated
        session.creds_mtime = instance.row_created if instance.has_row else instance.updated
        return session

    def _judge(self, session: Session, instance: Instance, key_files: int, cached: bytes | None = None) -> None:
        """`cached`: creds from the instance's Redis hash, where Evolution keeps them instead of a
        Session row (CACHE_REDIS_SAVE_INSTANCES)."""
        raw = stored_creds(instance.creds) if instance.has_row else cached
        where = "its Session row"
        if not instance.has_row and cached is not None:
            session.store = None  # fix writes Session rows only; these creds are the cache's
            where = "its Redis hash"
        apply_stored_creds(session, raw, key_files, where)
        session.creds_raw = raw
        if instance.name is None:
            session.observe("instance-orphan", "a Session row whose Instance row is gone", Side("instance"))
        elif instance.status == "close" and session.state is SessionState.PAIRED:
            session.observe("instance-closed-paired", "Evolution API reports the instance closed while its "
                                                      "creds are paired: it is not connected")

    def claim(self, session: Session) -> Session | None:
        if session.format != "baileys" or session.state is not SessionState.KEYS_ONLY:
            return None
        if self.ids is None:
            self.ids = instance_ids(self.conn)
        if session.id not in self.ids:
            return None
        instance = read_instance(self.conn, session.id)
        if instance is None:  # gone since the ids were read
            return None
        self.joined.add(instance.id)
        self.parents.add(os.path.realpath(session.path.parent))
        merged = self._session(instance, session.path)
        merged.files, merged.size, merged.key_types = session.files, session.size, session.key_types
        merged.last_activity = max(filter(None, (session.last_activity, instance.updated)), default=None)
        merged.observations = [o for o in session.observations if o.code != "creds-missing"]
        self._judge(merged, instance, sum(session.key_types.values()))
        return merged

    def jobs(self) -> Iterator[tuple[bytes, Any]]:
        """Each row not joined to a key folder, with its keys' Redis hash where there is one.
        A row is read here only when there are folders or hashes to match its id against."""
        self.hashes = self._hashes()
        self.ids = None  # every key folder is in: the ids are not needed again
        for row in read_rows(self.conn):
            if not (self.joined or self.hashes):
                yield row, None
                continue
            instance_id = copy_tuple(row, COLUMNS)[0]
            if instance_id not in self.joined:
                yield row, self.hashes.pop(instance_id, None)

    def session_of(self, job: tuple[bytes, Any]) -> Session:
        row, stored = job
        instance = Instance(*copy_tuple(row, COLUMNS))
        session = self._session(instance)
        if stored is not None:
            session.files, session.key_types = stored.entries, dict(stored.key_types)
            if self.deep:
                observe_key_damage(session, self.redis, stored)
        self._judge(session, instance, stored.entries if stored else 0, stored.creds if stored else None)
        where = self._key_place()
        if stored is None and where and session.state is SessionState.PAIRED:
            session.observe("instance-orphan", f"paired, but its keys are missing: no {where} for instance "
                                               f"{instance.id}", Side("keys"))
        return session

    def sessions(self, scanned: list[Session]) -> Iterator[Session]:
        """Once the rows are in: Redis hashes no row has, and key folders no row has."""
        for stored in self.hashes.values():
            place = f"{mask_url(self.source.redis or '')} {stored.key}"
            session = Session(id=stored.name, path=Path(place), format="evolution", source=place)
            session.files, session.state = stored.entries + stored.has_creds, SessionState.KEYS_ONLY
            session.observe("instance-orphan", f"keys of instance {stored.name}, which the database does not have",
                            Side("row"))
            yield session
        for session in scanned:
            if (session.format == "baileys" and session.state is SessionState.KEYS_ONLY
                    and os.path.realpath(session.path.parent) in self.parents):
                session.observations = [o for o in session.observations if o.code != "creds-missing"]
                session.observe("instance-orphan", f"key files of instance {session.id}, which {self.shown} "
                                                   "does not have", Side("row"))

    def close(self) -> None:
        self.conn.close()
        if self.redis is not None:
            self.redis.close()

    def _key_place(self) -> str | None:
        """Where this Evolution keeps key files, when known: a folder or the Redis hash."""
        if self.redis is not None:
            return "Redis hash"
        if self.parents:
            return "key folder"
        return None

    def _hashes(self) -> dict[str, Any]:
        if self.redis is None:
            return {}
        prefix = f"{self.source.prefix or DEFAULT_REDIS_PREFIX}:{REDIS_MODULE}:"
        return {s.name: s for s in find_sessions(self.redis, prefix)}


class Evolution(StoreAdapter):
    format = "evolution"
    kinds = ("evolution",)

    def replace_creds(self, session: Session, expected: bytes | None, new: bytes,
                      before_commit: Callable[[], None]) -> None:
        from wadoctor.stores.connect import postgres

        (instance_id,) = session.store_key or (None,)
        value = json.dumps(new.decode(), ensure_ascii=False)  # Evolution's second stringify
        with postgres(session.store) as conn, conn.transaction():
            row = conn.execute('SELECT creds FROM "Session" WHERE "sessionId" = %s FOR UPDATE',
                               (instance_id,)).fetchone()
            if (stored_creds(row[0]) if row else None) != expected:
                raise CredsChanged(f"the Session row of {session.id} changed since it was read: nothing written")
            if row:
                conn.execute('UPDATE "Session" SET creds = %s WHERE "sessionId" = %s', (value, instance_id))
            else:
                conn.execute('INSERT INTO "Session" (id, "sessionId", creds) VALUES (gen_random_uuid()::text, %s, %s)',
                             (instance_id, value))
            before_commit()

    def read_source(self, source: StoreSource, deep: bool) -> SourceRead:
        from wadoctor.stores.connect import postgres, redis

        conn = postgres(source)
        conn.read_only = True  # a check never writes; fix writes through a connection of its own
        try:
            client = redis(source.redis, source) if source.redis else None
            return EvolutionRead(source, conn, deep, client)
        except BaseException:
            conn.close()
            raise

