"""What a status page is: probe its known endpoints and classify the answers (`downwatch discover URL`).

Pure apart from the injected `fetch`: the caller owns the HTTP client, its timeouts and size limits, and
turns every transport failure into a `FetchFailed` value. The result is a `Found` with the source type, the
URL to poll, the components with their groups and a ready-to-paste `[[monitors]]` block, or a `NotFound`
whose reason a person can act on.
"""

from __future__ import annotations

import codecs
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

SUMMARY_PATH = "/api/v2/summary.json"
UNRESOLVED_PATH = "/api/v2/incidents/unresolved.json"
BETTERSTACK_PATH = "/index.json"
INSTATUS_PATH = "/summary.json"
FEED_PATHS = ("/history.rss", "/feed.rss", "/history.atom", "/feed.atom", "/feed.xml", "/feed")
# Statuspage component ids are 12 characters, incident.io's ULIDs 26 (PROVIDERS.md, "Detecting a platform").
STATUSPAGE_ID_LENGTH = 12
INCIDENTIO_ID_LENGTH = 26
INSTATUS_STATES = frozenset({"UP", "HASISSUES", "UNDERMAINTENANCE", "ONEMAJOROUTAGE", "MAJOROUTAGE", "MINOROUTAGE"})
STATUSIO_API = re.compile(r"(https://api\.status\.io/1\.0/status/[0-9a-f]{24})")
ATOM = "{http://www.w3.org/2005/Atom}"
# A components list longer than this is summarised by group in the pasted block instead of listed.
MAX_LISTED_COMPONENTS = 60


@dataclass(frozen=True)
class Response:
    """What `fetch` got: the status, the Content-Type header, the body and (if known) the final URL."""

    status: int
    content_type: str
    body: bytes
    url: str = ""


@dataclass(frozen=True)
class FetchFailed:
    """`fetch` could not get an answer (refused, timed out, TLS, too large…); `reason` says which."""

    reason: str


Fetch = Callable[[str], Awaitable[Response | FetchFailed]]


@dataclass(frozen=True)
class Component:
    name: str
    group: str | None = None


@dataclass(frozen=True)
class Found:
    type: str  # a source type: statuspage, incidentio, betterstack, instatus, statusio, feed, slack, gcp, heroku, aws
    url: str  # what the monitor's `url` is: the page's base URL or the endpoint, per type
    components: tuple[Component, ...]
    toml: str  # a [[monitors]] block, ready to paste
    title: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotFound:
    reason: str
    tried: tuple[str, ...] = ()  # "GET <url>: <what came back>", in order


@dataclass(frozen=True)
class _Page:
    """What a classifier makes of one answer, before the [[monitors]] block is written."""

    type: str
    url: str
    title: str = ""
    components: tuple[Component, ...] = ()
    notes: tuple[str, ...] = ()


