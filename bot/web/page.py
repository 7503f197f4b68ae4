"""What the status page shows, as values the templates lay out: every sentence comes from bot.wording.

The 90-day strips and the latency chart are inline SVG built here rather than in the template: a page of
1,000 monitors has 90,000 day bars, and most days are the same value, so each distinct day's markup is
built once per render and reused. Everything outside text put into that markup goes through `escape`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from markupsafe import Markup, escape

from bot import wording
from bot.model import ComponentView, DayRecord, IncidentView, Overview, ProbeHour, Status, TimelineEntry

DAYS = 90
BAR = 4  # SVG units per day: a 3-unit bar and a 1-unit gap
HEIGHT = 24
NO_DATA = "no data"

# CSS class per status: the colour lives in the stylesheet, so light and dark themes can differ.
CSS = {
    Status.OPERATIONAL: "s-ok", Status.DEGRADED: "s-degraded", Status.PARTIAL: "s-partial",
    Status.MAJOR: "s-major", Status.MAINTENANCE: "s-maint", Status.UNKNOWN: "s-unknown",
}


def href(name: str) -> str:
    """The page of a monitor: its name as one path segment ('/' encoded; a name of dots encoded too, or
    the browser would read it as '.' or '..')."""
    segment = quote(name, safe="")
    if set(name) <= {"."}:
        segment = segment.replace(".", "%2E")
    return f"/monitors/{segment}"


@dataclass(frozen=True)
class ComponentRow:
    name: str
    status: Status
    icon: str
    label: str
    held: str  # 'for 12m'
    detail: str  # the check's reason ('HTTP 503'); empty on a public page
    css: str
    strip: Markup | None = None
    problem: bool = False  # not operational: how long it has been so is shown


@dataclass(frozen=True)
class MonitorCard:
    name: str
    href: str
    kind: str
    url: str | None  # None on a public page for HTTP monitors
    status: Status
    icon: str
    label: str
    css: str
    shown: tuple[ComponentRow, ...]  # every component, or only the problems of a monitor with many
    folded: tuple[ComponentRow, ...]  # the operational ones of a monitor with many: behind "All N components"
    folded_label: str
    strip: Markup
    uptime: str  # '99.95%' over the strip's days
    outages: tuple[str, ...]  # the strip's worst days in words, so it reads without colour
    unreadable: bool
    problems: int


@dataclass(frozen=True)
class IncidentCard:
    anchor: str
    icon: str
    head: str
    title: str
    timing: str
    components: str
    css: str
    timeline: tuple[str, ...]
    href: str


def component_row(view: ComponentView, now: datetime, *, public: bool, strip: Markup | None = None) -> ComponentRow:
    return ComponentRow(name=view.name, status=view.status, icon=wording.icon(view.status),
                        label=wording.status_label(view.status), held=wording.for_duration(view.since, now),
                        detail="" if public else view.detail, css=CSS[view.status], strip=strip,
                        problem=view.status is not Status.OPERATIONAL)


def monitor_status(views: Sequence[ComponentView], unreadable: bool) -> Status:
    if unreadable:
        return Status.UNKNOWN
    return max((v.status for v in views), key=lambda s: s.rank, default=Status.UNKNOWN)


def overall(reply: Overview) -> tuple[str, str, str]:
    """(icon, headline, css class) of the page's banner: the same words as `/status` in chat."""
    statuses = [v.status for v in reply.problems] + [i.severity for i in reply.open_incidents]
    worst = max(statuses, key=lambda s: s.rank, default=Status.OPERATIONAL)
    if reply.all_operational:
        worst = Status.OPERATIONAL
    elif not statuses:
        worst = Status.UNKNOWN
    return wording.overview_icon(reply), wording.overview_headline(reply), CSS[worst]


class Strips:
    """Builds 90-day strips, reusing the markup of identical days within one render."""

    def __init__(self) -> None:
        # Keyed by the record's identity: the store shares one record for a whole operational day across
        # monitors, and hashing 90,000 records by value would cost more than building their markup.
        # Every record keyed on is held here, so its id cannot be reused by another while this lives.
        self._bars: dict[tuple[int, int], str] = {}
        self._strips: dict[tuple[int, ...], tuple[str, str, str, tuple[str, ...]]] = {}
        self._held: list[Sequence[DayRecord]] = []

    def __call__(self, records: Sequence[DayRecord], label: str) -> Markup:
        bars, summary, _, _ = self._facts(records)
        width = BAR * len(records)
        return Markup(
            f'<svg class="strip" viewBox="0 0 {width} {HEIGHT}" preserveAspectRatio="none" role="img" '
            f'aria-label="{escape(label)}: {summary}" data-days="{len(records)}">{bars}</svg>'
        )

    def describe(self, records: Sequence[DayRecord]) -> tuple[str, tuple[str, ...]]:
        """(uptime over the strip, its latest days with incidents in words)."""
        _, _, share, bad = self._facts(records)
        return share, bad

    def _facts(self, records: Sequence[DayRecord]) -> tuple[str, str, str, tuple[str, ...]]:
        shape = tuple(map(id, records))  # most monitors share every record: built once for all of them
        facts = self._strips.get(shape)
        if facts is None:
            self._held.append(records)
            bars = "".join([self._bar(i, record) for i, record in enumerate(records)])
            summary = escape(f"last {len(records)} days, {self.summary(records)}")
            facts = self._strips[shape] = (bars, summary, wording.percent(uptime(records)), outages(records))
        return facts

    def _bar(self, index: int, record: DayRecord) -> str:
        key = (index, id(record))
        bar = self._bars.get(key)
        if bar is None:
            if record.status is None:
                css, words, y, height = "s-none", NO_DATA, HEIGHT - 6, 6  # shorter: reads without colour
            else:
                css, words, y, height = CSS[record.status], day_words(record), 0, HEIGHT
            bar = self._bars[key] = (
                f'<rect class="day {css}" x="{index * BAR}" y="{y}" width="{BAR - 1}" height="{height}">'
                f"<title>{escape(wording.day(record.day))}: {escape(words)}</title></rect>"
            )
        return bar

    @staticmethod
    def summary(records: Sequence[DayRecord]) -> str:
        bad = sum(1 for r in records if r.status is not None and r.down)
        quiet = sum(1 for r in records if r.status is None)
        parts = [f"{wording.percent(uptime(records))} uptime",
                 f"{wording.plural(bad, 'day')} with incidents"]
        if quiet:
            parts.append(f"{quiet:,} without data")
        return ", ".join(parts)


