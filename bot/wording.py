"""Every sentence a user reads, in one place: icons, statuses, numbers, titles, change lines and replies.

The engine says *what* changed (`Change` values); this module says how it reads, the same on every
surface (Slack, Discord, the console, later the web page and the webhook's `text`). Functions take model
values and return plain text: no markup, no escaping. Renderers escape what they get, lay it out and cut it
to their platform's limits. Where a phrase holds a moment, the renderer passes `time`, a function that
formats it (Slack's `<!date>`, Discord's `<t:…>`); its output is inserted as is, and such phrases carry no
outside text, so nothing in them needs escaping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from bot.model import (
    Acknowledged,
    AffectedComponent,
    Alert,
    AlertKind,
    Alternative,
    AlternativesReport,
    Change,
    ChangeKind,
    ComponentView,
    Digest,
    DigestRow,
    IncidentList,
    IncidentView,
    LeadStats,
    MaintenanceReport,
    MaintenanceView,
    Muted,
    MuteView,
    Overview,
    PageSaid,
    ProbeStats,
    ProviderIncident,
    Status,
    TargetReport,
    TimelineEntry,
    Uptime,
    UptimeReport,
    Verdict,
    Watch,
)

TimeFormat = Callable[[datetime], str]

# ---------------------------------------------------------------- icons and statuses

ICON: dict[Status, str] = {
    Status.MAJOR: "🔴",
    Status.PARTIAL: "🟠",
    Status.DEGRADED: "🟡",
    Status.MAINTENANCE: "🔧",
    Status.UNKNOWN: "❔",
    Status.OPERATIONAL: "✅",
}
NOTICE_ICON = "ℹ️"  # a notice is about the bot's ability to see, never a status of the service
REMINDER_ICON = "⏳"
WARNING_ICON = "⚠️"

_LABEL: dict[Status, str] = {
    Status.OPERATIONAL: "operational",
    Status.DEGRADED: "degraded performance",
    Status.PARTIAL: "partial outage",
    Status.MAJOR: "major outage",
    Status.MAINTENANCE: "under maintenance",
    Status.UNKNOWN: "unknown",
}

FLAPPING = "flapping"
RECOVERED = "recovered"
ELLIPSIS = "…"


def icon(status: Status) -> str:
    """The one icon of a status on every surface."""
    return ICON[status]


def status_label(status: Status) -> str:
    """'partial outage'."""
    return _LABEL[status]


def alert_icon(alert: Alert) -> str:
    """The icon leading an alert's headline: ✅ once resolved, ℹ️ for notices, else the severity's."""
    if alert.is_notice:
        return NOTICE_ICON
    if alert.kind is AlertKind.RESOLVED:
        return ICON[Status.OPERATIONAL]
    return ICON[alert.severity]


def line_icon(alert: Alert) -> str:
    """The icon leading an alert's thread line (a reminder gets the hourglass)."""
    if alert.kind is AlertKind.REMINDER:
        return REMINDER_ICON
    return alert_icon(alert)


# ---------------------------------------------------------------- numbers, durations, plurals


def percent(value: float | None) -> str:
    """'99.95%' — always two decimals, so the same uptime reads the same everywhere; 'no data' for None."""
    return "no data" if value is None else f"{value:.2f}%"


def format_duration(delta: timedelta) -> str:
    """'45s', '12m', '1h 12m', '3d 4h' — the two largest units, never negative."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def window_label(window: timedelta) -> str:
    """'24h', '7d', '90d', '30m': whole days from two days up, else hours (minutes under an hour)."""
    seconds = int(window.total_seconds())
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{max(0, seconds) // 60}m"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 monitor', '2 monitors' ('1 incident', '3 incidents')."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def more(count: int, what: str = "") -> str:
    """'…and 3 more' / '…and 3 more components'."""
    return f"{ELLIPSIS}and {count:,} more" + (f" {what}" if what else "")


def names(items: Sequence[str], limit: int = 5) -> str:
    """'API, Chat, Codex and 2 more': a list of names cut after `limit`."""
    shown = ", ".join(items[:limit])
    hidden = len(items) - limit
    return shown + (f" and {hidden:,} more" if hidden > 0 else "")


def utc(at: datetime) -> str:
    """'2026-11-01 12:00 UTC': the plain form of a moment (console, fallback text, thread names)."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def clock(at: datetime) -> str:
    """'12:01 UTC'."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%H:%M UTC")


def day(at: datetime) -> str:
    """'2026-11-01'."""
    return at.strftime("%Y-%m-%d")


# ---------------------------------------------------------------- alerts: headlines


_NOTICE_TITLE = {
    AlertKind.SOURCE_UNREADABLE: "Cannot read the status source of {monitor}",
    AlertKind.SOURCE_READABLE: "The status source of {monitor} can be read again",
    AlertKind.NETWORK_DOWN: "downwatch cannot reach the network",
    AlertKind.NETWORK_UP: "downwatch can reach the network again",
    AlertKind.DATABASE_LOST: "downwatch has lost its database",
    AlertKind.REGIONS_DEGRADED: "Monitoring degraded: too few regions reporting",
    AlertKind.REGIONS_RESTORED: "Monitoring restored: enough regions reporting",
}
_NOTICE_TEXT = {
    AlertKind.SOURCE_UNREADABLE: "Its state is unknown until the source can be read again; "
                                 "this says nothing about the service itself.",
    AlertKind.SOURCE_READABLE: "Its state is known again.",
    AlertKind.NETWORK_DOWN: "No service is judged until it can again; alerts are paused meanwhile.",
    AlertKind.NETWORK_UP: "Checks resumed.",
    AlertKind.DATABASE_LOST: "Nothing is recorded or sent through the queue until PostgreSQL answers again; "
                             "alerts decided meanwhile are lost only if no replica can reach it.",
    AlertKind.REGIONS_DEGRADED: "No outage of an HTTP or TCP monitor can be confirmed, and none is declared, "
                                "until enough regions report again.",
    AlertKind.REGIONS_RESTORED: "Outages can be confirmed again.",
}


def title(alert: Alert) -> str:
    """An alert's headline without its icon: 'OpenAI — major outage', 'OpenAI — resolved after 1h 12m',
    or a notice's ('Cannot read the status source of OpenAI'; never "down" for a notice)."""
    if alert.is_notice:
        return _NOTICE_TITLE[alert.kind].format(monitor=alert.monitor)
    if alert.kind is AlertKind.RESOLVED:
        return f"{alert.monitor} — resolved after {format_duration(alert.duration)}"
    return f"{alert.monitor} — {status_label(alert.severity)}"


