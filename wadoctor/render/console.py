"""The console every human-facing output is written through.

Markup is never parsed, every string rendered is made visible (`render.escape`), and at the
one point where Rich turns segments into bytes any control character still left in content
is escaped too: whatever a renderer does, no outside byte reaches the terminal as a control
sequence, while Rich's own styles and cursor moves (control segments) still do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from wadoctor.util.escape import CONTROL_IN_LINE, escape_char, visible


def text(value: object, style: str | Style = "") -> Text:
    """A styled piece of human output, made visible whatever its origin."""
    return Text(visible(value), style=style)


class SafeConsole(Console):
    """A Rich console for text it did not choose: no markup, emoji codes or highlighting."""

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False, highlight=False)
        return super().render_str(visible(text), **options)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(CONTROL_IN_LINE.sub(escape_char, segment.text), segment.style)
            for segment in buffer)
