"""Better Stack status pages' `index.json` (JSON:API): resources in sections, and status reports.

Judge by the resources' statuses first: a page can read `downtime` with no open report explaining it, and a
resolved report can keep `ends_at: null`.
"""

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
from bot.checks.source import SourceKind, one_document, under
from bot.model import CheckResult, ComponentReading, ProviderIncident, ProviderMaintenance, Status, worst

STATUS_MAP: dict[str, Status] = {
    "operational": Status.OPERATIONAL,
    "degraded": Status.DEGRADED,
    "downtime": Status.MAJOR,
    "maintenance": Status.MAINTENANCE,
}
CLOSED = frozenset({"resolved", "operational"})


def read(body: bytes) -> list[dict[str, Any]]:
    """The `included` objects of an index.json."""
    doc = load_object(body)
    page = doc.get("data")
    if not (isinstance(page, dict) and isinstance(page.get("attributes"), dict)):
        raise Unreadable("unexpected JSON shape: no 'data' status page (not a Better Stack index.json?)")
    return objects(need_list(doc, "included"))


def parse(
    body: bytes, *, monitor: str, at: datetime, only: tuple[str, ...] = (), last: LastBody | None = None
) -> CheckResult:
    """Pure (with `last`, an unchanged body is not read again): the resources (grouped by section), the
    open manual status reports, and the maintenance reports not yet over (in progress or planned, by `at`)."""
    try:
        included = read_with(last, body, read)
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for item in included:
        by_type.setdefault(text_of(item.get("type")), []).append(item)
    sections = {
        text_of(s.get("id")): text_of(_attrs(s).get("name")) for s in by_type.get("status_page_section", ())
    }

    readings = []
    names: dict[str, str] = {}
    groups: dict[str, str | None] = {}
    for r in by_type.get("status_page_resource", ()):
        a = _attrs(r)
        name = text_of(a.get("public_name"))
        if not name:
            continue
        rid = text_of(r.get("id"))
        group = sections.get(text_of(a.get("status_page_section_id"))) or None
        names[rid], groups[rid] = name, group
        status = STATUS_MAP.get(text_of(a.get("status")).lower(), Status.UNKNOWN)
        detail = "" if status is not Status.UNKNOWN else unknown_word(a.get("status"))
        readings.append(ComponentReading(name=name, status=status, detail=detail, group=group))

    updates = {text_of(u.get("id")): _attrs(u) for u in by_type.get("status_update", ())}
    want = wanted(only)
    incidents = []
    maintenances = []
    for report in by_type.get("status_report", ()):
        a = _attrs(report)
        state = text_of(a.get("aggregate_state")).lower()
        if text_of(a.get("report_type")).lower() == "maintenance":
            found = _maintenance(report, names, groups, want, at)
            if found is not None:
                maintenances.append(found)
            continue
        if state in CLOSED or state == "maintenance":  # a maintenance is never an incident
            continue
        starts, ends = timestamp(a.get("starts_at")), timestamp(a.get("ends_at"))
        if (starts is not None and starts > at) or (ends is not None and ends <= at):
            continue
        affected = [text_of(x.get("status_page_resource_id")) for x in objects(a.get("affected_resources"))]
        named = [names[rid] for rid in affected if rid in names]
        if (
            want
            and named
            and not any(passes(want, names[rid], groups.get(rid)) for rid in affected if rid in names)
        ):
            continue
        latest = _latest(report, updates)
        incidents.append(
            ProviderIncident(
                id=text_of(report.get("id")),
                title=title_text(a.get("title")),
                status=state or "unknown",
                impact=IMPACT_OF.get(worst([STATUS_MAP.get(state, Status.DEGRADED)]), "minor"),
                latest_update=update_text((latest or {}).get("message")),
                updated_at=timestamp((latest or {}).get("published_at")) or starts,
                url=None,
                components=tuple(dict.fromkeys(named)),
            )
        )
    return CheckResult(
        monitor=monitor, at=at, readable=True, components=filtered(readings, only), incidents=tuple(incidents),
        maintenances=tuple(maintenances),
    )


def _maintenance(report: dict[str, Any], names: dict[str, str], groups: dict[str, str | None],
                 want: frozenset[str], at: datetime) -> ProviderMaintenance | None:
    """A maintenance report as a ProviderMaintenance (None once resolved or over): the page states no phase,
    so it is in progress between its start and end, scheduled before."""
    a = _attrs(report)
    starts, ends = timestamp(a.get("starts_at")), timestamp(a.get("ends_at"))
    if text_of(a.get("aggregate_state")).lower() in CLOSED or (ends is not None and ends <= at):
        return None
    affected = [rid for x in objects(a.get("affected_resources"))
                if (rid := text_of(x.get("status_page_resource_id"))) in names]
    if want and affected and not any(passes(want, names[rid], groups.get(rid)) for rid in affected):
        return None
    return ProviderMaintenance(
        id=text_of(report.get("id")), name=title_text(a.get("title"), "(untitled maintenance)"),
        status="scheduled" if starts is not None and starts > at else "in_progress", starts_at=starts, ends_at=ends,
        components=tuple(dict.fromkeys(names[rid] for rid in affected)),
    )


def _attrs(item: dict[str, Any]) -> dict[str, Any]:
    attrs = item.get("attributes")
    return attrs if isinstance(attrs, dict) else {}


def _latest(report: dict[str, Any], updates: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    rel = report.get("relationships")
    linked = rel.get("status_updates") if isinstance(rel, dict) else None
    data = linked.get("data") if isinstance(linked, dict) else None
    mine = [updates[text_of(d.get("id"))] for d in objects(data) if text_of(d.get("id")) in updates]
    return max(mine, key=lambda u: text_of(u.get("published_at"))) if mine else None


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)



BETTERSTACK = SourceKind("betterstack", read=one_document(parse), urls=under("/index.json"))
