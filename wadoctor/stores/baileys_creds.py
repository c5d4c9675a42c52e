"""Baileys' `AuthenticationCreds`: validation, identity and pairing state.

Shared by the multi-file and the legacy single-file stores, which hold the same object.
"""

from __future__ import annotations

import json
from typing import Any

from wadoctor.core.evidence import Damage, KeyFiles, Problems
from wadoctor.core.model import Identity, Session, SessionState
from wadoctor.stores.adv import decode_device_identity
from wadoctor.stores.buffers import BadBytes, decode_bytes, decode_sized
from wadoctor.stores.jid import parse_jid

# Key pairs every Baileys line writes, and those only later lines write: checked where
# present (4.x and 5.x have no pairingEphemeralKeyPair, added with pairing codes in 6.x).
# docs/baileys-versions.md lists each line's creds.
_KEY_PAIRS = ("noiseKey", "signedIdentityKey")
_LATER_KEY_PAIRS = ("pairingEphemeralKeyPair",)
_COUNTERS = ("registrationId", "nextPreKeyId", "firstUnuploadedPreKeyId")

try:  # creds with nothing wrong recognised in one pass in C (wadoctor/stores/_speedups.c)
    from wadoctor.stores._speedups import healthy_creds as _healthy_creds
except ImportError:  # not built: read_creds judges all creds
    _healthy_creds = None


def parse_json_bytes(raw: bytes) -> tuple[Any, str | None]:
    """Parse JSON the way a reader at 3 a.m. wants it explained: (value, None) or (None, why)."""
    if raw.strip(b"\0") == b"":
        return None, f"{len(raw)} NUL bytes (the data never reached the disk)"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        # An unterminated string runs to the end by definition: both mean a write cut short.
        if exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip()) - 1:
            return None, f"cut short after {len(raw)} bytes"
        return None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "nested too deeply to be creds"


def parse_creds(raw: bytes) -> tuple[Any, Identity | None, str | None]:
    """Creds as parse_json_bytes parses them, with their identity when they were recognised
    healthy at once (orjson, then healthy_creds in C: a fifth of the cost, for the creds of a
    million database rows). All others are parsed by json, as the judgement is defined on
    it (orjson reads integers past 64 bits as floats), for read_creds to say what is wrong:
    (creds, identity or None, None), or (None, None, why) when they are not JSON at all."""
    if _healthy_creds is not None:
        import orjson  # loaded with the first creds read: a check that finds none starts faster

        try:
            creds = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            found = _healthy_creds(creds)
            if found is not None:
                noise, jid, phone, device, lid, name, platform, paired_at = found
                return creds, Identity(jid, phone, device, lid, name, platform, None, paired_at,
                                       Identity.fingerprint(noise)), None
    creds, why = parse_json_bytes(raw)
    return creds, None, why


def _key_pair(name: str, value: object, problems: list[str]) -> bytes | None:
    """A Curve25519 key pair's public key, once both halves are checked (each problem is
    added to `problems`); None when the public half is unusable."""
    if not isinstance(value, dict):
        problems.append(f"{name} is missing")
        return None
    public = None
    for part in ("private", "public"):
        try:
            decoded = decode_sized(value.get(part), 32)
        except BadBytes as exc:
            problems.append(f"{name}.{part} {exc}")
        else:
            public = decoded if part == "public" else public
    return public


def _sized(name: str, value: object, size: int, problems: list[str]) -> None:
    try:
        decode_sized(value, size)
    except BadBytes as exc:
        problems.append(f"{name} {exc}")


