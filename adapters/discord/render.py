"""Pure Discord rendering: Alerts and Replies → embeds that stay within Discord's documented limits.

Provider and user text is escaped for Discord markdown and mentions; senders also pass
AllowedMentions.none(), so a status page saying "@everyone" can never ping anyone.
"""

from __future__ import annotations

from datetime import datetime

import discord
from discord.utils import escape_markdown, escape_mentions

from adapters import buttons
from bot import wording
from bot.model import (
    ActionResult,
    Alert,
    AlertKind,
    AlternativesReport,
    ComponentView,
    Digest,
    DigestRow,
    IncidentList,
    IncidentView,
    MaintenanceReport,
    MutesReport,
    Overview,
    Reply,
    Status,
    TargetReport,
    UptimeReport,
    Usage,
)

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
MAX_PROVIDER_INCIDENTS = 3  # the same as Slack's: more become "…and N more provider incidents"
MAX_UPDATE_CHARS = 600  # of the provider's latest update


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


def ts(at: datetime, style: str = "f") -> str:
    """A Discord timestamp, shown in each reader's time zone (`f` date and time, `t` time, `R` relative)."""
    return f"<t:{int(at.timestamp())}:{style}>"


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
        self.add("\u200b", wording.more(count, what))


def _reserve() -> int:
    return len("\u200b") + len(wording.more(99999, "provider incidents"))


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
    return fit(wording.headline(alert), TITLE_MAX)


def _time(at: datetime) -> str:
    return ts(at, "t")


def render_alert(alert: Alert) -> discord.Embed:
    """The parent message embed for an alert's current snapshot."""
    if alert.digest is not None:  # the weekly digest (issue 12): a message of its own
        return render_digest(alert.digest)
    embed = discord.Embed(title=alert_title(alert), colour=alert_colour(alert), timestamp=alert.at)
    # Footers show no markdown: plain text, and Discord prints the embed's timestamp after "updated".
    embed.set_footer(text=clip(f"{wording.footer(alert)} · {wording.UPDATED}", FOOTER_MAX))
    lines: list[str] = []
    if alert.is_notice:
        lines.append(escape(wording.notice_text(alert)))
        detail = wording.notice_detail(alert)
        if detail:
            lines.append(fit(detail, 1000))
        embed.description = clip("\n".join(lines), DESCRIPTION_MAX)
        return embed

    resolved = alert.kind is AlertKind.RESOLVED
    summary = wording.was(alert) if resolved else wording.affected(alert)
    lines.append(f"**{escape(summary)}** · {wording.timing(alert, ts)}")
    for incident in alert.provider_incidents[:MAX_PROVIDER_INCIDENTS]:
        title = fit(incident.title, 200)
        if incident.url and incident.url.startswith("https://"):
            title = f"[{title}]({incident.url.replace(')', '%29')})"
        lines.append(f"**{title}** — *{fit(wording.provider_state(incident), 80)}*")
        if incident.latest_update:
            when = f" ({_time(incident.updated_at)})" if incident.updated_at else ""
            lines.append("> " + fit(wording.provider_update(incident), MAX_UPDATE_CHARS) + when)
    if len(alert.provider_incidents) > MAX_PROVIDER_INCIDENTS:
        lines.append(escape(wording.more_provider_incidents(len(alert.provider_incidents) - MAX_PROVIDER_INCIDENTS)))
    watch = wording.watch_line(alert)
    if watch:
        lines.append(escape(fit(watch, 600)))
    alternatives = wording.alternatives_line(alert.alternatives)
    if alternatives:
        lines.append(fit(alternatives, 1000))
    lines += [f"*{fit(line, 600)}*" for line in operation_lines(alert)]
    embed.description = clip("\n".join(lines), DESCRIPTION_MAX)

    builder = _Builder(embed, reserve=_reserve())
    shown = 0
    for component in alert.components:
        name = f"{wording.component_icon(component, resolved=resolved)} {fit(component.name, FIELD_NAME_MAX - 10)}"
        value = f"{escape(wording.component_state(component, resolved=resolved))} · {wording.since(component.since, _time)}"
        if not builder.add(name, value, inline=True):
            break
        shown += 1
    builder.more(len(alert.components) - shown, "components")
    return embed


# ---------------------------------------------------------------- operations (issue 12): who acted, buttons

