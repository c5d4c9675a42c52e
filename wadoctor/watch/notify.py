"""Telling people: a hook command given the action's JSON on its standard input, and a
webhook the JSON is POSTed to. Each has a deadline; a failure is said, never fatal."""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.request
from typing import Any

from wadoctor.util.masking import mask_url

HOOK_SECONDS = 10.0
WEBHOOK_SECONDS = 5.0


def run_hook(command: str, body: dict[str, Any]) -> str:
    try:
        done = subprocess.run(shlex.split(command), input=json.dumps(body, default=str), text=True,
                              capture_output=True, timeout=HOOK_SECONDS)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return f"hook failed: {type(exc).__name__}: {exc}"
    return "hook ran" if done.returncode == 0 else f"hook exited {done.returncode}"


def post_webhook(url: str, body: dict[str, Any]) -> str:
    request = urllib.request.Request(url, data=json.dumps(body, default=str).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_SECONDS) as answer:
            return f"webhook {answer.status}"
    except Exception as exc:  # noqa: BLE001 - any failure of the POST is reported, never raised
        return f"webhook to {mask_url(url)} failed: {type(exc).__name__}"
