"""A small world for the web tests: real SQLite, the real Watcher fed with check results at a fake clock's
times, and the real web server on 127.0.0.1. Shared by the tests in tests/web/ (tests/web/conftest.py's `world`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Monitor, Policy
from bot.model import CheckResult, ComponentReading, ProviderIncident, Status
from bot.web.activity import Activity, Health
from bot.web.server import StatusSite, serve
from tests.wiring import Wired, wire

START = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)  # 100 days before NOW: the strips are full
NOW = START + timedelta(days=100)
FAST = Policy(failures_before_alert=2, successes_before_recovery=2)
SCRIPT_TITLE = "<script>alert('x')</script> & friends"

CLOUD = StatuspageMonitor(name="Acme Cloud", url="https://status.acme.example", policy=FAST)
SITE = HttpMonitor(name="Website", url="https://secret-host.internal/health?token=abc", policy=FAST)
SLASH = StatuspageMonitor(name="a/b ../ Ünïcødé ☃", url="https://status.other.example", policy=FAST)
DOTS = StatuspageMonitor(name="..", url="https://status.dots.example", policy=FAST)
MONITORS: tuple[Monitor, ...] = (CLOUD, SITE, SLASH, DOTS)
CLOUD_PARTS = ("API", "Dashboard", "<b>Storage</b>")


@dataclass
class World:
    wired: Wired
    activity: Activity
    scheduler_running: bool = True

    @property
    def clock(self) -> FakeClock:
        return self.wired.clock

    def feed(self, monitor: Monitor, statuses: Mapping[str, Status] | None = None, *, latency: float | None = None,
             incidents: tuple[ProviderIncident, ...] = (), readable: bool = True) -> None:
        """One check result for `monitor` at the clock's time, applied by the real Watcher."""
        readings = tuple(ComponentReading(name=n, status=s, detail="" if s is Status.OPERATIONAL else "HTTP 503")
                         for n, s in (statuses or {}).items())
        result = CheckResult(monitor=monitor.name, at=self.clock.now(), readable=readable, components=readings,
                             incidents=incidents, latency_ms=latency, detail="" if readable else "HTTP 502")
        self.activity.record(result, kind=monitor.kind)
        self.wired.watcher.apply(monitor, result)

    def all_well(self) -> None:
        self.feed(CLOUD, dict.fromkeys(CLOUD_PARTS, Status.OPERATIONAL))
        self.feed(SITE, {"Website": Status.OPERATIONAL}, latency=120.0)
        self.feed(SLASH, {"Ünïcødé ☃": Status.OPERATIONAL})
        self.feed(DOTS, {"..": Status.OPERATIONAL})

    def outage(self, *, title: str = SCRIPT_TITLE) -> None:
        """Acme's API in a major outage, Storage degraded, with a provider incident (twice: confirmed)."""
        incident = ProviderIncident(id="inc1", title=title, status="investigating", impact="critical",
                                    latest_update="We are looking <into> it", components=("API",))
        for _ in range(2):
            self.feed(CLOUD, {"API": Status.MAJOR, "Dashboard": Status.OPERATIONAL,
                              "<b>Storage</b>": Status.DEGRADED}, incidents=(incident,))
            self.feed(SITE, {"Website": Status.OPERATIONAL}, latency=900.0)
            self.clock.advance(60)

    def site(self, *, public: bool = False) -> StatusSite:
        health = Health(store=self.wired.store, clock=self.clock, activity=self.activity, monitors=MONITORS,
                        scheduler_running=lambda: self.scheduler_running)
        return StatusSite(store=self.wired.store, clock=self.clock, monitors=MONITORS, public=public,
                          activity=self.activity, health=health, cache_for=0.0)


def build_world(path: Path) -> World:
    """100 days of history: all well daily, one resolved outage of Acme 10 days ago, then the present."""
    clock = FakeClock(START)
    world = World(wired=wire(path / "web.db", MONITORS, clock=clock), activity=Activity(clock=clock))
    for day in range(100):
        world.all_well()
        if day == 90:  # a resolved incident: 2 polls bad, 1h later 2 polls good
            world.outage(title="Elevated errors")
            clock.advance(3600)
            world.all_well()
            clock.advance(60)
        clock.advance(86400 - (3720 if day == 90 else 0))
    for hour in range(24):  # the last day probed hourly: the latency chart has a line to draw
        world.feed(SITE, {"Website": Status.OPERATIONAL}, latency=90.0 + 40 * (hour % 5) + (300 if hour == 17 else 0))
        clock.advance(3600)
    world.all_well()
    return world


@asynccontextmanager
async def running(world: World, *, public: bool = False) -> AsyncIterator[str]:
    async with serve(world.site(public=public).application(), host="127.0.0.1", port=0) as url:
        yield url
