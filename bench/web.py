"""The web server's figures (issue 13, Performance): `python -m bench.web [--quick]`, or item 11 of `make bench`.

- `/` and `/api/v2/summary.json` with 1,000 components and 90 days of history: the render itself and over
  HTTP (what a client sees, the page cache included). "Anew": every render one second later than the one
  before with one monitor's status changed in between, so the page cache never answers and each render
  rebuilds what moved (that monitor, and whatever reads the time); "first": a new site, nothing kept yet.
- `/metrics` with 10,000 monitors: each scrape collects anew (per-monitor lines are kept until they move).
History is written through the real Watcher at a fake clock's times, into a real SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.checks.client import make_client
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Monitor, Policy
from bot.model import CheckResult, ComponentReading, Status
from bot.store import Store
from bot.watch import Watcher
from bot.web.activity import Activity, Health
from bot.web.server import StatusSite, serve

START = datetime(2026, 8, 1, tzinfo=UTC)
FAST = Policy(failures_before_alert=1, successes_before_recovery=1)


def median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def readings(components: int, bad: bool) -> tuple[ComponentReading, ...]:
    return tuple(ComponentReading(name=f"Component {c:03d}", status=Status.PARTIAL if bad and c < 3 else Status.OPERATIONAL)
                 for c in range(components))


def history(path: Path, *, monitors: int, components: int, days: int, every: float) -> tuple[Store, FakeClock,
                                                                                              list[Monitor], Watcher]:
    """`monitors` status pages of `components` each, polled every `every` seconds for `days`, with an
    outage of a tenth of them on one day in seven."""
    clock = FakeClock(START)
    made: list[Monitor] = [StatuspageMonitor(name=f"Provider {m:04d}", url="https://status.example", policy=FAST)
                           for m in range(monitors)]
    store = Store.open(str(path))
    store.sync_monitors(((m.name, m.kind) for m in made), clock.now())
    watcher = Watcher(monitors=made, store=store, client=make_client(), clock=clock)
    polls = int(days * 86400 / every)
    for poll in range(polls):
        day = int(poll * every // 86400)
        for index, monitor in enumerate(made):
            bad = day % 7 == 3 and index % 10 == 0 and (poll * every) % 86400 < 3 * 3600
            watcher.apply(monitor, CheckResult(monitor=monitor.name, at=clock.now(), readable=True,
                                               components=readings(components, bad)))
        clock.advance(every)
    return store, clock, made, watcher


def timed(build: Callable[[], object], repeat: int, between: Callable[[int], object] = lambda n: None) -> list[float]:
    """`build` `repeat` times, `between(n)` before each (not timed); milliseconds each."""
    out = []
    for n in range(repeat):
        between(n)
        began = time.perf_counter()
        build()
        out.append((time.perf_counter() - began) * 1000)
    return out


async def over_http(site: StatusSite, paths: list[str], repeat: int) -> dict[str, float]:
    async with serve(site.application(), host="127.0.0.1", port=0) as url, httpx.AsyncClient(base_url=url) as client:
        out = {}
        for path in paths:
            assert (await client.get(path)).status_code == 200  # the first answer builds what later ones keep
            samples = []
            for _ in range(repeat):
                began = time.perf_counter()
                answer = await client.get(path)
                samples.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200
            out[path] = p99(samples)
        return out


def figures(samples: list[float]) -> dict[str, float]:
    return {"p99_ms": p99(samples), "median_ms": median(samples)}


def pages(folder: Path, *, monitors: int, components: int, days: int, repeat: int) -> dict[str, Any]:
    """The figures of `/` and summary.json for `monitors` × `components` with `days` of history."""
    began = time.perf_counter()
    store, clock, made, watcher = history(folder / f"h{monitors}.db", monitors=monitors, components=components,
                                          days=days, every=3 * 3600 if monitors > 100 else 3600)
    built = time.perf_counter() - began
    site = StatusSite(store=store, clock=clock, monitors=made, cache_for=0.0)
    flipped = made[len(made) // 2]  # a monitor that had no outage: its status moves at every render

    def move(n: int) -> None:
        clock.advance(1)
        watcher.apply(flipped, CheckResult(monitor=flipped.name, at=clock.now(), readable=True,
                                           components=readings(components, n % 2 == 0)))

    first = timed(lambda: StatusSite(store=store, clock=clock, monitors=made, cache_for=0.0)._render_index(),
                  max(3, repeat // 10))
    site._render_index()  # what the site's first render builds (timed above as "first") is kept from here on
    page = timed(site._render_index, repeat, move)
    summary = timed(lambda: site._summary("http://127.0.0.1"), repeat, move)
    http = asyncio.run(over_http(site, ["/", "/api/v2/summary.json"], repeat))
    store.close()
    return {"monitors": monitors, "components": components, "days": days, "built_s": built,
            "index": figures(page), "index_first": figures(first), "summary": figures(summary),
            "index_http_p99_ms": http["/"], "summary_http_p99_ms": http["/api/v2/summary.json"]}


def metrics(folder: Path, *, count: int, repeat: int) -> dict[str, Any]:
    clock = FakeClock(START)
    many: list[Monitor] = [HttpMonitor(name=f"site-{m:05d}", url="https://x.example") for m in range(count)]
    store = Store.open(str(folder / "metrics.db"))
    store.sync_monitors(((m.name, m.kind) for m in many), clock.now())
    watcher = Watcher(monitors=many, store=store, client=make_client(), clock=clock)
    activity = Activity(clock=clock)
    for monitor in many:
        result = CheckResult(monitor=monitor.name, at=clock.now(), readable=True, latency_ms=120.0,
                             components=(ComponentReading(monitor.name, Status.OPERATIONAL),))
        activity.record(result, kind=monitor.kind)
        watcher.apply(monitor, result)
    health = Health(store=store, clock=clock, activity=activity, monitors=many, scheduler_running=lambda: True)
    site = StatusSite(store=store, clock=clock, monitors=many, activity=activity, health=health)
    scrape = asyncio.run(over_http(site, ["/metrics"], repeat))
    store.close()
    return {"monitors": count, "p99_ms": scrape["/metrics"]}


def run(args: dict[str, Any]) -> dict[str, Any]:
    """`pages`: [[monitors, components], …]; `days`, `repeat`, `metrics` (monitors), `scrapes`."""
    with tempfile.TemporaryDirectory() as folder:
        out: dict[str, Any] = {"pages": [pages(Path(folder), monitors=m, components=c, days=args["days"],
                                               repeat=args["repeat"]) for m, c in args["pages"]]}
        out["metrics"] = metrics(Path(folder), count=args["metrics"], repeat=args["scrapes"])
    return out


def sizes(quick: bool) -> dict[str, Any]:
    repeat = 20 if quick else 100
    return {"pages": [[10, 100], [1000, 1]], "days": 90, "repeat": repeat, "metrics": 2000 if quick else 10_000,
            "scrapes": repeat}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("{"):  # a worker of `python -m bench`: JSON in, JSON out
        print(json.dumps(run(json.loads(sys.argv[1]))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    r = run(sizes(parser.parse_args().quick))
    for p in r["pages"]:
        print(f"{p['monitors']} monitors × {p['components']} components, {p['days']} days (built in "
              f"{p['built_s']:.1f} s): / render anew p99 {p['index']['p99_ms']:.1f} ms (median "
              f"{p['index']['median_ms']:.1f}; target ≤ 50; first render {p['index_first']['median_ms']:.0f}), "
              f"over HTTP p99 {p['index_http_p99_ms']:.1f} ms; summary.json render p99 "
              f"{p['summary']['p99_ms']:.1f} ms (median {p['summary']['median_ms']:.1f}; target ≤ 20), over HTTP "
              f"p99 {p['summary_http_p99_ms']:.1f} ms")
    m = r["metrics"]
    print(f"/metrics with {m['monitors']:,} monitors: p99 {m['p99_ms']:.1f} ms over HTTP (target ≤ 50)")


if __name__ == "__main__":
    main()
