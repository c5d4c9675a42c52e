"""The table draws what Rich's Table draws, line by line where that is faster.

A table of a large database's sessions drawn by Rich's Table cost 600 us a row, and each
finding's hanging indent a grid of its own; wadoctor.render.table draws the rows and the
indents as plain lines wherever everything fits at its natural width. Drawn into a terminal,
each character must come out with the style Rich's own Table and grid give it, at any width.
"""

from __future__ import annotations

import io

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from wadoctor.render.table import RIGHT, Hanging, _Rows

COLUMNS = ["SESSION", "FORMAT", "IDENTITY", "STATE", "FILES", "SIZE", "ACTIVE", "HELD BY", "HEALTH"]
# what cells hold: ids and names in any script (wide CJK, emoji, combining marks), numbers, words
_words = st.text(st.sampled_from("ab-_.:/ 0123456789é漢字😀\u0301"), min_size=0, max_size=14)
_styles = st.sampled_from(["", "green", "bold red", "dim", "cyan", "yellow"])
_cells = st.builds(Text, _words, style=_styles)
_lines = st.one_of(_cells, st.lists(_cells, max_size=12).map(lambda parts: Text(" ").join(parts)))


def drawn(renderable: object, width: int) -> list[tuple[str, object]]:
    """Each character a terminal of `width` columns is sent, with its style (None: none)."""
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor")
    return [(char, segment.style or None) for segment in Segment.filter_control(console.render(renderable))
            for char in segment.text]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=9, unique=True), st.integers(0, 6), st.booleans(),
       st.integers(20, 200), st.data())
def test_rows_are_drawn_as_rich_draws_the_table(columns, count, header, width, data):
    cells = [[data.draw(_lines) for _ in columns] for _ in range(count)]
    rows = _Rows(columns, cells, header)
    assert drawn(rows, width) == drawn(rows.table(), width)


def test_rows_that_fit_are_drawn_as_lines_and_others_by_rich():
    cells = [[Text("shop"), Text("12"), Text("paired", "green")], [Text("a-longer-one"), Text("1"), Text("ok")]]
    rows = _Rows(["SESSION", "FILES", "STATE"], cells, True)
    assert "FILES" in RIGHT
    lines = Console(file=io.StringIO(), width=80).render_lines(rows, pad=False)
    assert ["".join(s.text for s in line) for line in lines] == [
        "SESSION       FILES  STATE ", "shop             12  paired", "a-longer-one      1  ok    "]
    narrow = Console(file=io.StringIO(), width=20).render_lines(rows, pad=False)
    assert len(narrow) > 3  # the ids fold under Rich's Table, where the columns cannot all fit



@settings(max_examples=500)
@given(st.sampled_from(["", "  ", "      → ", "      "]), _lines, st.integers(10, 120))
@example("  ", Text(" ").join([Text("\u0301"), Text(" ", style="green")]), 10)  # found by hypothesis: a combining
def test_a_hanging_indent_is_drawn_as_its_grid_draws_it(indent, body, width):  # accent, a styled space at the end
    """...and a line without one as Rich draws the text itself, wrapped where it is long."""
    grid = Table.grid()
    grid.add_column(no_wrap=True, width=len(indent))
    grid.add_column()
    grid.add_row(Text(indent, style=body.style), body)
    assert drawn(Hanging(indent, body), width) == drawn(grid if indent else body, width)
