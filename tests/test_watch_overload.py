"""The probe engine's overload guard: a full engine skips and counts polls, reports once, and recovers."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.checks.http import HttpMonitor
from bot.clock import FakeClock
from bot.model import CheckResult, ComponentReading, Status
from bot.overload import OverloadGate
from tests.wiring import wire


class HeldCheck:
    """A check that answers only when released: probes stay in flight as long as the test wants."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, monitor: HttpMonitor, *, client: object, now: object) -> CheckResult:
        self.started += 1
        await self.release.wait()
        reading = ComponentReading(name=monitor.name, status=Status.OPERATIONAL, detail="HTTP 200")
        return CheckResult(monitor=monitor.name, at=FakeClock().now(), readable=True, components=(reading,))


@pytest.mark.anyio
async def test_full_engine_skips_counts_and_reports_once(caplog: pytest.LogCaptureFixture) -> None:
    monitors = [HttpMonitor(name=f"m{i}", url=f"http://127.0.0.1:9/{i}") for i in range(6)]
    check = HeldCheck()
    clock = FakeClock()
    log = logging.getLogger("test.overload")
    watcher = wire(":memory:", monitors, clock=clock, check=check,
                   gate=OverloadGate(clock=clock, log=log, limit=2)).watcher
    with caplog.at_level(logging.INFO, logger="test.overload"):
        held = [asyncio.create_task(watcher.poll(m)) for m in monitors[:2]]
        await asyncio.sleep(0)  # let both start and block
        assert check.started == 2
        skipped = [await watcher.poll(m) for m in monitors[2:5]]
        assert skipped == [None, None, None]
        assert watcher.skipped == 3 and watcher.overloaded
        assert check.started == 2  # skipped polls never reached the check: nothing queued
        check.release.set()
        steps = await asyncio.gather(*held)
        assert all(s is not None for s in steps)
        assert watcher.overloaded  # drained, but a skip was seconds ago: the same episode, no second report
        check.release = asyncio.Event()
        held = [asyncio.create_task(watcher.poll(m)) for m in monitors[:2]]
        await asyncio.sleep(0)
        assert await watcher.poll(monitors[2]) is None
        clock.advance(61)
        check.release.set()
        await asyncio.gather(*held)
        assert not watcher.overloaded  # a minute without a skip ends the episode
        assert await watcher.poll(monitors[5]) is not None  # polls run again once drained
    overloaded = [r for r in caplog.records if "probe engine overloaded" in r.getMessage()]
    assert len(overloaded) == 1
    assert any("keeps up again" in r.getMessage() for r in caplog.records)
    # a skipped poll is not an outage: no state was written for the skipped monitors
    assert set(watcher.states) == {"m0", "m1", "m5"}
    assert watcher.skipped == 4


