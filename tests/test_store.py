"""Storage details: migrations recorded in the database, retention in chunks, query plans, WAL.

The tests taking `database` run on both backends (tests/conftest.py: an SQLite file, then a fresh PostgreSQL
database). The SQLite-only ones are about sqlite-utils' migrations, PRAGMAs, EXPLAIN QUERY PLAN and
total_changes; their PostgreSQL counterparts follow them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Monitor
from bot.model import CheckResult, ComponentReading, Status
from bot.store import Store, migrations
from bot.store.postgres import PostgresBackend
from bot.watch import Watcher
from tests.conftest import Ran
from tests.wiring import wire

M = TypeVar("M", bound=Monitor)


def watched(database: str, clock: FakeClock, monitor: M) -> tuple[Store, M, Watcher]:
    """A store on `database` (an SQLite file or a PostgreSQL URL) with `monitor` registered, and the watcher that
    applies its results."""
    wired = wire(database, [monitor], clock=clock)
    return wired.store, monitor, wired.watcher


def count(store: Store, table: str) -> int:
    return int(store.sql.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def postgres(store: Store) -> PostgresBackend:
    assert isinstance(store.sql, PostgresBackend)
    return store.sql


def probe(at, status: Status, latency: float = 12.0) -> CheckResult:  # type: ignore[no-untyped-def]
    return CheckResult(monitor="API", at=at, readable=True, latency_ms=latency,
                       components=(ComponentReading("API", status, "HTTP 200"),))


def test_migrations_are_recorded_and_reopening_applies_nothing(tmp_path: Path) -> None:
    """SQLite only: sqlite-utils' migrations table and WAL (PostgreSQL: the test after this one)."""
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


def test_commits_leave_the_wal_to_the_checkpoint_job(tmp_path: Path) -> None:
    """SQLite only. No commit copies the WAL into the database at SQLite's default 1,000 pages (a stall of the
    event loop); `checkpoint` does it, from any thread, and the WAL is then written again from its start."""
    import threading

    path = tmp_path / "dw.db"
    store = Store.open(str(path))
    wal = Path(f"{path}-wal")
    store.sql.execute("CREATE TABLE ballast (page BLOB)")
    for _ in range(1_500):  # each its own transaction, each at least one 4 KB page
        store.sql.execute("INSERT INTO ballast VALUES (?)", [b"x" * 4000])
    grown = wal.stat().st_size
    assert grown > 1_500 * 4096  # 1,000 pages would have been copied and the WAL restarted at 4 MB

    copied: list[int] = []
    worker = threading.Thread(target=lambda: copied.append(store.checkpoint()))
    worker.start()
    worker.join()
    assert copied[0] >= 1_500
    for _ in range(100):
        store.sql.execute("INSERT INTO ballast VALUES (?)", [b"y" * 4000])
    assert wal.stat().st_size == grown  # reused from its start, not grown
    assert store.checkpoint() >= 100
    assert count(store, "ballast") == 1_600
    store.close()
    assert store.checkpoint() == 0  # a job that ran on past the close opens nothing again


def test_postgresql_checkpoints_itself(pg_url: str) -> None:
    store = Store.open(pg_url)
    assert store.checkpoint() == 0
    store.close()


def test_postgresql_migrations_are_recorded_and_reopening_applies_nothing(pg_url: str) -> None:
    from bot.store.postgres import MIGRATIONS, TABLES, applied, migrate

    store = Store.open(pg_url)
    assert applied(postgres(store)) == [name for name, _ in MIGRATIONS] and MIGRATIONS[0][0] == "m007_schema"
    assert sorted(store.sql.tables()) == sorted(TABLES) and store.integrity() == "ok"
    recorded = store.sql.execute("SELECT name, applied_at FROM schema_migrations").fetchall()
    store.close()
    again = Store.open(pg_url)
    assert again.sql.execute("SELECT name, applied_at FROM schema_migrations").fetchall() == recorded
    assert migrate(postgres(again)) == []
    again.close()


