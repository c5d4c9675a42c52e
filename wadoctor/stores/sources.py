"""Auth state kept in databases, named by URL: which kind of store, where, and how to log in.

A source is read-only for `list` and `check`. Its URL may carry a password; only `shown`
(password and secret parameters masked) ever reaches output, logs, metrics or the registry.
Credentials come from the URL, from libpq's own `.pgpass` / PGPASSWORD, or from an
environment variable named in the config (`password_env`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wadoctor.util.errors import UsageError, WadoctorError
from wadoctor.util.masking import mask_url, split_url

CONNECT_TIMEOUT = 3  # seconds: a store that is down must not hang a cron check
STATEMENT_TIMEOUT_MS = 5000
REDIS_TIMEOUT = 5.0  # seconds per Redis reply

# scheme -> the kind of store a bare URL on the command line is read as
KIND_OF_SCHEME = {"postgresql": "evolution", "postgres": "evolution", "redis": "baileys-redis",
                  "rediss": "baileys-redis", "unix": "baileys-redis"}
KINDS = ("evolution", "baileys-redis")
# Parameters Prisma URLs carry (Evolution's DATABASE_CONNECTION_URI is one): libpq rejects them.
PRISMA_PARAMS = frozenset({"schema", "connection_limit", "pool_timeout", "pgbouncer", "statement_cache_size",
                           "socket_timeout", "sslaccept", "connect_timeout"})
WADOCTOR_PARAMS = frozenset({"instances", "prefix", "timeout"})
OPERATION_SECONDS = 60.0  # one step of reading a source (open, a claim, its sessions), whatever each read takes


class SourceUnavailable(WadoctorError):
    """A database source could not be reached or is not the store it was said to be."""


class CredsChanged(WadoctorError):
    """The creds changed in the database since they were read: a repair must not overwrite them."""


@dataclass(frozen=True)
class StoreSource:
    kind: str
    url: str  # as given, credentials included: never shown
    instances: tuple[Path, ...] = ()  # evolution: folders holding instances/<instance id>/
    redis: str | None = None  # evolution: the cache that holds key hashes (CACHE_REDIS_ENABLED)
    prefix: str = ""  # Redis key prefix (Evolution: CACHE_REDIS_PREFIX_KEY)
    password_env: str | None = None
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def timeout(self) -> float:
        """How long one step of reading it may take (`?timeout=SECONDS`): a server that trickles
        its reply a byte at a time never hits a per-read timeout, so the step has its own."""
        try:
            value = float(self.params.get("timeout", OPERATION_SECONDS))
        except ValueError:
            return OPERATION_SECONDS
        return value if 0 < value < 86400 else OPERATION_SECONDS

    @property
    def shown(self) -> str:
        return mask_url(self.url)

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower()

    def password(self) -> str | None:
        """The password from the named environment variable, if the config names one."""
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise SourceUnavailable(f"{self.shown}: environment variable {self.password_env} is not set")
        return value


def without_params(url: str) -> str:
    """The URL without the parameters only wadoctor and Prisma understand (the drivers reject them)."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in PRISMA_PARAMS | WADOCTOR_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def url_params(url: str) -> dict[str, str]:
    """The query of a URL, read after its credentials are taken out (a password may hold `?`)."""
    return dict(parse_qsl(split_url(url).rest.partition("?")[2].partition("#")[0], keep_blank_values=True))


def url_param(url: str, name: str) -> str | None:
    return url_params(url).get(name)


def is_url(text: str) -> bool:
    return "://" in text and text.split("://", 1)[0].lower() in KIND_OF_SCHEME


def parse_source(url: str, kind: str | None = None, instances: tuple[Path, ...] = (), redis: str | None = None,
                 prefix: str | None = None, password_env: str | None = None) -> StoreSource:
    """A source from its URL (and, from the config, the settings a URL cannot carry well)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in KIND_OF_SCHEME:
        raise UsageError(f"{mask_url(url)}: unknown store scheme {scheme!r} (postgresql:// or redis://)")
    kind = kind or KIND_OF_SCHEME[scheme]
    if kind not in KINDS:
        raise UsageError(f"{mask_url(url)}: unknown store kind {kind!r} ({' or '.join(KINDS)})")
    if (kind == "evolution") != (KIND_OF_SCHEME[scheme] == "evolution"):
        raise UsageError(f"{mask_url(url)}: a {kind} store is not read from a {scheme}:// URL")
    params = url_params(url)
    if redis is not None and prefix is None:
        prefix = url_param(redis, "prefix")
    if "instances" in params:
        instances = (*instances, Path(params["instances"]))
    if redis is not None and not redis.lower().startswith(("redis://", "rediss://", "unix://")):
        raise UsageError(f"{mask_url(redis)}: the Evolution cache must be a redis:// URL")
    return StoreSource(kind, url, tuple(instances), redis, prefix if prefix is not None else params.get("prefix", ""),
                       password_env, params)