def headline(alert: Alert) -> str:
    """'🔴 OpenAI — major outage'."""
    return f"{alert_icon(alert)} {title(alert)}"


def notice_text(alert: Alert) -> str:
    """The sentence under a notice's headline saying what it means for alerts."""
    return _NOTICE_TEXT[alert.kind]


def notice_detail(alert: Alert) -> str:
    """The outside reason a notice carries (a check's error, why the network looks down), or ''; for the
    regions' notices, how many report."""
    for change in alert.changes:
        if change.detail:
            return change.detail
        if change.kind in (ChangeKind.REGIONS_DEGRADED, ChangeKind.REGIONS_RESTORED):
            return change_part(change)
    return ""


def affected(alert: Alert) -> str:
    """'2 of 25 components affected' ('1 component affected' when the total is not known); an incident
    only the provider reports yet says so instead of '0 of 8 components affected'; a regional monitor's
    names the regions instead ('down from eu-west and us-east; up from ap-south')."""
    if alert.regions is not None:
        return verdict_detail(alert.regions) or affected_count(len(alert.components), alert.total_components)
    if not alert.components and alert.provider_incidents:
        return "Reported by the provider; no component affected yet"
    return affected_count(len(alert.components), alert.total_components)


def affected_count(count: int, total: int) -> str:
    if total:
        return f"{count:,} of {plural(total, 'component')} affected"
    return f"{plural(count, 'component')} affected"


def was(alert: Alert) -> str:
    """'Was: major outage' — what a resolved incident had been at its worst."""
    return f"Was: {status_label(alert.severity)}"


def component_icon(component: AffectedComponent, *, resolved: bool) -> str:
    """A component's icon in an alert: its status's, or ✅ once the incident resolved."""
    return ICON[Status.OPERATIONAL] if resolved else ICON[component.status]


def component_state(component: AffectedComponent, *, resolved: bool) -> str:
    """'partial outage', 'partial outage, flapping', or 'recovered' once the incident resolved."""
    state = RECOVERED if resolved else status_label(component.status)
    return f"{state}, {FLAPPING}" if component.flapping and not resolved else state


def since(at: datetime, time: TimeFormat = clock) -> str:
    """'since 12:01 UTC'."""
    return f"since {time(at)}"


def timing(alert: Alert, time: TimeFormat = utc) -> str:
    """'Started 2026-11-01 12:01 UTC, ongoing for 12m' / 'Started …, resolved … after 1h 12m'."""
    started = f"Started {time(alert.started_at)}"
    if alert.kind is AlertKind.RESOLVED and alert.resolved_at:
        return f"{started}, resolved {time(alert.resolved_at)} after {format_duration(alert.duration)}"
    return f"{started}, ongoing for {format_duration(alert.duration)}"


UPDATED = "updated"


def updated(at: datetime, time: TimeFormat = utc) -> str:
    """'updated 2026-11-01 12:14 UTC' (the footer of a parent message)."""
    return f"{UPDATED} {time(at)}"


def footer(alert: Alert) -> str:
    """'downwatch · OpenAI' under an incident, 'downwatch notice' under a notice."""
    return "downwatch notice" if alert.is_notice else f"downwatch · {alert.monitor}"


def provider_state(incident: ProviderIncident) -> str:
    """'investigating, impact major': the provider's own words for where its incident stands."""
    if incident.impact and incident.impact != "none":
        return f"{incident.status}, impact {incident.impact}"
    return incident.status


def provider_update(incident: ProviderIncident) -> str:
    """The provider's latest update on one line (whitespace collapsed)."""
    return " ".join(incident.latest_update.split())


def more_provider_incidents(count: int) -> str:
    return more(count, "provider incidents" if count != 1 else "provider incident")


# ---------------------------------------------------------------- alerts: what changed

MAX_NAMES = 5  # names listed in one change before "and N more"


def _component_names(change: Change, *, with_status: bool = False) -> str:
    if with_status:
        items = [f"{c.name} ({status_label(c.status)})" for c in change.components]
    else:
        items = [c.name for c in change.components]
    return names(items, MAX_NAMES)


def _provider_title(change: Change) -> str:
    return change.provider.title if change.provider and change.provider.title else ""


