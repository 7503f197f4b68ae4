"""Atlassian Statuspage v2 (and incident.io's compatible /api/v2) source: a pure parser and a thin fetcher.

A source that cannot be read gives `readable=False` (status unknown), which is NOT an outage.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

import httpx

from bot.checks.client import REQUEST_FAILURES, ProbeClient, describe_failure, format_size, read_capped
from bot.checks.payload import LastBody
from bot.config import Checker, Common, Monitor
from bot.model import CheckResult, ComponentReading, ProviderIncident, ProviderMaintenance, Status

SUMMARY_PATH = "/api/v2/summary.json"
UNRESOLVED_PATH = "/api/v2/incidents/unresolved.json"
COMPONENTS_PATH = "/api/v2/components.json"

STATUS_MAP: dict[str, Status] = {
    "operational": Status.OPERATIONAL,
    "degraded_performance": Status.DEGRADED,
    "partial_outage": Status.PARTIAL,
    "major_outage": Status.MAJOR,
    "full_outage": Status.MAJOR,  # incident.io's word for it
    "under_maintenance": Status.MAINTENANCE,
}
CLOSED_INCIDENT_STATUSES = frozenset({"resolved", "postmortem", "completed"})
# Scheduled maintenances are never incidents: they are read from summary.json's `scheduled_maintenances` as
# ProviderMaintenance values (planned and in progress), and show through the components' under_maintenance.
MAINTENANCE_STATUSES = frozenset({"scheduled", "in_progress", "verifying"})
NO_COMPONENTS_PLACEHOLDER = "no components were affected by this update."
MISSING_DETAIL = "not on the page (renamed or removed?)"
UPDATE_MAX_CHARS = 500
MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class StatuspageMonitor(Monitor):
    """A provider's status page; `url` is the page's base URL, e.g. https://status.openai.com."""

    components: tuple[str, ...] = ()  # filter; empty = all
    max_body_bytes: int = MAX_BODY_BYTES
    kind: str = "statuspage"


# ---------------------------------------------------------------- pure parsing


class _Unreadable(Exception):
    """Internal: the payload is not a status page we understand (turned into readable=False)."""


class _Leaf(NamedTuple):
    """Internal: one non-group component. A NamedTuple, not a frozen dataclass: built per leaf per poll, and
    a frozen dataclass's __init__ (one object.__setattr__ per field) was a visible share of a poll."""

    id: str | None
    name: str  # unique on this page: "Group / Name" when two leaves share a name
    leaf_name: str
    full_name: str  # "Group / Name", or the leaf name when it has no group
    group: str | None
    status: Status
    detail: str


class _Parsed(NamedTuple):
    """What a page's bodies read as, whatever the poll's time: kept in the monitor's LastBody."""

    readable: bool
    components: tuple[ComponentReading, ...]
    incidents: tuple[ProviderIncident, ...]
    detail: str
    maintenances: tuple[ProviderMaintenance, ...] = ()


def parse_statuspage(
    *,
    monitor: str,
    summary: bytes,
    unresolved: bytes | None,
    components_filter: tuple[str, ...],
    at: datetime,
    components: bytes | None = None,
    last: LastBody | None = None,
) -> CheckResult:
    """Pure: summary.json (+ incidents/unresolved.json and components.json when they could be read). With
    `last` (the monitor's), bodies identical to the last poll's are not read again: the result holds the very
    same readings and incidents objects as then, which lets engine.step skip its walk over the components."""
    if last is None:
        parsed = _parse(summary, unresolved, components, components_filter)
    else:
        parsed = last.read(_pack(summary, unresolved, components), _reader(components_filter))
    return CheckResult(monitor=monitor, at=at, readable=parsed.readable, components=parsed.components,
                       incidents=parsed.incidents, detail=parsed.detail, maintenances=parsed.maintenances)


def _pack(summary: bytes, unresolved: bytes | None, components: bytes | None) -> bytes:
    """The bodies as one bytes value for LastBody to compare: their lengths ("-" for none), then them."""
    bodies = (summary, unresolved, components)
    header = b",".join(b"-" if b is None else str(len(b)).encode() for b in bodies)
    return header + b"\n" + b"".join(b for b in bodies if b is not None)


