"""Pure Block Kit rendering of Alerts and Replies for Slack: (fallback text, blocks), within Slack's limits.

Every piece of provider or user text goes through `escape` before it lands in mrkdwn, so an incident
titled `<!channel>` is shown, never obeyed. Only the configured mention is passed through unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from adapters import buttons
from bot import wording
from bot.model import (
    ActionResult,
    AffectedComponent,
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
    ProviderIncident,
    Reply,
    Status,
    TargetReport,
    UptimeReport,
    Usage,
)

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
# https://docs.slack.dev/reference/block-kit/block-elements/button-element — text max 75 characters,
# value max 2000 characters, action_id max 255 characters
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
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

ELLIPSIS = wording.ELLIPSIS


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


def _units(text: str) -> int:
    """Length as Slack may count it, in UTF-16 code units: an emoji (a square of the digest's strip) is two."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, room: int) -> str:
    """`text` cut (with the ellipsis) to `room` UTF-16 code units."""
    cut, size = text, room
    while _units(cut) > room:
        size -= _units(cut) - room
        cut = truncate(text, size)
    return cut


def pack_lines(lines: list[str], *, max_sections: int, what: str = "") -> list[Block]:
    """Pack lines into as few section blocks as fit; what does not fit becomes one "…and N more [what]" line."""
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    room = SECTION_TEXT_LIMIT - _units(wording.more(10**9, what)) - 1  # room for the "…and N more" line
    for index, raw in enumerate(lines):
        line = _cut(raw, room)
        if current and size + _units(line) + 1 > room:
            if len(blocks) + 1 >= max_sections:
                current.append(wording.more(len(lines) - index, what))
                blocks.append(section("\n".join(current)))
                return blocks
            blocks.append(section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += _units(line) + 1
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


def _fit(blocks: list[Block], *, reserve: int = 0) -> list[Block]:
    """Enforce the message-wide limits: at most MAX_BLOCKS blocks and BLOCKS_TEXT_BUDGET characters,
    keeping `reserve` blocks free for what the caller appends (the buttons)."""
    kept: list[Block] = []
    total = 0
    for block in blocks[: MAX_BLOCKS - reserve]:
        size = _block_chars(block)
        if total + size > BLOCKS_TEXT_BUDGET:
            kept.append(context(wording.left_out(len(blocks) - len(kept))))
            break
        kept.append(block)
        total += size
    return kept[: MAX_BLOCKS - reserve]


def _block_chars(block: Block) -> int:
    if "text" in block:
        return len(block["text"]["text"])
    return sum(len(e.get("text", "")) for e in block.get("elements", ()))


def _text(lines: Iterable[str]) -> str:
    return truncate("\n".join(line for line in lines if line), MESSAGE_TEXT_LIMIT)


# ---------------------------------------------------------------- alerts


def alert_title(alert: Alert) -> str:
    """'🔴 OpenAI — major outage' / '✅ OpenAI — resolved after 1h 12m' (plain, unescaped)."""
    return wording.headline(alert)


def _since(at: datetime) -> str:
    return wording.since(at, lambda t: slack_date(t, "{time}"))


def _component_line(component: AffectedComponent, *, resolved: bool) -> str:
    icon = wording.component_icon(component, resolved=resolved)
    state = wording.component_state(component, resolved=resolved)
    return f"{icon} *{escape(component.name)}* — {escape(state)} · {_since(component.since)}"


def _provider_incident_text(incident: ProviderIncident) -> str:
    url = _safe_url(incident.url)
    title = f"<{url}|{_label(incident.title)}>" if url else escape(incident.title)
    line = f"*{title}* — _{escape(wording.provider_state(incident))}_"
    if incident.latest_update:
        update = truncate(wording.provider_update(incident), MAX_UPDATE_CHARS)
        when = f" ({slack_date(incident.updated_at, '{time}')})" if incident.updated_at else ""
        line += f"\n>{escape(update)}{when}"
    return line


def _footer(alert: Alert) -> Block:
    return context(escape(wording.footer(alert)), wording.updated(alert.at, slack_date))


# ---------------------------------------------------------------- operations (issue 12): who acted, buttons

ACTION_PREFIX = "downwatch_"  # action_id = ACTION_PREFIX + adapters.buttons.Verb
ACTIONS_BLOCK_ID = "downwatch_actions"


def action_id(verb: buttons.Verb) -> str:
    return ACTION_PREFIX + verb.value


def button_value(incident_id: str) -> str:
    """The incident a button is about: its id, or its short hash when the id is longer than Slack allows."""
    return incident_id if len(incident_id) <= BUTTON_VALUE_LIMIT else buttons.incident_hash(incident_id)


def operation_lines(alert: Alert) -> list[str]:
    """'Acknowledged by @alice 14:02 UTC', 'Muted by @bob until 15:02 UTC' (plain, unescaped); empty when
    nobody acted."""
    return [line for line in (wording.acknowledged_line(alert), wording.muted_line(alert)) if line]


def actions_block(alert: Alert) -> Block | None:
    """The alert's buttons as a Block Kit actions block (None when it shows none)."""
    shown = buttons.buttons(alert)
    if not shown:
        return None
    elements: list[Block] = []
    for button in shown:
        element: Block = {
            "type": "button",
            "action_id": action_id(button.verb),
            "text": {"type": "plain_text", "text": truncate(button.label, BUTTON_TEXT_LIMIT), "emoji": True},
            "value": button_value(alert.incident_id),
        }
        if button.primary:
            element["style"] = "primary"
        elif button.danger:
            element["style"] = "danger"
        elements.append(element)
    return {"type": "actions", "block_id": ACTIONS_BLOCK_ID, "elements": elements}


def render_alert(alert: Alert, *, mention: str | None = None) -> tuple[str, list[Block]]:
    """The parent message for an alert (post and edit): fallback text and blocks."""
    if alert.digest is not None:  # the weekly digest (issue 12): a message of its own
        return render_digest(alert.digest)
    headline = wording.headline(alert)
    if alert.is_notice:
        detail = wording.notice_detail(alert)
        lines = [f"*{escape(headline)}*", escape(wording.notice_text(alert))]
        if detail:
            lines.append(escape(detail))
        notice = [section("\n".join(lines)), _footer(alert)]
        return _text([escape(headline), escape(wording.notice_text(alert)), escape(detail)]), _fit(notice)

    resolved = alert.kind is AlertKind.RESOLVED
    ping = "" if resolved else mention_text(mention)
    blocks: list[Block] = []
    if ping:
        blocks.append(section(ping))
    blocks.append(header(headline))

    summary = wording.was(alert) if resolved else wording.affected(alert)
    blocks.append(section(f"*{escape(summary)}* · {wording.timing(alert, slack_date)}"))

    if alert.components:
        shown = alert.components[:MAX_COMPONENT_LINES]
        lines = [_component_line(c, resolved=resolved) for c in shown]
        hidden = len(alert.components) - len(shown)
        if hidden:
            lines.append(wording.more(hidden, "components"))
        blocks.extend(pack_lines(lines, max_sections=4))

    incidents = alert.provider_incidents[:MAX_PROVIDER_INCIDENTS]
    for incident in incidents:
        blocks.append(section(_provider_incident_text(incident)))
    if len(alert.provider_incidents) > len(incidents):
        blocks.append(section(wording.more_provider_incidents(len(alert.provider_incidents) - len(incidents))))
    watch = wording.watch_line(alert)
    if watch:
        blocks.append(section(escape(truncate(watch, 600))))
    alternatives = wording.alternatives_line(alert.alternatives)
    if alternatives:
        blocks.append(section(escape(alternatives)))
    operations = operation_lines(alert)
    if operations:
        blocks.append(context(*(escape(line) for line in operations)))

    blocks.append(_footer(alert))

    names = wording.names([c.name for c in alert.components], 10)
    first = alert.provider_incidents[0] if alert.provider_incidents else None
    text_lines = [
        f"{ping} {escape(headline)}".strip(),
        f"{escape(summary)}: {escape(names)}" if names and not resolved else escape(summary),
        f"{escape(first.title)} ({escape(wording.provider_state(first))})" if first else "",
        wording.timing(alert),
        escape(watch),
        escape(alternatives),
        *(escape(line) for line in operations),
    ]
    actions = actions_block(alert)
    if actions is None:
        return _text(text_lines), _fit(blocks)
    return _text(text_lines), [*_fit(blocks, reserve=1), actions]


def change_line(alert: Alert) -> str:
    """The short thread line for an alert (unescaped)."""
    return wording.change_line(alert)


def render_change(alert: Alert, *, mention: str | None = None) -> tuple[str, list[Block]]:
    """The threaded reply for an alert: one short line (led by the configured mention when given)."""
    ping = mention_text(mention)
    line = (f"{ping} " if ping else "") + f"{wording.line_icon(alert)} {escape(wording.change_line(alert))}"
    return truncate(line, MESSAGE_TEXT_LIMIT), [section(truncate(line, SECTION_TEXT_LIMIT))]


# ---------------------------------------------------------------- replies to /status


APOLOGY = wording.APOLOGY


def _incident_line(incident: IncidentView, now: datetime) -> str:
    line = (f"{wording.incident_icon(incident)} *{escape(wording.incident_head(incident))}* · "
            f"{wording.incident_timing(incident, now, slack_date)}")
    components = wording.incident_components(incident)
    if components:
        line += f" · {escape(components)}"
    if incident.title:
        line += f"\n      _{escape(truncate(incident.title, 200))}_"
    return line


def _component_view_line(view: ComponentView, now: datetime, *, with_monitor: bool = False) -> str:
    text = truncate(wording.component_view(view, now, with_monitor=with_monitor), 400)
    return f"  {wording.icon(view.status)} {escape(text)}"


def _answer(lines: list[str]) -> tuple[str, list[Block]]:
    """Lines → (text, blocks) within the limits."""
    capped = lines[:MAX_LIST_LINES]
    if len(lines) > MAX_LIST_LINES:
        capped.append(wording.more(len(lines) - MAX_LIST_LINES))
    return _text(capped), _fit(pack_lines(capped, max_sections=MAX_BLOCKS))


def _bold(text: str) -> str:
    return f"*{escape(text)}*"


def _overview(reply: Overview) -> tuple[str, list[Block]]:
    head = f"{wording.overview_icon(reply)} {escape(wording.overview_headline(reply))}"
    quiet = [escape(line) for line in wording.quiet_lines(reply.maintenance, None, reply.now)]  # issue 12
    if reply.all_operational and not quiet:
        return head, [section(head)]
    lines = [f"{wording.overview_icon(reply)} {_bold(wording.overview_headline(reply))}", *quiet]
    if reply.open_incidents:
        lines.append(_bold(wording.OPEN_INCIDENTS))
        lines += [_incident_line(i, reply.now) for i in reply.open_incidents]
    if reply.problems:
        lines.append(_bold(wording.NOT_OPERATIONAL))
        lines += [_component_view_line(v, reply.now, with_monitor=True) for v in reply.problems]
    if reply.unreadable:
        lines.append(f"{wording.icon(Status.UNKNOWN)} {escape(wording.cannot_read(reply.unreadable))}")
    return _answer(lines)


def _target(reply: TargetReport) -> tuple[str, list[Block]]:
    lines = [f"{wording.icon(reply.status)} {_bold(wording.target_head(reply))} "
             f"({escape(wording.target_kind(reply))})"]
    lines += [escape(line) for line in wording.quiet_lines(reply.maintenance, reply.muted, reply.now)]  # issue 12
    if reply.uptime:
        lines.append(_bold(wording.UPTIME))
        lines += [f"  {escape(wording.uptime_line(u))}" for u in reply.uptime]
    if reply.probes:
        lines.append(escape(wording.probe_summary(reply.probes)))
    lines += [escape(wording.lead_line(stats)) for stats in reply.leads]
    if reply.components:
        lines.append(_bold(wording.NOT_OPERATIONAL))
        lines += [_component_view_line(v, reply.now) for v in reply.components]
    if reply.timeline:
        lines.append(_bold(wording.TIMELINE))
        lines += [f"  {escape(wording.timeline_line(e))}" for e in reply.timeline]
    if reply.incidents:
        lines.append(_bold(wording.LAST_INCIDENTS))
        lines += [_incident_line(i, reply.now) for i in reply.incidents]
    else:
        lines.append(escape(wording.no_incidents()))
    return _answer(lines)


def _incidents(reply: IncidentList) -> tuple[str, list[Block]]:
    if not reply.incidents:
        line = escape(wording.incident_list_headline(reply))
        return line, [section(line)]
    lines = [_bold(wording.incident_list_headline(reply))]
    lines += [_incident_line(i, reply.now) for i in reply.incidents]
    return _answer(lines)


def _uptime(reply: UptimeReport) -> tuple[str, list[Block]]:
    lines = [_bold(wording.uptime_headline(reply))]
    lines += [f"  {escape(wording.uptime_row(name, uptime))}" for name, uptime in reply.rows]
    if not reply.rows:
        lines.append(escape(wording.NO_MONITORS))
    lines += [escape(wording.lead_line(stats)) for stats in reply.leads]
    return _answer(lines)


def _alternatives(reply: AlternativesReport) -> tuple[str, list[Block]]:
    lines = [f"{wording.icon(reply.status)} {_bold(wording.alternatives_head(reply))}",
             escape(wording.alternatives_answer(reply))]
    return _answer(lines)


def _usage(reply: Usage) -> tuple[str, list[Block]]:
    message = reply.message
    head, sep, usage = message.partition(wording.USAGE_HEADER)
    parts: list[str] = []
    if head.strip():
        parts.append((f"{wording.WARNING_ICON} " if reply.is_error else "") + escape(head.strip()))
    if sep:
        parts.append("```" + escape(sep + usage.rstrip()) + "```")
    if reply.suggestions:
        parts.append(escape(wording.did_you_mean(reply.suggestions)))
    return _text(parts), [section(p) for p in parts][:MAX_BLOCKS]


def _action_result(reply: ActionResult) -> tuple[str, list[Block]]:
    line = (f"{wording.WARNING_ICON} " if reply.is_error else "") + escape(reply.text)
    return _text([line]), [section(line)]


def _mutes(reply: MutesReport) -> tuple[str, list[Block]]:
    lines = [_bold(wording.mutes_headline(len(reply.mutes)))]
    lines += [f"  {escape(wording.mute_row(view, reply.now))}" for view in reply.mutes]
    return _answer(lines)


def _maintenance(reply: MaintenanceReport) -> tuple[str, list[Block]]:
    lines = [_bold(wording.maintenance_headline(reply))]
    if reply.active:
        lines.append(_bold(wording.MAINTENANCE_NOW))
        lines += [f"  {escape(wording.maintenance_row(view, reply.now))}" for view in reply.active]
    if reply.upcoming:
        lines.append(_bold(wording.MAINTENANCE_NEXT))
        lines += [f"  {escape(wording.maintenance_row(view, reply.now))}" for view in reply.upcoming]
    return _answer(lines)


def render_reply(reply: Reply) -> tuple[str, list[Block]]:
    """A command's answer as (fallback text, blocks)."""
    if isinstance(reply, ActionResult):
        return _action_result(reply)
    if isinstance(reply, MutesReport):
        return _mutes(reply)
    if isinstance(reply, MaintenanceReport):
        return _maintenance(reply)
    if isinstance(reply, Overview):
        return _overview(reply)
    if isinstance(reply, TargetReport):
        return _target(reply)
    if isinstance(reply, IncidentList):
        return _incidents(reply)
    if isinstance(reply, UptimeReport):
        return _uptime(reply)
    if isinstance(reply, AlternativesReport):
        return _alternatives(reply)
    return _usage(reply)


def render_apology() -> tuple[str, list[Block]]:
    """What the user sees when answering failed: short, no stack trace."""
    return APOLOGY, [section(APOLOGY)]


# ---------------------------------------------------------------- digest (issue 12)

DIGEST_SECTIONS = 3  # monitor sections: 3 × SECTION_TEXT_LIMIT stays within BLOCKS_TEXT_BUDGET with the rest


def _digest_entry(row: DigestRow) -> str:
    lines = [f"{wording.digest_strip(row)}  *{escape(row.monitor)}* — {escape(wording.digest_figures(row))}"]
    lines += [f"        _{escape(extra)}_" for extra in (wording.digest_components(row), wording.digest_lead(row))
              if extra]
    return "\n".join(lines)


def render_digest(digest: Digest) -> tuple[str, list[Block]]:
    """The weekly digest: its headline, the week in one line, then one entry per monitor (worst first, a
    7-day strip of squares leading each), cut with '…and N more monitors' within Slack's limits."""
    headline = wording.digest_headline(digest)
    summary = wording.digest_summary(digest)
    blocks = [header(headline), section(f"*{escape(summary)}*")]
    blocks += pack_lines([_digest_entry(row) for row in digest.rows], max_sections=DIGEST_SECTIONS,
                         what="monitors")
    blocks.append(context(escape(wording.digest_legend(digest))))
    return _text([escape(headline), escape(summary)]), _fit(blocks)