def change_part(change: Change) -> str:
    """One change as a phrase (without the 'N of M components affected' ending the line adds)."""
    kind = change.kind
    if kind is ChangeKind.OPENED:
        if change.affected or change.components:
            return affected_count(change.affected or len(change.components), change.total)
        if change.provider is not None:
            return f"Provider reports: {change.provider.title}"
        return "Incident opened"
    if kind is ChangeKind.JOINED:
        return f"{_component_names(change, with_status=True)} joined"
    if kind is ChangeKind.RECOVERED:
        return f"{_component_names(change)} recovered"
    if kind is ChangeKind.SEVERITY:
        before = change.before or (change.components[0].before if change.components else None)
        after = change.after or (change.components[0].status if change.components else None)
        name = change.components[0].name if change.components else ""
        moved = f"{status_label(before) if before else '?'} → {status_label(after) if after else '?'}"
        return f"{name}: {moved}" if name else moved
    if kind is ChangeKind.INCIDENT_SEVERITY:
        before, after = change.before, change.after
        return f"severity {status_label(before) if before else '?'} → {status_label(after) if after else '?'}"
    if kind is ChangeKind.VANISHED:
        return f"{_component_names(change)} no longer on the page"
    if kind is ChangeKind.FLAPPING:
        return f"{_component_names(change)} {FLAPPING} (changing state repeatedly; updates paused)"
    if kind is ChangeKind.SETTLED:
        return f"{_component_names(change)} stable again"
    if kind is ChangeKind.PROVIDER_OPENED:
        incident = change.provider
        return f"provider incident: {incident.title} ({incident.status})" if incident else "provider incident"
    if kind is ChangeKind.PROVIDER_UPDATED:
        incident = change.provider
        return f"provider update: {incident.title} — {incident.status}" if incident else "provider update"
    if kind is ChangeKind.PROVIDER_RESOLVED:
        name = _provider_title(change)
        return f"provider incident resolved: {name}" if name else "provider incident resolved"
    if kind is ChangeKind.UNREADABLE:
        return f"status source unreadable: {change.detail}" if change.detail else "status source unreadable"
    if kind is ChangeKind.READABLE:
        return _after("status source readable again", change.duration, "unreadable for")
    if kind is ChangeKind.NETWORK_DOWN:
        return f"cannot reach the network: {change.detail}" if change.detail else "cannot reach the network"
    if kind is ChangeKind.NETWORK_UP:
        return _after("network reachable again", change.duration, "unreachable for")
    if kind is ChangeKind.REGIONS_DEGRADED:
        silent = [c.name for c in change.components]
        line = degraded_line(change.affected, change.total)
        return f"{line} (nothing from {_and(silent)})" if silent else line
    if kind is ChangeKind.REGIONS_RESTORED:
        return _after(f"monitoring restored: {change.affected:,} of {plural(change.total, 'region')} reporting",
                      change.duration, "degraded for")
    if kind is ChangeKind.RESOLVED:
        return f"Recovered after {format_duration(change.duration)}" if change.duration is not None else "Recovered"
    if kind is ChangeKind.REMINDER:
        return (f"Still ongoing after {format_duration(change.duration)}" if change.duration is not None
                else "Still ongoing")
    if kind is ChangeKind.ACKNOWLEDGED:
        return _acknowledged(change.monitor, _page_text(change.detail, change.after), change.duration)
    if kind in OPERATION_CHANGES:
        return operation_part(change)
    return change.detail  # ChangeKind.TEXT: a line worded by the previous version, shown as it was


def _after(text: str, duration: timedelta | None, was: str) -> str:
    return f"{text} ({was} {format_duration(duration)})" if duration is not None else text


def changes_line(changes: Sequence[Change]) -> str:
    """One line for what changed: its parts joined by '; ', ending with 'N of M components affected'
    when components joined, recovered or vanished. Severity moves beyond five are counted, not listed."""
    parts: list[str] = []
    moves = 0
    count: Change | None = None
    for change in changes:
        if change.kind is ChangeKind.SEVERITY:
            moves += 1
            if moves > MAX_NAMES:
                continue
        part = change_part(change)
        if part:
            parts.append(part)
        if change.kind in (ChangeKind.JOINED, ChangeKind.RECOVERED, ChangeKind.VANISHED) and change.total:
            count = change
    if moves > MAX_NAMES:
        parts.append(f"{moves - MAX_NAMES:,} more changed status")
    if count is not None:
        parts.append(affected_count(count.affected, count.total))
    return "; ".join(parts)


def change_line(alert: Alert) -> str:
    """An alert's one-line thread text. A resolved line says the duration once (and, for a probe that
    watches a status page, whether and how much later the page admitted it)."""
    if alert.changes and alert.changes[0].kind is ChangeKind.MUTED and alert.muted is not None:
        return operation_line(alert)  # a mute's line says until when and why (operations, issue 12)
    line = changes_line(alert.changes)
    if line and alert.kind is AlertKind.RESOLVED and alert.watch is not None:
        outcome = watch_outcome(alert.watch)
        return f"{line}; {outcome}" if outcome else line
    if line:
        return line
    # No recorded change (an alert built by hand): say where the incident stands.
    if alert.kind is AlertKind.RESOLVED:
        return f"Recovered after {format_duration(alert.duration)}"
    if alert.kind is AlertKind.REMINDER:
        return f"Still ongoing after {format_duration(alert.duration)}"
    if alert.is_notice:
        return title(alert)
    if alert.kind is AlertKind.OPENED:
        return f"{status_label(alert.severity).capitalize()} started"
    return f"Now {status_label(alert.severity)}: {affected(alert)}"


ALTERNATIVES = "Alternatives"


def alternative(item: Alternative) -> str:
    """'🟡 Gemini degraded performance'."""
    return f"{icon(item.status)} {item.name} {status_label(item.status)}"


def alternatives_line(items: Sequence[Alternative]) -> str:
    """'Alternatives: ✅ Anthropic operational · 🟡 Gemini degraded performance' ('' when there are none):
    the one line an open incident's alert and `/status alternatives` carry."""
    return f"{ALTERNATIVES}: " + " · ".join(alternative(a) for a in items) if items else ""


def timeline_line(entry: TimelineEntry) -> str:
    """'12:01 UTC — 2 of 3 components affected': one entry of an incident's timeline."""
    return f"{clock(entry.at)} — {changes_line(entry.changes) or entry.kind.value}"


def thread_name(alert: Alert) -> str:
    """'OpenAI · 2026-11-01 12:01 UTC': the name of an incident's thread."""
    return f"{alert.monitor or 'downwatch'} · {utc(alert.started_at)}"