def test_postgresql_migrated_by_a_newer_downwatch_is_refused_and_nothing_is_written(
    pg_url: str, downwatch: Callable[..., Ran]
) -> None:
    from bot.store.postgres import MIGRATIONS, BadDatabase

    newer = Store.open(pg_url)  # what a newer downwatch would leave: one more migration, one more table
    newer.sql.execute("CREATE TABLE future_things (id INTEGER PRIMARY KEY)")
    newer.sql.execute("INSERT INTO schema_migrations (name) VALUES ('m999_future_things')")
    newer.sync_monitors([("API", "http")], FakeClock().now())

    def snapshot() -> tuple[object, ...]:  # the tables, and every row with its version (xmin moves on a write)
        return (newer.sql.tables(),
                newer.sql.execute("SELECT xmin::text, * FROM schema_migrations ORDER BY name").fetchall(),
                newer.sql.execute("SELECT xmin::text, * FROM monitors").fetchall())

    before = snapshot()
    with pytest.raises(BadDatabase) as refused:
        Store.open(pg_url)
    said = str(refused.value)
    assert "migrated by a newer downwatch" in said and "m999_future_things" in said and MIGRATIONS[-1][0] in said
    assert "nothing was written" in said and newer.sql.url in said and "upgrade downwatch" in said
    ran = downwatch("status", "--db", pg_url)  # what an operator sees
    assert ran.code == 2 and ran.err.strip() == f"downwatch: {said}"
    assert snapshot() == before
    newer.close()


def test_http_probes_write_raw_rows_and_hourly_rollups_and_retention_prunes_in_chunks(database: str) -> None:
    clock = FakeClock()
    store, monitor, watcher = watched(database, clock, HttpMonitor(name="API", url="http://127.0.0.1:9/"))
    for i in range(10 * 24 * 6):  # 10 days, one probe every 10 minutes
        watcher.apply(monitor, probe(clock.now(), Status.OPERATIONAL if i % 50 else Status.MAJOR, 10.0 + i % 7))
        clock.advance(600)
    assert count(store, "probes") == 1440
    rollups = store.sql.execute("SELECT COUNT(*), SUM(probes), SUM(ok) FROM probe_hours").fetchone()
    assert rollups[0] == 240 and rollups[1] == 1440 and rollups[2] == 1440 - 29
    deleted = store.prune(clock.now(), retention_days=7, rollup_days=400, chunk=100)
    assert deleted >= 3 * 24 * 6 - 1
    oldest = store.sql.execute("SELECT MIN(ts) FROM probes").fetchone()[0]
    assert oldest >= (clock.now() - timedelta(days=7)).timestamp()
    assert count(store, "probe_hours") == 240  # rollups outlive raw rows
    failed = store.sql.execute("SELECT status, detail FROM probes WHERE status != 0").fetchall()
    assert failed and all(row == (3, "HTTP 200") for row in failed)  # coded status; detail kept for failures
    assert store.sql.execute("SELECT COUNT(*) FROM probes WHERE detail IS NOT NULL AND status = 0").fetchone() == (0,)


def test_status_page_polls_write_no_component_rows_when_nothing_changed(tmp_path: Path) -> None:
    """SQLite only: counted by total_changes() (PostgreSQL: the test after this one)."""
    clock = FakeClock()
    store, monitor, watcher = watched(str(tmp_path / "dw.db"), clock,
                                      StatuspageMonitor(name="API", url="http://127.0.0.1:9/"))
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


def test_postgresql_status_page_polls_write_no_component_rows_when_nothing_changed(pg_url: str) -> None:
    """What total_changes() counts on SQLite, by the rows' versions here: a row written again gets a new xmin."""
    clock = FakeClock()
    store, monitor, watcher = watched(pg_url, clock, StatuspageMonitor(name="API", url="http://127.0.0.1:9/"))
    reading = CheckResult(monitor="API", at=clock.now(), readable=True,
                          components=tuple(ComponentReading(f"c{i}", Status.OPERATIONAL) for i in range(25)))
    watcher.apply(monitor, reading)

    def versions(table: str) -> list[tuple[str, ...]]:
        return store.sql.execute(f"SELECT xmin::text FROM {table} ORDER BY xmin::text").fetchall()

    components, log, monitors = versions("components"), versions("status_log"), versions("monitors")
    for _ in range(10):
        clock.advance(60)
        watcher.apply(monitor, CheckResult(monitor="API", at=clock.now(), readable=True,
                                           components=reading.components))
        assert versions("monitors") != monitors  # one monitors row per poll (its checked_at) …
        monitors = versions("monitors")
    assert versions("components") == components and versions("status_log") == log  # … and nothing else
    assert count(store, "status_log") == 25 and count(store, "probes") == 0
    store.close()


