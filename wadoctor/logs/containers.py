"""A container's log, followed through the container engine's API socket, as `docker logs -f`
reads it (Docker Engine API and Podman's compatible one: `GET /containers/{id}/logs`).

Without a TTY the engine multiplexes stdout and stderr in frames (an 8-byte header: stream,
three zero bytes, the payload's length big-endian; `application/vnd.docker.multiplexed-stream`);
with one it sends the raw stream. Either way the lines come out as they were written."""

from __future__ import annotations

import http.client
import os
import socket
import struct
import time
import urllib.parse
from collections.abc import Callable, Iterator

from wadoctor.util.errors import NotFound

SOCKETS = ("/var/run/docker.sock", "/run/podman/podman.sock")
PREFIX = "docker:"
READ = 1 << 16
CONNECT_SECONDS = 5.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)  # to connect and for the answer's headers
        self.sock.connect(self.path)


def engine_socket(candidates: tuple[str, ...] = SOCKETS) -> str:
    """$DOCKER_HOST where it names a unix socket (as the docker CLI reads it), else the first
    of the usual places that exists."""
    named = os.environ.get("DOCKER_HOST", "")
    if named.startswith("unix://"):
        return named.removeprefix("unix://")
    found = next((path for path in candidates if os.path.exists(path)), None)
    if found is None:
        raise NotFound(f"no container engine socket ({', '.join(candidates)})")
    return found


def follow_container(container: str, stop: Callable[[], bool],
                     opened: Callable[[], None] | None = None) -> Iterator[str]:
    """Lines the container writes from now on, until `stop()` (looked at after each write:
    a read that timed out leaves http.client's stream unreadable, so reads block, in the
    thread that follows this container)."""
    connection = _UnixConnection(engine_socket(), timeout=CONNECT_SECONDS)
    query = urllib.parse.urlencode({"follow": "true", "stdout": "true", "stderr": "true",
                                    "since": str(int(time.time())), "timestamps": "false"})
    connection.request("GET", f"/containers/{urllib.parse.quote(container, safe='')}/logs?{query}")
    answer = connection.getresponse()
    if answer.status != 200:
        raise NotFound(f"{PREFIX}{container}: the engine answered {answer.status} {answer.reason}")
    if connection.sock is not None:
        connection.sock.settimeout(None)
    if opened is not None:
        opened()
    framed = "multiplexed" in (answer.getheader("Content-Type") or "")
    buffer, text = b"", ""
    while not stop():
        chunk = answer.read1(READ)
        if not chunk:
            break
        buffer += chunk
        payload, buffer = _frames(buffer) if framed else (buffer, b"")
        text += payload.decode("utf-8", errors="replace")
        *lines, text = text.split("\n")
        for line in lines:
            yield line + "\n"
    connection.close()


def _frames(buffer: bytes) -> tuple[bytes, bytes]:
    """The payloads of the whole frames at the start of `buffer`, and what is left of it."""
    payload = bytearray()
    while len(buffer) >= 8:
        (size,) = struct.unpack(">I", buffer[4:8])
        if len(buffer) < 8 + size:
            break
        payload += buffer[8:8 + size]
        buffer = buffer[8 + size:]
    return bytes(payload), buffer
