"""The status page shows what people did from chat: an acknowledgement and a mute of the open incident are on
its timeline, on the front page and on the monitor's page, as soon as they are made (the page's per-monitor
cache moves with them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.model import Action, ActionKind, Actor
from bot.web.page import href
from tests.web_world import CLOUD, World, build_world, running

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path)
    yield built
    built.wired.store.close()


async def test_an_acknowledgement_and_a_mute_show_on_the_open_incidents_timeline(world: World) -> None:
    world.outage()
    ops = world.wired.ops
    async with running(world) as url, httpx.AsyncClient(base_url=url) as client:
        before = (await client.get("/")).text
        assert "Acknowledged by" not in before
        alice = Actor("U1", "alice", "slack")
        assert ops.act(Action(ActionKind.ACK, alice, target=CLOUD.name)).changed
        assert ops.act(Action(ActionKind.MUTE, alice, target=CLOUD.name, until=None, reason="known")).changed
        front = (await client.get("/")).text
        detail = (await client.get(href(CLOUD.name))).text
    for html in (front, detail):
        assert "Acknowledged by @" in html and "alice" in html
        assert "Muted by @" in html