# The queries behind the commands, with the index each must use (PostgreSQL names them in its plans).
COMMAND_QUERIES = {
    "component uptime": ("SELECT ts, status FROM status_log WHERE monitor = ? AND component = ? AND ts >= ? "
                         "AND ts <= ? ORDER BY ts", ["m1", "c1", 0, 1e9], "status_log_component_ts"),
    "recent incidents": ("SELECT id FROM incidents i WHERE i.started_at >= ? ORDER BY i.started_at DESC "
                         "LIMIT ?", [0, 5], "incidents_started"),
    "monitor incidents": ("SELECT id FROM incidents i WHERE i.monitor = ? AND i.started_at >= ? "
                          "ORDER BY i.started_at DESC LIMIT ?", ["m17", 0, 5], "incidents_monitor_started"),
    "component incidents": ("SELECT i.id FROM incident_components ic JOIN incidents i ON i.id = ic.incident_id "
                            "WHERE ic.monitor = ? AND ic.component = ? AND ic.started_at >= ? "
                            "ORDER BY ic.started_at DESC LIMIT ?", ["m1", "c1", 0, 5],
                            "incident_components_by_component"),
    "open incidents": ("SELECT id FROM incidents WHERE resolved_at IS NULL", [], "incidents_open"),
    "component by name": ("SELECT c.monitor FROM components c WHERE {c.name} = {?}", ["api"], "components_name"),
    "incident timeline": ("SELECT ts, kind, text, changes FROM timeline WHERE incident_id = ? "
                          "ORDER BY ts DESC, id DESC LIMIT ?", ["m1@1", 20], "timeline_incident"),
}


def command_query(store: Store, sql: str) -> str:
    """The query with the backend's case-insensitive comparison where it says {c.name} = {?}."""
    return sql.replace("{c.name}", store.sql.nocase("c.name")).replace("{?}", store.sql.nocase("?"))


def test_command_queries_use_indexes_not_scans(tmp_path: Path) -> None:
    """SQLite only: EXPLAIN QUERY PLAN (PostgreSQL: the test after this one)."""
    store = Store.open(str(tmp_path / "dw.db"))
    for name, (sql, args, index) in COMMAND_QUERIES.items():
        plan = " | ".join(str(r[3]) for r in store.db.execute("EXPLAIN QUERY PLAN " + command_query(store, sql), args))
        assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, (name, plan)
        assert "SCAN i " not in plan + " " and "SCAN status_log" not in plan, (name, plan)
        assert "SCAN probes" not in plan and "TEMP B-TREE" not in plan, (name, plan)


def plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", ()) for n in plan_nodes(child))]


def test_postgresql_command_queries_use_their_indexes_on_a_realistic_history(pg_url: str) -> None:
    """PostgreSQL picks a plan by its statistics: on a few rows a scan is cheapest, so the tables hold a
    history of the size the README documents, analysed as autovacuum would leave it: 40 monitors, 2,000
    components, 50,000 status changes, 5,000 incidents (4 still open; most of them on 4 noisy monitors, as
    in real life) and 22,000 timeline rows, 2,000 of them one long incident's."""
    store = Store.open(pg_url)
    monitor = "'m' || CASE WHEN i % 10 < 9 THEN i % 4 ELSE 4 + i % 36 END"  # incident i's monitor
    incident = f"{monitor} || '@' || i"
    for sql in (
        "INSERT INTO monitors (name, kind, mid, first_seen) SELECT 'm' || i, 'statuspage', i, 0 "
        "FROM generate_series(0, 39) i",
        "INSERT INTO components (monitor, name, status, observed) SELECT 'm' || (i % 40), 'c' || i, 'operational', "
        "'operational' FROM generate_series(0, 1999) i",
        "INSERT INTO status_log (monitor, component, ts, status) SELECT 'm' || (i % 40), 'c' || (i % 2000), "
        "i * 60.0, 'operational' FROM generate_series(1, 50000) i",
        f"INSERT INTO incidents (id, monitor, started_at, resolved_at, severity, announced) SELECT {incident}, "
        f"{monitor}, i * 600.0, CASE WHEN i > 4996 THEN NULL ELSE i * 600.0 + 300 END, 'major_outage', 1 "
        "FROM generate_series(1, 5000) i",
        f"INSERT INTO incident_components (incident_id, monitor, component, started_at) SELECT {incident}, "
        f"{monitor}, 'c' || (i % 2000), i * 600.0 FROM generate_series(1, 5000) i",
        f"INSERT INTO timeline (incident_id, ts, kind, text) SELECT {incident}, i * 600.0 + j * 60, 'updated', '' "
        "FROM generate_series(1, 5000) i, generate_series(1, 4) j",
        "INSERT INTO timeline (incident_id, ts, kind, text) SELECT 'm1@1', 600.0 + j * 60, 'updated', '' "
        "FROM generate_series(1, 2000) j",  # a long, flapping incident: what the timeline query must not sort
        "ANALYZE",
    ):
        store.sql.execute(sql)
    for name, (sql, args, index) in COMMAND_QUERIES.items():
        [(plan,)] = store.sql.execute("EXPLAIN (FORMAT JSON) " + command_query(store, sql), args).fetchall()
        nodes = plan_nodes(plan[0]["Plan"])
        used = {n.get("Index Name") for n in nodes}
        kinds = {n["Node Type"] for n in nodes}
        assert index in used, (name, plan)
        # No full sort; an Incremental Sort (the timeline's id tiebreak on rows the index orders by ts) reads
        # only up to the LIMIT.
        assert "Seq Scan" not in kinds and "Sort" not in kinds, (name, plan)
    store.close()


