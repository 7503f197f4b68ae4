"""The generic webhook as a platform plug-in: the [webhook] table and DOWNWATCH_WEBHOOK_URL / _SECRET.

Every monitor routes to it, on one channel named "webhook": the receiving end decides what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.chat import ChatAdapter
from bot.clock import Clock
from bot.config import Checker, Route
from bot.platform import NamesFn

TABLE_KEYS = frozenset({"timeout"})
CHANNEL = "webhook"
DEFAULT_TIMEOUT = 10.0
MIN_SECRET_LENGTH = 16  # HMAC keys shorter than this are guessable


@dataclass(frozen=True)
class WebhookConfig:
    url: str = field(repr=False)  # may carry a token in its path or query: never logged
    secret: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT  # seconds for one POST; a timeout is retried like a 5xx


class WebhookPlatform:
    name = "webhook"
    secrets: tuple[str, ...] = ("DOWNWATCH_WEBHOOK_URL", "DOWNWATCH_WEBHOOK_SECRET")
    keys = TABLE_KEYS
    monitor_keys: tuple[str, ...] = ()

    def parse(self, check: Checker, table: object, env: Mapping[str, str]) -> WebhookConfig | None:
        if table is None:
            return None
        if not isinstance(table, dict):
            check.error("webhook", "must be a table ([webhook])")
            return None
        check.unknown("webhook.", table, set(self.keys))
        timeout = check.number("webhook.timeout", table.get("timeout", DEFAULT_TIMEOUT))
        url, secret = env.get("DOWNWATCH_WEBHOOK_URL", ""), env.get("DOWNWATCH_WEBHOOK_SECRET", "")
        if not url:
            check.error("webhook", "needs the environment variable DOWNWATCH_WEBHOOK_URL (set it in .env)")
        elif not url.startswith(("https://", "http://")):
            # The URL is a secret: say what is wrong without echoing it.
            check.error("webhook", "DOWNWATCH_WEBHOOK_URL must be an http:// or https:// URL")
        if not secret:
            check.error("webhook", "needs the environment variable DOWNWATCH_WEBHOOK_SECRET (set it in .env): "
                        "every request is signed with it")
        elif len(secret) < MIN_SECRET_LENGTH:
            check.error("webhook", f"DOWNWATCH_WEBHOOK_SECRET must be at least {MIN_SECRET_LENGTH} characters "
                        f"(got {len(secret)})")
        return WebhookConfig(url=url, secret=secret, timeout=float(timeout or DEFAULT_TIMEOUT))

    def routes(self, check: Checker, where: str, monitor: Mapping[str, object], config: object) -> tuple[Route, ...]:
        return (Route(self.name, CHANNEL),)

    def build(self, config: object, *, clock: Clock, names: NamesFn | None) -> ChatAdapter:
        assert isinstance(config, WebhookConfig)
        from adapters.webhook.adapter import WebhookAdapter

        return WebhookAdapter(config=config, clock=clock)


PLATFORM = WebhookPlatform()
