"""`logs`: whole files read at once, or one growing file followed until told to stop; the
caller chooses how alerts and the running picture are shown."""

from __future__ import annotations

from collections.abc import Callable

from wadoctor.config import Config
from wadoctor.logs.analysis import feed
from wadoctor.logs.events import may_matter
from wadoctor.logs.report import LogReport
from wadoctor.logs.run import analyze, make_parser, new_analysis, report_of
from wadoctor.logs.sources import follow


def read_logs(files: list[str], config: Config, since: str | None = None, until: str | None = None,
              session: str | None = None, pattern: str | None = None) -> LogReport:
    return report_of(analyze(files, config, since, until, session, pattern), config)


def follow_log(name: str, config: Config, stop: Callable[[], bool], since: str | None = None,
               until: str | None = None, session: str | None = None, pattern: str | None = None,
               on_alert: Callable[[str], None] | None = None,
               on_line: Callable[[LogReport], None] | None = None) -> LogReport:
    """Read `name` as it grows (through rotation and truncation) until `stop()`: each alert
    to `on_alert` as it happens, the picture after each line that mattered to `on_line`."""
    analysis = new_analysis(config, since, until, session)
    parser = make_parser(config, pattern)
    lines = ((n, line) for n, line in enumerate(follow(name, stop)) if may_matter(line))
    if on_line is None:
        feed(analysis, parser, lines, on_alert=on_alert)
    else:
        for line in lines:
            feed(analysis, parser, [line], on_alert=on_alert)
            on_line(report_of(analysis, config))
    return report_of(analysis, config)
