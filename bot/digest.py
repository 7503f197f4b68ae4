"""The weekly digest (issue 12): every monitor's week from the history, worst first, posted at a cron time.

`build` is pure: the monitors, when each was first watched, the incidents that overlapped the week and the
early-warning leads in, a `Digest` out. `read` gathers those from the store. `DigestJob` looks at the injected
clock every bot.schedule.DIGEST_TICK seconds and, at each cron time of `[digest]` (croniter, in its time zone, daylight-saving
changes included), queues the digest in the outbox as one new message per route: a platform that is down
keeps it queued, like any alert.

The week is the 7 whole days (in the digest's time zone) before the day the digest is posted: Monday 09:00
covers Monday to Sunday of the week before, so every day is in exactly one weekly digest. A digest is keyed by
its week's last day: the same week is never queued twice, whether two cron times fall on one day (the hour
repeated when clocks go back) or the process restarts after posting it.

A digest missed while the process was down is posted once at start-up when its cron time is less than
CATCH_UP ago (a restart at 09:05 still posts Monday's digest); later than that it is skipped, and logged:
a week's summary arriving days late reads as news it is not. `downwatch digest` prints it at any time.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from croniter import croniter

from bot import maintenance
from bot.clock import Clock
from bot.config import DigestConfig
from bot.maintenance import Window, merge_spans
from bot.model import (
    Alert,
    AlertKind,
    Digest,
    DigestComponent,
    DigestDay,
    DigestRow,
    IncidentView,
    LeadStats,
    Status,
)
from bot.outbox import plan
from bot.store import Store

DAYS = 7
CATCH_UP = timedelta(days=1)  # a missed digest is posted at start-up when its cron time is less than this ago
KEY_PREFIX = "digest#"  # outbox rows of a digest: "digest#2026-11-29", its week's last day


class History(Protocol):
    """The store reads the digest needs (bot.store.Store)."""

    def monitor_names(self) -> list[str]: ...

    def first_seen(self) -> dict[str, datetime]: ...

    def incidents_between(self, *, start: datetime, end: datetime) -> list[IncidentView]: ...

    def leads(self, *, window: timedelta, now: datetime, monitor: str | None = None) -> tuple[LeadStats, ...]: ...


# ---------------------------------------------------------------- the week


def week(now: datetime, zone: ZoneInfo, days: int = DAYS) -> tuple[datetime, datetime]:
    """The `days` whole days in `zone` before the day `now` falls on, as [start, end): two local midnights."""
    today = now.astimezone(zone).date()
    return (datetime.combine(today - timedelta(days=days), time(0), tzinfo=zone),
            datetime.combine(today, time(0), tzinfo=zone))


def _seconds(a: datetime, b: datetime) -> float:
    """b − a in real seconds. (Aware datetimes sharing one tzinfo subtract as wall times, which is an hour off
    across a daylight-saving change: timestamps never are.)"""
    return b.timestamp() - a.timestamp()


def _overlap(incident: IncidentView, start: float, end: float) -> float:
    """Seconds of [start, end) the incident covered (an open one runs to `end`)."""
    began = incident.started_at.timestamp()
    ended = incident.resolved_at.timestamp() if incident.resolved_at is not None else end
    return max(0.0, min(ended, end) - max(began, start))


def build(*, monitors: Sequence[str], first_seen: Mapping[str, datetime], incidents: Sequence[IncidentView],
          start: datetime, end: datetime, timezone: str, leads: Mapping[str, LeadStats] | None = None,
          maintenance: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None) -> Digest:
    """The digest of [start, end) (local midnights `DAYS` days apart, in `timezone`), worst monitor first.

    Per monitor, from the incidents table (the engine's decisions, as `/uptime` and the status page read it):
    uptime = the share of the watched time (from when it was first seen) without an incident; incidents = those
    that started in the week; MTTR = the mean duration of those that ended in it; longest = the longest that
    overlapped it, until its end or the week's; each day's square = the worst severity of the incidents that
    overlapped that local day. Leads (issue 15) go on the row of the provider monitor they were measured on.
    `maintenance`: per monitor, the spans of its maintenance windows, left out of its uptime on both sides
    (watched and down), as `/uptime` does; its incidents and squares are counted as they were.
    """
    zone = ZoneInfo(timezone)
    t0, t1 = start.timestamp(), end.timestamp()
    first = start.astimezone(zone).date()
    bounds = [datetime.combine(first + timedelta(days=d), time(0), tzinfo=zone).timestamp() for d in range(DAYS + 1)]
    mine: dict[str, list[IncidentView]] = {}
    for incident in incidents:
        mine.setdefault(incident.monitor, []).append(incident)
    rows: list[DigestRow] = []
    for monitor in monitors:
        seen = first_seen.get(monitor)
        its = mine.get(monitor, [])
        begin = max(t0, seen.timestamp()) if seen is not None else t1
        gaps = merge_spans([(max(a.timestamp(), begin), min(b.timestamp(), t1))
                        for a, b in (maintenance or {}).get(monitor, ())])
        watched = t1 - begin - sum(b - a for a, b in gaps)
        down = (sum(_overlap(i, begin, t1) for i in its) - sum(_overlap(i, a, b) for i in its for a, b in gaps)
                if watched > 0 else 0.0)
        uptime = max(0.0, 100.0 * (1 - down / watched)) if watched > 0 else None
        started = [i for i in its if t0 <= i.started_at.timestamp() < t1]
        ended = [i for i in its if i.resolved_at is not None and t0 <= i.resolved_at.timestamp() < t1]
        overlapping = [i for i in its if _overlap(i, t0, t1) > 0]
        mttr = (timedelta(seconds=statistics.fmean(_seconds(i.started_at, i.resolved_at) for i in ended if i.resolved_at))
                if ended else None)
        longest = (timedelta(seconds=max(_overlap(i, float("-inf"), t1) for i in overlapping))
                   if overlapping else None)
        days: list[DigestDay] = []
        for d in range(DAYS):
            d0, d1 = bounds[d], bounds[d + 1]
            day = datetime.fromtimestamp(d0, zone)
            if d1 <= begin:  # not watched that day (before it was first seen)
                days.append(DigestDay(day=day, status=None))
                continue
            that_day = [i for i in its if _overlap(i, max(d0, begin), d1) > 0]
            worst = max((i.severity for i in that_day), key=lambda s: s.rank, default=Status.OPERATIONAL)
            lost = sum(_overlap(i, max(d0, begin), d1) for i in that_day)
            days.append(DigestDay(day=day, status=worst, down=timedelta(seconds=lost)))
        named = Counter(name for i in overlapping for name in dict.fromkeys(i.components))
        components = tuple(DigestComponent(name=n, incidents=c)
                           for n, c in sorted(named.items(), key=lambda item: (-item[1], item[0].casefold())))
        rows.append(DigestRow(
            monitor=monitor, uptime=uptime, incidents=len(started), mttr=mttr, longest=longest,
            down=timedelta(seconds=down), days=tuple(days), components=components,
            lead=(leads or {}).get(monitor),
        ))
    rows.sort(key=_worst_first)
    return Digest(start=start, end=end, timezone=timezone, rows=tuple(rows))


def _worst_first(row: DigestRow) -> tuple[bool, float, int, float, str]:
    """Lowest uptime first, then more incidents, then the longer longest; monitors without data last."""
    longest = row.longest.total_seconds() if row.longest is not None else 0.0
    return (row.uptime is None, row.uptime if row.uptime is not None else 0.0, -row.incidents, -longest,
            row.monitor.casefold())


def read(history: History, *, now: datetime, timezone: str = "UTC", windows: Sequence[Window] = ()) -> Digest:
    """The digest of the week before the day `now` falls on (in `timezone`), from the history; `windows`: the
    configured maintenance, left out of uptime."""
    start, end = week(now, ZoneInfo(timezone))
    window = timedelta(seconds=_seconds(start, end))
    names = history.monitor_names()
    return build(
        monitors=names, first_seen=history.first_seen(),
        maintenance={name: maintenance.spans(windows, name, start, end) for name in names} if windows else None,
        incidents=history.incidents_between(start=start, end=end), start=start, end=end, timezone=timezone,
        # early warning (issue 15): the median lead of each watched provider over the week
        leads={stats.provider: stats for stats in history.leads(window=window, now=end)},
    )


def key(digest: Digest) -> str:
    """The outbox key of a digest: its week's last day ('digest#2026-11-29')."""
    return KEY_PREFIX + (digest.end.astimezone(ZoneInfo(digest.timezone)).date() - timedelta(days=1)).isoformat()


def alert(digest: Digest, *, at: datetime) -> Alert:
    """The digest as the outbox carries it: an Alert of kind DIGEST, posted as a new message, no buttons."""
    return Alert(kind=AlertKind.DIGEST, incident_id=key(digest), monitor="", severity=Status.OPERATIONAL, at=at,
                 started_at=digest.start.astimezone(UTC), buttons=False, digest=digest)


# ---------------------------------------------------------------- when to post


def next_time(cron: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first cron time strictly after `after` (aware, in UTC)."""
    moment: datetime = croniter(cron, after.astimezone(zone)).get_next(datetime)
    return moment.astimezone(UTC)


def last_time(cron: str, zone: ZoneInfo, at: datetime) -> datetime:
    """The latest cron time at or before `at` (aware, in UTC)."""
    # get_prev is strictly before its start: start one second after `at`, cut to whole seconds (cron times are)
    start = at.replace(microsecond=0) + timedelta(seconds=1)
    moment: datetime = croniter(cron, start.astimezone(zone)).get_prev(datetime)
    return moment.astimezone(UTC)


class DigestJob:
    """Queues the digest at each cron time of `[digest]`, judged on the injected clock (`tick` runs every
    bot.schedule.DIGEST_TICK seconds from the scheduler; tests call it after moving a fake clock)."""

    def __init__(self, *, config: DigestConfig, store: Store, clock: Clock, windows: Sequence[Window] = (),
                 on_commit: Callable[[], None] = lambda: None, log: logging.Logger | None = None) -> None:
        self._config = config
        self._windows = tuple(windows)
        self._zone = ZoneInfo(config.timezone)
        self._store = store
        self._clock = clock
        self._on_commit = on_commit
        self._log = log or logging.getLogger("downwatch.digest")
        self._next: datetime | None = None

    @property
    def next_at(self) -> datetime | None:
        """When the next digest is due (None before `start`)."""
        return self._next

    def start(self) -> bool:
        """At start-up: queue the digest of the last cron time when it was missed by less than CATCH_UP (and
        never queued: `Store.queue_once`), then wait for the next one. True when one was queued."""
        now = self._clock.now()
        self._next = next_time(self._config.cron, self._zone, now)
        last = last_time(self._config.cron, self._zone, now)
        if now - last < CATCH_UP:
            return self.post(last)
        self._log.info("digest: the last one was due %s, more than a day ago: not posted late; the next is due %s",
                       last.isoformat(), self._next.isoformat())
        return False

    async def tick(self) -> bool:
        """Queue the digest when a cron time has come since the last look. True when one was queued."""
        now = self._clock.now()
        if self._next is None:
            return self.start()
        if now < self._next:
            return False
        due = self._next
        while self._next <= now:  # the clock jumped past several: only the latest counts
            due, self._next = self._next, next_time(self._config.cron, self._zone, self._next)
        if now - due >= CATCH_UP:
            self._log.warning("digest: the one due %s was missed by more than a day (the clock jumped); skipped",
                              due.isoformat())
            return False
        return self.post(due)

    def post(self, due: datetime) -> bool:
        """Queue the digest of the week before `due`'s day on every route; False when that week's digest was
        queued before."""
        digest = read(self._store, now=due, timezone=self._config.timezone, windows=self._windows)
        now = self._clock.now()
        message = alert(digest, at=now)
        queued = self._store.queue_once(message.incident_id, plan([message], self._config.routes), now=now)
        if queued:
            self._log.info("digest: %s queued for %s", message.incident_id.removeprefix(KEY_PREFIX),
                           ", ".join(sorted({r.platform for r in self._config.routes})) or "nowhere")
            self._on_commit()
        return queued
