"""The human view: a Rich table of sessions, then findings grouped per session."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from wadoctor.core.findings import Finding, Severity
from wadoctor.core.model import Identity, Session, SessionState
from wadoctor.pipeline.report import Report
from wadoctor.render.console import text
from wadoctor.util.forked import chunked

_SEVERITY_STYLE = {Severity.INFO: "cyan", Severity.WARNING: "yellow", Severity.CRITICAL: "bold red"}
_SEVERITY_MARK = {Severity.INFO: "i", Severity.WARNING: "!", Severity.CRITICAL: "✗"}
_STATE_STYLE = {
    SessionState.PAIRED: "green",
    SessionState.UNPAIRED: "cyan",
    SessionState.HALF_PAIRED: "cyan",
    SessionState.KEYS_ONLY: "yellow",
    SessionState.RESET: "bold red",
    SessionState.BROKEN: "bold red",
}


def human_size(size: int) -> str:
    """Compact binary units: 512B, 9.2K, 140K, 1.3M."""
    value = float(size)
    for unit in ("B", "K", "M", "G"):
        if value < 1024 or unit == "G":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 10 else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_age(timestamp: float | None, now: float) -> str:
    """How long ago, compactly: 40s, 7m, 3h, 12d."""
    if timestamp is None:
        return "-"
    seconds = max(0.0, now - timestamp)
    for limit, div, unit in ((120, 1, "s"), (7200, 60, "m"), (172800, 3600, "h")):
        if seconds < limit:
            return f"{seconds / div:.0f}{unit} ago"
    return f"{seconds / 86400:.0f}d ago"


def identity_text(identity: Identity | None) -> str:
    if identity is None or identity.phone is None:
        return "-"
    slot = f" :{identity.device}" if identity.device is not None else ""
    return f"+{identity.phone}{slot}"


def held_by(session: Session) -> Text:
    """Who holds the session; `?` marks holders only inferred (a working folder, a name)."""
    holders = session.held_by
    if not holders:
        return text("-", "dim")
    unproven = "?" if session.holders and not any(h.proof for h in session.holders) else ""
    if len(holders) == 1:
        return text(holders[0] + unproven)
    kind = "processes" if len(holders) == len(session.holders) else "holders"
    return text(f"{len(holders)} {kind}{unproven}", "bold")


def _worst(session: Session) -> Text:
    if not session.findings:
        return text("ok", "green")
    worst = session.findings[0].severity
    return text(worst.value, _SEVERITY_STYLE[worst])


def format_text(session: Session) -> str:
    """The store format, and the gateway that keeps it where one is known: `baileys · waha`."""
    return session.format if session.gateway is None else f"{session.format} · {session.gateway.name}"


def gateway_lines(report: Report) -> list[Text]:
    return [text(f"gateway: {app.gateway.name}" + (f" {app.version}" if app.version else "")
                 + f" at {app.path} ({app.evidence})", "dim") for app in report.apps]


# Columns a narrow terminal gives up first, in order; SESSION, IDENTITY, STATE and HEALTH stay whole.
DROP_ORDER = ("gateway", "SIZE", "FILES", "ACTIVE", "FORMAT", "CONFL/1H", "HELD BY")
RIGHT = frozenset({"FILES", "SIZE", "ACTIVE", "CONFL/1H"})
TABLE_ROWS = 5000  # rows tabled at once: every report of a folder fleet fits one table
GAP = 2


def sessions_table(sessions: Sequence[Session], with_health: bool, width: int | None = None,
                   header: bool = True) -> _Rows:
    """One row per session. Where `width` is too narrow for every column, the least important
    give way (DROP_ORDER: the gateway beside the format first, then size, files, activity...)
    so that ids, identities, states and health words are never cut."""
    now = time.time()
    with_logs = any(s.logs is not None for s in sessions)  # check --logs: conflicts in the last hour
    rows: list[dict[str, Text]] = []
    for session in sessions:
        row = {
            "SESSION": text(session.id),
            "FORMAT": text(format_text(session)),
            "IDENTITY": text(identity_text(session.identity)),
            "STATE": text(session.state.value, _STATE_STYLE.get(session.state, "")),
            "FILES": text(session.files),
            "SIZE": text(human_size(session.size)),
            "ACTIVE": text(human_age(session.last_activity, now)),
            "HELD BY": held_by(session),
        }
        if with_logs:
            row["CONFL/1H"] = text((session.logs or {}).get("conflicts_last_hour", "-"))
        if with_health:
            row["HEALTH"] = _worst(session)
        rows.append(row)
    columns = list(rows[0]) if rows else ["SESSION"]
    if width is not None:
        for drop in DROP_ORDER:
            if _width(columns, rows) <= width:
                break
            if drop == "gateway":  # the format alone: `baileys`, not `baileys · evolution-api`
                for row, session in zip(rows, sessions):
                    row["FORMAT"] = text(session.format)
            elif drop in columns:
                columns.remove(drop)
    return _Rows(columns, [[row[name] for name in columns] for row in rows], header)


def _width(columns: list[str], rows: list[dict[str, Text]]) -> int:
    return sum(max([len(name), *(row[name].cell_len for row in rows)]) for name in columns) + GAP * (len(columns) - 1)


class _Rows:
    """The sessions table, drawn a line per row where every column fits at its natural width
    (nearly always): the lines Rich's Table draws, at a tenth of its cost (600 us a row: a
    table of 100,000 sessions took a minute). Where some column must shrink or fold, Rich's
    Table draws it. The tests hold both to the same segments."""

    def __init__(self, columns: list[str], cells: list[list[Text]], header: bool) -> None:
        self.columns, self.cells, self.header = columns, cells, header

    def table(self) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold", show_header=self.header)
        for name in self.columns:
            table.add_column(name, justify="right" if name in RIGHT else "left", no_wrap=name != "SESSION",
                             overflow="fold" if name == "SESSION" else "ellipsis")
        for row in self.cells:
            table.add_row(*row)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = []
        for at, name in enumerate(self.columns):
            pads = (at > 0) + (at < len(self.columns) - 1)  # the GAP: a space each side, none at the edges
            content = max([len(name) if self.header else 0, *(row[at].cell_len for row in self.cells)])
            widths.append(max(content + pads, 1) - pads)  # as Rich's, a column is at least 1 wide
        # a cell of several styles, or of zero-width characters only: Rich's own to draw
        odd = any(cell.spans or (not cell.cell_len and cell.plain) for row in self.cells for cell in row)
        if not self.cells or odd or sum(widths) + GAP * (len(widths) - 1) > options.max_width:
            yield self.table()
            return
        styles, gap = _Styles(console), " " * GAP
        if self.header:
            names = (_padded(name, len(name), name in RIGHT, width) for name, width in zip(self.columns, widths))
            yield Segment(gap.join(names), styles["bold"])
            yield Segment.line()
        plain = styles[""]
        for row in self.cells:
            line: list[Segment] = []
            for at, (cell, name, width) in enumerate(zip(row, self.columns, widths)):
                if at:
                    line.append(Segment(gap, plain))
                line.append(Segment(_padded(cell.plain, cell.cell_len, name in RIGHT, width), styles[cell.style]))
            yield from Segment.simplify(line)  # a segment per run of one style, not one per cell
            yield Segment.line()


class _Styles(dict[str | Style, Style]):
    """Each style a table's cells name, parsed once for the whole table."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def __missing__(self, name: str | Style) -> Style:
        self[name] = style = self.console.get_style(name, default=Style.null())
        return style


