"""Discord webhook-only mode against a loopback server: ?wait=true, PATCH edits, 429 shapes, 5xx, 404."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.discord.webhook import DiscordWebhookAdapter
from bot.model import (
    AffectedComponent,
    Alert,
    AlertKind,
    Change,
    ChangedComponent,
    ChangeKind,
    SendError,
    Sent,
    Status,
)

DATA = Path(__file__).parent / "data"
TOKEN = "3d89bb7572e0fb30d8128367b3b1b44fecd1726de135cbe28a41f8b2f777c372ba2939e72279b94526ff5d1bd4358d65cf11"
WEBHOOK_ID = "223704706495545344"
T0 = datetime(2026, 9, 29, 14, tzinfo=UTC)
ALERT = Alert(
    kind=AlertKind.OPENED, incident_id="i1", monitor="OpenAI", severity=Status.MAJOR, at=T0, started_at=T0,
    components=(AffectedComponent("API", Status.MAJOR, T0),), total_components=25,
    changes=(Change(ChangeKind.OPENED, components=(ChangedComponent("API", Status.MAJOR),), affected=1, total=25),),
)
RESOLVED = Alert(
    kind=AlertKind.RESOLVED, incident_id="i1", monitor="OpenAI", severity=Status.MAJOR, at=T0, started_at=T0,
    resolved_at=T0.replace(hour=15), changes=(Change(ChangeKind.RESOLVED, duration=timedelta(hours=1)),),
)

Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]


def message_body(message_id: str) -> dict[str, Any]:
    """The documented message object, as a webhook returns it with ?wait=true."""
    message = json.loads((DATA / "discord_message_object_docs.json").read_text())
    message.update(id=message_id, webhook_id=WEBHOOK_ID)
    return message


def http_429(name: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a documented/observed 429 kept in tests/data."""
    text = (DATA / name).read_text()
    if not text.startswith("<"):
        return 429, {"Content-Type": "text/plain"}, text.encode()  # the Cloudflare ban: not JSON, no headers
    head, _, body = text.partition("\n{")
    headers = dict(line[2:].split(": ", 1) for line in head.splitlines()[1:])
    return 429, headers, ("{" + body).encode()


