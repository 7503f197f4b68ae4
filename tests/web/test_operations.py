"""The status page shows what people did from chat: an acknowledgement and a mute of the open incident are on
its timeline, on the front page and on the monitor's page, as soon as they are made (the page's per-monitor
cache moves with them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.checks import run_check
from bot.checks.client import make_client
from bot.checks.statuspage import StatuspageMonitor
from bot.maintenance import Window
from bot.model import Action, ActionKind, Actor
from bot.web.page import href
from bot.web.server import StatusSite, serve
from bot.web.statuspage import stamp
from tests.web.world import CLOUD, MONITORS, World, running

pytestmark = pytest.mark.anyio




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


async def test_the_api_lists_our_windows_and_a_second_downwatch_reads_them(world: World) -> None:
    """summary.json's scheduled_maintenances: the configured window in force and the next one, with their
    components, in Atlassian's shape — what the statuspage check of another downwatch reads back."""
    now = world.clock.now()
    planned = (
        Window(name="Storage upgrade", monitors=(CLOUD.name,), components=("<b>Storage</b>",),
               start=now - timedelta(minutes=30), end=now + timedelta(minutes=30)),
        Window(name="Weekly deploy", monitors=(CLOUD.name,), cron="0 3 * * SUN", duration=timedelta(hours=2),
               timezone="Europe/Berlin"),
    )
    site = StatusSite(store=world.wired.store, clock=world.clock, monitors=MONITORS, planned=planned, cache_for=0)
    async with (serve(site.application(), host="127.0.0.1", port=0) as url, make_client() as client,
                httpx.AsyncClient() as web):
        summary = (await web.get(f"{url}/api/v2/summary.json")).json()
        read = await run_check(StatuspageMonitor(name="Other downwatch", url=url), client=client, now=world.clock.now)
    listed = summary["scheduled_maintenances"]
    assert [(m["name"], m["status"], m["impact"]) for m in listed] == [
        ("Storage upgrade", "in_progress", "maintenance")] + [("Weekly deploy", "scheduled", "maintenance")] * 5
    assert [c["name"] for c in listed[0]["components"]] == ["<b>Storage</b>"]
    assert [c["name"] for c in listed[1]["components"]] == [CLOUD.name]  # the whole monitor: its group
    assert listed[0]["scheduled_until"] == stamp(now + timedelta(minutes=30))
    sundays = [datetime.fromisoformat(m["scheduled_for"]) for m in listed[1:]]
    assert all(s.astimezone(ZoneInfo("Europe/Berlin")).strftime("%a %H:%M") == "Sun 03:00" for s in sundays)
    assert [(m.name, m.in_progress) for m in read.maintenances] == [("Storage upgrade", True)] + [
        ("Weekly deploy", False)] * 5
    assert not read.incidents  # a maintenance is never an incident
