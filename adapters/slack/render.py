"""Pure Block Kit rendering of Alerts and Replies for Slack: (fallback text, blocks), within Slack's limits.

Every piece of provider or user text goes through `escape` before it lands in mrkdwn, so an incident
titled `<!channel>` is shown, never obeyed. Only the configured mention is passed through unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.model import (
    AffectedComponent,
    Alert,
    AlertKind,
    ComponentView,
    IncidentList,
    IncidentView,
    Overview,
    ProviderIncident,
    Reply,
    Status,
    TargetReport,
    Uptime,
    UptimeReport,
    Usage,
)
from bot.text import all_operational, format_duration, probe_summary

Block = dict[str, Any]

# ---------------------------------------------------------------- Slack's documented limits

# https://docs.slack.dev/reference/block-kit/blocks — "up to 50 blocks in each message"
MAX_BLOCKS = 50
# https://docs.slack.dev/reference/block-kit/blocks/section-block — text: max 3000 characters
SECTION_TEXT_LIMIT = 3000
# https://docs.slack.dev/reference/block-kit/blocks/header-block — plain_text: max 150 characters
HEADER_TEXT_LIMIT = 150
# https://docs.slack.dev/reference/block-kit/blocks/context-block — elements: max 10 items
CONTEXT_ELEMENTS_LIMIT = 10
# https://docs.slack.dev/reference/methods/chat.postMessage — `text` is truncated past 40,000 characters,
# but chat.update's documented `msg_too_long` error says its `text` "cannot exceed 4,000 characters",
# and the parent is edited with the same text, so we keep the fallback under the stricter limit.
MESSAGE_TEXT_HARD_LIMIT = 40_000
MESSAGE_TEXT_LIMIT = 4_000
# Slack refuses messages whose blocks carry ~13k characters in total (`msg_blocks_too_long`, undocumented;
# https://github.com/slackapi/bolt-js/issues/2509), so we budget all block text well under that.
BLOCKS_TEXT_BUDGET = 11_000

MAX_COMPONENT_LINES = 40  # components listed by name in an alert; the rest become "…and N more"
MAX_PROVIDER_INCIDENTS = 3
MAX_UPDATE_CHARS = 600  # of the provider's latest update
MAX_LIST_LINES = 60  # lines in one command answer

ELLIPSIS = "…"

EMOJI = {
    Status.MAJOR: "🔴",
    Status.PARTIAL: "🟠",
    Status.DEGRADED: "🟡",
    Status.MAINTENANCE: "🔧",
    Status.UNKNOWN: "❔",
    Status.OPERATIONAL: "✅",
}
NOTICE_EMOJI = "ℹ️"


# ---------------------------------------------------------------- small pure helpers


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (&, <, >): no pings, no links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    # never leave half an escape entity (&am…) at the end
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp <= 5:
        cut = cut[:amp]
    return cut + ELLIPSIS




def slack_date(at: datetime, token: str = "{date_short_pretty} {time}") -> str:
    """Slack's `<!date^…>` formatting (shown in each reader's time zone) with an ISO UTC fallback.

    https://docs.slack.dev/messaging/formatting-message-text#date-formatting
    """
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(aware.timestamp())}^{token}|{fallback}>"


def plain_date(at: datetime) -> str:
    """ISO-ish UTC time for plain_text and fallback text, where `<!date>` is not rendered."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_MENTION = re.compile(r"^<(?:!here|!channel|!everyone|!subteam\^[A-Z0-9]+(?:\|[^<>]*)?|@[UW][A-Z0-9]+)>$")


def mention_text(mention: str | None) -> str:
    """The configured mention as Slack syntax; anything that is not a Slack mention token is escaped."""
    if not mention:
        return ""
    mention = mention.strip()
    return mention if _MENTION.match(mention) else escape(mention)


def _safe_url(url: str | None) -> str | None:
    """An http(s) URL usable inside `<url|label>`, or None."""
    if not url or not url.startswith(("https://", "http://")) or any(c in url for c in "<>| \n"):
        return None
    return url.replace("&", "&amp;")


def _label(text: str) -> str:
    """Escaped text usable as a link label (no `|`)."""
    return escape(text.replace("|", "¦"))


def header(text: str) -> Block:
    # plain_text is never parsed for mentions or links, so it is not escaped (escaping would show "&lt;")
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_TEXT_LIMIT), "emoji": True}}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_LIMIT)}}


def context(*texts: str) -> Block:
    elements = [{"type": "mrkdwn", "text": truncate(t, 2000)} for t in texts if t][:CONTEXT_ELEMENTS_LIMIT]
    return {"type": "context", "elements": elements}


