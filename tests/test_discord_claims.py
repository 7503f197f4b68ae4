"""Discord delivers an interaction to every replica's gateway session: with a cluster's claim (bot/cluster.py,
a row per interaction in PostgreSQL) exactly one replica answers it and acts; the others stay silent. Two real
discord.py clients on the fake gateway, one database."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from bot.clock import FakeClock
from bot.cluster import Lease
from tests.fakes.discord_api import FakeDiscord
from tests.test_discord_buttons import T0, TOKEN, Page, callback_of, click, ids, opened, running


@pytest.mark.anyio
async def test_a_click_every_replica_receives_is_answered_and_acted_on_once(pg_url: str) -> None:
    clock, page = FakeClock(T0), Page()
    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake, AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(running(pg_url, fake, clock, page)) for _ in range(2)]
        leases = [stack.enter_context(Lease(pg_url, holder=f"r{i}", cluster="c", host="h", pid=i))
                  for i in range(2)]
        for replica, lease in zip(replicas, leases, strict=True):
            replica.adapter.claim_with(lambda key, lease=lease: asyncio.to_thread(lease.claim, key))
        incident = await opened(replicas[0], page)  # the leader's alert, with its buttons
        assert len(fake._sockets) == 2  # both replicas hold a gateway session

        interaction_id = "1301"
        await fake.dispatch("INTERACTION_CREATE", click(fake.message_object(replicas[0].parent()),
                                                        ids(incident)["ack"], interaction_id=interaction_id))
        await fake.wait_for(callback_of(interaction_id))
        await replicas[0].wired.drain("discord")
        await _settled(fake, interaction_id)
        callbacks = [r for r in fake.find("POST", f"/interactions/{interaction_id}/") if r.path.endswith("/callback")]
        assert len(callbacks) == 1  # answered once, by whichever replica claimed it
        assert [a[1] for a in replicas[0].store.actions()] == ["ack"]  # acted on once (one shared database)


async def _settled(fake: FakeDiscord, interaction_id: str) -> None:
    """Wait until both replicas have handled the interaction: the winner's follow-up is posted (the loser
    returns at its claim, before any request)."""
    await fake.wait_for(lambda r: r.method == "POST" and r.path.endswith(f"tok-{interaction_id}"))
