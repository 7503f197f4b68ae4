"""Capacity and overload (issue 6 items 1 and 4): N HTTP monitors through the REAL path, in a fresh process.

bot.schedule.build_scheduler → Watcher.poll → run_check (make_client) → engine.step → Store.commit (SQLite
file, WAL), exactly as bot/app.py wires them, against the local target (another process). Measured over a
window after a warm-up: process CPU share, scheduling lag (a monitor's due time → its poll starting, as the
scheduler itself tells it: bot.schedule's on_lag, what /metrics serves as downwatch_scheduler_lag_seconds), event-loop lag, RSS, probes done, probes skipped (by the watcher's
overload guard, and by APScheduler's max_instances/misfire), probes that timed out.

With `database` a PostgreSQL URL (bench/postgres.py, issue 14) the process runs as a cluster member does in
bot/app.py: its lease beaten every `renew` seconds, the store's writes fenced on its term, the engine only
while it leads; with `region` it is also that region's agent (RegionAgent.poll, then the watcher's quorum over
`regions`). `server_pid`: a process whose CPU (its children's included) is measured over the same window.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, machine_bursts, percentile, rss_mb, tree_cpu_seconds
from bench.probes import ticker
from bot import runtime


class Count(logging.Handler):
    """Counts log records containing each watched phrase."""

    def __init__(self, phrases: tuple[str, ...]) -> None:
        super().__init__(logging.DEBUG)
        self.counts = dict.fromkeys(phrases, 0)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for phrase in self.counts:
            if phrase in message:
                self.counts[phrase] += 1


Serving = Callable[..., tuple[Any, AbstractAsyncContextManager[Any]]]
TEARDOWN = 120.0  # seconds the worker may take to stop after its window (it takes a few)


@asynccontextmanager
async def leading(store: Any, database: str, monitors: Iterable[Any], clock: Any, *,
                  region: str = "") -> AsyncIterator[Callable[[], bool]]:
    """Whether this process runs the engine: on PostgreSQL, as bot/app.py decides it (a Lease on its own
    connection, a Membership beating it, the store's writes fenced on the term), once the first beat has
    said who leads; on SQLite, always."""
    from bot.store.postgres import PostgresBackend

    if not isinstance(store.sql, PostgresBackend):
        yield lambda: True
        return
    from bot.cluster import Lease, Membership, Role, fingerprint, new_holder
    from bot.config import Cluster

    settings = Cluster()
    host, pid = socket.gethostname(), os.getpid()
    lease = Lease(database, holder=new_holder(host, pid), cluster=fingerprint((m.name, m.kind) for m in monitors),
                  host=host, pid=pid, region=region, ttl=settings.ttl)
    membership = Membership(lease=lease, clock=clock, on_change=lambda role, view: None, renew=settings.renew)
    store.sql.fence = membership.term
    stop = asyncio.Event()
    beating = asyncio.ensure_future(membership.run(stop))
    try:
        while membership.role is Role.UNKNOWN:
            await asyncio.sleep(0.05)
        yield lambda: membership.role is Role.LEADER
    finally:
        stop.set()
        await beating
        lease.release()
        lease.close()


async def run(args: dict[str, Any], *, web: Serving | None = None) -> dict[str, Any]:
    """`web(store=, monitors=, clock=)`, when given (bench/web.py), returns the check the watcher runs and a
    context entered before the scheduler starts and left when the measured window ends."""
    try:
        return await _measure(args, web)
    finally:  # the teardown's watchdog (below) must not outlive it: tests call run() in their own process
        faulthandler.cancel_dump_traceback_later()


async def _measure(args: dict[str, Any], web: Serving | None) -> dict[str, Any]:
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED

    from bot.checks import run_check
    from bot.checks.client import make_client
    from bot.checks.http import HttpMonitor
    from bot.clock import SystemClock
    from bot.config import Policy
    from bot.overload import OverloadGate
    from bot.regions import Quorum, RegionAgent
    from bot.schedule import build_scheduler
    from bot.store import Store
    from bot.watch import Watcher

    n, interval = int(args["monitors"]), float(args["interval"])
    warmup, seconds = float(args["warmup"]), float(args["seconds"])
    url = str(args["url"])
    region, regions = str(args.get("region", "")), tuple(args.get("regions", ()))
    server_pid = args.get("server_pid")
    counter = Count(("probe engine overloaded", "maximum number of running instances", "was missed by"))
    logging.getLogger().addHandler(counter)
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("apscheduler", "httpx", "httpcore", "aiohttp"):  # as bot/cli.py's setup_logging does
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("downwatch").propagate = True

    # the machine's own figure first, in this process, before the bot runs here (`calibrate`: seconds of it)
    machine = machine_bursts(float(args["calibrate"])) if args.get("calibrate") else {}
    clock = SystemClock()
    rss_start = rss_mb()
    tmp = tempfile.TemporaryDirectory(prefix="downwatch-cap-")
    database = str(args.get("database") or Path(tmp.name) / "bench.db")
    store = Store.open(database)
    policy = Policy()
    # a distinct query per monitor: 10,000 targets, one server (the path and pool treat them alike)
    monitors = [HttpMonitor(name=f"m{i:05d}", url=f"{url}?m={i}", interval=interval, timeout=10.0, policy=policy)
                for i in range(n)]
    store.sync_monitors(((m.name, m.kind) for m in monitors), clock.now())

    measuring = False
    lags: list[float] = []
    done = timeouts = failed = written = 0

    async with make_client() as client, leading(store, database, monitors, clock, region=region) as leads:
        limit = args.get("max_in_flight")
        gate = OverloadGate(clock=clock, limit=int(limit)) if limit is not None else None
        check, serving = web(store=store, monitors=monitors, clock=clock) if web else (run_check, None)
        watcher = Watcher(monitors=monitors, store=store, client=client, clock=clock, gate=gate, check=check,
                          leads=leads, quorum=Quorum(regions=regions) if regions else None)
        agent = RegionAgent(region=region, monitors=monitors, readings=store, client=client, clock=clock,
                            check=check) if region else None

        async def poll(monitor: HttpMonitor) -> object:
            nonlocal done, timeouts, failed, written
            seen = None
            if agent is not None:  # as bot/app.py's probe_and_decide: this region's probe, then the quorum
                reading = await agent.poll(monitor)
                if measuring and reading is not None:
                    written += 1
                    seen = reading.detail
            step = await watcher.poll(monitor)
            if measuring and step is not None:
                done += 1
                c = step.state.components[0] if step.state.components else None
                seen = c.detail if agent is None and c is not None else seen
            if seen is not None and seen.startswith("timed out"):
                timeouts += 1
            elif seen is not None and seen != "HTTP 200":
                failed += 1
            return step

        def late(seconds: float) -> None:
            if measuring:
                lags.append(seconds * 1000.0)

        scheduler = build_scheduler(monitors=monitors, poll=poll, start=clock.now(), on_lag=late,
                                    checkpoint=store.checkpoint)
        events = {"missed": 0, "max_instances": 0}

        def listen(event: Any) -> None:
            if measuring and event.code == EVENT_JOB_MISSED:
                events["missed"] += 1
            elif measuring and event.code == EVENT_JOB_MAX_INSTANCES:
                events["max_instances"] += 1

        scheduler.add_listener(listen, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        rss_built = rss_mb()
        runtime.settle()  # as bot/app.py does before starting the scheduler
        around = AsyncExitStack()
        if serving is not None:
            await around.enter_async_context(serving)
        scheduler.start()
        await asyncio.sleep(warmup)
        loop_lags: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(loop_lags, stop, period=0.05))
        measuring = True
        skipped0 = getattr(watcher, "skipped", 0)
        server0 = tree_cpu_seconds(int(server_pid)) if server_pid else 0.0
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        rss_samples: list[float] = []
        end = t0 + seconds
        while time.perf_counter() < end:
            await asyncio.sleep(min(1.0, max(0.0, end - time.perf_counter())))
            rss_samples.append(rss_mb())
        cpu, elapsed = cpu_seconds() - cpu0, time.perf_counter() - t0
        server_cpu = tree_cpu_seconds(int(server_pid)) - server0 if server_pid else 0.0
        measuring = False
        # One full `make bench` once saw this worker never finish (issue 14's item, session 8): should the
        # teardown hang again, every thread's stack goes to stderr, which the bench prints.
        faulthandler.dump_traceback_later(TEARDOWN, exit=True)
        leader = leads()
        await around.aclose()
        skipped = getattr(watcher, "skipped", 0) - skipped0
        stop.set()
        await tick
        scheduler.shutdown(wait=False)
    await store.aclose()  # as bot/app.py: PostgreSQL's async pool closed in its loop
    tmp.cleanup()
    return {
        "monitors": n, "interval": interval, "seconds": elapsed, "cpu_share": cpu / elapsed,
        "probes": done, "per_s": done / elapsed, "expected_per_s": n / interval,
        "leader": leader, "readings_per_s": written / elapsed, "server_cpu_share": server_cpu / elapsed,
        "lag_p50_ms": percentile(lags, 50), "lag_p99_ms": percentile(lags, 99), "lag_max_ms": max(lags, default=0.0),
        "loop_lag_p99_ms": percentile(loop_lags, 99),
        "rss_start_mb": rss_start, "rss_built_mb": rss_built, "rss_first_mb": rss_samples[0] if rss_samples else 0.0,
        "rss_mb": max(rss_samples, default=rss_mb()), "rss_end_mb": rss_samples[-1] if rss_samples else 0.0,
        "machine_burst_p50_ms": machine.get("burst_p50_ms", 0.0), "machine_burst_p99_ms": machine.get("burst_p99_ms", 0.0),
        "timeouts": timeouts, "failed": failed, "skipped_watcher": skipped,
        "skipped_scheduler": events["max_instances"], "missed": events["missed"],
        "overloaded_reports": counter.counts["probe engine overloaded"],
    }


if __name__ == "__main__":
    print(json.dumps(runtime.run(run(json.loads(sys.argv[1])))))
