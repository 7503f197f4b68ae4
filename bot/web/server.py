"""The bot's read-only web server: the status page, a Statuspage-v2-compatible API, /metrics and /healthz.

Built from injected parts (store, clock, monitors, activity, health); it only reads. The store is SQLite on
the event loop's thread, so a rendered page is kept until something is written or a second passes: 200
clients refreshing at once cost one render, and the checks keep their schedule. Within a render, each
monitor's card and API components are kept until that monitor moves (bot.web.cache): a page of 1,000
monitors rebuilds only the ones written since the last render.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bot import commands, wording
from bot.clock import Clock
from bot.config import Monitor
from bot.maintenance import Window
from bot.model import ComponentView, DayRecord, IncidentView, Overview, Status
from bot.store import Store
from bot.web import page as view
from bot.web import statuspage
from bot.web.activity import Activity, Health
from bot.web.cache import Views
from bot.web.deflated import Block, gzipped, plain
from bot.web.metrics import StateCollector, registry
from bot.web.traffic import GZIP_FROM, Compressed, Pace, PacedSite, Turns, accepts_gzip

REFRESH = 30  # seconds between the page's own reloads
LAST_INCIDENTS = 10
API_INCIDENTS = 50
TIMELINE = 20
WINDOWS = (timedelta(hours=24), timedelta(days=7), timedelta(days=30), timedelta(days=90))
MANY = 12  # a monitor with more components lists its problems first and folds the rest
PER_PAGE = 100  # monitor cards on one page of `/` (90 bars each, ~10 KB): more go to `/?page=2`, problems first
STRIPPED = 200  # components given their own strip on a monitor's page
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
# No script at all, styles inline, images only as inline SVG: nothing can load from outside the process.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ALLOW = "GET, HEAD, OPTIONS"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Body = TypeVar("Body", bound=bytes | None)  # a render: None when there is nothing at that address


@runtime_checkable
class Mountable(Protocol):
    """What answers requests on this server's port too (Slack's HTTP mode): adds its routes to the application
    before it starts and returns the path it serves, or None when it has nothing to serve."""

    def mount(self, app: web.Application) -> str | None: ...


class StatusSite:
    """The routes and what they read."""

    def __init__(self, *, store: Store, clock: Clock, monitors: Sequence[Monitor], public: bool = False,
                 activity: Activity | None = None, health: Health | None = None,
                 probe_kinds: frozenset[str] = frozenset({"http", "tcp"}), cache_for: float = 1.0,
                 refresh: int = REFRESH, planned: Sequence[Window] = ()) -> None:
        """`probe_kinds`: the kinds whose monitors are probes (latency chart; URL hidden on a public page).
        `cache_for`: seconds a rendered page is served again even if something was written meanwhile.
        `planned`: the config's maintenance windows (the API's `scheduled_maintenances`)."""
        self._store = store
        self._clock = clock
        self._monitors = {m.name: m for m in monitors}
        self._public = public
        self._activity = activity
        self._health = health
        self._probe_kinds = probe_kinds
        self._cache_for = cache_for
        self._refresh = refresh
        self._planned = tuple(planned)
        self._maintained: tuple[object, list[dict[str, Any]]] | None = None  # (what it was read for, documents)
        self._cache: dict[str, tuple[float, int, int, Any]] = {}
        self._templates = Environment(loader=PackageLoader("bot.web", "templates"),
                                      autoescape=select_autoescape(default=True, default_for_string=True),
                                      trim_blocks=True, lstrip_blocks=True)
        self._views = Views(store)
        self._cards: dict[str, _Card] = {}
        self._placeholder = f"<!--cards {secrets.token_hex(16)}-->"  # cannot occur in anything shown
        # Per monitor: (its views, its place, whether its times read `now`, that `now`, its documents).
        self._groups: dict[str, tuple[list[ComponentView], int, bool, datetime, list[dict[str, Any]]]] = {}
        self._listed_whole: tuple[object, object, datetime | None, list[dict[str, Any]]] | None = None
        self._encoded: dict[str, tuple[list[dict[str, Any]], bytes]] = {}
        self._troubles: tuple[object, set[str]] = (None, set())
        self._order: tuple[object, list[str]] = (None, [])
        self._places: tuple[object, object, set[str], list[tuple[int, str]]] = (None, None, set(), [])  # per monitor: its documents, as JSON
        self._turns = Turns()
        self._compressed = Compressed()
        # /metrics: when it was collected, its blocks, their joins by whether gzipped; kept `cache_for` seconds
        self._scraped: tuple[float, list[Block], dict[bool, bytes]] | None = None
        self._registry = registry(StateCollector(store=store, monitors=monitors, activity=activity,
                                                 problems=health.problems if health else None, views=self._views,
                                                 role=health.role if health else None))

    def application(self) -> web.Application:
        # A request line up to 16 KB (aiohttp's default is 8 KB): a monitor name of 10 KB still gets its page,
        # or its 404, rather than the parser's 400.
        app = web.Application(middlewares=[self._errors], handler_args={"max_line_size": 16384})
        app.router.add_get("/", self._index)
        app.router.add_get("/monitors/{name:.+}", self._monitor)
        app.router.add_get("/api/v2/{document:.+}", self._api)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        return app

    # ------------------------------------------------------------ plumbing

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await self._turns.admit()
        try:
            if request.method == "OPTIONS":  # what the path allows: the page's are read-only
                refused = request.match_info.http_exception
                allow = _allow(refused) if isinstance(refused, web.HTTPMethodNotAllowed) else ALLOW
                response: web.StreamResponse = web.Response(status=204, headers={"Allow": allow})
            else:
                response = await handler(request)
        except web.HTTPNotFound:
            response = self._not_found(request, None)
        except web.HTTPMethodNotAllowed as refused:
            response = web.Response(status=405, text="405: method not allowed\n", headers={"Allow": _allow(refused)})
        response.headers.update(HEADERS)
        return response

    def _not_found(self, request: web.Request, name: str | None) -> web.Response:
        if request.path.startswith("/api/"):
            return web.json_response({"error": "not found"}, status=404)
        text = wording.not_found(name) if name is not None else "There is no page at this address."
        body = self._templates.get_template("notfound.html").render(message=text, refresh=None)
        return web.Response(status=404, text=body, content_type="text/html")

    def _cached(self, key: str, build: Callable[[], Body]) -> Body:
        """A render reused while nothing was written and the minute is the same (durations read in minutes),
        or for `cache_for` seconds in any case."""
        now = time.monotonic()
        changes = self._store.changes()
        minute = int(self._clock.now().timestamp() // 60)
        kept = self._cache.get(key)
        if kept is not None:
            at, seen, kept_minute, body = kept
            if now - at < self._cache_for or (seen == changes and kept_minute == minute):
                return body
        body = build()
        if len(self._cache) > 1000:  # monitor pages by name: bounded however many names are asked for
            self._cache.clear()
        self._cache[key] = (now, changes, minute, body)
        return body

    async def _html(self, request: web.Request, key: str, body: bytes) -> web.Response:
        return await self._answer(request, key, body, "text/html; charset=utf-8", max_age=self._refresh // 3)

    async def _answer(self, request: web.Request, key: str, body: bytes, content_type: str, *,
                      max_age: int | None = None) -> web.Response:
        """A kept render, gzip-encoded (once per render) for a client that takes it."""
        headers = {"Content-Type": content_type, "Vary": "Accept-Encoding"}
        if max_age is not None:
            headers["Cache-Control"] = f"max-age={max_age}"
        if len(body) >= GZIP_FROM and accepts_gzip(request.headers.get("Accept-Encoding", "")):
            body = await self._compressed(key, body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)

    # ------------------------------------------------------------ the status page

    async def _index(self, request: web.Request) -> web.Response:
        asked = request.query.get("page") or "1"
        number = int(asked) if asked.isdigit() and len(asked) < 7 else 0
        key = f"/?page={number}"
        body = self._cached(key, lambda: self._render_index(number)) if number else None
        return self._not_found(request, None) if body is None else await self._html(request, key, body)

    def _render_index(self, number: int = 1) -> bytes | None:
        """Page `number` of `/` (None when there is no such page)."""
        store, now = self._store, self._clock.now()
        names = self._views.names()
        grouped = self._views.by_monitor()
        unreadable = set(store.unreadable_monitors())
        pages = max(1, -(-len(names) // PER_PAGE))
        if number > pages:
            return None
        troubled = self._troubled(grouped)
        ordered = self._placed(names, troubled, unreadable)
        first = (number - 1) * PER_PAGE
        open_items = store.open_incidents()
        overview = Overview(now=now, monitors=len(names),
                            problems=tuple(v for name in sorted(troubled) for v in grouped[name]
                                           if v.status is not Status.OPERATIONAL),
                            open_incidents=tuple(open_items), unreadable=tuple(sorted(unreadable)))
        icon, headline, css = view.overall(overview)
        cards = self._index_cards(ordered[first:first + PER_PAGE], grouped, unreadable, now)
        pager = [(n, "/" if n == 1 else f"/?page={n}", n == number) for n in range(1, pages + 1)] if pages > 1 else []
        shown = (f"Monitors {first + 1:,}–{min(first + PER_PAGE, len(ordered)):,} of {len(ordered):,}, "
                 "those with a problem first") if pages > 1 else ""
        incidents = [view.incident_card(i, store.timeline(i.id, TIMELINE), now) for i in open_items]
        last = [view.incident_card(i, (), now) for i in store.recent_incidents(limit=LAST_INCIDENTS)
                if i.resolved_at is not None]
        # The page around one placeholder card, then the kept cards' bytes put in its place: a page of
        # 1,000 monitors is megabytes, and encoding it all again at each render would cost more than the rest.
        page = self._templates.get_template("index.html").render(
            icon=icon, headline=headline, css=css, cards=[Markup(self._placeholder)] if cards else [],
            incidents=incidents, last=last, updated=wording.utc(now), refresh=self._refresh, days=view.DAYS,
            many=MANY, open_title=wording.OPEN_INCIDENTS, last_title=wording.LAST_INCIDENTS,
            timeline_title=wording.TIMELINE, pager=pager, shown=shown,
        ).encode()
        if not cards:
            return page
        before, after = page.split(self._placeholder.encode(), 1)
        cards[0] = before + cards[0]
        cards[-1] += after  # the list is this render's own: one copy of the page in the join below
        return b"\n".join(cards)

    def _placed(self, names: list[str], troubled: set[str], unreadable: set[str]) -> list[tuple[int, str]]:
        """(place in the config, which stays the card's id; monitor) in the order of the page: the config's, or
        with more than a page, those with a problem first, so that page 1 shows what someone opening it came to
        see. Kept while the monitors and their troubles are the same (10,000 names cost ms to order)."""
        kept = self._places
        if kept[0] is names and kept[1] is troubled and kept[2] == unreadable:
            return kept[3]
        ordered = list(enumerate(self._ordered(names), start=1))
        if len(ordered) > PER_PAGE:
            first_ones = troubled | unreadable
            ordered = [p for p in ordered if p[1] in first_ones] + [p for p in ordered if p[1] not in first_ones]
        self._places = (names, troubled, unreadable, ordered)
        return ordered

    def _troubled(self, grouped: dict[str, list[ComponentView]]) -> set[str]:
        """The monitors with a component not operational, kept while no monitor moved (the same mapping)."""
        if self._troubles[0] is not grouped:
            self._troubles = (grouped, {name for name, views in grouped.items()
                                        if any(v.status is not Status.OPERATIONAL for v in views)})
        return self._troubles[1]

    def _index_cards(self, shown: list[tuple[int, str]], grouped: Mapping[str, list[ComponentView]],
                     unreadable: set[str], now: datetime) -> list[bytes]:
        """Every monitor's card, kept until it moves: its rows or incident are written (its version), its
        place or the day changes, a problem's duration reads differently; or, for a strip with downtime, its
        uptime reads differently (the watched time grows while the time down stays), or, if today had some,
        the moment changes. The check allocates next to nothing: fewer garbage collections mid-render."""
        store, today = self._store, int(now.timestamp() // 86400)
        cards: list[bytes] = []
        wanted: dict[int, tuple[int, str]] = {}  # place in `cards` → (index, monitor) of the cards to build
        for index, name in shown:
            kept = self._cards.get(name)
            if (kept is not None and kept.version == store.version(name) and kept.index == index
                    and kept.today == today and kept.unreadable == (name in unreadable)
                    and (not kept.held or kept.held == held(grouped[name], now))
                    and (kept.moves is None or (kept.moves == "now" and kept.value == now) or (
                        kept.moves == "share" and kept.value[0] == wording.percent(view.uptime_at(kept.value[1], now))))):
                cards.append(kept.markup)
            else:
                wanted[len(cards)] = (index, name)
                cards.append(b"")
        if not wanted:
            return cards
        days = store.daily_status(days=view.DAYS, now=now, among={name for _, name in wanted.values()})
        strips = view.Strips()
        template = self._templates.get_template("_card.html")
        for place, (index, name) in wanted.items():
            records = days.get(name, ())
            built = self._card(name, grouped[name], records, strips, now, unreadable=name in unreadable)
            card = _Card(version=store.version(name), index=index, today=today, unreadable=name in unreadable,
                         held=held(grouped[name], now),
                         markup=template.render(card=built, index=index, days=view.DAYS).encode())
            settled = view.settled(records)
            if settled is None and any(r.down for r in records if r.status is not None):
                card.moves, card.value = "now", now
            elif settled is not None and settled[0]:
                card.moves, card.value = "share", (built.uptime, settled)
            self._cards[name] = card
            cards[place] = card.markup
        if len(self._cards) > 2 * len(grouped) + 32:  # monitors no longer active
            self._cards = {name: kept for name, kept in self._cards.items() if name in grouped}
        return cards

    def _ordered(self, names: list[str]) -> list[str]:
        """Config order (the operator's), then monitors only the database knows; kept while `names` is the
        same list (Views keeps it until the monitors are synced)."""
        if self._order[0] is not names:
            known = set(names)
            self._order = (names, [n for n in self._monitors if n in known]
                           + [n for n in names if n not in self._monitors])
        return self._order[1]

    def _card(self, name: str, views: list[ComponentView], records: Sequence[DayRecord], strips: view.Strips,
              now: datetime, *, unreadable: bool) -> view.MonitorCard:
        monitor = self._monitors.get(name)
        kind = monitor.kind if monitor else ""
        # A URL's user-info and query may carry a token (?token=…): the page shows scheme, host and path only.
        url = shown_url(monitor.url) if monitor else None
        if self._public and kind in self._probe_kinds:
            url = None
        status = view.monitor_status(views, unreadable)
        share, bad = strips.describe(records)
        public = self._public and kind in self._probe_kinds
        rows = tuple(view.component_row(v, now, public=public) for v in views)
        shown: tuple[view.ComponentRow, ...] = rows
        folded: tuple[view.ComponentRow, ...] = ()
        if len(rows) > MANY:
            shown = tuple(r for r in rows if r.problem)
            folded = tuple(r for r in rows if not r.problem)
        return view.MonitorCard(
            name=name, href=view.href(name), kind=kind, url=url, status=status, icon=wording.icon(status),
            label=wording.status_label(status), css=view.CSS[status], shown=shown, folded=folded,
            folded_label=f"{wording.plural(len(folded), 'operational component')}" if shown
            else f"All {wording.plural(len(folded), 'component')} operational",
            strip=strips(records, name), uptime=share, outages=bad, unreadable=unreadable,
            problems=sum(1 for v in views if v.status is not Status.OPERATIONAL),
        )

    async def _monitor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._known():
            return self._not_found(request, name)
        key = f"/monitors/{name}"
        return await self._html(request, key, self._cached(key, lambda: self._render_monitor(name)))

    def _known(self) -> set[str]:
        return set(self._store.monitor_names())

    def _render_monitor(self, name: str) -> bytes:
        store, now = self._store, self._clock.now()
        views = store.component_views(name)
        unreadable = name in store.unreadable_monitors()
        strips = view.Strips()
        records = store.daily_status(days=view.DAYS, now=now, monitor=name).get(name, ())
        card = self._card(name, views, records, strips, now, unreadable=unreadable)
        public = self._public and card.kind in self._probe_kinds
        components = []
        for index, v in enumerate(views):
            strip = None
            if index < STRIPPED:
                days = store.daily_status(days=view.DAYS, now=now, monitor=name, component=v.name)
                strip = strips(days.get(v.name, ()), v.name)
            components.append(view.component_row(v, now, public=public, strip=strip))
        uptimes = [wording.uptime_line(store.uptime(monitor=name, component=None, window=w, now=now))
                   for w in WINDOWS]
        chart = probes = None
        if card.kind in self._probe_kinds and not public:
            chart = view.latency_chart(store.probe_hours(monitor=name, hours=24, now=now), now=now)
            stats = store.probe_stats(monitor=name, window=timedelta(hours=24), now=now)
            probes = wording.probe_summary(stats) if stats else None
        open_items = [i for i in store.open_incidents() if i.monitor == name]
        incidents = [view.incident_card(i, store.timeline(i.id, TIMELINE), now) for i in open_items]
        last = [view.incident_card(i, (), now) for i in store.recent_incidents(limit=LAST_INCIDENTS, monitor=name)
                if i.resolved_at is not None]
        return self._templates.get_template("monitor.html").render(
            card=card, components=components, uptimes=uptimes, chart=chart, probes=probes, incidents=incidents,
            last=last, updated=wording.utc(now), refresh=self._refresh, days=view.DAYS,
            open_title=wording.OPEN_INCIDENTS, last_title=wording.LAST_INCIDENTS,
            timeline_title=wording.TIMELINE, uptime_title=wording.UPTIME,
        ).encode()

    # ------------------------------------------------------------ Statuspage v2 API

    async def _api(self, request: web.Request) -> web.Response:
        document = request.match_info["document"]
        build = {
            "summary.json": self._summary, "components.json": self._components, "status.json": self._status,
            "incidents.json": self._incidents, "incidents/unresolved.json": self._unresolved,
        }.get(document)
        if build is None:
            return self._not_found(request, None)
        url = str(request.url.origin())
        key = f"/api/v2/{document}@{url}"
        body = self._cached(key, lambda: self._json(build(url)))
        return await self._answer(request, key, body, "application/json; charset=utf-8", max_age=10)

    def _json(self, document: dict[str, Any]) -> bytes:
        """json.dumps(document), byte for byte, its "components" (from `_listed`, just called) joined from each
        monitor's JSON kept until it moves: 10,000 components are 7 MB of JSON, most of it unchanged."""
        if "components" not in document:
            return json.dumps(document).encode()
        marker = json.dumps(self._placeholder).encode()
        around = json.dumps({**document, "components": self._placeholder}).encode()
        parts: list[bytes] = []
        encoded = self._encoded
        for name in self._ordered(self._views.names()):
            docs = self._groups[name][4]
            kept = encoded.get(name)
            if kept is None or kept[0] is not docs:
                kept = encoded[name] = (docs, ", ".join([json.dumps(doc) for doc in docs]).encode())
            if kept[1]:
                parts.append(kept[1])
        if len(encoded) > 2 * len(self._groups) + 32:  # monitors no longer active
            self._encoded = {name: kept for name, kept in encoded.items() if name in self._groups}
        return around.replace(marker, b"[" + b", ".join(parts) + b"]", 1)

    def _listed(self, now: datetime) -> list[dict[str, Any]]:
        """statuspage.components, each monitor's part kept until it moves (or, for a component that never
        changed, whose times read `now`, until the next moment). Unchanged parts cost no allocation."""
        names = self._views.names()
        grouped = self._views.by_monitor()
        whole = self._listed_whole
        if whole is not None and whole[0] is grouped and whole[1] is names and whole[2] in (None, now):
            return list(whole[3])  # the caller's own list; the documents in it are shared and never changed
        out: list[dict[str, Any]] = []
        timed = False
        for position, name in enumerate(self._ordered(names), start=1):
            views = grouped[name]
            kept = self._groups.get(name)  # the same list of views while the monitor has not moved
            if kept is None or kept[0] is not views or kept[1] != position or (kept[2] and kept[3] != now):
                moves = not all(v.since is not None for v in views)
                kept = self._groups[name] = (views, position, moves, now,
                                             statuspage.group(name, views, position=position, now=now))
            timed = timed or kept[2]
            out += kept[4]
        if len(self._groups) > 2 * len(names) + 32:  # monitors no longer active
            self._groups = {name: kept for name, kept in self._groups.items() if name in grouped}
        self._listed_whole = (grouped, names, now if timed else None, out)
        return list(out)

    def _incident_docs(self, items: Sequence[IncidentView], listed: list[dict[str, Any]], url: str) -> list[dict[str, Any]]:
        by_id = {c["id"]: c for c in listed}
        return [statuspage.incident(i, self._store.timeline(i.id, TIMELINE), by_id, url=url) for i in items]

    def _summary(self, url: str) -> dict[str, Any]:
        now = self._clock.now()
        listed = self._listed(now)
        unresolved = self._store.open_incidents()
        return {"page": statuspage.page(url=url, now=now), "components": listed,
                "incidents": self._incident_docs(list(reversed(unresolved)), listed, url),
                "scheduled_maintenances": self._maintenances(listed, url, now),
                "status": statuspage.status(listed, unresolved)}

    def _maintenances(self, listed: list[dict[str, Any]], url: str, now: datetime) -> list[dict[str, Any]]:
        """Ours (the config's windows) and the providers' announced ones, as /status maintenance lists them;
        read again when a monitor moved or a minute passed (windows start and end on minutes)."""
        key = (self._store.versions(), now.replace(second=0, microsecond=0), url)
        if self._maintained is None or self._maintained[0] != key:
            report = commands.maintenance_report(self._store, self._planned, now)
            docs = statuspage.maintenances(report, {c["id"]: c for c in listed}, url=url) if (
                report.active or report.upcoming) else []
            self._maintained = (key, docs)
        return self._maintained[1]

    def _components(self, url: str) -> dict[str, Any]:
        now = self._clock.now()
        return {"page": statuspage.page(url=url, now=now), "components": self._listed(now)}

    def _status(self, url: str) -> dict[str, Any]:
        now = self._clock.now()
        return {"page": statuspage.page(url=url, now=now),
                "status": statuspage.status(self._listed(now), self._store.open_incidents())}

    def _unresolved(self, url: str) -> dict[str, Any]:
        now = self._clock.now()
        listed = self._listed(now)
        return {"page": statuspage.page(url=url, now=now),
                "incidents": self._incident_docs(list(reversed(self._store.open_incidents())), listed, url)}

    def _incidents(self, url: str) -> dict[str, Any]:
        now = self._clock.now()
        listed = self._listed(now)
        return {"page": statuspage.page(url=url, now=now),
                "incidents": self._incident_docs(self._store.recent_incidents(limit=API_INCIDENTS), listed, url)}

    # ------------------------------------------------------------ operations

    async def _metrics(self, request: web.Request) -> web.Response:
        """Collected at most once per `cache_for` seconds: two Prometheus servers, or a crowd, cost one. Its
        gzip encoding is joined from blocks compressed once each (bot.web.deflated), not compressed whole."""
        at = time.monotonic()
        if self._scraped is None or at - self._scraped[0] >= self._cache_for:
            self._scraped = (at, self._registry.state.blocks(), {})
        blocks, joined = self._scraped[1], self._scraped[2]
        zipped = (accepts_gzip(request.headers.get("Accept-Encoding", ""))
                  and sum(len(block.text) for block in blocks) >= GZIP_FROM)
        body = joined.get(zipped)
        if body is None:
            body = joined[zipped] = gzipped(blocks) if zipped else plain(blocks)
        headers = {"Content-Type": PROMETHEUS_TEXT, "Vary": "Accept-Encoding"}
        if zipped:
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)

    async def _healthz(self, request: web.Request) -> web.Response:
        problems = self._health.problems() if self._health else []
        role = self._health.role() if self._health else ""
        said = f" ({role})" if role else ""  # a cluster's process says whether it leads
        if problems:
            return web.Response(status=503, text=f"unhealthy{said}: " + "; ".join(problems) + "\n")
        return web.Response(text=f"ok{said}\n")


class _Card:
    """A monitor's card on the index page as rendered, and what it was rendered from."""

    __slots__ = ("version", "index", "today", "unreadable", "held", "moves", "value", "markup")

    def __init__(self, *, version: int, index: int, today: int, unreadable: bool, held: tuple[str, ...],
                 markup: bytes) -> None:
        self.version, self.index, self.today, self.unreadable, self.held = version, index, today, unreadable, held
        self.markup = markup
        self.moves: str | None = None  # what moves it with time: "share" (its uptime) or "now" (today's figures)
        self.value: Any = None  # what that read when it was rendered


def _allow(refused: web.HTTPMethodNotAllowed) -> str:
    """The Allow header for a path that exists: the page's GET and HEAD, or what a mounted route takes (POST)."""
    return ", ".join(sorted(refused.allowed_methods | {"OPTIONS"}))


def held(views: Sequence[ComponentView], now: datetime) -> tuple[str, ...]:
    """How long each component with a problem has had it, as a card shows it."""
    return tuple(wording.for_duration(v.since, now) for v in views if v.status is not Status.OPERATIONAL)


@asynccontextmanager
async def serve(application: web.Application, *, host: str, port: int) -> AsyncIterator[str]:
    """Listen on host:port (0: any free port) until the block ends; yields the base URL."""
    runner = web.AppRunner(application, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = PacedSite(runner, host, port, pace=Pace())
        await site.start()
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
        yield f"http://{shown}:{bound[1]}"
    finally:
        await runner.cleanup()


def shown_url(url: str) -> str:
    """`url` without user-info, query or fragment, which can carry credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
