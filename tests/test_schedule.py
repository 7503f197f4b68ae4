"""The scheduler's plan: monitors grouped into tick slots at fixed phases, spread, no jitter; and the polls
the slots start: one per monitor at a time, each one's lag told, failures logged, cancelled at shutdown."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from bot.checks.http import HttpMonitor
from bot.config import Monitor
from bot.schedule import CHECKPOINT_EVERY, INLINE, STARTUP_RATE, TICK, PollTasks, Slot, build_scheduler

START = datetime(2026, 9, 29, 18, 30, 0, 123456, tzinfo=UTC)


async def _poll(monitor: object) -> None:
    return None


def _monitors(count: int, interval: float = 60.0) -> list[HttpMonitor]:
    return [HttpMonitor(name=f"m{i}", url=f"http://127.0.0.1:9/{i}", interval=interval) for i in range(count)]


def _phases(count: int, interval: float = 60.0) -> dict[str, float]:
    """Each monitor's first poll, in seconds after start, read from the slot jobs."""
    scheduler = build_scheduler(monitors=_monitors(count, interval), poll=_poll, start=START)
    jobs = scheduler.get_jobs()
    assert all(job.max_instances == 1 and job.coalesce for job in jobs)
    assert all(job.trigger.jitter is None for job in jobs)  # a fixed phase keeps the grid; jitter would not
    assert all(job.executor == INLINE for job in jobs)  # started in the timer's callback, not a thread
    phases: dict[str, float] = {}
    for job in jobs:
        (slot,) = job.args
        assert slot.first == job.next_run_time.timestamp()
        for monitor in slot.members:
            assert monitor.name not in phases  # every monitor in exactly one slot
            phases[monitor.name] = (job.next_run_time - START).total_seconds()
    assert len(phases) == count
    return phases


def test_slots_fall_on_the_tick_grid_and_batch_many_monitors() -> None:
    phases = sorted(_phases(10_000).values())
    ticks = [p / TICK for p in phases]
    assert all(abs(t - round(t)) < 1e-6 for t in ticks)
    assert phases[0] == 0 and phases[-1] < 60.0
    per_tick: dict[int, int] = {}
    for t in ticks:
        per_tick[round(t)] = per_tick.get(round(t), 0) + 1
    # 10,000 monitors over the whole 60 s at TICK 0.05 s: 1,200 slot jobs of 8 or 9 polls, never a burst
    assert len(per_tick) == 1200 and set(per_tick.values()) == {8, 9}
    scheduler = build_scheduler(monitors=_monitors(10_000), poll=_poll, start=START)
    assert len(scheduler.get_jobs()) == 1200


def test_start_up_stays_under_the_start_up_rate_and_within_the_interval() -> None:
    phases = list(_phases(5_000).values())
    assert sum(1 for p in phases if p < 1.0) <= STARTUP_RATE
    assert max(_phases(3).values()) <= 2.0  # a few monitors: all polled within the first 2 s
    assert max(_phases(400).values()) < 2.0  # as many as STARTUP_RATE starts in 2 s: still all within 2 s
    wide = sorted(_phases(401, interval=30.0).values())  # more: over the whole interval, evenly
    assert wide[-1] > 29.0 and max(b - a for a, b in pairwise(wide)) < 2 * TICK + 1e-6
    assert max(_phases(1_000, interval=5.0).values()) < 5.0  # the spread never exceeds one interval


def test_monitors_with_different_intervals_never_share_a_slot() -> None:
    monitors = [HttpMonitor(name="fast", url="http://127.0.0.1:9/a", interval=10.0),
                HttpMonitor(name="slow", url="http://127.0.0.1:9/b", interval=60.0)]
    scheduler = build_scheduler(monitors=monitors, poll=_poll, start=START)
    intervals = {job.args[0].members[0].name: job.trigger.interval for job in scheduler.get_jobs()}
    assert intervals == {"fast": timedelta(seconds=10), "slow": timedelta(seconds=60)}


def test_the_phase_is_kept_from_run_to_run() -> None:
    monitor = HttpMonitor(name="api", url="http://127.0.0.1:9/", interval=60.0)
    scheduler = build_scheduler(monitors=[monitor], poll=_poll, start=START)
    (job,) = scheduler.get_jobs()
    first = job.next_run_time
    assert job.trigger.get_next_fire_time(first, first + timedelta(seconds=1)) - first == timedelta(seconds=60)


