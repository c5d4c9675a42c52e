"""wadoctor.toml: where sessions live, thresholds, and per-code severity overrides.

Read with tomllib and checked strictly: a misspelt key is an error, not a silently ignored
setting, because a threshold that does not apply is worse than no config at all.
"""

from __future__ import annotations

import math
import os
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wadoctor.core.findings import CODES, Severity
from wadoctor.util.errors import ConfigError, UsageError
from wadoctor.util.records import Record, field

if TYPE_CHECKING:
    from datetime import tzinfo

    from wadoctor.stores.sources import StoreSource

CONFIG_NAME = "wadoctor.toml"
SYSTEM_CONFIG = Path("/etc/wadoctor") / CONFIG_NAME
ENV_CONFIG = "WADOCTOR_CONFIG"
ENV_REGISTRY = "WADOCTOR_REGISTRY"
IGNORE = "ignore"
DEFAULT_SESSION_KEYS = ("session", "sessionId", "instance", "instanceName", "clientId", "id")


class Thresholds(Record):
    """When log figures become findings ([logs] in wadoctor.toml)."""

    conflicts_warning_per_hour: int = 3
    conflicts_critical_per_hour: int = 10
    storm_reconnects: int = 10
    storm_seconds: float = 60.0


class WatchPolicy(Record):
    """[watch]: when a session's conflicts open its circuit, and what is done, per cause."""

    conflicts: int = 3
    window_seconds: float = 120.0
    cooldown_seconds: float = 90.0
    interval_seconds: float = 120.0
    on_duplicate: str = "notify"
    on_copy: str = "notify"
    on_unknown: str = "notify"
    purge_abandoned: bool = False
    gateway_api: str = "none"
    api_url: str | None = None
    api_key_env: str | None = None
    hook: str | None = None
    webhook: str | None = None


class Config(Record):
    roots: list[Path] = field(default_factory=list)
    stores: list[StoreSource] = field(default_factory=list)  # [[stores]]: auth state in databases
    pairing_abandoned_minutes: float = 10.0
    connecting_minutes: float = 10.0  # a gateway's own `connecting` record older than this is stuck
    bloat_files: int = 10_000
    max_depth: int = 4
    backups_keep: int = 5  # verified creds.json copies kept per session; 0 disables
    fix_foreign_locks: bool = False  # may fix remove a Chromium lock written by another host
    fix_purge_abandoned: bool = False  # may fix quarantine never-paired and logged-out sessions
    registry_url: str | None = None
    registry_stale_minutes: float = 15.0
    prometheus_mask_phones: bool = True  # phone numbers in metric labels, masked unless turned off
    log_session_keys: list[str] = field(default_factory=lambda: list(DEFAULT_SESSION_KEYS))
    log_thresholds: Thresholds = field(default_factory=Thresholds)
    watch: WatchPolicy = field(default_factory=WatchPolicy)
    log_timezone: str = "local"  # of log times written without a zone: local, UTC or an IANA name

    @property
    def log_zone(self) -> tzinfo | None:
        """The zone of zone-less log times; None for the host's local time."""
        if self.log_timezone == "local":
            return None
        if self.log_timezone.upper() == "UTC":
            return UTC
        from zoneinfo import ZoneInfo  # its tz database search path: only for a named zone

        return ZoneInfo(self.log_timezone)
    # code -> severity; None means the code is ignored
    severity: dict[str, Severity | None] = field(default_factory=dict)
    source: Path | None = None




# One row per setting: the parser, the defaults `init` writes and every error message come
# from here, so a setting is declared once.
class Setting(Record, frozen=True):
    section: str
    key: str
    attribute: str  # on Config; dotted into log_thresholds
    kind: type  # int, float (an integer is accepted), bool, str, or list (of strings)
    doc: str
    low: float | None = None  # the least value allowed
    above: bool = False  # `low` itself not allowed: it must be above it
    example: bool = False  # `init` writes it commented out, as an example
    choices: tuple[str, ...] | None = None  # the only strings it takes
    sample: str | None = None  # what `init` shows for a setting with no default

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def wanted(self) -> str:
        """What the setting takes, as the error message says it."""
        noun = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
                list: "a list of strings"}[self.kind]
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.low is None:
            return noun
        return f"{noun} {'>' if self.above else '>='} {self.low:g}"