# ---------------------------------------------------------------- replies

OPEN_INCIDENTS = "Open incidents"
NOT_OPERATIONAL = "Not operational"
LAST_INCIDENTS = "Last incidents"
TIMELINE = "Timeline"
UPTIME = "Uptime"
NO_MONITORS = "No monitors configured."
APOLOGY = "Sorry, something went wrong while answering. The error was logged; please try again in a minute."


def all_operational(monitors: int) -> str:
    """'All 7 monitors operational' (and the singular, which the demo shows first)."""
    return "The monitor is operational" if monitors == 1 else f"All {monitors:,} monitors operational"


def overview_headline(reply: Overview) -> str:
    """'All 7 monitors operational', or '7 monitors · 2 components not operational · 1 open incident'."""
    if reply.all_operational:
        return all_operational(reply.monitors)
    parts = [plural(reply.monitors, "monitor"),
             f"{plural(len(reply.problems), 'component')} not operational",
             plural(len(reply.open_incidents), "open incident")]
    if reply.unreadable:
        parts.append(f"{plural(len(reply.unreadable), 'source')} unreadable")
    return " · ".join(parts)


def overview_icon(reply: Overview) -> str:
    """✅ when all is well, else the worst status among problems and open incidents."""
    if reply.all_operational:
        return ICON[Status.OPERATIONAL]
    statuses = [v.status for v in reply.problems] + [i.severity for i in reply.open_incidents]
    worst = max(statuses, key=lambda s: s.rank, default=Status.UNKNOWN)
    return ICON[worst]


def cannot_read(monitors: Sequence[str]) -> str:
    """'Cannot read: OpenAI, GitHub' (sources whose state is unknown)."""
    return f"Cannot read: {', '.join(monitors)}"


def for_duration(since_at: datetime | None, now: datetime) -> str:
    """'for 1h 12m' (how long a status has held), '' when not known."""
    return f"for {format_duration(now - since_at)}" if since_at else ""


def component_view(view: ComponentView, now: datetime, *, with_monitor: bool = False) -> str:
    """'API — partial outage for 12m (HTTP 503)'; with the monitor: 'OpenAI / API — …'."""
    name = f"{view.monitor} / {view.name}" if with_monitor else view.name
    line = f"{name} — {status_label(view.status)}"
    held = for_duration(view.since, now)
    if held:
        line += f" {held}"
    if view.detail:
        line += f" ({view.detail})"
    return line


def incident_head(incident: IncidentView) -> str:
    """'OpenAI — major outage' (an incident in a list; its icon is `incident_icon`)."""
    return f"{incident.monitor} — {status_label(incident.severity)}"


def incident_icon(incident: IncidentView) -> str:
    return ICON[incident.severity] if incident.resolved_at is None else ICON[Status.OPERATIONAL]


def incident_timing(incident: IncidentView, now: datetime, time: TimeFormat = utc) -> str:
    """'started 2026-11-01 12:01 UTC, ongoing for 12m' / '…, lasted 1h 12m'."""
    duration = format_duration(incident.duration(now))
    state = f"ongoing for {duration}" if incident.resolved_at is None else f"lasted {duration}"
    return f"started {time(incident.started_at)}, {state}"


def incident_components(incident: IncidentView, limit: int = 5) -> str:
    """'API, Chat and 3 more' ('' when the incident had no named components)."""
    return names(list(incident.components), limit) if incident.components else ""


def target_head(reply: TargetReport) -> str:
    """'OpenAI — partial outage for 12m' (its icon is `icon(reply.status)`)."""
    held = for_duration(reply.since, reply.now)
    return f"{reply.name} — {status_label(reply.status)}" + (f" {held}" if held else "")


def target_kind(reply: TargetReport) -> str:
    """'monitor' / 'component of OpenAI'."""
    return "monitor" if reply.is_monitor else f"component of {reply.monitor}"


def uptime_figures(uptime: Uptime) -> str:
    """'99.95% · 2 incidents · MTTR 12m' (incidents and MTTR only when there were any)."""
    parts = [percent(uptime.percent)]
    if uptime.incidents:
        parts.append(plural(uptime.incidents, "incident"))
    if uptime.mttr is not None:
        parts.append(f"MTTR {format_duration(uptime.mttr)}")
    return " · ".join(parts)


def uptime_line(uptime: Uptime) -> str:
    """'24h: 99.95% · 1 incident · MTTR 12m'."""
    return f"{window_label(uptime.window)}: {uptime_figures(uptime)}"


def no_incidents(target: str | None = None) -> str:
    """'No incidents recorded.' / 'No incidents recorded for OpenAI.'"""
    return f"No incidents recorded for {target}." if target else "No incidents recorded."


def alternatives_head(reply: AlternativesReport) -> str:
    """'OpenAI — major outage' (its icon is `icon(reply.status)`)."""
    return f"{reply.monitor} — {status_label(reply.status)}"


def alternatives_answer(reply: AlternativesReport) -> str:
    """The alternatives line, or how to name some when the monitor has none."""
    return alternatives_line(reply.alternatives) or (
        f"No alternatives set for {reply.monitor}: name other monitors in its alternatives key.")


def name_a_monitor(monitors: Sequence[str]) -> str:
    """`/status alternatives` without a monitor."""
    if not monitors:
        return "Name a monitor. No monitor has alternatives set (the alternatives key of a monitor)."
    return f"Name a monitor. These have alternatives set: {names(list(monitors), 10)}."


def incident_list_headline(reply: IncidentList) -> str:
    """'Last 3 incidents for OpenAI since 2026-11-01' (or the no-incidents sentence)."""
    if not reply.incidents:
        scope = reply.target
        text = no_incidents(scope)
        if reply.since:
            text = text.removesuffix(".") + f" since {day(reply.since)}."
        return text
    head = f"Last {plural(len(reply.incidents), 'incident')}"
    if reply.target:
        head += f" for {reply.target}"
    if reply.since:
        head += f" since {day(reply.since)}"
    return head


