"""`make bench` = `python -m bench [--quick] [--json FILE]`: every item of issue 6 (1–8), issue 11 (9, 10),
issue 13 (11) and issue 14 (12–14, on a PostgreSQL server the bench starts), one table.

Heavy items run in fresh child processes (clean CPU and RSS figures); the local target (nginx, else a fast
asyncio server) runs in another process; wrk (when present) gives the load tool's ceilings in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bench.common import Figure, ensure_tools, local_target, machine, run_worker, wrk
from bench.web import in_the_runs, run_sizes
from bench.web import sizes as web_sizes
from bot import runtime


def sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {"probe_s": 1.5, "wrk_s": 2, "cap": [(1000, 6.0, 3, 6)], "overload_s": 6, "overload_interval": 3.0,
                "hist": {"components": 200, "days": 30, "raw_days": 1, "incidents": 5000, "repeat": 20},
                "flips": 4, "others": 500, "sp_polls": 100, "startup_runs": 3, "src_polls": 20,
                "mixed": {"monitors": 20, "interval": 6.0, "warmup": 1.0, "seconds": 6.0}, "calibrate": 1.0,
                "pg": {"cap": (1000, 6.0, 3, 6), "regions": (1000, 6.0, 3, 6),
                       "hist": {"components": 200, "days": 30, "raw_days": 1, "incidents": 5000, "repeat": 20}}}
    return {"probe_s": 4.0, "wrk_s": 5, "cap": [(10_000, 60.0, 15, 60), (1000, 60.0, 5, 60)], "overload_s": 20,
            "overload_interval": 5.0,
            "hist": {"components": 1000, "days": 400, "raw_days": 2, "incidents": 100_000, "repeat": 100},
            "flips": 12, "others": 10_000, "sp_polls": 500, "startup_runs": 5, "src_polls": 200,
            "mixed": {"monitors": 200, "interval": 60.0, "warmup": 5.0, "seconds": 60.0}, "calibrate": 10.0,
            "pg": {"cap": (10_000, 60.0, 60, 60), "regions": (10_000, 60.0, 60, 60),
                   "hist": {"components": 1000, "days": 400, "raw_days": 2, "incidents": 100_000, "repeat": 100}}}


def machine_note(r: dict[str, Any]) -> str:
    """The machine beside a lag: the same ~2 ms of pure Python every 50 ms (bench.common.machine_bursts), timed in
    the run's own process just before the bot started there."""
    return (f"machine: a fixed 2 ms burst every 50 ms took {r['machine_burst_p50_ms']:.1f} ms at the median, "
            f"{r['machine_burst_p99_ms']:.1f} at p99")


def check(ok: bool) -> bool:
    return bool(ok)