class Loopback:
    """A webhook endpoint on 127.0.0.1 answering from a script; records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.next_id = 1000

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, request.path, dict(request.query), body))
        if self.script:
            status, headers, raw = self.script.pop(0)
            return web.Response(status=status, headers=headers, body=raw)
        if request.method == "PATCH":
            return web.json_response(message_body(request.match_info["mid"]))
        self.next_id += 1
        return web.json_response(message_body(str(self.next_id)))


def run(test: Callable[[DiscordWebhookAdapter, Loopback], Awaitable[None]], **kw: Any) -> None:
    async def main() -> None:
        loop = Loopback()
        app = web.Application()
        app.router.add_post("/api/webhooks/{id}/{token}", loop.handle)
        app.router.add_patch("/api/webhooks/{id}/{token}/messages/{mid}", loop.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/api/webhooks/{WEBHOOK_ID}/{TOKEN}"
        config = DiscordConfig(mode=DiscordMode.WEBHOOK, channel="", webhook_url=url)
        async with httpx.AsyncClient() as client:
            adapter = DiscordWebhookAdapter(config=config, client=client, **kw)
            try:
                await test(adapter, loop)
            finally:
                await adapter.stop()
        await runner.cleanup()

    asyncio.run(main())


def test_post_waits_for_the_message_then_edits_it_and_replies() -> None:
    async def scenario(adapter: DiscordWebhookAdapter, loop: Loopback) -> None:
        sent = await adapter.post("", ALERT, mention="539082325061836999")
        assert sent == Sent(ref="1001")
        method, path, query, body = loop.requests[0]
        assert (method, query) == ("POST", {"wait": "true"})
        assert body["embeds"][0]["title"] == "🔴 OpenAI — major outage"
        assert body["content"] == "<@&539082325061836999>"
        assert body["allowed_mentions"] == {"parse": [], "roles": ["539082325061836999"]}

        assert await adapter.edit("", "1001", RESOLVED) == Sent(ref="1001")
        method, path, _, body = loop.requests[1]
        assert method == "PATCH" and path.endswith(f"/{TOKEN}/messages/1001")
        assert body["embeds"][0]["title"] == "✅ OpenAI — resolved after 1h"

        replied = await adapter.reply("", "1001", RESOLVED)
        assert isinstance(replied, Sent) and replied.ref == "1002"
        _, _, _, body = loop.requests[2]
        assert body["content"] == "↪ **OpenAI** · ✅ Recovered after 1h"  # the duration once
        assert body["allowed_mentions"] == {"parse": []}

    run(scenario)


def test_429_with_retry_after_in_the_body() -> None:
    async def scenario(adapter: DiscordWebhookAdapter, loop: Loopback) -> None:
        loop.script.append(http_429("discord_429_user_rate_limit_docs.http.txt"))
        result = await adapter.post("", ALERT)
        assert result == SendError(reason="rate limited (429)", retryable=True, retry_after=64.57, rate_limited=True)

    run(scenario)


def test_429_with_only_the_retry_after_header() -> None:
    async def scenario(adapter: DiscordWebhookAdapter, loop: Loopback) -> None:
        loop.script.append((429, {"Retry-After": "42"}, b""))
        result = await adapter.post("", ALERT)
        assert isinstance(result, SendError) and result.retryable and result.retry_after == 42.0

    run(scenario)


def test_429_cloudflare_ban_without_json_or_headers_leaves_backoff_to_the_outbox() -> None:
    async def scenario(adapter: DiscordWebhookAdapter, loop: Loopback) -> None:
        loop.script.append(http_429("discord_429_cloudflare_ip_ban_issue5810.txt"))
        result = await adapter.post("", ALERT)
        assert isinstance(result, SendError) and result.retryable and result.retry_after is None

    run(scenario)


def test_5xx_burst_is_retryable_then_delivers() -> None:
    async def scenario(adapter: DiscordWebhookAdapter, loop: Loopback) -> None:
        loop.script += [(502, {}, b"<html>bad gateway</html>"), (503, {}, b"")]
        first = await adapter.post("", ALERT)
        second = await adapter.post("", ALERT)
        assert isinstance(first, SendError) and first.retryable and not first.message_gone
        assert isinstance(second, SendError) and second.retryable
        assert await adapter.post("", ALERT) == Sent(ref="1001")

    run(scenario)


def test_404_on_patch_means_the_message_is_gone() -> None:
    async def scenario(adapter: DiscordWebhookAdapter, loop: Loopback) -> None:
        loop.script.append((404, {"Content-Type": "application/json"}, b'{"message": "Unknown Message", "code": 10008}'))
        result = await adapter.edit("", "1001", ALERT)
        assert isinstance(result, SendError) and result.message_gone and not result.retryable

    run(scenario)


def test_refusals_are_logged_once_without_the_token(caplog: Any) -> None:
    refusal = (DATA / "discord_json_error_response_docs.json").read_bytes()

    async def scenario(adapter: DiscordWebhookAdapter, loop: Loopback) -> None:
        loop.script += [(401, {"Content-Type": "application/json"}, refusal)] * 2
        first = await adapter.post("", ALERT)
        await adapter.post("", ALERT)
        assert isinstance(first, SendError) and not first.retryable and "50014" in first.reason
        assert TOKEN not in first.reason and TOKEN not in repr(adapter)

    with caplog.at_level(logging.DEBUG):
        run(scenario)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and WEBHOOK_ID in errors[0].getMessage()
    assert all(TOKEN not in r.getMessage() for r in caplog.records if r.name.startswith("downwatch"))


def test_unreachable_webhook_is_retryable_and_does_not_leak_the_url() -> None:
    async def main() -> None:
        config = DiscordConfig(
            mode=DiscordMode.WEBHOOK, channel="", webhook_url=f"http://127.0.0.1:1/api/webhooks/{WEBHOOK_ID}/{TOKEN}"
        )
        adapter = DiscordWebhookAdapter(config=config)
        result = await adapter.post("", ALERT)
        await adapter.stop()
        assert isinstance(result, SendError) and result.retryable and TOKEN not in result.reason

    asyncio.run(main())
