"""Maintenance windows: which are active at `now` for a monitor (or some of its components), and which come next.

Pure: windows come from the config (`[[maintenance]]`), `now` is an argument. A one-off window has a start
and an end; a recurring one a cron expression read on the wall clock of its time zone (croniter over naive
local times, then placed in the zone with zoneinfo), and a duration counted in real time. So `0 3 * * SUN`
in Europe/Berlin starts at 03:00 local time every Sunday, 01:00 UTC in summer and 02:00 UTC in winter. A
start in the hour skipped when the clocks go forward is read as if they had not changed yet (02:30 becomes
03:30 summer time), a start in the hour that repeats when they go back is its first occurrence, and a 2 h
window on either night lasts 2 real hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.model import MaintenanceView

MAX_DURATION = timedelta(days=7)  # a recurring window longer than this is a configuration error
HORIZON = timedelta(days=35)  # how far ahead `upcoming` looks


@dataclass(frozen=True)
class Window:
    """One `[[maintenance]]` table, validated (bot/config.py): a one-off window (start, end) or a recurring
    one (cron, duration, timezone). Empty `monitors`: every monitor; empty `components`: whole monitors."""

    name: str
    monitors: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    cron: str = ""
    duration: timedelta = timedelta(0)
    timezone: str = "UTC"

    def applies_to(self, monitor: str) -> bool:
        return not self.monitors or monitor in self.monitors


def _view(window: Window, start: datetime, end: datetime) -> MaintenanceView:
    return MaintenanceView(name=window.name, start=start, end=end, monitors=window.monitors,
                           components=window.components)


def _local(window: Window, moment: datetime) -> datetime:
    """`moment` as a naive wall-clock time in the window's zone (what cron reads)."""
    return moment.astimezone(ZoneInfo(window.timezone)).replace(tzinfo=None)


def _placed(window: Window, wall: datetime) -> datetime:
    """A naive wall-clock time of the window's zone as a UTC instant (fold=0: the first of a repeated hour;
    a time in a skipped hour reads with the offset before the change, i.e. right after the jump)."""
    return wall.replace(tzinfo=ZoneInfo(window.timezone)).astimezone(UTC)


def _starts_before(window: Window, now: datetime) -> Iterator[datetime]:
    """A recurring window's starts at or before `now`, latest first."""
    it = croniter(window.cron, _local(window, now) + timedelta(seconds=1))
    while True:
        yield _placed(window, it.get_prev(datetime))


def _starts_after(window: Window, now: datetime) -> Iterator[datetime]:
    """A recurring window's starts after `now`, earliest first."""
    it = croniter(window.cron, _local(window, now))
    while True:
        yield _placed(window, it.get_next(datetime))


def occurrence_at(window: Window, now: datetime) -> MaintenanceView | None:
    """The occurrence of `window` that covers `now` (None: none does)."""
    if not window.cron:
        if window.start is not None and window.end is not None and window.start <= now < window.end:
            return _view(window, window.start, window.end)
        return None
    for start in _starts_before(window, now):
        if start > now:  # the wall clock went back: a start "before" now in local time may be after it
            continue
        if start + window.duration > now:
            return _view(window, start, start + window.duration)
        return None  # an earlier start ends earlier still
    return None


def active(windows: Iterable[Window], now: datetime, monitor: str | None = None) -> tuple[MaintenanceView, ...]:
    """The windows in force at `now` (for `monitor`, when given), in the config's order."""
    found = (occurrence_at(w, now) for w in windows if monitor is None or w.applies_to(monitor))
    return tuple(v for v in found if v is not None)


def upcoming(windows: Iterable[Window], now: datetime, *, limit: int = 5, horizon: timedelta = HORIZON,
             monitor: str | None = None) -> tuple[MaintenanceView, ...]:
    """The next occurrences starting after `now` and within `horizon`, soonest first, at most `limit`."""
    out: list[MaintenanceView] = []
    for window in windows:
        if monitor is not None and not window.applies_to(monitor):
            continue
        if not window.cron:
            if window.start is not None and window.end is not None and now < window.start <= now + horizon:
                out.append(_view(window, window.start, window.end))
            continue
        for start in _starts_after(window, now):
            if start > now + horizon or sum(v.name == window.name for v in out) >= limit:
                break
            if start > now:
                out.append(_view(window, start, start + window.duration))
    return tuple(sorted(out, key=lambda v: v.start)[:limit])


def spans(windows: Iterable[Window], monitor: str, start: datetime, end: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """The (start, end) of every occurrence of a whole-monitor window of `monitor` overlapping [start, end]:
    what its uptime leaves out."""
    out: list[tuple[datetime, datetime]] = []
    for window in windows:
        if not window.applies_to(monitor) or window.components:
            continue
        if not window.cron:
            if window.start is not None and window.end is not None and window.start < end and window.end > start:
                out.append((window.start, window.end))
            continue
        for begin in _starts_after(window, start - window.duration):
            if begin >= end:
                break
            out.append((begin, begin + window.duration))
    return tuple(out)


def covers(view: MaintenanceView, components: Sequence[str]) -> bool:
    """True when a window in force quiets news about these components: a whole-monitor window always does;
    one limited to some components only when every component the news names is among them."""
    return not view.components or (bool(components) and set(components) <= set(view.components))


# ---------------------------------------------------------------- reading the config's values


def parse_duration(text: str) -> timedelta | None:
    """'30m', '2h', '1d', '1h30m' → a positive span; None when it is not one."""
    text = text.strip().lower()
    if not text:
        return None
    total = timedelta(0)
    number = ""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    for char in text:
        if char.isdigit() and char.isascii():
            number += char
        elif char in units and number and len(number) <= 6:
            total += timedelta(seconds=int(number) * units[char])
            number = ""
        else:
            return None
    if number or total <= timedelta(0):
        return None
    return total


def valid_cron(expression: str) -> bool:
    """Five fields that croniter reads (minute hour day month weekday)."""
    return len(expression.split()) == 5 and bool(croniter.is_valid(expression))


def merge_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Non-empty (start, end) spans, sorted and merged where they overlap: time counted once."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
