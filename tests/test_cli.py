"""The `downwatch` command as a user runs it: a real subprocess against loopback servers and real files."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.checks.client import make_client
from bot.clock import FakeClock
from bot.config import StatuspageMonitor
from bot.model import CheckResult, ComponentReading, Status
from bot.store import Store
from bot.watch import Watcher
from tests.loopback import LoopbackServer

DATA = Path(__file__).parent / "data"
OUTAGE = json.loads((DATA / "openai_incidentio_compat_summary_2026-09-29_during_outage_sorted_keys.json").read_text())
CLEAR = json.loads((DATA / "openai_incidentio_compat_summary_2026-07-09_all_operational_sorted_keys.json").read_text())
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}


@pytest.fixture
async def page(anyio_backend: str) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer() as server:
        yield server


async def downwatch(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=cwd, env=CLEAN_ENV,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


def config(tmp_path: Path, page: LoopbackServer, extra: str = "") -> Path:
    path = tmp_path / "downwatch.toml"
    path.write_text(f"""
database = "{tmp_path / 'dw.db'}"
[[monitors]]
name = "OpenAI"
type = "statuspage"
url = "{page.url}"
timeout = 5
{extra}
""")
    return path


@pytest.mark.anyio
async def test_check_json_lists_components_and_incidents_exit_1_on_outage(tmp_path: Path,
                                                                           page: LoopbackServer) -> None:
    page.json("/api/v2/summary.json", OUTAGE)
    page.json("/api/v2/incidents/unresolved.json", {"incidents": OUTAGE["incidents"]})
    code, out, err = await downwatch("check", "--config", str(config(tmp_path, page)), "--json", cwd=tmp_path)
    assert code == 1, err
    rows = json.loads(out)
    assert all(set(r) >= {"monitor", "component", "status", "detail"} for r in rows)
    components = [r for r in rows if not r["component"].startswith("incident: ")]
    assert len(components) == 25
    assert sum(r["status"] == "degraded_performance" for r in components) == 22
    incidents = [r for r in rows if r["component"].startswith("incident: ")]
    assert "incident: Elevated errors across ChatGPT, Codex, and the API including the Agents API" in [
        r["component"] for r in incidents]


@pytest.mark.anyio
async def test_check_exit_0_when_all_operational_and_table_output(tmp_path: Path, page: LoopbackServer) -> None:
    page.json("/api/v2/summary.json", CLEAR)
    page.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    code, out, err = await downwatch("check", "--config", str(config(tmp_path, page)), cwd=tmp_path)
    assert code == 0, err
    assert out.splitlines()[0].split() == ["MONITOR", "COMPONENT", "STATUS", "DETAIL"]
    assert len(out.splitlines()) == 26


@pytest.mark.anyio
async def test_check_unreadable_source_is_unknown_not_an_outage(tmp_path: Path, page: LoopbackServer) -> None:
    page.html("/api/v2/summary.json")
    page.html("/api/v2/incidents/unresolved.json")
    code, out, _ = await downwatch("check", "--config", str(config(tmp_path, page)), "--json", cwd=tmp_path)
    rows = json.loads(out)
    assert code == 1 and rows == [{"monitor": "OpenAI", "component": "*", "status": "unknown",
                                   "detail": rows[0]["detail"]}]
    assert "unreadable" in rows[0]["detail"]


@pytest.mark.anyio
async def test_validate_and_usage_errors_exit_2(tmp_path: Path, page: LoopbackServer) -> None:
    bad = config(tmp_path, page, extra='interval = "x"\nbogus = 1')
    code, out, err = await downwatch("validate", "--config", str(bad), cwd=tmp_path)
    assert code == 2
    assert f"{bad}: monitors[0] (OpenAI).interval: must be a number" in err
    assert f"{bad}: monitors[0] (OpenAI).bogus: unknown key" in err
    assert not (tmp_path / "dw.db").exists()  # nothing touched before the config is valid
    code, out, err = await downwatch("check", "--config", str(bad), cwd=tmp_path)
    assert code == 2
    code, _, _ = await downwatch("frobnicate", cwd=tmp_path)
    assert code == 2
    code, out, _ = await downwatch("validate", "--config", str(config(tmp_path, page)), cwd=tmp_path)
    assert code == 0 and "OK" in out


@pytest.mark.anyio
async def test_status_and_incidents_answer_from_history(tmp_path: Path, page: LoopbackServer) -> None:
    db = tmp_path / "dw.db"
    clock = FakeClock()
    store = Store.open(str(db))
    store.sync_monitors([("OpenAI", "statuspage")], clock.now())
    monitor = StatuspageMonitor(name="OpenAI", url=page.url, routes=())
    watcher = Watcher(monitors=[monitor], store=store, client=make_client(), clock=clock)
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR, Status.OPERATIONAL, Status.OPERATIONAL,
                   Status.MAJOR, Status.MAJOR):
        watcher.apply(monitor, CheckResult(monitor="OpenAI", at=clock.now(), readable=True,
                                           components=(ComponentReading("Fine-tuning", status),)))
        clock.advance(60)
    store.close()
    code, out, err = await downwatch("status", "--db", str(db), cwd=tmp_path)
    assert code == 0, err
    assert "Fine-tuning: major outage" in out and "1 open incident" in out
    code, out, _ = await downwatch("incidents", "--db", str(db), "--limit", "1", cwd=tmp_path)
    assert code == 0 and out.startswith("Last 1 incident(s):") and "ongoing" in out
    code, out, _ = await downwatch("status", "fine-tuning", "--db", str(db), cwd=tmp_path)
    assert code == 0 and "Fine-tuning (component of OpenAI): major outage" in out and "Uptime" in out
    code, out, _ = await downwatch("status", "Fine-tunin", "--db", str(db), cwd=tmp_path)
    assert code == 2 and "Did you mean: Fine-tuning" in out
    code, _, err = await downwatch("incidents", "--db", str(db), "--limit", "0", cwd=tmp_path)
    assert code == 2 and "--limit" in err
    code, _, err = await downwatch("status", "--db", str(tmp_path / "none.db"), cwd=tmp_path)
    assert code == 2 and "no history yet" in err


@pytest.mark.anyio
async def test_run_polls_then_stops_cleanly_on_sigterm(tmp_path: Path, page: LoopbackServer) -> None:
    import signal

    page.json("/api/v2/summary.json", CLEAR)
    page.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--config", str(config(tmp_path, page)), cwd=tmp_path,
        env=CLEAN_ENV, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = ""
    while "watching 1 monitors" not in seen:
        line = await asyncio.wait_for(proc.stderr.readline(), timeout=30)
        assert line, seen
        seen += line.decode()

    async def first_poll() -> None:  # waits for a condition (the subprocess's first poll), not for time
        while page.hits("/api/v2/summary.json") == 0:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(first_poll(), timeout=30)
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    assert "stopped cleanly" in err.decode()
    store = Store.open(str(tmp_path / "dw.db"))
    assert store.monitor_names() == ["OpenAI"] and store.integrity() == "ok"
    assert len(store.component_views("OpenAI")) == 25


@pytest.mark.anyio
async def test_demo_shows_outage_update_recovery_and_status(tmp_path: Path) -> None:
    """`make demo`'s main job, as a user sees it (it runs on real time by design: ~25 s)."""
    code, out, err = await downwatch("demo", cwd=tmp_path)
    assert code == 0, err
    opened = out.index("OUTAGE OpenAI (simulated)")
    update = out.index("joined", opened)
    worse = out.index("major outage", update)
    resolved = out.index("RESOLVED OpenAI (simulated) — recovered after", worse)
    status = out.index("--- /status ---", resolved)
    assert "Chat Completions" in out[opened:resolved] and "Fine-tuning" in out[opened:resolved]
    assert "The monitor is operational" in out[status:]
    assert "Last 1 incident(s):" in out[status:]
    assert out.count("[#1]") == 1  # one message for the whole incident; the rest are edits and thread lines
    assert "Traceback" not in err