SETTINGS: tuple[Setting, ...] = (
    Setting("thresholds", "pairing_abandoned_minutes", "pairing_abandoned_minutes", float,
            "an unpaired session older than this is abandoned", low=0),
    Setting("thresholds", "connecting_minutes", "connecting_minutes", float,
            "a gateway's own 'connecting' record older than this is stuck", low=0),
    Setting("thresholds", "bloat_files", "bloat_files", int, "more key files than this in one session is bloat",
            low=1),
    Setting("discovery", "max_depth", "max_depth", int, "how deep below each root sessions are looked for", low=0),
    Setting("backups", "keep", "backups_keep", int, "verified creds.json copies kept per session (0: none)", low=0),
    Setting("fix", "foreign_locks", "fix_foreign_locks", bool, "let fix remove Chromium locks written by another host"),
    Setting("fix", "purge_abandoned", "fix_purge_abandoned", bool,
            "let fix quarantine never-paired and logged-out sessions"),
    Setting("logs", "session_keys", "log_session_keys", list, "pino bindings that name the session"),
    Setting("logs", "timezone", "log_timezone", str,
            "of log times written without a zone: local, UTC or e.g. America/Bogota"),
    Setting("logs", "conflicts_warning_per_hour", "log_thresholds.conflicts_warning_per_hour", int,
            "conflicts in an hour: a warning", low=0, above=True),
    Setting("logs", "conflicts_critical_per_hour", "log_thresholds.conflicts_critical_per_hour", int,
            "... and critical", low=0, above=True),
    Setting("logs", "storm_reconnects", "log_thresholds.storm_reconnects", int,
            "reconnects within storm_seconds make a storm", low=0, above=True),
    Setting("logs", "storm_seconds", "log_thresholds.storm_seconds", float, "the window of a reconnect storm",
            low=0, above=True),
    Setting("registry", "url", "registry_url", str, "or $WADOCTOR_REGISTRY", example=True,
            sample="postgresql://wadoctor@db.internal/gateways"),
    Setting("registry", "stale_after_minutes", "registry_stale_minutes", float,
            "a host silent for longer is reported", low=0, above=True, example=True),
    Setting("prometheus", "mask_phones", "prometheus_mask_phones", bool, "mask phone numbers in metric labels"),
    Setting("watch", "conflicts", "watch.conflicts", int, "conflicts of one session within window_seconds open "
            "its circuit", low=1),
    Setting("watch", "window_seconds", "watch.window_seconds", float, "the window conflicts are counted in",
            low=0, above=True),
    Setting("watch", "cooldown_seconds", "watch.cooldown_seconds", float, "after an action, the least wait before "
            "the next for that session (doubled on each repeat)", low=0),
    Setting("watch", "interval_seconds", "watch.interval_seconds", float, "a full check this often, whatever "
            "changed", low=1),
    Setting("watch", "on_duplicate", "watch.on_duplicate", str, "a proven second holder here: notify, "
            "stop-duplicate or pause-session", choices=("notify", "stop-duplicate", "pause-session")),
    Setting("watch", "on_copy", "watch.on_copy", str, "a copy of the identity held here or on another host",
            choices=("notify", "pause-session")),
    Setting("watch", "on_unknown", "watch.on_unknown", str, "no cause on this host (another device or server)",
            choices=("notify", "pause-session")),
    Setting("watch", "purge_abandoned", "watch.purge_abandoned", bool, "quarantine (restorably) sessions that "
            "cross pairing_abandoned_minutes unpaired, and logged-out profiles; never by default"),
    Setting("watch", "gateway_api", "watch.gateway_api", str, "whose API pause-session calls: none, waha or "
            "wppconnect-server", choices=("none", "waha", "wppconnect-server")),
    Setting("watch", "api_url", "watch.api_url", str, "the gateway API's base URL", example=True,
            sample="http://127.0.0.1:3000"),
    Setting("watch", "api_key_env", "watch.api_key_env", str, "the environment variable holding its key "
            "(WAHA's WHATSAPP_API_KEY, wppconnect-server's secret key)", example=True, sample="WAHA_API_KEY"),
    Setting("watch", "hook", "watch.hook", str, "a command run with each action's JSON on standard input",
            example=True, sample="/usr/local/bin/page-oncall"),
    Setting("watch", "webhook", "watch.webhook", str, "a URL each action's JSON is POSTed to", example=True,
            sample="https://hooks.example.com/wadoctor"),
)
TABLES = tuple(dict.fromkeys(s.section for s in SETTINGS))  # the sections SETTINGS describe
SECTIONS = ("roots", "stores", "severity", *TABLES)


