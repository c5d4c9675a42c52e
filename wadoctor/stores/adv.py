"""ADVDeviceIdentity, the protobuf WhatsApp signs when a device is linked.

Its fields are five varints, so a dozen lines of wire-format reading replace a protobuf
runtime: rawId (1), timestamp of the pairing (2), keyIndex = the device slot (3),
accountType (4) and deviceType (5).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceIdentity:
    raw_id: int | None
    timestamp: int | None
    key_index: int | None
    account_type: int | None
    device_type: int | None


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """A protobuf/LevelDB base-128 varint at `pos`: (value, next position); ValueError if cut."""
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def decode_device_identity(buf: bytes) -> DeviceIdentity:
    """Decode the varint fields, skipping any others; ValueError on malformed input."""
    fields: dict[int, int] = {}
    pos, end = 0, len(buf)
    while pos < end:
        key = buf[pos]  # every key of this message fits one byte: the general read only beyond
        key, pos = (key, pos + 1) if key < 0x80 else read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields[number], pos = read_varint(buf, pos)
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > end:
            raise ValueError("truncated field")
    return DeviceIdentity(fields.get(1), fields.get(2), fields.get(3), fields.get(4), fields.get(5))