class _Probe:
    """Fetches each URL once and keeps a line per answer for the NotFound reason."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._seen: dict[str, Response | FetchFailed] = {}
        self.tried: list[str] = []

    async def get(self, url: str) -> Response | FetchFailed:
        if url not in self._seen:
            answer = await self._fetch(url)
            self._seen[url] = answer
            self.tried.append(f"GET {url}: {_describe(answer)}")
        return self._seen[url]

    def answers(self) -> list[Response | FetchFailed]:
        return list(self._seen.values())


async def discover(url: str, fetch: Fetch) -> Found | NotFound:
    """Probe the page at `url` and say what source it is, trying the known endpoints in a fixed order."""
    target = url.strip()
    if "://" not in target:
        target = "https://" + target
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return NotFound(f"'{url}' is not an http(s) URL")
    host = parts.hostname
    base = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    probe = _Probe(fetch)

    page = await _probe_all(probe, target, base, host)
    if page is not None:
        return Found(
            type=page.type,
            url=page.url,
            components=page.components,
            toml=monitor_block(page.title or host, page.type, page.url, page.components),
            title=page.title,
            notes=page.notes,
        )
    return NotFound(_why_not(probe, host), tuple(probe.tried))


async def _probe_all(probe: _Probe, target: str, base: str, host: str) -> _Page | None:
    # The URL itself first: it may be an endpoint (a feed, summary.json, an API) rather than the page.
    first = await probe.get(target)
    if isinstance(first, Response) and first.status == 200:
        page = _classify_endpoint(target, first)
        if page is not None:
            return page
    base = _strip_known_suffix(base)  # summary.json given: probed again from its page, cached

    summary = await probe.get(base + SUMMARY_PATH)
    doc = _json_object(summary)
    if doc is not None and _is_instatus(doc):
        return _instatus(base, doc)
    sp = _statuspage(base, doc) if doc is not None else None
    ids = _component_ids(doc) if doc is not None else []
    incidentio_ids = bool(ids) and all(len(i) == INCIDENTIO_ID_LENGTH for i in ids)
    if sp is not None and ids and all(len(i) == STATUSPAGE_ID_LENGTH for i in ids):
        return sp

    native = _incidentio(base, _json_object(await probe.get(f"{base}/proxy/{host}")))
    if native is not None:
        unresolved = await probe.get(base + UNRESOLVED_PATH)
        if isinstance(unresolved, Response) and unresolved.status == 404:
            note = "incident.io: the compatible incidents/unresolved.json answers 404, so read the native API"
            return _with_notes(native, note)
        return native
    if sp is not None:
        if incidentio_ids:
            note = (
                "component ids look like incident.io's, but its native API did not answer: reading the "
                "Statuspage-compatible API, which can miss incidents"
            )
            return _with_notes(sp, note)
        return sp

    betterstack = _json_object(await probe.get(base + BETTERSTACK_PATH))
    if betterstack is not None and _is_betterstack(betterstack):
        return _betterstack(base, betterstack)

    instatus = _json_object(await probe.get(base + INSTATUS_PATH))
    if instatus is not None and _is_instatus(instatus):
        return _instatus(base, instatus)

    html = first.body if isinstance(first, Response) and _is_html(first) else b""
    statusio = STATUSIO_API.search(html.decode("utf-8", "replace"))
    if statusio is not None:
        api = statusio.group(1)
        answer = await probe.get(api)
        if isinstance(answer, Response) and answer.status == 200:
            page = _classify_endpoint(api, answer)
            if page is not None and page.type == "statusio":
                return page

    for feed_url in (*_feed_links(html, target), *(base + p for p in FEED_PATHS)):
        answer = await probe.get(feed_url)
        if isinstance(answer, Response) and answer.status == 200:
            page = _feed(feed_url, answer.body)
            if page is not None:
                return page
    return None


def _why_not(probe: _Probe, host: str) -> str:
    answers = probe.answers()
    responses = [a for a in answers if isinstance(a, Response)]
    if not responses:
        reasons = sorted({a.reason for a in answers if isinstance(a, FetchFailed)})
        return f"could not reach {host}: {'; '.join(reasons)}"
    if _is_parked(host, responses):
        return (
            f"{host} is a parked Statuspage page: it serves Atlassian's marketing page, not a status page "
            "(the page was deleted or never claimed)"
        )
    if any(r.status == 200 and _is_html(r) for r in responses):
        return (
            f"{host} is an HTML page with no status API that downwatch reads: none of the known endpoints "
            "(Statuspage, incident.io, Better Stack, Instatus, Status.io, RSS/Atom) answered"
        )
    if all(r.status == 404 for r in responses):
        return f"404 everywhere: {host} has none of the known status endpoints"
    return f"no status source found on {host}"


def _is_parked(host: str, responses: Iterable[Response]) -> bool:
    """An unclaimed *.statuspage.io page, or any answer that is Atlassian's Statuspage marketing page."""
    answers = list(responses)
    if host.endswith(".statuspage.io") and not any(_json_value(r) is not None for r in answers):
        return True
    for r in answers:
        final = urlsplit(r.url)
        if (final.hostname or "").endswith("atlassian.com") and final.path.startswith("/software/statuspage"):
            return True
        if _is_html(r) and re.search(rb"<title>[^<]*Statuspage[^<]*Atlassian[^<]*</title>", r.body, re.I):
            return True
    return False


# ------------------------------------------------------------------ classifying one answer


def _classify_endpoint(url: str, answer: Response) -> _Page | None:
    """A page from an answer at a URL the user gave, judged by its shape alone.

    A Statuspage summary is left to the probes from its base URL, which also tell incident.io's apart.
    """
    feed = _feed(url, answer.body)
    if feed is not None:
        return feed
    value = _json_value(answer)
    if isinstance(value, dict):
        if _is_instatus(value):
            return _instatus(_strip_known_suffix(url), value)
        if isinstance(value.get("summary"), dict):
            page = _incidentio(_strip_known_suffix(url), value)
            if page is not None:
                return page
        if _is_betterstack(value):
            return _betterstack(_strip_known_suffix(url), value)
        statusio = _statusio(url, value)
        if statusio is not None:
            return statusio
        if isinstance(value.get("active_incidents"), list) and isinstance(value.get("status"), str):
            return _Page("slack", url, "Slack")
        if _is_heroku(value):
            return _heroku(url, value)
    if value == [] and urlsplit(url).path.endswith("/currentevents"):
        return _Page("aws", url, "AWS", notes=("no open events right now; filter with `services` and `regions`",))
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        if all("begin" in x and "affected_products" in x for x in value):
            return _gcp(url, value)
        if all("service" in x and "region_name" in x for x in value):
            return _Page("aws", url, "AWS", notes=("filter with `services` and `regions`",))
    return None


