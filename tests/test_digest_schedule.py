"""When the weekly digest is posted: at each cron time of `[digest]` in its time zone, judged on an injected
clock (across both daylight-saving changes of Europe/Berlin), once per week even when a cron time repeats or
the process restarts, and a digest missed while the process was down is caught up once, if less than a day
late. The composition root runs the job; `build_scheduler` gives it its tick."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import app, digest
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Config, DigestConfig, Route
from bot.model import AlertKind, Status
from bot.schedule import DIGEST_TICK, build_scheduler
from bot.store import Store
from tests.fakes.recording import RecordingAdapter
from tests.loopback import LoopbackServer

BERLIN = "Europe/Berlin"
ROUTES = (Route("chat", "#weekly"), Route("console", "console"))


def job(store: Store, clock: FakeClock, cron: str = "0 9 * * MON", timezone: str = BERLIN) -> digest.DigestJob:
    return digest.DigestJob(config=DigestConfig(cron=cron, timezone=timezone, routes=ROUTES), store=store,
                            clock=clock)


def opened(tmp_path: Path, clock: FakeClock) -> Store:
    store = Store.open(str(tmp_path / "dw.db"))
    store.sync_monitors([("OpenAI", "statuspage")], clock.now() - timedelta(days=30))
    return store


def keys(store: Store) -> list[str]:
    """The digests queued, one per week (each has a row per route)."""
    rows = store.outbox_rows()
    assert all(json.loads(str(r["alert"]))["kind"] == AlertKind.DIGEST.value for r in rows)
    found = [str(r["incident_id"]) for r in rows]
    assert all(found.count(k) == len(ROUTES) for k in found)
    return list(dict.fromkeys(found))


async def run_clock(clock: FakeClock, the_job: digest.DigestJob, until: datetime) -> list[datetime]:
    """Tick every DIGEST_TICK seconds of the fake clock, as the scheduler does; the times a digest was queued."""
    fired: list[datetime] = []
    while clock.now() < until:
        clock.advance(DIGEST_TICK)
        if await the_job.tick():
            fired.append(clock.now())
    return fired


@pytest.mark.anyio
async def test_monday_9_in_berlin_is_07_utc_before_the_clocks_go_back_and_08_after(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    store = opened(tmp_path, clock)
    the_job = job(store, clock)
    assert not the_job.start()  # the last Monday 09:00 was a week ago: long missed, not posted now
    assert the_job.next_at == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)
    fired = await run_clock(clock, the_job, datetime(2026, 11, 3, tzinfo=UTC))
    assert fired == [datetime(2026, 10, 19, 7, 0, tzinfo=UTC),   # CEST, UTC+2
                     datetime(2026, 10, 26, 8, 0, tzinfo=UTC),   # CET, UTC+1: clocks went back on the 25th
                     datetime(2026, 11, 2, 8, 0, tzinfo=UTC)]
    assert keys(store) == ["digest#2026-10-18", "digest#2026-10-25", "digest#2026-11-01"]
    store.close()


@pytest.mark.anyio
async def test_the_week_with_the_change_has_169_hours_and_its_days_are_berlin_days(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 10, 26, 8, 0, tzinfo=UTC))
    store = opened(tmp_path, clock)
    # one hour down, on Sunday the 25th from 02:30 CET (the second 02:30 of that night) to 03:30 CET
    store.sql.execute("INSERT INTO incidents (id, monitor, started_at, resolved_at, severity, announced) "
                     "VALUES ('i', 'OpenAI', ?, ?, 'major_outage', 1)",
                     [datetime(2026, 10, 25, 1, 30, tzinfo=UTC).timestamp(),
                      datetime(2026, 10, 25, 2, 30, tzinfo=UTC).timestamp()])
    week = digest.read(store, now=clock.now(), timezone=BERLIN)
    assert week.start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)  # Monday 19th 00:00 CEST
    assert week.end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # Monday 26th 00:00 CET
    row = week.rows[0]
    assert row.uptime == pytest.approx(100.0 * (1 - 1 / 169))
    assert [d.status for d in row.days] == [Status.OPERATIONAL] * 6 + [Status.MAJOR]
    assert [d.day.utcoffset() for d in row.days] == [timedelta(hours=2)] * 6 + [timedelta(hours=2)]
    assert digest.key(week) == "digest#2026-10-25"
    store.close()


@pytest.mark.anyio
async def test_a_cron_time_in_the_hour_that_happens_twice_posts_once(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    store = opened(tmp_path, clock)
    the_job = job(store, clock, cron="30 2 * * SUN")  # 02:30 on Sunday the 25th comes twice in Berlin
    the_job.start()
    queued: list[datetime] = []
    while clock.now() < datetime(2026, 10, 25, 3, 0, tzinfo=UTC):
        clock.advance(DIGEST_TICK)
        due = the_job.next_at
        if await the_job.tick():
            queued.append(clock.now())
        elif due is not None and clock.now() >= due:  # a cron time came and went without a second digest
            queued.append(datetime.min.replace(tzinfo=UTC))
    assert queued == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime.min.replace(tzinfo=UTC)]
    assert keys(store) == ["digest#2026-10-24"]
    store.close()


@pytest.mark.anyio
async def test_a_cron_time_in_the_hour_that_does_not_exist_posts_once_when_the_clocks_have_moved(
        tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    store = opened(tmp_path, clock)
    the_job = job(store, clock, cron="30 2 * * SUN")  # no 02:30 on Sunday 29 March in Berlin
    the_job.start()
    fired = await run_clock(clock, the_job, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert fired == [datetime(2026, 3, 29, 1, 0, tzinfo=UTC)]  # 03:00 CEST, as soon as the day has it
    store.close()


@pytest.mark.anyio
async def test_a_digest_missed_while_down_is_posted_once_at_start_up_if_less_than_a_day_late(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 11, 0, tzinfo=UTC))  # started at 11:00; 09:00 was missed
    store = opened(tmp_path, clock)
    assert job(store, clock, timezone="UTC").start()
    assert keys(store) == ["digest#2026-11-29"]
    clock.advance(600)
    assert not job(store, clock, timezone="UTC").start()  # a restart: that week's digest is queued already
    assert keys(store) == ["digest#2026-11-29"]
    store.close()

    clock = FakeClock(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))  # 24 h 30 min late: skipped, and said so
    store = Store.open(str(tmp_path / "late.db"))
    with caplog.at_level(logging.INFO, logger="downwatch.digest"):
        the_job = job(store, clock, timezone="UTC")
        assert not the_job.start()
    assert store.outbox_rows() == []
    assert ("digest: the last one was due 2026-11-30T09:00:00+00:00, more than a day ago: not posted late; "
            "the next is due 2026-12-07T09:00:00+00:00") in caplog.text
    assert the_job.next_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    store.close()


@pytest.mark.anyio
async def test_a_restart_just_after_the_cron_time_does_not_post_it_twice(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 8, 59, tzinfo=UTC))
    store = opened(tmp_path, clock)
    first = job(store, clock, timezone="UTC")
    assert not first.start()
    assert await run_clock(clock, first, datetime(2026, 11, 30, 9, 1, tzinfo=UTC)) == [
        datetime(2026, 11, 30, 9, 0, tzinfo=UTC)]
    assert not job(store, clock, timezone="UTC").start()  # restarted at 09:01
    assert keys(store) == ["digest#2026-11-29"]
    store.close()


@pytest.mark.anyio
async def test_a_clock_that_jumps_days_ahead_skips_the_stale_digest(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    store = opened(tmp_path, clock)
    the_job = job(store, clock, timezone="UTC")
    the_job.start()
    clock.advance(3 * 86400)  # a suspended machine wakes up on Wednesday
    with caplog.at_level(logging.WARNING, logger="downwatch.digest"):
        assert not await the_job.tick()
    assert "was missed by more than a day (the clock jumped); skipped" in caplog.text
    assert store.outbox_rows() == []
    assert the_job.next_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    store.close()


def test_the_last_and_next_cron_times_around_an_instant() -> None:
    utc_zone = ZoneInfo("UTC")
    nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert digest.last_time("0 9 * * MON", utc_zone, nine) == nine  # at or before
    assert digest.last_time("0 9 * * MON", utc_zone, nine - timedelta(microseconds=1)) == nine - timedelta(days=7)
    assert digest.next_time("0 9 * * MON", utc_zone, nine) == nine + timedelta(days=7)  # strictly after
    assert digest.next_time("0 9 * * MON", utc_zone, nine - timedelta(seconds=1)) == nine


def test_build_scheduler_gives_the_digest_its_tick() -> None:
    async def tick() -> None:
        return None

    start = datetime(2026, 11, 30, tzinfo=UTC)
    scheduler = build_scheduler(monitors=[], poll=tick, start=start, digest=tick)
    found = scheduler.get_job("digest")
    assert found is not None and found.trigger.interval == timedelta(seconds=DIGEST_TICK)
    assert build_scheduler(monitors=[], poll=tick, start=start).get_job("digest") is None


@pytest.mark.anyio
async def test_the_bot_catches_up_a_missed_digest_when_it_starts(tmp_path: Path, server: LoopbackServer) -> None:
    server.json("/api/v2/summary.json", {"page": {}, "components": [
        {"id": "c1", "name": "API", "status": "operational"}], "incidents": []})
    server.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    server.json("/api/v2/components.json", {"components": []})
    monitor = StatuspageMonitor(name="Provider", url=server.url_for(""), interval=60.0, timeout=5.0,
                                routes=(Route("chat", "#ops"),))
    config = Config(path="(test)", database=str(tmp_path / "run.db"), monitors=(monitor,),
                    digest=DigestConfig(routes=(Route("chat", "#weekly"),)))
    chat = RecordingAdapter()
    stop = asyncio.Event()
    clock = FakeClock(datetime(2026, 11, 30, 9, 20, tzinfo=UTC))  # Monday, 20 minutes after 09:00 UTC
    runner = asyncio.create_task(app.run(config, stop=stop, clock=clock, adapters={"chat": chat}))
    try:
        for _ in range(500):
            if any(c.kind is AlertKind.DIGEST for c in chat.calls):
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
    posted = [c for c in chat.calls if c.kind is AlertKind.DIGEST]
    assert [(c.op, c.channel, c.mention) for c in posted] == [("post", "#weekly", None)]
    assert posted[0].alert.digest is not None and posted[0].alert.digest.rows[0].monitor == "Provider"