def uptime_headline(reply: UptimeReport) -> str:
    """'Uptime over the last 7d'."""
    return f"Uptime over the last {window_label(reply.window)}"


def uptime_row(name: str, uptime: Uptime) -> str:
    """'OpenAI — 99.95% · 1 incident · MTTR 12m'."""
    return f"{name} — {uptime_figures(uptime)}"


def probe_summary(stats: ProbeStats) -> str:
    """'Probes (24h): 1,440, 99.93% OK, avg 120 ms, max 900 ms'."""
    share = 100.0 * stats.ok / stats.probes if stats.probes else 0.0
    return (f"Probes ({window_label(stats.window)}): {stats.probes:,}, {share:.2f}% OK, "
            f"avg {stats.avg_ms:,.0f} ms, max {stats.max_ms:,.0f} ms")


def did_you_mean(suggestions: Sequence[str]) -> str:
    """'Did you mean: a, b?'."""
    return f"Did you mean: {', '.join(suggestions)}?"


def left_out(count: int) -> str:
    """Said when a platform's limit cut a message short."""
    return f"{ELLIPSIS} {plural(count, 'part')} left out (message too long)"


# ---------------------------------------------------------------- commands: help and argument errors
# The forms and summaries come from bot.commands.COMMANDS; here is only how they read. Renderers find the
# help after USAGE_HEADER and show it as a preformatted block.

USAGE_HEADER = "Usage:"
QUOTE_HINT = 'Put a name in "quotes" when it ends in a number, a span or a date.'


def help_text(commands: Sequence[tuple[str, str]], arguments: Sequence[tuple[str, str]], hint: str = "") -> str:
    """'Usage:', then one aligned line per (command form, summary) and per (argument, summary), then `hint`."""
    width = max((len(f) for f, _ in commands), default=0) + 2
    names = max((len(n) for n, _ in arguments), default=0) + 2
    lines = [f"{f:<{width}}{summary}" for f, summary in commands]
    lines += [f"{n:<{names}}{summary}" for n, summary in arguments]
    lines += [hint] if hint else []
    return "\n".join([USAGE_HEADER, *("  " + line for line in lines)])


def with_help(problem: str, help_: str) -> str:
    """A usage error followed by the help."""
    return f"{problem}\n{help_}"


def too_long(length: int, what: str = "") -> str:
    """'That target is too long (300 characters).'"""
    return f"That {what + ' ' if what else ''}is too long ({length} characters)."


def bad_count(name: str, most: int) -> str:
    return f"`{name}` must be a number from 1 to {most}."


def bad_window(name: str, windows: Sequence[str]) -> str:
    return f"`{name}` is one of {', '.join(windows)}."


def bad_since(name: str) -> str:
    return f"`{name}` takes a span like `24h`, `7d`, `30d` or a past date like `2026-09-17`."


def unexpected(words: str) -> str:
    return f"Unexpected “{words[:80]}”."


def unknown_command(name: str) -> str:
    return f"Unknown command /{name[:32]}."


def not_found(target: str) -> str:
    """'No monitor or component named “x”.' (the suggestions come with it, as did_you_mean)."""
    return f"No monitor or component named “{target[:80]}”."


OPTION_NOT_VALID = "That option is not valid."


# ---------------------------------------------------------------- early warning (issue 15)


def _page_text(title: str, status: Status | None) -> str:
    """What a status page says: "'Elevated errors'" for its incident, 'API partial outage' for a component."""
    return f"{title} {status_label(status)}" if status is not None else f"'{title}'"


def _acknowledged(provider: str, said: str, lead: timedelta | None) -> str:
    if lead is None:
        return f"{provider} now reports {said}"
    return f"{provider} acknowledged {said} {format_duration(lead)} after downwatch saw the failures"


def watch_line(alert: Alert) -> str:
    """The line a probe's incident carries about the status page it watches ('' when it watches none):
    'status.openai.com still says all systems operational' until the page admits it, then who said what how
    much later; on the recovery, whether the provider ever acknowledged it."""
    watch = alert.watch
    if watch is None:
        return ""
    if alert.kind is AlertKind.RESOLVED:
        return watch_outcome(watch)
    if watch.acknowledged_at is not None:
        return _acknowledged(watch.provider, _page_text(watch.title, watch.status), watch.lead)
    if watch.said is PageSaid.CLEAR:
        return f"{watch.page} still says all systems operational"
    if watch.said is PageSaid.REPORTING:
        return f"{watch.page} already reports it: {_page_text(watch.title, watch.status)}"
    return f"{watch.page} could not be read: not known whether {watch.provider} has acknowledged it"


def watch_outcome(watch: Watch) -> str:
    """How a probe's incident ended against its watched page: 'never acknowledged by the provider', or the
    lead it had ('' when the page already reported it or could not be read)."""
    if watch.acknowledged_at is not None and watch.lead is not None:
        return f"{watch.provider} acknowledged it {format_duration(watch.lead)} after downwatch saw the failures"
    if watch.acknowledged_at is None and watch.said is PageSaid.CLEAR:
        return f"never acknowledged by the provider ({watch.page} said all systems operational throughout)"
    return ""


def lead_line(stats: LeadStats) -> str:
    """'downwatch saw OpenAI's last 4 outages a median of 9m before its status page; 1 outage never
    acknowledged by OpenAI' ('' when there is nothing to say)."""
    count, median, provider = len(stats.leads), stats.median, stats.provider
    parts: list[str] = []
    if count == 1 and median is not None:
        parts.append(f"downwatch saw {provider}'s last outage {format_duration(median)} before its status page")
    elif median is not None:
        parts.append(f"downwatch saw {provider}'s last {count:,} outages a median of {format_duration(median)} "
                     "before its status page")
    if stats.never:
        parts.append(f"{plural(stats.never, 'outage')} never acknowledged by {provider}")
    return "; ".join(parts)


