"""wadoctor.toml: where sessions live, thresholds, and per-code severity overrides.

Read with tomllib and checked strictly: a misspelt key is an error, not a silently ignored
setting, because a threshold that does not apply is worse than no config at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wadoctor.errors import ConfigError, UsageError
from wadoctor.findings import CODES, Severity
from wadoctor.stores.sources import StoreSource, parse_source

if TYPE_CHECKING:
    from datetime import tzinfo

CONFIG_NAME = "wadoctor.toml"
SYSTEM_CONFIG = Path("/etc/wadoctor") / CONFIG_NAME
ENV_CONFIG = "WADOCTOR_CONFIG"
ENV_REGISTRY = "WADOCTOR_REGISTRY"
IGNORE = "ignore"


@dataclass
class Thresholds:
    """When log figures become findings ([logs] in wadoctor.toml)."""

    conflicts_warning_per_hour: int = 3
    conflicts_critical_per_hour: int = 10
    storm_reconnects: int = 10
    storm_seconds: float = 60.0


@dataclass
class Config:
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
    log_timezone: str = "local"  # of log times written without a zone: local, UTC or an IANA name

    @property
    def log_zone(self) -> tzinfo | None:
        """The zone of zone-less log times; None for the host's local time."""
        from datetime import timezone
        from zoneinfo import ZoneInfo

        if self.log_timezone == "local":
            return None
        return timezone.utc if self.log_timezone.upper() == "UTC" else ZoneInfo(self.log_timezone)
    # code -> severity; None means the code is ignored
    severity: dict[str, Severity | None] = field(default_factory=dict)
    source: Path | None = None


DEFAULT_SESSION_KEYS = ("session", "sessionId", "instance", "instanceName", "clientId", "id")
_LOG_NUMBERS = {"conflicts_warning_per_hour": (int,), "conflicts_critical_per_hour": (int,),
                "storm_reconnects": (int,), "storm_seconds": (int, float)}
_THRESHOLDS = {"pairing_abandoned_minutes": (int, float), "connecting_minutes": (int, float), "bloat_files": (int,)}


def _expect(value: Any, kinds: tuple[type, ...], where: str, path: Path) -> Any:
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(f"{path}: {where} must be a {names}, not {value!r}")
    return value


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    return _expect(data.get(name, {}), (dict,), f"[{name}]", path)


_STORE_KEYS = {"url", "kind", "instances", "redis", "prefix", "password_env"}


