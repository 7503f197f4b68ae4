"""The digest goes through the outbox like any alert: queued at its cron time while Slack and Discord both fail
(every kind of fault tests/fakes/faults.py has), kept, and delivered once to each when they come back, through
the real slack_sdk client and the Discord webhook adapter against the fake APIs; and Discord's bot mode
(discord.py on the fake gateway) posts it as one embed, within limits, without buttons."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.discord.webhook import DiscordWebhookAdapter
from adapters.slack.adapter import SlackAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from bot.clock import FakeClock
from bot.config import DigestConfig, Route
from bot.digest import DigestJob, alert
from bot.model import Action, ActionResult, Sent
from bot.outbox import Sender
from bot.schedule import DIGEST_TICK
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.faults import DISCORD_FAULTS, SLACK_FAULTS, Outage
from tests.fakes.slack_api import FakeSlack
from tests.test_digest import POSTED, big_digest, scripted_week, utc
from tests.test_discord_bot import CHANNEL, GUILD, TOKEN, Answers, names

SLACK_TOKEN = "xoxb-1234-5678-DIGESTbottoken"
HOOK_SECRET = "DIGESTwebhooktokenPART"
SLACK_CHANNEL = "C0WEEKLY"
DISCORD_CHANNEL = "645027906669510668"
CLIENT_TIMEOUT = 0.25  # real seconds: what a hanging platform costs per try
DOWN = (utc(30, 8, 50), utc(30, 9, 40))  # both platforms fail every call from 08:50 to 09:40 UTC


@pytest.mark.anyio
async def test_a_digest_due_while_both_platforms_are_down_is_delivered_once_when_they_are_back(
        tmp_path: Path) -> None:
    wired = await scripted_week(tmp_path / "dw.db", until=utc(30, 8, 55))  # Sunday's outage is over at 01:00
    clock, store = wired.clock, wired.store
    async with FakeSlack(token=SLACK_TOKEN) as fake_slack, FakeDiscord() as fake_discord, \
            httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as discord_http:
        slack_outage = Outage(clock=clock, start=DOWN[0], end=DOWN[1], faults=SLACK_FAULTS)
        discord_outage = Outage(clock=clock, start=DOWN[0], end=DOWN[1], faults=DISCORD_FAULTS)
        fake_slack.intercept = slack_outage
        fake_discord.intercept = discord_outage
        slack_client = AsyncWebClient(token=SLACK_TOKEN, base_url=fake_slack.api_url,
                                      timeout=CLIENT_TIMEOUT, retry_handlers=[])  # type: ignore[arg-type]
        slack = SlackAdapter(config=SlackConfig(mode=SlackMode.SOCKET, channel=SLACK_CHANNEL, bot_token=SLACK_TOKEN,
                                                api_url=fake_slack.api_url), client=slack_client)
        discord = DiscordWebhookAdapter(
            config=DiscordConfig(mode=DiscordMode.WEBHOOK, channel=DISCORD_CHANNEL,
                                 webhook_url=f"{fake_discord.api_url}/webhooks/2222/{HOOK_SECRET}"),
            client=discord_http)
        sender = Sender(store=store, adapters={"slack": slack, "discord": discord}, clock=clock)
        job = DigestJob(config=DigestConfig(routes=(Route("slack", SLACK_CHANNEL), Route("discord", DISCORD_CHANNEL))),
                        store=store, clock=clock, on_commit=sender.wake)
        try:
            assert not job.start()
            queued_at = None
            while clock.now() < utc(30, 12):
                clock.advance(DIGEST_TICK)
                if await job.tick():
                    queued_at = clock.now()
                await sender.deliver_all()
            assert queued_at == utc(30, 9)
        finally:
            slack_outage.release()
            discord_outage.release()
            if slack_client.session is not None:
                await slack_client.session.close()

        rows = [r for r in store.outbox_rows() if str(r["incident_id"]).startswith("digest#")]
        assert [(r["platform"], r["op"], r["state"]) for r in rows] == [("slack", "post", "sent"),
                                                                         ("discord", "post", "sent")]
        assert all(int(str(r["attempts"])) > 1 for r in rows)  # both failed while the platforms were down
        assert slack_outage.given and discord_outage.given
        # Slack: exactly one message, the digest, in the channel the [digest] table names
        assert len(fake_slack.messages) == 1
        (channel, _), message = next(iter(fake_slack.messages.items()))
        assert channel == SLACK_CHANNEL
        assert message["text"].startswith("📊 Weekly digest · 23–29 Nov 2026")
        texts = " ".join(str(b.get("text", {}).get("text", "")) for b in message["blocks"])
        assert "🟥🟩🟨🟩🟥🟥🟥  *OpenAI* — 97.77% · 3 incidents · MTTR 1h 15m · longest 2h" in texts
        # Discord: exactly one accepted POST, the digest's embed
        posts = [r for r in accepted(fake_discord.requests, discord_outage) if r.method == "POST"]
        assert len(posts) == 1
        embed = posts[0].json["embeds"][0]
        assert embed["title"] == "📊 Weekly digest · 23–29 Nov 2026"
        assert "🟥🟩🟨🟩🟥🟥🟥  **OpenAI** — 97.77% · 3 incidents" in embed["description"]
        delivered = [float(str(r["sent_at"])) for r in rows]
        assert all(DOWN[1].timestamp() <= t <= (DOWN[1] + timedelta(minutes=10)).timestamp() for t in delivered)
    store.close()


def accepted(requests: list[Any], outage: Outage) -> list[Any]:
    faulted = {id(r) for r in outage.faulted}
    return [r for r in requests if id(r) not in faulted and r.path.startswith("/webhooks/")]


def test_the_discord_bot_posts_the_digest_as_one_embed_within_limits_and_without_buttons() -> None:
    """Bot mode, through discord.py against the fake gateway and REST API: 200 monitors, one embed, no row of
    buttons even though clicks could be handled."""
    async def actions(action: Action) -> ActionResult:
        return ActionResult("ok", changed=False)

    async def main() -> None:
        async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake:
            config = DiscordConfig(mode=DiscordMode.BOT, channel=CHANNEL, bot_token=TOKEN, api_url=fake.api_url,
                                   guild_id=GUILD)
            adapter = DiscordAdapter(config=config, names=names, clock=FakeClock(POSTED), ready_timeout=20)
            await adapter.start(Answers(), actions)
            try:
                assert isinstance(await adapter.post(CHANNEL, alert(big_digest(200), at=POSTED)), Sent)
            finally:
                await adapter.stop()
            post = fake.find("POST", f"/channels/{CHANNEL}/messages")[0]
            assert [e["title"] for e in post.json["embeds"]] == ["📊 Weekly digest · 23–29 Nov 2026"]
            description = post.json["embeds"][0]["description"]
            assert len(description.encode("utf-16-le")) // 2 <= 4096 and "more monitors" in description
            assert not post.json.get("components")
            assert post.json["allowed_mentions"]["parse"] == []

    asyncio.run(main())
