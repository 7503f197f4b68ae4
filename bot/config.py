"""Configuration: read once from TOML (tomllib), validated eagerly, passed down frozen.

Secrets never come from the TOML file: they come from the environment mapping given to `load`.
Every error names the file, the key and the reason, and all errors are reported at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
