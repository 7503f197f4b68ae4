"""APScheduler wiring: one job per monitor, with jitter, max_instances=1 and coalescing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Monitor

STARTUP_RATE = 200.0  # first polls per second at most, beyond the first 2 s


def build_scheduler(
    *,
    monitors: Iterable[Monitor],
    poll: Callable[[Monitor], Awaitable[object]],
    housekeeping: Callable[[], Awaitable[object]] | None = None,
    start: datetime,
) -> AsyncIOScheduler:
    """A scheduler (not started) polling each monitor on its interval; first polls spread over 2 s, or
    longer when there are many monitors, so the start-up burst stays under STARTUP_RATE polls/s."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    monitors = list(monitors)
    # Later runs keep the first run's phase (IntervalTrigger counts from next_run_time), so this spread is
    # also the steady-state spread: 10,000 monitors started within 2 s stay a 5,000/s burst every interval.
    spread = max(2.0, len(monitors) / STARTUP_RATE)
    for index, monitor in enumerate(monitors):
        stagger = timedelta(seconds=min(spread, monitor.interval) * index / max(1, len(monitors)))
        scheduler.add_job(
            poll,
            IntervalTrigger(seconds=monitor.interval, jitter=min(5.0, monitor.interval * 0.1)),
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
