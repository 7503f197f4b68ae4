"""The scheduler's plan: every monitor a job at a fixed phase on the tick grid, spread, no jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import HttpMonitor
from bot.schedule import STARTUP_RATE, TICK, build_scheduler

START = datetime(2026, 9, 29, 18, 30, 0, 123456, tzinfo=UTC)


async def _poll(monitor: object) -> None:
    return None


def _phases(count: int, interval: float = 60.0) -> list[float]:
    monitors = [HttpMonitor(name=f"m{i}", url=f"http://127.0.0.1:9/{i}", interval=interval) for i in range(count)]
    scheduler = build_scheduler(monitors=monitors, poll=_poll, start=START)
    jobs = scheduler.get_jobs()
    assert len(jobs) == count and all(job.max_instances == 1 and job.coalesce for job in jobs)
    assert all(job.trigger.jitter is None for job in jobs)  # a fixed phase keeps the grid; jitter would not
    return sorted((job.next_run_time - START).total_seconds() for job in jobs)


def test_phases_fall_on_the_tick_grid_and_batch_many_monitors() -> None:
    phases = _phases(10_000)
    ticks = [p / TICK for p in phases]
    assert all(abs(t - round(t)) < 1e-6 for t in ticks)
    assert phases[0] == 0 and phases[-1] < 60.0
    per_tick: dict[int, int] = {}
    for t in ticks:
        per_tick[round(t)] = per_tick.get(round(t), 0) + 1
    # 10,000 monitors over 50 s at TICK 0.05 s: 1,000 ticks of 10 polls, never a burst
    assert len(per_tick) == 1000 and max(per_tick.values()) == 10


def test_start_up_stays_under_the_start_up_rate_and_within_the_interval() -> None:
    phases = _phases(5_000)
    first_second = sum(1 for p in phases if p < 1.0)
    assert first_second <= STARTUP_RATE
    assert _phases(3)[-1] <= 2.0  # a few monitors: all polled within the first 2 s
    short = _phases(1_000, interval=5.0)
    assert short[-1] < 5.0  # the spread never exceeds one interval


def test_the_phase_is_kept_from_run_to_run() -> None:
    monitor = HttpMonitor(name="api", url="http://127.0.0.1:9/", interval=60.0)
    scheduler = build_scheduler(monitors=[monitor], poll=_poll, start=START)
    (job,) = scheduler.get_jobs()
    first = job.next_run_time
    nxt = job.trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert nxt - first == timedelta(seconds=60)
