"""Pure Discord rendering: Alerts and Replies → embeds that stay within Discord's documented limits.

Provider and user text is escaped for Discord markdown and mentions; senders also pass
AllowedMentions.none(), so a status page saying "@everyone" can never ping anyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.model import (
    Alert,
    AlertKind,
    ComponentView,
    IncidentList,
    IncidentView,
    Overview,
    Reply,
    Status,
    TargetReport,
    Uptime,
    UptimeReport,
    Usage,
)
from bot.text import format_duration, probe_summary

# Embed limits: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_NAME_MAX = 256
TOTAL_MAX = 6000  # sum of title, description, field names/values, footer and author name
EMBEDS_PER_MESSAGE = 10
# Message content: https://discord.com/developers/docs/resources/message#create-message-jsonform-params
CONTENT_MAX = 2000
# Thread name: https://discord.com/developers/docs/resources/channel#start-thread-from-message-json-params
THREAD_NAME_MAX = 100

# Colours by severity (Discord's palette names in comments).
COLOUR_DEGRADED = 0xF1C40F  # gold / yellow
COLOUR_PARTIAL = 0xE67E22  # orange
COLOUR_MAJOR = 0xE74C3C  # red
COLOUR_RESOLVED = 0x2ECC71  # green
COLOUR_NOTICE = 0x95A5A6  # grey
COLOUR_MAINTENANCE = 0x3498DB  # blue

_SEVERITY_COLOUR = {
    Status.DEGRADED: COLOUR_DEGRADED,
    Status.PARTIAL: COLOUR_PARTIAL,
    Status.MAJOR: COLOUR_MAJOR,
    Status.OPERATIONAL: COLOUR_RESOLVED,
    Status.MAINTENANCE: COLOUR_MAINTENANCE,
    Status.UNKNOWN: COLOUR_NOTICE,
}
_SEVERITY_ICON = {
    Status.DEGRADED: "🟡",
    Status.PARTIAL: "🟠",
    Status.MAJOR: "🔴",
    Status.OPERATIONAL: "🟢",
    Status.MAINTENANCE: "🔧",
    Status.UNKNOWN: "⚪",
}
_NOTICE_TITLE = {
    AlertKind.SOURCE_UNREADABLE: "Cannot read the status of {monitor}",
    AlertKind.SOURCE_READABLE: "Status of {monitor} readable again",
    AlertKind.NETWORK_DOWN: "downwatch cannot reach the network",
    AlertKind.NETWORK_UP: "downwatch reaches the network again",
}
_NOTICE_TEXT = {
    AlertKind.SOURCE_UNREADABLE: "downwatch could not read this source, so it cannot tell the service's state for now.",
    AlertKind.SOURCE_READABLE: "downwatch can read this source again.",
    AlertKind.NETWORK_DOWN: "Checks cannot tell anything until it is back, so nothing is reported down meanwhile.",
    AlertKind.NETWORK_UP: "Checks resume normally.",
}

USAGE = (
    "**/status** `[target]` — overall state, or one monitor or component\n"
    "**/incidents** `[target] [limit 1–25] [since 24h|7d|30d|YYYY-MM-DD]` — recent incidents\n"
    "**/uptime** `[target] [window 24h|7d|30d|90d]` — uptime % and mean time to recovery"
)


# ---------------------------------------------------------------- text helpers


def escape(text: str) -> str:
    """Neutralise Discord markdown and mentions in provider or user text."""
    return escape_mentions(escape_markdown(text))


def fit(text: str, limit: int) -> str:
    """Escape `text` and shorten it (with an ellipsis) so the escaped form is at most `limit` characters."""
    out = escape(text)
    raw = text
    while len(out) > limit:
        over = len(out) - limit
        raw = raw[: max(0, len(raw) - over - 1)]
        out = escape(raw) + "…"
    return out


def clip(text: str, limit: int) -> str:
    """Shorten already-safe text to `limit` characters, cutting at a line end when possible."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if "\n" in cut[limit // 2 :]:
        cut = cut[: cut.rindex("\n")]
    return cut + "…"


def ts(at: datetime, style: str = "R") -> str:
    """A Discord timestamp, shown in each reader's time zone (`R` relative, `f` date and time)."""
    return f"<t:{int(at.timestamp())}:{style}>"


def window_label(window: timedelta) -> str:
    """24h / 7d / 30d style label for a window."""
    if window.total_seconds() % 86400 == 0 and window.days >= 2:
        return f"{window.days}d"
    return f"{int(window.total_seconds() // 3600)}h"


