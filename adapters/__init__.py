"""The chat platforms downwatch can alert to. The registry is this plain tuple: a new platform is its
package (a `PLATFORM` object satisfying bot.platform.Platform, plus its adapter) and one line here.
Only the composition root (bot/app.py, bot/cli.py) imports it; each entry is light, and loads its client
library only when its adapter is built."""

from __future__ import annotations

from adapters.console_platform import PLATFORM as CONSOLE
from adapters.discord.platform import PLATFORM as DISCORD
from adapters.slack.platform import PLATFORM as SLACK
from adapters.webhook.platform import PLATFORM as WEBHOOK
from bot.platform import Platform

PLATFORMS: tuple[Platform, ...] = (CONSOLE, SLACK, DISCORD, WEBHOOK)
