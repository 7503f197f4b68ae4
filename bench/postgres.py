"""On PostgreSQL (issue 14; bench items 12–14): a throwaway server started by the bench, the store on it.

The server is tests/pg.py's PgServer (Debian's `postgresql`, initdb as the `postgres` user, a random port, its
data folder in /dev/shm, fsync off: CPU is measured, not a disk). Its CPU is the postmaster's and its
backends' from /proc (bench.common.tree_cpu_seconds), over the same window as the bot's.

- Item 12: bench/capacity.py with `database` a PostgreSQL URL: the process beats its lease, leads, and commits
  every poll fenced on its term, as bot/app.py runs a cluster's leader.
- Item 13 (`python -m bench.postgres ARGS`): the 400-day history of bench/history.py, built on PostgreSQL with
  the store's schema (Store.open → migrations), then bot.commands.handle timed with that Store as History
  while another process commits probes at the 10,000-monitor rate. The bulk — hourly rollups for every
  monitor and day, one raw probe per monitor per minute for `raw_days` — is INSERT … SELECT over
  generate_series (the same rows as history.py's recursive CTEs); incidents, status_log, timeline and
  components go in by COPY, in the shapes Store.commit writes. VACUUM ANALYZE afterwards: autovacuum's
  state on a database that has lived that long.
- Item 14: the leader as bot/app.py runs it in a region: bench/capacity.py with `region` r1, probing every
  monitor and writing its reading (RegionAgent.poll → Store.write_reading), then deciding it from the three
  regions' readings (the watcher's quorum) and committing, fenced. Regions r2 and r3 are writers in another
  process: Store.write_reading of every monitor at the same rate (their probing is other machines' CPU).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench import history
from bench.common import percentile, run_worker

DAY = 86400.0
REGIONS = ("r1", "r2", "r3")


@dataclass(frozen=True)
class Server:
    """A running throwaway PostgreSQL: fresh databases by URL, the postmaster's pid, its major version."""

    pg: Any  # tests.pg.PgServer
    pid: int
    version: str

    def database(self) -> str:
        return str(self.pg.create_database())


def missing() -> str | None:
    """Why no PostgreSQL server can run here (the items are then skipped with this reason), or None."""
    from tests import pg

    return pg.missing()


@contextmanager
def server() -> Iterator[Server]:
    """Start a PostgreSQL server for the bench; stopped and removed on exit."""
    from tests import pg

    started = pg.PgServer.start()
    try:
        pid = int((started.data / "postmaster.pid").read_text().split()[0])
        yield Server(pg=started, pid=pid, version=started.data.joinpath("PG_VERSION").read_text().strip())
    finally:
        started.stop()


# ---------------------------------------------------------------- item 13: /status on 400 days


