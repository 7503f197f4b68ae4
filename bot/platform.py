"""What a chat platform plugs into the core: its config table, secrets, per-monitor keys and adapter.

Each platform is one module-level object in its own adapter package (adapters/slack/platform.py, …).
The composition root (bot/app.py, bot/cli.py) passes the registry, the plain tuple `adapters.PLATFORMS`,
to `bot.config.load_config` and `bot.app.build_adapters`; the core never names a platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from bot.chat import ChatAdapter
from bot.clock import Clock
from bot.config import Checker, Route

NamesFn = Callable[[], Awaitable[list[str]]]  # monitor and component names, for command autocomplete


class Platform(Protocol):
    """One chat platform: `name` is its config table ([slack]), `Route.platform` and its outbox key."""

    name: str
    secrets: tuple[str, ...]  # environment variables it reads: redacted from logs, warned about when unused
    keys: frozenset[str]  # the keys its own table accepts ([slack] channel, mode…)
    monitor_keys: tuple[str, ...]  # per-monitor keys it owns, e.g. ("slack_channel", "slack_channels")

    def parse(self, check: Checker, table: object, env: Mapping[str, str]) -> object | None:
        """Its table (None when absent) and secrets → its frozen config, or None when it is off.
        Problems go to `check`, each naming the key."""
        ...

    def routes(self, check: Checker, where: str, monitor: Mapping[str, object], config: object) -> tuple[Route, ...]:
        """Where one monitor's alerts go on this platform (its `monitor_keys`, else its default channel)."""
        ...

    def build(self, config: object, *, clock: Clock, names: NamesFn | None) -> ChatAdapter:
        """The adapter for `config` (heavy client libraries are imported here, only when used)."""
        ...


def unused_secrets(platforms: Sequence[Platform], enabled: Mapping[str, object],
                   env: Mapping[str, str]) -> list[str]:
    """One warning per secret set in `env` for a platform that has no table: its alerts go nowhere."""
    return [f"{secret} is set, but there is no [{platform.name}] section: {platform.name} gets no alerts"
            for platform in platforms if platform.name not in enabled
            for secret in platform.secrets if env.get(secret)]
