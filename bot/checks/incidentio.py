"""incident.io status pages, read natively: the `/proxy/<host>` summary, or the widget API's
`/api/v1/summary`.

Pages on incident.io answer the Statuspage-compatible `incidents/unresolved.json` with 404, and the compatible
summary leaves out components; the native summary lists every component with its group, the affected ones
with their status, the ongoing incidents and the maintenances.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.checks import payload
from bot.checks.payload import (
    LastBody,
    Unreadable,
    filtered,
    load_object,
    need_list,
    objects,
    passes,
    per_entry,
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
from bot.model import CheckResult, ComponentReading, ProviderIncident, ProviderMaintenance, Status, worst

STATUS_MAP: dict[str, Status] = {
    "operational": Status.OPERATIONAL,
    "degraded_performance": Status.DEGRADED,
    "partial_outage": Status.PARTIAL,
    "full_outage": Status.MAJOR,  # incident.io's word for Statuspage's major_outage
    "major_outage": Status.MAJOR,
    "under_maintenance": Status.MAINTENANCE,
}
# An incident's impact in Statuspage's words (the ones bot.engine ranks), as Statuspage derives it.
IMPACT_OF: dict[Status, str] = {**payload.IMPACT_OF, Status.MAINTENANCE: "maintenance"}
CLOSED = frozenset({"resolved", "closed", "postmortem", "maintenance_complete", "completed"})
IN_PROGRESS = frozenset({"maintenance_in_progress", "in_progress"})
SCHEDULED = frozenset({"maintenance_scheduled", "scheduled"})
_Read = tuple[tuple[ComponentReading, ...], tuple[ProviderIncident, ...], tuple[ProviderMaintenance, ...]]


def read(body: bytes) -> tuple[bool, dict[str, Any]]:
    """(native?, the object to read): the native summary is `{summary: …}`, the widget's has
    `ongoing_incidents`."""
    doc = load_object(body)
    summary = doc.get("summary")
    if isinstance(summary, dict):
        return True, summary
    if "ongoing_incidents" in doc:
        return False, doc
    raise Unreadable(
        "unexpected JSON shape: not an incident.io summary (no 'summary' or 'ongoing_incidents')"
    )


def parse(
    body: bytes, *, monitor: str, at: datetime, only: tuple[str, ...] = (), last: LastBody | None = None
) -> CheckResult:
    """Pure (with `last`, an unchanged body is not read again): either incident.io shape."""
    try:
        native, doc = read_with(last, body, read)
        components, incidents, maintenances = _native(doc, only) if native else _widget(doc, only)
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    return CheckResult(monitor=monitor, at=at, readable=True, components=components, incidents=incidents,
                       maintenances=maintenances)


def _status(word: Any) -> tuple[Status, str]:
    status = STATUS_MAP.get(text_of(word).lower(), Status.UNKNOWN)
    return status, "" if status is not Status.UNKNOWN else unknown_word(word)


# ---------------------------------------------------------------- the native /proxy/<host> summary


def _native(summary: dict[str, Any], only: tuple[str, ...]) -> _Read:
    listed = need_list(summary, "components")
    names: dict[str, str] = {}
    for c in objects(listed):
        if c.get("id") is not None and text_of(c.get("name")):
            names[str(c["id"])] = text_of(c["name"])
    if listed and not names:
        raise Unreadable("unexpected JSON shape: components without id or name")

    groups, hidden, order = _structure(summary.get("structure"), names)
    statuses: dict[str, tuple[Status, str]] = {}
    for a in objects(summary.get("affected_components")):
        if a.get("component_id") is not None:
            statuses[str(a["component_id"])] = _status(a.get("status"))
    planned = objects(need_list(summary, "scheduled_maintenances", optional=True))
    for m in planned:
        if text_of(m.get("status")).lower() in IN_PROGRESS:
            for cid in _affected_ids(m):
                if statuses.get(cid, (Status.OPERATIONAL, ""))[0] is Status.OPERATIONAL:
                    statuses[cid] = (Status.MAINTENANCE, "")

    ids = list(dict.fromkeys(cid for cid in [*order, *names] if cid not in hidden))
    counts: dict[str, int] = {}
    for cid in ids:
        key = names[cid].casefold()
        counts[key] = counts.get(key, 0) + 1
    display: dict[str, str] = {}
    readings = []
    for cid in ids:
        group = groups.get(cid)
        name = names[cid]
        if counts[name.casefold()] > 1 and group:
            name = f"{group} / {name}"
        display[cid] = name
        status, detail = statuses.get(cid, (Status.OPERATIONAL, ""))
        readings.append(ComponentReading(name=name, status=status, detail=detail, group=group))

    want = wanted(only)
    incidents = []
    base = text_of(summary.get("public_url")).rstrip("/")
    for item in objects(need_list(summary, "ongoing_incidents", optional=True)):
        state = text_of(item.get("status")).lower()
        if state in CLOSED:
            continue
        affected = _affected_ids(item)
        named = [display.get(cid) or names.get(cid) or cid for cid in affected]
        if (
            want
            and named
            and not any(passes(want, n, groups.get(cid)) for n, cid in zip(named, affected, strict=True))
        ):
            continue
        worst_status = _worst_impact(item, statuses, affected)
        incidents.append(
            ProviderIncident(
                id=text_of(item.get("id")),
                title=title_text(item.get("name")),
                status=state or "unknown",
                impact=IMPACT_OF.get(worst_status, "none"),
                latest_update=_latest_message(item),
                updated_at=_updated_at(item),
                url=text_of(item.get("url"))
                or (f"{base}/incidents/{text_of(item.get('id'))}" if base else None),
                components=tuple(dict.fromkeys(named)),
            )
        )
    maintenances = []
    for m in planned:
        affected = _affected_ids(m)
        named = [display.get(cid) or names.get(cid) or cid for cid in affected]
        if want and named and not any(passes(want, n, groups.get(cid)) for n, cid in zip(named, affected, strict=True)):
            continue
        found = _maintenance(m, named, "scheduled")
        if found is not None:
            maintenances.append(found)
    return filtered(readings, only), tuple(incidents), tuple(maintenances)


def _maintenance(item: dict[str, Any], named: list[str], status: str) -> ProviderMaintenance | None:
    """One of incident.io's maintenances in Statuspage's words (None once completed); `status`: what the list
    it came from says when the item does not."""
    word = text_of(item.get("status")).lower()
    if word in CLOSED:
        return None
    status = "in_progress" if word in IN_PROGRESS else "scheduled" if word in SCHEDULED else status
    start = next((t for key in ("starts_at", "started_at", "scheduled_for")
                  if (t := timestamp(item.get(key))) is not None), None)
    end = next((t for key in ("ends_at", "scheduled_end_at", "scheduled_until")
                if (t := timestamp(item.get(key))) is not None), None)
    return ProviderMaintenance(id=text_of(item.get("id")), name=title_text(item.get("name"), "(untitled maintenance)"),
                               status=status, starts_at=start, ends_at=end, components=tuple(dict.fromkeys(named)),
                               url=text_of(item.get("url")) or None)


def _structure(structure: Any, names: dict[str, str]) -> tuple[dict[str, str], set[str], list[str]]:
    """Component id → group name, the hidden ids, and the page order (items: groups or lone components)."""
    groups: dict[str, str] = {}
    hidden: set[str] = set()
    order: list[str] = []
    items = structure.get("items") if isinstance(structure, dict) else None
    for item in objects(items):
        group = item.get("group")
        if isinstance(group, dict):
            group_name = text_of(group.get("name"))
            for c in objects(group.get("components")):
                cid = text_of(c.get("component_id") or c.get("id"))
                if not cid:
                    continue
                names.setdefault(cid, text_of(c.get("name")) or cid)
                if group_name:
                    groups[cid] = group_name
                if group.get("hidden") is True or c.get("hidden") is True:
                    hidden.add(cid)
                order.append(cid)
        lone = item.get("component")
        if isinstance(lone, dict):
            cid = text_of(lone.get("component_id") or lone.get("id"))
            if cid:
                names.setdefault(cid, text_of(lone.get("name")) or cid)
                if lone.get("hidden") is True:
                    hidden.add(cid)
                order.append(cid)
    return groups, hidden, order


def _affected_ids(item: dict[str, Any]) -> list[str]:
    out = []
    for key in ("affected_components", "component_impacts"):
        for a in objects(item.get(key)):
            cid = a.get("component_id") or a.get("id")
            if cid is not None:
                out.append(str(cid))
    return list(dict.fromkeys(out))


def _worst_impact(
    item: dict[str, Any], statuses: dict[str, tuple[Status, str]], affected: list[str]
) -> Status:
    said = STATUS_MAP.get(text_of(item.get("current_worst_impact")).lower())
    if said is not None:
        return said
    seen = [statuses[cid][0] for cid in affected if cid in statuses]
    for a in objects(item.get("affected_components")):
        seen.append(
            STATUS_MAP.get(text_of(a.get("current_status") or a.get("status")).lower(), Status.UNKNOWN)
        )
    return worst([s for s in seen if s is not Status.UNKNOWN])


def _latest_message(item: dict[str, Any]) -> str:
    if text_of(item.get("last_update_message")):
        return update_text(item["last_update_message"])
    updates = objects(item.get("updates"))
    if not updates:
        return ""
    newest = max(updates, key=lambda u: text_of(u.get("published_at")))
    return update_text(newest.get("message_string") or newest.get("message"))


def _updated_at(item: dict[str, Any]) -> datetime | None:
    for key in ("last_update_at", "updated_at", "published_at"):
        when = timestamp(item.get(key))
        if when is not None:
            return when
    return None


# ---------------------------------------------------------------- the widget API /api/v1/summary


def _widget(doc: dict[str, Any], only: tuple[str, ...]) -> _Read:
    """The widget lists only what is affected: components are the filter's entries (see payload.per_entry)."""
    want = wanted(only)
    statuses: dict[str, Status] = {}
    incidents = []
    for item in objects(need_list(doc, "ongoing_incidents")):
        if text_of(item.get("status")).lower() in CLOSED:
            continue
        named, hit = _widget_components(item, want, statuses)
        if want and named and not hit:
            continue
        impact = _worst_impact(item, {}, [])
        incidents.append(
            ProviderIncident(
                id=text_of(item.get("id")),
                title=title_text(item.get("name")),
                status=text_of(item.get("status")).lower() or "unknown",
                impact=IMPACT_OF.get(impact, "none"),
                latest_update=_latest_message(item),
                updated_at=_updated_at(item),
                url=text_of(item.get("url")) or None,
                components=tuple(dict.fromkeys(named)),
            )
        )
    maintenances = []
    for item in objects(need_list(doc, "in_progress_maintenances", optional=True)):
        for c in objects(item.get("affected_components")):
            for key in _keys(c):
                if statuses.get(key, Status.OPERATIONAL) is Status.OPERATIONAL:
                    statuses[key] = Status.MAINTENANCE
    for listed, status in (("in_progress_maintenances", "in_progress"), ("scheduled_maintenances", "scheduled")):
        for item in objects(need_list(doc, listed, optional=True)):
            affected = objects(item.get("affected_components"))
            if want and affected and not any(key in want for c in affected for key in _keys(c)):
                continue
            found = _maintenance(item, [n for c in affected if (n := text_of(c.get("name")))], status)
            if found is not None:
                maintenances.append(found)
    return per_entry(only, statuses), tuple(incidents), tuple(maintenances)


def _keys(c: dict[str, Any]) -> list[str]:
    return [k.casefold() for k in (text_of(c.get("name")), text_of(c.get("group_name"))) if k]


def _widget_components(
    item: dict[str, Any], want: frozenset[str], statuses: dict[str, Status]
) -> tuple[list[str], bool]:
    named: list[str] = []
    hit = False
    for c in objects(item.get("affected_components")):
        name = text_of(c.get("name"))
        if not name:
            continue
        named.append(name)
        status = STATUS_MAP.get(text_of(c.get("current_status")).lower(), Status.UNKNOWN)
        for key in _keys(c):
            if key in want:
                hit = True
                before = statuses.get(key)
                statuses[key] = status if before is None else worst([before, status])
    return named, hit


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)


def native_url(url: str) -> tuple[str, ...]:
    """`<base>/proxy/<host>` for a page's base URL; a URL that is already the native or the widget API is
    read as it is."""
    parts = urlsplit(url)
    if "/proxy/" in parts.path or parts.path.rstrip("/").endswith("/api/v1/summary"):
        return (url,)
    return (f"{url.rstrip('/')}/proxy/{parts.hostname}",)



INCIDENTIO = SourceKind("incidentio", read=one_document(parse), urls=native_url)