def _value(setting: Setting, value: Any, path: Path) -> Any:
    """`value` checked against the setting's row: its type, then its bounds."""
    kind = setting.kind
    numbers = (int, float) if kind is float else (kind,)
    fits = isinstance(value, numbers) and not (isinstance(value, bool) and kind is not bool)
    if kind is list:
        fits = fits and all(isinstance(item, str) for item in value)
    if kind is float and fits:
        value = float(value)
        fits = math.isfinite(value)
    if fits and setting.choices is not None:
        fits = value in setting.choices
    if fits and setting.low is not None:
        fits = value > setting.low if setting.above else value >= setting.low
    if not fits:
        raise ConfigError(f"{path}: {setting.name} must be {setting.wanted}, not {_shown(value)}")
    return list(value) if kind is list else value


def _shown(value: Any) -> str:
    """A wrong value as an error message quotes it: short, on one line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _set(config: Config, attribute: str, value: Any) -> None:
    *parents, last = attribute.split(".")
    setattr(_get(config, ".".join(parents)) if parents else config, last, value)


def _get(config: Config, attribute: str) -> Any:
    value: Any = config
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def _expect(value: Any, kinds: tuple[type, ...], where: str, path: Path) -> Any:
    """For what SETTINGS does not describe: roots, [[stores]], [severity] and the tables."""
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        nouns: dict[type, str] = {dict: "a table", list: "a list", str: "a string"}
        names = " or ".join(nouns.get(k, k.__name__) for k in kinds)
        raise ConfigError(f"{path}: {where} must be {names}, not {_shown(value)}")
    return value


_STORE_KEYS = {"url", "kind", "instances", "redis", "prefix", "password_env"}


def _store(entry: Any, path: Path) -> StoreSource:
    """One [[stores]] table: a database source, its key folders relative to the config file."""
    from wadoctor.stores.sources import parse_source  # URL parsing: only for a config that has stores

    entry = _expect(entry, (dict,), "each [[stores]] entry", path)
    unknown = sorted(set(entry) - _STORE_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key 'stores.{unknown[0]}'")
    if "url" not in entry:
        raise ConfigError(f"{path}: a [[stores]] entry needs a url")
    text = {k: _expect(v, (str,), f"stores.{k}", path) for k, v in entry.items() if k != "instances"}
    instances = _expect(entry.get("instances", []), (list, str), "stores.instances", path)
    folders = tuple(path.parent / _expect(f, (str,), "each of stores.instances", path)
                    for f in ([instances] if isinstance(instances, str) else instances))
    try:
        return parse_source(text["url"], text.get("kind"), folders, text.get("redis"), text.get("prefix"),
                            text.get("password_env"))
    except UsageError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Build a Config from a parsed TOML document, rejecting anything unknown or out of bounds."""
    config = Config(source=path)
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}")
    roots = _expect(data.get("roots", []), (list,), "roots", path)
    config.roots = [path.parent / _expect(r, (str,), "each root", path) for r in roots]
    config.stores = [_store(entry, path) for entry in _expect(data.get("stores", []), (list,), "[[stores]]", path)]
    by_name = {s.name: s for s in SETTINGS}
    for section in TABLES:
        for key, value in _expect(data.get(section, {}), (dict,), f"[{section}]", path).items():
            setting = by_name.get(f"{section}.{key}")
            if setting is None:
                raise ConfigError(f"{path}: unknown key '{section}.{key}'")
            _set(config, setting.attribute, _value(setting, value, path))
    try:
        config.log_zone  # noqa: B018 - validated here, where the error can name the file
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise ConfigError(f"{path}: logs.timezone must be local, UTC or a zone name such as "
                          f"America/Bogota, not {_shown(config.log_timezone)}") from None
    for code, level in _expect(data.get("severity", {}), (dict,), "[severity]", path).items():
        if code not in CODES:
            raise ConfigError(f"{path}: [severity] names unknown finding code {code!r}")
        choices = [s.value for s in Severity] + [IGNORE]
        if level not in choices:
            raise ConfigError(f"{path}: severity.{code} must be one of {', '.join(choices)}, not {_shown(level)}")
        config.severity[code] = None if level == IGNORE else Severity(level)
    return config


