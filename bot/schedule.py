"""APScheduler wiring: one job per monitor at a fixed phase on a shared tick grid, max_instances=1, coalescing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Monitor

STARTUP_RATE = 200.0  # first polls per second at most, beyond the first 2 s
# Every monitor's phase is a multiple of TICK after start, so the scheduler wakes once per tick for all the
# polls due in it instead of once per poll: 10,000 monitors at 60 s are 20 wake-ups a second of ~8 polls,
# not 167 of one, and batched polls share the event loop's turns. Capacity bench, 10,000 @ 60 s: 17-18 ->
# 9.5 % of a core, scheduling lag p99 2.5 -> 5.0 ms; a 0.1 s tick saved no more CPU and doubled the lag
# (bench/README.md, fix 8). A poll starts at most one tick before an even spread would put it.
TICK = 0.05  # seconds


def build_scheduler(
    *,
    monitors: Iterable[Monitor],
    poll: Callable[[Monitor], Awaitable[object]],
    housekeeping: Callable[[], Awaitable[object]] | None = None,
    start: datetime,
) -> AsyncIOScheduler:
    """A scheduler (not started) polling each monitor on its interval; first polls spread over 2 s, or
    longer when there are many monitors, so the start-up burst stays under STARTUP_RATE polls/s.

    No per-run jitter: each monitor keeps the phase it got here (IntervalTrigger counts from the previous
    run), which spreads the load as evenly as jitter would, without drift, and keeps polls on the tick grid.
    """
    scheduler = AsyncIOScheduler(timezone="UTC")
    monitors = list(monitors)
    # Later runs keep the first run's phase (IntervalTrigger counts from next_run_time), so this spread is
    # also the steady-state spread: 10,000 monitors started within 2 s stay a 5,000/s burst every interval.
    spread = max(2.0, len(monitors) / STARTUP_RATE)
    for index, monitor in enumerate(monitors):
        phase = min(spread, monitor.interval) * index / max(1, len(monitors))
        stagger = timedelta(seconds=int(phase / TICK + 1e-9) * TICK)  # down to its tick, within the interval
        scheduler.add_job(
            poll,
            IntervalTrigger(seconds=monitor.interval),
            args=[monitor],
            id=f"monitor:{monitor.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(monitor.interval)),
            next_run_time=start + stagger,
        )
    if housekeeping is not None:
        scheduler.add_job(housekeeping, IntervalTrigger(hours=1), id="housekeeping", max_instances=1,
                          coalesce=True, next_run_time=start + timedelta(minutes=1))
    return scheduler
