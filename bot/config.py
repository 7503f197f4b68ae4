"""Configuration: read once from TOML (tomllib), validated eagerly, passed down frozen.

Secrets never come from the TOML file: they come from the environment mapping given to `load`.
Every error names the file, the key and the reason, and all errors are reported at once.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.model import MonitorKind


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

    platform: str  # "console" | "slack" | "discord"
    channel: str
    mention: str | None = None  # posted with major outages only


@dataclass(frozen=True)
class HttpMonitor:
    name: str
    url: str
    interval: float = 60.0
    timeout: float = 10.0
    method: str = "GET"
    expect_status: tuple[int, ...] = ()  # empty: any 2xx/3xx
    body_contains: str | None = None
    degraded_after_ms: float | None = None
    max_body_bytes: int = 2 * 1024 * 1024
    policy: Policy = field(default_factory=Policy)
    routes: tuple[Route, ...] = ()
    kind: MonitorKind = MonitorKind.HTTP


@dataclass(frozen=True)
class StatuspageMonitor:
    name: str
    url: str  # the page's base URL, e.g. https://status.openai.com
    interval: float = 60.0
    timeout: float = 10.0
    components: tuple[str, ...] = ()  # filter; empty = all
    max_body_bytes: int = 2 * 1024 * 1024
    policy: Policy = field(default_factory=Policy)
    routes: tuple[Route, ...] = ()
    kind: MonitorKind = MonitorKind.STATUSPAGE


Monitor = HttpMonitor | StatuspageMonitor


class SlackMode(StrEnum):
    SOCKET = "socket"  # SLACK_APP_TOKEN + SLACK_BOT_TOKEN
    HTTP = "http"  # SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET, listening on host:port/slack/events
    WEBHOOK = "webhook"  # SLACK_WEBHOOK_URL only: no edits, no threads


@dataclass(frozen=True)
class SlackConfig:
    mode: SlackMode
    channel: str  # default channel (id or name); webhook mode: ignored
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    api_url: str = "https://slack.com/api/"
    command: str = "/status"
    ephemeral: bool = True
    mention: str | None = None  # e.g. "<!here>" or "<!subteam^S123>", major outages only
    host: str = "0.0.0.0"
    port: int = 3000


class DiscordMode(StrEnum):
    BOT = "bot"  # DISCORD_BOT_TOKEN: gateway + REST + slash commands
    WEBHOOK = "webhook"  # DISCORD_WEBHOOK_URL only


@dataclass(frozen=True)
class DiscordConfig:
    mode: DiscordMode
    channel: str  # default channel id; webhook mode: ignored
    bot_token: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    api_url: str | None = None  # DISCORD_API_URL: REST base, e.g. http://127.0.0.1:8080/api/v10
    guild_id: int | None = None  # slash commands synced to this guild; None = global
    mention_role: str | None = None  # role id pinged on major outages only


@dataclass(frozen=True)
class Config:
    path: str
    database: str = "downwatch.db"
    monitors: tuple[Monitor, ...] = ()
    policy: Policy = field(default_factory=Policy)
    retention_days: int = 7
    rollup_days: int = 400
    control_url: str | None = None  # a reliable endpoint: when it and every check fail, the network is down
    console: bool = True
    slack: SlackConfig | None = None
    discord: DiscordConfig | None = None


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
_TOP_KEYS = {"database", "retention_days", "rollup_days", "control_url", "console", "monitors", "slack",
             "discord", *_POLICY_KEYS}
_MONITOR_KEYS = {"name", "type", "url", "interval", "timeout", "components", "expect_status", "body_contains",
                 "degraded_after_ms", "method", "max_body_bytes", "slack_channel", "slack_channels",
                 "discord_channel", "discord_channels", *_POLICY_KEYS}
_SLACK_KEYS = {"channel", "mode", "command", "ephemeral", "mention", "host", "port"}
_DISCORD_KEYS = {"channel", "guild_id", "mention_role"}
SLACK_API_DEFAULT = "https://slack.com/api/"
# What can be checked offline about "a channel that does not exist": its shape. Slack channel names are
# lowercase letters, digits, hyphens and underscores, at most 80 characters (docs.slack.dev, "Create a
# channel"); ids start with C, G or D. Discord channel ids are snowflakes (digits). Whether the bot may
# post there is only known when it tries: the outbox logs that refusal once, naming the channel.
_SLACK_CHANNEL = re.compile(r"#?[a-z0-9][a-z0-9_\-]{0,79}|[CGD][A-Z0-9]{6,}")


def _slack_channel_error(channel: str) -> str | None:
    if _SLACK_CHANNEL.fullmatch(channel):
        return None
    return (f"not a Slack channel name or id (got {channel!r}): names are lowercase letters, digits, "
            "'-' and '_' (e.g. #ops-alerts); ids look like C0123456789")


def _discord_channel_error(channel: str) -> str | None:
    return None if channel.isdigit() else f"must be a channel id (digits; got {channel!r})"


class _Checker:
    """Collects errors instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[str] = []

    def error(self, key: str, reason: str) -> None:
        self.errors.append(f"{self.path}: {key}: {reason}")

    def unknown(self, where: str, table: dict[str, object], allowed: set[str]) -> None:
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

    def channels(self, key: str, table: dict[str, object], single: str, plural: str) -> tuple[str, ...] | None:
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


