"""Instatus pages: the summary (`/summary.json`: page status, active incidents and maintenances) and, when it
could be read, the components list (`/v2/components.json`), given as `components`.

Without the components list the page's own status stands for the whole page, as one component named after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.checks.payload import (
    IMPACT_OF,
    LastBody,
    Unreadable,
    filtered,
    load_object,
    objects,
    read_with,
    text_of,
    timestamp,
    title_text,
    unknown_word,
    unreadable,
)
from bot.checks.source import SourceKind, SourceMonitor, under
from bot.model import CheckResult, ComponentReading, ProviderIncident, Status

STATUS_MAP: dict[str, Status] = {
    "OPERATIONAL": Status.OPERATIONAL,
    "UP": Status.OPERATIONAL,
    "UNDERMAINTENANCE": Status.MAINTENANCE,
    "DEGRADEDPERFORMANCE": Status.DEGRADED,
    "HASISSUES": Status.DEGRADED,
    "PARTIALOUTAGE": Status.PARTIAL,
    "MINOROUTAGE": Status.PARTIAL,
    "MAJOROUTAGE": Status.MAJOR,
    "ONEMAJOROUTAGE": Status.MAJOR,
}
CLOSED = frozenset({"RESOLVED", "COMPLETED", "POSTMORTEM"})


def parse(
    body: bytes,
    *,
    monitor: str,
    at: datetime,
    only: tuple[str, ...] = (),
    components: bytes | None = None,
    last: LastBody | None = None,
) -> CheckResult:
    """Pure (with `last`, an unchanged summary is not read again): summary.json (or a body that is itself
    components.json), plus components.json when given."""
    try:
        doc = read_with(last, body, load_object)
        listed = doc.get("components")
        if components is not None:
            listed = load_object(components).get("components")
        page = doc.get("page")
        if not isinstance(page, dict) and not isinstance(listed, list):
            raise Unreadable("unexpected JSON shape: no 'page' or 'components' (not an Instatus page?)")
        if listed is not None and not isinstance(listed, list):
            raise Unreadable("unexpected JSON shape: 'components' is not a list")
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    if isinstance(listed, list):
        readings = _components(listed)
    else:
        status = _status(page.get("status")) if isinstance(page, dict) else (Status.UNKNOWN, "")
        name = text_of(page.get("name")) if isinstance(page, dict) else ""
        readings = [ComponentReading(name=name or monitor, status=status[0], detail=status[1])]
    incidents = []
    for item in objects(doc.get("activeIncidents")):
        if text_of(item.get("status")).upper() in CLOSED:
            continue
        impact = STATUS_MAP.get(text_of(item.get("impact")).upper(), Status.UNKNOWN)
        incidents.append(
            ProviderIncident(
                id=text_of(item.get("id")),
                title=title_text(item.get("name")),
                status=text_of(item.get("status")).lower() or "unknown",
                impact=IMPACT_OF.get(impact, "none"),
                updated_at=timestamp(item.get("updatedAt")) or timestamp(item.get("started")),
                url=text_of(item.get("url")) or None,
            )
        )
    return CheckResult(
        monitor=monitor, at=at, readable=True, components=filtered(readings, only), incidents=tuple(incidents)
    )


def _status(word: Any) -> tuple[Status, str]:
    status = STATUS_MAP.get(text_of(word).upper(), Status.UNKNOWN)
    return status, "" if status is not Status.UNKNOWN else unknown_word(word)


def _components(listed: list[Any], group: str | None = None) -> list[ComponentReading]:
    """Components, with a group's children (`children`, or a `group` object or name on each) grouped."""
    out = []
    for c in objects(listed):
        name = text_of(c.get("name"))
        children = c.get("children")
        if isinstance(children, list) and children:
            out += _components(children, name or group)
            continue
        if not name:
            continue
        own = c.get("group")
        own_group = text_of(own.get("name")) if isinstance(own, dict) else text_of(own)
        status, detail = _status(c.get("status"))
        out.append(ComponentReading(name=name, status=status, detail=detail, group=own_group or group))
    return out


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)


def _read(monitor: SourceMonitor, bodies: Sequence[bytes | None], at: datetime, last: LastBody) -> CheckResult:
    # components.json is a second, optional request: without it the page's own status stands for the page
    summary, listed = bodies[0] or b"", bodies[1] if len(bodies) > 1 else None
    result = parse(summary, monitor=monitor.name, at=at, only=monitor.components, components=listed, last=last)
    if listed is not None and not result.readable:  # a components.json we cannot read: the summary alone
        result = parse(summary, monitor=monitor.name, at=at, only=monitor.components, last=last)
    return result


INSTATUS = SourceKind("instatus", read=_read, urls=under("/summary.json", "/v2/components.json"))
