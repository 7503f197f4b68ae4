"""Slack through an incoming webhook only: every alert is a new message (no edits, no threads, no commands).

The webhook URL is a secret: it is never logged, never put in a reason or a repr.
https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import httpx

from adapters import retry
from adapters.slack.errors import classify, hint
from adapters.slack.platform import SlackConfig
from adapters.slack.render import render_alert
from bot.chat import ActionHandler, CommandHandler
from bot.model import Alert, SendResult, Sent
from bot.redact import mask_in_library_log

REQUEST_TIMEOUT = 15.0
WEBHOOK_REF = ""  # a webhook does not say which message it created: there is nothing to edit later


# The last part of a Slack webhook URL is its secret: masked wherever httpx logs the URL.
WEBHOOK_SECRET = re.compile(r"(/services/[^/?#\s]+/[^/?#\s]+/)[^/?#\s\"']+")


class SlackWebhookAdapter:
    """Posts each alert as a fresh message to SLACK_WEBHOOK_URL."""

    name = "slack"
    keeps_parent = can_edit = can_thread = False  # every alert is a new message
    pace = 1.0  # incoming webhooks share chat.postMessage's ~1 message/second/channel limit

    def __init__(
        self,
        *,
        config: SlackConfig,
        client: httpx.AsyncClient | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        if not config.webhook_url:
            raise ValueError("SlackWebhookAdapter needs SLACK_WEBHOOK_URL")
        self._url = config.webhook_url
        self._command = config.command
        self._log = log or logging.getLogger("downwatch.slack")
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=REQUEST_TIMEOUT)
        mask_in_library_log("httpx", WEBHOOK_SECRET)

    def __repr__(self) -> str:
        return "SlackWebhookAdapter(url=<secret>)"

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        """Nothing to connect: a webhook cannot receive commands or clicks (its messages carry no buttons)."""
        self._log.info("Slack webhook mode: alerts only (no edits, no threads, no %s command)", self._command)

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        """A new message with the alert; the webhook decides the channel, `channel` only names it in logs."""
        # An incoming webhook's message cannot be clicked back to us: never show buttons on it.
        text, blocks = render_alert(replace(alert, buttons=False), mention=mention)
        return await self._send({"text": text, "blocks": blocks, "unfurl_links": False, "unfurl_media": False})

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        """Webhooks cannot edit: post the current snapshot as a new message (never called: can_edit is False)."""
        return await self.post(channel, alert)

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        """Webhooks cannot thread: post the snapshot as a new message (never called: keeps_parent is False)."""
        return await self.post(channel, alert, mention=mention)

    async def _send(self, payload: dict[str, object]) -> SendResult:
        try:
            response = await self._client.post(self._url, json=payload)
        except httpx.HTTPError as error:
            result = retry.unreachable("Slack", error)
            self._log.warning("Slack webhook failed, will retry (%s)", result.reason)
            return result
        if 200 <= response.status_code < 300:
            return Sent(ref=WEBHOOK_REF)
        code = response.text.strip()[:64] if "text/html" not in response.headers.get("content-type", "") else ""
        code = code if code.replace("_", "").isalnum() else ""
        result = classify(status=response.status_code, error=code or None, headers=dict(response.headers))
        if result.retryable:
            wait = f", Slack asked to wait {result.retry_after:g}s" if result.retry_after is not None else ""
            self._log.warning("Slack webhook failed, will retry (%s%s)", result.reason, wait)
        else:
            advice = hint(code, "the webhook's channel")
            self._log.error("Slack webhook refused the message (%s)%s", result.reason, f": {advice}" if advice else "")
        return result

    async def stop(self) -> None:
        """Close the HTTP client when this adapter created it."""
        if self._owns_client:
            await self._client.aclose()
