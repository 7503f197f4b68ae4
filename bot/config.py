"""Configuration: read once from TOML (tomllib), validated eagerly, passed down frozen.

Secrets never come from the TOML file: they come from the environment mapping given to `load`.
Every error names the file, the key and the reason, and all errors are reported at once.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.checks.kind import CheckKind
    from bot.platform import Platform


@dataclass(frozen=True)
class Policy:
    """Alert policy (Gatus-style thresholds, flap detection, reminders)."""

    failures_before_alert: int = 2
    successes_before_recovery: int = 2
    flap_threshold: int = 4  # more confirmed changes than this within flap_window = flapping
    flap_window: float = 1800.0  # seconds
    flap_settle: float = 600.0  # seconds stable before a flapping component is trusted again
    reminder_interval: float | None = None  # seconds; None = no reminders


@dataclass(frozen=True)
class Route:
    """Where one monitor's alerts go on one platform."""

    platform: str  # a Platform's name: "console", "slack", "discord", "webhook"…
    channel: str
    mention: str | None = None  # posted with major outages only


@dataclass(frozen=True, kw_only=True)
class Monitor:
    """What every monitor has. Each check kind subclasses it with its own keys, in its own module
    (bot/checks/http.py: HttpMonitor, statuspage.py: StatuspageMonitor, tcp.py: TcpMonitor)."""

    name: str
    url: str
    interval: float = 60.0
    timeout: float = 10.0
    policy: Policy = field(default_factory=Policy)
    routes: tuple[Route, ...] = ()
    kind: str = ""  # the `type` of the CheckKind that made it (each subclass sets its own default)


@dataclass(frozen=True)
class Config:
    path: str
    database: str = "downwatch.db"
    monitors: tuple[Monitor, ...] = ()
    policy: Policy = field(default_factory=Policy)
    retention_days: int = 7
    rollup_days: int = 400
    control_url: str | None = None  # a reliable endpoint: when it and every check fail, the network is down
    # platform name → its parsed config (each platform's own frozen type), for the platforms that are on
    platforms: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


# ---------------------------------------------------------------- loading and validation


