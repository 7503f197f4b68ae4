"""Console adapter: alerts and command replies as plain text on a stream (demo, CLI, no tokens needed)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from bot.chat import CommandHandler
from bot.model import (
    Alert,
    AlertKind,
    IncidentList,
    IncidentView,
    Overview,
    Reply,
    SendResult,
    Sent,
    Status,
    TargetReport,
    Uptime,
    UptimeReport,
    Usage,
)
from bot.text import all_operational, format_duration, probe_summary

MAX_COMPONENTS_SHOWN = 30

_ICON = {
    Status.OPERATIONAL: "✅",
    Status.DEGRADED: "🟡",
    Status.PARTIAL: "🟠",
    Status.MAJOR: "🔴",
    Status.MAINTENANCE: "🔧",
    Status.UNKNOWN: "❔",
}


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def render_alert(alert: Alert) -> str:
    """The whole incident as it stands, as a few lines of text."""
    if alert.kind is AlertKind.SOURCE_UNREADABLE:
        return f"❔ {alert.monitor}: status source unreadable ({alert.change}). Not an outage: watching it."
    if alert.kind is AlertKind.SOURCE_READABLE:
        return f"👀 {alert.monitor}: status source readable again (was unreadable for {format_duration(alert.duration)})."
    if alert.kind is AlertKind.NETWORK_DOWN:
        return f"📡 Monitoring degraded: the bot cannot reach the network ({alert.change}). Outage alerts paused."
    if alert.kind is AlertKind.NETWORK_UP:
        return f"📡 Monitoring restored: the bot can see again after {format_duration(alert.duration)}."
    if alert.kind is AlertKind.RESOLVED:
        head = f"✅ RESOLVED {alert.monitor} — recovered after {format_duration(alert.duration)}"
    else:
        state = "OUTAGE" if alert.kind is AlertKind.OPENED else alert.kind.value.upper()
        head = f"{_ICON[alert.severity]} {state} {alert.monitor} — {alert.severity.label}"
    lines = [head, f"   started {_when(alert.started_at)}" + (f"; {alert.change}" if alert.change else "")]
    if alert.kind is not AlertKind.RESOLVED and alert.components:
        lines.append(f"   {len(alert.components)} of {alert.total_components} components affected:")
        for c in alert.components[:MAX_COMPONENTS_SHOWN]:
            flap = " (flapping)" if c.flapping else ""
            lines.append(f"     {_ICON[c.status]} {c.name}: {c.status.label}{flap}")
        if len(alert.components) > MAX_COMPONENTS_SHOWN:
            lines.append(f"     …and {len(alert.components) - MAX_COMPONENTS_SHOWN} more")
    for inc in alert.provider_incidents:
        lines.append(f"   provider: “{inc.title}” ({inc.status}, impact {inc.impact})")
        if inc.latest_update:
            lines.append(f"     latest: {inc.latest_update[:300]}")
    return "\n".join(lines)


def _incident_line(i: IncidentView, now: datetime) -> str:
    state = "ongoing" if i.resolved_at is None else "lasted"
    names = ", ".join(i.components[:6]) + (f" +{len(i.components) - 6}" if len(i.components) > 6 else "")
    title = f" “{i.title}”" if i.title else ""
    return (f"{_ICON[i.severity]} {i.monitor}{title} — started {_when(i.started_at)}, {state} "
            f"{format_duration(i.duration(now))}" + (f" — {names}" if names else ""))


def _uptime(u: Uptime) -> str:
    days = int(u.window.total_seconds() // 86400)
    label = f"{days}d" if days else f"{int(u.window.total_seconds() // 3600)}h"
    pct = "no data" if u.percent is None else f"{u.percent:.3f}%"
    mttr = f", MTTR {format_duration(u.mttr)}" if u.mttr else ""
    return f"{label}: {pct} ({u.incidents} incidents{mttr})"


def render_reply(reply: Reply) -> str:
    """A command's answer for a terminal (the same Reply Slack and Discord render their way)."""
    if isinstance(reply, Usage):
        text = reply.message
        if reply.suggestions:
            text += "\nDid you mean: " + ", ".join(reply.suggestions)
        return text
    if isinstance(reply, Overview):
        if reply.all_operational:
            return f"✅ {all_operational(reply.monitors)}"
        lines = [f"⚠️ {len(reply.open_incidents)} open incident(s) across {reply.monitors} monitors"]
        monitor = None
        for v in reply.problems:
            if v.monitor != monitor:
                monitor = v.monitor
                lines.append(f"{monitor}:")
            since = f" for {format_duration(reply.now - v.since)}" if v.since else ""
            lines.append(f"  {_ICON[v.status]} {v.name}: {v.status.label}{since}")
        for name in reply.unreadable:
            lines.append(f"❔ {name}: status source unreadable")
        for i in reply.open_incidents:
            lines.append("  " + _incident_line(i, reply.now))
        return "\n".join(lines)
    if isinstance(reply, TargetReport):
        kind = "monitor" if reply.is_monitor else f"component of {reply.monitor}"
        since = f" for {format_duration(reply.now - reply.since)}" if reply.since else ""
        lines = [f"{_ICON[reply.status]} {reply.name} ({kind}): {reply.status.label}{since}"]
        for v in reply.components:
            lines.append(f"  {_ICON[v.status]} {v.name}: {v.status.label}")
        lines.append("Uptime — " + " · ".join(_uptime(u) for u in reply.uptime))
        if reply.probes:
            lines.append(probe_summary(reply.probes))
        if reply.incidents:
            lines.append("Last incidents:")
            lines += ["  " + _incident_line(i, reply.now) for i in reply.incidents]
        else:
            lines.append("No incidents recorded.")
        return "\n".join(lines)
    if isinstance(reply, IncidentList):
        if not reply.incidents:
            return "No incidents recorded" + (f" for {reply.target}." if reply.target else ".")
        head = f"Last {len(reply.incidents)} incident(s)" + (f" for {reply.target}" if reply.target else "") + ":"
        return "\n".join([head] + ["  " + _incident_line(i, reply.now) for i in reply.incidents])
    assert isinstance(reply, UptimeReport)
    return "\n".join(["Uptime:"] + [f"  {name}: {_uptime(u)}" for name, u in reply.rows])


class ConsoleAdapter:
    """Prints alerts to a stream; 'threads' are shown by indenting replies under their parent's number."""

    name = "console"
    threads = True
    pace = 0.0

    def __init__(self, *, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._count = 0

    async def start(self, handler: CommandHandler) -> None:
        return None

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        self._count += 1
        prefix = f"[#{self._count}] " + (f"{mention} " if mention else "")
        self._print(prefix + render_alert(alert))
        return Sent(ref=str(self._count))

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        self._print(f"[#{ref} edited] " + render_alert(alert).splitlines()[0])
        return Sent(ref=ref)

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        self._print(f"   ↳ [#{ref} thread] " + (f"{mention} " if mention else "") + alert.change)
        return Sent(ref=ref)

    async def stop(self) -> None:
        return None