def _unpack(packed: bytes) -> tuple[bytes, bytes | None, bytes | None]:
    header, _, rest = packed.partition(b"\n")
    out: list[bytes | None] = []
    start = 0
    for size in header.split(b","):
        if size == b"-":
            out.append(None)
            continue
        end = start + int(size)
        out.append(rest[start:end])
        start = end
    return out[0] or b"", out[1], out[2]  # the summary is always there


@functools.lru_cache(maxsize=256)
def _reader(components_filter: tuple[str, ...]) -> Callable[[bytes], _Parsed]:
    """The packed bodies' reader for one filter; one function per filter, as LastBody keys on the reader."""

    def read(packed: bytes) -> _Parsed:
        summary, unresolved, components = _unpack(packed)
        return _parse(summary, unresolved, components, components_filter)

    return read


def _parse(
    summary: bytes, unresolved: bytes | None, components: bytes | None, components_filter: tuple[str, ...]
) -> _Parsed:
    try:
        doc = _with_extra_components(_load_object(summary), components)
        leaves = _leaves(doc)
    except _Unreadable as exc:
        return _Parsed(False, (), (), str(exc))

    wanted = {name.casefold() for name in components_filter}
    readings = _readings(leaves, components_filter, wanted)

    notes: list[str] = []
    raw_incidents: list[Any] | None = None
    if unresolved is not None:
        try:
            raw_incidents = _incident_list(_load_object(unresolved))
        except _Unreadable as exc:
            notes.append(f"unresolved.json: {exc}; incidents from summary.json")
    if raw_incidents is None:
        try:
            raw_incidents = _incident_list(doc, optional=True)
        except _Unreadable:
            raw_incidents = []
            notes.append("incidents unreadable")

    incidents = _incidents(raw_incidents, leaves, wanted)
    return _Parsed(True, readings, incidents, "; ".join(notes), _maintenances(doc, leaves, wanted))


def _with_extra_components(doc: dict[str, Any], components: bytes | None) -> dict[str, Any]:
    """incident.io's compat summary.json omits some components that components.json lists (OpenAI's
    "Codex API", bentleypark/aiwatch#197): add those, keeping summary.json's entry where both have one."""
    mine = doc.get("components")
    if components is None or not isinstance(mine, list):
        return doc
    try:
        extra = _load_object(components).get("components")
    except _Unreadable:
        return doc
    if not isinstance(extra, list):
        return doc
    known = {str(c.get("id")) for c in mine if isinstance(c, dict)}
    added = [c for c in extra if isinstance(c, dict) and c.get("id") is not None and str(c["id"]) not in known]
    return {**doc, "components": mine + added} if added else doc


def _load_object(payload: bytes) -> dict[str, Any]:
    if payload.lstrip()[:1] == b"<":
        raise _Unreadable("HTML page, expected JSON")
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise _Unreadable("invalid JSON") from None
    if not isinstance(doc, dict):
        raise _Unreadable("unexpected JSON shape: not an object")
    return doc


def _leaves(doc: dict[str, Any]) -> list[_Leaf]:
    raw = doc.get("components")
    if not isinstance(raw, list):
        raise _Unreadable("unexpected JSON shape: no components list")
    group_names: dict[str, str] = {}
    for c in raw:
        if not (isinstance(c, dict) and isinstance(c.get("name"), str)):
            raise _Unreadable("unexpected JSON shape: a component without a name")
        if c.get("group") is True:
            group_names[str(c.get("id"))] = c["name"].strip()

    parts: list[tuple[str | None, str, str | None, Status, str]] = []
    counts: dict[str, int] = {}
    for c in raw:
        if c.get("group") is True:
            continue
        raw_status = c.get("status")
        status = STATUS_MAP.get(raw_status, Status.UNKNOWN) if isinstance(raw_status, str) else Status.UNKNOWN
        detail = (
            "" if status is not Status.UNKNOWN else f"unrecognised status '{_short(str(raw_status), 40)}'"
        )
        group_id = c.get("group_id")
        leaf_name = c["name"].strip()
        key = leaf_name.casefold()
        counts[key] = counts.get(key, 0) + 1
        cid = c.get("id")
        parts.append((
            None if cid is None else str(cid),
            leaf_name,
            group_names.get(str(group_id)) if group_id is not None else None,
            status,
            detail,
        ))
    leaves: list[_Leaf] = []
    for cid, leaf_name, group, status, detail in parts:
        full_name = f"{group} / {leaf_name}" if group else leaf_name
        name = full_name if counts[leaf_name.casefold()] > 1 else leaf_name
        leaves.append(_Leaf(cid, name, leaf_name, full_name, group, status, detail))
    return leaves


