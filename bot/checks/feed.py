"""RSS and Atom feeds (via feedparser), for pages that publish nothing else: Azure, AWS's legacy RSS, and the
history feeds of Statuspage and incident.io pages.

An item is an open provider incident until the newest item or update of its incident says resolved or
completed. Where a feed has no status words at all (Azure), an item counts as open while it was updated
within `open_for` of `at`: those feeds list current and recent events only.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from bot.checks.payload import (
    IMPACT_OF,
    LastBody,
    Unreadable,
    passes,
    per_entry,
    plain,
    read_with,
    text_of,
    title_text,
    unreadable,
    update_text,
    wanted,
)
from bot.checks.source import FEED, SourceKind, one_document
from bot.model import CheckResult, ProviderIncident, Status, worst

OPEN_FOR = timedelta(days=3)

# The component statuses incident.io writes in its feed items ("Connectors/Apps (Degraded performance)").
COMPONENT_WORDS: dict[str, Status] = {
    "operational": Status.OPERATIONAL,
    "degraded performance": Status.DEGRADED,
    "partial outage": Status.PARTIAL,
    "full outage": Status.MAJOR,
    "major outage": Status.MAJOR,
    "under maintenance": Status.MAINTENANCE,
}
_BY_IMPACT = {"critical": Status.MAJOR, "major": Status.PARTIAL}
CLOSED = frozenset({"resolved", "completed", "postmortem", "closed", "operational"})
MAINTENANCE = frozenset({"scheduled", "in progress", "verifying", "maintenance"})
# AWS's legacy RSS says where an event stands in its title's prefix.
AWS_PREFIXES: dict[str, tuple[str, str]] = {
    "service is operating normally": ("resolved", "none"),
    "informational message": ("informational", "minor"),
    "service degradation": ("degraded", "minor"),
    "service impact": ("impact", "minor"),
    "service disruption": ("disruption", "major"),
}
ROOTS = (b"</rss>", b"</feed>", b"</rdf:RDF>")

_STATUS_LINE = re.compile(r"Status:\s*([A-Za-z][A-Za-z _-]{0,30}?)\s*(?:<|\n|$)", re.IGNORECASE)
_STRONG = re.compile(r"<(?:strong|b)>\s*([A-Za-z][A-Za-z ]{0,30}?)\s*</(?:strong|b)>", re.IGNORECASE)
_AFFECTED = re.compile(r"Affected components.*?<ul>(.*?)</ul>", re.IGNORECASE | re.DOTALL)
_ITEM = re.compile(r"<li>(.*?)</li>", re.IGNORECASE | re.DOTALL)
_NAMED_STATUS = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_LEADING_STATUS = re.compile(r"^\s*Status:[^\n]*\n*", re.IGNORECASE)
_BRACKET = re.compile(r"^\[([^\]]+)\]\s*")
_SERIAL = re.compile(r"^(.+)_\d{9,}$")  # AWS: one item per update, guid "…#service-region_<epoch>"


@dataclass(frozen=True)
class _Item:
    key: str
    title: str
    link: str | None
    when: datetime | None
    status: str | None  # lower-case status word, None when the item has none
    impact: str
    components: tuple[tuple[str, Status | None], ...]
    text: str
    order: int


def read(body: bytes) -> tuple[tuple[_Item, ...], str]:
    """The newest item of each incident (newest first), and a note when the XML had to be read leniently."""
    entries, note = _entries(body)
    newest: dict[str, _Item] = {}
    for item in (_item(e, k) for k, e in enumerate(entries) if isinstance(e, dict)):
        held = newest.get(item.key)
        if held is None or _newer(item, held):
            newest[item.key] = item
    return tuple(sorted(newest.values(), key=lambda i: i.order)), note


def parse(
    body: bytes,
    *,
    monitor: str,
    at: datetime,
    only: tuple[str, ...] = (),
    open_for: timedelta = OPEN_FOR,
    last: LastBody | None = None,
) -> CheckResult:
    """Pure (with `last`, an unchanged feed is not read again): the feed's open incidents; components are the
    filter's entries (see payload.per_entry)."""
    try:
        items, note = read_with(last, body, read)
    except Unreadable as exc:
        return unreadable(monitor, at, str(exc))

    want = wanted(only)
    statuses: dict[str, Status] = {}
    incidents = []
    for item in items:
        if not _open(item, at, open_for):
            continue
        names = [name for name, _ in item.components]
        if want and names and not any(passes(want, n) for n in names):
            continue
        for name, status in item.components:
            key = name.casefold()
            if key in want:
                # A component the item names without a status reads as bad as the item's impact says.
                seen = status if status is not None else _BY_IMPACT.get(item.impact, Status.DEGRADED)
                statuses[key] = worst([statuses.get(key, Status.OPERATIONAL), seen])
        incidents.append(
            ProviderIncident(
                id=item.key,
                title=item.title,
                status=item.status or "ongoing",
                impact=item.impact,
                latest_update=item.text,
                updated_at=item.when,
                url=item.link,
                components=tuple(dict.fromkeys(names)),
            )
        )
    return CheckResult(
        monitor=monitor,
        at=at,
        readable=True,
        components=per_entry(only, statuses),
        incidents=tuple(incidents),
        detail=note,
    )


