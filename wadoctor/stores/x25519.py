"""X25519 public keys from private ones (RFC 7748), for stores that keep only the private half.

whatsmeow stores the private noise and identity keys; Baileys stores both halves. Deriving the
public key lets the two be compared, and lets a flipped bit in a Baileys key pair be caught.
Twenty lines of the RFC's Montgomery ladder avoid a cryptography dependency for one function.
"""

from __future__ import annotations

_P = 2**255 - 19
_A24 = 121665


def public_key(private: bytes) -> bytes:
    """The X25519 public key (scalar multiple of the base point 9) of a 32-byte private key."""
    if len(private) != 32:
        raise ValueError("an X25519 private key is 32 bytes")
    k = bytearray(private)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    scalar = int.from_bytes(k, "little")
    x1, x2, z2, x3, z3, swap = 9, 1, 0, 9, 1, 0
    for t in reversed(range(255)):
        bit = (scalar >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % _P, (x2 - z2) % _P
        aa, bb = a * a % _P, b * b % _P
        e = (aa - bb) % _P
        c, d = (x3 + z3) % _P, (x3 - z3) % _P
        da, cb = d * a % _P, c * b % _P
        x3 = (da + cb) ** 2 % _P
        z3 = x1 * (da - cb) ** 2 % _P
        x2 = aa * bb % _P
        z2 = e * (aa + _A24 * e) % _P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")