def _passes(leaf: _Leaf, wanted: set[str]) -> bool:
    """A filter entry names the leaf, its "Group / Name", or its group (which keeps the whole group)."""
    return (
        leaf.leaf_name.casefold() in wanted
        or leaf.full_name.casefold() in wanted
        or (leaf.group is not None and leaf.group.casefold() in wanted)
    )


def _readings(
    leaves: list[_Leaf], components_filter: tuple[str, ...], wanted: set[str]
) -> tuple[ComponentReading, ...]:
    kept = [leaf for leaf in leaves if _passes(leaf, wanted)] if wanted else leaves
    readings = [ComponentReading(name=x.name, status=x.status, detail=x.detail, group=x.group) for x in kept]
    if not components_filter:
        return tuple(readings)
    seen_keys = {key.casefold() for leaf in kept for key in (leaf.leaf_name, leaf.full_name, leaf.group) if key}
    for name in dict.fromkeys(components_filter):  # keeps the filter's order, drops repeats
        if name.casefold() not in seen_keys:
            readings.append(ComponentReading(name=name, status=Status.UNKNOWN, detail=MISSING_DETAIL))
            seen_keys.add(name.casefold())
    return tuple(readings)


def _incident_list(doc: dict[str, Any], *, optional: bool = False) -> list[Any]:
    raw = doc.get("incidents")
    if raw is None and optional:
        return []  # OpenAI's all-clear summary has no `incidents` key at all
    if not isinstance(raw, list):
        raise _Unreadable("unexpected JSON shape: no incidents list")
    return raw


def _incidents(raw: list[Any], leaves: list[_Leaf], wanted: set[str]) -> tuple[ProviderIncident, ...]:
    by_id = {leaf.id: leaf for leaf in leaves if leaf.id is not None}
    out: list[ProviderIncident] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        status = str(item.get("status") or "").strip().lower()
        impact = str(item.get("impact") or "none").strip().lower()
        if status in CLOSED_INCIDENT_STATUSES or status in MAINTENANCE_STATUSES or impact == "maintenance":
            continue
        latest = _latest_update(item.get("incident_updates"))
        named = _incident_components(item, latest, by_id)
        if wanted and named and not any(_named_passes(n, leaf, wanted) for n, leaf in named):
            continue
        shortlink = item.get("shortlink")
        out.append(
            ProviderIncident(
                id=str(item.get("id") or ""),
                title=_short(str(item.get("name") or "(untitled incident)"), 200),
                status=status or "unknown",
                impact=impact,
                latest_update=_short(_clean(str(latest.get("body") or "")), UPDATE_MAX_CHARS)
                if latest
                else "",
                updated_at=_timestamp(item.get("updated_at")) or (_update_time(latest) if latest else None),
                url=shortlink if isinstance(shortlink, str) and shortlink else None,
                components=tuple(dict.fromkeys(n for n, _ in named)),
            )
        )
    return tuple(out)