def read_creds(creds: object) -> tuple[Identity | None, list[str]]:
    """Every identity field the creds carry, and everything that would make Baileys fail or
    misbehave with them, in one pass that decodes each field once: an Evolution database of
    a million instances is judged creds by creds. Broken or half-written creds still name
    their device where they can (the state says what is missing)."""
    if not isinstance(creds, dict):
        return None, [f"creds is a JSON {type(creds).__name__}, not an object"]
    problems: list[str] = []
    identity = Identity()
    noise = _key_pair("noiseKey", creds.get("noiseKey"), problems)
    if noise is not None:
        identity.noise_fingerprint = Identity.fingerprint(noise)
    _key_pair("signedIdentityKey", creds.get("signedIdentityKey"), problems)
    for name in _LATER_KEY_PAIRS:
        if name in creds:
            _key_pair(name, creds[name], problems)
    spk = creds.get("signedPreKey")
    if isinstance(spk, dict):
        _key_pair("signedPreKey.keyPair", spk.get("keyPair"), problems)
        _sized("signedPreKey.signature", spk.get("signature"), 64, problems)
    else:
        problems.append("signedPreKey is missing")
    for name in _COUNTERS:
        if not isinstance(creds.get(name), int) or isinstance(creds.get(name), bool):
            problems.append(f"{name} is not a number")
    _sized("advSecretKey", creds.get("advSecretKey"), 32, problems)
    me = creds.get("me")
    jid = parse_jid(me.get("id")) if isinstance(me, dict) else None
    if me is not None and jid is None:
        problems.append("me.id is not a JID")
    if jid is not None:
        identity.jid, identity.phone, identity.device = me["id"], jid.user, jid.device  # type: ignore[index]
    if isinstance(me, dict):
        if isinstance(me.get("lid"), str):
            identity.lid = me["lid"]
        if isinstance(me.get("name"), str) and me["name"] != "~":
            identity.name = me["name"]
    if isinstance(creds.get("platform"), str):
        identity.platform = creds["platform"]
    account = creds.get("account")
    if account is not None:
        identity.paired_at = _account(account, problems)
    return (identity if identity != Identity() else None), problems


def _account(account: object, problems: list[str]) -> int | None:
    """The pairing time the signed device identity carries, once the account is checked."""
    if not isinstance(account, dict):
        problems.append("account is not an object")
        return None
    paired_at = None
    try:
        paired_at = decode_device_identity(decode_bytes(account.get("details"))).timestamp
    except (BadBytes, ValueError) as exc:
        problems.append(f"account.details is not a device identity ({exc})")
    for name, size in (("accountSignatureKey", 32), ("accountSignature", 64), ("deviceSignature", 64)):
        _sized(f"account.{name}", account.get(name), size, problems)
    return paired_at


def apply_creds(session: Session, creds: object, key_files: int, where: str, healthy: Identity | None = None) -> None:
    """Set the session's state and identity from parsed creds, observing what is wrong.

    `key_files` counts the Signal key files kept beside the creds: fresh unpaired creds
    never have any, so their presence proves an earlier identity was overwritten. `healthy`:
    the identity parse_creds found them healthy with, when it did.
    """
    session.identity, problems = (healthy, []) if healthy is not None else read_creds(creds)
    if problems:
        session.state = SessionState.BROKEN
        session.observe("creds-invalid", f"{where}: {problems[0]}", Problems(tuple(problems)))
        return
    assert isinstance(creds, dict) and session.identity is not None
    me, account = creds.get("me"), creds.get("account")
    if me and account:
        session.state = SessionState.PAIRED
    elif key_files:
        session.state = SessionState.RESET
        session.observe(
            "creds-reset",
            f"unpaired creds beside {key_files} key files of an earlier identity",
            KeyFiles(key_files),
        )
    elif me:
        session.state = SessionState.HALF_PAIRED
        session.observe("half-paired", f"pairing code requested for +{session.identity.phone}, never entered")
    else:
        session.state = SessionState.UNPAIRED
        session.observe("unpaired", "waiting for a QR scan")


def apply_stored_creds(session: Session, raw: bytes | None, key_files: int, where: str) -> None:
    """Judge creds kept in a database (`raw` None: no creds there) the way a creds.json is judged."""
    if raw is None:
        if key_files:
            session.state = SessionState.KEYS_ONLY
            session.observe("creds-missing", f"{key_files} keys but no creds in {where}", KeyFiles(key_files))
        else:
            session.state = SessionState.UNPAIRED
            session.observe("unpaired", f"no creds in {where} yet: never connected")
        return
    if not raw.strip():
        session.state = SessionState.BROKEN
        session.observe("creds-empty", f"the creds in {where} are empty", KeyFiles(key_files))
        return
    creds, healthy, why = parse_creds(raw)
    if why:
        session.state = SessionState.BROKEN
        session.observe("creds-corrupt", f"the creds in {where} are {why}", Damage(len(raw), key_files))
        return
    apply_creds(session, creds, key_files, where, healthy)