def pack_lines(lines: list[str], *, max_sections: int, more: str = "…and {n} more") -> list[Block]:
    """Pack lines into as few section blocks as fit; what does not fit becomes one "…and N more" line."""
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    reserve = len(more) + 12  # room for the "…and N more" line
    for index, raw in enumerate(lines):
        line = truncate(raw, SECTION_TEXT_LIMIT - reserve - 1)
        if current and size + len(line) + 1 > SECTION_TEXT_LIMIT - reserve:
            if len(blocks) + 1 >= max_sections:
                current.append(more.format(n=len(lines) - index))
                blocks.append(section("\n".join(current)))
                return blocks
            blocks.append(section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


def _fit(blocks: list[Block]) -> list[Block]:
    """Enforce the message-wide limits: at most MAX_BLOCKS blocks and BLOCKS_TEXT_BUDGET characters."""
    kept: list[Block] = []
    total = 0
    for block in blocks[:MAX_BLOCKS]:
        size = _block_chars(block)
        if total + size > BLOCKS_TEXT_BUDGET:
            kept.append(context(f"{ELLIPSIS} {len(blocks) - len(kept)} more block(s) left out (message too long)"))
            break
        kept.append(block)
        total += size
    return kept[:MAX_BLOCKS]


def _block_chars(block: Block) -> int:
    if "text" in block:
        return len(block["text"]["text"])
    return sum(len(e.get("text", "")) for e in block.get("elements", ()))


def _text(lines: Iterable[str]) -> str:
    return truncate("\n".join(line for line in lines if line), MESSAGE_TEXT_LIMIT)


# ---------------------------------------------------------------- alerts


def alert_title(alert: Alert) -> str:
    """'🔴 OpenAI — major outage' / '✅ OpenAI — resolved after 1h 12m' (plain, unescaped)."""
    if alert.kind is AlertKind.RESOLVED:
        return f"{EMOJI[Status.OPERATIONAL]} {alert.monitor} — resolved after {format_duration(alert.duration)}"
    return f"{EMOJI[alert.severity]} {alert.monitor} — {alert.severity.label}"


def _component_line(component: AffectedComponent, *, resolved: bool) -> str:
    emoji = EMOJI[Status.OPERATIONAL] if resolved else EMOJI[component.status]
    state = "recovered" if resolved else component.status.label
    flapping = " _(flapping)_" if component.flapping else ""
    return f"{emoji} *{escape(component.name)}* — {state}{flapping} · since {slack_date(component.since, '{time}')}"


def _affected_summary(alert: Alert) -> str:
    n = len(alert.components)
    if alert.total_components:
        return f"{n} of {alert.total_components} components affected"
    return f"{n} component{'s' if n != 1 else ''} affected"


def _provider_incident_text(incident: ProviderIncident) -> str:
    url = _safe_url(incident.url)
    title = f"<{url}|{_label(incident.title)}>" if url else escape(incident.title)
    line = f"*{title}* — _{escape(incident.status)}_"
    if incident.impact and incident.impact != "none":
        line += f" · impact {escape(incident.impact)}"
    if incident.latest_update:
        update = truncate(" ".join(incident.latest_update.split()), MAX_UPDATE_CHARS)
        when = f" ({slack_date(incident.updated_at, '{time}')})" if incident.updated_at else ""
        line += f"\n>{escape(update)}{when}"
    return line


def _notice(alert: Alert) -> tuple[str, str]:
    """(headline, detail) for notices: about the bot's ability to see, never "X is down"."""
    monitor = alert.monitor
    if alert.kind is AlertKind.SOURCE_UNREADABLE:
        head = f"Cannot read the status source of {monitor}; its state is unknown until it can be read again"
    elif alert.kind is AlertKind.SOURCE_READABLE:
        head = f"The status source of {monitor} can be read again"
    elif alert.kind is AlertKind.NETWORK_DOWN:
        head = "downwatch itself cannot reach the network; no service is judged until it can again"
    else:
        head = "downwatch can reach the network again; checks resumed"
    return head, alert.change


def render_alert(alert: Alert, *, mention: str | None = None) -> tuple[str, list[Block]]:
    """The parent message for an alert (post and edit): fallback text and blocks."""
    if alert.is_notice:
        head, detail = _notice(alert)
        lines = [f"{NOTICE_EMOJI} {escape(head)}."]
        if detail:
            lines.append(escape(detail))
        notice = [section("\n".join(lines)), context(f"downwatch notice · {slack_date(alert.at)}")]
        return _text([f"{NOTICE_EMOJI} {escape(head)}.", escape(detail)]), _fit(notice)

    resolved = alert.kind is AlertKind.RESOLVED
    title = alert_title(alert)
    ping = "" if resolved else mention_text(mention)
    blocks: list[Block] = []
    if ping:
        blocks.append(section(ping))
    blocks.append(header(title))

    summary = [f"*{_affected_summary(alert)}*" if not resolved else f"Was: *{alert.severity.label}*"]
    summary.append(f"Started {slack_date(alert.started_at)}")
    if resolved and alert.resolved_at:
        summary.append(f"resolved {slack_date(alert.resolved_at)} (after {format_duration(alert.duration)})")
    else:
        summary.append(f"ongoing for {format_duration(alert.duration)}")
    blocks.append(section(" · ".join(summary)))

    if alert.components:
        shown = alert.components[:MAX_COMPONENT_LINES]
        lines = [_component_line(c, resolved=resolved) for c in shown]
        hidden = len(alert.components) - len(shown)
        if hidden:
            lines.append(f"…and {hidden} more")
        blocks.extend(pack_lines(lines, max_sections=4))

    incidents = alert.provider_incidents[:MAX_PROVIDER_INCIDENTS]
    for incident in incidents:
        blocks.append(section(_provider_incident_text(incident)))
    if len(alert.provider_incidents) > len(incidents):
        blocks.append(section(f"…and {len(alert.provider_incidents) - len(incidents)} more provider incidents"))

    blocks.append(context(f"downwatch · {escape(alert.monitor)}", f"updated {slack_date(alert.at)}"))

    names = ", ".join(c.name for c in alert.components[:10])
    more = f" and {len(alert.components) - 10} more" if len(alert.components) > 10 else ""
    text_lines = [
        f"{ping} {escape(title)}".strip(),
        "" if resolved else f"{_affected_summary(alert)}: {escape(names)}{more}" if names else "",
        f"{escape(alert.provider_incidents[0].title)} ({escape(alert.provider_incidents[0].status)})"
        if alert.provider_incidents
        else "",
        f"Started {plain_date(alert.started_at)}",
    ]
    return _text(text_lines), _fit(blocks)


def change_line(alert: Alert) -> str:
    """The short thread line for an alert (unescaped): `alert.change`, or a default wording per kind."""
    if alert.change:
        return alert.change
    if alert.kind is AlertKind.RESOLVED:
        return f"Recovered after {format_duration(alert.duration)}"
    if alert.kind is AlertKind.REMINDER:
        return f"Still ongoing after {format_duration(alert.duration)}"
    if alert.kind is AlertKind.OPENED:
        return f"{alert.severity.label.capitalize()} started"
    return f"Now {alert.severity.label}: {_affected_summary(alert)}"


def render_change(alert: Alert, *, mention: str | None = None) -> tuple[str, list[Block]]:
    """The threaded reply for an alert: one short line (led by the configured mention when given)."""
    if alert.is_notice:
        emoji = NOTICE_EMOJI
    elif alert.kind is AlertKind.RESOLVED:
        emoji = EMOJI[Status.OPERATIONAL]
    elif alert.kind is AlertKind.REMINDER:
        emoji = "⏳"
    else:
        emoji = EMOJI[alert.severity]
    ping = mention_text(mention)
    line = (f"{ping} " if ping else "") + f"{emoji} {escape(change_line(alert))}"
    return truncate(line, MESSAGE_TEXT_LIMIT), [section(truncate(line, SECTION_TEXT_LIMIT))]


# ---------------------------------------------------------------- replies to /status


APOLOGY = "Sorry, something went wrong while answering. The error was logged; please try again in a minute."


def _since(since: datetime | None, now: datetime) -> str:
    return f" for {format_duration(now - since)}" if since else ""


def _percent(uptime: Uptime) -> str:
    if uptime.percent is None:
        return "no data"
    value = f"{uptime.percent:.2f}".rstrip("0").rstrip(".")
    return f"{value}%"


def _window(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d" if hours >= 24 and hours % 24 == 0 and hours != 24 else f"{hours}h"


def _incident_line(incident: IncidentView, now: datetime) -> str:
    ongoing = incident.resolved_at is None
    emoji = EMOJI[incident.severity] if ongoing else EMOJI[Status.OPERATIONAL]
    duration = format_duration(incident.duration(now))
    lasted = f"ongoing for {duration}" if ongoing else f"lasted {duration}"
    line = f"{emoji} *{escape(incident.monitor)}* — {incident.severity.label} · {slack_date(incident.started_at)} · {lasted}"
    if incident.components:
        names = ", ".join(incident.components[:5])
        more = f" +{len(incident.components) - 5}" if len(incident.components) > 5 else ""
        line += f" · {escape(names)}{more}"
    if incident.title:
        line += f"\n      _{escape(truncate(incident.title, 200))}_"
    return line


def _component_view_line(view: ComponentView, now: datetime) -> str:
    detail = f" ({escape(truncate(view.detail, 120))})" if view.detail else ""
    return f"  {EMOJI[view.status]} {escape(view.name)} — {view.status.label}{_since(view.since, now)}{detail}"


def _answer(lines: list[str]) -> tuple[str, list[Block]]:
    """Lines → (text, blocks) within the limits."""
    capped = lines[:MAX_LIST_LINES]
    if len(lines) > MAX_LIST_LINES:
        capped.append(f"…and {len(lines) - MAX_LIST_LINES} more")
    return _text(capped), _fit(pack_lines(capped, max_sections=MAX_BLOCKS))


def _overview(reply: Overview) -> tuple[str, list[Block]]:
    if reply.all_operational:
        line = f"{EMOJI[Status.OPERATIONAL]} {all_operational(reply.monitors)}"
        return line, [section(line)]
    lines = [f"*{reply.monitors} monitors* · {len(reply.problems)} component(s) not operational"]
    if reply.open_incidents:
        lines.append("*Open incidents*")
        lines += [_incident_line(i, reply.now) for i in reply.open_incidents]
    by_monitor: dict[str, list[ComponentView]] = {}
    for view in reply.problems:
        by_monitor.setdefault(view.monitor, []).append(view)
    for monitor, views in by_monitor.items():
        lines.append(f"*{escape(monitor)}*")
        lines += [_component_view_line(v, reply.now) for v in views]
    if reply.unreadable:
        lines.append(f"{EMOJI[Status.UNKNOWN]} Cannot read: {escape(', '.join(reply.unreadable))}")
    return _answer(lines)


def _target(reply: TargetReport) -> tuple[str, list[Block]]:
    kind = "monitor" if reply.is_monitor else f"component of {escape(reply.monitor)}"
    lines = [
        f"{EMOJI[reply.status]} *{escape(reply.name)}* ({kind}) — {reply.status.label}{_since(reply.since, reply.now)}"
    ]
    if reply.uptime:
        lines.append("Uptime: " + " · ".join(f"{_window(u.window)} {_percent(u)}" for u in reply.uptime))
    if reply.probes:
        lines.append(probe_summary(reply.probes))
    if reply.components:
        lines.append("*Not operational*")
        lines += [_component_view_line(v, reply.now) for v in reply.components]
    if reply.incidents:
        lines.append("*Last incidents*")
        lines += [_incident_line(i, reply.now) for i in reply.incidents]
    else:
        lines.append("No incidents recorded.")
    return _answer(lines)


def _incidents(reply: IncidentList) -> tuple[str, list[Block]]:
    scope = f" for {escape(reply.target)}" if reply.target else ""
    if not reply.incidents:
        line = f"No incidents recorded{scope}."
        return line, [section(line)]
    lines = [f"*Last {len(reply.incidents)} incident{'s' if len(reply.incidents) != 1 else ''}{scope}*"]
    lines += [_incident_line(i, reply.now) for i in reply.incidents]
    return _answer(lines)


def _uptime(reply: UptimeReport) -> tuple[str, list[Block]]:
    lines = [f"*Uptime over the last {_window(reply.window)}*"]
    for name, uptime in reply.rows:
        extra = f" · {uptime.incidents} incident(s)" if uptime.incidents else ""
        if uptime.mttr is not None:
            extra += f" · MTTR {format_duration(uptime.mttr)}"
        lines.append(f"• {escape(name)} — {_percent(uptime)}{extra}")
    if not reply.rows:
        lines.append("No monitors configured.")
    return _answer(lines)


def _usage(reply: Usage) -> tuple[str, list[Block]]:
    message = reply.message
    head, sep, usage = message.partition("Usage:")
    parts: list[str] = []
    if head.strip():
        parts.append(("⚠️ " if reply.is_error else "") + escape(head.strip()))
    if sep:
        parts.append("```" + escape(sep + usage.rstrip()) + "```")
    if reply.suggestions:
        parts.append("Did you mean: " + ", ".join(f"`{escape(s)}`" for s in reply.suggestions) + "?")
    return _text(parts), [section(p) for p in parts][:MAX_BLOCKS]


def render_reply(reply: Reply) -> tuple[str, list[Block]]:
    """A command's answer as (fallback text, blocks)."""
    if isinstance(reply, Overview):
        return _overview(reply)
    if isinstance(reply, TargetReport):
        return _target(reply)
    if isinstance(reply, IncidentList):
        return _incidents(reply)
    if isinstance(reply, UptimeReport):
        return _uptime(reply)
    return _usage(reply)


def render_apology() -> tuple[str, list[Block]]:
    """What the user sees when answering failed: short, no stack trace."""
    return APOLOGY, [section(APOLOGY)]
