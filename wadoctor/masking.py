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