@pytest.mark.parametrize(("now", "due"), [
    (100.0, 100.0),  # its first run, on time
    (100.02, 100.0),  # late within the run
    (159.999_999_9, 160.0),  # the next run, a hair early by float arithmetic: still that run
    (225.0, 220.0),  # two intervals late (coalesced): the latest run, not the first
    (99.0, 100.0),  # before its first run: that run
])
def test_a_slot_knows_which_run_a_call_is_for(now: float, due: float) -> None:
    slot = Slot(first=100.0, interval=60.0, members=())
    assert slot.due(now) == pytest.approx(due)


@pytest.mark.anyio
async def test_each_poll_reports_how_late_it_started() -> None:
    """Measured where each poll starts: the later ones of a slot wait for the first steps before them."""
    lags: list[float] = []
    clock = [1_000.004]  # 4 ms after the slot's run time at 1,000.0

    async def poll(monitor: Monitor) -> object:
        clock[0] += 0.002  # each poll's first step takes 2 ms before it waits
        await asyncio.sleep(0)
        return None

    polls = PollTasks(poll, on_lag=lags.append, now=lambda: clock[0])
    polls.start(Slot(first=940.0, interval=60.0, members=tuple(_monitors(3))))
    for _ in range(3):
        await asyncio.sleep(0)
    assert lags == [pytest.approx(0.004), pytest.approx(0.006), pytest.approx(0.008)]


def _due_now(*monitors: Monitor) -> Slot:
    return Slot(first=time.time() - 1.0, interval=60.0, members=monitors)


class HeldPolls:
    """A poll that waits until released; `boom` raises instead."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, monitor: Monitor) -> object:
        self.started.append(monitor.name)
        if monitor.name == "boom":
            raise RuntimeError("a bug in a poll")
        await self.release.wait()
        return None


@pytest.mark.anyio
async def test_one_poll_per_monitor_at_a_time_and_a_skip_is_logged_once(caplog: Any) -> None:
    held = HeldPolls()
    polls = PollTasks(held, log=logging.getLogger("test.schedule"))
    a, b = _monitors(2)
    with caplog.at_level(logging.WARNING, logger="test.schedule"):
        polls.start(_due_now(a, b))
        await asyncio.sleep(0)
        polls.start(_due_now(a))  # a's first poll is still running: skipped
        polls.start(_due_now(a))  # and again: still one log line for the episode
        assert held.started == ["m0", "m1"] and polls.running == 2
        skips = [r.getMessage() for r in caplog.records]
        assert skips == ["m0: previous poll still running at its next turn; skipped"]
        held.release.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert polls.running == 0
        polls.start(_due_now(a))  # its turn after the poll finished: started again
        await asyncio.sleep(0)
        assert held.started == ["m0", "m1", "m0"]


@pytest.mark.anyio
async def test_a_failing_poll_is_logged_and_shutdown_cancels_the_rest(caplog: Any) -> None:
    held = HeldPolls()
    polls = PollTasks(held, log=logging.getLogger("test.schedule"))
    boom = HttpMonitor(name="boom", url="http://127.0.0.1:9/")
    with caplog.at_level(logging.ERROR, logger="test.schedule"):
        polls.start(_due_now(boom, *_monitors(2)))
        for _ in range(3):
            await asyncio.sleep(0)
        assert [r.getMessage() for r in caplog.records] == ["boom: poll failed"]
        assert caplog.records[0].exc_info is not None
    assert polls.running == 2
    polls.cancel()
    for _ in range(3):
        await asyncio.sleep(0)
    assert polls.running == 0 and not held.release.is_set()


@pytest.mark.anyio
async def test_the_scheduler_starts_slot_polls_and_its_shutdown_cancels_them() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck(monitor: Monitor) -> object:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return None

    scheduler = build_scheduler(monitors=_monitors(1), poll=stuck, start=datetime.now(UTC))
    scheduler.start()
    try:
        await asyncio.wait_for(started.wait(), timeout=5)
    finally:
        scheduler.shutdown(wait=False)
    await asyncio.wait_for(cancelled.wait(), timeout=5)


@pytest.mark.anyio
async def test_the_checkpoint_job_runs_every_second_off_the_event_loop() -> None:
    ran = asyncio.Event()
    loop = asyncio.get_running_loop()
    threads: list[int] = []

    def checkpoint() -> int:
        threads.append(threading.get_ident())
        loop.call_soon_threadsafe(ran.set)
        return 0

    start = datetime.now(UTC) - timedelta(seconds=CHECKPOINT_EVERY)  # its first run is due now
    scheduler = build_scheduler(monitors=_monitors(1), poll=_poll, start=start, checkpoint=checkpoint)
    job = scheduler.get_job("checkpoint")
    assert job is not None and job.trigger.interval == timedelta(seconds=CHECKPOINT_EVERY) == timedelta(seconds=1)
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=5)
    finally:
        scheduler.shutdown(wait=False)
    assert threads and threads[0] != threading.get_ident()
