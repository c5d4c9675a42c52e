"""Bytes as Baileys serialises them, in every form its versions have written."""

from __future__ import annotations

import binascii


class BadBytes(ValueError):
    """A field that should hold bytes does not."""


def decode_bytes(value: object) -> bytes:
    """Decode a BufferJSON value: `{"type":"Buffer","data":"<base64>"}` (5.x-7.x),
    `{"type":"Buffer","data":[ints]}` (older 6.x and 4.x), or a plain base64 string (what
    protobuf's toJSON writes for `creds.account`)."""
    if isinstance(value, dict):
        if value.get("type") != "Buffer" or "data" not in value:
            raise BadBytes("not a Buffer object")
        value = value["data"]
        if isinstance(value, list):
            if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in value):
                raise BadBytes("Buffer data holds values outside 0-255")
            return bytes(value)
    if isinstance(value, str):
        try:  # base64.b64decode(value, validate=True), without its two layers of Python
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            raise BadBytes("not valid base64") from exc
    raise BadBytes(f"expected bytes, found {type(value).__name__}")


def decode_sized(value: object, size: int) -> bytes:
    """Decode bytes that must have an exact length, as every Curve25519 key does."""
    raw = decode_bytes(value)
    if len(raw) != size:
        raise BadBytes(f"is {len(raw)} bytes, expected {size}")
    return raw
