"""The web server's figures (issue 13, Performance): `python -m bench.web [--quick]`, or item 11 of `make bench`.

- `/` and `/api/v2/summary.json` with 1,000 components and 90 days of history: the render itself and over
  HTTP (what a client sees, the page cache included). "Anew": every render one second later than the one
  before with one monitor's status changed in between, so the page cache never answers and each render
  rebuilds what moved (that monitor, and whatever reads the time); "first": a new site, nothing kept yet.
- `/metrics` with 10,000 monitors: each scrape collects anew (per-monitor lines are kept until they move).
History is written through the real Watcher at a fake clock's times, into a real SQLite file.
- In the 10,000-monitor run (bench/capacity.py: real scheduler, checks and SQLite, as bot/app.py wires them),
  the web server as bot/app.py builds it, and a client in ANOTHER process (its CPU is not the bot's): not
  at all, scraping `/`, `/metrics` and summary.json every second (15 × compressed: the CPU a scrape adds,
  divided by 15 s, is its share at the 15 s of the target), or 200 connections asking for `/` as fast as
  they are answered. Figures: the bot process's CPU, the checks' scheduling lag, what the client saw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import spin
from bot import runtime
from bot.checks.client import make_client
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Monitor, Policy
from bot.model import CheckResult, ComponentReading, Status
from bot.store import Store
from bot.watch import Watcher
from bot.web.activity import Activity, Health
from bot.web.metrics import exposition
from bot.web.server import StatusSite, serve

if TYPE_CHECKING:
    from bench.capacity import Serving

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


def timed(build: Callable[[], object], repeat: int, between: Callable[[int], object] = lambda n: None,
          cpu: list[float] | None = None) -> list[float]:
    """`build` `repeat` times, `between(n)` before each (not timed); milliseconds each (wall clock), and the
    thread's CPU milliseconds into `cpu`: on a shared machine, a wall-clock tail well above the CPU one is
    time the process was not running (other processes), not work the render did."""
    out = []
    for n in range(repeat):
        between(n)
        began, began_cpu = time.perf_counter(), time.thread_time()
        build()
        out.append((time.perf_counter() - began) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - began_cpu) * 1000)
    return out


async def over_http(site: StatusSite, paths: list[str], repeat: int, move: Callable[[], object],
                    every: float) -> dict[str, Any]:
    """`repeat` answers of each path, one after the other, to a client in ANOTHER process (the bench's own
    client on the server's loop, or reading in its process, was most of the old figures' tail), while
    `move` runs every `every` seconds on the server's loop: each answer is a fresh render (cache_for 0)."""
    async def moving() -> None:
        while True:
            await asyncio.sleep(every)
            move()

    async with serve(site.application(), host="127.0.0.1", port=0) as url:
        mover = asyncio.create_task(moving())
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.web",
            json.dumps({"client": {"kind": "sequence", "paths": paths, "repeat": repeat}, "url": url}),
            stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
        out, _ = await child.communicate()
        mover.cancel()
    seen: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
    assert seen["failed"] == 0, seen
    return seen


