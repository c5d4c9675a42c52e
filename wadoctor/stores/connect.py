"""Opening database sources with short timeouts, and saying in one line why one failed.

psycopg and redis-py are the `wadoctor[stores]` extra, imported only here and only when a
source is read, so plain commands never pay for them.
"""

from __future__ import annotations

import os
from typing import Any

from wadoctor.errors import ConfigError
from wadoctor.masking import mask_url
from wadoctor.stores.sources import (CONNECT_TIMEOUT, REDIS_TIMEOUT, STATEMENT_TIMEOUT_MS, SourceUnavailable,
                                     StoreSource, without_params)

REDIS_PASSWORD_ENV = "REDISCLI_AUTH"  # what redis-cli reads: one variable for both tools


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def postgres(source: StoreSource) -> Any:
    """A read-committed connection to the source's database, search_path set to its schema."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError("database sources need psycopg 3: pip install 'wadoctor[stores]'") from None
    schema = source.params.get("schema")
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    if schema:
        options += f" -c search_path={schema}"
    extra = {"password": password} if (password := source.password()) is not None else {}
    try:
        return psycopg.connect(source.connection_url(), connect_timeout=CONNECT_TIMEOUT, application_name="wadoctor",
                               options=options, **extra)
    except psycopg.Error as exc:
        raise SourceUnavailable(f"{source.shown}: cannot connect: {first_line(exc)}") from None


def redis(url: str, source: StoreSource) -> Any:
    """A Redis client whose every reply must come within a few seconds."""
    try:
        import redis as redis_py
    except ImportError:
        raise ConfigError("Redis sources need redis-py: pip install 'wadoctor[stores]'") from None
    password = source.password() or os.environ.get(REDIS_PASSWORD_ENV)
    extra = {"password": password} if password and "@" not in url.split("://", 1)[1].split("/", 1)[0] else {}
    try:
        client = redis_py.Redis.from_url(without_params(url), socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT,
                                         **extra)
        client.ping()
    except (redis_py.RedisError, ValueError) as exc:
        raise SourceUnavailable(f"{mask_url(url)}: cannot connect: {first_line(exc)}") from None
    return client
