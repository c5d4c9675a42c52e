"""Opening database sources with short timeouts, and saying in one line why one failed.

psycopg and redis-py are the `wadoctor[stores]` extra, imported only here and only when a
source is read, so plain commands never pay for them.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from wadoctor.stores.sources import (
    CONNECT_TIMEOUT,
    REDIS_TIMEOUT,
    STATEMENT_TIMEOUT_MS,
    SourceUnavailable,
    StoreSource,
    without_params,
)
from wadoctor.util.errors import ConfigError
from wadoctor.util.masking import UrlParts, scrub, split_url

REDIS_PASSWORD_ENV = "REDISCLI_AUTH"  # what redis-cli reads: one variable for both tools


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def postgres(source: StoreSource) -> Any:
    """A read-committed connection to the source's database, search_path set to its schema.
    The password never reaches the driver's URL parser: it goes as its own parameter."""
    try:
        import psycopg
    except ImportError:
        raise ConfigError("database sources need psycopg 3: pip install 'wadoctor[stores]'") from None
    parts = split_url(source.url)
    schema = source.params.get("schema")
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    if schema:
        options += f" -c search_path={schema}"
    password = source.password() or parts.secret
    extra = {"password": password} if password is not None else {}
    try:
        return psycopg.connect(without_params(parts.without_password()), connect_timeout=CONNECT_TIMEOUT,
                               application_name="wadoctor", options=options, **extra)
    except psycopg.Error as exc:
        raise SourceUnavailable(f"{source.shown}: cannot connect: {said(exc, parts, password)}") from None


def redis(url: str, source: StoreSource) -> Any:
    """A Redis client whose every reply must come within a few seconds."""
    try:
        import redis as redis_py
    except ImportError:
        raise ConfigError("Redis sources need redis-py: pip install 'wadoctor[stores]'") from None
    parts = split_url(url)
    password = parts.secret or source.password() or os.environ.get(REDIS_PASSWORD_ENV)
    extra = {"password": password} if password else {}
    try:
        client = redis_py.Redis.from_url(without_params(parts.without_password()),
                                         socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT, **extra)
        client.ping()
    except (redis_py.RedisError, ValueError) as exc:
        raise SourceUnavailable(f"{parts.shown()}: cannot connect: {said(exc, parts, password)}") from None
    return client


def said(exc: BaseException, parts: UrlParts, password: str | None) -> str:
    """A driver's first line, with the URL, user and password it may quote taken out."""
    return scrub(first_line(exc), parts.password, parts.secret, password, parts.without_password())


def read_failure(exc: BaseException, source: StoreSource) -> str:
    """Why reading a source failed, in one line with nothing of its credentials."""
    parts = split_url(source.url)
    return f"{type(exc).__name__}: {said(exc, parts, parts.secret)}"


class StepTimeout(Exception):
    """A step of reading a source outlasted its deadline."""


@contextmanager
def within(seconds: float, what: str) -> Iterator[None]:
    """Raise StepTimeout if the block outlasts `seconds` (SIGALRM, in the main thread, where
    scans read their sources): a deadline for the whole step, not for each socket read."""
    with each_within(seconds, what) as timing:
        timing(True)
        yield


@contextmanager
def each_within(seconds: float, what: str) -> Iterator[Callable[[bool], None]]:
    """`within` for a long series of steps (a million rows): yields `timing(on)`, which starts
    (True) or stops (False) one step's countdown. The handler is installed once, so a step
    costs two setitimer calls instead of also two signal() calls and a context manager."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda on: None
        return

    def expired(_signum: int, _frame: object) -> None:
        raise StepTimeout(f"{what} took longer than {seconds:g}s")

    def timing(on: bool) -> None:
        signal.setitimer(signal.ITIMER_REAL, seconds if on else 0)

    previous = signal.signal(signal.SIGALRM, expired)
    try:
        yield timing
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
