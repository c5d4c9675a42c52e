"""Command lines are shown in reports and sent to registries: secrets in them are masked."""

from __future__ import annotations

import re

MASK = "***"
_SECRET_NAME = re.compile(r"(token|secret|passw(or)?d|pass|pwd|api[-_]?key|apikey|auth|credential|private[-_]?key)",
                          re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@",
                              re.IGNORECASE)


def mask_args(args: list[str]) -> list[str]:
    """Mask `--token=x`, `--token x`, `API_KEY=x` and `scheme://user:password@` in arguments."""
    masked: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            masked.append(MASK)
            hide_next = False
            continue
        if "://" in arg:
            arg = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", arg)
        name, eq, _ = arg.partition("=")
        if eq and _SECRET_NAME.search(name):
            masked.append(f"{name}={MASK}")
        elif arg.startswith("-") and _SECRET_NAME.search(arg):
            masked.append(arg)
            hide_next = True
        else:
            masked.append(arg)
    return masked


def mask_cmdline(args: list[str]) -> str:
    return " ".join(mask_args(args))


_SECRET_PARAM = re.compile(r"([?&](?:[a-z_]*pass(?:word)?|token|secret|auth|key)=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """A connection URL as it may be shown: no password, no secret query parameter."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    place, query_sep, query = rest.partition("?")
    credentials, at, host = place.rpartition("@")
    if at:
        user = credentials.split(":", 1)[0]
        place = f"{user}@{host}" if user else host
    query = _SECRET_PARAM.sub(lambda m: m[1] + MASK, "?" + query)[1:] if query_sep else ""
    return f"{scheme}://{place}{query_sep}{query}"