# https://discord.com/developers/docs/components/reference#button — custom_id max 100 characters, label max 80
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
CUSTOM_ID_PREFIX = "downwatch"  # custom_id = "downwatch:<verb>:<sha1(incident id)[:16]>"

def operation_lines(alert: Alert) -> list[str]:
    """'Acknowledged by @alice 14:02 UTC', 'Muted by @bob until 15:02 UTC' (plain); empty when nobody acted."""
    return [line for line in (wording.acknowledged_line(alert), wording.muted_line(alert)) if line]


def custom_id(verb: buttons.Verb, incident_id: str) -> str:
    """A button's id: stable across restarts, and short whatever the incident id (a hash of it)."""
    return f"{CUSTOM_ID_PREFIX}:{verb.value}:{buttons.incident_hash(incident_id)}"


def parse_custom_id(text: str) -> tuple[buttons.Verb, str] | None:
    """(verb, incident hash) from one of our custom_ids; None for anything else."""
    prefix, _, rest = text.partition(":")
    verb_text, _, incident = rest.partition(":")
    verb = buttons.verb_of(verb_text)
    if prefix != CUSTOM_ID_PREFIX or verb is None or not incident or len(text) > CUSTOM_ID_MAX:
        return None
    return verb, incident


class Buttons(discord.ui.View):
    """The action row under an alert. Clicks are answered by the adapter's component handler, which reads
    the custom_id (so they work after a restart): discord.py must not keep this view in its in-memory store
    (it stores views it can dispatch; this one dispatches nothing itself)."""

    def __init__(self, shown: tuple[buttons.Button, ...], incident_id: str) -> None:
        super().__init__(timeout=None)
        for button in shown:
            style = (discord.ButtonStyle.primary if button.primary else discord.ButtonStyle.danger if button.danger
                     else discord.ButtonStyle.secondary)
            self.add_item(discord.ui.Button(style=style, label=clip(button.label, BUTTON_LABEL_MAX),
                                            custom_id=custom_id(button.verb, incident_id)))

    def is_dispatchable(self) -> bool:
        return False


def render_buttons(alert: Alert) -> Buttons | None:
    """The alert's buttons as one action row (None when it shows none: the edit then removes them)."""
    shown = buttons.buttons(alert)
    return Buttons(shown, alert.incident_id) if shown else None


def render_change(alert: Alert) -> str:
    """The short thread line for an alert's change (message content, not an embed)."""
    return clip(f"{wording.line_icon(alert)} {fit(wording.change_line(alert), CONTENT_MAX - 100)}", CONTENT_MAX)


def render_channel_change(alert: Alert) -> str:
    """The change line as a channel message of its own (no thread to hold it): led by the monitor's name."""
    return clip(f"↪ **{fit(alert.monitor or 'downwatch', 200)}** · {render_change(alert)}", CONTENT_MAX - 40)


def thread_name(alert: Alert) -> str:
    """Name of the thread started from an incident's parent message (plain text, no markdown)."""
    return clip(wording.thread_name(alert), THREAD_NAME_MAX)


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


def _component_line(view: ComponentView, now: datetime, *, with_monitor: bool) -> str:
    return f"{wording.icon(view.status)} {fit(wording.component_view(view, now, with_monitor=with_monitor), 400)}"


def _incident_field(incident: IncidentView, now: datetime) -> tuple[str, str]:
    name = f"{wording.incident_icon(incident)} {fit(wording.incident_head(incident), 200)}"
    lines = [wording.incident_timing(incident, now, ts)]
    components = wording.incident_components(incident)
    if components:
        lines.append(fit(components, 600))
    if incident.title:
        lines.append(f"*{fit(incident.title, 200)}*")
    return name, "\n".join(lines)


def _lines_embed(embed: discord.Embed, lines: list[str], what: str = "") -> discord.Embed:
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
        text += "\n" + wording.more(len(lines) - len(kept), what)
    embed.description = text
    return embed


def _bold(text: str) -> str:
    return f"**{escape(text)}**"