def fixed_work() -> float:
    """The CPU milliseconds of the same pure-Python loop (~3 ms): its spread is the machine's, not a render's
    (on this shared 2-core VM its p99 is 2-3× its median when other processes run)."""
    began = time.thread_time()
    spin(100_000)
    return (time.thread_time() - began) * 1000


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

    noise: list[float] = []

    def move(n: int) -> None:
        clock.advance(1)
        watcher.apply(flipped, CheckResult(monitor=flipped.name, at=clock.now(), readable=True,
                                           components=readings(components, n % 2 == 0)))
        noise.append(fixed_work())  # between two renders: the machine's spread at the same moments

    first = timed(lambda: StatusSite(store=store, clock=clock, monitors=made, cache_for=0.0)._render_index(),
                  max(3, repeat // 10))
    site._render_index()  # what the site's first render builds (timed above as "first") is kept from here on
    site._json(site._summary("http://127.0.0.1"))  # and the API's first (every monitor's documents and JSON)
    runtime.settle()  # as bot/app.py does once built: what lives for the run is left out of collections
    page_cpu: list[float] = []
    summary_cpu: list[float] = []
    page = timed(site._render_index, repeat, move, page_cpu)
    summary = timed(lambda: site._json(site._summary("http://127.0.0.1")), repeat, move, summary_cpu)  # as sent
    moves = iter(range(1, 10**9))
    http = asyncio.run(over_http(site, ["/", "/api/v2/summary.json"], repeat, lambda: move(next(moves)), 0.01))
    runtime.unsettle()
    store.close()
    return {"monitors": monitors, "components": components, "days": days, "built_s": built,
            "index": figures(page) | {"cpu_p99_ms": p99(page_cpu)}, "index_first": figures(first),
            "summary": figures(summary) | {"cpu_p99_ms": p99(summary_cpu)},
            "noise": p99(noise[:2 * repeat]) / median(noise[:2 * repeat]),
            "index_http_p99_ms": http["p99_ms"]["/"], "summary_http_p99_ms": http["p99_ms"]["/api/v2/summary.json"],
            "index_http_kb": http["bytes"]["/"] / 1000, "summary_http_kb": http["bytes"]["/api/v2/summary.json"] / 1000}


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
    site = StatusSite(store=store, clock=clock, monitors=many, activity=activity, health=health, cache_for=0.0)
    turn = iter(range(10**9))

    def checked() -> None:  # 10,000 monitors at 60 s: 17 checks complete every 0.1 s
        clock.advance(0.1)
        for _ in range(17):
            monitor = many[next(turn) % count]
            activity.record(CheckResult(monitor=monitor.name, at=clock.now(), readable=True, latency_ms=120.0,
                                        components=(ComponentReading(monitor.name, Status.OPERATIONAL),)),
                            kind=monitor.kind)

    exposition(site._registry)  # the first collection writes every monitor's lines; later ones, the moved
    runtime.settle()
    cpu: list[float] = []
    collect = timed(lambda: exposition(site._registry), repeat, lambda n: checked(), cpu)  # in the process
    scrape = asyncio.run(over_http(site, ["/metrics"], repeat, checked, 0.1))
    runtime.unsettle()
    store.close()
    return {"monitors": count, "p99_ms": scrape["p99_ms"]["/metrics"], "median_ms": scrape["median_ms"]["/metrics"],
            "collect": figures(collect) | {"cpu_p99_ms": p99(cpu)},
            "kb": scrape["bytes"]["/metrics"] / 1000}


# ---------------------------------------------------------------- the web server in the 10,000-monitor run

SCRAPED = ("/", "/metrics", "/api/v2/summary.json")


def serving(client: dict[str, Any] | None, report: dict[str, Any]) -> Serving:
    """bench.capacity's web hook: the web server as bot/app.py builds it (Activity wrapping the check, the
    page cache's second), with `client` (another process: see `client`) using it while the run is measured."""

    def build(*, store: Store, monitors: list[Monitor], clock: Any) -> tuple[Any, Any]:
        from bot.checks import run_check

        activity = Activity(clock=clock)
        health = Health(store=store, clock=clock, activity=activity, monitors=monitors, scheduler_running=lambda: True)
        site = StatusSite(store=store, clock=clock, monitors=monitors, activity=activity, health=health)

        @asynccontextmanager
        async def around() -> AsyncIterator[None]:
            async with serve(site.application(), host="127.0.0.1", port=0) as url:
                if client is None:
                    yield
                    return
                child = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bench.web", json.dumps({"client": client, "url": url}),
                    stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
                try:
                    yield
                finally:
                    report["ended"] = time.time()
                    child.send_signal(signal.SIGTERM)  # it stops, then prints what it saw
                    out, _ = await child.communicate()
                    report.update(json.loads(out.decode().splitlines()[-1]))

        return activity.wrap_check(run_check), around()

    return build


async def client(args: dict[str, Any]) -> dict[str, Any]:
    """The other process: `scrape` (every `every` s, each of SCRAPED in turn) or `hammer` (`clients`
    connections, each asking for `paths` round and round), until SIGTERM."""
    import aiohttp

    spec, url = args["client"], args["url"]
    paths = spec.get("paths", SCRAPED)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    samples: dict[str, list[float]] = {path: [] for path in paths}
    size: dict[str, int] = {}
    starts: list[float] = []
    failed = 0
    # As a browser or Prometheus asks (gzip), but the body is not inflated: that is the client machine's work.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), auto_decompress=False) as session:

        async def get(path: str) -> None:
            nonlocal failed
            began = time.perf_counter()
            async with session.get(url + path) as answer:
                body = await answer.read()
            samples[path].append((time.perf_counter() - began) * 1000)
            size[path] = len(body)
            failed += answer.status != 200

        if spec["kind"] == "sequence":
            for path in paths:
                await get(path)  # the first answer builds what later ones keep
                samples[path].clear()
                for _ in range(spec["repeat"]):
                    await get(path)
        elif spec["kind"] == "scrape":
            due = time.monotonic()
            while not stop.is_set():
                starts.append(time.time())
                for path in paths:
                    await get(path)
                due += spec["every"]
                try:
                    await asyncio.wait_for(stop.wait(), max(0.0, due - time.monotonic()))
                except TimeoutError:
                    pass
        else:
            pace = spec.get("pace")

            async def one(first: int) -> None:
                turn = first
                while not stop.is_set():
                    await get(paths[turn % len(paths)])
                    turn += 1
                    if pace:  # all together again at the next whole `pace` (a burst of `clients`)
                        try:
                            await asyncio.wait_for(stop.wait(), pace - time.time() % pace)
                        except TimeoutError:
                            pass

            await asyncio.gather(*(one(n) for n in range(spec["clients"])))
    return {"starts": starts, "failed": failed, "bytes": size,
            "answers": {path: len(taken) for path, taken in samples.items()},
            "p99_ms": {path: p99(taken) for path, taken in samples.items() if taken},
            "median_ms": {path: median(taken) for path, taken in samples.items() if taken}}


def in_the_run(args: dict[str, Any]) -> dict[str, Any]:
    """One capacity run (`args["capacity"]`) with the web server, and `args["client"]` (None: nobody asks)."""
    from bench import capacity

    report: dict[str, Any] = {}
    out = runtime.run(capacity.run(args["capacity"], web=serving(args.get("client"), report)))
    if report:
        window = (report["ended"] - out["seconds"], report["ended"])
        report["scrapes"] = sum(1 for at in report.pop("starts") if window[0] <= at <= window[1])
    return {"run": out, "client": report}


def in_the_runs(url: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The three capacity runs against the local target `url`: nobody asks, scraped every `every` s, and
    `clients` connections asking for `/`. The scrapes' CPU: (scraped − quiet) × seconds / scrapes."""
    from bench.common import run_worker

    capacity = {key: spec[key] for key in ("monitors", "interval", "warmup", "seconds", "calibrate")} | {"url": url}
    timeout = spec["warmup"] + spec["seconds"] + 600
    out: dict[str, Any] = {}
    crowd = {"kind": "hammer", "clients": spec["clients"], "paths": ["/"]}
    for name, client in (("quiet", None), ("scraped", {"kind": "scrape", "every": spec["every"]}),
                         ("crowd", crowd | {"pace": 1.0}), ("flood", crowd)):
        out[name] = run_worker("bench.web", {"capacity": capacity, "client": client}, timeout=timeout)
    quiet, scraped = out["quiet"]["run"], out["scraped"]["run"]
    extra = scraped["cpu_share"] * scraped["seconds"] - quiet["cpu_share"] * quiet["seconds"]
    scrapes = max(1, out["scraped"]["client"]["scrapes"])
    out["scrape_cpu_ms"] = 1000 * extra / scrapes
    out["share_at_15s"] = extra / scrapes / 15
    return out


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


def run_sizes(quick: bool) -> dict[str, Any]:
    """The capacity runs of `in_the_runs`: bench item 1's 10,000 monitors at 60 s (quick: 1,000 at 6 s), measured
    once every monitor was checked once (warm-up > interval): a monitor's first check writes its state, and in
    the first minute after start the pages rebuild thousands of them, which is not the steady state."""
    if quick:
        return {"monitors": 1000, "interval": 6.0, "warmup": 8.0, "seconds": 8.0, "every": 1.0, "clients": 200,
                "calibrate": 1.0}
    return {"monitors": 10_000, "interval": 60.0, "warmup": 75.0, "seconds": 60.0, "every": 1.0, "clients": 200,
            "calibrate": 10.0}


def report_runs(r: dict[str, Any]) -> list[str]:
    quiet, scraped = r["quiet"]["run"], r["scraped"]
    seen = scraped["client"]
    crowds = [(r["crowd"], "200 connections, all at once every second"),
              (r["flood"], "200 connections, each asking again as soon as answered")]
    return [
        f"{quiet['monitors']:,} monitors @ {quiet['interval']:g} s: CPU {100 * quiet['cpu_share']:.1f} % of a core, "
        f"scheduling lag p99 {quiet['lag_p99_ms']:.1f} ms with nobody asking",
        f"scraped every second ({seen['scrapes']} scrapes of /, /metrics, summary.json): CPU "
        f"{100 * scraped['run']['cpu_share']:.1f} %, {r['scrape_cpu_ms']:.0f} ms CPU a scrape → "
        f"{100 * r['share_at_15s']:.2f} % of a core every 15 s (target ≤ 1); answers p99 "
        + ", ".join(f"{path} {ms:.0f} ms" for path, ms in seen["p99_ms"].items()),
    ] + [
        f"{how}: {crowd['client']['answers']['/']:,} answers of / in {crowd['run']['seconds']:.0f} s, scheduling lag "
        f"p99 {crowd['run']['lag_p99_ms']:.1f} ms (target ≤ 10; loop lag p99 {crowd['run']['loop_lag_p99_ms']:.1f}; "
        f"CPU {100 * crowd['run']['cpu_share']:.0f} %), {crowd['run']['per_s']:.0f} checks/s of "
        f"{crowd['run']['expected_per_s']:.0f}, answer p99 {crowd['client']['p99_ms']['/']:.0f} ms"
        for crowd, how in crowds
    ]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("{"):  # a worker of `python -m bench`: JSON in, JSON out
        args = json.loads(sys.argv[1])
        if "url" in args:  # the client process of `in_the_run`
            print(json.dumps(asyncio.run(client(args))))
        elif "capacity" in args:
            print(json.dumps(in_the_run(args)))
        else:
            print(json.dumps(run(args)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=("pages", "runs"), help="only the renders, or only the capacity runs")
    a = parser.parse_args()
    if a.only != "pages":
        from bench.common import local_target

        with local_target() as target:
            print("\n".join(report_runs(in_the_runs(target.close, run_sizes(a.quick)))), flush=True)
    if a.only == "runs":
        return
    r = run(sizes(a.quick))
    for p in r["pages"]:
        print(f"{p['monitors']} monitors × {p['components']} components, {p['days']} days (built in "
              f"{p['built_s']:.1f} s): / render anew p99 {p['index']['p99_ms']:.1f} ms (median "
              f"{p['index']['median_ms']:.1f}, CPU p99 {p['index']['cpu_p99_ms']:.1f}; target ≤ 50; first render "
              f"{p['index_first']['median_ms']:.0f}), over HTTP p99 {p['index_http_p99_ms']:.1f} ms; summary.json "
              f"render p99 {p['summary']['p99_ms']:.1f} ms (median {p['summary']['median_ms']:.1f}, CPU p99 "
              f"{p['summary']['cpu_p99_ms']:.1f}; target ≤ 20), over HTTP "
              f"p99 {p['summary_http_p99_ms']:.1f} ms ({p['index_http_kb']:.0f} and {p['summary_http_kb']:.0f} KB "
              "gzipped)")
    m = r["metrics"]
    print(f"/metrics with {m['monitors']:,} monitors: p99 {m['p99_ms']:.1f} ms over HTTP (median "
          f"{m['median_ms']:.1f}, {m['kb']:.0f} KB gzipped; target ≤ 50)")


if __name__ == "__main__":
    main()
