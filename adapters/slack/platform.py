"""Slack as a platform plug-in: the [slack] table, its secrets, channel syntax, mention and adapter choice.

Light on purpose: config validation imports this, so slack-bolt and slack_sdk load only in `build`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.chat import ChatAdapter
from bot.clock import Clock
from bot.config import Checker, Route
from bot.platform import NamesFn

API_DEFAULT = "https://slack.com/api/"
TABLE_KEYS = frozenset({"channel", "mode", "command", "ephemeral", "mention", "host", "port", "operators"})
# What can be checked offline about "a channel that does not exist": its shape. Slack channel names are
# lowercase letters, digits, hyphens and underscores, at most 80 characters (docs.slack.dev, "Create a
# channel"); ids start with C, G or D. Whether the bot may post there is only known when it tries: the
# outbox logs that refusal once, naming the channel.
_CHANNEL = re.compile(r"#?[a-z0-9][a-z0-9_\-]{0,79}|[CGD][A-Z0-9]{6,}")
# Who may press the buttons and run ack/mute/unmute: user ids (U…, W… on Enterprise Grid) and user-group
# ids (S…), as Slack shows them (profile → ⋮ → Copy member ID; a group's id is in its URL).
_OPERATOR = re.compile(r"[UWS][A-Z0-9]{2,}")


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
    api_url: str = API_DEFAULT
    command: str = "/status"
    ephemeral: bool = True
    mention: str | None = None  # e.g. "<!here>" or "<!subteam^S123>", major outages only
    host: str = "0.0.0.0"
    port: int = 3000
    operators: tuple[str, ...] = ()  # user and user-group ids that may act; empty: anyone in the channel


def parse_operators(check: Checker, value: object) -> tuple[str, ...]:
    """[slack] operators: a list of user ids (U…/W…) and user-group ids (S…); each bad entry is an error."""
    if value is None:
        return ()
    if not isinstance(value, list):
        check.error("slack.operators", f"must be a list of Slack user ids (U…/W…) or user-group ids (S…) "
                                       f"(got {value!r})")
        return ()
    found: list[str] = []
    for index, entry in enumerate(value):
        if isinstance(entry, str) and _OPERATOR.fullmatch(entry.strip()):
            found.append(entry.strip())
        else:
            check.error(f"slack.operators[{index}]", f"not a Slack user id (U…/W…) or user-group id (S…) "
                                                     f"(got {entry!r}); a name like @alice cannot be checked")
    return tuple(dict.fromkeys(found))


def channel_error(channel: str) -> str | None:
    """Why `channel` cannot be a Slack channel name or id; None when it can."""
    if _CHANNEL.fullmatch(channel):
        return None
    return (f"not a Slack channel name or id (got {channel!r}): names are lowercase letters, digits, "
            "'-' and '_' (e.g. #ops-alerts); ids look like C0123456789")


class SlackPlatform:
    name = "slack"
    secrets: tuple[str, ...] = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_WEBHOOK_URL")
    keys = TABLE_KEYS
    monitor_keys: tuple[str, ...] = ("slack_channel", "slack_channels")

    def parse(self, check: Checker, table: object, env: Mapping[str, str]) -> SlackConfig | None:
        if table is None:
            return None
        if not isinstance(table, dict):
            check.error("slack", "must be a table ([slack])")
            return None
        check.unknown("slack.", table, set(self.keys))
        bot, app = env.get("SLACK_BOT_TOKEN"), env.get("SLACK_APP_TOKEN")
        secret, webhook = env.get("SLACK_SIGNING_SECRET"), env.get("SLACK_WEBHOOK_URL")
        mode_text = table.get("mode")
        if mode_text is None:
            mode = (SlackMode.WEBHOOK if (webhook and not bot)
                    else SlackMode.HTTP if (secret and not app) else SlackMode.SOCKET)
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
            problem = channel_error(channel) if channel else None
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
            webhook_url=webhook, api_url=env.get("SLACK_API_URL") or API_DEFAULT, command=command,
            ephemeral=ephemeral, mention=check.text("slack.mention", table.get("mention")),
            host=str(table.get("host", "0.0.0.0")), port=int(port or 3000),
            operators=parse_operators(check, table.get("operators")),
        )

    def routes(self, check: Checker, where: str, monitor: Mapping[str, object], config: object) -> tuple[Route, ...]:
        assert isinstance(config, SlackConfig)
        channels = check.channels(where, monitor, "slack_channel", "slack_channels")
        if channels and config.mode is not SlackMode.WEBHOOK:  # a webhook posts where it was made for
            for channel in channels:
                if (problem := channel_error(channel)) is not None:
                    check.error(f"{where}slack_channel", problem)
        return tuple(Route(self.name, channel, config.mention) for channel in channels or (config.channel,))

    def build(self, config: object, *, clock: Clock, names: NamesFn | None) -> ChatAdapter:
        assert isinstance(config, SlackConfig)
        if config.mode is SlackMode.WEBHOOK:
            from adapters.slack.webhook import SlackWebhookAdapter

            return SlackWebhookAdapter(config=config)
        from adapters.slack.adapter import SlackAdapter

        return SlackAdapter(config=config, clock=clock)


PLATFORM = SlackPlatform()