def _overview(reply: Overview) -> discord.Embed:
    status = max([v.status for v in reply.problems] + [i.severity for i in reply.open_incidents],
                 key=lambda s: s.rank, default=Status.OPERATIONAL if reply.all_operational else Status.UNKNOWN)
    embed = discord.Embed(
        title=clip(f"{wording.overview_icon(reply)} {escape(wording.overview_headline(reply))}", TITLE_MAX),
        colour=_SEVERITY_COLOUR.get(status, COLOUR_NOTICE),
        timestamp=reply.now,
    )
    quiet = [fit(line, 400) for line in wording.quiet_lines(reply.maintenance, None, reply.now)]  # issue 12
    if reply.all_operational:
        return _lines_embed(embed, quiet, "lines") if quiet else embed
    lines: list[str] = [*quiet]
    if reply.problems:
        lines.append(_bold(wording.NOT_OPERATIONAL))
        lines += [_component_line(v, reply.now, with_monitor=True) for v in reply.problems]
    if reply.unreadable:
        lines.append(f"{wording.icon(Status.UNKNOWN)} {fit(wording.cannot_read(reply.unreadable), 1000)}")
    if reply.open_incidents:
        lines.append(_bold(wording.OPEN_INCIDENTS))
    _lines_embed(embed, lines, "lines")
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
    embed = discord.Embed(
        title=clip(f"{wording.icon(reply.status)} {fit(wording.target_head(reply), 200)}", TITLE_MAX),
        colour=_SEVERITY_COLOUR.get(reply.status, COLOUR_NOTICE),
        timestamp=reply.now,
    )
    lines = [f"({fit(wording.target_kind(reply), 200)})"]
    lines += [fit(line, 400) for line in wording.quiet_lines(reply.maintenance, reply.muted, reply.now)]  # issue 12
    if reply.uptime:
        lines.append(_bold(wording.UPTIME))
        lines += [escape(wording.uptime_line(u)) for u in reply.uptime]
    if reply.probes:
        lines.append(escape(wording.probe_summary(reply.probes)))
    lines += [escape(fit(wording.lead_line(stats), 400)) for stats in reply.leads]
    if reply.components:
        lines.append(_bold(wording.NOT_OPERATIONAL))
        lines += [_component_line(v, reply.now, with_monitor=False) for v in reply.components]
    if reply.timeline:
        lines.append(_bold(wording.TIMELINE))
        lines += [fit(wording.timeline_line(e), 400) for e in reply.timeline]
    lines.append(_bold(wording.LAST_INCIDENTS) if reply.incidents else escape(wording.no_incidents()))
    _lines_embed(embed, lines, "lines")
    _incident_fields(embed, reply.incidents, reply.now, "incidents")
    return embed


def _incidents(reply: IncidentList) -> discord.Embed:
    embed = discord.Embed(title=fit(wording.incident_list_headline(reply), TITLE_MAX), colour=COLOUR_NOTICE,
                          timestamp=reply.now)
    _incident_fields(embed, reply.incidents, reply.now, "incidents")
    return embed


def _uptime(reply: UptimeReport) -> discord.Embed:
    embed = discord.Embed(title=escape(wording.uptime_headline(reply)), colour=COLOUR_NOTICE, timestamp=reply.now)
    if not reply.rows:
        embed.description = escape(wording.NO_MONITORS)
        return embed
    leads = [escape(fit(wording.lead_line(stats), 400)) for stats in reply.leads]
    embed.description = "\n".join(leads)  # before the rows, which are cut first
    return _lines_embed(embed, [fit(wording.uptime_row(name, uptime), 400) for name, uptime in reply.rows], "monitors")


def _alternatives(reply: AlternativesReport) -> discord.Embed:
    return discord.Embed(
        title=clip(f"{wording.icon(reply.status)} {fit(wording.alternatives_head(reply), 200)}", TITLE_MAX),
        description=fit(wording.alternatives_answer(reply), 2000),
        colour=_SEVERITY_COLOUR.get(reply.status, COLOUR_NOTICE),
        timestamp=reply.now,
    )


def render_usage(usage: Usage) -> discord.Embed:
    """Help or a short error, with 'did you mean' suggestions."""
    head, sep, rest = usage.message.partition(wording.USAGE_HEADER)
    parts: list[str] = []
    if head.strip():
        parts.append((f"{wording.WARNING_ICON} " if usage.is_error else "") + fit(head.strip(), 1500))
    if sep:
        parts.append("```\n" + (sep + rest.rstrip()).replace("```", "ˋˋˋ")[:2000] + "\n```")
    if usage.suggestions:
        parts.append(fit(wording.did_you_mean([s[:100] for s in usage.suggestions[:5]]), 700))
    return discord.Embed(description=clip("\n".join(parts), DESCRIPTION_MAX), colour=COLOUR_NOTICE)


