"""APScheduler wiring: one job per monitor, with jitter, max_instances=1 and coalescing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Monitor


def build_scheduler(
    *,
    monitors: Iterable[Monitor],
    poll: Callable[[Monitor], Awaitable[object]],
    housekeeping: Callable[[], Awaitable[object]] | None = None,
    start: datetime,
) -> AsyncIOScheduler:
    """A scheduler (not started) polling each monitor on its interval; first polls spread over 2 s."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    monitors = list(monitors)
    for index, monitor in enumerate(monitors):
        stagger = timedelta(seconds=2.0 * index / max(1, len(monitors)))
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