def probes(target: Any, s: dict[str, Any], out: list[Figure]) -> float:
    """Items 2 and 3; returns the saturation probes/s of the client make_client() ships."""
    ceiling = wrk(target.close, connections=50, seconds=s["wrk_s"])
    ceiling_tls = wrk(target.tls, connections=50, seconds=s["wrk_s"]) if target.tls else None

    def one(client: str, url: str, conc: int) -> dict[str, Any]:
        return run_worker("bench.probes", {"client": client, "url": url, "cert": target.cert, "concurrency": conc,
                                           "seconds": s["probe_s"]})

    bare = one("bare", target.close, 50)
    ref_name = "wrk" if ceiling else f"bare loop on {runtime.loop_name()} (wrk absent)"
    ref = ceiling or bare["per_s"]
    out.append(Figure("2", f"bare streams loop on {runtime.loop_name()}, new conn, c=50", bare["per_s"], "probes/s", reference=ceiling,
                      reference_name="wrk", note=f"{bare['cpu_us']:.0f} µs CPU/probe"))
    raw = one("raw", target.close, 50)
    out.append(Figure("2", "raw aiohttp (no httpx, no check), new conn, c=50", raw["per_s"], "probes/s",
                      reference=ceiling, reference_name="wrk", note=f"{raw['cpu_us']:.0f} µs CPU/probe"))
    shipped: dict[str, Any] = {}
    for client in ("httpx", "sharded", "aiohttp"):
        r50 = one(client, target.close, 50)
        shipped[client] = r50
        out.append(Figure("2", f"check_http via {client}, new conn, c=50", r50["per_s"], "probes/s", "≥18 % of ref",
                          r50["per_s"] >= 0.18 * ref, ref, ref_name,
                          f"{r50['cpu_us']:.0f} µs CPU/probe (bare {bare['cpu_us']:.0f})"))
        for conc, need in ((200, 0.8), (1000, 0.6)):
            r = one(client, target.close, conc)
            out.append(Figure("3", f"{client} c={conc} vs c=50", r["per_s"], "probes/s", f"≥{need:.0%} of c=50",
                              r["per_s"] >= need * r50["per_s"], r50["per_s"], "c=50"))
    best = shipped["aiohttp"]
    # sustained: a paced load at 2,000/s through the shipped client; lag from the loop ticker
    paced = run_worker("bench.paced", {"url": target.close, "rate": 2000, "seconds": s["probe_s"]})
    out.append(Figure("2", "sustained 2,000/s: achieved", paced["per_s"], "probes/s", "≥2,000",
                      paced["per_s"] >= 1950, note=f"CPU {paced['cpu_share']:.0%} of a core"))
    out.append(Figure("2", "sustained 2,000/s: loop lag p99", paced["lag_p99_ms"], "ms", "≤10",
                      paced["lag_p99_ms"] <= 10))
    if target.tls:
        bare_tls = one("bare", target.tls, 50)
        raw_tls = one("raw", target.tls, 50)
        tls = one("aiohttp", target.tls, 50)
        ref_tls = ceiling_tls or bare_tls["per_s"]
        out.append(Figure("2", f"bare streams loop on {runtime.loop_name()}, TLS each", bare_tls["per_s"], "probes/s",
                          reference=ceiling_tls, reference_name="wrk TLS",
                          note=f"{bare_tls['cpu_us']:.0f} µs CPU/probe"))
        out.append(Figure("2", "raw aiohttp (no httpx, no check), TLS each", raw_tls["per_s"], "probes/s",
                          reference=ceiling_tls, reference_name="wrk TLS", note=f"{raw_tls['cpu_us']:.0f} µs CPU/probe"))
        out.append(Figure("2", "check_http (shipped), TLS each", tls["per_s"], "probes/s", "≥55 % of ref",
                          tls["per_s"] >= 0.55 * ref_tls, ref_tls, "wrk TLS" if ceiling_tls else "bare loop",
                          f"{tls['cpu_us']:.0f} µs CPU/probe (bare {bare_tls['cpu_us']:.0f})"))
    return float(best["per_s"])


