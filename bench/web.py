"""The web server's figures (issue 13, Performance): `python -m bench.web [--quick]`.

- `/` and `/api/v2/summary.json` with 1,000 components and 90 days of history: the render itself (every
  request rendered anew) and over HTTP (what a client sees, the page cache included);
- `/metrics` with 10,000 monitors (each scrape collects anew: metrics are not cached).
History is written through the real Watcher at a fake clock's times, into a real SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

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


def history(path: Path, *, monitors: int, components: int, days: int, every: float) -> tuple[Store, FakeClock,
                                                                                              list[Monitor]]:
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
            readings = tuple(ComponentReading(name=f"Component {c:03d}",
                                              status=Status.PARTIAL if bad and c < 3 else Status.OPERATIONAL)
                             for c in range(components))
            watcher.apply(monitor, CheckResult(monitor=monitor.name, at=clock.now(), readable=True,
                                               components=readings))
        clock.advance(every)
    return store, clock, made


def timed(build: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        build()
        out.append((time.perf_counter() - began) * 1000)
    return out


async def over_http(site: StatusSite, paths: list[str], repeat: int) -> dict[str, float]:
    async with serve(site.application(), host="127.0.0.1", port=0) as url, httpx.AsyncClient(base_url=url) as client:
        out = {}
        for path in paths:
            samples = []
            for _ in range(repeat):
                began = time.perf_counter()
                answer = await client.get(path)
                samples.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200
            out[path] = p99(samples)
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 20 if args.quick else 100
    with tempfile.TemporaryDirectory() as folder:
        for monitors, components in ((10, 100), (1000, 1)):
            began = time.perf_counter()
            store, clock, made = history(Path(folder) / f"h{monitors}.db", monitors=monitors, components=components,
                                         days=90, every=3 * 3600 if monitors > 100 else 3600)
            built = time.perf_counter() - began
            site = StatusSite(store=store, clock=clock, monitors=made, cache_for=0.0)
            pages = timed(site._render_index, repeat)
            summaries = timed(lambda s=site: s._summary("http://127.0.0.1"), repeat)
            page, summary = p99(pages), p99(summaries)
            http = asyncio.run(over_http(site, ["/", "/api/v2/summary.json"], repeat))
            print(f"{monitors} monitors × {components} components, 90 days (built in {built:.1f} s): "
                  f"/ render p99 {page:.1f} ms (median {median(pages):.1f}; target ≤ 50), over HTTP p99 "
                  f"{http['/']:.1f} ms; summary.json render p99 {summary:.1f} ms (median {median(summaries):.1f}; "
                  f"target ≤ 20), over HTTP p99 "
                  f"{http['/api/v2/summary.json']:.1f} ms")
            store.close()
        count = 2000 if args.quick else 10_000
        clock = FakeClock(START)
        many: list[Monitor] = [HttpMonitor(name=f"site-{m:05d}", url="https://x.example") for m in range(count)]
        store = Store.open(str(Path(folder) / "metrics.db"))
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
        scrape = asyncio.run(over_http(site, ["/metrics"], max(5, repeat // 5)))
        print(f"/metrics with {count:,} monitors: p99 {scrape['/metrics']:.1f} ms over HTTP (target ≤ 50)")
        store.close()


if __name__ == "__main__":
    main()
