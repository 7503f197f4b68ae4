"""Slack's own status API, v2.0.0 `current` (https://docs.slack.dev/reference/slack-status-api).

It lists only the active incidents, each with the Slack services it touches ("Messaging", "Huddles"), so the
components are the filter's services (see payload.per_entry): operational unless an active incident names
them. Without a filter the provider incidents alone carry the state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.checks.payload import (
    LastBody,
    Unreadable,
    load_object,
    need_list,
    objects,
    passes,
    per_entry,
    read_with,
    strings,
    text_of,
    timestamp,
    title_text,
    unreadable,
    update_text,
    wanted,
)
from bot.checks.source import SourceKind, one_document
from bot.model import CheckResult, ProviderIncident, Status, worst

# Slack's incident `type`: what it does to the services it names, and the impact in Statuspage's words.
TYPES: dict[str, tuple[Status, str]] = {
    "outage": (Status.MAJOR, "critical"),
    "incident": (Status.DEGRADED, "minor"),
    "notice": (Status.DEGRADED, "none"),
}
OPEN = frozenset({"active"})  # resolved, completed, cancelled: over; scheduled: not started


def read(body: bytes) -> list[Any]:
    """The `active_incidents` of a `current` body."""
    doc = load_object(body)
    raw = need_list(doc, "active_incidents")
    if not isinstance(doc.get("status"), str):
        raise Unreadable("unexpected JSON shape: no 'status' (not Slack's status API v2.0.0?)")
    return raw


def parse(
    body: bytes, *, monitor: str, at: datetime, only: tuple[str, ...] = (), last: LastBody | None = None
) -> CheckResult:
    """Pure (with `last`, an unchanged body is not read again): active incidents and the filter's services."""
    try:
        raw = read_with(last, body, read)
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    want = wanted(only)
    statuses: dict[str, Status] = {}
    incidents = []
    for item in objects(raw):
        state = text_of(item.get("status")).lower()
        if state not in OPEN:
            continue
        services = strings(item.get("services"))
        if want and services and not any(passes(want, s) for s in services):
            continue
        kind = text_of(item.get("type")).lower()
        status, impact = TYPES.get(kind, (Status.UNKNOWN, "none"))
        for service in services:
            key = service.casefold()
            before = statuses.get(key)
            statuses[key] = status if before is None else worst([before, status])
        incidents.append(
            ProviderIncident(
                id=text_of(item.get("id")),
                title=title_text(item.get("title")),
                status=state,
                impact=impact,
                latest_update=_latest_note(item.get("notes")),
                updated_at=timestamp(item.get("date_updated")) or timestamp(item.get("date_created")),
                url=text_of(item.get("url")) or None,
                components=tuple(dict.fromkeys(services)),
            )
        )
    return CheckResult(
        monitor=monitor,
        at=at,
        readable=True,
        components=per_entry(only, statuses),
        incidents=tuple(incidents),
    )


def _latest_note(notes: Any) -> str:
    """Notes come newest first in `current` and oldest first in `history`: pick by date."""
    dated = [(timestamp(n.get("date_created")), k, n) for k, n in enumerate(objects(notes))]
    if not dated:
        return ""
    newest = max(dated, key=lambda d: (d[0] is not None, d[0] or 0, -d[1]))[2]
    return update_text(newest.get("body"))


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)



SLACK = SourceKind("slack", read=one_document(parse))