def _policy(check: _Checker, where: str, table: dict[str, object], base: Policy) -> Policy:
    values: dict[str, object] = {}
    for key, kind in _POLICY_KEYS.items():
        if key in table:
            minimum = 1 if kind is int else 0
            number = check.number(f"{where}{key}", table[key], kind=kind, minimum=minimum, exclusive=kind is not int)
            if number is not None:
                values[key] = kind(number)
    return replace(base, **values)  # type: ignore[arg-type]


def load_config(path: str, env: dict[str, str] | None = None) -> Config:
    """Read and validate a TOML config; secrets come from `env`. Raises ConfigError listing every problem."""
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
    return parse_config(raw, path=path, env=env)


def parse_config(raw: dict[str, object], *, path: str, env: dict[str, str]) -> Config:
    """Validate an already-parsed TOML document (see load_config)."""
    check = _Checker(path)
    check.unknown("", raw, _TOP_KEYS)
    database = check.text("database", raw.get("database", "downwatch.db")) or "downwatch.db"
    policy = _policy(check, "", raw, Policy())
    retention = check.number("retention_days", raw.get("retention_days", 7), kind=int, minimum=1, exclusive=False)
    rollup = check.number("rollup_days", raw.get("rollup_days", 400), kind=int, minimum=1, exclusive=False)
    control = check.url("control_url", raw["control_url"]) if "control_url" in raw else None
    console = raw.get("console", True)
    if not isinstance(console, bool):
        check.error("console", f"must be true or false (got {console!r})")
        console = True
    slack = _slack(check, raw.get("slack"), env)
    discord = _discord(check, raw.get("discord"), env)
    monitors = _monitors(check, raw.get("monitors"), policy, console=console, slack=slack, discord=discord)
    if check.errors:
        raise ConfigError(check.errors)
    return Config(
        path=path, database=database, monitors=monitors, policy=policy, retention_days=int(retention or 7),
        rollup_days=int(rollup or 400), control_url=control, console=console, slack=slack, discord=discord,
    )