def _maintenances(doc: dict[str, Any], leaves: list[_Leaf], wanted: set[str]) -> tuple[ProviderMaintenance, ...]:
    """summary.json's `scheduled_maintenances` not yet completed (upcoming and in progress), those about the
    filtered components only when the monitor has a filter. A shape we do not know reads as none: the
    maintenances are news, never a reason to call the page unreadable."""
    raw = doc.get("scheduled_maintenances")
    by_id = {leaf.id: leaf for leaf in leaves if leaf.id is not None}
    out: list[ProviderMaintenance] = []
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict):
            continue
        status = str(item.get("status") or "").strip().lower()
        if status not in MAINTENANCE_STATUSES:
            continue  # completed (or a word we do not know): nothing to show
        named = _incident_components(item, None, by_id)
        if wanted and named and not any(_named_passes(n, leaf, wanted) for n, leaf in named):
            continue
        shortlink = item.get("shortlink")
        out.append(ProviderMaintenance(
            id=str(item.get("id") or ""),
            name=_short(str(item.get("name") or "(untitled maintenance)"), 200),
            status=status,
            starts_at=_timestamp(item.get("scheduled_for")),
            ends_at=_timestamp(item.get("scheduled_until")),
            components=tuple(dict.fromkeys(n for n, _ in named)),
            url=shortlink if isinstance(shortlink, str) and shortlink else None,
        ))
    return tuple(out)


def _incident_components(
    item: dict[str, Any], latest: dict[str, Any] | None, by_id: dict[str, _Leaf]
) -> list[tuple[str, _Leaf | None]]:
    """Names the incident attributes to itself: its `components`, else the latest update's affected ones."""
    listed = item.get("components")
    source: Iterable[Any] = listed if isinstance(listed, list) and listed else ()
    id_key = "id"
    if not source and latest is not None:
        affected = latest.get("affected_components")
        source = affected if isinstance(affected, list) else ()
        id_key = "code"
    named: list[tuple[str, _Leaf | None]] = []
    for c in source:
        if not isinstance(c, dict):
            continue
        leaf = by_id.get(str(c.get(id_key))) if c.get(id_key) is not None else None
        if leaf is not None:
            named.append((leaf.name, leaf))
            continue
        name = c.get("name")
        if isinstance(name, str) and name.strip() and name.strip().casefold() != NO_COMPONENTS_PLACEHOLDER:
            named.append((name.strip(), None))
    return named


def _named_passes(name: str, leaf: _Leaf | None, wanted: set[str]) -> bool:
    return _passes(leaf, wanted) if leaf is not None else name.casefold() in wanted


def _latest_update(updates: Any) -> dict[str, Any] | None:
    candidates = [u for u in updates if isinstance(u, dict)] if isinstance(updates, list) else []
    if not candidates:
        return None
    oldest = datetime.min.replace(tzinfo=UTC)
    return max(
        candidates,
        key=lambda u: (_update_time(u) or oldest, _timestamp(u.get("created_at")) or oldest),
    )


def _update_time(update: dict[str, Any]) -> datetime | None:
    return _timestamp(update.get("display_at")) or _timestamp(update.get("created_at"))


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _clean(text: str) -> str:
    """Trim, and collapse runs of blank lines (bodies are Markdown-ish with \\r\\n)."""
    text = text.replace("\r\n", "\n").strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- the fetching shell


@dataclass(frozen=True)
class Fetched:
    body: bytes


@dataclass(frozen=True)
class FetchFailed:
    detail: str
    answered: bool = True  # False: no HTTP answer at all (the network, DNS, TLS, a timeout)
    moved: bool = False  # 404/410 or an HTML page where a document was expected: the page may have moved


def drift_hint(monitor: Monitor, failed: FetchFailed) -> str:
    """The detail of a failed fetch, plus what to do when a preset's endpoint looks moved (issue 11, item 5)."""
    if not (failed.moved and monitor.preset):
        return failed.detail
    return (f"{failed.detail}; the provider may have moved its status page: "
            f"run `downwatch discover {monitor.page or monitor.url}`")


