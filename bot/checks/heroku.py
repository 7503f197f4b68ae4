"""Heroku's `api/v4/current-status`: three systems (Apps, Data, Tools) by colour, and the open incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.checks import payload
from bot.checks.payload import (
    LastBody,
    Unreadable,
    filtered,
    load_object,
    need_list,
    objects,
    read_with,
    text_of,
    timestamp,
    title_text,
    unknown_word,
    unreadable,
    update_text,
)
from bot.checks.source import SourceKind, one_document
from bot.model import CheckResult, ComponentReading, ProviderIncident, Status, worst

COLOURS: dict[str, Status] = {
    "green": Status.OPERATIONAL,
    "yellow": Status.DEGRADED,
    "red": Status.MAJOR,
    "blue": Status.MAINTENANCE,
}
IMPACT_OF: dict[Status, str] = {**payload.IMPACT_OF, Status.MAINTENANCE: "maintenance"}


def read(body: bytes) -> dict[str, Any]:
    doc = load_object(body)
    systems = objects(need_list(doc, "status"))
    if not systems or not all(text_of(s.get("system")) for s in systems):
        raise Unreadable("unexpected JSON shape: 'status' is not a list of systems")
    return doc


def parse(
    body: bytes, *, monitor: str, at: datetime, only: tuple[str, ...] = (), last: LastBody | None = None
) -> CheckResult:
    """Pure (with `last`, an unchanged body is not read again): one component per system, and the unresolved
    incidents (scheduled maintenances show as blue)."""
    try:
        doc = read_with(last, body, read)
        systems = objects(doc["status"])
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    readings = []
    for s in systems:
        status = COLOURS.get(text_of(s.get("status")).lower(), Status.UNKNOWN)
        detail = "" if status is not Status.UNKNOWN else unknown_word(s.get("status"))
        readings.append(ComponentReading(name=text_of(s["system"]), status=status, detail=detail))
    incidents = []
    for item in objects(doc.get("incidents")):
        if item.get("resolved") is True or text_of(item.get("state")).lower() in ("closed", "resolved"):
            continue
        latest = _latest(item.get("updates"))
        colours = [
            COLOURS.get(text_of(item.get(k) or (latest or {}).get(k)).lower(), Status.UNKNOWN)
            for k in ("status_prod", "status_dev")
        ]
        known: list[Status] = [c for c in colours if c is not Status.UNKNOWN]
        incidents.append(
            ProviderIncident(
                id=text_of(item.get("id")),
                title=title_text(item.get("title")),
                status=text_of((latest or {}).get("update_type")).lower() or "open",
                impact=IMPACT_OF.get(worst(known), "none") if known else "none",
                latest_update=update_text((latest or {}).get("contents")),
                updated_at=timestamp((latest or {}).get("created_at")) or timestamp(item.get("updated_at")),
                url=text_of(item.get("full_url")) or None,
            )
        )
    return CheckResult(
        monitor=monitor, at=at, readable=True, components=filtered(readings, only), incidents=tuple(incidents)
    )


def _latest(updates: Any) -> dict[str, Any] | None:
    dated = objects(updates)
    return max(dated, key=lambda u: text_of(u.get("created_at"))) if dated else None


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)



HEROKU = SourceKind("heroku", read=one_document(parse))