class _Builder:
    """Adds fields to an embed while every limit (count, size, 6000 total) still holds."""

    def __init__(self, embed: discord.Embed, *, reserve: int = 0) -> None:
        self.embed = embed
        self.reserve = reserve  # room kept for a final "…and N more" field

    def room(self) -> int:
        return TOTAL_MAX - len(self.embed) - self.reserve

    def add(self, name: str, value: str, *, inline: bool = False) -> bool:
        """Add a field (texts already safe); False when it no longer fits."""
        name = clip(name or "\u200b", FIELD_NAME_MAX)
        value = clip(value or "\u200b", FIELD_VALUE_MAX)
        if len(self.embed.fields) >= FIELDS_MAX - (1 if self.reserve else 0):
            return False
        if len(name) + len(value) > self.room():
            return False
        self.embed.add_field(name=name, value=value, inline=inline)
        return True

    def more(self, count: int, what: str) -> None:
        """The closing '…and N more' field, using the room reserved for it."""
        if count <= 0:
            return
        self.reserve = 0
        self.add("\u200b", f"…and {count} more {what}")


def _reserve() -> int:
    return len("\u200b") + len("…and 99999 more components")


# ---------------------------------------------------------------- alerts


def alert_colour(alert: Alert) -> int:
    """Grey for notices, green once resolved, else by severity."""
    if alert.is_notice:
        return COLOUR_NOTICE
    if alert.kind is AlertKind.RESOLVED:
        return COLOUR_RESOLVED
    return _SEVERITY_COLOUR.get(alert.severity, COLOUR_NOTICE)


def alert_title(alert: Alert) -> str:
    """One line: icon, monitor and what is going on (never "down" for a notice)."""
    monitor = alert.monitor or "downwatch"
    if alert.is_notice:
        return clip("ℹ️ " + _NOTICE_TITLE[alert.kind].format(monitor=fit(monitor, 200)), TITLE_MAX)
    if alert.kind is AlertKind.RESOLVED:
        return clip(f"✅ {fit(monitor, 200)}: resolved", TITLE_MAX)
    return clip(f"{_SEVERITY_ICON[alert.severity]} {fit(monitor, 200)}: {alert.severity.label}", TITLE_MAX)


def render_alert(alert: Alert) -> discord.Embed:
    """The parent message embed for an alert's current snapshot."""
    embed = discord.Embed(title=alert_title(alert), colour=alert_colour(alert), timestamp=alert.at)
    lines: list[str] = []
    if alert.is_notice:
        lines.append(_NOTICE_TEXT[alert.kind])
        if alert.change:
            lines.append(fit(alert.change, 1000))
        embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
        embed.set_footer(text="downwatch notice")
        return embed

    if alert.kind is AlertKind.RESOLVED:
        end = alert.resolved_at or alert.at
        lines.append(f"Resolved {ts(end)} after **{format_duration(alert.duration)}** (started {ts(alert.started_at, 'f')}).")
    else:
        lines.append(f"Started {ts(alert.started_at)} ({ts(alert.started_at, 'f')}), ongoing for {format_duration(alert.duration)}.")
        if alert.kind is AlertKind.REMINDER:
            lines.append("⏰ Still open.")
    if alert.total_components:
        lines.append(f"{len(alert.components)} of {alert.total_components} components affected.")
    for incident in alert.provider_incidents[:5]:
        head = f"**{fit(incident.title, 200)}** — {fit(incident.status, 40)}"
        if incident.url and incident.url.startswith("https://"):
            head += f" ([details]({incident.url.replace(')', '%29')}))"
        lines.append(head)
        if incident.latest_update:
            lines.append("> " + fit(incident.latest_update, 600).replace("\n", "\n> "))
    if len(alert.provider_incidents) > 5:
        lines.append(f"…and {len(alert.provider_incidents) - 5} more provider incidents")
    embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
    embed.set_footer(text=clip(f"downwatch · incident {alert.incident_id}", FOOTER_MAX))

    builder = _Builder(embed, reserve=_reserve())
    shown = 0
    for component in alert.components:
        value = component.status.label if alert.kind is not AlertKind.RESOLVED else "recovered"
        value += f" · since {ts(component.since)}"
        if component.flapping:
            value += " · flapping"
        if not builder.add(fit(component.name, FIELD_NAME_MAX), value, inline=True):
            break
        shown += 1
    builder.more(len(alert.components) - shown, "components")
    return embed


