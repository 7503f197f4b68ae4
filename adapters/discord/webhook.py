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

from adapters.discord.render import fit, mention_for, render_alert, render_change
from bot.chat import CommandHandler
from bot.config import DiscordConfig
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


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a 429: the JSON body's `retry_after`, else the `Retry-After` header, else None.

    The Cloudflare IP-ban 429 has neither (and is not even JSON): None lets the outbox back off.
    """
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
            return max(0.0, float(body["retry_after"]))
    except (ValueError, json.JSONDecodeError):
        pass
    header = response.headers.get("retry-after")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            return None
    return None


def classify(response: httpx.Response, *, editing: bool = False) -> SendError:
    """Turn a non-2xx webhook response into a SendError (429/5xx retryable, 404 on edit = message gone)."""
    status = response.status_code
    if status == 429:
        return SendError(reason="rate limited (429)", retryable=True, retry_after=retry_after(response),
                         rate_limited=True)
    if status >= 500:
        return SendError(reason=f"Discord server error {status}", retryable=True)
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            detail = f": {str(body.get('message', ''))[:200]} (code {body.get('code')})"
    except (ValueError, json.JSONDecodeError):
        pass
    if status == 404 and editing:
        return SendError(reason=f"message not found{detail}", retryable=False, message_gone=True)
    return SendError(reason=f"HTTP {status}{detail}", retryable=False)


# The last part of a Discord webhook URL is its token: masked wherever httpx logs the URL.
WEBHOOK_SECRET = re.compile(r"(/webhooks/\d+/)[^/?#\s\"']+")


class DiscordWebhookAdapter:
    """ChatAdapter for a Discord incoming webhook. `threads` is True: it can edit its own messages."""

    name = "discord"
    threads = True  # edits work; thread lines become channel messages (see module docstring)
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

    async def start(self, handler: CommandHandler) -> None:
        """Nothing to connect; slash commands need bot mode."""
        self._log.info("discord: webhook mode (webhook %s); slash commands need DISCORD_BOT_TOKEN", self._id)

    async def stop(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def _send(self, method: str, url: str, payload: dict[str, Any], *, editing: bool = False) -> SendResult:
        try:
            response = await self._client.request(method, url, json=payload, params={"wait": "true"})
        except httpx.TransportError as exc:
            # str(exc) can carry the URL for some transports: name the class only.
            return SendError(reason=f"cannot reach Discord ({type(exc).__name__})", retryable=True)
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

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None) -> SendResult:
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
        content = (f"{ping} " if ping else "") + f"↪ **{fit(alert.monitor or 'downwatch', 200)}** · {render_change(alert)}"
        payload = {"content": content[:2000], "allowed_mentions": allowed}
        return await self._send("POST", self._url, payload)