def test_http_monitor_report_shows_probe_counts_and_latency_from_rollups(database: str) -> None:
    from adapters.console import render_reply
    from bot import commands
    from bot.model import Command, CommandKind, TargetReport

    clock = FakeClock()
    store, monitor, watcher = watched(database, clock, HttpMonitor(name="API", url="http://127.0.0.1:9/"))
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
    """SQLite only: its schema before PostgreSQL support (PostgreSQL starts at m007)."""
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


def test_timeline_reads_back_the_open_incidents_typed_changes(database: str) -> None:
    from bot import commands
    from bot.model import AlertKind, Change, ChangeKind, Command, CommandKind, TargetReport

    clock = FakeClock()
    store, monitor, watcher = watched(database, clock, StatuspageMonitor(name="OpenAI", url="http://127.0.0.1:9/"))

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
    store.sql.execute("INSERT INTO timeline (incident_id, ts, kind, text) VALUES (?, ?, 'updated', "
                      "'ChatGPT recovered')", [incident.id, clock.now().timestamp()])
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
    """SQLite only: its schema before PostgreSQL support (PostgreSQL starts at m007)."""
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


def test_provider_maintenances_are_kept_across_a_restart_and_read_without_the_states(database: str) -> None:
    """The announced maintenances of the last readable poll, from the real Cloudflare capture, read back by a
    new Store on the same file; the ones over by then are left out, the ones the provider still calls in
    progress are not; none is an incident."""
    from datetime import UTC, datetime

    from bot.checks.statuspage import parse_statuspage

    captured = datetime(2026, 7, 29, 17, 4, 41, tzinfo=UTC)
    clock = FakeClock(captured)
    store, monitor, watcher = watched(database, clock, StatuspageMonitor(name="Cloudflare", url="http://127.0.0.1:9/"))
    body = (Path(__file__).parent / "data" / "cloudflare_statuspage_summary_2026-07-29_incident_and_maintenances.json")
    result = parse_statuspage(monitor="Cloudflare", summary=body.read_bytes(), unresolved=None, components_filter=(),
                              at=captured)
    watcher.apply(monitor, result)
    assert len(store.provider_maintenances(captured)) == 16
    store.close()

    again = Store.open(database)
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


def test_maintenances_clear_with_the_poll_and_leave_with_the_monitor(database: str) -> None:
    from bot.model import ProviderMaintenance

    clock = FakeClock()
    store, monitor, watcher = watched(database, clock, StatuspageMonitor(name="API", url="http://127.0.0.1:9/"))
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
    assert store.sql.execute("SELECT maintenances FROM monitors").fetchone() == (None,)


def test_migration_007_reads_states_written_before_it(tmp_path: Path) -> None:
    """SQLite only: its schema before PostgreSQL support (PostgreSQL starts at m007)."""
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


def test_components_are_found_ignoring_ascii_case_and_exactly_otherwise(database: str) -> None:
    """SQLite's NOCASE folds ASCII only; PostgreSQL's lower() folds by the database's locale (en-US here, as in
    production). Both backends must answer the same: ÄPI typed as it is written is found, äpi is not."""
    clock = FakeClock()
    store, monitor, watcher = watched(database, clock, StatuspageMonitor(name="Ärger", url="http://127.0.0.1:9/"))
    watcher.apply(monitor, CheckResult(monitor="Ärger", at=clock.now(), readable=True, components=(
        ComponentReading("ÄPI", Status.OPERATIONAL), ComponentReading("Web", Status.OPERATIONAL))))
    assert store.find_component("ÄPI") == ("Ärger", "ÄPI") == store.find_component("Äpi")
    assert store.find_component("äpi") is None and store.find_component("äPI") is None
    assert store.find_component("ÄPI", "Ärger") == ("Ärger", "ÄPI") and store.find_component("ÄPI", "ärger") is None
    assert store.find_component("wEB", "äRGER") is None and store.find_component("wEB", "ÄRGER") == ("Ärger", "Web")


