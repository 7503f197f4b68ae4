"""The Statuspage v2 API's documents (developer.statuspage.io), built from downwatch's state: pure functions.

Each monitor is a component group and its components are the group's members, so any Statuspage client, or
another downwatch, can watch this one. Atlassian's vocabulary has no word for "we cannot tell": components
whose status is unknown (an unreadable source, a component no longer on its page) are left out rather than
reported as operational or as an outage.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot import wording
from bot.model import ComponentView, IncidentView, MaintenanceReport, MaintenanceView, Status, TimelineEntry

PAGE_NAME = "downwatch"
TIME_ZONE = "Etc/UTC"
# Incident impact per severity, and the page indicator with Atlassian's own descriptions.
IMPACT = {Status.DEGRADED: "minor", Status.PARTIAL: "major", Status.MAJOR: "critical",
          Status.MAINTENANCE: "maintenance"}
INDICATOR = {
    Status.OPERATIONAL: ("none", "All Systems Operational"),
    Status.MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    Status.DEGRADED: ("minor", "Partially Degraded Service"),
    Status.PARTIAL: ("major", "Partial System Outage"),
    Status.MAJOR: ("critical", "Major System Outage"),
}

Json = dict[str, Any]
Timeline = Callable[[str], Sequence[TimelineEntry]]


@functools.lru_cache(maxsize=65536)  # the same names every render
def ident(*parts: str) -> str:
    """A stable 12-character id (Statuspage ids look like this) for a monitor, component or page."""
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=6).hexdigest()


@functools.lru_cache(maxsize=4096)  # many components share the moment they last changed
def stamp(at: datetime | None) -> str | None:
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page(*, url: str, now: datetime) -> Json:
    return {"id": ident(PAGE_NAME), "name": PAGE_NAME, "url": url, "time_zone": TIME_ZONE,
            "updated_at": stamp(now)}


def components(monitors: Sequence[str], views: Sequence[ComponentView], *, now: datetime) -> list[Json]:
    """Each monitor as a group (its status the worst of its members), then its members."""
    by_monitor: dict[str, list[ComponentView]] = {}
    for view in views:
        if view.status is not Status.UNKNOWN:
            by_monitor.setdefault(view.monitor, []).append(view)
    out: list[Json] = []
    for position, monitor in enumerate(monitors, start=1):
        out += group(monitor, by_monitor.get(monitor, ()), position=position, now=now)
    return out


def group(monitor: str, views: Sequence[ComponentView], *, position: int, now: datetime) -> list[Json]:
    """One monitor's part of `components`: the group, then its members (none if it has no known status)."""
    members = [v for v in views if v.status is not Status.UNKNOWN]
    if not members:
        return []
    gid = ident(monitor)
    worst = max((v.status for v in members), key=lambda s: s.rank)
    since = max((v.since for v in members if v.since), default=None)
    out = [_component(gid, monitor, worst, since, now=now, position=position, group=True,
                      members=[ident(monitor, v.name) for v in members])]
    for index, view in enumerate(members, start=1):
        out.append(_component(ident(monitor, view.name), view.name, view.status, view.since, now=now,
                              position=index, group_id=gid))
    return out


def _component(cid: str, name: str, status: Status, since: datetime | None, *, now: datetime, position: int,
               group: bool = False, group_id: str | None = None, members: list[str] | None = None) -> Json:
    doc: Json = {
        "id": cid, "name": name, "status": status.value, "created_at": stamp(since or now),
        "updated_at": stamp(since or now), "position": position, "description": None, "showcase": False,
        "start_date": None, "group_id": group_id, "page_id": ident(PAGE_NAME), "group": group,
        "only_show_if_degraded": False,
    }
    if members is not None:
        doc["components"] = members
    return doc


def incident(item: IncidentView, entries: Sequence[TimelineEntry], listed: Mapping[str, Json], *,
             url: str) -> Json:
    """One incident with its updates (the timeline, newest first, as Atlassian lists them)."""
    iid = ident("incident", item.id)
    resolved = item.resolved_at is not None
    updates = [
        {"id": ident("update", item.id, str(n)), "status": _update_status(entry, resolved, last=n == 0),
         "body": wording.changes_line(entry.changes) or wording.status_label(item.severity),
         "incident_id": iid, "created_at": stamp(entry.at), "updated_at": stamp(entry.at),
         "display_at": stamp(entry.at), "affected_components": None, "deliver_notifications": True}
        for n, entry in enumerate(reversed(entries))
    ]
    return {
        "id": iid, "name": item.title or wording.incident_head(item),
        "status": "resolved" if resolved else "investigating",
        "created_at": stamp(item.started_at), "updated_at": stamp(item.resolved_at or (
            entries[-1].at if entries else item.started_at)),
        "monitoring_at": None, "resolved_at": stamp(item.resolved_at),
        "impact": "none" if resolved and item.severity is Status.OPERATIONAL else IMPACT.get(item.severity, "none"),
        "shortlink": f"{url}#incident-{iid}", "started_at": stamp(item.started_at), "page_id": ident(PAGE_NAME),
        "incident_updates": updates,
        "components": [listed[key] for key in (ident(item.monitor, name) for name in item.components)
                       if key in listed],
    }


def _update_status(entry: TimelineEntry, resolved: bool, *, last: bool) -> str:
    return "resolved" if resolved and last else "investigating"


def status(items: Sequence[Json], unresolved: Sequence[IncidentView]) -> Json:
    """The page indicator: the worst of the listed components and of the open incidents."""
    statuses = [Status(c["status"]) for c in items if not c["group"]] + [i.severity for i in unresolved]
    worst = max(statuses, key=lambda s: s.rank, default=Status.OPERATIONAL)
    indicator, description = INDICATOR.get(worst, INDICATOR[Status.OPERATIONAL])
    return {"indicator": indicator, "description": description}


def maintenances(report: MaintenanceReport, listed: Mapping[str, Json], *, url: str) -> list[Json]:
    """`scheduled_maintenances`: ours and the providers' announced ones, in progress then upcoming, as
    Atlassian lists them (impact "maintenance"; components: the ones named, else the monitors' groups)."""
    return ([maintenance(v, listed, url=url, status="in_progress") for v in report.active]
            + [maintenance(v, listed, url=url, status="scheduled") for v in report.upcoming])


def maintenance(view: MaintenanceView, listed: Mapping[str, Json], *, url: str, status: str) -> Json:
    mid = ident("maintenance", view.name, view.start.isoformat(), *view.monitors)
    keys = ([ident(m, c) for m in view.monitors for c in view.components] if view.components
            else [ident(m) for m in view.monitors])
    return {
        "id": mid, "name": view.name, "status": status, "created_at": stamp(view.start),
        "updated_at": stamp(view.start), "monitoring_at": None, "resolved_at": None, "impact": "maintenance",
        "shortlink": f"{url}#maintenance-{mid}", "started_at": stamp(view.start), "page_id": ident(PAGE_NAME),
        "incident_updates": [], "components": [listed[key] for key in keys if key in listed],
        "scheduled_for": stamp(view.start), "scheduled_until": stamp(view.end),
    }
