"""Text from outside is data: shown exactly and visibly, never as terminal control.

Session and file names, JIDs, push names, command lines, hostnames and log lines are chosen
by whoever can create a folder or write a log. `visible()` escapes control characters as
`ls -b` and Python's `repr` do (`\\x1b`, `\\n`, `\\u202e`), and the backslash itself, so a
name can be read back exactly; every human-facing writer (the console in `render.console`,
error lines, the fix log file and syslog) passes text through it. Pure Python, no Rich: the
CLI's error path uses it too.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the bidirectional and line-separator format characters that
# reorder or break what a terminal shows (a "Trojan Source" name).
_FORMAT = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f{_FORMAT}\\\\]")
CONTROL_IN_LINE = re.compile(f"[\x00-\x09\x0b-\x1f{_FORMAT}]")  # all but the line break
_NAMED = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNNAMED = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_ESCAPED = re.compile(r"\\(\\|n|t|r|x[0-9a-f]{2}|u[0-9a-f]{4})")


def escape_char(match: re.Match[str]) -> str:
    char = match[0]
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(value: object) -> str:
    """`value` as a single line of plain, printable text that maps back to it exactly."""
    return _UNSAFE.sub(escape_char, str(value))


def unescape(shown: str) -> str:
    """The inverse of `visible()`, for tools (and tests) that read wadoctor's human output."""
    return _ESCAPED.sub(lambda m: _UNNAMED.get(m[1]) or chr(int(m[1][1:], 16)), shown)