def capacity(target: Any, s: dict[str, Any], out: list[Figure], saturation: float) -> None:
    for n, interval, warmup, seconds in s["cap"]:
        r = run_worker("bench.capacity", {"monitors": n, "interval": interval, "warmup": warmup, "seconds": seconds,
                                          "url": target.close, "calibrate": s["calibrate"]},
                       timeout=seconds + warmup + 300)
        rss_target = 120 if n >= 10_000 else 80
        tag = f"{n:,} monitors @ {interval:g} s"
        out.append(Figure("1", f"{tag}: CPU", 100 * r["cpu_share"], "% core", "≤15", r["cpu_share"] <= 0.15,
                          note=f"{r['per_s']:.0f} probes/s done (expected {r['expected_per_s']:.0f})"))
        out.append(Figure("1", f"{tag}: scheduling lag p99", r["lag_p99_ms"], "ms", "≤10", r["lag_p99_ms"] <= 10,
                          r["machine_burst_p99_ms"], "machine: 2 ms burst p99",
                          note=f"p50 {r['lag_p50_ms']:.1f}, max {r['lag_max_ms']:.0f}; loop lag p99 "
                               f"{r['loop_lag_p99_ms']:.1f}; {machine_note(r)}"))
        out.append(Figure("1", f"{tag}: RSS", r["rss_mb"], "MB", f"≤{rss_target}", r["rss_mb"] <= rss_target,
                          note=f"{r['timeouts']} timeouts, {r['failed']} failed"))
    # item 4: twice the saturation load through the real scheduler path
    interval = s["overload_interval"]
    n = int(2 * saturation * interval)
    r = run_worker("bench.capacity", {"monitors": n, "interval": interval, "warmup": 0, "seconds": s["overload_s"],
                                      "url": target.close}, timeout=s["overload_s"] + 300)
    tag = f"overload 2×sat ({n:,} @ {interval:g} s)"
    out.append(Figure("4", f"{tag}: probes done", r["per_s"], "probes/s", reference=saturation,
                      reference_name="saturation", note=f"{r['skipped_watcher']} skipped+counted by watcher, "
                                                         f"{r['skipped_scheduler']} by APScheduler"))
    out.append(Figure("4", f"{tag}: RSS growth", r["rss_mb"] / max(1.0, r["rss_first_mb"]), "×", "<2",
                      r["rss_mb"] < 2 * r["rss_first_mb"], note=f"{r['rss_first_mb']:.0f} → {r['rss_mb']:.0f} MB"))
    out.append(Figure("4", f"{tag}: probes timed out", r["timeouts"], "probes", "0", r["timeouts"] == 0))
    out.append(Figure("4", f"{tag}: 'probe engine overloaded' reports", r["overloaded_reports"], "lines", "1",
                      r["overloaded_reports"] == 1))


def statuspage(s: dict[str, Any], out: list[Figure]) -> None:
    r = run_worker("bench.statuspage", {"polls": s["sp_polls"]})
    for name, v in r.items():
        out.append(Figure("5", f"{name} capture ({v['components']} comps): parse+step", v["mean_ms"], "ms/poll",
                          "≤0.5", v["mean_ms"] <= 0.5, note=f"p99 {v['p99_ms']:.2f} ms"))
        out.append(Figure("5", f"{name}: rows per unchanged poll", v["rows_per_unchanged_poll"], "rows", "0",
                          v["rows_per_unchanged_poll"] == 0))


def sources(s: dict[str, Any], out: list[Figure]) -> None:
    """Item 9 (issue 11): every source parser on its largest real capture, and what an unchanged poll writes."""
    r: dict[str, Any] = run_worker("bench.sources", {"polls": s["src_polls"]})
    for name, v in r.items():
        size = f"{v['bytes'] / 1000:.0f} KB" if v["bytes"] >= 1000 else f"{v['bytes']} B"
        out.append(Figure("9", f"{name} ({size}, {v['components']} comps): unchanged poll", v["unchanged_ms"],
                          "ms/poll", "≤0.5", v["unchanged_ms"] <= 0.5, v["changed_ms"], "new body",
                          f"parse alone on a new body {v['parse_ms']:.2f}, floor {v['floor_ms']:.2f} ({v['floor']}); "
                          f"{v['incidents']} open incidents"))
    rows = {name: v["rows_per_unchanged_poll"] for name, v in r.items()}
    worst = max(rows.values(), default=0)
    out.append(Figure("9", f"rows per unchanged poll, all {len(rows)} parsers (Store.commit)", worst, "rows", "0",
                      worst == 0, note="; ".join(f"{k} {v}" for k, v in rows.items() if v) or "0 for each"))


