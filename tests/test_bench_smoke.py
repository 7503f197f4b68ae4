"""A quick smoke run of the bench code paths with tiny sizes: figures are produced and sane (never timed)."""

from __future__ import annotations

import asyncio
import queue
import re
import threading

import pytest

from bench import capacity, history, mixed, postgres, soak, sources, statuspage, web
from bench.__main__ import table
from bench.common import Figure, local_target, machine_bursts, percentile
from bench.probes import drive
from tests.pg import PgServer


def test_statuspage_figures_for_both_captures() -> None:
    out = statuspage.run({"polls": 15})
    assert set(out) == {"openai", "twilio"}
    for v in out.values():
        assert v["components"] > 10 and v["mean_ms"] > 0 and v["p99_ms"] >= 0
        assert v["rows_per_unchanged_poll"] == 0  # nothing changed: no per-component row


def test_every_source_parser_on_its_capture_and_no_rows_when_unchanged() -> None:
    out = sources.run({"polls": 3, "store_polls": 12})
    assert set(out) == set(sources.CAPTURES)
    for name, v in out.items():
        assert v["readable"], name
        assert v["unchanged_ms"] > 0 and v["changed_ms"] > 0 and v["floor_ms"] > 0, name
        assert v["rows_per_unchanged_poll"] == 0, name  # nothing changed: no row beyond the monitor's checked_at


def test_mixed_source_monitors_through_the_real_path() -> None:
    # One monitor of each type against the capture server, bodies alternating every other request.
    out = asyncio.run(mixed.run({"monitors": len(mixed.KINDS), "interval": 1.0, "warmup": 1.2, "seconds": 2.0,
                                 "every": 2}))
    assert out["polls"] >= len(mixed.KINDS) and out["unreadable"] == 0, out["unreadable_by"]
    assert out["requests"] >= out["polls"] and out["changed"] > 0 and out["cpu_s"] > 0
    assert out["missing"] > 0  # Instatus components.json: there is no capture of one, so the page answers 404


def test_history_tiny_build_and_queries() -> None:
    out = history.run({"components": 20, "days": 3, "raw_days": 1, "incidents": 100, "repeat": 3})
    assert out["build"]["incidents"] >= 100
    for key in ("target", "component", "overview", "incidents"):
        assert 0 < out[key]["p50_ms"] <= out[key]["p99_ms"]
    assert out["deleted"] >= 20 * 1440  # the extra raw day went
    assert out["size_mb"] > 0 and out["writer"]["commits"] > 0


def test_status_on_postgres_tiny_build_and_queries(pg_url: str) -> None:
    out = postgres.run({"components": 20, "days": 3, "raw_days": 1, "incidents": 100, "repeat": 3, "database": pg_url})
    assert out["build"]["incidents"] >= 100 and out["build"]["size_mb"] > 0
    for key in ("target", "component", "overview", "incidents"):
        assert 0 < out[key]["p50_ms"] <= out[key]["p99_ms"]
    assert out["writer"]["commits"] > 0
    stall = out["stall"]  # the loop's ticker ran both ways
    assert 0 <= stall["inline_p99_ms"] <= stall["inline_max_ms"] and 0 <= stall["thread_p99_ms"] <= stall["thread_max_ms"]


def test_leader_in_a_region_on_postgres(pg_server: PgServer, pg_url: str) -> None:
    # Items 12 and 14's path: the leader's lease and fenced commits, its region's probes, two other regions'
    # readings written beside it, and PostgreSQL's CPU read from /proc.
    stop, out = threading.Event(), queue.Queue[dict[str, object]]()
    others = threading.Thread(target=postgres.region_writer, args=(pg_url, postgres.REGIONS[1:], 20, 1.0, stop, out))
    others.start()
    pid = int((pg_server.data / "postmaster.pid").read_text().split()[0])
    try:
        with local_target() as target:
            r = asyncio.run(capacity.run({"monitors": 20, "interval": 1.0, "warmup": 1.5, "seconds": 2.0,
                                          "url": target.close, "database": pg_url, "region": postgres.REGIONS[0],
                                          "regions": list(postgres.REGIONS), "server_pid": pid}))
    finally:
        stop.set()
        others.join()
    assert r["leader"] and r["probes"] > 0 and r["readings_per_s"] > 0 and r["server_cpu_share"] > 0
    assert r["failed"] == 0 and r["timeouts"] == 0
    assert all(n > 0 for n in out.get(timeout=5)["per_s"].values())  # type: ignore[attr-defined]


def test_web_figures_with_tiny_sizes() -> None:
    out = web.run({"pages": [[3, 4], [6, 1]], "days": 3, "repeat": 3, "metrics": 40, "scrapes": 3})
    assert [(p["monitors"], p["components"]) for p in out["pages"]] == [(3, 4), (6, 1)]
    for p in out["pages"]:
        for key in ("index", "index_first", "summary"):
            assert 0 < p[key]["median_ms"] <= p[key]["p99_ms"], key
        assert p["index_http_p99_ms"] > 0 and p["summary_http_p99_ms"] > 0 and p["built_s"] > 0
    assert out["metrics"]["monitors"] == 40 and out["metrics"]["p99_ms"] > 0


def test_drive_counts_probes() -> None:
    calls = 0

    async def probe() -> bool:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return calls % 2 == 0

    r = asyncio.run(drive(probe, concurrency=3, seconds=0.05))
    assert r["probes"] == r["ok"] + r["failed"] > 0 and r["per_s"] > 0


def test_the_machine_reference_times_a_fixed_burst() -> None:
    r = machine_bursts(0.3)  # six bursts of the same pure Python, 50 ms apart
    assert 0 < r["burst_p50_ms"] <= r["burst_p99_ms"] < 1000


def test_table_and_percentile() -> None:
    assert percentile([1, 2, 3, 4, 100], 50) == 3 and percentile([], 99) == 0.0
    text = table([Figure("1", "x", 2.0, "ms", "≤10", True, 4.0, "ref")])
    assert "pass" in text and "0.5" in text


def test_soak_runs_the_real_process_and_reads_its_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert soak.main(["--monitors", "20", "--interval", "1", "--seconds", "3", "--every", "1"]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    found = re.search(r"20 monitors @ 1 s for \d+ s: ([\d,]+) probes/s written \(expected 20\).*exit 0", summary)
    assert found and int(found.group(1).replace(",", "")) > 0, summary