class ConfigError(Exception):
    """Every problem found in a config, each naming the file, the key and the reason."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


_POLICY_KEYS = {
    "failures_before_alert": int,
    "successes_before_recovery": int,
    "flap_threshold": int,
    "flap_window": float,
    "flap_settle": float,
    "reminder_interval": float,
}
_TOP_KEYS = {"database", "retention_days", "rollup_days", "control_url", "monitors", *_POLICY_KEYS}  # + platforms
# The keys every monitor has; each check kind adds its own (CheckKind.keys), each platform its own
# (Platform.monitor_keys)
_MONITOR_KEYS = {"name", "type", "url", "interval", "timeout", *_POLICY_KEYS}
class Checker:
    """Collects errors instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[str] = []

    def error(self, key: str, reason: str) -> None:
        self.errors.append(f"{self.path}: {key}: {reason}")

    def unknown(self, where: str, table: Mapping[str, object], allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.error(f"{where}{key}", f"unknown key{hint}")

    def number(self, key: str, value: object, *, kind: type = float, minimum: float = 0.0,
               exclusive: bool = True) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and isinstance(value, float)):
            self.error(key, f"must be {'a whole number' if kind is int else 'a number'} (got {value!r})")
            return None
        if value < minimum or (exclusive and value == minimum):
            self.error(key, f"must be {'greater than' if exclusive else 'at least'} {minimum:g} (got {value!r})")
            return None
        return value

    def text(self, key: str, value: object, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.error(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(key, f"must be a non-empty string (got {value!r})")
            return None
        return value

    def url(self, key: str, value: object) -> str | None:
        text = self.text(key, value, required=True)
        if text is not None and not text.startswith(("http://", "https://")):
            self.error(key, f"must be an http:// or https:// URL (got {text!r})")
            return None
        return text

    def channels(self, key: str, table: Mapping[str, object], single: str, plural: str) -> tuple[str, ...] | None:
        if single in table and plural in table:
            self.error(f"{key}{plural}", f"give either {single} or {plural}, not both")
        if single in table:
            one = self.text(f"{key}{single}", table[single])
            return (one,) if one else ()
        if plural in table:
            many = table[plural]
            if not isinstance(many, list) or not many or not all(isinstance(v, str) and v for v in many):
                self.error(f"{key}{plural}", "must be a non-empty list of channel names or ids")
                return ()
            return tuple(many)
        return None


def _policy(check: Checker, where: str, table: dict[str, object], base: Policy) -> Policy:
    values: dict[str, object] = {}
    for key, kind in _POLICY_KEYS.items():
        if key in table:
            minimum = 1 if kind is int else 0
            number = check.number(f"{where}{key}", table[key], kind=kind, minimum=minimum, exclusive=kind is not int)
            if number is not None:
                values[key] = kind(number)
    return replace(base, **values)  # type: ignore[arg-type]


def load_config(
    path: str, env: Mapping[str, str] | None = None, *, kinds: Sequence[CheckKind] | None = None,
    platforms: Sequence[Platform] | None = None,
) -> Config:
    """Read and validate a TOML config; secrets come from `env`. Raises ConfigError listing every problem.
    `kinds`: the check kinds a monitor's `type` may name (None: bot.checks.KINDS). `platforms`: the chat
    platforms whose tables it may hold (the composition root passes adapters.PLATFORMS; None, for tests
    and scripts, means the same registry)."""
    env = env or {}
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    return parse_config(raw, path=path, env=env, kinds=kinds, platforms=platforms)


def parse_config(
    raw: dict[str, object], *, path: str, env: Mapping[str, str], kinds: Sequence[CheckKind] | None = None,
    platforms: Sequence[Platform] | None = None,
) -> Config:
    """Validate an already-parsed TOML document (see load_config)."""
    if kinds is None:
        # Imported here, not at the top: every kind module imports this one (Checker, Common, Monitor)
        from bot.checks import KINDS

        kinds = KINDS
    if platforms is None:  # only when no caller chose (tests, scripts): the core never needs adapters
        from adapters import PLATFORMS

        platforms = PLATFORMS
    check = Checker(path)
    check.unknown("", raw, _TOP_KEYS | {p.name for p in platforms})
    database = check.text("database", raw.get("database", "downwatch.db")) or "downwatch.db"
    policy = _policy(check, "", raw, Policy())
    retention = check.number("retention_days", raw.get("retention_days", 7), kind=int, minimum=1, exclusive=False)
    rollup = check.number("rollup_days", raw.get("rollup_days", 400), kind=int, minimum=1, exclusive=False)
    control = check.url("control_url", raw["control_url"]) if "control_url" in raw else None
    configs: dict[str, object] = {}
    for platform in platforms:
        parsed = platform.parse(check, raw.get(platform.name), env)
        if parsed is not None:
            configs[platform.name] = parsed
    monitors = _monitors(check, raw.get("monitors"), policy, kinds, platforms=platforms, configs=configs)
    if check.errors:
        raise ConfigError(check.errors)
    return Config(
        path=path, database=database, monitors=monitors, policy=policy, retention_days=int(retention or 7),
        rollup_days=int(rollup or 400), control_url=control, platforms=MappingProxyType(configs),
    )


@dataclass(frozen=True)
class Common:
    """The keys every monitor has, already validated, given to the kind's `parse`: it builds its monitor with
    `TheirMonitor(**vars(common), …)`. `url` is only known to be a non-empty string: its form is the kind's."""

    name: str
    url: str
    interval: float
    timeout: float
    policy: Policy
    routes: tuple[Route, ...]


def _monitors(
    check: Checker, items: object, policy: Policy, kinds: Sequence[CheckKind], *,
    platforms: Sequence[Platform], configs: Mapping[str, object],
) -> tuple[Monitor, ...]:
    if items is None:
        check.error("monitors", "no [[monitors]] defined: add at least one")
        return ()
    if not isinstance(items, list):
        check.error("monitors", "must be an array of tables ([[monitors]])")
        return ()
    out: list[Monitor] = []
    seen: set[str] = set()
    core_keys = _MONITOR_KEYS | {key for platform in platforms for key in platform.monitor_keys}
    for index, table in enumerate(items):
        where = f"monitors[{index}]."
        if not isinstance(table, dict):
            check.error(f"monitors[{index}]", "must be a table")
            continue
        name = check.text(f"{where}name", table.get("name"), required=True)
        if name:
            where = f"monitors[{index}] ({name})."
            if name.casefold() in seen:
                check.error(f"{where}name", "duplicate monitor name")
            seen.add(name.casefold())
        kind = _kind(check, where, table, kinds, core_keys)
        if kind is None:
            continue
        url = check.text(f"{where}url", table.get("url"), required=True)
        interval = check.number(f"{where}interval", table.get("interval", 60), minimum=1, exclusive=False)
        timeout = check.number(f"{where}timeout", table.get("timeout", 10))
        mine = _policy(check, where, table, policy)
        if interval and timeout and timeout >= interval:
            check.error(f"{where}timeout", f"must be shorter than interval ({timeout:g} ≥ {interval:g})")
        routes = _routes(check, where, table, platforms, configs)
        valid = bool(name and url and interval and timeout)
        common = Common(name=name or "", url=url or "", interval=float(interval or 60),
                        timeout=float(timeout or 10), policy=mine, routes=tuple(routes))
        monitor = kind.parse(check, where, table, common)  # its errors are reported even when `valid` is not
        if valid and monitor is not None:
            out.append(monitor)
    return tuple(out)


def _kind(
    check: Checker, where: str, table: Mapping[str, object], kinds: Sequence[CheckKind], core_keys: set[str]
) -> CheckKind | None:
    """The kind the table's `type` names, after checking that every key is known to it (or to the core)."""
    type_ = table.get("type")
    kind = next((k for k in kinds if k.type == type_), None)
    if kind is None:
        names = ", ".join(repr(k.type) for k in kinds)
        check.error(f"{where}type", f"must be one of {names} (got {type_!r})")
    allowed = core_keys | (kind.keys if kind is not None else {key for k in kinds for key in k.keys})
    unknown: dict[str, object] = {}
    for key, value in table.items():
        if key in allowed:
            continue
        owners = [repr(k.type) for k in kinds if key in k.keys]
        if owners:
            check.error(f"{where}{key}", f"only applies to type = {' or '.join(owners)}")
        else:
            unknown[key] = value
    check.unknown(where, unknown, allowed)
    return kind


def _routes(
    check: Checker, where: str, table: Mapping[str, object], platforms: Sequence[Platform],
    configs: Mapping[str, object],
) -> tuple[Route, ...]:
    """Where a monitor's alerts go: each enabled platform's routes, in registry order."""
    routes: list[Route] = []
    for platform in platforms:
        config = configs.get(platform.name)
        if config is not None:
            routes.extend(platform.routes(check, where, table, config))
            continue
        for key in platform.monitor_keys:
            if key in table:
                check.error(f"{where}{key}", f"set, but there is no [{platform.name}] section")
    return tuple(routes)