def mixed(s: dict[str, Any], out: list[Figure]) -> None:
    """Item 10 (issue 11): status-source monitors of mixed types through the real path, CPU of the process."""
    m = s["mixed"]
    r: dict[str, Any] = run_worker("bench.mixed", m, timeout=m["warmup"] + m["seconds"] + 300)
    tag = f"{r['monitors']} mixed source monitors @ {r['interval']:g} s"
    per_poll = 1e6 * r["cpu_s"] / max(1, r["polls"])
    changed = r["changed"] / max(1, r["requests"])
    out.append(Figure("10", f"{tag}: CPU", 100 * r["cpu_share"], "% core", "≤2", r["cpu_share"] <= 0.02,
                      note=f"{r['polls']} polls in {r['seconds']:.0f} s (expected {r['expected_polls']:.0f}), "
                           f"{per_poll:.0f} µs CPU/poll; {changed:.0%} of bodies changed; RSS {r['rss_mb']:.0f} MB"))
    out.append(Figure("10", f"{tag}: polls unreadable", r["unreadable"], "polls", "0", r["unreadable"] == 0,
                      note=f"{r['alerts']} alerts; {r['requests']} requests, {r['missing']} answered 404"))


def web(target: Any, quick: bool, out: list[Figure]) -> None:
    """Item 11 (issue 13): the status page, summary.json and /metrics, each render after a monitor moved; the
    web server in the 10,000-monitor run, scraped, and asked by 200 clients."""
    runs = in_the_runs(target.close, run_sizes(quick))
    quiet, scraped, seen = runs["quiet"]["run"], runs["scraped"]["run"], runs["scraped"]["client"]
    tag = f"{quiet['monitors']:,} monitors @ {quiet['interval']:g} s"
    out.append(Figure("11", f"{tag}: web scraped every 15 s, CPU", 100 * runs["share_at_15s"], "% core", "≤1",
                      runs["share_at_15s"] <= 0.01, 100 * quiet["cpu_share"], "the run unscraped",
                      f"{runs['scrape_cpu_ms']:.0f} ms CPU a scrape of /, /metrics, summary.json (measured: scraped "
                      f"every 1 s, {seen['scrapes']} scrapes, {100 * scraped['cpu_share']:.1f} % vs "
                      f"{100 * quiet['cpu_share']:.1f} %); answers p99 "
                      + ", ".join(f"{path} {ms:.0f} ms" for path, ms in seen["p99_ms"].items())))
    # The target holds for 200 clients at once (each second: 30 times what 200 open pages reloading every 30 s
    # ask); back to back, the load tool itself takes a core of this 2-core machine from the bot: information.
    for name, how in (("crowd", "200 clients asking / every 1 s"), ("flood", "200 clients asking / back to back")):
        c = runs[name]
        held = c["run"]["lag_p99_ms"] <= 10 if name == "crowd" else None
        out.append(Figure("11", f"{tag}, {how}: scheduling lag p99", c["run"]["lag_p99_ms"], "ms",
                          "≤10" if name == "crowd" else "", held, quiet["lag_p99_ms"], "nobody asking",
                          f"{c['client']['answers']['/']:,} answers in {c['run']['seconds']:.0f} s, answer p99 "
                          f"{c['client']['p99_ms']['/']:.0f} ms; loop lag p99 {c['run']['loop_lag_p99_ms']:.1f}; "
                          f"CPU {100 * c['run']['cpu_share']:.0f} %; {c['run']['per_s']:.0f} checks/s of "
                          f"{c['run']['expected_per_s']:.0f}; {machine_note(c['run'])}"))
    r: dict[str, Any] = run_worker("bench.web", web_sizes(quick), timeout=1800)
    for p in r["pages"]:
        tag = f"{p['monitors']:,} × {p['components']} comps, {p['days']} d"
        index, summary = p["index"], p["summary"]
        out.append(Figure("11", f"{tag}: / render p99", index["p99_ms"], "ms", "≤50", index["p99_ms"] <= 50,
                          p["index_first"]["median_ms"], "first render",
                          f"median {index['median_ms']:.1f}, CPU p99 {index['cpu_p99_ms']:.1f} (machine: a fixed "
                          f"loop's CPU p99/median {p['noise']:.1f}×); over HTTP p99 "
                          f"{p['index_http_p99_ms']:.1f} "
                          f"({p['index_http_kb']:.0f} KB gzipped)"))
        out.append(Figure("11", f"{tag}: summary.json render p99", summary["p99_ms"], "ms", "≤20",
                          summary["p99_ms"] <= 20, note=f"median {summary['median_ms']:.1f}, CPU p99 "
                                                        f"{summary['cpu_p99_ms']:.1f}; over HTTP p99 "
                                                        f"{p['summary_http_p99_ms']:.1f} ({p['summary_http_kb']:.0f} "
                                                        "KB gzipped)"))
    m = r["metrics"]
    out.append(Figure("11", f"/metrics, {m['monitors']:,} monitors: scrape p99", m["p99_ms"], "ms", "≤50",
                      m["p99_ms"] <= 50, note=f"median {m['median_ms']:.1f}, {m['kb']:.0f} KB gzipped, collected "
                                              "anew each time, client in another process; the collection alone "
                                              f"p99 {m['collect']['p99_ms']:.1f} (CPU {m['collect']['cpu_p99_ms']:.1f},"
                                              f" median {m['collect']['median_ms']:.1f})"))


