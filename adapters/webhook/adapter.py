"""The generic webhook adapter: POSTs one JSON document per outbox message, signed with HMAC-SHA256.

The schema (SCHEMA_VERSION) is documented in README.md, "Generic webhook"; a change that could break a
receiver gets a new version. It cannot edit or thread: every alert is one self-contained document.
The URL and the secret are never logged, put in a reason or shown in a repr.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Any

import httpx

from adapters import retry
from adapters.console import render_alert, render_digest
from adapters.webhook.platform import WebhookConfig
from bot import wording
from bot.chat import ActionHandler, CommandHandler
from bot.clock import Clock
from bot.codec import encode
from bot.model import Alert, AlertKind, SendResult, Sent
from bot.redact import hide_in_library_log

SCHEMA_VERSION = 1
SERVICE = "the webhook"
EVENTS = {
    AlertKind.OPENED: "opened",
    AlertKind.UPDATED: "updated",
    AlertKind.RESOLVED: "resolved",
    AlertKind.REMINDER: "reminder",
    AlertKind.SOURCE_UNREADABLE: "notice",
    AlertKind.SOURCE_READABLE: "notice",
    AlertKind.NETWORK_DOWN: "notice",
    AlertKind.NETWORK_UP: "notice",
    AlertKind.DATABASE_LOST: "notice",
    AlertKind.REGIONS_DEGRADED: "notice",
    AlertKind.REGIONS_RESTORED: "notice",
    AlertKind.DIGEST: "digest",  # the weekly digest: its own document (digest_document)
}


def document(alert: Alert, *, sent_at: datetime) -> dict[str, Any]:
    """The JSON document for one alert (schema version 1)."""
    if alert.kind is AlertKind.DIGEST:
        return digest_document(alert, sent_at=sent_at)
    return {
        "version": SCHEMA_VERSION,
        "event": EVENTS[alert.kind],
        "incident": {
            "id": alert.incident_id,
            "monitor": alert.monitor,
            "severity": alert.severity.value,
            "started_at": alert.started_at.isoformat(),
            "ended_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "duration_seconds": alert.duration.total_seconds(),
            "components": encode(alert.components),
            "provider_incidents": encode(alert.provider_incidents),
        },
        "changes": encode(alert.changes),
        "alternatives": encode(alert.alternatives),
        "watch": encode(alert.watch),  # a probe's watched status page (early warning), else null
        "acknowledged": encode(alert.acknowledged),  # who took it and when (from chat or the CLI), else null
        "muted": encode(alert.muted),  # who muted it, until when (null: until resolved) and why, else null
        "regions": encode(alert.regions),  # a monitor probed from several regions: how each sees it, else null
        "title": wording.headline(alert),
        "text": render_alert(alert),
        "sent_at": sent_at.isoformat(),
    }


# ---------------------------------------------------------------- digest (issue 12)


def digest_document(alert: Alert, *, sent_at: datetime) -> dict[str, Any]:
    """The weekly digest's document (schema version 1, event "digest"): no `incident`, the digest as data."""
    digest = alert.digest
    return {
        "version": SCHEMA_VERSION,
        "event": EVENTS[AlertKind.DIGEST],
        "id": alert.incident_id,  # "digest#2026-11-29": the week's last day, the same on every retry
        "digest": encode(digest),
        "title": wording.digest_headline(digest) if digest is not None else wording.headline(alert),
        "text": render_digest(digest, limit=None) if digest is not None else render_alert(alert),
        "sent_at": sent_at.isoformat(),
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Downwatch-Signature value: HMAC-SHA256 over "{timestamp}.{body}", hex, prefixed "sha256="."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def idempotency_key(key: str, alert: Alert) -> str:
    """The same for every try of one outbox message (the Sender's `key`: its row and incident), and an
    ASCII header value whatever the monitor is called."""
    source = key or f"{alert.incident_id}|{alert.kind.value}|{alert.at.isoformat()}"
    return hashlib.sha256(source.encode()).hexdigest()[:32]


class WebhookAdapter:
    """ChatAdapter that POSTs each alert to DOWNWATCH_WEBHOOK_URL; no commands, no edits, no threads."""

    name = "webhook"
    keeps_parent = False
    can_edit = False
    can_thread = False
    pace = 0.0  # the receiver sets its own limits: a 429 with Retry-After holds this platform

    def __init__(
        self,
        *,
        config: WebhookConfig,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        if not config.url or not config.secret:
            raise ValueError("WebhookAdapter needs DOWNWATCH_WEBHOOK_URL and DOWNWATCH_WEBHOOK_SECRET")
        self._url = config.url
        self._secret = config.secret
        self._clock = clock
        self._log = log or logging.getLogger("downwatch.webhook")
        # No redirects: a signed body must not be replayed to wherever a 3xx points.
        self._client = httpx.AsyncClient(transport=transport, timeout=config.timeout, follow_redirects=False)
        hide_in_library_log("httpx", (config.url, config.secret))
        self._refused: set[int] = set()  # statuses already logged once

    def __repr__(self) -> str:
        return "WebhookAdapter(url=<secret>)"

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        """Nothing to connect: a webhook cannot receive commands or clicks."""
        self._log.info("webhook: alerts as signed JSON (schema version %d)", SCHEMA_VERSION)

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        """POST the alert's document; `mention` does not apply (the receiver decides whom to page)."""
        now = self._clock.now()
        body = json.dumps(document(alert, sent_at=now), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "downwatch-webhook/1",
            "X-Downwatch-Timestamp": timestamp,
            "X-Downwatch-Signature": signature(self._secret, timestamp, body),
            "Idempotency-Key": idempotency_key(key, alert),
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return retry.unreachable(SERVICE, error)
        try:
            answer: object = response.json()
        except ValueError:
            answer = None
        result = retry.classify(response.status_code, service=SERVICE, headers=response.headers, body=answer)
        if result is None:
            return Sent(ref="")  # nothing to refer to later: the webhook keeps no parent
        if not result.retryable and response.status_code not in self._refused:
            self._refused.add(response.status_code)
            self._log.error("webhook: the receiver refused the alert for good (%s); check its logs", result.reason)
        return result

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        """Never called (can_edit is False): the reply row carries the change as a new document."""
        return await self.post(channel, alert)

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        """Never called (keeps_parent is False): every row is posted as its own document."""
        return await self.post(channel, alert, mention=mention)

    async def stop(self) -> None:
        await self._client.aclose()