def render_change(alert: Alert) -> str:
    """The short thread line for an alert's change (message content, not an embed)."""
    icon = "✅" if alert.kind is AlertKind.RESOLVED else ("ℹ️" if alert.is_notice else _SEVERITY_ICON[alert.severity])
    text = alert.change or alert_title(alert)
    line = f"{icon} {fit(text, CONTENT_MAX - 100)}"
    if alert.kind is AlertKind.RESOLVED:
        line += f" — total duration {format_duration(alert.duration)}"
    return clip(line, CONTENT_MAX)


def thread_name(alert: Alert) -> str:
    """Name of the thread started from an incident's parent message (plain text, no markdown)."""
    return clip(f"{alert.monitor or 'downwatch'} · {alert.started_at:%Y-%m-%d %H:%M} UTC", THREAD_NAME_MAX)


def mention_for(mention: str | None) -> tuple[str | None, dict[str, list[str]]]:
    """Content and allowed_mentions (API form) pinging only `mention`: a role id, `<@&id>`, or @here/@everyone."""
    if mention:
        text = mention.strip()
        role = text.removeprefix("<@&").removesuffix(">")
        if role.isdigit():
            return f"<@&{role}>", {"parse": [], "roles": [role]}
        if text.lstrip("@") in ("here", "everyone"):
            return f"@{text.lstrip('@')}", {"parse": ["everyone"]}
    return None, {"parse": []}


# ---------------------------------------------------------------- replies


def _component_line(view: ComponentView, *, with_monitor: bool) -> str:
    name = f"{fit(view.monitor, 100)} / {fit(view.name, 200)}" if with_monitor else fit(view.name, 200)
    line = f"{_SEVERITY_ICON.get(view.status, '⚪')} {name} — {view.status.label}"
    if view.since:
        line += f" since {ts(view.since)}"
    return line


def _incident_field(incident: IncidentView, now: datetime) -> tuple[str, str]:
    state = "resolved" if incident.resolved_at else "ongoing"
    icon = "✅" if incident.resolved_at else _SEVERITY_ICON.get(incident.severity, "⚪")
    name = f"{icon} {fit(incident.monitor, 100)} — {incident.severity.label}"
    lines = []
    if incident.title:
        lines.append(f"**{fit(incident.title, 300)}**")
    lines.append(f"started {ts(incident.started_at, 'f')} · {state}, {format_duration(incident.duration(now))}")
    if incident.components:
        names = ", ".join(fit(c, 100) for c in incident.components[:10])
        if len(incident.components) > 10:
            names += f", …and {len(incident.components) - 10} more"
        lines.append(names)
    return name, "\n".join(lines)


def _uptime_line(uptime: Uptime) -> str:
    percent = "no data" if uptime.percent is None else f"{uptime.percent:.2f}%"
    line = f"**{window_label(uptime.window)}**: {percent}"
    if uptime.incidents:
        line += f" · {uptime.incidents} incident{'s' if uptime.incidents != 1 else ''}"
    if uptime.mttr is not None:
        line += f" · MTTR {format_duration(uptime.mttr)}"
    return line


def _lines_embed(embed: discord.Embed, lines: list[str], what: str) -> discord.Embed:
    """Put lines in the description, cutting with '…and N more' when it would exceed the limits."""
    budget = min(DESCRIPTION_MAX, TOTAL_MAX - len(embed)) - 40
    kept: list[str] = []
    used = len(embed.description or "")
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    text = "\n".join(filter(None, [embed.description or "", *kept]))
    if len(kept) < len(lines):
        text += f"\n…and {len(lines) - len(kept)} more {what}"
    embed.description = text
    return embed


def _overview(reply: Overview) -> discord.Embed:
    if reply.all_operational:
        return discord.Embed(
            title="🟢 All systems operational",
            description=f"{reply.monitors} monitor{'s' if reply.monitors != 1 else ''} watched, no problems.",
            colour=COLOUR_RESOLVED,
            timestamp=reply.now,
        )
    status = max((v.status for v in reply.problems), key=lambda s: s.rank, default=Status.UNKNOWN)
    if reply.open_incidents:
        status = max([status, *(i.severity for i in reply.open_incidents)], key=lambda s: s.rank)
    embed = discord.Embed(
        title=f"{_SEVERITY_ICON.get(status, '⚪')} {len(reply.problems)} problem{'s' if len(reply.problems) != 1 else ''} "
        f"across {reply.monitors} monitors",
        colour=_SEVERITY_COLOUR.get(status, COLOUR_NOTICE),
        timestamp=reply.now,
    )
    lines = [_component_line(v, with_monitor=True) for v in reply.problems]
    if reply.unreadable:
        lines.append("Cannot read: " + ", ".join(fit(m, 100) for m in reply.unreadable))
    _lines_embed(embed, lines, "components")
    _incident_fields(embed, reply.open_incidents, reply.now, "open incidents")
    return embed


