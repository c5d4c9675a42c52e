"""A systemd unit's messages, followed as `journalctl -u UNIT -f` shows them: from now on,
the message text only. journalctl is the journal's own reader (its file format, rotation and
access rules are its business); it is stopped when the follower is.

`--since=now`, not `--lines=0`: with the latter, journalctl 252 held back the second of two
entries written together until a third came (seen with a real journald in the tests)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator

from wadoctor.util.errors import NotFound

PREFIX = "journal:"


def follow_journal(unit: str, stop: threading.Event, opened: Callable[[], None] | None = None) -> Iterator[str]:
    journalctl = shutil.which("journalctl")
    if journalctl is None:
        raise NotFound(f"{PREFIX}{unit}: journalctl is not installed")
    process = subprocess.Popen([journalctl, "--unit", unit, "--follow", "--since=now", "--output=cat", "--no-pager"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, errors="replace")

    def end_with_the_follower() -> None:
        stop.wait()
        process.terminate()

    threading.Thread(target=end_with_the_follower, daemon=True).start()
    if opened is not None:
        opened()
    assert process.stdout is not None
    try:
        yield from process.stdout
    finally:
        process.terminate()
        process.wait()
