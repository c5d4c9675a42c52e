"""Pausing a session through its gateway's own API, and resuming it after the cooldown.

One row per gateway, from each one's published API description:
- WAHA (waha.devlike.pro, "Sessions" API): `POST /api/sessions/{name}/stop` and
  `POST /api/sessions/{name}/start`, the key in `X-Api-Key` (WHATSAPP_API_KEY).
- wppconnect-server (its README and routes): a session's bearer token from
  `POST /api/{session}/{secretkey}/generate-token`, then `POST /api/{session}/close-session`
  and `POST /api/{session}/start-session`.
Evolution API has no pause: its `DELETE /instance/logout/{instance}` unpairs the device, so
it is not offered. The key comes from an environment variable and never appears in output.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass

from wadoctor.util.masking import scrub

TIMEOUT = 10.0


@dataclass(frozen=True)
class GatewayApi:
    pause: str  # path templates, {session} quoted
    resume: str
    key_header: str | None = None  # the key sent as is in this header
    token_path: str | None = None  # or: a bearer token fetched from here with the key in the path


GATEWAY_APIS: dict[str, GatewayApi] = {
    "waha": GatewayApi("/api/sessions/{session}/stop", "/api/sessions/{session}/start", key_header="X-Api-Key"),
    "wppconnect-server": GatewayApi("/api/{session}/close-session", "/api/{session}/start-session",
                                    token_path="/api/{session}/{key}/generate-token"),
}


class ApiFailed(Exception):
    """The gateway's API refused or could not be reached; the message holds no key."""


def call(gateway: str, base: str, key_env: str | None, session: str, what: str) -> str:
    """POST the gateway's pause or resume for `session`; a one-line result."""
    api = GATEWAY_APIS[gateway]
    key = os.environ.get(key_env or "") or None
    quoted = urllib.parse.quote(session, safe="")
    headers = {"Content-Type": "application/json"}
    try:
        if api.key_header and key:
            headers[api.key_header] = key
        if api.token_path:
            token = _post(base + api.token_path.format(session=quoted, key=urllib.parse.quote(key or "", safe="")),
                          {}, {})
            headers["Authorization"] = f"Bearer {token.get('token', '')}"
        _post(base + (api.pause if what == "pause" else api.resume).format(session=quoted), {}, headers)
    except ApiFailed as exc:
        raise ApiFailed(scrub(str(exc), key, urllib.parse.quote(key or "", safe=""))) from None
    return f"{what}d through {gateway}'s API"


def _post(url: str, body: dict[str, object], headers: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            text = answer.read(1 << 16)
    except Exception as exc:  # noqa: BLE001 - HTTP errors, refused connections, timeouts alike
        raise ApiFailed(f"{type(exc).__name__}: {exc}") from None
    try:
        found = json.loads(text or b"{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
