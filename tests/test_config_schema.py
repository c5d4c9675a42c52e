"""The config schema (wadoctor.config.SETTINGS) refuses every wrong value of every key, and
what `wadoctor init` writes is exactly the defaults the parser starts from."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wadoctor.config import SETTINGS, Config, Setting, default_config_text, parse_config
from wadoctor.util.errors import ConfigError

PATH = Path("/etc/wadoctor/wadoctor.toml")
_any_value = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                       st.text(max_size=20), st.lists(st.integers(), max_size=3),
                       st.lists(st.text(max_size=5), max_size=3),
                       st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _fits(setting: Setting, value: object) -> bool:
    """The schema's rule, said independently: what a user may write for the key."""
    if setting.kind is bool:
        return isinstance(value, bool)
    if setting.kind is str and setting.choices:
        return value in setting.choices
    if setting.kind is str:
        return isinstance(value, str) and (setting.name != "logs.timezone" or value == "local"
                                           or value.upper() == "UTC" or value in available_timezones())
    if setting.kind is list:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if isinstance(value, bool) or not isinstance(value, (int, float) if setting.kind is float else int):
        return False
    if not math.isfinite(value):
        return False
    return setting.low is None or (value > setting.low if setting.above else value >= setting.low)


@given(st.sampled_from(SETTINGS), _any_value)
def test_every_key_refuses_every_wrong_value_naming_the_key(setting: Setting, value: object) -> None:
    document = {setting.section: {setting.key: value}}
    if _fits(setting, value):
        parse_config(document, PATH)
        return
    with pytest.raises(ConfigError) as refused:
        parse_config(document, PATH)
    message = str(refused.value)
    assert setting.name in message and "\n" not in message and len(message) < 300, message


def test_init_writes_the_defaults_the_parser_starts_from() -> None:
    written = tomllib.loads(default_config_text(["sessions"]))
    config = parse_config(written, PATH)
    defaults = Config(source=PATH, roots=[PATH.parent / "sessions"])
    assert config == defaults
    documented = {f"{section}.{key}" for section, table in written.items() if isinstance(table, dict) for key in table}
    assert documented == {s.name for s in SETTINGS if not s.example}


def test_a_wrong_value_is_exit_78_naming_the_key(tmp_path, cli) -> None:
    (tmp_path / "wadoctor.toml").write_text("[registry]\nstale_after_minutes = -5\n")
    run = cli("check", cwd=tmp_path)
    assert run.code == 78 and "registry.stale_after_minutes must be a number > 0, not -5" in run.err
