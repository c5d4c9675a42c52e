"""Command lines are shown in reports and sent to registries: secrets in them are masked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

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
# what may follow a URL's credentials up to its path: host and port (no @, /, ?, #)
_HOST = re.compile(r"[A-Za-z0-9._~\-\[\]:%!$&'()*+,;=]*")
_AFTER_HOST = re.compile(r"[/?#]")


@dataclass(frozen=True)
class UrlParts:
    """A URL with its credentials taken out before anything else reads it: the password may
    hold `? # / @ : %` unencoded, which a URL parser would take for the query, a fragment, the
    path or the host, and so print it."""

    scheme: str
    user: str | None  # as written (percent-encoded or not)
    password: str | None  # as written; `secret` is what a server is sent
    rest: str  # host, port, path and query

    @property
    def secret(self) -> str | None:
        return None if self.password is None else unquote(self.password)

    def without_password(self) -> str:
        """The URL a driver may parse: the user re-encoded, no password."""
        user = f"{quote(unquote(self.user), safe='')}@" if self.user else ""
        return f"{self.scheme}://{user}{self.rest}"

    def shown(self) -> str:
        """The URL as it may be shown: no password, no secret query parameter."""
        place, query_sep, query = self.rest.partition("?")
        query = _SECRET_PARAM.sub(lambda m: m[1] + MASK, "?" + query)[1:] if query_sep else ""
        return f"{self.scheme}://{f'{self.user}@' if self.user else ''}{place}{query_sep}{query}"


def split_url(url: str) -> UrlParts:
    """Credentials end at the last `@` that a host and port follow (a host never holds `@`)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return UrlParts("", None, None, url)
    at = len(rest)
    while (at := rest.rfind("@", 0, at)) >= 0:
        if _HOST.fullmatch(_AFTER_HOST.split(rest[at + 1:], 1)[0]):
            user, colon, password = rest[:at].partition(":")
            return UrlParts(scheme, user, password if colon else None, rest[at + 1:])
    return UrlParts(scheme, None, None, rest)


def mask_url(url: str) -> str:
    """A connection URL as it may be shown: no password, no secret query parameter."""
    return split_url(url).shown() if "://" in url else url


def scrub(text: str, *secrets: str | None) -> str:
    """A message from a driver or a server with every secret (as written and as sent) masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 2}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