def _statuspage(base: str, doc: dict[str, Any]) -> _Page | None:
    raw = doc.get("components")
    if not isinstance(raw, list) or not isinstance(doc.get("page"), dict):
        return None
    groups = {
        str(c.get("id")): str(c.get("name", "")).strip()
        for c in raw
        if isinstance(c, dict) and c.get("group") is True
    }
    components = tuple(
        Component(str(c["name"]).strip(), groups.get(str(c.get("group_id"))) if c.get("group_id") else None)
        for c in raw
        if isinstance(c, dict) and isinstance(c.get("name"), str) and c.get("group") is not True
    )
    return _Page("statuspage", base, _title(doc["page"].get("name")), components)


def _component_ids(doc: dict[str, Any]) -> list[str]:
    raw = doc.get("components")
    if not isinstance(raw, list):
        return []
    return [str(c["id"]) for c in raw if isinstance(c, dict) and isinstance(c.get("id"), str)]


def _incidentio(base: str, doc: dict[str, Any] | None) -> _Page | None:
    """incident.io's native `/proxy/<host>`: {summary: {components, affected_components, structure}}."""
    summary = doc.get("summary") if doc is not None else None
    if not isinstance(summary, dict) or not isinstance(summary.get("components"), list):
        return None
    group_of: dict[str, str] = {}
    structure = summary.get("structure")
    items = structure.get("items") if isinstance(structure, dict) else None
    for item in items if isinstance(items, list) else []:
        group = item.get("group") if isinstance(item, dict) else None
        if isinstance(group, dict) and isinstance(group.get("name"), str):
            for member in group.get("components") or []:
                if isinstance(member, dict) and member.get("component_id") is not None:
                    group_of[str(member["component_id"])] = group["name"].strip()
    components = tuple(
        Component(c["name"].strip(), group_of.get(str(c.get("id"))))
        for c in summary["components"]
        if isinstance(c, dict) and isinstance(c.get("name"), str)
    )
    return _Page("incidentio", base, _title(summary.get("name")), components)


def _is_betterstack(doc: dict[str, Any]) -> bool:
    data = doc.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    return isinstance(attributes, dict) and "aggregate_state" in attributes


def _betterstack(base: str, doc: dict[str, Any]) -> _Page:
    """Better Stack's JSON:API index.json: resources (components) in sections (groups)."""
    included = [x for x in doc.get("included") or [] if isinstance(x, dict)]
    sections = {
        str(x.get("id")): str(x["attributes"].get("name") or "").strip()
        for x in included
        if x.get("type") == "status_page_section" and isinstance(x.get("attributes"), dict)
    }
    components = []
    for x in included:
        attributes = x.get("attributes")
        if x.get("type") != "status_page_resource" or not isinstance(attributes, dict):
            continue
        name = attributes.get("public_name") or attributes.get("name")
        if isinstance(name, str) and name.strip():
            section = sections.get(str(attributes.get("status_page_section_id")))
            components.append(Component(name.strip(), section or None))
    title = doc["data"]["attributes"].get("company_name")
    return _Page("betterstack", base, _title(title), tuple(components))


def _is_instatus(doc: dict[str, Any]) -> bool:
    page = doc.get("page")
    return isinstance(page, dict) and page.get("status") in INSTATUS_STATES and "components" not in doc


def _instatus(base: str, doc: dict[str, Any]) -> _Page:
    return _Page("instatus", base, _title(doc["page"].get("name")))


def _statusio(url: str, doc: dict[str, Any]) -> _Page | None:
    """Status.io's public API: result.status_overall, result.status[{name, containers[{name}]}]."""
    result = doc.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("status_overall"), dict):
        return None
    # Each item's `containers` are where it runs (regions, clouds); the item is what a user names.
    components = tuple(
        Component(item["name"].strip())
        for item in result.get("status") or []
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    )
    return _Page("statusio", url, "", components)


def _is_heroku(doc: dict[str, Any]) -> bool:
    systems = doc.get("status")
    return (
        isinstance(systems, list)
        and bool(systems)
        and all(isinstance(s, dict) and "system" in s for s in systems)
    )


def _heroku(url: str, doc: dict[str, Any]) -> _Page:
    components = tuple(Component(str(s["system"]).strip()) for s in doc["status"])
    return _Page("heroku", url, "Heroku", components)


def _gcp(url: str, incidents: list[dict[str, Any]]) -> _Page:
    """Google Cloud incidents.json: the products named in its incidents (its products.json lists all)."""
    seen: dict[str, None] = {}
    for incident in incidents:
        for product in incident.get("affected_products") or []:
            if isinstance(product, dict) and isinstance(product.get("title"), str):
                seen.setdefault(product["title"].strip(), None)
    note = "products are those named in recent incidents; filter with `products`"
    return _Page("gcp", url, "Google Cloud", tuple(Component(p) for p in seen), (note,))


