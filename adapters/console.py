"""Console adapter: alerts and command replies as plain text on a stream (demo, CLI, no tokens needed).

Every word comes from bot.wording; this module only indents and cuts long lists.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from bot import wording
from bot.chat import ActionHandler, CommandHandler
from bot.model import (
    ActionResult,
    Alert,
    AlertKind,
    AlternativesReport,
    ComponentView,
    Digest,
    IncidentList,
    IncidentView,
    MaintenanceReport,
    MutesReport,
    Overview,
    Reply,
    SendResult,
    Sent,
    Status,
    TargetReport,
    UptimeReport,
    Usage,
)

MAX_COMPONENTS_SHOWN = 30
MAX_PROVIDER_INCIDENTS = 3
MAX_UPDATE_CHARS = 600
MAX_LIST_LINES = 60


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + wording.ELLIPSIS


def render_alert(alert: Alert) -> str:
    """The whole incident as it stands, as a few lines of text (the first line is its headline)."""
    if alert.digest is not None:  # the weekly digest (issue 12)
        return render_digest(alert.digest)
    lines = [wording.headline(alert)]
    if alert.is_notice:
        lines.append(f"   {wording.notice_text(alert)}")
        detail = wording.notice_detail(alert)
        if detail:
            lines.append(f"   {detail}")
        lines.append(f"   {wording.footer(alert)} · {wording.updated(alert.at)}")
        return "\n".join(lines)
    resolved = alert.kind is AlertKind.RESOLVED
    summary = wording.was(alert) if resolved else wording.affected(alert)
    lines.append(f"   {summary} · {wording.timing(alert)}")
    for c in alert.components[:MAX_COMPONENTS_SHOWN]:
        state = wording.component_state(c, resolved=resolved)
        lines.append(f"     {wording.component_icon(c, resolved=resolved)} {c.name} — {state} · "
                     f"{wording.since(c.since, wording.utc)}")
    if len(alert.components) > MAX_COMPONENTS_SHOWN:
        lines.append(f"     {wording.more(len(alert.components) - MAX_COMPONENTS_SHOWN, 'components')}")
    for inc in alert.provider_incidents[:MAX_PROVIDER_INCIDENTS]:
        lines.append(f"   {inc.title} — {wording.provider_state(inc)}")
        if inc.latest_update:
            when = f" ({wording.utc(inc.updated_at)})" if inc.updated_at else ""
            lines.append(f"     > {_cut(wording.provider_update(inc), MAX_UPDATE_CHARS)}{when}")
    if len(alert.provider_incidents) > MAX_PROVIDER_INCIDENTS:
        lines.append(f"   {wording.more_provider_incidents(len(alert.provider_incidents) - MAX_PROVIDER_INCIDENTS)}")
    watch = wording.watch_line(alert)
    if watch:
        lines.append(f"   {watch}")
    if alert.alternatives:
        lines.append(f"   {wording.alternatives_line(alert.alternatives)}")
    lines += [f"   {line}" for line in (wording.acknowledged_line(alert), wording.muted_line(alert)) if line]
    lines.append(f"   {wording.footer(alert)} · {wording.updated(alert.at)}")
    return "\n".join(lines)


def render_change(alert: Alert) -> str:
    """An alert's thread line."""
    return f"{wording.line_icon(alert)} {wording.change_line(alert)}"


def _incident_line(i: IncidentView, now: datetime) -> str:
    line = f"{wording.incident_icon(i)} {wording.incident_head(i)} · {wording.incident_timing(i, now)}"
    components = wording.incident_components(i)
    if components:
        line += f" · {components}"
    if i.title:
        line += f"\n      {i.title}"
    return line


def _component_line(view: ComponentView, now: datetime, *, with_monitor: bool = False) -> str:
    return f"  {wording.icon(view.status)} {wording.component_view(view, now, with_monitor=with_monitor)}"


def _answer(lines: list[str]) -> str:
    if len(lines) > MAX_LIST_LINES:
        lines = lines[:MAX_LIST_LINES] + [wording.more(len(lines) - MAX_LIST_LINES)]
    return "\n".join(lines)


