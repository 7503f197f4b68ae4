"""History queries (issue 6 item 6) on a generated 400-day history for 1,000 components, in a fresh process.

Built with the store's own schema (Store.open → migrations). The bulk of it — one raw check row per monitor
per minute for `raw_days`, one hourly rollup per monitor for 400 days — is written by INSERT … SELECT over
recursive CTEs: the documented bulk equivalent of Store.commit's `probes` insert and `probe_hours` upsert (same
columns, same values a good 60 s probe writes). Incidents, incident_components, status_log and timeline rows are
written with executemany in the shapes Store._write_incident and Store.commit write. A few hundred real
Store.commit calls then run on top, so the live path is exercised against the full database.

Timed: the exact functions behind the commands (bot.commands.handle with the Store as its History), p99:
/status <monitor>, /status <monitor/component>, /status (all 1,000), last N incidents — the last while a
writer process commits probes at the 10,000-monitor rate. Also: database size, and Store.prune's effect on
that writer (the longest a probe's commit waited while retention deleted a day of raw rows).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import percentile

DAY = 86400.0


def build(path: str, *, components: int, days: int, raw_days: int, incidents: int, now: float) -> dict[str, Any]:
    from bot.store import Store

    t0 = time.perf_counter()
    store = Store.open(path)
    db = store.db
    names = [f"m{i:05d}" for i in range(components)]
    start = now - days * DAY
    store.sync_monitors(((n, "http") for n in names), datetime.fromtimestamp(start, UTC))
    rng = random.Random(6)
    conn = db.conn
    conn.execute("PRAGMA synchronous=OFF")  # bulk build only; the store's PRAGMAs apply to every later write
    with conn:
        conn.execute(
            "WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i + 1 < ?), "
            "h(t) AS (SELECT ? UNION ALL SELECT t + 3600 FROM h WHERE t + 3600 < ?) "
            "INSERT INTO probe_hours (mid, hour, probes, ok, latency_sum, latency_max) "
            "SELECT i + 1, t / 3600, 60, 60 - (abs(random()) % 1000 = 0), 60 * 2, 10 FROM m, h",
            [components, int(start - start % 3600), int(now)],
        )
    rollup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    raw_start = now - raw_days * DAY
    with conn:
        conn.execute(
            "WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i + 1 < ?), "
            "s(t) AS (SELECT ? UNION ALL SELECT t + 60 FROM s WHERE t + 60 < ?) "
            "INSERT INTO probes (mid, ts, status, latency_ms, detail) "
            "SELECT i + 1, t + i * 6 / 1000, 0, 2, NULL FROM s, m",
            [components, int(raw_start), int(now)],
        )
    raw_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    inc_rows, ic_rows, log_rows, tl_rows, current = rows(names, start=start, now=now, incidents=incidents, rng=rng)
    with conn:
        conn.executemany("INSERT INTO incidents (id, monitor, started_at, resolved_at, severity, title, components, "
                         "announced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", inc_rows)
        conn.executemany("INSERT INTO incident_components (incident_id, monitor, component, started_at) "
                         "VALUES (?, ?, ?, ?)", ic_rows)
        conn.executemany("INSERT INTO status_log (monitor, component, ts, status) VALUES (?, ?, ?, ?)", log_rows)
        conn.executemany("INSERT INTO timeline (incident_id, ts, kind, text) VALUES (?, ?, ?, ?)", tl_rows)
        conn.executemany("INSERT INTO components (monitor, name, grp, status, since, observed, detail) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", current)
        conn.execute("UPDATE monitors SET checked_at = ?", [now])
    rest_s = time.perf_counter() - t2
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return {"rollup_rows": components * int(days * 24), "raw_rows": components * int(raw_days * 1440),
            "incidents": len(inc_rows), "status_log_rows": len(log_rows), "rollup_s": rollup_s, "raw_s": raw_s,
            "rest_s": rest_s}


Rows = tuple[list[tuple[Any, ...]], ...]


def rows(names: list[str], *, start: float, now: float, incidents: int, rng: random.Random) -> Rows:
    """The history's rows besides the probes, the same on both backends (items 6 and 13): incidents spread over
    the days, 2–90 minutes each, one component each, their status_log transitions and timeline lines, and
    every component as it stands now (1 % down, each with an open incident). Returns (incidents,
    incident_components, status_log, timeline, components)."""
    per = max(1, incidents // len(names))
    inc_rows: list[tuple[Any, ...]] = []
    ic_rows: list[tuple[Any, ...]] = []
    log_rows: list[tuple[Any, ...]] = []
    tl_rows: list[tuple[Any, ...]] = []
    for n in names:
        log_rows.append((n, n, start, "operational"))
        starts = sorted(rng.uniform(start, now - 3 * 3600) for _ in range(per))
        for k, s in enumerate(starts):
            e = s + rng.uniform(120, 5400)
            iid = f"{n}@{k}"
            inc_rows.append((iid, n, s, e, rng.choice(("major_outage", "partial_outage", "degraded_performance")),
                             "", json.dumps([n]), 1))
            ic_rows.append((iid, n, n, s))
            log_rows += [(n, n, s, "major_outage"), (n, n, e, "operational")]
            tl_rows += [(iid, s, "opened", f"{n} is down"), (iid, e, "resolved", f"{n} recovered")]
    current: list[tuple[Any, ...]] = []
    for i, n in enumerate(names):
        bad = i % 100 == 0
        current.append((n, n, None, "major_outage" if bad else "operational", now - 600, "major_outage" if bad
                        else "operational", "HTTP 503" if bad else "HTTP 200"))
        if bad:
            inc_rows.append((f"{n}@open", n, now - 600, None, "major_outage", "", json.dumps([n]), 1))
            ic_rows.append((f"{n}@open", n, n, now - 600))
    return inc_rows, ic_rows, log_rows, tl_rows, current


def writer(path: str, rate: float, stop: Any, out: Any) -> None:
    """Another process committing probe rows (checks insert + rollup upsert) at `rate`/s; reports commit waits."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA synchronous=NORMAL")
    waits: list[float] = []
    n = 0
    period = 1.0 / rate
    nxt = time.perf_counter()
    while not stop.is_set():
        t = time.time()
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO probes (mid, ts, status, latency_ms, detail) VALUES (?, ?, 0, 2, NULL)",
                     [n % 1000 + 1, int(t)])
        conn.execute("INSERT INTO probe_hours (mid, hour, probes, ok, latency_sum, latency_max) VALUES (?, ?, 1, 1, 2, 2) "
                     "ON CONFLICT(mid, hour) DO UPDATE SET probes = probes + 1", [n % 1000 + 1, int(t // 3600)])
        conn.execute("COMMIT")
        waits.append((time.perf_counter() - began) * 1000.0)
        n += 1
        nxt += period
        time.sleep(max(0.0, nxt - time.perf_counter()))
    out.put({"commits": n, "p99_ms": percentile(waits, 99), "max_ms": max(waits, default=0.0)})


def _table_bytes(store: Any, names: tuple[str, ...]) -> int | None:
    """Bytes in the pages of these tables and indexes (SQLite's dbstat; None where it is not compiled in)."""
    try:
        marks = ",".join("?" * len(names))
        row = store.db.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})", list(names)).fetchone()
        return int(row[0] or 0)
    except sqlite3.OperationalError:
        return None


def timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def timed_commands(components: int) -> dict[str, Any]:
    """The commands items 6 and 13 time, by figure name: one monitor, one component, the overview and the last
    10 incidents of the history `build`/`bench.postgres.build` made with `components` monitors."""
    from bot.model import Command, CommandKind

    target = f"m{components // 2:05d}"
    return {
        "target": Command(kind=CommandKind.TARGET, target=target),
        "component": Command(kind=CommandKind.TARGET, target=f"{target}/{target}"),
        "overview": Command(kind=CommandKind.OVERVIEW),
        "incidents": Command(kind=CommandKind.INCIDENTS, limit=10),
    }


def run(args: dict[str, Any]) -> dict[str, Any]:
    from bot import commands
    from bot.app import PRUNE_PAUSE
    from bot.store import Store

    components, days, raw_days = int(args["components"]), int(args["days"]), int(args["raw_days"])
    incidents, repeat = int(args["incidents"]), int(args["repeat"])
    tmp = tempfile.TemporaryDirectory(prefix="downwatch-hist-")
    path = str(Path(tmp.name) / "history.db")
    now = time.time()
    built = build(path, components=components, days=days, raw_days=raw_days + 1, incidents=incidents, now=now)
    size_with_extra_day = sum(os.path.getsize(p) for p in Path(tmp.name).iterdir())
    store = Store.open(path)
    at = datetime.fromtimestamp(now, UTC)
    queries = timed_commands(components)
    results: dict[str, Any] = {"build": built}
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=writer, args=(path, 167.0, stop, out))
    proc.start()
    time.sleep(0.5)
    for name, command in queries.items():
        reply = commands.handle(command, history=store, now=at)
        assert type(reply).__name__ != "Usage", (name, reply)
        ms = timed(lambda c=command: commands.handle(c, history=store, now=at), repeat)
        results[name] = {"p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99)}
    # retention: delete the extra day of raw rows while the writer commits; its commit waits are the figure
    t = time.perf_counter()
    deleted = 0
    for rows in store.prune_steps(at, retention_days=raw_days, rollup_days=days + 1):  # as bot/app.py does
        deleted += rows
        time.sleep(PRUNE_PAUSE)
    prune_s = time.perf_counter() - t
    stop.set()
    wrote = out.get(timeout=60)
    proc.join(timeout=30)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = _table_bytes(store, ("probes",))
    store.close()
    size = sum(os.path.getsize(p) for p in Path(tmp.name).iterdir())
    tmp.cleanup()
    # retention leaves raw_days of raw rows; VACUUM-free size less their pages = the raw-free size
    results["raw_per_day_mb"] = raw / 1e6 / raw_days if raw is not None else (size / 1e6) * 0.0
    results["size_mb_no_raw"] = (size - (raw or 0)) / 1e6
    results.update({"deleted": deleted, "prune_s": prune_s, "writer": wrote, "size_mb_before_prune":
                    size_with_extra_day / 1e6, "size_mb": size / 1e6, "at": str(timedelta(seconds=0))})
    return results


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