def _incident_fields(embed: discord.Embed, incidents: tuple[IncidentView, ...], now: datetime, label: str) -> None:
    """One field per incident while the embed has room, then "…and N more <label>"."""
    builder = _Builder(embed, reserve=_reserve())
    shown = 0
    for incident in incidents:
        if not builder.add(*_incident_field(incident, now)):
            break
        shown += 1
    builder.more(len(incidents) - shown, label)


def _target(reply: TargetReport) -> discord.Embed:
    kind = "monitor" if reply.is_monitor else f"component of {fit(reply.monitor, 100)}"
    embed = discord.Embed(
        title=clip(f"{_SEVERITY_ICON.get(reply.status, '⚪')} {fit(reply.name, 200)}: {reply.status.label}", TITLE_MAX),
        colour=_SEVERITY_COLOUR.get(reply.status, COLOUR_NOTICE),
        timestamp=reply.now,
    )
    lines = [f"({kind})" + (f" since {ts(reply.since)}" if reply.since else "")]
    lines += [_uptime_line(u) for u in reply.uptime]
    if reply.probes:
        lines.append(probe_summary(reply.probes))
    lines += [_component_line(v, with_monitor=False) for v in reply.components]
    _lines_embed(embed, lines, "components")
    _incident_fields(embed, reply.incidents, reply.now, "incidents")
    return embed


def _incidents(reply: IncidentList) -> discord.Embed:
    title = f"Last {len(reply.incidents)} incident{'s' if len(reply.incidents) != 1 else ''}"
    if reply.target:
        title += f" for {fit(reply.target, 150)}"
    if reply.since:
        title += f" since {reply.since:%Y-%m-%d}"
    embed = discord.Embed(title=clip(title, TITLE_MAX), colour=COLOUR_NOTICE, timestamp=reply.now)
    if not reply.incidents:
        embed.description = "No incidents recorded."
        return embed
    _incident_fields(embed, reply.incidents, reply.now, "incidents")
    return embed


def _uptime(reply: UptimeReport) -> discord.Embed:
    embed = discord.Embed(title=f"Uptime over {window_label(reply.window)}", colour=COLOUR_NOTICE, timestamp=reply.now)
    if not reply.rows:
        embed.description = "No monitors configured."
        return embed
    lines = [f"{fit(name, 200)} — {_uptime_line(uptime).split(': ', 1)[1]}" for name, uptime in reply.rows]
    return _lines_embed(embed, lines, "monitors")


def render_usage(usage: Usage) -> discord.Embed:
    """Help or a short error, with 'did you mean' suggestions."""
    text = fit(usage.message, 1500) if usage.is_error else USAGE
    if usage.suggestions:
        text += "\nDid you mean: " + ", ".join(f"`{s[:100].replace('`', 'ˋ')}`" for s in usage.suggestions[:5]) + "?"
    if usage.is_error:
        text += "\n\n" + USAGE
    return discord.Embed(
        title="Usage" if not usage.is_error else "Sorry",
        description=clip(text, DESCRIPTION_MAX),
        colour=COLOUR_NOTICE,
    )


def render_reply(reply: Reply) -> list[discord.Embed]:
    """Embeds answering a status command (one today; a list so long answers can grow)."""
    if isinstance(reply, Overview):
        return [_overview(reply)]
    if isinstance(reply, TargetReport):
        return [_target(reply)]
    if isinstance(reply, IncidentList):
        return [_incidents(reply)]
    if isinstance(reply, UptimeReport):
        return [_uptime(reply)]
    return [render_usage(reply)]


def within_limits(embed: discord.Embed) -> list[str]:
    """Which of Discord's embed limits `embed` breaks (empty when it is valid)."""
    problems = []
    if len(embed.title or "") > TITLE_MAX:
        problems.append("title")
    if len(embed.description or "") > DESCRIPTION_MAX:
        problems.append("description")
    if len(embed.fields) > FIELDS_MAX:
        problems.append("field count")
    for field in embed.fields:
        if len(field.name or "") > FIELD_NAME_MAX or len(field.value or "") > FIELD_VALUE_MAX:
            problems.append(f"field {field.name!r}")
    if len(embed.footer.text or "") > FOOTER_MAX:
        problems.append("footer")
    if len(embed) > TOTAL_MAX:
        problems.append("total")
    return problems
