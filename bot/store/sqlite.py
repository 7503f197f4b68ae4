"""The SQLite backend: the embedded default, one file in WAL mode (synchronous=NORMAL: a committed transaction
survives `kill -9`). The only importer of sqlite_utils; its schema changes are sqlite-utils Migrations recorded
in the database itself.

The bot moves the WAL's pages into the database from a thread (`checkpoint`, every CHECKPOINT_EVERY seconds,
bot/schedule.py). Left to SQLite, the commit that takes the WAL past 1,000 pages copies them itself, on the
event loop: at 10,000 monitors that is a 5-20 ms stall every few seconds. sqlite3 lets go of the interpreter
lock while it copies, so the thread costs the loop nothing.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.store.sql import STATUS_CODES, Ops, Rows, T, drive, run

migrations = Migrations("downwatch")
# Pages the WAL may hold before a commit copies them itself: a bound should the checkpoint job not run (a CLI
# command's store, a stopped scheduler); SQLite's default is 1,000 (4 MB), this is 40 MB.
AUTOCHECKPOINT = 10_000


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE monitors (
            name TEXT PRIMARY KEY, kind TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
            state TEXT, checked_at REAL, first_seen REAL, readable INTEGER NOT NULL DEFAULT 1,
            unreadable INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '')"""
    )
    db.execute(
        """CREATE TABLE components (
            monitor TEXT NOT NULL, name TEXT NOT NULL, grp TEXT, status TEXT NOT NULL, since REAL,
            observed TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', PRIMARY KEY (monitor, name))"""
    )
    db.execute(
        """CREATE TABLE status_log (
            id INTEGER PRIMARY KEY, monitor TEXT NOT NULL, component TEXT NOT NULL,
            ts REAL NOT NULL, status TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX status_log_component_ts ON status_log (monitor, component, ts)")
    db.execute("CREATE INDEX status_log_ts ON status_log (ts)")
    db.execute(
        """CREATE TABLE checks (
            id INTEGER PRIMARY KEY, monitor TEXT NOT NULL, ts REAL NOT NULL, status TEXT NOT NULL,
            latency_ms REAL, detail TEXT NOT NULL DEFAULT '')"""
    )
    db.execute("CREATE INDEX checks_monitor_ts ON checks (monitor, ts)")
    db.execute("CREATE INDEX checks_ts ON checks (ts)")
    db.execute(
        """CREATE TABLE rollups (
            monitor TEXT NOT NULL, hour REAL NOT NULL, probes INTEGER NOT NULL, ok INTEGER NOT NULL,
            latency_sum REAL NOT NULL DEFAULT 0, latency_max REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (monitor, hour))"""
    )
    db.execute(
        """CREATE TABLE incidents (
            id TEXT PRIMARY KEY, monitor TEXT NOT NULL, started_at REAL NOT NULL, resolved_at REAL,
            severity TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', components TEXT NOT NULL DEFAULT '[]',
            announced INTEGER NOT NULL)"""
    )
    db.execute("CREATE INDEX incidents_started ON incidents (started_at)")
    db.execute("CREATE INDEX incidents_monitor_started ON incidents (monitor, started_at)")
    db.execute("CREATE INDEX incidents_open ON incidents (resolved_at) WHERE resolved_at IS NULL")
    db.execute(
        """CREATE TABLE incident_components (
            incident_id TEXT NOT NULL, monitor TEXT NOT NULL, component TEXT NOT NULL, started_at REAL NOT NULL,
            PRIMARY KEY (incident_id, component))"""
    )
    db.execute("CREATE INDEX incident_components_by_component ON incident_components (monitor, component, started_at)")
    db.execute(
        """CREATE TABLE timeline (
            id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
            text TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX timeline_incident ON timeline (incident_id, ts)")
    db.execute(
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL, platform TEXT NOT NULL, channel TEXT NOT NULL,
            op TEXT NOT NULL, alert TEXT NOT NULL, mention TEXT, state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, created_at REAL NOT NULL,
            sent_at REAL, ref TEXT, error TEXT NOT NULL DEFAULT '')"""
    )
    db.execute("CREATE INDEX outbox_pending ON outbox (platform, id) WHERE state = 'pending'")
    db.execute(
        """CREATE TABLE messages (
            incident_id TEXT NOT NULL, platform TEXT NOT NULL, channel TEXT NOT NULL, ref TEXT NOT NULL,
            PRIMARY KEY (incident_id, platform, channel))"""
    )


@migrations()
def m002_compact_probes(db: Database) -> None:
    """Raw probes and hourly rollups keyed by a small integer monitor id, with integer times, coded statuses
    and no detail for good probes: a fifth of the bytes per probe, so a week of raw probes for 1,000 monitors
    plus 400 days of rollups stay within the documented database size (README)."""
    db.execute("ALTER TABLE monitors ADD COLUMN mid INTEGER")
    db.execute("UPDATE monitors SET mid = rowid")
    db.execute("CREATE UNIQUE INDEX monitors_mid ON monitors (mid)")
    db.execute(
        """CREATE TABLE probes (
            id INTEGER PRIMARY KEY, mid INTEGER NOT NULL, ts INTEGER NOT NULL, status INTEGER NOT NULL,
            latency_ms INTEGER, detail TEXT)"""
    )
    codes = " ".join(f"WHEN '{s.value}' THEN {c}" for c, s in enumerate(STATUS_CODES))
    db.execute(
        f"INSERT INTO probes (mid, ts, status, latency_ms, detail) SELECT m.mid, CAST(c.ts AS INTEGER), "
        f"CASE c.status {codes} ELSE 5 END, CAST(ROUND(c.latency_ms) AS INTEGER), "
        "CASE WHEN c.status = 'operational' THEN NULL ELSE c.detail END "
        "FROM checks c JOIN monitors m ON m.name = c.monitor ORDER BY c.id"
    )
    # No index on (mid, ts): no command reads raw probes (they answer from probe_hours), and the index
    # would double the size of the biggest table. Retention deletes by id, which follows time.
    db.execute(
        """CREATE TABLE probe_hours (
            mid INTEGER NOT NULL, hour INTEGER NOT NULL, probes INTEGER NOT NULL, ok INTEGER NOT NULL,
            latency_sum INTEGER NOT NULL, latency_max INTEGER NOT NULL, PRIMARY KEY (mid, hour)) WITHOUT ROWID"""
    )
    db.execute(
        "INSERT INTO probe_hours SELECT m.mid, CAST(r.hour / 3600 AS INTEGER), r.probes, r.ok, "
        "CAST(ROUND(r.latency_sum) AS INTEGER), CAST(ROUND(r.latency_max) AS INTEGER) "
        "FROM rollups r JOIN monitors m ON m.name = r.monitor"
    )
    db.execute("DROP TABLE checks")
    db.execute("DROP TABLE rollups")


@migrations()
def m003_component_names(db: Database) -> None:
    """Find a component by name without reading them all (/status <component>)."""
    db.execute("CREATE INDEX components_name ON components (name COLLATE NOCASE)")


@migrations()
def m004_timeline_changes(db: Database) -> None:
    """Timeline rows keep the alert's typed changes (JSON) so they can be worded again when read; rows
    written before keep only their `text`, read back as one Change(TEXT)."""
    db.execute("ALTER TABLE timeline ADD COLUMN changes TEXT")


@migrations()
def m005_early_warning(db: Database) -> None:
    """A probe's incident against the status page it watches: which monitor, what the page said when the
    incident opened, when it admitted it and the lead (`/status` and `/uptime` show the median lead)."""
    for column in ("watched TEXT", "page_said TEXT", "acknowledged_at REAL", "lead_s REAL"):
        db.execute(f"ALTER TABLE incidents ADD COLUMN {column}")
    db.execute("CREATE INDEX incidents_watched ON incidents (watched, started_at)")


@migrations()
def m006_operations(db: Database) -> None:
    """Operating from chat (issue 12): every action with who and when, the current mute per monitor, the
    acknowledgement per incident, and the alerts held while a monitor is quiet (muted or in maintenance)."""
    db.execute(
        """CREATE TABLE actions (
            id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, monitor TEXT NOT NULL,
            incident_id TEXT NOT NULL DEFAULT '', actor_id TEXT NOT NULL, actor TEXT NOT NULL,
            platform TEXT NOT NULL, until REAL, reason TEXT NOT NULL DEFAULT '')"""
    )
    db.execute("CREATE INDEX actions_monitor_ts ON actions (monitor, ts)")
    db.execute(
        """CREATE TABLE mutes (
            monitor TEXT PRIMARY KEY, actor TEXT NOT NULL, at REAL NOT NULL, until REAL,
            incident_id TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '')"""
    )
    db.execute(
        """CREATE TABLE acks (
            incident_id TEXT PRIMARY KEY, monitor TEXT NOT NULL, actor TEXT NOT NULL, at REAL NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE held (
            id INTEGER PRIMARY KEY, monitor TEXT NOT NULL, ts REAL NOT NULL, why TEXT NOT NULL DEFAULT '',
            alert TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX held_monitor ON held (monitor, id)")


@migrations()
def m007_provider_maintenances(db: Database) -> None:
    """A provider's announced maintenances (the state's, as JSON; NULL when none), so that `/status` reads them
    without decoding every monitor's state. A state written before this reads as none until its next write."""
    db.execute("ALTER TABLE monitors ADD COLUMN maintenances TEXT")


@migrations()
def m008_region_readings(db: Database) -> None:
    """Each region's latest probe result per monitor (issue 14). A single SQLite process is one region at most,
    so it holds one row per monitor; the table is here so that the Store reads the same on both backends."""
    db.execute(
        """CREATE TABLE region_readings (
            monitor TEXT NOT NULL, region TEXT NOT NULL, at REAL NOT NULL, status TEXT NOT NULL,
            failures INTEGER NOT NULL, successes INTEGER NOT NULL, latency_ms REAL, detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (monitor, region))"""
    )

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file (sqlite.org/fileformat.html)


def unusable(path: str) -> str | None:
    """Why SQLite could not open `path` as downwatch's database (None: it can), without creating anything:
    a missing or unwritable folder, a directory, a file that is not an SQLite database or cannot be written."""
    if path == ":memory:":
        return None
    target = Path(path)
    if target.exists() or target.is_symlink():
        if target.is_dir():
            return "it is a directory, not a file"
        if not target.is_file():
            return "it is not a regular file" if target.exists() else "it is a broken symbolic link"
        try:
            with open(target, "r+b") as handle:  # r+: the bot writes to it; opening creates nothing
                header = handle.read(len(SQLITE_HEADER))
        except OSError as exc:
            return f"it cannot be opened for writing: {exc.strerror}"
        if header and header != SQLITE_HEADER:
            return "it is not an SQLite database"
        folder = target.parent
    else:
        folder = target.parent
        if not folder.exists():
            return f"its folder {str(folder)!r} does not exist"
        if not folder.is_dir():
            return f"{str(folder)!r} is not a folder"
    try:  # SQLite creates the file, and its -wal and -shm files, in that folder
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"no file can be created in its folder {str(folder)!r}: {exc.strerror}"
    return None




class SqliteBackend:
    """The Store's connection to one SQLite file (bot/store/sql.py Backend)."""

    name = "sqlite"
    shared = False  # one process: its own counters are the versions
    greatest, least = "MAX", "MIN"

    def __init__(self, db: Database, path: str) -> None:
        self.db = db
        conn: sqlite3.Connection = db.conn
        # sqlite3's own methods, bound once: the per-check path pays no wrapper.
        self.execute = typing.cast(typing.Callable[..., Rows], conn.execute)
        self._conn = conn
        self._path = path
        self._checkpointer: sqlite3.Connection | None = None  # its own connection: used from a worker thread
        self._checkpointing = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, path: str) -> SqliteBackend:
        """Open (creating if needed) the database file, in WAL mode, with migrations applied."""
        db = Database(path) if path != ":memory:" else Database(memory=True)
        if path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT}")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        migrations.apply(db)
        # A statement outside atomic() commits on its own, as on PostgreSQL. sqlite3's default would open an
        # implicit transaction at such a write (a mute that ran out, a region's reading) and leave it open:
        # every later atomic() is then a savepoint inside it, so no check commits again and the write lock
        # stays held against every other process.
        db.conn.isolation_level = None
        return cls(db, path)

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        self._conn.executemany(sql, rows)

    def atomic(self, *, fenced: bool = False) -> typing.ContextManager[object]:
        return typing.cast(typing.ContextManager[object], self.db.atomic())  # one process: nothing to fence

    def nocase(self, expr: str) -> str:
        return f"{expr} COLLATE NOCASE"

    def serialize(self, key: int) -> None:
        """One process: its transactions are one at a time already."""

    def changes(self) -> int:
        return int(self._conn.total_changes)

    def integrity(self) -> str:
        return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    def tables(self) -> list[str]:
        return [str(t) for t in self.db.table_names()]

    def checkpoint(self) -> int:
        """Copy the WAL's committed pages into the database, without waiting for anyone (PASSIVE: what a reader
        still needs stays for the next time). From any thread, one at a time; the pages copied."""
        with self._checkpointing:
            if self._path == ":memory:" or self._closed:  # a job that ran on past the store's close
                return 0
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            _busy, _log, copied = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return max(0, int(copied))

    def close(self) -> None:
        with self._checkpointing:
            self._closed = True
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
        self.db.close()

    async def aclose(self) -> None:
        self.close()

    async def perform(self, ops: Ops[T], *, atomic: bool = True, fenced: bool = False) -> T:
        # A local file answers in microseconds: the statements run right here, with nothing awaited, so no other
        # task runs in between and a single process keeps its one-check-at-a-time order.
        return run(self, ops) if atomic else drive(self, ops)