# ---------------------------------------------------------------- operations (issue 12): ack, mute, maintenance
# Names and reasons come from chat users: `neutral` defuses every mention syntax in them (Slack's <@U1>,
# <!channel>; Discord's <@1>, <@&role>, @everyone, @here) on every surface, whatever the renderer escapes.

ACK_ICON = "🙋"
MUTE_ICON = "🔕"
UNMUTE_ICON = "🔔"
MAINTENANCE_ICON = ICON[Status.MAINTENANCE]
OPERATION_CHANGES = frozenset({ChangeKind.ACKED, ChangeKind.MUTED, ChangeKind.UNMUTED, ChangeKind.MUTE_ENDED,
                               ChangeKind.MAINTENANCE_ENDED})
_ZWSP = "\u200b"  # a zero-width space after @ and < : the text reads the same, no platform parses a mention


def neutral(text: str) -> str:
    """User text that pings nobody: '@everyone' and '<@U123>' keep their look but are no longer mentions."""
    return text.replace("@", "@" + _ZWSP).replace("<", "<" + _ZWSP).replace("＠", "＠" + _ZWSP)


def person(name: str) -> str:
    """'@alice': who acted, as every surface shows it (never a mention)."""
    return "@" + _ZWSP + neutral(name.lstrip("@")) if name else "someone"


def until_phrase(until: datetime | None, time: TimeFormat = clock) -> str:
    """'until 15:02 UTC' / 'until resolved'."""
    return "until resolved" if until is None else f"until {time(until)}"


def acknowledged_line(alert: Alert, time: TimeFormat = clock) -> str:
    """'Acknowledged by @alice 14:02 UTC' ('' when nobody has): the line the parent message carries."""
    ack = alert.acknowledged
    return f"{ACK_ICON} Acknowledged by {person(ack.by)} {time(ack.at)}" if ack else ""


def muted_line(alert: Alert, time: TimeFormat = clock) -> str:
    """'Muted by @bob until 15:02 UTC: deploying a fix' ('' when not muted): the parent message's line."""
    mute = alert.muted
    if mute is None:
        return ""
    reason = f": {neutral(mute.reason)}" if mute.reason else ""
    return f"{MUTE_ICON} Muted by {person(mute.by)} {until_phrase(mute.until, time)}{reason}"


def operation_part(change: Change) -> str:
    """An action or the end of a quiet spell, as a phrase of a thread line or a timeline entry."""
    kind = change.kind
    if kind is ChangeKind.ACKED:
        return f"Acknowledged by {person(change.detail)}"
    if kind is ChangeKind.MUTED:
        span = f"for {format_duration(change.duration)}" if change.duration is not None else "until resolved"
        return f"Muted by {person(change.detail)} {span}"
    if kind is ChangeKind.UNMUTED:
        return f"Unmuted by {person(change.detail)}"
    if kind is ChangeKind.MUTE_ENDED:
        return "mute ended"
    return f"outlasted the maintenance “{change.detail}”" if change.detail else "outlasted the maintenance"


def operation_line(alert: Alert, time: TimeFormat = clock) -> str:
    """A mute's thread line, with its end and reason ('Muted by @bob until 15:02 UTC: …'); other actions'
    lines are their change (change_line words both)."""
    first = alert.changes[0] if alert.changes else None
    if first is not None and first.kind is ChangeKind.MUTED and alert.muted is not None:
        return muted_line(alert, time).removeprefix(MUTE_ICON + " ")
    return changes_line(alert.changes)


# What the one who acted is told (an ActionResult's text).


def acked(monitor: str, by: str) -> str:
    return f"{ACK_ICON} Acknowledged {monitor}'s incident: reminders stop; {person(by)} is on it."


def already_acked(monitor: str, ack: Acknowledged) -> str:
    return f"{monitor}'s incident was already acknowledged by {person(ack.by)} at {clock(ack.at)}."


def muted(monitor: str, mute: Muted, *, incident: bool) -> str:
    what = "" if incident else " (no open incident now)"
    return (f"{MUTE_ICON} Muted {monitor} {until_phrase(mute.until)}{what}: checks go on and are recorded, "
            "nothing is posted until the mute ends.")


def unmuted(monitor: str, queued: int) -> str:
    news = " What changed meanwhile is being posted." if queued else ""
    return f"{UNMUTE_ICON} Unmuted {monitor}: its alerts are posted again.{news}"


def not_muted(monitor: str, last: Muted | None) -> str:
    if last is None:
        return f"{monitor} is not muted."
    return f"{monitor} is not muted (the last mute, by {person(last.by)}, has already ended)."


def no_open_incident(monitor: str, verb: str) -> str:
    return f"{monitor} has no open incident to {verb}."


def resolved_already(incident: IncidentView) -> str:
    """A click on a resolved incident's button."""
    when = f" at {clock(incident.resolved_at)}" if incident.resolved_at else ""
    return f"That incident of {incident.monitor} already resolved{when}; nothing was changed."


def forgotten_incident() -> str:
    return "downwatch no longer knows that incident (it is too old, or from another database); nothing was changed."


def until_resolved_needs_incident(monitor: str) -> str:
    return f"{monitor} has no open incident: give a duration instead of until-resolved (30m, 2h, 1d)."


def reason_too_long(length: int, most: int) -> str:
    return f"That reason is too long ({length:,} characters; at most {most}). Nothing was changed."


