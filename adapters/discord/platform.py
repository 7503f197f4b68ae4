"""Discord as a platform plug-in: the [discord] table, its secrets, channel ids, role mention and adapter.

Light on purpose: config validation imports this, so discord.py loads only in `build`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.chat import ChatAdapter
from bot.clock import Clock
from bot.config import Checker, Route
from bot.platform import NamesFn

TABLE_KEYS = frozenset({"channel", "guild_id", "mention_role", "operator_roles"})


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
    operator_roles: tuple[int, ...] = ()  # role ids whose members may act (buttons, /ack…); empty: anyone


def channel_error(channel: str) -> str | None:
    """Why `channel` cannot be a Discord channel id (a snowflake: digits); None when it can."""
    return None if channel.isdigit() else f"must be a channel id (digits; got {channel!r})"


def parse_operator_roles(check: Checker, value: object) -> tuple[int, ...]:
    """[discord] operator_roles: a list of role ids (Server Settings → Roles → ⋯ → Copy Role ID)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        check.error("discord.operator_roles", f"must be a list of role ids (digits; got {value!r})")
        return ()
    found: list[int] = []
    for index, entry in enumerate(value):
        text = str(entry).strip() if isinstance(entry, int | str) and not isinstance(entry, bool) else ""
        if text.isdigit():
            found.append(int(text))
        else:
            check.error(f"discord.operator_roles[{index}]", f"must be a role id (digits; got {entry!r}); a role "
                                                            "name like @oncall cannot be checked")
    return tuple(dict.fromkeys(found))


def role_mention(role: str | None) -> str | None:
    """The markup that pings a role: <@&id>."""
    return f"<@&{role}>" if role else None


class DiscordPlatform:
    name = "discord"
    secrets: tuple[str, ...] = ("DISCORD_BOT_TOKEN", "DISCORD_WEBHOOK_URL")
    keys = TABLE_KEYS
    monitor_keys: tuple[str, ...] = ("discord_channel", "discord_channels")

    def parse(self, check: Checker, table: object, env: Mapping[str, str]) -> DiscordConfig | None:
        if table is None:
            return None
        if not isinstance(table, dict):
            check.error("discord", "must be a table ([discord])")
            return None
        check.unknown("discord.", table, set(self.keys))
        token, webhook = env.get("DISCORD_BOT_TOKEN"), env.get("DISCORD_WEBHOOK_URL")
        if not token and not webhook:
            check.error("discord", "needs DISCORD_BOT_TOKEN (bot mode) or DISCORD_WEBHOOK_URL (webhook mode) "
                        "in the environment")
        mode = DiscordMode.BOT if token else DiscordMode.WEBHOOK
        channel = table.get("channel")
        if mode is DiscordMode.BOT or channel is not None:
            channel = check.text("discord.channel", None if channel is None else str(channel),
                                 required=mode is DiscordMode.BOT)
            if channel and (problem := channel_error(channel)) is not None:
                check.error("discord.channel", problem)
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
            operator_roles=parse_operator_roles(check, table.get("operator_roles")),
        )

    def routes(self, check: Checker, where: str, monitor: Mapping[str, object], config: object) -> tuple[Route, ...]:
        assert isinstance(config, DiscordConfig)
        channels = check.channels(where, monitor, "discord_channel", "discord_channels")
        if channels and config.mode is DiscordMode.BOT:  # a webhook posts where it was made for
            for channel in channels:
                if (problem := channel_error(str(channel))) is not None:
                    check.error(f"{where}discord_channel", problem)
        mention = role_mention(config.mention_role)
        return tuple(Route(self.name, str(channel), mention) for channel in channels or (config.channel,))

    def build(self, config: object, *, clock: Clock, names: NamesFn | None) -> ChatAdapter:
        assert isinstance(config, DiscordConfig)
        if config.mode is DiscordMode.WEBHOOK:
            from adapters.discord.webhook import DiscordWebhookAdapter

            return DiscordWebhookAdapter(config=config)
        from adapters.discord.adapter import DiscordAdapter

        return DiscordAdapter(config=config, clock=clock, names=names)


PLATFORM = DiscordPlatform()