def _slack(check: _Checker, table: object, env: dict[str, str]) -> SlackConfig | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        check.error("slack", "must be a table ([slack])")
        return None
    check.unknown("slack.", table, _SLACK_KEYS)
    bot, app = env.get("SLACK_BOT_TOKEN"), env.get("SLACK_APP_TOKEN")
    secret, webhook = env.get("SLACK_SIGNING_SECRET"), env.get("SLACK_WEBHOOK_URL")
    mode_text = table.get("mode")
    if mode_text is None:
        mode = SlackMode.WEBHOOK if (webhook and not bot) else SlackMode.HTTP if (secret and not app) else SlackMode.SOCKET
    elif mode_text in {m.value for m in SlackMode}:
        mode = SlackMode(mode_text)
    else:
        check.error("slack.mode", f"must be one of socket, http, webhook (got {mode_text!r})")
        return None
    needs = {SlackMode.SOCKET: ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"],
             SlackMode.HTTP: ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"],
             SlackMode.WEBHOOK: ["SLACK_WEBHOOK_URL"]}[mode]
    for name in needs:
        if not env.get(name):
            check.error("slack", f"{mode.value} mode needs the environment variable {name} (set it in .env)")
    channel = table.get("channel")
    if mode is not SlackMode.WEBHOOK:
        channel = check.text("slack.channel", channel, required=True)
        problem = _slack_channel_error(channel) if channel else None
        if problem:
            check.error("slack.channel", problem)
    command = table.get("command", "/status")
    if not isinstance(command, str) or not command.startswith("/") or " " in command:
        check.error("slack.command", f"must look like /status (got {command!r})")
        command = "/status"
    ephemeral = table.get("ephemeral", True)
    if not isinstance(ephemeral, bool):
        check.error("slack.ephemeral", f"must be true or false (got {ephemeral!r})")
        ephemeral = True
    port = check.number("slack.port", table.get("port", 3000), kind=int, minimum=1, exclusive=False)
    return SlackConfig(
        mode=mode, channel=str(channel or "webhook"), bot_token=bot, app_token=app, signing_secret=secret,
        webhook_url=webhook, api_url=env.get("SLACK_API_URL") or SLACK_API_DEFAULT, command=command,
        ephemeral=ephemeral, mention=check.text("slack.mention", table.get("mention")),
        host=str(table.get("host", "0.0.0.0")), port=int(port or 3000),
    )


def _discord(check: _Checker, table: object, env: dict[str, str]) -> DiscordConfig | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        check.error("discord", "must be a table ([discord])")
        return None
    check.unknown("discord.", table, _DISCORD_KEYS)
    token, webhook = env.get("DISCORD_BOT_TOKEN"), env.get("DISCORD_WEBHOOK_URL")
    if not token and not webhook:
        check.error("discord", "needs DISCORD_BOT_TOKEN (bot mode) or DISCORD_WEBHOOK_URL (webhook mode) in the environment")
    mode = DiscordMode.BOT if token else DiscordMode.WEBHOOK
    channel = table.get("channel")
    if mode is DiscordMode.BOT or channel is not None:
        channel = check.text("discord.channel", None if channel is None else str(channel),
                             required=mode is DiscordMode.BOT)
        if channel and not channel.isdigit():
            check.error("discord.channel", f"must be a channel id (digits; got {channel!r})")
    guild = table.get("guild_id")
    if guild is not None and not (isinstance(guild, int) or (isinstance(guild, str) and guild.isdigit())):
        check.error("discord.guild_id", f"must be a server id (digits; got {guild!r})")
        guild = None
    role = table.get("mention_role")
    if role is not None and not str(role).isdigit():
        check.error("discord.mention_role", f"must be a role id (digits; got {role!r})")
        role = None
    return DiscordConfig(
        mode=mode, channel=str(channel or "webhook"), bot_token=token, webhook_url=webhook,
        api_url=env.get("DISCORD_API_URL") or None, guild_id=int(guild) if guild is not None else None,
        mention_role=str(role) if role is not None else None,
    )


@dataclass(frozen=True)
class _Common:
    """The keys every monitor type shares."""

    name: str
    url: str
    interval: float
    timeout: float
    policy: Policy
    routes: tuple[Route, ...]
    max_body_bytes: int