def _padded(plain: str, length: int, right: bool, width: int) -> str:
    """A cell's text padded to its column's width as Rich justifies a table cell
    (Lines.justify): on the left, its trailing spaces dropped, where the column is right-justified."""
    if right:
        plain = plain.rstrip()
        return " " * (width - cell_len(plain)) + plain
    return plain + " " * (width - length)


def findings_block(session: Session, verbose: bool, with_findings: bool = True) -> Group:
    # headed by the id the table's row shows (a store may hold several devices), then where it is
    lines: list[RenderableType] = [Hanging("", Text.assemble(text(session.id, "bold"), text(
        f"  {session.location}  ({format_text(session)}, {session.state.value})")))]
    if session.creds_source and session.creds_source != session.location:
        lines.append(Hanging("", text(f"  creds: {session.creds_source}", "dim")))
    if session.connection is not None:
        lines.append(Hanging("", text(f"  {session.connection.label}", "dim")))
    if verbose:
        for holder in session.holders:
            where = ""
            if holder.container:
                c = holder.container
                where = f" in container {c.name or c.id}" + (f" ({c.image})" if c.image else "")
            strength = "proven" if holder.proof else "inferred"
            lines.append(text(f"  held by pid {holder.pid} {holder.name} ({holder.user}){where} [{strength}]: "
                              f"{holder.cmdline}", "dim"))
            lines.extend(text(f"      - {why}", "dim") for why in holder.evidence)
            lines.extend(text(f"      managed by {m.label}: stop with `{m.stop}`", "dim") for m in holder.managers)
    if with_findings:
        lines.extend(finding_lines(session.findings, verbose))
    return Group(*lines)