def bad_duration(text: str) -> str:
    if not text.strip():
        return "mute needs a duration: 30m, 2h, 1d (at most 30d) or until-resolved. Nothing was changed."
    return (f"“{neutral(text[:40])}” is not a duration: use 30m, 2h, 1d (at most 30d) or until-resolved. "
            "Nothing was changed.")


def unknown_monitor(target: str, suggestions: Sequence[str]) -> str:
    hint = f" {did_you_mean(suggestions)}" if suggestions else ""
    return f"No monitor named “{neutral(target[:80])}”.{hint} Nothing was changed."


def mutes_headline(count: int) -> str:
    return f"{MUTE_ICON} {plural(count, 'monitor')} muted" if count else "No monitor is muted."


def mute_row(view: MuteView, now: datetime) -> str:
    """'Checkout API — by @bob until 15:02 UTC (in 40m): deploying'."""
    mute = view.muted
    left = f" (in {format_duration(mute.until - now)})" if mute.until else ""
    reason = f": {neutral(mute.reason)}" if mute.reason else ""
    return f"{view.monitor} — by {person(mute.by)} {until_phrase(mute.until)}{left}{reason}"


def maintenance_headline(report: MaintenanceReport) -> str:
    if not report.active and not report.upcoming:
        return "No maintenance now or planned."
    return f"{MAINTENANCE_ICON} {plural(len(report.active), 'maintenance window')} now, {len(report.upcoming)} upcoming"


MAINTENANCE_NOW = "Under maintenance now"
MAINTENANCE_NEXT = "Upcoming"


def maintenance_row(view: MaintenanceView, now: datetime) -> str:
    """'🔧 Sunday database upgrade — Checkout API (Payments) · 02:00–04:00 UTC 2026-12-06 (ends in 1h)'."""
    scope = ", ".join(view.monitors) if view.monitors else "every monitor"
    if view.components:
        scope += f" ({', '.join(view.components)})"
    end = ""
    if view.end:  # a provider's windows may span days (Cloudflare's 11:00 → 06:00 the next day)
        same_day = view.end.astimezone(UTC).date() == view.start.astimezone(UTC).date()
        end = f"–{clock(view.end)}" if same_day else f" – {utc(view.end)}"
    if view.start <= now:
        if view.end and view.end <= now:  # a provider's still in progress after its announced end
            left = f" (due to end {format_duration(now - view.end)} ago)"
        else:
            left = f" (ends in {format_duration(view.end - now)})" if view.end else ""
    else:
        left = f" (in {format_duration(view.start - now)})"
    source = " · announced by the provider" if view.provider else ""
    return f"{MAINTENANCE_ICON} {view.name} — {scope} · {utc(view.start)}{end}{left}{source}"


def in_maintenance(names_: Sequence[str]) -> str:
    """'🔧 under maintenance: Sunday database upgrade' (a monitor's line in /status)."""
    return f"{MAINTENANCE_ICON} under maintenance: {', '.join(names_)}"


# ---------------------------------------------------------------- digest (issue 12)

DIGEST_ICON = "📊"
# One square per day: what a glance at the strip tells, the same in Slack, Discord and a terminal
SQUARE_NO_DATA = "⬜"
SQUARE: dict[Status, str] = {
    Status.OPERATIONAL: "🟩",  # no incident that day
    Status.MAINTENANCE: "🟩",  # maintenance is not an outage
    Status.UNKNOWN: SQUARE_NO_DATA,
    Status.DEGRADED: "🟨",
    Status.PARTIAL: "🟥",  # some component was down: an outage, if not everywhere
    Status.MAJOR: "🟥",
}
NO_INCIDENTS_THIS_WEEK = "No incidents this week"
DIGEST_LEGEND = "🟩 no incident · 🟨 degraded · 🟥 outage · ⬜ no data"


def square(status: Status | None) -> str:
    """One day of the strip: 🟩 no incident, 🟨 degraded, 🟥 partial or major outage, ⬜ not watched."""
    return SQUARE_NO_DATA if status is None else SQUARE[status]


def digest_strip(row: DigestRow) -> str:
    """'🟩🟩🟥🟩🟨🟩⬜': the week of one monitor, oldest day first."""
    return "".join(square(d.status) for d in row.days)


def _day_month(at: datetime, *, year: bool = False) -> str:
    return f"{at.day} {at.strftime('%b')}" + (f" {at.year}" if year else "")


def digest_week(digest: Digest) -> str:
    """'23–29 Nov 2026', '30 Nov – 6 Dec 2026', '29 Dec 2025 – 4 Jan 2026' (the last day is the one before `end`)."""
    first, last = digest.start, digest.end - timedelta(days=1)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{_day_month(last, year=True)}"
    if first.year == last.year:
        return f"{_day_month(first)} – {_day_month(last, year=True)}"
    return f"{_day_month(first, year=True)} – {_day_month(last, year=True)}"


def digest_title(digest: Digest) -> str:
    """'Weekly digest · 23–29 Nov 2026'."""
    return f"Weekly digest · {digest_week(digest)}"


def digest_headline(digest: Digest) -> str:
    """'📊 Weekly digest · 23–29 Nov 2026'."""
    return f"{DIGEST_ICON} {digest_title(digest)}"


def digest_summary(digest: Digest) -> str:
    """'No incidents this week · 12 monitors' / '5 incidents · 3 of 12 monitors affected · 2h 10m in incidents'
    ('No new incidents · …' when only an incident of the week before ran into this one)."""
    monitors = plural(len(digest.rows), "monitor")
    if digest.quiet:
        return f"{NO_INCIDENTS_THIS_WEEK} · {monitors}"
    hit = [row for row in digest.rows if row.incidents or row.down > timedelta(0)]
    down = sum((row.down for row in digest.rows), timedelta(0))
    started = plural(digest.incidents, "incident") if digest.incidents else "No new incidents"
    return (f"{started} · {len(hit):,} of {monitors} affected · "
            f"{format_duration(down)} in incidents")