def render_reply(reply: Reply) -> str:
    """A command's answer for a terminal (the same Reply Slack and Discord render their way)."""
    if isinstance(reply, ActionResult):
        return (f"{wording.WARNING_ICON} " if reply.is_error else "") + reply.text
    if isinstance(reply, MutesReport):
        return _answer([wording.mutes_headline(len(reply.mutes)),
                        *(f"  {wording.mute_row(view, reply.now)}" for view in reply.mutes)])
    if isinstance(reply, MaintenanceReport):
        lines = [wording.maintenance_headline(reply)]
        for title, views in ((wording.MAINTENANCE_NOW, reply.active), (wording.MAINTENANCE_NEXT, reply.upcoming)):
            if views:
                lines.append(f"{title}:")
                lines += [f"  {wording.maintenance_row(view, reply.now)}" for view in views]
        return _answer(lines)
    if isinstance(reply, Usage):
        head, sep, rest = reply.message.partition(wording.USAGE_HEADER)
        parts = []
        if head.strip():
            parts.append((f"{wording.WARNING_ICON} " if reply.is_error else "") + head.strip())
        if sep:
            parts.append((sep + rest).rstrip())
        if reply.suggestions:
            parts.append(wording.did_you_mean(reply.suggestions))
        return "\n".join(parts)
    if isinstance(reply, Overview):
        lines = [f"{wording.overview_icon(reply)} {wording.overview_headline(reply)}"]
        lines += wording.quiet_lines(reply.maintenance, None, reply.now)  # maintenance windows (issue 12)
        if reply.all_operational:
            return "\n".join(lines)
        if reply.open_incidents:
            lines.append(f"{wording.OPEN_INCIDENTS}:")
            lines += ["  " + _incident_line(i, reply.now) for i in reply.open_incidents]
        if reply.problems:
            lines.append(f"{wording.NOT_OPERATIONAL}:")
            lines += [_component_line(v, reply.now, with_monitor=True) for v in reply.problems]
        if reply.unreadable:
            lines.append(f"{wording.icon(Status.UNKNOWN)} {wording.cannot_read(reply.unreadable)}")
        return _answer(lines)
    if isinstance(reply, TargetReport):
        lines = [f"{wording.icon(reply.status)} {wording.target_head(reply)} ({wording.target_kind(reply)})"]
        lines += wording.quiet_lines(reply.maintenance, reply.muted, reply.now)  # maintenance, mute (issue 12)
        if reply.uptime:
            lines.append(f"{wording.UPTIME}:")
            lines += [f"  {wording.uptime_line(u)}" for u in reply.uptime]
        if reply.probes:
            lines.append(wording.probe_summary(reply.probes))
        lines += [wording.lead_line(stats) for stats in reply.leads]
        if reply.components:
            lines.append(f"{wording.NOT_OPERATIONAL}:")
            lines += [_component_line(v, reply.now) for v in reply.components]
        if reply.timeline:
            lines.append(f"{wording.TIMELINE}:")
            lines += [f"  {wording.timeline_line(e)}" for e in reply.timeline]
        if reply.incidents:
            lines.append(f"{wording.LAST_INCIDENTS}:")
            lines += ["  " + _incident_line(i, reply.now) for i in reply.incidents]
        else:
            lines.append(wording.no_incidents())
        return _answer(lines)
    if isinstance(reply, IncidentList):
        if not reply.incidents:
            return wording.incident_list_headline(reply)
        lines = [f"{wording.incident_list_headline(reply)}:"]
        return _answer(lines + ["  " + _incident_line(i, reply.now) for i in reply.incidents])
    if isinstance(reply, AlternativesReport):
        return "\n".join([f"{wording.icon(reply.status)} {wording.alternatives_head(reply)}",
                          wording.alternatives_answer(reply)])
    assert isinstance(reply, UptimeReport)
    lines = [f"{wording.uptime_headline(reply)}:"]
    lines += [f"  {wording.uptime_row(name, u)}" for name, u in reply.rows]
    lines += [wording.lead_line(stats) for stats in reply.leads]
    if not reply.rows:
        lines.append(wording.NO_MONITORS)
    return _answer(lines)



# ---------------------------------------------------------------- digest (issue 12)

MAX_DIGEST_MONITORS = 100  # monitors a posted digest lists; `downwatch digest` lists them all


def render_digest(digest: Digest, *, limit: int | None = MAX_DIGEST_MONITORS) -> str:
    """The weekly digest as text: headline, the week in one line, one entry per monitor (worst first, led by
    its 7-day strip), then the legend; after `limit` monitors, '…and N more monitors'."""
    lines = [wording.digest_headline(digest), f"   {wording.digest_summary(digest)}"]
    shown = digest.rows if limit is None else digest.rows[:limit]
    for row in shown:
        lines.append(f"   {wording.digest_strip(row)}  {row.monitor} — {wording.digest_figures(row)}")
        lines += [f"{' ' * 19}{extra}" for extra in (wording.digest_components(row), wording.digest_lead(row))
                  if extra]
    if len(digest.rows) > len(shown):
        lines.append(f"   {wording.more(len(digest.rows) - len(shown), 'monitors')}")
    lines.append(f"   {wording.digest_legend(digest)}")
    return "\n".join(lines)

class ConsoleAdapter:
    """Prints alerts to a stream; 'threads' are shown by indenting replies under their parent's number."""

    name = "console"
    keeps_parent = can_edit = can_thread = True  # numbered parents, "edited" lines, indented thread lines
    pace = 0.0

    def __init__(self, *, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._count = 0

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        """Nothing to connect: the console shows alerts; it has no buttons to click."""
        return None

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        self._count += 1
        prefix = f"[#{self._count}] " + (f"{mention} " if mention else "")
        self._print(prefix + render_alert(alert))
        return Sent(ref=str(self._count))

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        self._print(f"[#{ref} edited] " + render_alert(alert).splitlines()[0])
        return Sent(ref=ref)

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        self._print(f"   ↳ [#{ref} thread] " + (f"{mention} " if mention else "") + render_change(alert))
        return Sent(ref=ref)

    async def stop(self) -> None:
        return None
