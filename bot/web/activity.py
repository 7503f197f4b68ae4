"""What the running bot does, counted in memory as it happens, and whether it is healthy (/metrics, /healthz).

Counting here, at the check boundary, costs a few additions per check; reading the same figures back from
SQLite at scrape time would cost a scan of the probe table, which has no index by monitor on purpose.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.config import Monitor
from bot.model import CheckResult
from bot.store import Store

# Probe latency buckets (seconds): from a fast loopback answer to the longest timeout worth waiting for.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Scheduling lag buckets (seconds): how late a poll started after its due time, around the 10 ms a healthy
# bot keeps to, up to the seconds of a loop that something blocks.
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
OUTBOX_STUCK = timedelta(minutes=10)  # a due row older than this means delivery is not draining
STALE_FACTOR = 3  # no check completed within this many of the shortest interval: checks have stopped
MIN_STALE = timedelta(seconds=60)
# The log of checked monitors (Activity.checked_since) starts over past this many entries per monitor: a reader
# that fell further behind rebuilds from every monitor, which is what each scrape would cost without the log.
MOVES_PER_MONITOR = 4


class CheckResultKind:
    """The `result` label of downwatch_checks_total."""

    READABLE = "readable"
    UNREADABLE = "unreadable"
    SKIPPED = "skipped"  # not applied: the bot could not see, or the probe engine was full


@dataclass
class Histogram:
    """A Prometheus-style histogram, kept as plain counts per bucket (made cumulative when written)."""

    counts: list[int]
    total: float = 0.0
    observed: int = 0
    bounds: tuple[float, ...] = LATENCY_BUCKETS

    @classmethod
    def empty(cls, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> Histogram:
        return cls([0] * (len(bounds) + 1), bounds=bounds)

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.observed += 1


class Activity:
    """Checks counted by result, their latency, when each monitor was last checked, and how late polls start."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self.started = clock.now()
        self.checks: dict[str, int] = {}
        self.last_check: dict[str, datetime] = {}  # monitor → when its last check completed
        self.latency: dict[str, Histogram] = {}  # check kind → its checks' latency
        self.last_completed: datetime | None = None
        self.lag = Histogram.empty(LAG_BUCKETS)  # the scheduler's: a poll's start after its due time
        self.deliveries: dict[tuple[str, str], int] = {}  # (platform, result) → delivery attempts
        self._moves: list[str] = []  # the monitors checked, in order, since the mark `_moves_from`
        self._moves_from = 0

    def record(self, result: CheckResult, *, kind: str) -> None:
        outcome = CheckResultKind.READABLE if result.readable else CheckResultKind.UNREADABLE
        self.checks[outcome] = self.checks.get(outcome, 0) + 1
        self.last_check[result.monitor] = result.at
        self._moves.append(result.monitor)
        if len(self._moves) > MOVES_PER_MONITOR * len(self.last_check) + 1024:
            self._moves_from += len(self._moves)
            self._moves = []
        self.last_completed = self._clock.now()
        if result.latency_ms is not None:
            histogram = self.latency.get(kind)
            if histogram is None:
                histogram = self.latency[kind] = Histogram.empty()
            histogram.observe(result.latency_ms / 1000.0)

    def checked_since(self, mark: int | None) -> tuple[list[str] | None, int]:
        """The monitors checked since `mark` (a mark this returned before), and the mark to ask from next;
        None instead of monitors for a first ask or a mark the log no longer reaches: any may have moved."""
        end = self._moves_from + len(self._moves)
        if mark is None or mark < self._moves_from:
            return None, end
        return self._moves[mark - self._moves_from:], end

    def delivered(self, platform: str, result: str) -> None:
        """A delivery attempt's outcome (bot.outbox.Sender's on_result)."""
        self.deliveries[(platform, result)] = self.deliveries.get((platform, result), 0) + 1

    def late(self, seconds: float) -> None:
        """A poll started `seconds` after its due time (bot.schedule's on_lag)."""
        self.lag.observe(seconds)

    def skipped(self) -> None:
        self.checks[CheckResultKind.SKIPPED] = self.checks.get(CheckResultKind.SKIPPED, 0) + 1

    def wrap_check(self, check: Callable[..., Awaitable[CheckResult]]) -> Callable[..., Awaitable[CheckResult]]:
        """The check the Watcher runs, recording each result as it comes back."""

        async def checked(monitor: Monitor, **kwargs: Any) -> CheckResult:
            result = await check(monitor, **kwargs)
            self.record(result, kind=monitor.kind)
            return result

        return checked

    def wrap_poll(self, poll: Callable[[Monitor], Awaitable[object]]) -> Callable[[Monitor], Awaitable[object]]:
        """The poll the scheduler runs, counting the polls that were not applied."""

        async def polled(monitor: Monitor) -> object:
            step = await poll(monitor)
            if step is None:
                self.skipped()
            return step

        return polled


class Health:
    """/healthz's answer: the reasons the bot is not healthy (none: healthy)."""

    def __init__(self, *, store: Store, clock: Clock, activity: Activity, monitors: Iterable[Monitor],
                 scheduler_running: Callable[[], bool], role: Callable[[], str] | None = None) -> None:
        """`role`: in a cluster, this process's part ("leader", "follower", or "unknown" while the database
        cannot say): a follower runs no checks and no sender, so neither is asked of it."""
        self._role = role
        self._store = store
        self._clock = clock
        self._activity = activity
        intervals = [m.interval for m in monitors]
        self._stale = max(MIN_STALE, timedelta(seconds=STALE_FACTOR * min(intervals, default=60.0)))
        self._scheduler_running = scheduler_running

    def role(self) -> str:
        """"leader", "follower" or "unknown" in a cluster; "" for a single process."""
        return self._role() if self._role is not None else ""

    def problems(self) -> list[str]:
        now = self._clock.now()
        out: list[str] = []
        if not self._scheduler_running():
            out.append("the scheduler is not running")
        role = self.role()
        if role == "unknown":
            out.append("the database does not answer: this process cannot tell who leads")
        if role in ("follower", "unknown"):
            return out  # the leader checks and sends; a follower answers commands and serves pages
        last = self._activity.last_completed or self._activity.started
        if now - last > self._stale:
            out.append(f"no check completed for {int((now - last).total_seconds())} s "
                       f"(expected within {int(self._stale.total_seconds())} s)")
        for box in self._store.outbox_health():
            if box.oldest_due is not None and now.timestamp() - box.oldest_due > OUTBOX_STUCK.total_seconds():
                out.append(f"outbox for {box.platform} not draining: a row has been due for "
                           f"{int(now.timestamp() - box.oldest_due)} s")
        return out
