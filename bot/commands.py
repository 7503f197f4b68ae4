"""Status commands: parse what a user typed into a Command, answer it from the history as a Reply.

The same `handle` answers the CLI, Slack's /status and Discord's slash commands; each adapter only
renders the Reply for its platform.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime, timedelta
from typing import Protocol

from bot.model import (
    Command,
    CommandKind,
    ComponentView,
    IncidentList,
    IncidentView,
    Overview,
    ProbeStats,
    Reply,
    Status,
    TargetReport,
    Uptime,
    UptimeReport,
    Usage,
    worst,
)

MAX_TEXT = 200  # longer command text is refused, not parsed
MAX_LIMIT = 25
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
REPORT_WINDOWS = (WINDOWS["24h"], WINDOWS["7d"], WINDOWS["30d"])

USAGE = (
    "Usage:\n"
    "  /status                     overall state, problems and open incidents\n"
    "  /status <monitor|component> its state, uptime (24h/7d/30d) and last incidents\n"
    "  /status incidents [N]       the last N incidents (default 5, at most 25)\n"
    "  /status help                this help"
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean(text: str) -> str:
    """Strip control characters and surrounding space from user text."""
    return _CONTROL.sub(" ", text).strip()


def parse_window(text: str) -> timedelta | None:
    """'24h', '7d', '30d', '90d' → a window; anything else → None."""
    return WINDOWS.get(text.strip().lower())


def parse_text(text: str) -> Command | Usage:
    """Parse the text after `/status` (Slack) into a Command, or a Usage error."""
    if len(text) > MAX_TEXT:
        return Usage(f"That is too long ({len(text)} characters).\n{USAGE}", is_error=True)
    words = clean(text).split()
    if not words:
        return Command(CommandKind.OVERVIEW)
    head = words[0].lower()
    if head in ("help", "-h", "--help", "?"):
        return Command(CommandKind.HELP)
    if head == "incidents":
        if len(words) == 1:
            return Command(CommandKind.INCIDENTS)
        if len(words) == 2 and words[1].isdigit() and 1 <= int(words[1]) <= MAX_LIMIT:
            return Command(CommandKind.INCIDENTS, limit=int(words[1]))
        return Usage(f"`incidents` takes a number from 1 to {MAX_LIMIT}.\n{USAGE}", is_error=True)
    return Command(CommandKind.TARGET, target=" ".join(words))


class History(Protocol):
    """The store reads that commands need (bot.store.Store implements it)."""

    def monitor_names(self) -> list[str]: ...
    def component_views(self, monitor: str | None = None) -> list[ComponentView]: ...
    def unreadable_monitors(self) -> list[str]: ...
    def find_component(self, name: str, monitor: str | None = None) -> tuple[str, str] | None: ...
    def open_incidents(self) -> list[IncidentView]: ...
    def recent_incidents(
        self, *, limit: int, monitor: str | None = None, component: str | None = None,
        since: datetime | None = None,
    ) -> list[IncidentView]: ...
    def uptime(
        self, *, monitor: str, component: str | None, window: timedelta, now: datetime
    ) -> Uptime: ...
    def probe_stats(self, *, monitor: str, window: timedelta, now: datetime) -> ProbeStats | None: ...


def _resolve(history: History, target: str) -> tuple[str, str | None] | Usage:
    """Find a monitor or a component by name (case-insensitive); 'did you mean' when not found."""
    wanted = target.casefold()
    monitors = history.monitor_names()
    for name in monitors:
        if name.casefold() == wanted:
            return name, None
    found = history.find_component(target)
    if found is None and "/" in target:  # "Monitor/Component"
        head, _, tail = target.partition("/")
        found = history.find_component(tail.strip(), head.strip())
    if found is not None:
        return found
    components = history.component_views()  # the slow path: non-ASCII case, or a typo to suggest for
    for view in components:
        if view.name.casefold() == wanted or f"{view.monitor}/{view.name}".casefold() == wanted:
            return view.monitor, view.name
    names = sorted(set(monitors) | {v.name for v in components})
    by_fold = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(wanted, list(by_fold), n=5, cutoff=0.5)
    close += [f for f in by_fold if wanted in f and f not in close][: 5 - len(close)]
    return Usage(
        f"No monitor or component named “{target[:80]}”.",
        suggestions=tuple(by_fold[c] for c in close),
        is_error=True,
    )


def _notable(status: Status) -> bool:
    """Worth showing in an overview: an outage, a maintenance, or a component the source no longer describes."""
    return status.is_outage or status in (Status.MAINTENANCE, Status.UNKNOWN)


def handle(command: Command, *, history: History, now: datetime) -> Reply:
    """Answer a command from the history. Never raises for bad input: it answers with Usage."""
    if command.kind is CommandKind.HELP:
        return Usage(USAGE)
    if command.kind is CommandKind.OVERVIEW:
        problems = tuple(v for v in history.component_views() if _notable(v.status))
        return Overview(
            now=now,
            monitors=len(history.monitor_names()),
            problems=problems,
            open_incidents=tuple(history.open_incidents()),
            unreadable=tuple(history.unreadable_monitors()),
        )
    monitor: str | None = None
    component: str | None = None
    if command.target:
        found = _resolve(history, command.target)
        if isinstance(found, Usage):
            return found
        monitor, component = found
    limit = max(1, min(command.limit, MAX_LIMIT))
    if command.kind is CommandKind.INCIDENTS:
        items = history.recent_incidents(limit=limit, monitor=monitor, component=component, since=command.since)
        return IncidentList(now=now, incidents=tuple(items), target=command.target and (component or monitor), since=command.since)
    if command.kind is CommandKind.UPTIME and monitor is None:
        window = command.window or WINDOWS["24h"]
        rows = tuple(
            (name, history.uptime(monitor=name, component=None, window=window, now=now))
            for name in history.monitor_names()
        )
        return UptimeReport(now=now, window=window, rows=rows)
    assert monitor is not None
    windows = (command.window,) if command.window else REPORT_WINDOWS
    views = history.component_views(monitor)
    if component is not None:
        mine = [v for v in views if v.name == component]
        status = mine[0].status if mine else None
        since = mine[0].since if mine else None
        shown: tuple[ComponentView, ...] = ()
    else:
        status = worst([v.status for v in views]) if views else None
        since = min((v.since for v in views if v.status == status and v.since), default=None)
        shown = tuple(v for v in views if _notable(v.status))
    if monitor in history.unreadable_monitors() and (status is None or not status.is_outage):
        status = Status.UNKNOWN

    return TargetReport(
        now=now,
        name=component or monitor,
        monitor=monitor,
        is_monitor=component is None,
        status=status or Status.UNKNOWN,
        since=since,
        uptime=tuple(history.uptime(monitor=monitor, component=component, window=w, now=now) for w in windows),
        incidents=tuple(history.recent_incidents(limit=limit, monitor=monitor, component=component)),
        components=shown,
        probes=history.probe_stats(monitor=monitor, window=WINDOWS["24h"], now=now),
    )
