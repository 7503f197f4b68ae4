"""Google Cloud's (and Gemini's) `incidents.json`: every recent incident, open while it has no `end`.

The list names only affected products, so the components are the filter's products (see payload.per_entry);
a filter entry matches a product's title or id ("Vertex Gemini API", "Z0FZJAMvEB4j3NbCJs6B"), the incident's
service, or a location id or title ("us-central1", "global").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
from bot.checks.source import SourceKind, SourceMonitor
from bot.model import CheckResult, ProviderIncident, Status, worst

BASE_URL = "https://status.cloud.google.com/"
STATUS_MAP: dict[str, Status] = {
    "AVAILABLE": Status.OPERATIONAL,
    "SERVICE_INFORMATION": Status.DEGRADED,
    "SERVICE_DISRUPTION": Status.PARTIAL,
    "SERVICE_OUTAGE": Status.MAJOR,
}


def read(body: bytes) -> list[Any]:
    raw = load_list(body)
    if raw and not objects(raw):
        raise Unreadable("unexpected JSON shape: a list without incident objects")
    return raw


def parse(
    body: bytes,
    *,
    monitor: str,
    at: datetime,
    only: tuple[str, ...] = (),
    base_url: str = BASE_URL,
    last: LastBody | None = None,
) -> CheckResult:
    """Pure (with `last`, an unchanged body is not read again): the open incidents (no `end`), the filter's
    products."""
    try:
        raw = read_with(last, body, read)
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))
    want = wanted(only)
    statuses: dict[str, Status] = {}
    incidents = []
    for item in objects(raw):
        if item.get("end"):
            continue
        latest = item.get("most_recent_update") if isinstance(item.get("most_recent_update"), dict) else None
        newest = _newest_update(item.get("updates"))
        word = text_of((latest or newest or {}).get("status")) or text_of(item.get("status_impact"))
        status = STATUS_MAP.get(word.upper(), Status.UNKNOWN)
        if status is Status.OPERATIONAL:
            continue  # said available but not closed yet: nothing is broken
        products = [
            (text_of(p.get("title")), text_of(p.get("id"))) for p in objects(item.get("affected_products"))
        ]
        keys = {k.casefold() for pair in products for k in pair if k}
        keys |= {
            k.casefold() for k in (text_of(item.get("service_name")), text_of(item.get("service_key"))) if k
        }
        keys |= _locations(item)
        if want and not keys & want:
            continue
        for key in keys & want:
            before = statuses.get(key)
            statuses[key] = status if before is None else worst([before, status])
        text = (latest or {}).get("text") or (newest or {}).get("text") or item.get("external_desc")
        uri = text_of(item.get("uri"))
        incidents.append(
            ProviderIncident(
                id=text_of(item.get("id")),
                title=title_text(item.get("external_desc")),
                status=word.lower().replace("_", " ") or "unknown",
                impact=IMPACT_OF.get(status, "none"),
                latest_update=update_text(text),
                updated_at=timestamp(item.get("modified")) or timestamp((latest or {}).get("when")),
                url=(base_url + uri.lstrip("/")) if uri else None,
                components=tuple(dict.fromkeys(t or i for t, i in products if t or i)),
            )
        )
    return CheckResult(
        monitor=monitor,
        at=at,
        readable=True,
        components=per_entry(only, statuses),
        incidents=tuple(incidents),
    )


def _newest_update(updates: Any) -> dict[str, Any] | None:
    dated = [u for u in objects(updates) if text_of(u.get("when"))]
    return max(dated, key=lambda u: text_of(u.get("when"))) if dated else None


def _locations(item: dict[str, Any]) -> set[str]:
    out = set()
    for loc in objects(item.get("currently_affected_locations")):
        out |= {k.casefold() for k in (text_of(loc.get("id")), text_of(loc.get("title"))) if k}
    return out


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)


def _read(monitor: SourceMonitor, bodies: Sequence[bytes | None], at: datetime, last: LastBody) -> CheckResult:
    # incident links are relative to the dashboard incidents.json lives in (Cloud's, Workspace's)
    base = monitor.url.rsplit("/", 1)[0] + "/" if monitor.url.endswith(".json") else monitor.url.rstrip("/") + "/"
    return parse(bodies[0] or b"", monitor=monitor.name, at=at, only=monitor.components, base_url=base, last=last)


# incidents.json lists a year of incidents with every update: megabytes, and growing.
GCP = SourceKind("gcp", read=_read, filters=("products",), max_body_bytes=32 * 1024 * 1024)