def digest_figures(row: DigestRow) -> str:
    """'99.40% · 2 incidents · MTTR 12m · longest 40m' / '100.00% · no incidents' / 'no data'."""
    if row.uptime is None:
        return percent(None)
    parts = [percent(row.uptime)]
    if row.incidents:
        parts.append(plural(row.incidents, "incident"))
    else:
        parts.append("no new incidents" if row.down > timedelta(0) else "no incidents")
    if row.mttr is not None:
        parts.append(f"MTTR {format_duration(row.mttr)}")
    if row.longest is not None:
        parts.append(f"longest {format_duration(row.longest)}")
    return " · ".join(parts)


def digest_line(row: DigestRow) -> str:
    """'🟩🟩🟥🟩🟨🟩🟩 OpenAI — 99.40% · 2 incidents · MTTR 12m · longest 40m' (renderers may bold the name:
    they join `digest_strip`, the name and `digest_figures` themselves)."""
    return f"{digest_strip(row)} {row.monitor} — {digest_figures(row)}"


def digest_components(row: DigestRow, limit: int = 3) -> str:
    """'most affected: Responses (2), Chat (1)' ('' when no incident named a component)."""
    if not row.components:
        return ""
    items = [f"{c.name} ({c.incidents:,})" for c in row.components]
    return f"most affected: {names(items, limit)}"


def digest_lead(row: DigestRow) -> str:
    """A provider's lead over its status page this week, as `/uptime` words it ('' without leads)."""
    return lead_line(row.lead) if row.lead is not None else ""


def digest_legend(digest: Digest) -> str:
    """'🟩 no incident · 🟨 degraded · 🟥 outage · ⬜ no data · days Mon → Sun, Europe/Berlin'."""
    last = digest.end - timedelta(days=1)
    return f"{DIGEST_LEGEND} · days {digest.start.strftime('%a')} → {last.strftime('%a')}, {digest.timezone}"


def digest_footer(digest: Digest) -> str:
    """'downwatch digest · Europe/Berlin'."""
    return f"downwatch digest · {digest.timezone}"


def name_the_monitor(command: str) -> str:
    return f"/{command} needs a monitor name: /status {command} <monitor>."


def acting_needs_the_bot(command: str) -> str:
    return f"{command} changes things: it is done by the running bot (or `downwatch {command}`), not answered here."


def quiet_lines(maintenance: Sequence[MaintenanceView], muted: MuteView | None, now: datetime) -> list[str]:
    """What `/status <monitor>` (and the overview) says about a monitor kept quiet: its windows in force
    ('🔧 Upgrade — … (ends in 40m)') and its mute ('🔕 muted by @bob until 15:02 UTC (in 40m): deploying')."""
    lines = [maintenance_row(view, now) for view in maintenance]
    if muted is not None:
        lines.append(f"{MUTE_ICON} muted {mute_row(muted, now).partition(' — ')[2]}")
    return lines


# ---------------------------------------------------------------- buttons (issue 12: adapters/buttons.py lays them out)

BUTTON_ACK = "Acknowledge"
BUTTON_MUTE_1H = "Mute 1 h"
BUTTON_MUTE_RESOLVED = "Mute until resolved"
BUTTON_UNMUTE = "Unmute"
NOT_OPERATOR = "You are not an operator here: nothing was changed."
NO_HANDLER = "This bot cannot act on its alerts right now: nothing was changed."
UNKNOWN_BUTTON = "This button is from another version of downwatch: nothing was changed."
UNKNOWN_ACTOR = "downwatch cannot tell who you are here, so nothing was changed."
TIME_PASSED = "That time has already passed; nothing was changed."


# ---------------------------------------------------------------- regions (issue 14)

REGION_BLIND = "this region cannot reach the network"  # a region's own connectivity check failed: not a vote


def _and(items: Sequence[str]) -> str:
    """'eu-west', 'eu-west and us-east', 'eu-west, us-east and ap-south'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def regions_line(verdict: Verdict) -> str:
    """How each region sees a monitor: 'down from eu-west and us-east; up from ap-south' (then 'unknown
    from …' for regions that could not judge, 'no recent result from …' for stale ones; '' without regions)."""
    parts = []
    if verdict.down:
        parts.append(f"down from {_and(verdict.down)}")
    if verdict.up:
        parts.append(f"up from {_and(verdict.up)}")
    if verdict.unknown:
        parts.append(f"unknown from {_and(verdict.unknown)}")
    if verdict.stale:
        parts.append(f"no recent result from {_and(verdict.stale)}")
    return "; ".join(parts)


def degraded_line(reporting: int, expected: int) -> str:
    """'monitoring degraded: only 1 of 3 regions reporting' (too few regions vote to confirm an outage)."""
    if reporting <= 0:
        return ("monitoring degraded: no region reporting" if expected <= 1
                else f"monitoring degraded: none of {expected:,} regions reporting")
    return f"monitoring degraded: only {reporting:,} of {plural(expected, 'region')} reporting"


def verdict_detail(verdict: Verdict) -> str:
    """A regional monitor's detail (`/status`, the component): the regions line, led by the degraded line
    when too few regions report: 'monitoring degraded: only 1 of 3 regions reporting (up from ap-south; no
    recent result from eu-west and us-east)'."""
    line = regions_line(verdict)
    if not verdict.degraded:
        return line
    degraded = degraded_line(verdict.reporting, verdict.expected)
    return f"{degraded} ({line})" if line else degraded


# ---------------------------------------------------------------- cluster (issue 14)


def database_lost_detail(*, holder: str, silent: timedelta) -> str:
    """Why a replica says it lost its database: who, and for how long."""
    return f"replica {holder} has had no answer from PostgreSQL for {format_duration(silent)}"