def _entries(body: bytes) -> tuple[list[Any], str]:
    head = body.lstrip()[:512].lower()
    if not head:
        raise Unreadable("empty body, expected an RSS or Atom feed")
    if head.startswith((b"{", b"[")):
        raise Unreadable("JSON, expected an RSS or Atom feed")
    # Sanitising and URI resolution are for displaying HTML; we only read text out of it.
    doc = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if not doc.get("version"):
        kind = "HTML page" if b"<html" in head or b"<!doctype html" in head else "not a feed"
        raise Unreadable(f"{kind}, expected an RSS or Atom feed")
    note = ""
    if doc.get("bozo"):
        if not body.rstrip().endswith(ROOTS):
            raise Unreadable("malformed feed XML (cut short?)")
        note = "malformed feed XML, read leniently"
    return list(doc.get("entries") or ()), note


def _item(entry: dict[str, Any], order: int) -> _Item:
    raw_title = text_of(entry.get("title"))
    content = entry.get("content")
    html = (
        text_of(content[0].get("value"))
        if isinstance(content, list) and content and isinstance(content[0], dict)
        else ""
    )
    html = html or text_of(entry.get("summary"))
    key = text_of(entry.get("id")) or text_of(entry.get("link")) or raw_title
    serial = _SERIAL.match(key)
    components: list[tuple[str, Status | None]] = []
    if serial:
        key = serial.group(1)
        if "#" in key:  # AWS: "…#ec2-us-east-1" names the service and region
            components.append((key.rsplit("#", 1)[1], None))

    status, impact = _status(raw_title, html)
    components += _components(html)
    bracket = _BRACKET.match(raw_title)
    if bracket:
        components.append((bracket.group(1).strip(), None))
    for tag in entry.get("tags") or ():
        term = text_of(tag.get("term")) if isinstance(tag, dict) else ""
        if term:
            components.append((term, None))
    known = [s for _, s in components if s is not None]
    if known and impact == "none":
        impact = IMPACT_OF.get(worst(known), "none")
    return _Item(
        key=key,
        title=title_text(raw_title),
        link=text_of(entry.get("link")) or None,
        when=_when(entry),
        status=status,
        impact=impact,
        components=tuple(dict.fromkeys(components)),
        text=update_text(_LEADING_STATUS.sub("", plain(html), count=1)),
        order=order,
    )


def _status(title: str, html: str) -> tuple[str | None, str]:
    """The item's status word (newest update first, as Statuspage and incident.io write them) and impact."""
    lowered = title.casefold()
    for prefix, (word, impact) in AWS_PREFIXES.items():
        if lowered.startswith(prefix):
            return ("resolved" if "[resolved]" in lowered else word), impact
    if "[resolved]" in lowered:
        return "resolved", "none"
    line = _STATUS_LINE.search(html)
    if line:
        return line.group(1).strip().lower(), "none"
    for match in _STRONG.finditer(html):
        word = match.group(1).strip().lower()
        if word != "update" and word != "affected components":
            return word, "none"
    return None, "none"


def _components(html: str) -> list[tuple[str, Status | None]]:
    block = _AFFECTED.search(html)
    if not block:
        return []
    out: list[tuple[str, Status | None]] = []
    for li in _ITEM.findall(block.group(1)):
        text = plain(li)
        named = _NAMED_STATUS.match(text)
        if named and named.group(2).strip().lower() in COMPONENT_WORDS:
            out.append((named.group(1).strip(), COMPONENT_WORDS[named.group(2).strip().lower()]))
        elif text:
            out.append((text, None))
    return out


def _when(entry: dict[str, Any]) -> datetime | None:
    for key in ("updated_parsed", "published_parsed"):
        parsed = dict.get(entry, key)  # FeedParserDict.get maps updated→published with a DeprecationWarning
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _newer(item: _Item, held: _Item) -> bool:
    if item.when is not None and held.when is not None and item.when != held.when:
        return item.when > held.when
    return item.order < held.order  # feeds list newest first


def _open(item: _Item, at: datetime, open_for: timedelta) -> bool:
    if item.status is not None:
        return item.status not in CLOSED and item.status not in MAINTENANCE
    return item.when is not None and item.when >= at - open_for


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)



# Feeds of every incident a provider ever had run to megabytes (AWS's legacy RSS, Azure's); read up to 8 MiB.
FEED_KIND = SourceKind("feed", read=one_document(parse), accept=FEED, max_body_bytes=8 * 1024 * 1024)