def test_components_filtered_by_the_status_they_show(database: str) -> None:
    """`status=` keeps exactly the views that show it (the shown status: unknown for a component whose
    source stopped describing it), in the same order, on both backends."""
    clock = FakeClock()
    store, monitor, watcher = watched(database, clock, StatuspageMonitor(name="API", url="http://127.0.0.1:9/"))
    sequence = [(("Web", Status.MAINTENANCE), ("DB", Status.MAINTENANCE), ("Jobs", Status.OPERATIONAL),
                 ("Queue", Status.MAJOR))] * 3 + [(("Web", Status.MAINTENANCE), ("Jobs", Status.OPERATIONAL),
                                                  ("Queue", Status.MAJOR))] * 3
    for readings in sequence:
        watcher.apply(monitor, CheckResult(monitor="API", at=clock.now(), readable=True,
                                           components=tuple(ComponentReading(n, st) for n, st in readings)))
        clock.advance(60)
    every = store.component_views()
    assert {v.status for v in every} >= {Status.MAINTENANCE, Status.OPERATIONAL}
    for status in Status:
        assert store.component_views(status=status) == [v for v in every if v.status is status]
        assert store.component_views("API", status=status) == [v for v in every if v.status is status]
    assert "Web" in [v.name for v in store.component_views(status=Status.MAINTENANCE)]
    assert store.component_views("other", status=Status.MAINTENANCE) == []


def test_text_with_nul_characters_is_stored_on_both_backends(database: str) -> None:
    """A status page may name a component, or describe it, with a NUL character (valid JSON: \\u0000).
    SQLite keeps it; PostgreSQL's text cannot hold it, and refusing the write would stop that monitor for good:
    it is stored as U+FFFD, the replacement character, so names stay distinct."""
    clock = FakeClock()
    store, monitor, watcher = watched(database, clock, StatuspageMonitor(name="API", url="http://127.0.0.1:9/"))
    readings = (ComponentReading("A\x00PI", Status.MAJOR, "HTTP\x00 503"), ComponentReading("API", Status.OPERATIONAL))
    for _ in range(3):
        watcher.apply(monitor, CheckResult(monitor="API", at=clock.now(), readable=True, components=readings))
        clock.advance(60)
    kept = "\x00" if store.sql.name == "sqlite" else "\ufffd"
    views = {v.name: v for v in store.component_views()}
    assert set(views) == {f"A{kept}PI", "API"} and views[f"A{kept}PI"].detail == f"HTTP{kept} 503"
    [incident] = store.open_incidents()
    assert incident.components == ("A\x00PI",)  # JSON text: the NUL is escaped in it, on both
    assert store.load_states()["API"].components == watcher.states["API"].components


def test_every_check_is_committed_for_another_process_to_read_after_a_mute_ran_out(database: str) -> None:
    """One transaction per check, committed: another process (the CLI, a replica) sees every probe, also after
    a mute that held alerts ran out (its end is written outside a check's transaction)."""
    from bot.config import Route
    from bot.model import Action, ActionKind, Actor

    clock = FakeClock()
    api = HttpMonitor(name="API", url="http://127.0.0.1:9/", routes=(Route("chat", "#ops"),))
    wired = wire(database, [api], clock=clock)
    wired.ops.act(Action(ActionKind.MUTE, Actor(id="U1", name="alice", platform="slack"), target="API",
                         until=clock.now() + timedelta(minutes=5)))
    for minute in range(15):  # down from minute 2 to 8: held while muted, released when the mute runs out
        wired.watcher.apply(api, probe(clock.now(), Status.MAJOR if 2 <= minute < 8 else Status.OPERATIONAL))
        clock.advance(60)
        if minute == 4:
            assert wired.store.held_monitors() == {"API"}
    assert wired.store.mutes() == [] and wired.store.held_monitors() == set() and count(wired.store, "outbox")
    other = Store.open(database)
    assert count(other, "probes") == count(wired.store, "probes") == 15
    assert count(other, "outbox") == count(wired.store, "outbox") and count(other, "mutes") == 0
    other.close()
