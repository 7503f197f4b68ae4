"""The `downwatch` command. Most tests call `bot.cli.main(argv)` in-process (the `downwatch` fixture); a few run
the real entry point as a subprocess, to prove it, its exit codes and signal handling."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.model import CheckResult, ComponentReading, Status
from bot.store import Store
from tests.conftest import Ran
from tests.loopback import LoopbackServer
from tests.wiring import wire

DATA = Path(__file__).parent / "data"
OUTAGE = json.loads((DATA / "openai_incidentio_compat_summary_2026-09-29_during_outage_sorted_keys.json").read_text())
CLEAR = json.loads((DATA / "openai_incidentio_compat_summary_2026-07-09_all_operational_sorted_keys.json").read_text())
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DOWNWATCH_"))}
Downwatch = Callable[..., Ran]


@pytest.fixture
async def page(anyio_backend: str) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer() as server:
        yield server




async def subprocess_downwatch(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=cwd, env=CLEAN_ENV,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


def config(tmp_path: Path, page: LoopbackServer, extra: str = "", *, database: str | None = None) -> Path:
    path = tmp_path / "downwatch.toml"
    path.write_text(f"""
database = "{database or tmp_path / 'dw.db'}"
[[monitors]]
name = "OpenAI"
type = "statuspage"
url = "{page.url}"
timeout = 5
{extra}
""")
    return path


def test_check_json_lists_components_and_incidents_exit_1_on_outage(tmp_path: Path, page_thread: LoopbackServer,
                                                                     downwatch: Downwatch) -> None:
    page_thread.json("/api/v2/summary.json", OUTAGE)
    page_thread.json("/api/v2/incidents/unresolved.json", {"incidents": OUTAGE["incidents"]})
    ran = downwatch("check", "--config", str(config(tmp_path, page_thread)), "--json")
    assert ran.code == 1, ran.err
    rows = json.loads(ran.out)
    assert all(set(r) >= {"monitor", "component", "status", "detail"} for r in rows)
    components = [r for r in rows if not r["component"].startswith("incident: ")]
    assert len(components) == 25
    assert sum(r["status"] == "degraded_performance" for r in components) == 22
    incidents = [r for r in rows if r["component"].startswith("incident: ")]
    assert "incident: Elevated errors across ChatGPT, Codex, and the API including the Agents API" in [
        r["component"] for r in incidents]


def test_check_exit_0_when_all_operational_and_table_output(tmp_path: Path, page_thread: LoopbackServer,
                                                            downwatch: Downwatch) -> None:
    page_thread.json("/api/v2/summary.json", CLEAR)
    page_thread.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    ran = downwatch("check", "--config", str(config(tmp_path, page_thread)))
    assert ran.code == 0, ran.err
    assert ran.out.splitlines()[0].split() == ["MONITOR", "COMPONENT", "STATUS", "DETAIL"]
    assert len(ran.out.splitlines()) == 26


def test_check_unreadable_source_is_unknown_not_an_outage(tmp_path: Path, page_thread: LoopbackServer,
                                                          downwatch: Downwatch) -> None:
    page_thread.html("/api/v2/summary.json")
    page_thread.html("/api/v2/incidents/unresolved.json")
    ran = downwatch("check", "--config", str(config(tmp_path, page_thread)), "--json")
    rows = json.loads(ran.out)
    assert ran.code == 1 and rows == [{"monitor": "OpenAI", "component": "*", "status": "unknown",
                                       "detail": rows[0]["detail"]}]
    assert "unreadable" in rows[0]["detail"]


def test_validate_lists_errors_exit_2_and_touches_nothing(tmp_path: Path, page_thread: LoopbackServer,
                                                         downwatch: Downwatch) -> None:
    bad = config(tmp_path, page_thread, extra='interval = "x"\nbogus = 1')
    for command in ("validate", "check"):
        ran = downwatch(command, "--config", str(bad))
        assert ran.code == 2 and ran.out == ""
        assert f"{bad}: monitors[0] (OpenAI).interval: must be a number" in ran.err
        assert f"{bad}: monitors[0] (OpenAI).bogus: unknown key" in ran.err
    assert not (tmp_path / "dw.db").exists()  # nothing touched before the config is valid
    assert downwatch("frobnicate").code == 2


def test_validate_counts_monitors_in_words(tmp_path: Path, page_thread: LoopbackServer,
                                           downwatch: Downwatch) -> None:
    one = downwatch("validate", "--config", str(config(tmp_path, page_thread)))
    assert one.code == 0 and "OK — 1 monitor;" in one.out, one.out
    second = '[[monitors]]\nname = "GitHub"\ntype = "statuspage"\nurl = "https://www.githubstatus.com"'
    two = downwatch("validate", "--config", str(config(tmp_path, page_thread, extra=second)))
    assert two.code == 0 and "OK — 2 monitors;" in two.out, two.out
    assert not (tmp_path / "dw.db").exists()  # validate creates no database


@pytest.mark.parametrize(("where", "reason"), [
    ("missing/dw.db", "its folder '{tmp}/missing' does not exist"),
    ("folder", "it is a directory, not a file"),
    ("notes.txt", "it is not an SQLite database"),
    ("notes.txt/dw.db", "'{tmp}/notes.txt' is not a folder"),
    ("/sys/downwatch-test.db", "no file can be created in its folder '/sys': Permission denied"),
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_database_sqlite_cannot_open_is_a_config_error(tmp_path: Path, page_thread: LoopbackServer,
                                                         downwatch: Downwatch, where: str, reason: str,
                                                         command: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a database\n")
    database = str(tmp_path / where)
    path = config(tmp_path, page_thread, database=database)
    before = sorted(tmp_path.rglob("*"))
    ran = downwatch(command, "--config", str(path))
    assert ran.code == 2 and ran.out == "" and "Traceback" not in ran.err
    wanted = f"  {path}: database: cannot use {database!r}: {reason.format(tmp=tmp_path)}"
    assert ran.err.splitlines()[:2] == ["downwatch: 1 error in the configuration:", wanted], ran.err
    assert sorted(tmp_path.rglob("*")) == before  # nothing created
    assert page_thread.hits("/api/v2/summary.json") == 0  # and nothing polled


def test_an_empty_file_or_an_existing_database_is_fine(tmp_path: Path, page_thread: LoopbackServer,
                                                       downwatch: Downwatch) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    assert downwatch("validate", "--config", str(config(tmp_path, page_thread, database=str(tmp_path / "empty.db")))
                     ).code == 0
    Store.open(str(tmp_path / "dw.db")).close()
    assert downwatch("validate", "--config", str(config(tmp_path, page_thread))).code == 0


def test_status_and_incidents_answer_from_history(tmp_path: Path, downwatch: Downwatch) -> None:
    db = tmp_path / "dw.db"
    clock = FakeClock()
    monitor = StatuspageMonitor(name="OpenAI", url="http://127.0.0.1:9/", routes=())
    wired = wire(db, [monitor], clock=clock)
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR, Status.OPERATIONAL, Status.OPERATIONAL,
                   Status.MAJOR, Status.MAJOR):
        wired.watcher.apply(monitor, CheckResult(monitor="OpenAI", at=clock.now(), readable=True,
                                                 components=(ComponentReading("Fine-tuning", status),)))
        clock.advance(60)
    wired.store.close()
    ran = downwatch("status", "--db", str(db))
    assert ran.code == 0, ran.err
    assert "Fine-tuning — major outage" in ran.out and "1 open incident" in ran.out
    ran = downwatch("incidents", "--db", str(db), "--limit", "1")
    assert ran.code == 0 and ran.out.startswith("Last 1 incident:") and "ongoing" in ran.out
    ran = downwatch("status", "fine-tuning", "--db", str(db))
    assert ran.code == 0 and "Fine-tuning — major outage" in ran.out and "(component of OpenAI)" in ran.out
    assert "Uptime" in ran.out
    ran = downwatch("status", "Fine-tunin", "--db", str(db))
    assert ran.code == 2 and "Did you mean: Fine-tuning" in ran.out
    ran = downwatch("incidents", "--db", str(db), "--limit", "0")
    assert ran.code == 2 and "--limit" in ran.err
    ran = downwatch("status", "--db", str(tmp_path / "none.db"))
    assert ran.code == 2 and "no history yet" in ran.err
    ran = downwatch("status", "--db", str(tmp_path))
    assert ran.code == 2 and f"cannot use the database {str(tmp_path)!r}: it is a directory" in ran.err


@pytest.mark.anyio
async def test_the_real_entry_point_exits_2_on_errors_and_0_when_valid(tmp_path: Path, page: LoopbackServer) -> None:
    bad = config(tmp_path, page, extra='interval = "x"')
    code, out, err = await subprocess_downwatch("validate", "--config", str(bad), cwd=tmp_path)
    assert code == 2 and f"{bad}: monitors[0] (OpenAI).interval: must be a number" in err
    code, _, err = await subprocess_downwatch("run", "--config", str(config(tmp_path, page, database="/nope/dw.db")),
                                              cwd=tmp_path)
    assert code == 2 and "database: cannot use '/nope/dw.db'" in err and "Traceback" not in err
    code, _, _ = await subprocess_downwatch("frobnicate", cwd=tmp_path)
    assert code == 2
    code, out, _ = await subprocess_downwatch("validate", "--config", str(config(tmp_path, page)), cwd=tmp_path)
    assert code == 0 and "OK — 1 monitor;" in out


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
    while "watching 1 monitor;" not in seen:
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
    code, out, err = await subprocess_downwatch("demo", cwd=tmp_path)
    assert code == 0, err
    # the provider's API fails first, while its page is green: the probe that watches the page says so ...
    early = out.index("[#1] 🔴 OpenAI API (simulated, from here) — major outage")
    assert out.index("127.0.0.1 still says all systems operational", early)
    opened = out.index("[#2] 🟡 OpenAI (simulated) — degraded performance", early)
    # ... and, once the page admits it, how much earlier it knew
    assert re.search(r"\[#1 thread\] 🔴 OpenAI \(simulated\) acknowledged 'Elevated errors across ChatGPT and the "
                     r"API' \d+s after downwatch saw the failures", out[opened:])
    update = out.index("joined", opened)
    worse = out.index("major outage", update)
    resolved = out.index("✅ OpenAI (simulated) — resolved after", worse)
    status = out.index("--- /status ---", resolved)
    assert "Chat Completions" in out[opened:resolved] and "Fine-tuning" in out[opened:resolved]
    assert "All 2 monitors operational" in out[status:]
    assert "Last 2 incidents:" in out[status:]
    assert re.search(r"downwatch saw OpenAI \(simulated\)'s last outage \d+s before its status page", out[status:])
    assert out.count("[#1]") == 1 and out.count("[#2]") == 1  # one message per incident; then edits, thread lines
    assert "Traceback" not in err
