"""Delivery survives platform faults: an hour of simulated incidents through the real Watcher → Store →
Sender → SlackAdapter / DiscordWebhookAdapter, with the fake Slack and the fake Discord answering 5xx, 429
with and without hints, dropping connections and hanging for many simulated minutes, each in turn.

Time is a FakeClock: the status pages (SimulatedProvider) read it, the Sender paces and backs off on it,
the faults are scheduled on it. Only a hanging request costs real time (the client's 0.25 s timeout).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.discord.webhook import DiscordWebhookAdapter
from adapters.slack.adapter import SlackAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from bot.checks.client import make_client
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Policy, Route
from bot.outbox import Sender
from bot.simulator import Phase, SimulatedProvider
from bot.store import Store
from bot.watch import Watcher
from tests.fakes.discord_api import FakeDiscord, Recorded
from tests.fakes.faults import DISCORD_FAULTS, SLACK_FAULTS, Outage
from tests.fakes.slack_api import FakeSlack
from tests.wiring import wire

T0 = datetime(2026, 9, 29, 12, 0, tzinfo=UTC)
SLACK_TOKEN = "xoxb-1234-5678-FAULTSbottoken"
HOOK_SECRET = "FAULTSwebhooktokenPART"
SLACK_CHANNEL = "C0ALERTS"
DISCORD_CHANNEL = "645027906669510667"
CLIENT_TIMEOUT = 0.25  # real seconds: what a hanging platform costs per try

# Per monitor, minute → the phase its status page moves to: five incidents, overlapping, each with updates.
SCRIPT: dict[str, dict[int, Phase]] = {
    "OpenAI": {2: Phase.DEGRADED, 6: Phase.MAJOR, 11: Phase.DEGRADED, 15: Phase.RECOVERED,
               24: Phase.DEGRADED, 28: Phase.MAJOR, 33: Phase.RECOVERED,
               44: Phase.MAJOR, 49: Phase.RECOVERED},
    "GitHub": {4: Phase.MAJOR, 9: Phase.RECOVERED,
               19: Phase.DEGRADED, 27: Phase.RECOVERED,
               37: Phase.DEGRADED, 41: Phase.MAJOR, 46: Phase.RECOVERED},
}
SLACK_DOWN = (1, 23)  # minutes [from, to): Slack fails every call
DISCORD_DOWN = (30, 52)  # Discord fails every call (Slack's backlog has long drained by then)
END = 70  # minutes simulated
ON_TIME = 3.0  # seconds: an alert for a healthy platform goes out within its pacing


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


@dataclass
class World:
    clock: FakeClock
    store: Store
    sender: Sender
    slack: FakeSlack
    discord: FakeDiscord
    slack_outage: Outage
    discord_outage: Outage


async def drive(world: World, watcher: Watcher, monitors: list[StatuspageMonitor],
                pages: dict[str, SimulatedProvider]) -> None:
    """Move the fake clock event by event: script changes, polls every 60 s, and every due delivery."""
    clock, sender = world.clock, world.sender
    offsets = {m.name: 30.0 * i for i, m in enumerate(monitors)}  # polls of different monitors interleave
    next_poll = {m.name: T0 + timedelta(seconds=offsets[m.name]) for m in monitors}
    done_minutes: set[tuple[str, int]] = set()
    end = at(END)
    while clock.now() < end:
        now = clock.now()
        for name, script in SCRIPT.items():
            for minute, phase in script.items():
                if (name, minute) not in done_minutes and now >= at(minute):
                    done_minutes.add((name, minute))
                    pages[name].set_phase(phase)
        for monitor in monitors:
            if now >= next_poll[monitor.name]:
                await watcher.poll(monitor)
                next_poll[monitor.name] += timedelta(seconds=monitor.interval)
        await sender.deliver_all()
        # the next thing that can happen: a poll, a script change, a row coming due, or a pacing slot
        candidates = [(t - now).total_seconds() for t in next_poll.values()]
        candidates += [(at(m) - now).total_seconds() for n, s in SCRIPT.items() for m in s if (n, m) not in done_minutes]
        candidates += [(at(m) - now).total_seconds() for m in (*SLACK_DOWN, *DISCORD_DOWN) if at(m) > now]
        for platform in ("slack", "discord"):
            wait = await sender.next_due(platform)
            if wait is not None:
                candidates.append(max(wait, 1.0))  # due now but paced: the channel's next 1 s slot
        clock.advance(max(0.001, min(c for c in candidates if c > 0)))


def sent_rows(store: Store, platform: str) -> list[dict[str, Any]]:
    return [r for r in store.outbox_rows() if r["platform"] == platform]


def by_incident(rows: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    incidents: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        incidents.setdefault(str(row["incident_id"]), []).append(row)
    yield from incidents.items()


@pytest.mark.anyio
async def test_an_hour_of_incidents_through_slack_and_discord_outages_loses_and_duplicates_nothing(
    database: str,
) -> None:
    clock = FakeClock(T0)
    async with (
        SimulatedProvider(phase=Phase.OPERATIONAL, now=clock.now) as openai,
        SimulatedProvider(phase=Phase.OPERATIONAL, now=clock.now) as github,
        FakeSlack(token=SLACK_TOKEN) as fake_slack,
        FakeDiscord() as fake_discord,
        make_client() as http,
        httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as discord_http,
    ):
        slack_outage = Outage(clock=clock, start=at(SLACK_DOWN[0]), end=at(SLACK_DOWN[1]), faults=SLACK_FAULTS)
        discord_outage = Outage(clock=clock, start=at(DISCORD_DOWN[0]), end=at(DISCORD_DOWN[1]),
                                faults=DISCORD_FAULTS)
        fake_slack.intercept = slack_outage
        fake_discord.intercept = discord_outage
        routes = (Route("slack", SLACK_CHANNEL), Route("discord", DISCORD_CHANNEL))
        monitors = [
            StatuspageMonitor(name=name, url=page.url, interval=60, timeout=5, policy=Policy(), routes=routes)
            for name, page in (("OpenAI", openai), ("GitHub", github))
        ]
        slack_config = SlackConfig(mode=SlackMode.SOCKET, channel=SLACK_CHANNEL, bot_token=SLACK_TOKEN,
                                   api_url=fake_slack.api_url)
        # slack_sdk annotates timeout as int; it is aiohttp's ClientTimeout(total=...), which takes seconds as float
        slack_client = AsyncWebClient(token=SLACK_TOKEN, base_url=fake_slack.api_url,
                                      timeout=CLIENT_TIMEOUT, retry_handlers=[])  # type: ignore[arg-type]
        slack = SlackAdapter(config=slack_config, client=slack_client)
        hook = f"{fake_discord.api_url}/webhooks/1111/{HOOK_SECRET}"
        discord = DiscordWebhookAdapter(config=DiscordConfig(mode=DiscordMode.WEBHOOK, channel=DISCORD_CHANNEL,
                                                             webhook_url=hook), client=discord_http)
        store, watcher, sender = wire(database, monitors, clock=clock, client=http,
                                      adapters={"slack": slack, "discord": discord}).parts()
        world = World(clock, store, sender, fake_slack, fake_discord, slack_outage, discord_outage)
        try:
            await drive(world, watcher, monitors, {"OpenAI": openai, "GitHub": github})
        finally:
            slack_outage.release()
            discord_outage.release()
            if slack_client.session is not None:
                await slack_client.session.close()

        incidents = store.sql.execute("SELECT id, monitor, resolved_at FROM incidents ORDER BY started_at").fetchall()
        assert [m for _, m, _ in incidents] == ["OpenAI", "GitHub", "GitHub", "OpenAI", "GitHub", "OpenAI"]
        assert all(resolved is not None for _, _, resolved in incidents)
        check_slack(world, [i for i, _, _ in incidents])
        check_discord(world, [i for i, _, _ in incidents])
        assert store.integrity() == "ok"

        # both platforms got every kind of fault, many times, over many simulated minutes
        assert set(slack_outage.given) == {f.name for f in SLACK_FAULTS}
        assert set(discord_outage.given) == {f.name for f in DISCORD_FAULTS}
        print(f"\nfaults: slack {len(slack_outage.given)} over {SLACK_DOWN[1] - SLACK_DOWN[0]} simulated min "
              f"{dict(Counter(slack_outage.given))}; discord {len(discord_outage.given)} over "
              f"{DISCORD_DOWN[1] - DISCORD_DOWN[0]} min {dict(Counter(discord_outage.given))}; delivered: "
              f"slack {len(fake_slack.messages)} messages + "
              f"{sum(1 for c in accepted_slack(world) if c.method == 'chat.update')} edits, discord "
              f"{sum(1 for r in accepted_discord(world) if r.method == 'POST')} messages + "
              f"{sum(1 for r in accepted_discord(world) if r.method == 'PATCH')} edits; incidents {len(incidents)}")
        store.close()


def accepted_slack(world: World) -> list[Any]:
    faulted = {id(c) for c in world.slack_outage.faulted}
    return [c for c in world.slack.calls if id(c) not in faulted]


def accepted_discord(world: World) -> list[Recorded]:
    faulted = {id(r) for r in world.discord_outage.faulted}
    return [r for r in world.discord.requests if id(r) not in faulted and r.path.startswith("/webhooks/")]


def check_slack(world: World, incidents: list[str]) -> None:
    store, fake = world.store, world.slack
    rows = sent_rows(store, "slack")
    assert {r["state"] for r in rows} <= {"sent", "superseded"}, [r for r in rows if r["state"] not in ("sent",
                                                                                                       "superseded")]
    # zero lost, zero duplicated: the messages Slack accepted are exactly the sent post/reply rows, one each
    posted = [r for r in rows if r["op"] in ("post", "reply")]
    assert all(r["state"] == "sent" for r in posted)
    assert sorted(str(r["ref"]) for r in posted) == sorted(ts for _, ts in fake.messages)
    assert len(fake.messages) == len(posted)
    created_order = [ts for _, ts in fake.messages]  # the fake keeps messages in the order it accepted them
    updates = [c for c in accepted_slack(world) if c.method == "chat.update"]
    for incident in incidents:
        mine = sorted((r for r in rows if r["incident_id"] == incident), key=lambda r: int(r["id"]))
        parent = store.parent_ref(incident, "slack", SLACK_CHANNEL)
        assert parent is not None and mine[0]["op"] == "post" and mine[0]["ref"] == parent
        # in order: the parent first, then each reply in the thread, in the order the engine decided them
        replies = [str(r["ref"]) for r in mine if r["op"] == "reply"]
        assert replies, "every incident here has updates and a recovery"
        positions = [created_order.index(ts) for ts in (parent, *replies)]
        assert positions == sorted(positions)
        assert all(fake.messages[(SLACK_CHANNEL, ts)].get("thread_ts") == parent for ts in replies)
        # edits went to the parent's ts, and it ends showing the recovery
        assert any(c.params["ts"] == parent for c in updates)
        assert fake.messages[(SLACK_CHANNEL, parent)]["text"].startswith("✅ ")
        assert fake.messages[(SLACK_CHANNEL, replies[-1])]["text"].startswith("✅ Recovered after")
    assert {c.params["ts"] for c in updates} <= {store.parent_ref(i, "slack", SLACK_CHANNEL) for i in incidents}
    # Slack's pace, on the injected clock: never two messages in one channel within a second
    times = sorted(float(r["sent_at"]) for r in rows if r["state"] == "sent")
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))
    # Discord being down never delayed Slack
    during = [r for r in rows if at(DISCORD_DOWN[0]).timestamp() <= float(r["created_at"]) < at(DISCORD_DOWN[1])
              .timestamp() and r["state"] == "sent"]
    assert during and all(float(r["sent_at"]) - float(r["created_at"]) <= ON_TIME for r in during)


def check_discord(world: World, incidents: list[str]) -> None:
    store = world.store
    rows = sent_rows(store, "discord")
    assert {r["state"] for r in rows} <= {"sent", "superseded"}
    accepted = accepted_discord(world)
    created = [r for r in accepted if r.method == "POST"]
    posted = [r for r in rows if r["op"] in ("post", "reply")]
    assert all(r["state"] == "sent" for r in posted)
    assert len(created) == len(posted)  # each change exactly once: nothing lost, nothing twice
    message_ids = [mid for mid in world.discord.messages]
    assert sorted(str(r["ref"]) for r in posted) == sorted(message_ids)
    edits = [r for r in accepted if r.method == "PATCH"]
    for incident in incidents:
        mine = sorted((r for r in rows if r["incident_id"] == incident), key=lambda r: int(r["id"]))
        parent = store.parent_ref(incident, "discord", DISCORD_CHANNEL)
        assert parent is not None and mine[0]["op"] == "post" and mine[0]["ref"] == parent
        order = [message_ids.index(str(r["ref"])) for r in mine if r["op"] in ("post", "reply")]
        assert order == sorted(order)  # the parent, then the change lines in order
        assert any(r.path.endswith(f"/messages/{parent}") for r in edits)
        final = world.discord.messages[parent]["embeds"][0]
        assert "resolved" in final["title"]
    # Slack being down (and hanging) never delayed Discord
    during = [r for r in rows if at(SLACK_DOWN[0]).timestamp() <= float(r["created_at"]) < at(SLACK_DOWN[1])
              .timestamp() and r["state"] == "sent"]
    assert during and all(float(r["sent_at"]) - float(r["created_at"]) <= ON_TIME for r in during)