def config_candidates(cwd: Path | None = None) -> list[Path]:
    """Where a config is looked for when none is named, first found wins: the current folder,
    then the user's ($XDG_CONFIG_HOME, not for root: cron runs as root from anywhere), then the
    system's."""
    found = [(cwd or Path.cwd()) / CONFIG_NAME]
    if os.geteuid() != 0:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        found.append(Path(base) / "wadoctor" / CONFIG_NAME)
    found.append(SYSTEM_CONFIG)
    return found


def load_config(explicit: Path | None = None, cwd: Path | None = None) -> Config:
    """The config from --config, else $WADOCTOR_CONFIG, else the first of `config_candidates`
    that exists, else defaults. Whichever it is, a file that another user than root or the one
    running wadoctor owns, that group or others may write, or that lies in such a folder is
    refused (exit 78): from a deploy hook, ./wadoctor.toml may be the gateway user's."""
    path = explicit
    if path is None and os.environ.get(ENV_CONFIG):
        path = Path(os.environ[ENV_CONFIG])
    if path is None:
        path = next((c for c in config_candidates(cwd) if c.is_file()), None)
        if path is None:
            return Config()
    import tomllib  # only where there is a file to parse: most runs have none

    from wadoctor.util.trusted import Untrusted, check_file_and_folders

    if not os.path.exists(path):
        raise ConfigError(f"{path}: config file not found")
    try:
        check_file_and_folders(path)  # a config another user could write is never obeyed
    except Untrusted as exc:
        raise ConfigError(str(exc)) from None
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path)


def registry_url(config: Config, option: str | None) -> str | None:
    """--registry, else $WADOCTOR_REGISTRY, else [registry] url."""
    return option or os.environ.get(ENV_REGISTRY) or config.registry_url


def _toml_value(value: object) -> str:
    """One value as TOML on one line (so a comment can follow it); 10, not 10.0."""
    import tomli_w

    if isinstance(value, list):
        return f"[{', '.join(_toml_value(item) for item in value)}]"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return tomli_w.dumps({"v": value}).partition("=")[2].strip()


def default_config_text(roots: list[str] | None = None, note: str | None = None) -> str:
    """The commented wadoctor.toml that `wadoctor init` writes: every key with its default and
    a comment on what it does; `roots` as found (or commented out, with `note` saying why)."""
    defaults = Config()
    lines = ["# wadoctor configuration. Paths in `roots` are relative to this file."]
    if roots:
        lines.append(f"roots = {_toml_value(roots)}  # folders holding sessions; with none, the current folder")
    else:
        lines.append(f'# roots = ["sessions"]{f"  # {note}" if note else ""}')
    for section in TABLES:
        settings = [s for s in SETTINGS if s.section == section]
        lines += ["", f"{'# ' if all(s.example for s in settings) else ''}[{section}]"]
        for setting in settings:
            value = _get(defaults, setting.attribute)
            if value is None:
                value = setting.sample
            line = f"{setting.key} = {_toml_value(value)}  # {setting.doc}"
            lines.append(f"# {line}" if setting.example else line)
    lines += ["", "[severity]", "# Override a finding's severity: info, warning, critical or ignore. Defaults:"]
    lines += [f'# {c.code} = "{c.severity.value}"' for c in CODES.values()]
    return "\n".join(lines) + "\n"


def write_default_config(path: Path, force: bool = False, roots: list[str] | None = None,
                         note: str | None = None) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(roots, note))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write config: {exc.strerror}") from None