class Hanging:
    """`body` after `indent`, its wrapped lines starting under its first (a hanging indent; no
    indent: the text as Rich wraps it). Where it fits, its one line is drawn as is, without
    the grid and the wrapping pass that draw the same at ten times the cost (the findings of
    every troubled session of a large database); a line with a character of no width (a
    combining accent) is Rich's own to draw, as in the table's rows."""

    def __init__(self, indent: str, body: Text) -> None:
        self.indent, self.body = indent, body

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lead = Text(self.indent, style=self.body.style)
        plain = self.body.plain
        if "\n" not in plain and 0 < self.body.cell_len <= options.max_width - len(self.indent) and (
                plain.isascii() and plain.isprintable() or all(map(get_character_cell_size, plain))):
            yield from Text.assemble(lead, self.body).render(console, end="\n")
            return
        if not self.indent:
            yield self.body
            return
        grid = Table.grid()
        grid.add_column(no_wrap=True, width=len(self.indent))
        grid.add_column()
        grid.add_row(lead, self.body)
        yield grid


def finding_lines(findings: list[Finding], verbose: bool) -> list[RenderableType]:
    """Each finding with its remedy (and, verbose, its evidence), indented under a heading."""
    lines: list[RenderableType] = []
    for finding in findings:
        style = _SEVERITY_STYLE[finding.severity]
        lines.append(Hanging("  ", Text.assemble(text(f"{_SEVERITY_MARK[finding.severity]} {finding.code}", style),
                                                 text(f"  {finding.message}"))))
        lines.append(Hanging("      → ", text(finding.hint, "dim")))
        if verbose and finding.evidence is not None:
            for key, value in finding.evidence.as_dict().items():
                shown = value if isinstance(value, str) else json.dumps(value, default=str)
                lines.append(Hanging("      ", text(f"{key}: {shown}", "dim")))
    return lines


def summary_line(report: Report, health: Counter[str]) -> Text:
    """`health`: sessions by their worst finding (`ok` without one), counted as they were tabled."""
    counts = report.severity_counts()
    n = report.total
    parts = [f"{n} session{'s' if n != 1 else ''}"]
    if report.command == "check":  # sessions by their worst finding, then the findings themselves
        order = (Severity.CRITICAL.value, Severity.WARNING.value, Severity.INFO.value, "ok")
        detail = ", ".join(f"{health[h]} {h}" for h in order if health[h])
        findings = sum(counts.values())
        parts.append(f"{detail}; {findings} finding{'s' if findings != 1 else ''}" if findings else "no findings")
    if report.problems:
        count = len(report.problems)
        parts.append(f"{count} path{'s' if count != 1 else ''} could not be searched")
    if report.empty:
        parts.append(f"no session found in {', '.join(report.empty[:3])}" + (
            f" and {len(report.empty) - 3} more" if len(report.empty) > 3 else "") + " (a volume not mounted?)")
    style = "bold red" if counts["critical"] and report.command == "check" else ""
    return text(": ".join(parts[:2]) + "".join(f"; {p}" for p in parts[2:]), style)


def render_table(report: Report, console: Console, verbose: bool = False) -> None:
    """The sessions table, then each troubled session's findings, then the summary. A report
    of more than TABLE_ROWS sessions (a large database, read back one session at a time) is
    tabled TABLE_ROWS rows at a time, each part sized to its own rows, so no more than that
    many rows are ever held."""
    for line in gateway_lines(report):
        console.print(line)
    if not report.total:
        console.print("No sessions found.")
    health: Counter[str] = Counter()
    for number, part in enumerate(chunked(report.every_session(), TABLE_ROWS)):
        console.print(sessions_table(part, with_health=report.command == "check", width=console.width,
                                     header=number == 0))
        health.update(s.findings[0].severity.value if s.findings else "ok" for s in part)
    if report.command == "check" or verbose:  # list -v: the holders and their evidence too
        shown = (s for s in report.every_session()
                 if (s.findings and report.command == "check") or (verbose and s.holders))
        for part in chunked(shown, TABLE_ROWS // 10):  # a print has its cost: many blocks to one
            console.print(Group(*(block for session in part for block in (
                Text(), findings_block(session, verbose, with_findings=report.command == "check")))))
    for subject, finding in report.fleet_findings:
        console.print()
        console.print(Group(text(f"fleet: {subject}", "bold"), *finding_lines([finding], verbose)))
    console.print()
    console.print(summary_line(report, health))
