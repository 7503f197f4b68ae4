"""What the status-source kinds of issue 11 share: their monitor, their config keys, and the fetch.

Each source module (incidentio.py, feed.py, gcp.py, …) keeps its pure `parse(body, *, monitor, at, only,
last)` and declares its kind at the bottom as one `SourceKind(...)`: the type name, which URL(s) to fetch
from the monitor's `url`, and how to read what came back. The fetch is the one bot/checks/statuspage.py uses
(a body cap, every failure a `FetchFailed` with a readable detail), so a source that cannot be read is
`readable=False` (status unknown), never an outage and never an exception.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.checks.client import ProbeClient
from bot.checks.payload import LastBody
from bot.checks.statuspage import MAX_BODY_BYTES, Fetched, FetchFailed, drift_hint, fetch_json
from bot.config import Checker, Common, Monitor
from bot.model import CheckResult

JSON = "application/json"
FEED = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"

# What a source module's kind reads: the monitor, the bodies of its URLs (the first always there, the others
# None when they could not be fetched), when, and the monitor's LastBody.
Read = Callable[["SourceMonitor", Sequence[bytes | None], datetime, LastBody], CheckResult]


class Parse(Protocol):
    """A source module's pure parser of its one document."""

    def __call__(self, body: bytes, *, monitor: str, at: datetime, only: tuple[str, ...] = (),
                 last: LastBody | None = None) -> CheckResult: ...


def one_document(parse: Parse) -> Read:
    """The `read` of a source that fetches one document: `parse` it with the monitor's component filter."""

    def read(monitor: SourceMonitor, bodies: Sequence[bytes | None], at: datetime, last: LastBody) -> CheckResult:
        return parse(bodies[0] or b"", monitor=monitor.name, at=at, only=monitor.components, last=last)

    return read


@dataclass(frozen=True, kw_only=True)
class SourceMonitor(Monitor):
    """A monitor of one status source; `kind` is the source's type ("incidentio", "gcp", …)."""

    components: tuple[str, ...] = ()  # the filter (names, groups, products, services, regions); empty = all
    max_body_bytes: int = MAX_BODY_BYTES


def exact(url: str) -> tuple[str, ...]:
    """The monitor's `url` is the endpoint itself (feeds, cloud APIs)."""
    return (url,)


def under(*paths: str) -> Callable[[str], tuple[str, ...]]:
    """The monitor's `url` is the page's base URL; these paths under it are fetched (the first is required)."""

    def urls(url: str) -> tuple[str, ...]:
        base = url.rstrip("/")
        return tuple(base + path for path in paths)

    return urls


class SourceKind:
    """A status source as a check kind (bot/checks/kind.py). One instance per source module.

    `filters` are the extra filter keys a type accepts besides `components`, in the words of its provider
    ("products" for Google Cloud, "services" and "regions" for AWS): they all end up in one components list.
    """

    records_probes = False  # a source's components are stored as readings, not as probe rows

    def __init__(
        self, type: str, *, read: Read, urls: Callable[[str], tuple[str, ...]] = exact, accept: str = JSON,
        filters: tuple[str, ...] = (), max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.type = type
        self.keys = frozenset({"components", "max_body_bytes", *filters})
        self._filters = filters
        self._read = read
        self._urls = urls
        self._accept = accept
        self._max_body_bytes = max_body_bytes
        # One LastBody per monitor (most polls read the same bytes again, see payload.LastBody). Weak keys:
        # a monitor dropped from the config takes its last body with it.
        self._last: weakref.WeakKeyDictionary[Monitor, LastBody] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"SourceKind({self.type!r})"

    def parse(self, check: Checker, where: str, table: Mapping[str, object], common: Common) -> Monitor | None:
        ok = not common.url or check.url(f"{where}url", common.url) is not None
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("components", *self._filters):
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                check.error(f"{where}{key}", f"must be a list of {'component' if key == 'components' else key[:-1]}"
                                             " names")
                ok = False
                continue
            lists[key] = tuple(v.strip() for v in value)
        cap = check.number(f"{where}max_body_bytes", table.get("max_body_bytes", self._max_body_bytes), kind=int,
                           minimum=1024, exclusive=False)
        if not ok or cap is None:
            return None
        return SourceMonitor(components=_one_filter(lists), max_body_bytes=int(cap), kind=self.type,
                             **vars(common))

    async def run(self, monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime]) -> CheckResult:
        if not isinstance(monitor, SourceMonitor) or monitor.kind != self.type:
            raise TypeError(f"not a {self.type} monitor: {monitor.name}")
        at = now()
        started = time.perf_counter()
        fetched = await asyncio.gather(*(
            fetch_json(client, url, timeout=monitor.timeout, max_bytes=monitor.max_body_bytes, accept=self._accept)
            for url in self._urls(monitor.url)
        ))
        latency_ms = (time.perf_counter() - started) * 1000.0
        first = fetched[0]
        if isinstance(first, FetchFailed):
            return CheckResult(monitor=monitor.name, at=at, readable=False, detail=drift_hint(monitor, first),
                               latency_ms=latency_ms, reached=first.answered)
        last = self._last.get(monitor)
        if last is None:
            last = self._last[monitor] = LastBody()
        bodies = [f.body if isinstance(f, Fetched) else None for f in fetched]
        result = self._read(monitor, bodies, at, last)
        if not result.readable and result.detail.startswith("HTML page"):  # served as JSON, but a web page
            result = replace(result, detail=drift_hint(monitor, FetchFailed(result.detail, moved=True)))
        return replace(result, latency_ms=latency_ms)


def _one_filter(lists: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Every filter key as one components list. AWS services and regions are combined as AWS writes them
    ("bedrock-us-east-1"), as the catalogue's presets do: a service alone or a region alone would widen it."""
    services, regions = lists.get("services", ()), lists.get("regions", ())
    aws = tuple(f"{s}-{r}" for s in services for r in regions) if services and regions else services or regions
    return tuple(dict.fromkeys((*lists.get("components", ()), *lists.get("products", ()), *aws)))
