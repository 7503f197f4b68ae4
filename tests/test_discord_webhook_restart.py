"""Discord webhook mode across a restart in the middle of an incident, with a 5xx burst before it:
the real Watcher → Store → Sender → DiscordWebhookAdapter against the fake Discord, a fake clock, one
SQLite file opened twice. Nothing lost, nothing sent twice, every edit on the original message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.discord.webhook import DiscordWebhookAdapter
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Route
from bot.model import CheckResult, ComponentReading, Status
from tests.fakes.discord_api import FakeDiscord, Recorded
from tests.wiring import wire

HOOK_TOKEN = "RESTARTwebhooktokenPART"
CHANNEL = "645027906669510667"
MONITOR = StatuspageMonitor(name="OpenAI", url="http://127.0.0.1:9", routes=(Route("discord", CHANNEL),))


@pytest.fixture
async def fake(anyio_backend: str) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


class Bot:
    """What the composition root wires for webhook mode, over one SQLite file."""

    def __init__(self, path: Path, fake: FakeDiscord, clock: FakeClock, http: httpx.AsyncClient) -> None:
        hook = f"{fake.api_url}/webhooks/1111/{HOOK_TOKEN}"
        adapter = DiscordWebhookAdapter(
            config=DiscordConfig(mode=DiscordMode.WEBHOOK, channel=CHANNEL, webhook_url=hook), client=http)
        self.wired = wire(path, [MONITOR], clock=clock, client=http, adapters={"discord": adapter})
        self.store, self.watcher, self.sender = self.wired.parts()
        self.clock = clock

    async def drain(self) -> None:
        await self.wired.drain("discord")

    async def poll(self, api: Status, chat: Status = Status.OPERATIONAL) -> None:
        result = CheckResult(monitor=MONITOR.name, at=self.clock.now(), readable=True,
                             components=(ComponentReading("API", api), ComponentReading("ChatGPT", chat)))
        self.watcher.apply(MONITOR, result)
        await self.sender.deliver_all()
        self.clock.advance(60)


@pytest.mark.anyio
async def test_restart_in_the_middle_loses_and_duplicates_nothing(tmp_path: Path, fake: FakeDiscord) -> None:
    clock = FakeClock()
    failed: list[Recorded] = []
    async with httpx.AsyncClient(timeout=5) as http:
        bot = Bot(tmp_path / "dw.db", fake, clock, http)
        await bot.poll(Status.OPERATIONAL)
        await bot.poll(Status.MAJOR)
        await bot.poll(Status.MAJOR)  # opened: the parent goes out
        burst = [502, 503, 500, 502, 503, 500]  # then Discord fails while ChatGPT joins

        async def outage(request: web.Request, recorded: Recorded) -> web.StreamResponse | None:
            if burst and recorded.path.startswith("/webhooks/"):
                failed.append(recorded)
                return web.json_response({"message": "upstream error", "code": 0}, status=burst.pop(0))
            return None

        fake.intercept = outage
        await bot.poll(Status.MAJOR, Status.MAJOR)
        await bot.poll(Status.MAJOR, Status.MAJOR)
        pending = [r for r in bot.store.outbox_rows() if r["state"] == "pending"]
        assert pending, "the update is still queued when the bot goes down"
        bot.store.close()  # restart: a new store, sender, adapter and watcher over the same file

        bot = Bot(tmp_path / "dw.db", fake, clock, http)
        await bot.drain()  # the queue drains once Discord answers again, following the backoff
        await bot.poll(Status.OPERATIONAL, Status.OPERATIONAL)
        await bot.poll(Status.OPERATIONAL, Status.OPERATIONAL)  # resolved
        await bot.drain()
        rows = bot.store.outbox_rows()
        bot.store.close()

    assert not burst, "every failure of the burst was served"
    accepted = [r for r in fake.requests if r.path.startswith("/webhooks/") and all(r is not f for f in failed)]
    posts = [r for r in accepted if r.method == "POST"]
    patches = [r for r in accepted if r.method == "PATCH"]
    parent = posts[0]
    assert parent.query.get("wait") == "true" and "OpenAI" in str(parent.json)
    parent_id = next(str(r["ref"]) for r in rows if r["op"] == "post")
    assert all(p.path.endswith(f"/messages/{parent_id}") for p in patches)
    # one message per post/reply row that was sent, exactly once each; nothing left behind
    sent = [r for r in rows if r["op"] in ("post", "reply") and r["state"] == "sent"]
    assert len(posts) == len(sent) == 3  # parent, the "ChatGPT joined" line, the recovery line
    assert {r["state"] for r in rows} <= {"sent", "superseded"}
    assert "recovered" in str(posts[-1].json).lower()
    assert len(patches) >= 2 and "resolved" in str(patches[-1].json).lower()
