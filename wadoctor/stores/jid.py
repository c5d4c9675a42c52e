"""WhatsApp JIDs as the libraries write them: `user[_agent][:device]@server`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Jid:
    user: str
    device: int | None
    server: str


def parse_jid(text: object) -> Jid | None:
    """Split a JID into its parts, or None when it is not one (never raises)."""
    if not isinstance(text, str) or text.count("@") != 1:
        return None
    head, server = text.split("@")
    user, _, device = head.partition(":")
    user = user.partition("_")[0]
    if not user or not server:
        return None
    if device:
        if not (device.isascii() and device.isdigit()):  # int() would take '٣' and fail on '²'
            return None
        return Jid(user, int(device), server)
    return Jid(user, None, server)