def _action_result(reply: ActionResult) -> discord.Embed:
    text = (f"{wording.WARNING_ICON} " if reply.is_error else "") + fit(reply.text, 1500)
    colour = COLOUR_PARTIAL if reply.is_error else COLOUR_RESOLVED if reply.changed else COLOUR_NOTICE
    return discord.Embed(description=clip(text, DESCRIPTION_MAX), colour=colour)


def _mutes(reply: MutesReport) -> discord.Embed:
    embed = discord.Embed(title=fit(wording.mutes_headline(len(reply.mutes)), TITLE_MAX), colour=COLOUR_NOTICE,
                          timestamp=reply.now)
    return _lines_embed(embed, [fit(wording.mute_row(view, reply.now), 400) for view in reply.mutes], "mutes")


def _maintenance(reply: MaintenanceReport) -> discord.Embed:
    embed = discord.Embed(title=fit(wording.maintenance_headline(reply), TITLE_MAX), colour=COLOUR_MAINTENANCE,
                          timestamp=reply.now)
    lines: list[str] = []
    if reply.active:
        lines.append(_bold(wording.MAINTENANCE_NOW))
        lines += [fit(wording.maintenance_row(view, reply.now), 400) for view in reply.active]
    if reply.upcoming:
        lines.append(_bold(wording.MAINTENANCE_NEXT))
        lines += [fit(wording.maintenance_row(view, reply.now), 400) for view in reply.upcoming]
    return _lines_embed(embed, lines, "windows")


def render_reply(reply: Reply) -> list[discord.Embed]:
    """Embeds answering a status command (one today; a list so long answers can grow)."""
    if isinstance(reply, ActionResult):
        return [_action_result(reply)]
    if isinstance(reply, MutesReport):
        return [_mutes(reply)]
    if isinstance(reply, MaintenanceReport):
        return [_maintenance(reply)]
    if isinstance(reply, Overview):
        return [_overview(reply)]
    if isinstance(reply, TargetReport):
        return [_target(reply)]
    if isinstance(reply, IncidentList):
        return [_incidents(reply)]
    if isinstance(reply, UptimeReport):
        return [_uptime(reply)]
    if isinstance(reply, AlternativesReport):
        return [_alternatives(reply)]
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


# ---------------------------------------------------------------- digest (issue 12)


def _units(text: str) -> int:
    """Length in UTF-16 code units (each square of the strip is two): never under what Discord counts."""
    return len(text.encode("utf-16-le")) // 2


def _digest_entry(row: DigestRow) -> str:
    lines = [f"{wording.digest_strip(row)}  **{fit(row.monitor, 200)}** — {escape(wording.digest_figures(row))}"]
    lines += [f"\u2003*{fit(extra, 600)}*" for extra in (wording.digest_components(row), wording.digest_lead(row))
              if extra]
    return "\n".join(lines)


def render_digest(digest: Digest) -> discord.Embed:
    """The weekly digest as one embed: the week in the description's first line, then one entry per monitor
    (worst first, a 7-day strip of squares leading each), cut with '…and N more monitors' within the limits."""
    worst = max((d.status for row in digest.rows for d in row.days if d.status is not None),
                key=lambda s: s.rank, default=Status.OPERATIONAL)
    embed = discord.Embed(title=fit(wording.digest_headline(digest), TITLE_MAX),
                          colour=_SEVERITY_COLOUR.get(worst, COLOUR_NOTICE))
    embed.set_footer(text=clip(wording.digest_legend(digest), FOOTER_MAX))
    budget = min(DESCRIPTION_MAX, TOTAL_MAX - _units(embed.title or "") - _units(embed.footer.text or ""))
    lines = [f"**{escape(wording.digest_summary(digest))}**"]
    used = _units(lines[0])
    entries = [_digest_entry(row) for row in digest.rows]
    for index, entry in enumerate(entries):
        rest = len(entries) - index - 1
        tail = _units(wording.more(rest, "monitors")) + 1 if rest else 0
        if used + 1 + _units(entry) + tail > budget:
            lines.append(wording.more(len(entries) - index, "monitors"))
            break
        lines.append(entry)
        used += 1 + _units(entry)
    embed.description = "\n".join(lines)
    return embed