def build(url: str, *, components: int, days: int, raw_days: int, incidents: int, now: float) -> dict[str, Any]:
    """The history of bench/history.py's `build`, on PostgreSQL."""
    import psycopg

    from bot.store import Store

    t0 = time.perf_counter()
    store = Store.open(url)
    names = [f"m{i:05d}" for i in range(components)]
    start = now - days * DAY
    store.sync_monitors(((n, "http") for n in names), datetime.fromtimestamp(start, UTC))
    store.close()
    rng = random.Random(6)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")  # the bulk build only
        conn.execute(
            "INSERT INTO probe_hours (mid, hour, probes, ok, latency_sum, latency_max) "
            "SELECT m, h, 60, 60 - (random() < 0.001)::int, 120, 10 "
            "FROM generate_series(1, %s) m CROSS JOIN LATERAL generate_series(%s::bigint, %s::bigint) h",
            [components, int(start // 3600), int((now - 1) // 3600)])
        rollup_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        raw_start = int(now - raw_days * DAY)
        conn.execute(
            "INSERT INTO probes (mid, ts, status, latency_ms, detail) "
            "SELECT i + 1, t + i * 6 / 1000, 0, 2, NULL "
            "FROM generate_series(%s::bigint, %s::bigint, 60) t CROSS JOIN LATERAL generate_series(0, %s - 1) i",
            [raw_start, int(now) - 1, components])
        raw_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        inc_rows, ic_rows, log_rows, tl_rows, current = history.rows(names, start=start, now=now,
                                                                     incidents=incidents, rng=rng)
        with conn.transaction(), conn.cursor() as cur:
            for table, columns, rows in (
                    ("incidents", "id, monitor, started_at, resolved_at, severity, title, components, announced",
                     inc_rows),
                    ("incident_components", "incident_id, monitor, component, started_at", ic_rows),
                    ("status_log", "monitor, component, ts, status", log_rows),
                    ("timeline", "incident_id, ts, kind, text", tl_rows),
                    ("components", "monitor, name, grp, status, since, observed, detail", current)):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cur.execute("UPDATE monitors SET checked_at = %s", [now])
        conn.execute("VACUUM ANALYZE")
        rest_s = time.perf_counter() - t2
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    return {"rollup_rows": components * int(days * 24), "raw_rows": components * int(raw_days * 1440),
            "incidents": len(inc_rows), "status_log_rows": len(log_rows), "rollup_s": rollup_s, "raw_s": raw_s,
            "rest_s": rest_s, "size_mb": size / 1e6}


def writer(url: str, rate: float, components: int, stop: Any, out: Any) -> None:
    """Another process committing probe rows (the raw row + the rollup upsert, as Store.commit) at `rate`/s."""
    import psycopg

    waits: list[float] = []
    n = 0
    period = 1.0 / rate
    with psycopg.connect(url, autocommit=True) as conn:
        nxt = time.perf_counter()
        while not stop.is_set():
            t = time.time()
            began = time.perf_counter()
            mid = n % components + 1
            with conn.transaction():
                conn.execute("INSERT INTO probes (mid, ts, status, latency_ms, detail) VALUES (%s, %s, 0, 2, NULL)",
                             [mid, int(t)])
                conn.execute("INSERT INTO probe_hours (mid, hour, probes, ok, latency_sum, latency_max) "
                             "VALUES (%s, %s, 1, 1, 2, 2) ON CONFLICT (mid, hour) DO UPDATE SET "
                             "probes = probe_hours.probes + 1", [mid, int(t // 3600)])
            waits.append((time.perf_counter() - began) * 1000.0)
            n += 1
            nxt += period
            time.sleep(max(0.0, nxt - time.perf_counter()))
    out.put({"commits": n, "p99_ms": percentile(waits, 99), "max_ms": max(waits, default=0.0)})


def run(args: dict[str, Any]) -> dict[str, Any]:
    """Item 13's worker: build on `database`, then time the commands (p50/p99 ms each, and the CPU p99 of this
    process per call) beside the writer, with the collector as the bot runs it (bot/runtime.py)."""
    import gc

    from bench.history import timed_commands
    from bot import commands, runtime
    from bot.store import Store

    url = str(args["database"])
    components, days, raw_days = int(args["components"]), int(args["days"]), int(args["raw_days"])
    repeat = int(args["repeat"])
    now = time.time()
    built = build(url, components=components, days=days, raw_days=raw_days, incidents=int(args["incidents"]),
                  now=now)
    thresholds = gc.get_threshold()
    gc.set_threshold(*runtime.GC_THRESHOLDS)
    store = Store.open(url)
    runtime.settle()
    at = datetime.fromtimestamp(now, UTC)
    queries = timed_commands(components)
    results: dict[str, Any] = {"build": built}
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=writer, args=(url, float(args.get("rate", 167.0)), components, stop, out))
    proc.start()
    time.sleep(0.5)
    try:
        for name, command in queries.items():
            reply = commands.handle(command, history=store, now=at)
            assert type(reply).__name__ != "Usage", (name, reply)
            ms, cpu = [], []
            for _ in range(repeat):
                t, c = time.perf_counter(), time.process_time()
                commands.handle(command, history=store, now=at)
                ms.append((time.perf_counter() - t) * 1000.0)
                cpu.append((time.process_time() - c) * 1000.0)
            results[name] = {"p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99), "max_ms": max(ms),
                             "cpu_p99_ms": percentile(cpu, 99)}
        results["stall"] = asyncio.run(stalls(store, queries["overview"], at, repeat))
    finally:
        stop.set()
        results["writer"] = out.get(timeout=60)
        proc.join(timeout=30)
        store.close()
        runtime.unsettle()
        gc.set_threshold(*thresholds)
    return results


async def stalls(store: Any, command: Any, at: datetime, repeat: int) -> dict[str, float]:
    """How long the event loop stops while `repeat` /status overviews are answered one after another: on the
    loop itself (as every command was before), and through bot.app's command handler (a worker thread on
    PostgreSQL). Measured by a 1 ms ticker: each tick's lateness, p99 and max."""
    from bot import commands
    from bot.app import command_handler
    from bot.clock import FakeClock

    async def measured(answer: Any) -> tuple[float, float]:
        late: list[float] = []
        done = asyncio.Event()

        async def tick() -> None:
            while not done.is_set():
                began = time.perf_counter()
                await asyncio.sleep(0.001)
                late.append(max(0.0, time.perf_counter() - began - 0.001) * 1000.0)

        ticker = asyncio.create_task(tick())
        for _ in range(repeat):
            await answer()
            await asyncio.sleep(0.003)  # a few ticks between two commands, as chat spaces them
        done.set()
        await ticker
        return percentile(late, 99), max(late, default=0.0)

    async def inline() -> None:
        commands.handle(command, history=store, now=at)

    handler = command_handler(store, FakeClock(at))

    async def threaded() -> None:
        await handler(command)

    on_loop = await measured(inline)
    off_loop = await measured(threaded)
    return {"inline_p99_ms": on_loop[0], "inline_max_ms": on_loop[1], "thread_p99_ms": off_loop[0],
            "thread_max_ms": off_loop[1]}


# ---------------------------------------------------------------- item 14: three regions


def region_writer(url: str, regions: tuple[str, ...], monitors: int, interval: float, stop: Any, out: Any) -> None:
    """Other regions' agents, as the database sees them: each writes one reading of every monitor per
    `interval` (Store.write_reading), spread evenly over 50 ms ticks; reports readings written per region
    and how late its ticks woke (p99)."""
    from bot.model import RegionReading, Status
    from bot.store import Store

    store = Store.open(url)
    names = [f"m{i:05d}" for i in range(monitors)]
    per_tick = monitors * 0.05 / interval
    written = dict.fromkeys(regions, 0)
    late: list[float] = []
    began = time.perf_counter()
    due, owed, k = began, 0.0, 0
    while not stop.is_set():
        late.append(max(0.0, time.perf_counter() - due) * 1000.0)  # how late this tick woke: the machine's lag
        owed += per_tick
        at = datetime.now(UTC)
        while owed >= 1:
            owed -= 1
            name = names[k % monitors]
            for region in regions:
                store.write_reading(name, RegionReading(region=region, at=at, status=Status.OPERATIONAL, failures=0,
                                                        successes=1 + k // monitors, latency_ms=2.0,
                                                        detail="HTTP 200"))
                written[region] += 1
            k += 1
        due += 0.05
        time.sleep(max(0.0, due - time.perf_counter()))
    elapsed = time.perf_counter() - began
    store.close()
    out.put({"per_s": {r: n / elapsed for r, n in written.items()}, "tick_late_p99_ms": percentile(late, 99)})


def three_regions(server: Server, args: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Item 14 (see the module docstring): the leader's capacity run in region r1 while another process writes
    regions r2 and r3; the leader's results, with the writer's."""
    url = server.database()
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    writer = ctx.Process(target=region_writer, args=(url, REGIONS[1:], int(args["monitors"]),
                                                     float(args["interval"]), stop, out))
    writer.start()
    try:
        lead = run_worker("bench.capacity", {**args, "database": url, "region": REGIONS[0], "regions": list(REGIONS),
                                             "server_pid": server.pid}, timeout=timeout)
    finally:
        stop.set()
        others = out.get(timeout=60)
        writer.join(timeout=30)
    return {**lead, "others": others}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