def _feed(url: str, body: bytes) -> _Page | None:
    """An RSS 2.0 or Atom document (no components: a feed lists incidents, not parts)."""
    head = body.lstrip()[:512].lower()
    if not (head.startswith(b"<?xml") or head.startswith(b"<rss") or head.startswith(b"<feed")):
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag == "rss":
        channel = root.find("channel")
        title = channel.findtext("title", "") if channel is not None else ""
    elif root.tag == f"{ATOM}feed":
        title = root.findtext(f"{ATOM}title", "")
    else:
        return None
    return _Page("feed", url, _title(re.sub(r"\s*-\s*Incident History\s*$", "", title or "")))


class _FeedLinks(HTMLParser):
    """`<link rel="alternate" type="application/rss+xml|atom+xml" href>` in a page's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if (
            tag == "link"
            and "alternate" in (found.get("rel") or "").lower().split()
            and (found.get("type") or "").lower() in ("application/rss+xml", "application/atom+xml")
            and found.get("href")
        ):
            self.hrefs.append(str(found["href"]))


def _feed_links(html: bytes, page_url: str) -> list[str]:
    if not html:
        return []
    parser = _FeedLinks()
    parser.feed(html.decode("utf-8", "replace"))
    return [urljoin(page_url, href) for href in parser.hrefs]


# ------------------------------------------------------------------ answers


def _json_value(answer: Response | FetchFailed) -> object | None:
    """The JSON in a 200 answer (UTF-8, or UTF-16/32 by its byte-order mark as AWS sends), else None."""
    if not isinstance(answer, Response) or answer.status != 200 or _is_html(answer):
        return None
    body = answer.body
    try:
        if body.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)):
            text = body.decode("utf-16")
        else:
            text = body.decode("utf-8-sig")
        return json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None


def _json_object(answer: Response | FetchFailed) -> dict[str, Any] | None:
    value = _json_value(answer)
    return value if isinstance(value, dict) else None


def _is_html(answer: Response) -> bool:
    """A 200 that is HTML is never a source: a page's own HTML, a login wall, a parked page."""
    if "html" in answer.content_type.lower():
        return True
    head = answer.body.lstrip()[:64].lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


def _describe(answer: Response | FetchFailed) -> str:
    if isinstance(answer, FetchFailed):
        return answer.reason
    kind = "HTML" if _is_html(answer) else (answer.content_type.split(";")[0].strip() or "no Content-Type")
    return f"{answer.status} ({kind}, {len(answer.body)} bytes)"


def _strip_known_suffix(url: str) -> str:
    for suffix in (SUMMARY_PATH, BETTERSTACK_PATH, INSTATUS_PATH, *FEED_PATHS):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    match = re.search(r"/proxy/[^/]+$", url)
    return url[: match.start()] if match else url.rstrip("/")


def _with_notes(page: _Page, *notes: str) -> _Page:
    return _Page(page.type, page.url, page.title, page.components, (*page.notes, *notes))


def _title(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


# ------------------------------------------------------------------ the [[monitors]] block


def monitor_block(name: str, source_type: str, url: str, components: tuple[Component, ...]) -> str:
    """A `[[monitors]]` TOML block: name, type and url set; the component filter commented out."""
    lines = [
        "[[monitors]]",
        f"name = {toml_string(name)}",
        f"type = {toml_string(source_type)}",
        f"url = {toml_string(url)}",
    ]
    if not components:
        return "\n".join(lines) + "\n"
    groups = list(dict.fromkeys(c.group for c in components if c.group))
    key = "products" if source_type == "gcp" else "components"
    if len(components) <= MAX_LISTED_COMPONENTS:
        lines.append(f"# Watch only some of the {len(components)} components: uncomment and keep the ones you use.")
        lines.append(f"# {key} = [")
        for c in components:
            comment = f"  # {_comment(c.group)}" if c.group else ""
            lines.append(f"#     {toml_string(c.name)},{comment}")
        lines.append("# ]")
    else:
        lines.append(
            f"# {len(components)} components in {len(groups)} groups: name the ones you use in "
            f"`{key} = [...]` (as \"Name\", \"Group / Name\" or a group's name, which keeps the group)."
        )
        for group in groups:
            count = sum(1 for c in components if c.group == group)
            lines.append(f"#   {_comment(group)}: {count}")
    return "\n".join(lines) + "\n"


def toml_string(value: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML also wants DEL escaped."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _comment(text: str) -> str:
    """Text safe inside a TOML comment (no line breaks or control characters)."""
    return "".join(ch if ch.isprintable() else " " for ch in text)