async def check_statuspage(
    monitor: StatuspageMonitor, *, client: httpx.AsyncClient, now: Callable[[], datetime], last: LastBody | None = None
) -> CheckResult:
    """Fetch summary.json, incidents/unresolved.json and components.json concurrently (each within
    monitor.timeout) and parse; `last` is the monitor's LastBody."""
    at = now()
    base = monitor.url.rstrip("/")
    started = time.perf_counter()
    summary, unresolved, listed = await asyncio.gather(
        fetch_json(client, base + SUMMARY_PATH, timeout=monitor.timeout, max_bytes=monitor.max_body_bytes),
        fetch_json(client, base + UNRESOLVED_PATH, timeout=monitor.timeout, max_bytes=monitor.max_body_bytes),
        fetch_json(client, base + COMPONENTS_PATH, timeout=monitor.timeout, max_bytes=monitor.max_body_bytes),
    )
    latency_ms = (time.perf_counter() - started) * 1000.0
    if isinstance(summary, FetchFailed):
        return CheckResult(
            monitor=monitor.name, at=at, readable=False, detail=drift_hint(monitor, summary), latency_ms=latency_ms,
            reached=summary.answered,
        )
    result = parse_statuspage(
        monitor=monitor.name,
        summary=summary.body,
        unresolved=unresolved.body if isinstance(unresolved, Fetched) else None,
        components_filter=monitor.components,
        at=at,
        components=listed.body if isinstance(listed, Fetched) else None,
        last=last,
    )
    if result.readable and isinstance(unresolved, FetchFailed):
        note = f"unresolved.json: {unresolved.detail}; incidents from summary.json"
        result = replace(result, detail="; ".join(filter(None, (note, result.detail))))
    return replace(result, latency_ms=latency_ms)


async def fetch_json(
    client: httpx.AsyncClient, url: str, *, timeout: float, max_bytes: int, accept: str = "application/json"
) -> Fetched | FetchFailed:
    """GET one JSON document (or what `accept` names): its bytes, or why it could not be read. `timeout`
    bounds the whole fetch."""
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(client, url, timeout=timeout, max_bytes=max_bytes, accept=accept)
    except REQUEST_FAILURES as exc:
        return FetchFailed(describe_failure(exc, timeout=timeout), answered=False)


async def _fetch(
    client: httpx.AsyncClient, url: str, *, timeout: float, max_bytes: int, accept: str
) -> Fetched | FetchFailed:
    headers = {"Accept": accept}
    async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
        is_html = "html" in response.headers.get("content-type", "").lower()
        redirected = " after a redirect" if response.history else ""
        if response.status_code >= 300:
            kind = " (HTML page)" if is_html else ""
            gone = response.status_code in (404, 410)
            return FetchFailed(f"HTTP {response.status_code}{kind}{redirected}", moved=gone)
        if is_html:
            expected = "JSON" if "json" in accept else "a feed" if "xml" in accept else "a document"
            return FetchFailed(f"HTTP {response.status_code} (HTML page, expected {expected}){redirected}", moved=True)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes:
            return FetchFailed(f"body over {format_size(max_bytes)}")
        body = bytearray()
        async for chunk in read_capped(response, max_bytes):
            body += chunk
            if len(body) > max_bytes:
                return FetchFailed(f"body over {format_size(max_bytes)}")
        return Fetched(bytes(body))


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)


class _StatuspageKind:
    type = "statuspage"
    keys = frozenset({"components", "max_body_bytes"})
    records_probes = False  # a page's components are stored as readings, not as probe rows

    def __init__(self) -> None:
        # One LastBody per monitor, as bot/checks/source.py keeps: weak keys, so a monitor dropped from the
        # config takes its last bodies with it.
        self._last: weakref.WeakKeyDictionary[Monitor, LastBody] = weakref.WeakKeyDictionary()

    def parse(self, check: Checker, where: str, table: Mapping[str, object], common: Common) -> Monitor | None:
        ok = not common.url or check.url(f"{where}url", common.url) is not None
        comps = table.get("components", [])
        if not isinstance(comps, list) or not all(isinstance(c, str) and c for c in comps):
            check.error(f"{where}components", "must be a list of component names")
            ok, comps = False, []
        cap = check.number(f"{where}max_body_bytes", table.get("max_body_bytes", MAX_BODY_BYTES), kind=int,
                           minimum=1024, exclusive=False)
        if not ok or cap is None:
            return None
        return StatuspageMonitor(components=tuple(comps), max_body_bytes=int(cap), **vars(common))

    async def run(self, monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime]) -> CheckResult:
        if not isinstance(monitor, StatuspageMonitor):
            raise TypeError(f"not a status page monitor: {monitor.name}")
        last = self._last.get(monitor)
        if last is None:
            last = self._last[monitor] = LastBody()
        return await check_statuspage(monitor, client=client, now=now, last=last)


STATUSPAGE = _StatuspageKind()
