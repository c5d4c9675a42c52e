"""The envelope every `--json` document shares (docs/contracts.md): `schema_version`, `tool`,
`command` and `generated_at` first, the command's own fields, then `summary` with the
`exit_code` the process exits with. Written here once, for every command."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import Any

from wadoctor import JSON_SCHEMA_VERSION, __version__
from wadoctor.util.times import iso


def document(command: str, body: dict[str, Any], exit_code: int, summary: dict[str, Any] | None = None,
             generated_at: float | None = None) -> dict[str, Any]:
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "wadoctor", "version": __version__},
        "command": command,
        "generated_at": iso(time.time() if generated_at is None else generated_at),
        **body,
        "summary": {**(summary or {}), "exit_code": exit_code},
    }


def write_json(doc: dict[str, Any]) -> None:
    """The one place a whole document goes to standard output."""
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


def write_chunks(chunks: Iterable[bytes]) -> None:
    """A document written in pieces (jsonout.document_chunks), as bytes straight to standard
    output, after whatever text went before."""
    sys.stdout.flush()
    sys.stdout.buffer.writelines(chunks)
    sys.stdout.buffer.flush()