def history(s: dict[str, Any], out: list[Figure]) -> None:
    h = s["hist"]
    r = run_worker("bench.history", h, timeout=900)
    tag = f"{h['components']:,} comps × {h['days']} d"
    for key, label, limit in (("target", "/status <monitor>", 5), ("component", "/status <component>", 5),
                              ("overview", "/status (all)", 50), ("incidents", "last 10 incidents + writer", 2)):
        out.append(Figure("6", f"{tag}: {label} p99", r[key]["p99_ms"], "ms", f"≤{limit}", r[key]["p99_ms"] <= limit,
                          note=f"p50 {r[key]['p50_ms']:.2f}"))
    b = r["build"]
    per_raw_day = r["raw_per_day_mb"]
    est7 = r["size_mb_no_raw"] + 7 * per_raw_day
    out.append(Figure("6", f"{tag}: DB size with 7 d raw (est.)", est7 / 1000, "GB", "≤0.6", est7 <= 600,
                      note=f"measured {r['size_mb']:.0f} MB with {h['raw_days']} d raw; raw {per_raw_day:.0f} MB/day; "
                           f"{b['incidents']:,} incidents"))
    w = r["writer"]
    out.append(Figure("6", "retention prune: writer commit wait max", w["max_ms"], "ms", "probes never block",
                      None, note=f"p99 {w['p99_ms']:.1f} ms; {r['deleted']:,} rows in {r['prune_s']:.0f} s"))


