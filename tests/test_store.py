"""Storage details: migrations recorded in the database, retention in chunks, query plans, WAL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Monitor
from bot.model import CheckResult, ComponentReading, Status
from bot.store import Store, migrations
from bot.watch import Watcher
from tests.wiring import wire

M = TypeVar("M", bound=Monitor)


def watched(tmp_path: Path, clock: FakeClock, monitor: M) -> tuple[Store, M, Watcher]:
    """A store on a real SQLite file with `monitor` registered, and the watcher that applies its results."""
    wired = wire(tmp_path / "dw.db", [monitor], clock=clock)
    return wired.store, monitor, wired.watcher


def probe(at, status: Status, latency: float = 12.0) -> CheckResult:  # type: ignore[no-untyped-def]
    return CheckResult(monitor="API", at=at, readable=True, latency_ms=latency,
                       components=(ComponentReading("API", status, "HTTP 200"),))


def test_migrations_are_recorded_and_reopening_applies_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "dw.db")
    store = Store.open(path)
    assert [m.name for m in migrations.applied(store.db)] == ["m001_initial", "m002_compact_probes",
                                                         "m003_component_names", "m004_timeline_changes",
                                                         "m005_early_warning", "m006_operations",
                                                         "m007_provider_maintenances", "m008_region_readings"]
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    again = Store.open(path)
    assert migrations.pending(again.db) == []


def test_http_probes_write_raw_rows_and_hourly_rollups_and_retention_prunes_in_chunks(tmp_path: Path) -> None:
    clock = FakeClock()
    store, monitor, watcher = watched(tmp_path, clock, HttpMonitor(name="API", url="http://127.0.0.1:9/"))
    for i in range(10 * 24 * 6):  # 10 days, one probe every 10 minutes
        watcher.apply(monitor, probe(clock.now(), Status.OPERATIONAL if i % 50 else Status.MAJOR, 10.0 + i % 7))
        clock.advance(600)
    assert store.db["probes"].count == 1440
    rollups = store.db.execute("SELECT COUNT(*), SUM(probes), SUM(ok) FROM probe_hours").fetchone()
    assert rollups[0] == 240 and rollups[1] == 1440 and rollups[2] == 1440 - 29
    deleted = store.prune(clock.now(), retention_days=7, rollup_days=400, chunk=100)
    assert deleted >= 3 * 24 * 6 - 1
    oldest = store.db.execute("SELECT MIN(ts) FROM probes").fetchone()[0]
    assert oldest >= (clock.now() - timedelta(days=7)).timestamp()
    assert store.db["probe_hours"].count == 240  # rollups outlive raw rows
    failed = store.db.execute("SELECT status, detail FROM probes WHERE status != 0").fetchall()
    assert failed and all(row == (3, "HTTP 200") for row in failed)  # coded status; detail kept for failures
    assert store.db.execute("SELECT COUNT(*) FROM probes WHERE detail IS NOT NULL AND status = 0").fetchone() == (0,)


def test_status_page_polls_write_no_component_rows_when_nothing_changed(tmp_path: Path) -> None:
    clock = FakeClock()
    store, monitor, watcher = watched(tmp_path, clock, StatuspageMonitor(name="API", url="http://127.0.0.1:9/"))
    reading = CheckResult(monitor="API", at=clock.now(), readable=True,
                          components=tuple(ComponentReading(f"c{i}", Status.OPERATIONAL) for i in range(25)))
    watcher.apply(monitor, reading)
    before = store.db.execute("SELECT total_changes()").fetchone()[0]
    for _ in range(10):
        clock.advance(60)
        watcher.apply(monitor, CheckResult(monitor="API", at=clock.now(), readable=True,
                                           components=reading.components))
    changes = store.db.execute("SELECT total_changes()").fetchone()[0] - before
    assert changes == 10  # one monitors row per poll; no component, status_log or probe rows
    assert store.db["status_log"].count == 25


def test_command_queries_use_indexes_not_scans(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "dw.db"))
    plans = {
        "component uptime": ("SELECT ts, status FROM status_log WHERE monitor = ? AND component = ? AND ts >= ? "
                             "AND ts <= ? ORDER BY ts", ["a", "b", 0, 1]),
        "recent incidents": ("SELECT id FROM incidents i WHERE i.started_at >= ? ORDER BY i.started_at DESC "
                             "LIMIT ?", [0, 5]),
        "monitor incidents": ("SELECT id FROM incidents i WHERE i.monitor = ? AND i.started_at >= ? "
                              "ORDER BY i.started_at DESC LIMIT ?", ["a", 0, 5]),
        "component incidents": ("SELECT i.id FROM incident_components ic JOIN incidents i ON i.id = ic.incident_id "
                                "WHERE ic.monitor = ? AND ic.component = ? AND ic.started_at >= ? "
                                "ORDER BY ic.started_at DESC LIMIT ?", ["a", "b", 0, 5]),
        "open incidents": ("SELECT id FROM incidents WHERE resolved_at IS NULL", []),
        "component by name": ("SELECT c.monitor FROM components c WHERE c.name = ? COLLATE NOCASE", ["api"]),
        "incident timeline": ("SELECT ts, kind, text, changes FROM timeline WHERE incident_id = ? "
                              "ORDER BY ts DESC, id DESC LIMIT ?", ["a", 20]),
    }
    for name, (sql, args) in plans.items():
        plan = " | ".join(str(r[3]) for r in store.db.execute("EXPLAIN QUERY PLAN " + sql, args))
        assert "USING" in plan and "SCAN i " not in plan + " " and "SCAN status_log" not in plan, (name, plan)
        assert "SCAN probes" not in plan and "TEMP B-TREE" not in plan, (name, plan)


def test_http_monitor_report_shows_probe_counts_and_latency_from_rollups(tmp_path: Path) -> None:
    from adapters.console import render_reply
    from bot import commands
    from bot.model import Command, CommandKind, TargetReport

    clock = FakeClock()
    store, monitor, watcher = watched(tmp_path, clock, HttpMonitor(name="API", url="http://127.0.0.1:9/"))
    for i in range(48 * 60):  # two days, one probe a minute, 100 ms, one slow 900 ms probe a day
        clock.advance(60)
        slow = i % (24 * 60) == 0
        watcher.apply(monitor, probe(clock.now(), Status.OPERATIONAL, 900.0 if slow else 100.0))
    stats = store.probe_stats(monitor="API", window=timedelta(hours=24), now=clock.now())
    assert stats is not None and 1440 <= stats.probes <= 1500 and stats.ok == stats.probes
    assert stats.max_ms == 900.0 and 100.0 < stats.avg_ms < 101.0
    report = commands.handle(Command(CommandKind.TARGET, target="API"), history=store, now=clock.now())
    assert isinstance(report, TargetReport) and report.probes == stats
    assert "Probes (24h): 1," in render_reply(report) and "max 900 ms" in render_reply(report)


def test_migration_002_carries_probes_of_an_existing_database(tmp_path: Path) -> None:
    from sqlite_utils import Database

    path = str(tmp_path / "old.db")
    db = Database(path)
    migrations.apply(db, stop_before="m002_compact_probes")  # a database as the first release left it
    db.execute("INSERT INTO monitors (name, kind, active, first_seen) VALUES ('API', 'http', 1, 0)")
    db.execute("INSERT INTO checks (monitor, ts, status, latency_ms, detail) VALUES "
               "('API', 3600.5, 'operational', 12.4, 'HTTP 200'), ('API', 3660.0, 'major_outage', NULL, 'HTTP 503')")
    db.execute("INSERT INTO rollups VALUES ('API', 3600.0, 2, 1, 12.4, 12.4)")
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.db.execute("SELECT mid, ts, status, latency_ms, detail FROM probes ORDER BY id").fetchall() == [
        (1, 3600, 0, 12, None), (1, 3660, 3, None, "HTTP 503")]
    assert store.db.execute("SELECT * FROM probe_hours").fetchall() == [(1, 1, 2, 1, 12, 12)]
    assert not store.db["checks"].exists() and not store.db["rollups"].exists()


def test_timeline_reads_back_the_open_incidents_typed_changes(tmp_path: Path) -> None:
    from bot import commands
    from bot.model import AlertKind, Change, ChangeKind, Command, CommandKind, TargetReport

    clock = FakeClock()
    store, monitor, watcher = watched(tmp_path, clock, StatuspageMonitor(name="OpenAI", url="http://127.0.0.1:9/"))

    def poll(api: Status, chat: Status) -> None:
        watcher.apply(monitor, CheckResult(monitor="OpenAI", at=clock.now(), readable=True, components=(
            ComponentReading("API", api), ComponentReading("ChatGPT", chat))))
        clock.advance(60)

    for api, chat in [(Status.OPERATIONAL,) * 2] + [(Status.MAJOR, Status.OPERATIONAL)] * 2 + [(Status.MAJOR,) * 2] * 2:
        poll(api, chat)
    [incident] = store.open_incidents()
    entries = store.timeline(incident.id)
    assert [e.kind for e in entries] == [AlertKind.OPENED, AlertKind.UPDATED]
    assert entries[0].at < entries[1].at and entries[0].changes[0].kind is ChangeKind.OPENED
    assert [c.name for ch in entries[1].changes if ch.kind is ChangeKind.JOINED for c in ch.components] == ["ChatGPT"]

    # a row the previous version wrote (text only) reads back as one free line
    store.db.execute("INSERT INTO timeline (incident_id, ts, kind, text) VALUES (?, ?, 'updated', 'ChatGPT recovered')",
                     [incident.id, clock.now().timestamp()])
    latest = store.timeline(incident.id, limit=2)
    assert latest[0] == entries[1] and latest[1].changes == (Change(ChangeKind.TEXT, detail="ChatGPT recovered"),)

    report = commands.handle(Command(CommandKind.TARGET, target="OpenAI"), history=store, now=clock.now())
    assert isinstance(report, TargetReport) and report.timeline == store.timeline(incident.id)
    component = commands.handle(Command(CommandKind.TARGET, target="ChatGPT"), history=store, now=clock.now())
    assert isinstance(component, TargetReport) and component.timeline == ()
    for _ in range(3):
        poll(Status.OPERATIONAL, Status.OPERATIONAL)
    resolved = commands.handle(Command(CommandKind.TARGET, target="OpenAI"), history=store, now=clock.now())
    assert isinstance(resolved, TargetReport) and resolved.timeline == ()  # only an open incident's


def test_migration_004_keeps_timeline_rows_of_an_existing_database(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from bot.model import AlertKind, Change, ChangeKind

    path = str(tmp_path / "old.db")
    db = Database(path)
    migrations.apply(db, stop_before="m004_timeline_changes")  # a database as the previous release left it
    db.execute("INSERT INTO timeline (incident_id, ts, kind, text) VALUES ('OpenAI@1', 60, 'opened', "
               "'API: major outage'), ('OpenAI@1', 120, 'updated', ''), ('other', 90, 'opened', 'x')")
    db.conn.commit()
    db.close()
    store = Store.open(path)
    entries = store.timeline("OpenAI@1")
    assert [(e.at.timestamp(), e.kind) for e in entries] == [(60, AlertKind.OPENED), (120, AlertKind.UPDATED)]
    assert entries[0].changes == (Change(ChangeKind.TEXT, detail="API: major outage"),) and entries[1].changes == ()


def test_provider_maintenances_are_kept_across_a_restart_and_read_without_the_states(tmp_path: Path) -> None:
    """The announced maintenances of the last readable poll, from the real Cloudflare capture, read back by a
    new Store on the same file; the ones over by then are left out, the ones the provider still calls in
    progress are not; none is an incident."""
    from datetime import UTC, datetime

    from bot.checks.statuspage import parse_statuspage

    captured = datetime(2026, 7, 29, 17, 4, 41, tzinfo=UTC)
    clock = FakeClock(captured)
    store, monitor, watcher = watched(tmp_path, clock, StatuspageMonitor(name="Cloudflare", url="http://127.0.0.1:9/"))
    body = (Path(__file__).parent / "data" / "cloudflare_statuspage_summary_2026-07-29_incident_and_maintenances.json")
    result = parse_statuspage(monitor="Cloudflare", summary=body.read_bytes(), unresolved=None, components_filter=(),
                              at=captured)
    watcher.apply(monitor, result)
    assert len(store.provider_maintenances(captured)) == 16
    store.close()

    again = Store.open(str(tmp_path / "dw.db"))
    found = again.provider_maintenances(captured)
    assert [m for _, m in found] == sorted(result.maintenances, key=lambda m: m.starts_at or captured)
    assert {name for name, _ in found} == {"Cloudflare"}
    assert found[0][1].name == "IAD (Ashburn) on 2026-07-29"  # the earliest start first
    later = datetime(2026, 7, 30, 10, tzinfo=UTC)
    left = [m.name for _, m in again.provider_maintenances(later)]
    assert "CDG (Paris) on 2026-07-29" not in left  # scheduled until 07:00: over
    assert "KHI (Karachi) on 2026-07-29" in left  # still "in progress" on the page as last read
    assert "BCN (Barcelona) on 2026-07-30" in left
    assert again.open_incidents()[0].title.startswith("Cloudflare Workers")  # the one real incident only
    assert again.load_states()["Cloudflare"].maintenances == result.maintenances  # the state holds them too


def test_maintenances_clear_with_the_poll_and_leave_with_the_monitor(tmp_path: Path) -> None:
    from bot.model import ProviderMaintenance

    clock = FakeClock()
    store, monitor, watcher = watched(tmp_path, clock, StatuspageMonitor(name="API", url="http://127.0.0.1:9/"))
    planned = ProviderMaintenance(id="m1", name="Upgrade", status="scheduled", starts_at=clock.now() + timedelta(hours=1))
    readings = (ComponentReading("API", Status.OPERATIONAL),)
    watcher.apply(monitor, CheckResult(monitor="API", at=clock.now(), readable=True, components=readings,
                                       maintenances=(planned,)))
    assert store.provider_maintenances(clock.now()) == [("API", planned)]  # no announced end: kept
    assert store.provider_maintenances(clock.now(), "API") == [("API", planned)]
    assert store.provider_maintenances(clock.now(), "Other") == []
    store.sync_monitors([], clock.now())
    assert store.provider_maintenances(clock.now()) == []
    store.sync_monitors([("API", "statuspage")], clock.now())
    clock.advance(60)
    watcher.apply(monitor, CheckResult(monitor="API", at=clock.now(), readable=True, components=readings))
    assert store.provider_maintenances(clock.now()) == []
    assert store.db.execute("SELECT maintenances FROM monitors").fetchone() == (None,)


def test_migration_007_reads_states_written_before_it(tmp_path: Path) -> None:
    import json

    from sqlite_utils import Database

    path = str(tmp_path / "old.db")
    db = Database(path)
    migrations.apply(db, stop_before="m007_provider_maintenances")  # a database as the previous release left it
    state = {"monitor": "API", "components": [], "incident": None, "incidents": [], "readable": True}
    db.execute("INSERT INTO monitors (name, kind, active, first_seen, mid, state) VALUES ('API', 'statuspage', 1, 0, 1, ?)",
               [json.dumps(state)])
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.load_states()["API"].maintenances == ()
    assert store.provider_maintenances(FakeClock().now()) == []
