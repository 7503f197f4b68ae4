"""The status page with many monitors (pages of PER_PAGE cards, problems first) and with names nobody plans
for (10 KB, unicode, slashes), over real HTTP against a real SQLite store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Monitor
from bot.model import Status
from bot.web.activity import Activity
from bot.web.page import href
from bot.web.server import PER_PAGE
from tests.web.world import FAST, World, running
from tests.wiring import wire

pytestmark = pytest.mark.anyio
LONG = "Ü" + "x" * 10_000  # 10 KB and not ASCII: its address is 10 KB, within the 16 KB request line



def monitors(count: int) -> tuple[Monitor, ...]:
    made = [StatuspageMonitor(name=f"Provider {m:03d}", url="https://status.example", policy=FAST)
            for m in range(count - 1)]
    return (*made, StatuspageMonitor(name=LONG, url="https://status.long.example", policy=FAST))


@pytest.fixture
def crowd(tmp_path: Path) -> Iterator[tuple[World, tuple[Monitor, ...]]]:
    made = monitors(2 * PER_PAGE + 30)
    clock = FakeClock()
    world = World(wired=wire(tmp_path / "many.db", made, clock=clock), activity=Activity(clock=clock))
    for _ in range(2):
        for monitor in made:
            world.feed(monitor, {"API": Status.MAJOR if monitor.name == "Provider 150" else Status.OPERATIONAL})
        clock.advance(60)
    yield world, made
    world.wired.store.close()


def names_on(html: str) -> list[str]:
    return re.findall(r'<article class="card monitor" id="monitor-\d+" data-monitor="([^"]*)"', html)


async def test_many_monitors_are_paged_with_problems_first(crowd: tuple[World, tuple[Monitor, ...]]) -> None:
    world, made = crowd
    async with running(world) as url, httpx.AsyncClient(base_url=url) as client:
        first = (await client.get("/")).text
        assert names_on(first)[0] == "Provider 150"  # the one in trouble, on the page people open
        assert f"Monitors 1–{PER_PAGE} of {len(made)}, those with a problem first" in first
        assert '<a href="/?page=3">3</a>' in first and '<span aria-current="page">1</span>' in first
        seen = []
        for number in (1, 2, 3):
            page = await client.get(f"/?page={number}")
            assert page.status_code == 200
            seen += names_on(page.text)
        assert len(seen) == len(made) and {n.replace("&#39;", "'") for n in seen} == {m.name for m in made}
        assert len(names_on((await client.get("/?page=3")).text)) == 30
        for bad in ("4", "0", "-1", "abc", "1e3", "99999999999", ""):
            answer = await client.get("/", params={"page": bad})
            assert answer.status_code == (200 if bad == "" else 404), bad
        assert "1 component not operational" in first  # the headline counts every page's monitors


async def test_a_10kb_unicode_name_gets_its_card_and_its_page(crowd: tuple[World, tuple[Monitor, ...]]) -> None:
    world, _ = crowd
    async with running(world) as url, httpx.AsyncClient(base_url=url) as client:
        last = (await client.get("/?page=3")).text
        assert LONG in last and href(LONG) in last
        page = await client.get(href(LONG))
        assert page.status_code == 200 and f"<h1>{LONG}</h1>" in page.text
        assert (await client.head(href(LONG))).status_code == 200
        assert (await client.get(href(LONG) + "x")).status_code == 404
        summary = (await client.get("/api/v2/summary.json")).json()
        assert LONG in {c["name"] for c in summary["components"]}
