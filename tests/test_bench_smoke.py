"""A quick smoke run of the bench code paths with tiny sizes: figures are produced and sane (never timed)."""

from __future__ import annotations

import asyncio
import re

import pytest

from bench import history, mixed, soak, sources, statuspage, web
from bench.__main__ import table
from bench.common import Figure, percentile
from bench.probes import drive


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


def test_table_and_percentile() -> None:
    assert percentile([1, 2, 3, 4, 100], 50) == 3 and percentile([], 99) == 0.0
    text = table([Figure("1", "x", 2.0, "ms", "≤10", True, 4.0, "ref")])
    assert "pass" in text and "0.5" in text


def test_soak_runs_the_real_process_and_reads_its_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert soak.main(["--monitors", "20", "--interval", "1", "--seconds", "3", "--every", "1"]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    found = re.search(r"20 monitors @ 1 s for \d+ s: ([\d,]+) probes/s written \(expected 20\).*exit 0", summary)
    assert found and int(found.group(1).replace(",", "")) > 0, summary