def day_words(record: DayRecord) -> str:
    """'major outage, down 1h 12m (95.00%)' / 'operational' / 'no data'."""
    if record.status is None:
        return NO_DATA
    if not record.down:
        return wording.status_label(Status.OPERATIONAL)
    return (f"{wording.status_label(record.status)}, down {wording.format_duration(record.down)} "
            f"({wording.percent(record.percent)})")


def uptime(records: Sequence[DayRecord]) -> float | None:
    watched = sum((r.watched for r in records if r.status is not None), timedelta(0))
    down = sum((r.down for r in records if r.status is not None), timedelta(0))
    return None if not watched else 100.0 * (1 - down / watched)


def settled(records: Sequence[DayRecord]) -> tuple[timedelta, timedelta] | None:
    """(time down, time watched before today) of a strip whose uptime only the time moves: watched before
    today and since, with no time down today. None for any other strip."""
    if not records or records[-1].status is None or records[-1].down:
        return None
    if records[0].status is None and all(r.status is None for r in records[:-1]):
        return None  # first watched today: today's watched time starts when it was first seen, not at midnight
    past = [r for r in records[:-1] if r.status is not None]
    return sum((r.down for r in past), timedelta(0)), sum((r.watched for r in past), timedelta(0))


def uptime_at(settled: tuple[timedelta, timedelta], now: datetime) -> float | None:
    """`uptime` of a settled strip at `now`: today watched since midnight UTC, as Store.daily_status counts it."""
    down, before = settled
    end = now.timestamp()
    watched = before + timedelta(seconds=max(0.0, end - (end // 86400) * 86400))
    return None if not watched else 100.0 * (1 - down / watched)


def outages(records: Sequence[DayRecord], limit: int = 3) -> tuple[str, ...]:
    """The latest days with incidents in words: '2026-11-01: major outage, down 1h 12m (95.00%)'."""
    bad = [r for r in records if r.status is not None and r.down]
    return tuple(f"{wording.day(r.day)}: {day_words(r)}" for r in reversed(bad[-limit:]))


def incident_card(item: IncidentView, entries: Sequence[TimelineEntry], now: datetime) -> IncidentCard:
    status = item.severity if item.resolved_at is None else Status.OPERATIONAL
    return IncidentCard(
        anchor=f"incident-{quote(item.id, safe='')}", icon=wording.incident_icon(item),
        head=wording.incident_head(item), title=item.title, timing=wording.incident_timing(item, now),
        components=wording.incident_components(item), css=CSS[status],
        timeline=tuple(wording.timeline_line(entry) for entry in entries), href=href(item.monitor),
    )


def latency_chart(hours: Sequence[ProbeHour], *, now: datetime, span: int = 24) -> Markup | None:
    """Average (line) and worst (dots) latency per hour over the last `span` hours; None without probes."""
    if not hours:
        return None
    width, height, pad = 480, 140, 4
    top = max(max(h.max_ms for h in hours), 1.0)
    last = now.replace(minute=0, second=0, microsecond=0)

    def x(at: datetime) -> float:
        return width - pad - (last - at).total_seconds() / 3600 * (width - 2 * pad) / max(1, span - 1)

    def y(ms: float) -> float:
        return height - pad - ms / top * (height - 2 * pad)

    points = " ".join(f"{x(h.hour):.1f},{y(h.avg_ms):.1f}" for h in hours)
    dots = "".join(
        f'<circle class="worst" cx="{x(h.hour):.1f}" cy="{y(h.max_ms):.1f}" r="2.5"><title>'
        f"{escape(wording.clock(h.hour))}: avg {h.avg_ms:,.0f} ms, max {h.max_ms:,.0f} ms, "
        f"{h.ok:,} of {h.probes:,} OK</title></circle>"
        for h in hours
    )
    label = escape(f"Latency over the last {span}h: up to {top:,.0f} ms")
    # The scale's words are HTML beside the drawing, not SVG text: the drawing shrinks to a phone's width,
    # and its text would shrink with it to a size nobody can read.
    return Markup(
        f'<div class="chart"><div class="y" aria-hidden="true"><span>{top:,.0f} ms</span><span>0 ms</span></div>'
        f'<svg class="latency" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        f'<line class="axis" x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}"/>'
        f'<line class="axis" x1="{pad}" y1="{pad}" x2="{width - pad}" y2="{pad}"/>'
        f'<polyline class="avg" points="{points}"/>{dots}</svg></div>'
    )


def by_monitor(views: Sequence[ComponentView]) -> Mapping[str, list[ComponentView]]:
    out: dict[str, list[ComponentView]] = {}
    for view in views:
        out.setdefault(view.monitor, []).append(view)
    return out