def _monitors(
    check: _Checker, items: object, policy: Policy, *, console: bool, slack: SlackConfig | None,
    discord: DiscordConfig | None,
) -> tuple[Monitor, ...]:
    if items is None:
        check.error("monitors", "no [[monitors]] defined: add at least one")
        return ()
    if not isinstance(items, list):
        check.error("monitors", "must be an array of tables ([[monitors]])")
        return ()
    out: list[Monitor] = []
    seen: set[str] = set()
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
        check.unknown(where, table, _MONITOR_KEYS)
        kind_text = table.get("type")
        if kind_text not in ("http", "statuspage"):
            check.error(f"{where}type", f"must be 'http' or 'statuspage' (got {kind_text!r})")
            continue
        url = check.url(f"{where}url", table.get("url"))
        interval = check.number(f"{where}interval", table.get("interval", 60), minimum=1, exclusive=False)
        timeout = check.number(f"{where}timeout", table.get("timeout", 10))
        cap = check.number(f"{where}max_body_bytes", table.get("max_body_bytes", 2 * 1024 * 1024), kind=int,
                           minimum=1024, exclusive=False)
        mine = _policy(check, where, table, policy)
        if interval and timeout and timeout >= interval:
            check.error(f"{where}timeout", f"must be shorter than interval ({timeout:g} ≥ {interval:g})")
        routes: list[Route] = [Route("console", "console")] if console else []
        slack_channels = check.channels(where, table, "slack_channel", "slack_channels")
        if slack_channels and slack is None:
            check.error(f"{where}slack_channel", "set, but there is no [slack] section")
        elif slack_channels and slack is not None and slack.mode is not SlackMode.WEBHOOK:
            for channel in slack_channels:
                if (problem := _slack_channel_error(channel)) is not None:
                    check.error(f"{where}slack_channel", problem)
        if slack is not None:
            for channel in slack_channels or (slack.channel,):
                routes.append(Route("slack", channel, slack.mention))
        discord_channels = check.channels(where, table, "discord_channel", "discord_channels")
        if discord_channels and discord is None:
            check.error(f"{where}discord_channel", "set, but there is no [discord] section")
        elif discord_channels and discord is not None and discord.mode is DiscordMode.BOT:
            for channel in discord_channels:
                if (problem := _discord_channel_error(str(channel))) is not None:
                    check.error(f"{where}discord_channel", problem)
        if discord is not None:
            mention = f"<@&{discord.mention_role}>" if discord.mention_role else None
            for channel in discord_channels or (discord.channel,):
                routes.append(Route("discord", str(channel), mention))
        valid = bool(name and url and interval and timeout and cap)
        common = _Common(name=name or "", url=url or "", interval=float(interval or 60),
                         timeout=float(timeout or 10), policy=mine, routes=tuple(routes),
                         max_body_bytes=int(cap or 1))
        if kind_text == "statuspage":
            for key in ("expect_status", "body_contains", "degraded_after_ms", "method"):
                if key in table:
                    check.error(f"{where}{key}", "only applies to type = 'http'")
            comps = table.get("components", [])
            if not isinstance(comps, list) or not all(isinstance(c, str) and c for c in comps):
                check.error(f"{where}components", "must be a list of component names")
                comps = []
            if valid:
                out.append(StatuspageMonitor(components=tuple(comps), **common.__dict__))
            continue
        if "components" in table:
            check.error(f"{where}components", "only applies to type = 'statuspage'")
        expect = table.get("expect_status", [])
        if not isinstance(expect, list) or not all(isinstance(c, int) and 100 <= c <= 599 for c in expect):
            check.error(f"{where}expect_status", f"must be a list of HTTP status codes (got {expect!r})")
            expect = []
        body = table.get("body_contains")
        if body is not None and not isinstance(body, str):
            check.error(f"{where}body_contains", f"must be a string (got {body!r})")
            body = None
        slow = table.get("degraded_after_ms")
        if slow is not None:
            slow = check.number(f"{where}degraded_after_ms", slow)
        method = table.get("method", "GET")
        if method not in ("GET", "HEAD", "POST"):
            check.error(f"{where}method", f"must be GET, HEAD or POST (got {method!r})")
            method = "GET"
        if valid:
            out.append(HttpMonitor(expect_status=tuple(expect), body_contains=body, degraded_after_ms=slow,
                                   method=str(method), **common.__dict__))
    return tuple(out)
