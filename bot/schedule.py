"""APScheduler wiring: one job per tick slot starting the polls of the monitors whose phase falls in it."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, SchedulerEvent
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Monitor

STARTUP_RATE = 200.0  # first polls per second: a config of up to 2 s of them is all polled within 2 s of start
# Every monitor's phase is a multiple of TICK after start, and the monitors sharing an interval and a tick
# are one APScheduler job (a slot) that starts their polls: 10,000 monitors at 60 s are 1,200 jobs firing 20
# times a second, not 10,000 firing 167 times: APScheduler's cost per run grows with its number of jobs, and
# polls that share a wake-up share the loop's turns. A coarser tick saves no more CPU and adds scheduling lag;
# starting each poll at its own phase within the tick (a loop timer each) cut the lag p99 but cost the
# 10,000-monitor run half as much CPU again (the measurements are in bench/README.md).
TICK = 0.05  # seconds
INLINE = "inline"  # the executor slot jobs run on
QUIET_TICK = 15.0  # seconds: how late a mute or maintenance window that ends without a poll is noticed at most
DIGEST_TICK = 30.0  # seconds between two looks of the weekly digest's job at the clock (cron times are minutes)
CHECKPOINT_EVERY = 1.0  # seconds between two moves of SQLite's WAL into the database (bot/store/sqlite.py)


def build_scheduler(
    *,
    monitors: Iterable[Monitor],
    poll: Callable[[Monitor], Awaitable[object]],
    housekeeping: Callable[[], Awaitable[object]] | None = None,
    start: datetime,
    digest: Callable[[], Awaitable[object]] | None = None,
    quiet: Callable[[], Awaitable[object]] | None = None,
    on_lag: Callable[[float], object] | None = None,
    checkpoint: Callable[[], object] | None = None,
) -> AsyncIOScheduler:
    """A scheduler (not started) polling each monitor on its interval; first polls spread over 2 s when
    there are few monitors (at most 2 s at STARTUP_RATE polls/s), otherwise over each monitor's interval.

    No per-run jitter: each monitor keeps the phase it got here (IntervalTrigger counts from the previous
    run), which spreads the load as evenly as jitter would, without drift, and keeps polls on the tick grid.
    Each slot job only starts its polls (PollTasks), so one slow target never delays its slot-mates.
    `on_lag` is told, for each poll, how many seconds after its slot's run time it started (/metrics).
    `checkpoint`, a plain function, runs every CHECKPOINT_EVERY seconds on the loop's worker threads.
    """
    scheduler = AsyncIOScheduler(timezone="UTC")
    # A slot job only creates tasks: APScheduler's inline executor (named `debug`) calls it in the timer's own
    # callback, where the asyncio executor would first wrap it in a task of its own and start the polls one
    # loop turn later, behind whatever else became ready meanwhile.
    scheduler.add_executor(DebugExecutor(), INLINE)
    monitors = list(monitors)
    # Later runs keep the first run's phase (IntervalTrigger counts from next_run_time), so this spread is
    # also the steady-state spread: 10,000 monitors started within 2 s would stay a 5,000/s burst every
    # interval. A few are all seen within 2 s of start; more spread over their whole interval, which puts the
    # fewest polls in each tick (10,000 at 60 s: 8 or 9).
    few = len(monitors) <= 2.0 * STARTUP_RATE
    slots: dict[tuple[float, int], list[Monitor]] = {}
    for index, monitor in enumerate(monitors):
        window = min(2.0, monitor.interval) if few else monitor.interval
        phase = window * index / max(1, len(monitors))
        slots.setdefault((monitor.interval, int(phase / TICK + 1e-9)), []).append(monitor)  # down to its tick
    polls = PollTasks(poll, on_lag=on_lag)
    for (interval, tick), members in slots.items():
        first = start + timedelta(seconds=tick * TICK)
        scheduler.add_job(
            polls.start,
            IntervalTrigger(seconds=interval),
            executor=INLINE,
            args=[Slot(first=first.timestamp(), interval=interval, members=tuple(members))],
            id=f"slot:{interval:g}s:{tick}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(interval)),
            next_run_time=first,
        )
    scheduler.add_listener(polls.cancel, EVENT_SCHEDULER_SHUTDOWN)
    if housekeeping is not None:
        scheduler.add_job(housekeeping, IntervalTrigger(hours=1), id="housekeeping", max_instances=1,
                          coalesce=True, next_run_time=start + timedelta(minutes=1))
    if quiet is not None:  # operations (issue 12): mutes and maintenance windows that end between polls
        scheduler.add_job(quiet, IntervalTrigger(seconds=QUIET_TICK), id="quiet", max_instances=1,
                          coalesce=True, next_run_time=start + timedelta(seconds=QUIET_TICK))
    if digest is not None:  # the weekly digest (issue 12): it looks at the injected clock, its cron is its own
        scheduler.add_job(digest, IntervalTrigger(seconds=DIGEST_TICK), id="digest", max_instances=1,
                          coalesce=True, next_run_time=start + timedelta(seconds=DIGEST_TICK))
    if checkpoint is not None:  # not a coroutine function: APScheduler's asyncio executor runs it in a thread
        scheduler.add_job(checkpoint, IntervalTrigger(seconds=CHECKPOINT_EVERY), id="checkpoint", max_instances=1,
                          coalesce=True, next_run_time=start + timedelta(seconds=CHECKPOINT_EVERY))
    return scheduler


@dataclass(frozen=True)
class Slot:
    """A slot job's monitors, due together at its run times."""

    first: float  # Unix time of the slot's first run
    interval: float
    members: tuple[Monitor, ...]

    def due(self, now: float) -> float:
        """The run time a call at `now` is for: the latest at or before it (a late run is coalesced)."""
        runs = max(0, math.floor((now - self.first) / self.interval + 1e-6))
        return self.first + runs * self.interval