def _store(entry: Any, path: Path) -> StoreSource:
    """One [[stores]] table: a database source, its key folders relative to the config file."""
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
    """Build a Config from a parsed TOML document, rejecting anything unknown."""
    config = Config(source=path)
    unknown = set(data) - {"roots", "thresholds", "discovery", "severity", "backups", "fix", "logs", "registry",
                           "prometheus", "stores"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    roots = _expect(data.get("roots", []), (list,), "roots", path)
    config.roots = [path.parent / _expect(r, (str,), "each root", path) for r in roots]
    config.stores = [_store(entry, path) for entry in _expect(data.get("stores", []), (list,), "[[stores]]", path)]
    thresholds = _table(data, "thresholds", path)
    for key, value in thresholds.items():
        if key not in _THRESHOLDS:
            raise ConfigError(f"{path}: unknown key 'thresholds.{key}'")
        if _expect(value, _THRESHOLDS[key], f"thresholds.{key}", path) < 0:
            raise ConfigError(f"{path}: thresholds.{key} must not be negative")
        setattr(config, key, value)
    discovery = _table(data, "discovery", path)
    for key, value in discovery.items():
        if key != "max_depth":
            raise ConfigError(f"{path}: unknown key 'discovery.{key}'")
        config.max_depth = _expect(value, (int,), "discovery.max_depth", path)
    for key, value in _table(data, "backups", path).items():
        if key != "keep":
            raise ConfigError(f"{path}: unknown key 'backups.{key}'")
        if _expect(value, (int,), "backups.keep", path) < 0:
            raise ConfigError(f"{path}: backups.keep must not be negative")
        config.backups_keep = value
    for key, value in _table(data, "fix", path).items():
        if key not in ("foreign_locks", "purge_abandoned"):
            raise ConfigError(f"{path}: unknown key 'fix.{key}'")
        setattr(config, f"fix_{key}", _expect(value, (bool,), f"fix.{key}", path))
    for key, value in _table(data, "logs", path).items():
        if key == "session_keys":
            keys = _expect(value, (list,), "logs.session_keys", path)
            config.log_session_keys = [_expect(k, (str,), "each of logs.session_keys", path) for k in keys]
        elif key == "timezone":
            config.log_timezone = _expect(value, (str,), "logs.timezone", path)
            try:
                config.log_zone  # noqa: B018 - validated here, where the error can name the file
            except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
                raise ConfigError(f"{path}: logs.timezone must be local, UTC or a zone name such as "
                                  f"America/Bogota, not {value!r}") from None
        elif key in _LOG_NUMBERS:
            if _expect(value, _LOG_NUMBERS[key], f"logs.{key}", path) <= 0:
                raise ConfigError(f"{path}: logs.{key} must be positive")
            setattr(config.log_thresholds, key, value)
        else:
            raise ConfigError(f"{path}: unknown key 'logs.{key}'")
    for key, value in _table(data, "registry", path).items():
        if key == "url":
            config.registry_url = _expect(value, (str,), "registry.url", path)
        elif key == "stale_after_minutes":
            config.registry_stale_minutes = _expect(value, (int, float), "registry.stale_after_minutes", path)
        else:
            raise ConfigError(f"{path}: unknown key 'registry.{key}'")
    for key, value in _table(data, "prometheus", path).items():
        if key != "mask_phones":
            raise ConfigError(f"{path}: unknown key 'prometheus.{key}'")
        config.prometheus_mask_phones = _expect(value, (bool,), "prometheus.mask_phones", path)
    for code, level in _table(data, "severity", path).items():
        if code not in CODES:
            raise ConfigError(f"{path}: [severity] names unknown finding code {code!r}")
        choices = [s.value for s in Severity] + [IGNORE]
        if level not in choices:
            raise ConfigError(f"{path}: severity of {code} must be one of {', '.join(choices)}")
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

    from wadoctor.trusted import Untrusted, check_file_and_folders

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


# What `wadoctor init` writes: each section's keys with their defaults and what each does.
_DOCUMENTED: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("thresholds", (
        ("pairing_abandoned_minutes", "pairing_abandoned_minutes", "an unpaired session older than this is abandoned"),
        ("connecting_minutes", "connecting_minutes", "a gateway's own 'connecting' record older than this is stuck"),
        ("bloat_files", "bloat_files", "more key files than this in one session is bloat"),
    )),
    ("discovery", (("max_depth", "max_depth", "how deep below each root sessions are looked for"),)),
    ("backups", (("keep", "backups_keep", "verified creds.json copies kept per session (0: none)"),)),
    ("fix", (
        ("foreign_locks", "fix_foreign_locks", "let fix remove Chromium locks written by another host"),
        ("purge_abandoned", "fix_purge_abandoned", "let fix quarantine never-paired and logged-out sessions"),
    )),
    ("logs", (
        ("session_keys", "log_session_keys", "pino bindings that name the session"),
        ("timezone", "log_timezone", "of log times written without a zone: local, UTC or e.g. America/Bogota"),
        ("conflicts_warning_per_hour", "log_thresholds.conflicts_warning_per_hour", "conflicts in an hour: a warning"),
        ("conflicts_critical_per_hour", "log_thresholds.conflicts_critical_per_hour", "... and critical"),
        ("storm_reconnects", "log_thresholds.storm_reconnects", "reconnects within storm_seconds make a storm"),
        ("storm_seconds", "log_thresholds.storm_seconds", "the window of a reconnect storm"),
    )),
    ("prometheus", (("mask_phones", "prometheus_mask_phones", "mask phone numbers in metric labels"),)),
)


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
    for section, keys in _DOCUMENTED:
        lines += ["", f"[{section}]"]
        for key, attribute, comment in keys:
            value: object = defaults
            for part in attribute.split("."):
                value = getattr(value, part)
            lines.append(f"{key} = {_toml_value(value)}  # {comment}")
    lines += ["", "# [registry]", '# url = "postgresql://wadoctor@db.internal/gateways"  # or $WADOCTOR_REGISTRY',
              f"# stale_after_minutes = {_toml_value(defaults.registry_stale_minutes)}", "",
              "[severity]", "# Override a finding's severity: info, warning, critical or ignore. Defaults:"]
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
