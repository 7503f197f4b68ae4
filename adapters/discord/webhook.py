"""Discord webhook-only mode: alerts through an incoming webhook with httpx, no gateway, no commands.

`POST {webhook}?wait=true` returns the message, whose id is the ref for later `PATCH
{webhook}/messages/{id}` edits. A webhook cannot start a thread in a text channel, so `reply` posts a
new message in the channel whose content names the monitor and quotes the change. (Forum channels,
where a webhook needs `thread_name`/`thread_id`, are not supported in this mode: use the bot.)
The webhook URL contains a token: only the webhook id is ever logged or put in an error.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx

from adapters import retry
from adapters.discord.platform import DiscordConfig
from adapters.discord.render import mention_for, render_alert, render_channel_change
from bot.chat import ActionHandler, CommandHandler
from bot.model import Alert, SendError, SendResult, Sent
from bot.redact import mask_in_library_log

DEFAULT_TIMEOUT = 10.0


def webhook_id(url: str) -> str:
    """The id part of https://discord.com/api/webhooks/{id}/{token} (safe to log)."""
    parts = [p for p in httpx.URL(url).path.split("/") if p]
    try:
        return parts[parts.index("webhooks") + 1]
    except (ValueError, IndexError):
        return "?"


def classify(response: httpx.Response, *, editing: bool = False) -> SendError:
    """A non-2xx webhook answer as a SendError, by the shared retry rule; Discord's JSON error (message and
    code) goes into the reason, and a 429's `retry_after` comes from the body or the header. The
    Cloudflare IP-ban 429 has neither (and is not even JSON): the outbox then backs off."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    detail = ""
    if isinstance(body, dict) and response.status_code != 429:
        detail = f": {str(body.get('message', ''))[:200]} (code {body.get('code')})"
    result = retry.classify(response.status_code, service="Discord", headers=response.headers, body=body,
                            gone=editing, detail=detail)
    return result or SendError(reason=f"HTTP {response.status_code}", retryable=False)


# The last part of a Discord webhook URL is its token: masked wherever httpx logs the URL.
WEBHOOK_SECRET = re.compile(r"(/webhooks/\d+/)[^/?#\s\"']+")


class DiscordWebhookAdapter:
    """ChatAdapter for a Discord incoming webhook: it edits its own messages; it cannot start threads."""

    name = "discord"
    keeps_parent = can_edit = True
    can_thread = False  # thread lines become channel messages (see module docstring)
    pace = 1.0  # webhooks share a tight per-channel bucket (about 5 per 2 s, hidden limits beyond)

    def __init__(
        self,
        *,
        config: DiscordConfig,
        client: httpx.AsyncClient | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        if not config.webhook_url:
            raise ValueError("DiscordWebhookAdapter needs config.webhook_url")
        self._url = config.webhook_url.split("?", 1)[0].rstrip("/")
        self._id = webhook_id(self._url)
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        mask_in_library_log("httpx", WEBHOOK_SECRET)
        self._log = log or logging.getLogger("downwatch.discord.webhook")
        self._refused: set[int] = set()  # statuses already logged once

    def __repr__(self) -> str:
        return f"DiscordWebhookAdapter(webhook_id={self._id!r})"

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        """Nothing to connect; slash commands and buttons need bot mode (webhook messages carry none)."""
        self._log.info("discord: webhook mode (webhook %s); slash commands need DISCORD_BOT_TOKEN", self._id)

    async def stop(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def _send(self, method: str, url: str, payload: dict[str, Any], *, editing: bool = False) -> SendResult:
        try:
            response = await self._client.request(method, url, json=payload, params={"wait": "true"})
        except httpx.TransportError as exc:
            return retry.unreachable("Discord", exc)
        if response.is_success:
            try:
                return Sent(ref=str(response.json()["id"]))
            except (ValueError, KeyError, TypeError):
                return SendError(reason="unexpected webhook response (no message id)", retryable=False)
        error = classify(response, editing=editing)
        if not error.retryable and not error.message_gone and response.status_code not in self._refused:
            self._refused.add(response.status_code)
            hint = " (was the webhook deleted?)" if response.status_code in (401, 403, 404) and not editing else ""
            self._log.error("discord webhook %s refused the message: %s%s", self._id, error.reason, hint)
        return error

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        content, allowed = mention_for(mention)
        payload: dict[str, Any] = {"embeds": [render_alert(alert).to_dict()], "allowed_mentions": allowed}
        if content:
            payload["content"] = content
        return await self._send("POST", self._url, payload)

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        if not ref.isdigit():
            return SendError(reason="invalid message ref", retryable=False, message_gone=True)
        payload = {"embeds": [render_alert(alert).to_dict()], "allowed_mentions": {"parse": []}}
        result = await self._send("PATCH", f"{self._url}/messages/{ref}", payload, editing=True)
        return Sent(ref=ref) if isinstance(result, Sent) else result

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        ping, allowed = mention_for(mention)
        content = (f"{ping} " if ping else "") + render_channel_change(alert)
        payload = {"content": content[:2000], "allowed_mentions": allowed}
        return await self._send("POST", self._url, payload)