def postgres(target: Any, s: dict[str, Any], out: list[Figure], items: set[str]) -> None:
    """Items 12–14 (issue 14): the leader's 10,000 monitors, /status on 400 days, three regions' probes, each
    on a fresh database of one PostgreSQL server started here (bench/postgres.py)."""
    from bench import postgres as pg

    reason = pg.missing()
    if reason:
        out += [Figure(item, "PostgreSQL items skipped", None, "", note=reason) for item in sorted(items)]
        return
    with pg.server() as server:
        where = f"PostgreSQL {server.version}, data in tmpfs, fsync off"
        if "12" in items:
            n, interval, warmup, seconds = s["pg"]["cap"]
            r = run_worker("bench.capacity", {"monitors": n, "interval": interval, "warmup": warmup,
                                              "seconds": seconds, "url": target.close, "database": server.database(),
                                              "server_pid": server.pid}, timeout=seconds + warmup + 300)
            tag = f"{n:,} monitors @ {interval:g} s on PostgreSQL"
            out.append(Figure("12", f"{tag}: leader's CPU", 100 * r["cpu_share"], "% core", "≤20",
                              r["cpu_share"] <= 0.20 and r["leader"],
                              note=f"{r['per_s']:.0f} polls/s committed (expected {r['expected_per_s']:.0f}), "
                                   f"{'leading' if r['leader'] else 'NOT leading'}; lag p99 {r['lag_p99_ms']:.1f} ms, "
                                   f"loop lag p99 {r['loop_lag_p99_ms']:.1f}; RSS {r['rss_mb']:.0f} MB"))
            out.append(Figure("12", f"{tag}: PostgreSQL's CPU", 100 * r["server_cpu_share"], "% core", "≤20",
                              r["server_cpu_share"] <= 0.20, note=f"postmaster + backends, /proc; {where}"))
        if "13" in items:
            h = s["pg"]["hist"]
            r = run_worker("bench.postgres", {**h, "database": server.database()}, timeout=1800)
            tag = f"{h['components']:,} comps × {h['days']} d on PostgreSQL"
            b, w = r["build"], r["writer"]
            for key, label, limit in (("overview", "/status (all)", 50), ("target", "/status <monitor>", 50),
                                      ("component", "/status <component>", None),
                                      ("incidents", "last 10 incidents", None)):
                out.append(Figure("13", f"{tag}: {label} p99", r[key]["p99_ms"], "ms", f"≤{limit}" if limit else "",
                                  r[key]["p99_ms"] <= limit if limit else None,
                                  note=f"p50 {r[key]['p50_ms']:.2f}, max {r[key]['max_ms']:.1f}, CPU p99 "
                                       f"{r[key]['cpu_p99_ms']:.1f}"
                                       + (f"; beside a writer committing {w['commits']:,} probes (167/s, commit p99 "
                                          f"{w['p99_ms']:.1f} ms); database {b['size_mb']:,.0f} MB, built in "
                                          f"{b['rollup_s'] + b['raw_s'] + b['rest_s']:.0f} s; {where}"
                                          if key == "overview" else "")))
            st = r["stall"]
            out.append(Figure("13", f"{tag}: event loop stopped while /status answers, p99", st["thread_p99_ms"],
                              "ms", "", None, st["inline_p99_ms"], "answered on the loop",
                              note=f"max {st['thread_max_ms']:.1f} ms in a worker thread (bot.app's command "
                                   f"handler), {st['inline_max_ms']:.1f} ms on the loop; a 1 ms ticker's lateness"))
        if "14" in items:
            n, interval, warmup, seconds = s["pg"]["regions"]
            r = pg.three_regions(server, {"monitors": n, "interval": interval, "warmup": warmup, "seconds": seconds,
                                          "url": target.close, "calibrate": s["calibrate"]},
                                 timeout=seconds + warmup + 300)
            tag = f"{len(pg.REGIONS)} regions × {n:,} monitors @ {interval:g} s on PostgreSQL"
            others = r["others"]["per_s"]
            written = r["readings_per_s"] + sum(others.values())
            expected = len(pg.REGIONS) * r["expected_per_s"]
            # The reference: how late the writer process's 50 ms ticks woke (p99): the machine's own lag.
            out.append(Figure("14", f"{tag}: leader's scheduling lag p99", r["lag_p99_ms"], "ms", "≤10",
                              r["lag_p99_ms"] <= 10 and r["leader"], r["others"]["tick_late_p99_ms"], "writer's ticks",
                              note=f"p50 {r['lag_p50_ms']:.1f}, max {r['lag_max_ms']:.0f}; loop lag p99 "
                                   f"{r['loop_lag_p99_ms']:.1f}; {'leading' if r['leader'] else 'NOT leading'}, "
                                   f"{r['per_s']:.0f} monitors/s decided and committed (expected "
                                   f"{r['expected_per_s']:.0f}); CPU {100 * r['cpu_share']:.0f} %, PostgreSQL's "
                                   f"{100 * r['server_cpu_share']:.0f} %; {machine_note(r)}"))
            out.append(Figure("14", f"{tag}: readings written", written, "/s", "≥97 % of expected",
                              written >= 0.97 * expected, expected, "expected",
                              f"{pg.REGIONS[0]} (the leader's own probes) {r['readings_per_s']:.0f}/s, "
                              + ", ".join(f"{k} {v:.0f}/s" for k, v in others.items())
                              + f"; {r['timeouts'] + r['failed']} probes failed"))


