"""Status.io's public status API (`api.status.io/1.0/status/<page id>`; GitLab, formerly Docker)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.checks.payload import (
    IMPACT_OF,
    LastBody,
    Unreadable,
    filtered,
    load_object,
    need_list,
    objects,
    passes,
    read_with,
    text_of,
    timestamp,
    title_text,
    unknown_word,
    unreadable,
    update_text,
    wanted,
)
from bot.checks.source import SourceKind, one_document
from bot.model import CheckResult, ComponentReading, ProviderIncident, ProviderMaintenance, Status

# Status.io's status codes. 600 "Security Issue" is an active problem without a stated outage.
CODES: dict[int, Status] = {
    100: Status.OPERATIONAL,
    200: Status.MAINTENANCE,
    300: Status.DEGRADED,
    400: Status.PARTIAL,
    500: Status.MAJOR,
    600: Status.DEGRADED,
}
STATES = {100: "investigating", 200: "identified", 300: "monitoring"}


def read(body: bytes) -> dict[str, Any]:
    """The `result` object of a status body."""
    result = load_object(body).get("result")
    if not isinstance(result, dict):
        raise Unreadable("unexpected JSON shape: no 'result' object (not a Status.io status API?)")
    need_list(result, "status")
    return result


def parse(
    body: bytes, *, monitor: str, at: datetime, only: tuple[str, ...] = (), last: LastBody | None = None
) -> CheckResult:
    """Pure (with `last`, an unchanged body is not read again): the components (`status[]`), the open
    incidents and the maintenances (`maintenance.active`, `.upcoming`; they also show through the components)."""
    try:
        result = read_with(last, body, read)
        components = objects(result["status"])
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    readings = []
    for c in components:
        name = text_of(c.get("name"))
        if not name:
            continue
        status = CODES.get(_code(c.get("status_code")), Status.UNKNOWN)
        word = text_of(c.get("status"))
        detail = (
            unknown_word(word or c.get("status_code"))
            if status is Status.UNKNOWN
            else (word if _code(c.get("status_code")) == 600 else "")
        )
        readings.append(ComponentReading(name=name, status=status, detail=detail))
    want = wanted(only)
    incidents = []
    for item in objects(result.get("incidents")):
        named = [
            text_of(c.get("name")) for c in objects(item.get("components_affected")) if text_of(c.get("name"))
        ]
        if want and named and not any(passes(want, n) for n in named):
            continue
        latest = _latest(item.get("messages"))
        state = _code((latest or {}).get("state"))
        impact = CODES.get(_code((latest or {}).get("status")), Status.UNKNOWN)
        incidents.append(
            ProviderIncident(
                id=text_of(item.get("_id")),
                title=title_text(item.get("name")),
                status=STATES.get(state, "open"),
                impact=IMPACT_OF.get(impact, "none"),
                latest_update=update_text((latest or {}).get("details")),
                updated_at=timestamp((latest or {}).get("datetime")) or timestamp(item.get("datetime_open")),
                url=None,
                components=tuple(dict.fromkeys(named)),
            )
        )
    return CheckResult(
        monitor=monitor, at=at, readable=True, components=filtered(readings, only), incidents=tuple(incidents),
        maintenances=_maintenances(result.get("maintenance"), want),
    )


def _maintenances(listed: Any, want: frozenset[str]) -> tuple[ProviderMaintenance, ...]:
    out = []
    for key, status in (("active", "in_progress"), ("upcoming", "scheduled")):
        for item in objects(listed.get(key) if isinstance(listed, dict) else None):
            named = [text_of(c.get("name")) for c in objects(item.get("components_affected")) if text_of(c.get("name"))]
            if want and named and not any(passes(want, n) for n in named):
                continue
            out.append(ProviderMaintenance(
                id=text_of(item.get("_id")), name=title_text(item.get("name"), "(untitled maintenance)"), status=status,
                starts_at=timestamp(item.get("datetime_planned_start")),
                ends_at=timestamp(item.get("datetime_planned_end")), components=tuple(dict.fromkeys(named)),
            ))
    return tuple(out)


def _code(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _latest(messages: Any) -> dict[str, Any] | None:
    dated = objects(messages)
    return max(dated, key=lambda m: text_of(m.get("datetime"))) if dated else None


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)



STATUSIO = SourceKind("statusio", read=one_document(parse))