class PollTasks:
    """The polls in flight, at most one per monitor (what max_instances=1 was when each monitor had a job).

    A monitor whose previous poll still runs when its turn comes is skipped, logged once per such episode
    (config keeps timeout < interval, so only a stalled engine gets here). A poll that raises is a bug: it
    is logged with its traceback. The scheduler's shutdown cancels what is still running.
    """

    def __init__(self, poll: Callable[[Monitor], Awaitable[object]], *, log: logging.Logger | None = None,
                 on_lag: Callable[[float], object] | None = None, now: Callable[[], float] = time.time) -> None:
        """`now`: Unix time, the scheduler's own clock (APScheduler runs on the wall clock)."""
        self._poll = poll
        self._log = log or logging.getLogger("downwatch.schedule")
        self._on_lag = on_lag
        self._now = now
        self._running: dict[str, asyncio.Task[object]] = {}
        self._overrun: set[str] = set()

    @property
    def running(self) -> int:
        return len(self._running)

    def start(self, slot: Slot) -> None:
        """Start each monitor's poll unless its previous one is still running (on the event loop's thread)."""
        due = slot.due(self._now())
        for monitor in slot.members:
            if monitor.name in self._running:
                if monitor.name not in self._overrun:
                    self._overrun.add(monitor.name)
                    self._log.warning("%s: previous poll still running at its next turn; skipped", monitor.name)
                continue
            task: asyncio.Task[object] = asyncio.ensure_future(self._run(monitor, due))
            self._running[monitor.name] = task
            task.add_done_callback(partial(self._finished, monitor.name))

    async def _run(self, monitor: Monitor, due: float) -> object:
        if self._on_lag is not None:  # where the poll starts: behind its slot-mates' first steps, as it waits
            self._on_lag(max(0.0, self._now() - due))
        return await self._poll(monitor)

    def cancel(self, event: SchedulerEvent | None = None) -> None:
        for task in list(self._running.values()):
            task.cancel()

    def _finished(self, name: str, task: asyncio.Task[object]) -> None:
        self._running.pop(name, None)
        self._overrun.discard(name)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s: poll failed", name, exc_info=task.exception())
