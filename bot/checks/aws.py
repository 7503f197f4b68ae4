"""AWS Health's public `currentevents` (health.aws.amazon.com/public/currentevents): UTF-16 with a byte-order
mark, a list of events, each open while it has no `end_time`.

Events stay open for months in far-away regions, so without a filter the whole provider would read red: the
components are the filter's entries (see payload.per_entry). An entry names a service ("bedrock", "Amazon
Bedrock"), a region ("us-east-1", "N. Virginia") or both, as AWS writes them ("bedrock-us-east-1").
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

from bot.checks.payload import (
    IMPACT_OF,
    LastBody,
    Unreadable,
    load_list,
    objects,
    per_entry,
    read_with,
    text_of,
    timestamp,
    title_text,
    unreadable,
    update_text,
    wanted,
)
from bot.checks.source import SourceKind, one_document
from bot.model import CheckResult, ProviderIncident, Status, worst

URL = "https://health.aws.amazon.com/health/status"
# AWS's status codes: 0 resolved, 1 informational, 2 degradation, 3 disruption.
STATUS_MAP: dict[str, Status] = {
    "0": Status.OPERATIONAL,
    "1": Status.DEGRADED,
    "2": Status.PARTIAL,
    "3": Status.MAJOR,
}
_REGION = re.compile(r"-((?:[a-z]{2})(?:-gov|-iso[a-z]?)?-[a-z]+-\d+)$")


class _Service(NamedTuple):
    keys: tuple[
        str, ...
    ]  # lower-case slug, slug without the region, service name: what a filter entry matches
    name: str
    status: Status


class _Event(NamedTuple):
    """An open event, with what matching and wording it needs worked out once per body (see LastBody)."""

    id: str
    title: str
    region_keys: tuple[str, ...]
    status: Status
    services: tuple[_Service, ...]
    latest_update: str
    updated_at: datetime | None


def read(body: bytes) -> tuple[_Event, ...]:
    """The open events (no `end_time`, status not 0) of a currentevents body."""
    raw = load_list(body)
    if raw and not objects(raw):
        raise Unreadable("unexpected JSON shape: a list without event objects")
    return tuple(
        _event(e) for e in objects(raw) if not text_of(e.get("end_time")) and text_of(e.get("status")) != "0"
    )


def _event(event: dict[str, Any]) -> _Event:
    region = _region(event)
    region_name = text_of(event.get("region_name"))
    event_status = STATUS_MAP.get(text_of(event.get("status")), Status.UNKNOWN)
    services = []
    for slug, svc in _impacted(event, event_status):
        status = STATUS_MAP.get(text_of(svc.get("current")), Status.UNKNOWN)
        if status is Status.OPERATIONAL:
            continue  # this service has recovered within the still-open event
        name = text_of(svc.get("service_name"))
        lowered = slug.lower()
        keys = tuple(k for k in (lowered, _base(lowered, region), name.casefold()) if k)
        services.append(_Service(keys, name or slug, status))
    log = _newest_log(event.get("event_log")) or {}
    summary = text_of(event.get("summary")) or text_of(log.get("summary"))
    where = region_name or region
    return _Event(
        id=text_of(event.get("arn")) or f"{text_of(event.get('service'))}@{text_of(event.get('date'))}",
        title=title_text(f"{summary} ({where})" if where else summary),
        region_keys=tuple(k.casefold() for k in (region, region_name) if k),
        status=event_status,
        services=tuple(services),
        latest_update=update_text(log.get("message")),
        updated_at=timestamp(log.get("timestamp")) or timestamp(event.get("date")),
    )


def parse(
    body: bytes, *, monitor: str, at: datetime, only: tuple[str, ...] = (), last: LastBody | None = None
) -> CheckResult:
    """Pure (with `last`, an unchanged body is not read again): the open events that touch the filter."""
    try:
        events = read_with(last, body, read)
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    want = wanted(only)
    statuses: dict[str, Status] = {}
    incidents = []
    for event in events:
        touched: list[_Service] = []
        if want:
            by_region = [k for k in event.region_keys if k in want]
            for svc in event.services:
                hits = [k for k in svc.keys if k in want] + by_region
                if hits:
                    touched.append(svc)
                    for key in hits:
                        before = statuses.get(key)
                        statuses[key] = svc.status if before is None else worst([before, svc.status])
            if not touched:
                continue
        else:
            touched = list(event.services)
        known: list[Status] = [s.status for s in touched if s.status is not Status.UNKNOWN] or [event.status]
        incidents.append(
            ProviderIncident(
                id=event.id,
                title=event.title,
                status="ongoing",
                impact=IMPACT_OF.get(worst(known), "none"),
                latest_update=event.latest_update,
                updated_at=event.updated_at,
                url=URL,
                components=tuple(dict.fromkeys(s.name for s in touched)),
            )
        )
    return CheckResult(
        monitor=monitor,
        at=at,
        readable=True,
        components=per_entry(only, statuses),
        incidents=tuple(incidents),
    )


def _region(event: dict[str, Any]) -> str:
    arn = text_of(event.get("arn")).split(":")
    if len(arn) > 3 and arn[3]:
        return arn[3].lower()
    found = _REGION.search(text_of(event.get("service")).lower())
    return found.group(1) if found else ""


def _base(slug: str, region: str) -> str:
    """'bedrock-us-east-1' → 'bedrock'."""
    return slug[: -len(region) - 1] if region and slug.endswith("-" + region) else slug


def _impacted(event: dict[str, Any], event_status: Status) -> list[tuple[str, dict[str, Any]]]:
    services = event.get("impacted_services")
    if isinstance(services, dict) and services:
        return [(str(slug), svc) for slug, svc in services.items() if isinstance(svc, dict)]
    # An event without the per-service list: the event's own service at the event's status.
    code = next((c for c, s in STATUS_MAP.items() if s is event_status), text_of(event.get("status")))
    return [(text_of(event.get("service")), {"service_name": event.get("service_name"), "current": code})]


def _newest_log(log: Any) -> dict[str, Any] | None:
    """The newest EVENT_LOG entry; `event_log` is a list, or a JSON string of one in older payloads."""
    if isinstance(log, str):
        try:
            log = json.loads(log)
        except (ValueError, RecursionError):
            return None
    entries = objects(log) if isinstance(log, list) else []
    if not entries:
        return None
    oldest = datetime.min.replace(tzinfo=UTC)
    return max(entries, key=lambda e: timestamp(e.get("timestamp")) or oldest)


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)



# The body is UTF-16 with a byte-order mark: `parse` gets the raw bytes, which payload.load_json decodes.
AWS = SourceKind("aws", read=one_document(parse), filters=("services", "regions"), max_body_bytes=16 * 1024 * 1024)