def delivery(target: Any, s: dict[str, Any], out: list[Figure]) -> None:
    for others in (0, s["others"]):
        r = run_worker("bench.delivery", {"flips": s["flips"], "interval": 2.0, "others": others, "url": target.close,
                                          "warmup": 3 if not others else 8, "spacing": 0.7}, timeout=400)
        bound = r["minimum_s"] + 2
        out.append(Figure("7", f"flip → Slack accepted, {others:,} others", r["p99_s"], "s p99", f"≤{bound:g}",
                          r["p99_s"] <= bound and r["delivered"] == r["flips"], r["minimum_s"], "interval×threshold",
                          f"{r['delivered']}/{r['flips']} delivered, p50 {r['p50_s']:.2f}"))


def startup(target: Any, s: dict[str, Any], out: list[Figure]) -> None:
    r = run_worker("bench.startup", {"runs": s["startup_runs"], "url": target.close})
    out.append(Figure("8", "downwatch --help (median)", r["help_s"], "s", "<0.5", r["help_s"] < 0.5))
    out.append(Figure("8", "downwatch check, 1 monitor (median)", r["check_s"], "s", "<1.5",
                      r["check_s"] < 1.5 and r["check_code"] == 0, note=f"exit {r['check_code']}"))


def fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def table(figures: list[Figure]) -> str:
    rows = [("#", "figure", "value", "unit", "reference", "ratio", "target", "result", "note")]
    for f in figures:
        ref = f"{fmt(f.reference)} ({f.reference_name})" if f.reference is not None else "—"
        result = {True: "pass", False: "MISS", None: "info"}[f.passed]
        rows.append((f.item, f.name, fmt(f.value), f.unit, ref, fmt(f.ratio), f.target or "—", result, f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for k, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + f" | {r[-1]} |")
        if k == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|---|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--quick", action="store_true", help="tiny sizes (about a minute); figures are not comparable")
    p.add_argument("--json", help="also write the figures and the machine here")
    p.add_argument("--no-install", action="store_true", help="do not apt-get install nginx/wrk when missing")
    p.add_argument("--only", default="", help="comma-separated items to run, e.g. 5,6,8")
    a = p.parse_args(argv)
    s = sizes(a.quick)
    only = set(filter(None, a.only.split(",")))
    want = lambda item: not only or item in only  # noqa: E731
    tools = ensure_tools(install=not a.no_install)
    started = time.monotonic()
    figures: list[Figure] = []
    with local_target() as target:
        print(f"local target: {target.kind}; load tool: {'wrk' if tools['wrk'] else 'absent'}", file=sys.stderr)
        saturation = 2000.0
        if want("2") or want("3") or want("4"):
            saturation = probes(target, s, figures) if (want("2") or want("3")) else saturation
        if want("1") or want("4"):
            capacity(target, s, figures, saturation)
        if want("5"):
            statuspage(s, figures)
        if want("6"):
            history(s, figures)
        if want("7"):
            delivery(target, s, figures)
        if want("8"):
            startup(target, s, figures)
        if want("9"):
            sources(s, figures)
        if want("10"):
            mixed(s, figures)
        if want("11"):
            web(target, a.quick, figures)
        if pg_items := {item for item in ("12", "13", "14") if want(item)}:
            postgres(target, s, figures, pg_items)
        kind = target.kind
    m = machine()
    print(f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}; httpx {m['httpx']}, httpcore "
          f"{m['httpcore']}, aiohttp {m['aiohttp']}, httpx-aiohttp {m['httpx-aiohttp']}, uvloop {m['uvloop']} "
          f"(event loop: {m['loop']}), APScheduler "
          f"{m['apscheduler']}, sqlite-utils {m['sqlite-utils']}, SQLite {m['sqlite']}; target {kind}, "
          f"wrk {m['wrk']}; {'quick' if a.quick else 'full'} run in {time.monotonic() - started:.0f} s")
    print(table(figures))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"machine": m, "target": kind, "quick": a.quick,
                       "figures": [f.to_json() | {"ratio": f.ratio} for f in figures]}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
