"""Storage: every read and write of downwatch's history, on SQLite (the embedded default) or PostgreSQL.
One transaction per check = state + incident + outbox.

The queries live here once; bot/store/sqlite.py and bot/store/postgres.py each own a connection, their schema
and its migrations (same tables, same names). Times are stored as epoch seconds (UTC).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import typing
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.codec import decode, encode, load
from bot.engine import ComponentState, IncidentState, MonitorState, ObservedChange, Step
from bot.maintenance import merge_spans
from bot.model import (
    Acknowledged,
    Action,
    Alert,
    AlertKind,
    Change,
    ChangeKind,
    CheckResult,
    ComponentView,
    DayRecord,
    Delivery,
    Held,
    IncidentView,
    LeadStats,
    Muted,
    MuteView,
    Op,
    OutboxHealth,
    OutboxRow,
    PageSaid,
    ProbeHour,
    ProbeStats,
    ProviderMaintenance,
    RegionReading,
    RowState,
    Status,
    TimelineEntry,
    Uptime,
)
from bot.store.sql import CODE as _CODE
from bot.store.sql import (
    STATUS_CODES,
    Backend,
    Fenced,
    Many,
    Ops,
    Read,
    Unavailable,
    Write,
    drive,
    run,
    statements,
)
from bot.store.sqlite import SQLITE_HEADER, SqliteBackend, migrations, unusable

SYNC_LOCK = 0x73796E63  # "sync": sync_monitors, one process at a time
SHARED_FOR = 0.5  # seconds a read of every monitor's version is reused (PostgreSQL: the pages' cache key)

__all__ = ["STATUS_CODES", "SQLITE_HEADER", "Backend", "Fenced", "Store", "Unavailable", "migrations", "queued_alert",
           "unusable"]

def _timeline_changes(text: str, changes: str | None) -> tuple[Change, ...]:
    if changes is None:
        return (Change(ChangeKind.TEXT, detail=text),) if text else ()
    return typing.cast(tuple[Change, ...], decode(tuple[Change, ...], json.loads(changes)))


def ts(moment: datetime) -> float:
    return moment.timestamp()


def dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def queued_alert(text: str) -> Alert:
    """An outbox row's Alert. Rows queued by the version before typed changes carry one worded line,
    `change`: it is delivered as it was written, as one Change(TEXT)."""
    data = json.loads(text)
    if "changes" not in data and "change" in data:
        line = data.pop("change")
        data["changes"] = [encode(Change(ChangeKind.TEXT, detail=line))] if line else []
    return load(Alert, data)


class Store:
    """Reads and writes downwatch's SQLite history."""

    def __init__(self, *, sql: Backend) -> None:
        self.sql = sql
        self._mids: dict[str, int] = {}
        # Per monitor, the last write of its state (components, incident, readability): the web pages keep
        # a monitor's rendered parts until it moves. `_synced` covers every monitor at once.
        self._written: dict[str, int] = {}
        self._writes = self._synced = 0
        self._others: tuple[float, int, dict[str, int]] | None = None  # PostgreSQL: versions as last read

    @property
    def db(self) -> typing.Any:
        """The sqlite-utils Database under an SQLite store (tests and the SQLite-only CLI paths)."""
        if not isinstance(self.sql, SqliteBackend):
            raise AttributeError("a PostgreSQL store has no sqlite-utils Database: use store.sql")
        return self.sql.db

    @classmethod
    def open(cls, database: str) -> Store:
        """Open (creating if needed) the database, with migrations applied: a `postgresql://` URL, or an SQLite
        file path (`:memory:` for a throwaway one)."""
        if database.startswith(("postgresql://", "postgres://")):
            # psycopg loads only here: `downwatch status` on SQLite starts without it
            from bot.store.postgres import PostgresBackend

            return cls(sql=PostgresBackend.open(database))
        return cls(sql=SqliteBackend.open(database))

    def close(self) -> None:
        self.sql.close()

    async def aclose(self) -> None:
        """`close` from inside the event loop (PostgreSQL's async pool is closed there)."""
        await self.sql.aclose()

    def integrity(self) -> str:
        return self.sql.integrity()

    def checkpoint(self) -> int:
        """Move the write-ahead log's pages into the database (SQLite), from a worker thread."""
        return self.sql.checkpoint()

    # ------------------------------------------------------------ monitors and engine state

    def sync_monitors(self, monitors: Iterable[tuple[str, str]], now: datetime) -> None:
        """Mark exactly these (name, kind) monitors as active; history of removed ones is kept."""
        self._sync(monitors, now, only_new=False)

    def add_monitors(self, monitors: Iterable[tuple[str, str]], now: datetime) -> None:
        """Give the monitors that have no row yet theirs, inactive: a cluster's process that does not lead
        leaves which monitors are watched to the leader, whose config may differ while a change rolls out."""
        self._sync(monitors, now, only_new=True)

    def _sync(self, monitors: Iterable[tuple[str, str]], now: datetime, *, only_new: bool) -> None:
        with self.sql.atomic():
            self.sql.serialize(SYNC_LOCK)  # replicas starting together: new monitors' ids are MAX(mid) + 1
            if not only_new:
                self.sql.execute("UPDATE monitors SET active = 0")
            for name, kind in monitors:
                self.sql.execute(
                    "INSERT INTO monitors (name, kind, active, first_seen, mid) "
                    "VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(mid), 0) + 1 FROM monitors)) "
                    + ("ON CONFLICT(name) DO NOTHING" if only_new
                       else "ON CONFLICT(name) DO UPDATE SET active = 1, kind = excluded.kind"),
                    [name, kind, 0 if only_new else 1, ts(now)],
                )
            if self.sql.shared:
                self.sql.execute("UPDATE monitors SET version = nextval('monitor_versions')")
        self._mids = dict(self.sql.execute("SELECT name, mid FROM monitors").fetchall())
        self._writes += 1
        self._synced = self._writes
        self._others = None

    def active_monitors(self) -> set[tuple[str, str]]:
        """The (name, kind) of the monitors marked active: the ones the leader watches."""
        return {(name, kind) for name, kind in self.sql.execute("SELECT name, kind FROM monitors WHERE active = 1")}

    def _moved(self, monitor: str) -> Ops[None]:
        """The monitor's state, incident or timeline was written (inside the write's transaction): its
        `version` moves. Shared with the other processes on PostgreSQL, whose pages read it."""
        self._writes += 1
        self._written[monitor] = self._writes
        if self.sql.shared:
            yield Write("UPDATE monitors SET version = nextval('monitor_versions') WHERE name = ?", [monitor])

    def _mid(self, monitor: str) -> Ops[int]:
        """The small integer that stands for a monitor in probe rows."""
        mid = self._mids.get(monitor)
        if mid is None:
            row = (yield Read("SELECT mid FROM monitors WHERE name = ?", [monitor])).fetchone()
            if row is None:
                raise KeyError(f"monitor {monitor!r} was never synced")
            mid = self._mids[monitor] = row[0]
        return int(mid)

    def load_states(self) -> dict[str, MonitorState]:
        rows = self.sql.execute("SELECT name, state FROM monitors WHERE state IS NOT NULL").fetchall()
        return {name: load(MonitorState, json.loads(state)) for name, state in rows}

    def commit(
        self,
        *,
        prev: MonitorState | None,
        step: Step,
        result: CheckResult,
        deliveries: Sequence[Delivery],
        probe: bool,
        held: Sequence[Held] = (),
    ) -> None:
        """Persist one check's consequences atomically: state, history, incident and outbox rows."""
        run(self.sql, self._commit(prev, step, result, deliveries, probe, held), fenced=True)

    async def acommit(
        self,
        *,
        prev: MonitorState | None,
        step: Step,
        result: CheckResult,
        deliveries: Sequence[Delivery],
        probe: bool,
        held: Sequence[Held] = (),
    ) -> None:
        """`commit` awaited: on PostgreSQL the event loop runs other checks while the statements travel."""
        await self.sql.perform(self._commit(prev, step, result, deliveries, probe, held), fenced=True)

    def _commit(self, prev: MonitorState | None, step: Step, result: CheckResult, deliveries: Sequence[Delivery],
                probe: bool, held: Sequence[Held]) -> Ops[None]:
        state = step.state
        now = ts(result.at)
        if (yield from self._write_state(prev, step, now, probe=probe)) or step.alerts:
            yield from self._moved(state.monitor)
        yield from self._write_components(prev, state)
        if step.observed:
            yield self._write_status_log(state.monitor, step.observed)
        if probe:
            yield from self._write_probe(state.monitor, result, now)
        yield from self._write_incident(step, now)
        if step.alerts:
            yield self._write_timeline(step.alerts)
        if deliveries:
            yield self._write_outbox(deliveries, now)
        if held:  # operations (issue 12): alerts of a quiet monitor, delivered when it ends (bot/quiet.py)
            yield self._write_held(held, now)

    def commit_linked(self, *, prev: MonitorState | None, step: Step, deliveries: Sequence[Delivery],
                      at: datetime, held: Sequence[Held] = ()) -> None:
        """Persist a step another monitor's check caused (a probe's incident acknowledged by the status page it
        watches): its state, incident, timeline and outbox rows; no component or probe rows."""
        run(self.sql, self._commit_linked(prev, step, deliveries, ts(at), held), fenced=True)

    async def acommit_linked(self, *, prev: MonitorState | None, step: Step, deliveries: Sequence[Delivery],
                             at: datetime, held: Sequence[Held] = ()) -> None:
        await self.sql.perform(self._commit_linked(prev, step, deliveries, ts(at), held), fenced=True)

    def _commit_linked(self, prev: MonitorState | None, step: Step, deliveries: Sequence[Delivery], now: float,
                       held: Sequence[Held]) -> Ops[None]:
        yield from self._write_state(prev, step, now, probe=False)
        yield from self._moved(step.state.monitor)
        yield from self._write_incident(step, now)
        if step.alerts:
            yield self._write_timeline(step.alerts)
        if deliveries:
            yield self._write_outbox(deliveries, now)
        if held:
            yield self._write_held(held, now)

    def commit_notice(self, alert: Alert, deliveries: Sequence[Delivery]) -> None:
        """A notice that belongs to no monitor (the bot's own connectivity): timeline + outbox rows. A notice
        never mentions anyone, whatever its deliveries say."""
        run(self.sql, self._commit_notice(alert, deliveries), fenced=True)

    def _commit_notice(self, alert: Alert, deliveries: Sequence[Delivery]) -> Ops[None]:
        yield self._write_timeline((alert,))
        if deliveries:
            yield self._write_outbox([replace(d, mention=None) for d in deliveries], ts(alert.at))

    # The writers below are statements of one transaction (`Ops`): the per-check path, awaited on PostgreSQL.

    def _write_state(self, prev: MonitorState | None, step: Step, now: float, *, probe: bool) -> Ops[bool]:
        """The monitor row. Most polls change nothing but the time: then the state is not serialised again,
        and for a probe (whose own row records the time) the monitor row is not touched at all. True when
        the state itself was written (anything the pages show may have moved)."""
        state = step.state
        same = prev is not None and not step.observed and prev.same_but_checked_at(state)
        if not same:
            yield Write(
                "UPDATE monitors SET state = ?, checked_at = ?, readable = ?, unreadable = ?, detail = ?, "
                "maintenances = ? WHERE name = ?",
                [json.dumps(encode(state)), now, int(state.readable), int(state.unreadable_notified),
                 state.source_detail[:500],
                 json.dumps(encode(state.maintenances)) if state.maintenances else None, state.monitor],
            )
            return True
        if not probe:
            yield Write("UPDATE monitors SET checked_at = ? WHERE name = ?", [now, state.monitor])
        return False

    def _write_components(self, prev: MonitorState | None, state: MonitorState) -> Ops[None]:
        """Upsert the components whose stored columns changed; delete the ones no longer in the state."""
        old: dict[str, ComponentState] = {c.name: c for c in prev.components} if prev else {}
        for c in state.components:
            o = old.get(c.name)
            if o is None or (o.status, o.since, o.observed, o.detail, o.group) != (
                c.status, c.since, c.observed, c.detail, c.group
            ):
                yield Write(
                    "INSERT INTO components (monitor, name, grp, status, since, observed, detail) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (monitor, name) DO UPDATE SET grp = excluded.grp, status = excluded.status, "
                    "since = excluded.since, observed = excluded.observed, detail = excluded.detail",
                    [state.monitor, c.name, c.group, c.status.value, ts(c.since), c.observed.value, c.detail[:500]],
                )
        for name in set(old) - {c.name for c in state.components}:
            yield Write("DELETE FROM components WHERE monitor = ? AND name = ?", [state.monitor, name])

    @staticmethod
    def _write_status_log(monitor: str, observed: Sequence[ObservedChange]) -> Many:
        return Many(
            "INSERT INTO status_log (monitor, component, ts, status) VALUES (?, ?, ?, ?)",
            [(monitor, o.component, ts(o.at), o.status.value) for o in observed],
        )

    def _write_probe(self, monitor: str, result: CheckResult, now: float) -> Ops[None]:
        """The raw probe row and its hourly rollup (what /status and /uptime answer from)."""
        reading = result.components[0] if result.components else None
        status = reading.status if reading else Status.UNKNOWN
        latency = None if result.latency_ms is None else round(result.latency_ms)
        mid = yield from self._mid(monitor)
        detail = None if status is Status.OPERATIONAL or reading is None else reading.detail[:300]
        yield Write("INSERT INTO probes (mid, ts, status, latency_ms, detail) VALUES (?, ?, ?, ?, ?)",
                [mid, int(now), _CODE[status], latency, detail])
        yield Write(
            "INSERT INTO probe_hours (mid, hour, probes, ok, latency_sum, latency_max) "
            "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT(mid, hour) DO UPDATE SET "
            "probes = probe_hours.probes + 1, ok = probe_hours.ok + excluded.ok, "
            "latency_sum = probe_hours.latency_sum + excluded.latency_sum, "
            f"latency_max = {self.sql.greatest}(probe_hours.latency_max, excluded.latency_max)",
            [mid, int(now // 3600), int(status is Status.OPERATIONAL), latency or 0, latency or 0],
        )

    def _write_incident(self, step: Step, now: float) -> Ops[None]:
        """The incident row (opened, closed, its severity and components) and its component index."""
        incident = step.state.incident
        if step.closed is not None:
            ended = ts(step.closed.ended_at) if step.closed.ended_at else now
            yield Write("UPDATE incidents SET resolved_at = ? WHERE id = ?", [ended, step.closed.id])
            yield from self._write_watch(step.closed)
        if step.opened is not None:
            o = step.opened
            yield Write(
                "INSERT INTO incidents (id, monitor, started_at, severity, title, components, announced) "
                "VALUES (?, ?, ?, ?, ?, '[]', ?) ON CONFLICT DO NOTHING",
                [o.id, step.state.monitor, ts(o.started_at), o.severity.value, o.title, int(o.announced)],
            )
        if incident is not None and (step.alerts or step.opened is not None):
            names = [n for n, _ in incident.affected]
            row = (yield Read("SELECT components FROM incidents WHERE id = ?", [incident.id])).fetchone()
            known = json.loads(row[0]) if row else []
            merged = known + [n for n in names if n not in known]
            yield Write(
                "UPDATE incidents SET severity = ?, title = ?, components = ?, announced = ? WHERE id = ?",
                [incident.severity.value, incident.title, json.dumps(merged), int(incident.announced),
                 incident.id],
            )
            yield Many(
                "INSERT INTO incident_components (incident_id, monitor, component, started_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(incident.id, step.state.monitor, n, ts(incident.started_at)) for n in names],
            )
            yield from self._write_watch(incident)

    @staticmethod
    def _write_watch(incident: IncidentState) -> Ops[None]:
        """A probe's incident: the page it watches, what that said, when it admitted it and the lead."""
        watch = incident.watch
        if watch is None:
            return
        yield Write(
            "UPDATE incidents SET watched = ?, page_said = ?, acknowledged_at = ?, lead_s = ? WHERE id = ?",
            [watch.provider, watch.said.value, ts(watch.acknowledged_at) if watch.acknowledged_at else None,
             watch.lead.total_seconds() if watch.lead is not None else None, incident.id],
        )

    @staticmethod
    def _write_timeline(alerts: Iterable[Alert]) -> Many:
        """One timeline row per alert: its kind and its typed changes (read back by `timeline`)."""
        return Many(
            "INSERT INTO timeline (incident_id, ts, kind, text, changes) VALUES (?, ?, ?, ?, ?)",
            [(a.incident_id, ts(a.at), a.kind.value, "", json.dumps(encode(a.changes))) for a in alerts],
        )

    @staticmethod
    def _write_outbox(deliveries: Sequence[Delivery], now: float) -> Many:
        """Pending outbox rows, due now; the sender delivers them in id order."""
        return Many(
            "INSERT INTO outbox (incident_id, platform, channel, op, alert, mention, next_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(d.alert.incident_id, d.platform, d.channel, d.op.value, json.dumps(encode(d.alert)), d.mention,
              now, now) for d in deliveries],
        )

    # ------------------------------------------------------------ timeline

    def timeline(self, incident_id: str, limit: int = 20) -> tuple[TimelineEntry, ...]:
        """The incident's latest `limit` alerts, oldest first (what `/status <monitor>` shows under Timeline)."""
        rows = self.sql.execute(
            "SELECT ts, kind, text, changes FROM timeline WHERE incident_id = ? ORDER BY ts DESC, id DESC LIMIT ?",
            [incident_id, limit],
        ).fetchall()
        return tuple(
            TimelineEntry(at=dt(at) or datetime.min, kind=AlertKind(kind), changes=_timeline_changes(text, changes))
            for at, kind, text, changes in reversed(rows)
        )

    # ------------------------------------------------------------ outbox

    # The outbox as the Sender reads and settles it, awaited: on a cluster's leader (PostgreSQL) the event loop
    # runs the checks while these travel; on SQLite they run inline, as before. `pending` and `parent_ref`
    # are also there blocking, for the CLI and tests.

    def pending(self, platform: str, *, limit: int = 500) -> list[OutboxRow]:
        """Pending rows of one platform in order; the sender takes the head row of each incident+channel."""
        return drive(self.sql, self._pending(platform, limit))

    async def apending(self, platform: str, *, limit: int = 500) -> list[OutboxRow]:
        return await self.sql.perform(self._pending(platform, limit), atomic=False)

    @staticmethod
    def _pending(platform: str, limit: int) -> Ops[list[OutboxRow]]:
        rows = (yield Read(
            "SELECT id, incident_id, platform, channel, op, alert, mention, attempts, next_at FROM outbox "
            "WHERE state = 'pending' AND platform = ? ORDER BY id LIMIT ?",
            [platform, limit],
        )).fetchall()
        return [
            OutboxRow(id=r[0], incident_id=r[1], platform=r[2], channel=r[3], op=Op(r[4]),
                      alert=queued_alert(r[5]), mention=r[6], attempts=r[7], next_at=r[8])
            for r in rows
        ]

    def parent_ref(self, incident_id: str, platform: str, channel: str) -> str | None:
        return drive(self.sql, self._parent_ref(incident_id, platform, channel))

    async def aparent_ref(self, incident_id: str, platform: str, channel: str) -> str | None:
        return await self.sql.perform(self._parent_ref(incident_id, platform, channel), atomic=False)

    @staticmethod
    def _parent_ref(incident_id: str, platform: str, channel: str) -> Ops[str | None]:
        row = (yield Read("SELECT ref FROM messages WHERE incident_id = ? AND platform = ? AND channel = ?",
                          [incident_id, platform, channel])).fetchone()
        return typing.cast(str | None, row[0]) if row else None

    async def mark_sent(self, row: OutboxRow, *, ref: str | None, parent: str | None, now: datetime) -> None:
        """Record delivery; `parent` (when given) becomes the message later edits and replies go to."""
        writes = [Write("UPDATE outbox SET state = 'sent', sent_at = ?, ref = ?, attempts = attempts + 1, "
                        "error = '' WHERE id = ?", [ts(now), ref, row.id])]
        if parent is not None:
            writes.append(Write(
                "INSERT INTO messages (incident_id, platform, channel, ref) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (incident_id, platform, channel) DO UPDATE SET ref = excluded.ref",
                [row.incident_id, row.platform, row.channel, parent]))
        await self.sql.perform(statements(*writes), fenced=True)

    async def mark_retry(self, row: OutboxRow, *, next_at: datetime, error: str) -> None:
        await self.sql.perform(statements(Write(
            "UPDATE outbox SET attempts = attempts + 1, next_at = ?, error = ? WHERE id = ?",
            [ts(next_at), error[:300], row.id])), fenced=True)

    async def mark_done(self, row: OutboxRow, state: RowState, error: str = "") -> None:
        await self.sql.perform(statements(Write(
            "UPDATE outbox SET state = ?, error = ? WHERE id = ?", [state.value, error[:300], row.id])), fenced=True)

    def outbox_rows(self) -> list[dict[str, object]]:
        """Every outbox row (diagnostics and tests)."""
        cursor = self.sql.execute("SELECT * FROM outbox ORDER BY id")
        names = [d[0] for d in typing.cast(typing.Any, cursor).description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # ------------------------------------------------------------ history reads (bot.commands.History)

    def monitor_names(self) -> list[str]:
        return [r[0] for r in self.sql.execute("SELECT name FROM monitors WHERE active = 1 ORDER BY name")]

    def component_views(self, monitor: str | None = None, *, status: Status | None = None) -> list[ComponentView]:
        """The active monitors' components (or `monitor`'s), or only those showing `status`: filtered here,
        since building a view is most of the cost (a page's maintenance list reads 1,000 components for two)."""
        # A component the source no longer describes (renamed, removed, unrecognised status) shows as
        # unknown with its detail, rather than as its last confirmed status.
        shown = "CASE WHEN c.observed = 'unknown' THEN 'unknown' ELSE c.status END"
        sql = f"SELECT c.monitor, c.name, {shown}, c.since, c.detail FROM components c " \
              "JOIN monitors m ON m.name = c.monitor WHERE m.active = 1"
        args: list[object] = []
        if monitor is not None:
            sql += " AND c.monitor = ?"
            args.append(monitor)
        if status is not None:
            sql += f" AND {shown} = ?"
            args.append(status.value)
        sql += " ORDER BY c.monitor, c.grp NULLS FIRST, c.name"
        return [
            ComponentView(monitor=r[0], name=r[1], status=Status(r[2]), since=dt(r[3]), detail=r[4])
            for r in self.sql.execute(sql, args)
        ]

    def find_component(self, name: str, monitor: str | None = None) -> tuple[str, str] | None:
        """(monitor, component) for a component name, case-insensitively (ASCII), using the name index."""
        sql = ("SELECT c.monitor, c.name FROM components c JOIN monitors m ON m.name = c.monitor "
               f"WHERE {self.sql.nocase('c.name')} = {self.sql.nocase('?')} AND m.active = 1")
        args: list[object] = [name]
        if monitor is not None:
            sql += f" AND {self.sql.nocase('c.monitor')} = {self.sql.nocase('?')}"
            args.append(monitor)
        row = self.sql.execute(sql + " ORDER BY c.monitor LIMIT 1", args).fetchone()
        return (row[0], row[1]) if row else None

    def unreadable_monitors(self) -> list[str]:
        return [r[0] for r in self.sql.execute(
            "SELECT name FROM monitors WHERE active = 1 AND unreadable = 1 ORDER BY name")]

    def provider_maintenances(self, now: datetime, monitor: str | None = None) -> list[tuple[str, ProviderMaintenance]]:
        """(monitor, maintenance) for every active monitor's (or `monitor`'s) announced maintenances, as its last
        readable poll saw them, that have not ended at `now` (one the provider still calls in progress has not,
        whatever its announced end), soonest first."""
        sql = "SELECT name, maintenances FROM monitors WHERE active = 1 AND maintenances IS NOT NULL"
        rows = self.sql.execute(sql + " AND name = ?", [monitor]) if monitor is not None else self.sql.execute(
            sql + " ORDER BY name")
        found = [
            (name, m) for name, text in rows
            for m in typing.cast(tuple[ProviderMaintenance, ...],
                                 decode(tuple[ProviderMaintenance, ...], json.loads(text)))
            if m.in_progress or m.ends_at is None or m.ends_at > now
        ]
        latest = datetime.max.replace(tzinfo=UTC)
        return sorted(found, key=lambda pair: pair[1].starts_at or latest)

    def _incident_views(self, sql: str, args: list[object]) -> list[IncidentView]:
        return [
            IncidentView(id=r[0], monitor=r[1], started_at=dt(r[2]) or datetime.min, resolved_at=dt(r[3]),
                         severity=Status(r[4]), title=r[5], components=tuple(json.loads(r[6])))
            for r in self.sql.execute(sql, args)
        ]

    _INCIDENT_COLUMNS = "i.id, i.monitor, i.started_at, i.resolved_at, i.severity, i.title, i.components"

    def open_incidents(self) -> list[IncidentView]:
        return self._incident_views(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents i JOIN monitors m ON m.name = i.monitor "
            "WHERE i.resolved_at IS NULL AND m.active = 1 ORDER BY i.started_at",
            [],
        )

    def recent_incidents(
        self, *, limit: int, monitor: str | None = None, component: str | None = None,
        since: datetime | None = None,
    ) -> list[IncidentView]:
        after = ts(since) if since else float("-inf")
        if component is not None and monitor is not None:
            return self._incident_views(
                f"SELECT {self._INCIDENT_COLUMNS} FROM incident_components ic JOIN incidents i ON i.id = ic.incident_id "
                "WHERE ic.monitor = ? AND ic.component = ? AND ic.started_at >= ? ORDER BY ic.started_at DESC LIMIT ?",
                [monitor, component, after, limit],
            )
        if monitor is not None:
            return self._incident_views(
                f"SELECT {self._INCIDENT_COLUMNS} FROM incidents i WHERE i.monitor = ? AND i.started_at >= ? "
                "ORDER BY i.started_at DESC LIMIT ?",
                [monitor, after, limit],
            )
        return self._incident_views(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents i WHERE i.started_at >= ? "
            "ORDER BY i.started_at DESC LIMIT ?",
            [after, limit],
        )

    def uptime(self, *, monitor: str, component: str | None, window: timedelta, now: datetime,
               excluded: Sequence[tuple[datetime, datetime]] = ()) -> Uptime:
        """Share of observed time that was fully operational (maintenance and unknown time excluded).
        `excluded`: maintenance windows (issue 12), left out of both sides of a monitor's uptime."""
        end = ts(now)
        start = end - window.total_seconds()
        resolved = self.sql.execute(
            "SELECT COUNT(*), AVG(resolved_at - started_at) FROM incidents WHERE monitor = ? "
            "AND resolved_at IS NOT NULL AND resolved_at >= ? AND resolved_at <= ?",
            [monitor, start, end],
        ).fetchone()
        opened = self.sql.execute(
            "SELECT COUNT(*) FROM incidents WHERE monitor = ? AND started_at >= ? AND started_at <= ?",
            [monitor, start, end],
        ).fetchone()[0]
        mttr = timedelta(seconds=resolved[1]) if resolved[0] else None
        if component is None:
            percent = self._monitor_uptime(monitor, start, end)
            if excluded:
                percent = self._uptime_outside(monitor, start, end, excluded)
        else:
            percent = self._component_uptime(monitor, component, start, end)
        return Uptime(window=window, percent=percent, incidents=opened, mttr=mttr)

    def leads(self, *, window: timedelta, now: datetime, monitor: str | None = None) -> tuple[LeadStats, ...]:
        """Early warning over the window, one LeadStats per watched provider: the lead of each probe incident
        its page admitted later, and how many recovered without the page ever admitting them. With `monitor`,
        only the incidents of that probe, or of the probes watching that provider monitor."""
        start = ts(now) - window.total_seconds()
        sql = ("SELECT watched, lead_s, page_said, acknowledged_at, resolved_at FROM incidents "
               "WHERE watched IS NOT NULL AND started_at >= ? AND started_at <= ?")
        args: list[object] = [start, ts(now)]
        if monitor is not None:
            sql += " AND (monitor = ? OR watched = ?)"
            args += [monitor, monitor]
        found: dict[str, tuple[list[timedelta], list[int]]] = {}
        for watched, lead, said, acknowledged, resolved in self.sql.execute(sql + " ORDER BY started_at", args):
            leads, never = found.setdefault(watched, ([], [0]))
            if lead is not None:
                leads.append(timedelta(seconds=lead))
            elif said == PageSaid.CLEAR.value and acknowledged is None and resolved is not None:
                never[0] += 1
        return tuple(LeadStats(provider=name, window=window, leads=tuple(leads), never=never[0])
                     for name, (leads, never) in sorted(found.items()) if leads or never[0])

    def probe_stats(self, *, monitor: str, window: timedelta, now: datetime) -> ProbeStats | None:
        """Probe counts and latency from the hourly rollups (None for monitors without probes)."""
        end = ts(now)
        first = int((end - window.total_seconds()) // 3600)  # every hour bucket overlapping the window
        row = self.sql.execute(
            "SELECT SUM(p.probes), SUM(p.ok), SUM(p.latency_sum), MAX(p.latency_max) FROM probe_hours p "
            "JOIN monitors m ON m.mid = p.mid WHERE m.name = ? AND p.hour >= ? AND p.hour <= ?",
            [monitor, first, int(end // 3600)],
        ).fetchone()
        if not row or not row[0]:
            return None
        return ProbeStats(window=window, probes=row[0], ok=row[1], avg_ms=row[2] / row[0], max_ms=row[3])

    def _component_uptime(self, monitor: str, component: str, start: float, end: float) -> float | None:
        before = self.sql.execute(
            "SELECT ts, status FROM status_log WHERE monitor = ? AND component = ? AND ts < ? "
            "ORDER BY ts DESC LIMIT 1",
            [monitor, component, start],
        ).fetchone()
        rows = self.sql.execute(
            "SELECT ts, status FROM status_log WHERE monitor = ? AND component = ? AND ts >= ? AND ts <= ? "
            "ORDER BY ts",
            [monitor, component, start, end],
        ).fetchall()
        points = ([(start, before[1])] if before else []) + [(t, s) for t, s in rows]
        up = known = 0.0
        for (t, status), nxt in zip(points, [p[0] for p in points[1:]] + [end], strict=True):
            span = max(0.0, nxt - t)
            if status in (Status.UNKNOWN.value, Status.MAINTENANCE.value):
                continue
            known += span
            if status == Status.OPERATIONAL.value:
                up += span
        return None if known <= 0 else 100.0 * up / known

    def _uptime_outside(self, monitor: str, start: float, end: float,
                        excluded: Sequence[tuple[datetime, datetime]]) -> float | None:
        """A monitor's uptime with the maintenance windows `excluded` left out of the watched and the down time."""
        row = self.sql.execute("SELECT first_seen FROM monitors WHERE name = ?", [monitor]).fetchone()
        if not row or row[0] is None or row[0] >= end:
            return None
        begin = max(start, row[0])
        gaps = merge_spans([(max(ts(a), begin), min(ts(b), end)) for a, b in excluded])
        incidents = merge_spans([(max(s, begin), min(e if e is not None else end, end)) for s, e in self.sql.execute(
            "SELECT started_at, resolved_at FROM incidents WHERE monitor = ? AND started_at < ? "
            "AND (resolved_at IS NULL OR resolved_at > ?)", [monitor, end, begin])])
        total = (end - begin) - sum(b - a for a, b in gaps)
        down = sum(b - a for a, b in incidents) - sum(max(0.0, min(b, d) - max(a, c))
                                                     for a, b in incidents for c, d in gaps)
        return None if total <= 0 else max(0.0, 100.0 * (1 - down / total))

    def _monitor_uptime(self, monitor: str, start: float, end: float) -> float | None:
        row = self.sql.execute("SELECT first_seen FROM monitors WHERE name = ?", [monitor]).fetchone()
        if not row or row[0] is None or row[0] >= end:
            return None
        begin = max(start, row[0])
        down = self.sql.execute(
            f"SELECT COALESCE(SUM({self.sql.least}(COALESCE(resolved_at, ?), ?) - {self.sql.greatest}(started_at, ?)), 0) "
            "FROM incidents "
            "WHERE monitor = ? AND started_at < ? AND (resolved_at IS NULL OR resolved_at > ?)",
            [end, end, begin, monitor, end, begin],
        ).fetchone()[0]
        total = end - begin
        return None if total <= 0 else max(0.0, 100.0 * (1 - down / total))

    # ------------------------------------------------------------ web reads (bot/web)

    def changes(self) -> int:
        """Rows written through this connection so far (on PostgreSQL, by any process): a cheap "has anything
        changed" for the page cache."""
        return self._shared()[0] if self.sql.shared else self.sql.changes()

    def version(self, monitor: str) -> int:
        """Moves whenever the monitor's state, components or incident are written (not on a poll that changed
        nothing): what the web pages key their per-monitor parts on. On PostgreSQL, by any process."""
        if self.sql.shared:
            return self._shared()[1].get(monitor, 0)
        return max(self._written.get(monitor, 0), self._synced)

    def versions(self) -> tuple[int, int]:
        """(the latest `version` of any monitor, the one when the monitors were last synced): while neither
        moves, no monitor's version did, nor the list of active monitors."""
        if self.sql.shared:
            latest = self._shared()[0]
            return latest, latest  # a sync elsewhere moves every version: the list is read again
        return self._writes, self._synced

    def _shared(self) -> tuple[int, dict[str, int]]:
        """Every monitor's version as the database has it, read at most every SHARED_FOR seconds: a
        follower's pages follow the leader's writes within that."""
        now = time.monotonic()
        if self._others is None or now - self._others[0] >= SHARED_FOR:
            versions = {name: int(v) for name, v in self.sql.execute("SELECT name, version FROM monitors")}
            self._others = (now, max(versions.values(), default=0), versions)
        return self._others[1], self._others[2]

    def daily_status(self, *, days: int, now: datetime, monitor: str | None = None,
                     component: str | None = None,
                     among: Collection[str] | None = None) -> dict[str, tuple[DayRecord, ...]]:
        """Per active monitor (only those `among`, if given; or, with `component`, that one component of
        `monitor`), its last `days` UTC days, oldest first: time in incidents and the worst severity each day,
        from the incidents table (the engine's decisions, like `uptime`). Days before the monitor was first
        seen have no status."""
        end = ts(now)
        first_day = (int(end // 86400) - days + 1) * 86400
        where, args = "active = 1", []
        if monitor is not None:
            where, args = "name = ?", [monitor]
        seen = {name: first for name, first in self.sql.execute(
            f"SELECT name, first_seen FROM monitors WHERE {where}", args) if among is None or name in among}
        # Incidents overlapping the window: the ones started in it (or up to `days` before, by the started
        # index) and the open ones (by the open index); a single incident longer than that is cut short.
        lookback = first_day - days * 86400
        if component is not None and monitor is not None:
            rows = self.sql.execute(
                "SELECT ic.component, i.started_at, i.resolved_at, i.severity FROM incident_components ic "
                "JOIN incidents i ON i.id = ic.incident_id WHERE ic.monitor = ? AND ic.component = ? "
                "AND ic.started_at >= ? AND ic.started_at < ?",
                [monitor, component, lookback, end]).fetchall()
            seen = {component: seen.get(monitor)}
        else:
            rows = self.sql.execute(
                "SELECT monitor, started_at, resolved_at, severity FROM incidents WHERE started_at >= ? "
                "AND started_at < ? AND resolved_at IS NOT NULL UNION ALL "
                "SELECT monitor, started_at, resolved_at, severity FROM incidents WHERE resolved_at IS NULL",
                [lookback, end]).fetchall()
        down: dict[str, dict[int, list[float | Status]]] = {}
        for name, started, resolved, severity in rows:
            if name not in seen:
                continue
            s, e = max(started, first_day), min(resolved if resolved is not None else end, end)
            day = int((s - first_day) // 86400)
            while s < e and day < days:
                cut = min(e, first_day + (day + 1) * 86400)
                cell = down.setdefault(name, {}).setdefault(day, [0.0, Status.OPERATIONAL])
                cell[0] = float(cell[0]) + (cut - s)
                status = Status(severity)
                if status.rank > typing.cast(Status, cell[1]).rank:
                    cell[1] = status
                s, day = cut, day + 1
        # Days without incidents are the same value for every monitor watched all day: built once and shared
        # (the status page reuses the markup of identical strips), today's too, and days before it was seen.
        whole = [DayRecord(day=dt(first_day + d * 86400) or datetime.min, status=Status.OPERATIONAL,
                           percent=100.0, watched=timedelta(days=1)) for d in range(days)]
        today0 = first_day + (days - 1) * 86400
        whole[-1] = replace(whole[-1], watched=timedelta(seconds=max(0.0, end - today0)))
        unseen = [DayRecord(day=r.day, status=None) for r in whole]
        out: dict[str, tuple[DayRecord, ...]] = {}
        for name, first in seen.items():
            first = first if first is not None else end
            marks = down.get(name, {})
            if first <= first_day and not marks:
                out[name] = tuple(whole)
                continue
            before = min(days, max(0, math.ceil((first - first_day) / 86400)))  # days wholly before `first`
            records = unseen[:before] + whole[before:]
            for d in {before - 1, *marks} - {-1}:
                if d >= days:
                    continue
                day0 = first_day + d * 86400
                span = min(day0 + 86400, end) - max(day0, first)
                if span <= 0:
                    records[d] = unseen[d]
                    continue
                lost, worst_status = marks.get(d, (0.0, Status.OPERATIONAL))
                lost = min(float(lost), span)
                records[d] = DayRecord(day=whole[d].day, status=typing.cast(Status, worst_status),
                                       percent=100.0 * (1 - lost / span), down=timedelta(seconds=lost),
                                       watched=timedelta(seconds=span))
            out[name] = tuple(records)
        return out

    def probe_hours(self, *, monitor: str, hours: int, now: datetime) -> list[ProbeHour]:
        """An HTTP monitor's last `hours` hourly rollups, oldest first (its latency chart)."""
        last = int(ts(now) // 3600)
        rows = self.sql.execute(
            "SELECT p.hour, p.probes, p.ok, p.latency_sum, p.latency_max FROM probe_hours p "
            "JOIN monitors m ON m.mid = p.mid WHERE m.name = ? AND p.hour > ? AND p.hour <= ? ORDER BY p.hour",
            [monitor, last - hours, last]).fetchall()
        return [ProbeHour(hour=dt(h * 3600) or datetime.min, probes=n, ok=ok, avg_ms=total / n if n else 0.0,
                          max_ms=float(top)) for h, n, ok, total, top in rows]

    def outbox_health(self) -> list[OutboxHealth]:
        """Per platform with rows: pending (the partial index), retrying and failed rows."""
        out: dict[str, OutboxHealth] = {}
        for platform, pending, retrying, oldest in self.sql.execute(
                "SELECT platform, COUNT(*), SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), MIN(next_at) FROM outbox "
                "WHERE state = 'pending' "
                "GROUP BY platform"):
            out[platform] = OutboxHealth(platform, pending=pending, retrying=retrying or 0, oldest_due=oldest)
        # Failed rows are few and kept only until retention deletes delivered rows: a short scan.
        for platform, failed in self.sql.execute(
                "SELECT platform, COUNT(*) FROM outbox WHERE state = 'failed' GROUP BY platform"):
            out[platform] = replace(out.get(platform, OutboxHealth(platform)), failed=failed)
        return sorted(out.values(), key=lambda h: h.platform)

    # ------------------------------------------------------------ retention

    def prune(self, now: datetime, *, retention_days: int, rollup_days: int, chunk: int = 1000) -> int:
        """Delete everything past retention at once (CLI, tests); returns the rows deleted."""
        return sum(self.prune_steps(now, retention_days=retention_days, rollup_days=rollup_days, chunk=chunk))

    def prune_steps(self, now: datetime, *, retention_days: int, rollup_days: int,
                    chunk: int = 1000) -> Iterator[int]:
        """Delete raw probes, rollups and delivered outbox rows past retention, one short transaction per
        step (yielding the rows it deleted), so the caller can let probes commit between steps."""
        cutoff = ts(now) - retention_days * 86400
        statements = [
            # probes are appended in time order: the oldest ids are the ones past retention
            ("DELETE FROM probes WHERE id IN (SELECT id FROM probes WHERE ts < ? ORDER BY id LIMIT ?)", int(cutoff)),
            ("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state != 'pending' AND created_at < ? "
             "LIMIT ?)", cutoff),
        ]
        for sql, limit in statements:
            while True:
                with self.sql.atomic():
                    n = max(0, self.sql.execute(sql, [limit, chunk]).rowcount)
                yield n
                if n < chunk:
                    break
        last_hour = int((ts(now) - rollup_days * 86400) // 3600)
        mids = [r[0] for r in self.sql.execute("SELECT mid FROM monitors ORDER BY mid")]
        for start in range(0, len(mids), 100):  # rollups are clustered by monitor: delete monitor by monitor
            with self.sql.atomic():
                n = sum(max(0, self.sql.execute("DELETE FROM probe_hours WHERE mid = ? AND hour < ?",
                                               [mid, last_hour]).rowcount) for mid in mids[start:start + 100])
            yield n

    # ------------------------------------------------------------ operations (issue 12): actions, mutes, acks

    def transaction(self) -> typing.ContextManager[object]:
        """One transaction around several of the writes below (bot/operate.py: an action and its rows)."""
        return typing.cast(typing.ContextManager[object], self.sql.atomic())

    def record_action(self, action: Action, *, monitor: str, incident_id: str, now: datetime) -> None:
        """Who did what, when, to which monitor and incident: the history of every action, kept."""
        self.sql.execute(
            "INSERT INTO actions (ts, kind, monitor, incident_id, actor_id, actor, platform, until, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ts(now), action.kind.value, monitor, incident_id, action.actor.id, action.actor.name,
             action.actor.platform, ts(action.until) if action.until else None, action.reason],
        )

    def actions(self, monitor: str | None = None, *, limit: int = 50) -> list[tuple[datetime, str, str, str, str]]:
        """The latest actions, newest first: (at, kind, monitor, actor, reason) — diagnostics and tests."""
        where, args = ("WHERE monitor = ?", [monitor]) if monitor is not None else ("", [])
        return [(dt(r[0]) or datetime.min, r[1], r[2], r[3], r[4]) for r in self.sql.execute(
            f"SELECT ts, kind, monitor, actor, reason FROM actions {where} ORDER BY id DESC LIMIT ?", [*args, limit])]

    def set_mute(self, monitor: str, muted: Muted, *, incident_id: str = "") -> None:
        """Mute a monitor (replacing its mute, if any); `incident_id`: the incident a mute until resolved
        waits for."""
        self.sql.execute(
            "INSERT INTO mutes (monitor, actor, at, until, incident_id, reason) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (monitor) DO UPDATE SET actor = excluded.actor, at = excluded.at, until = excluded.until, "
            "incident_id = excluded.incident_id, reason = excluded.reason",
            [monitor, muted.by, ts(muted.at), ts(muted.until) if muted.until else None, incident_id, muted.reason],
        )

    def mute(self, monitor: str) -> MuteView | None:
        """The monitor's mute as stored (it may have run out: bot/quiet.py decides, with `now`)."""
        row = self.sql.execute("SELECT monitor, actor, at, until, incident_id, reason FROM mutes WHERE monitor = ?",
                              [monitor]).fetchone()
        return _mute_view(row) if row else None

    def mutes(self) -> list[MuteView]:
        """Every stored mute, by monitor name."""
        return [_mute_view(r) for r in self.sql.execute(
            "SELECT monitor, actor, at, until, incident_id, reason FROM mutes ORDER BY monitor")]

    def end_mute(self, monitor: str) -> MuteView | None:
        """Remove the monitor's mute; what it was (None: it had none)."""
        row = self.sql.execute("DELETE FROM mutes WHERE monitor = ? RETURNING monitor, actor, at, until, incident_id, "
                              "reason", [monitor]).fetchone()
        return _mute_view(row) if row else None

    def last_mute(self, monitor: str) -> Muted | None:
        """The latest mute action on the monitor, even one that has ended (what a stale Unmute is told)."""
        row = self.sql.execute("SELECT actor, ts, until, reason FROM actions WHERE monitor = ? AND kind = 'mute' "
                              "ORDER BY id DESC LIMIT 1", [monitor]).fetchone()
        return Muted(by=row[0], at=dt(row[1]) or datetime.min, until=dt(row[2]), reason=row[3]) if row else None

    def acknowledge(self, incident_id: str, monitor: str, ack: Acknowledged) -> None:
        self.sql.execute("INSERT INTO acks (incident_id, monitor, actor, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [incident_id, monitor, ack.by, ts(ack.at)])

    def acknowledgements(self, incident_ids: Collection[str]) -> dict[str, Acknowledged]:
        """The acknowledgement of each of these incidents that has one."""
        ids = list(incident_ids)
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        return {r[0]: Acknowledged(by=r[1], at=dt(r[2]) or datetime.min) for r in self.sql.execute(
            f"SELECT incident_id, actor, at FROM acks WHERE incident_id IN ({marks})", ids)}

    def incident(self, incident_id: str) -> IncidentView | None:
        """One incident by its id."""
        found = self._incident_views(f"SELECT {self._INCIDENT_COLUMNS} FROM incidents i WHERE i.id = ?", [incident_id])
        return found[0] if found else None

    def find_incident(self, key: str, *, recent: int = 2000) -> IncidentView | None:
        """An incident by its id, or by the 16-hex sha1 prefix of its id (what a Discord button carries when
        the id is too long for a custom_id); only the `recent` latest incidents are searched by hash."""
        found = self.incident(key)
        if found is not None or not (len(key) == 16 and all(c in "0123456789abcdef" for c in key)):
            return found
        for (incident_id,) in self.sql.execute("SELECT id FROM incidents ORDER BY started_at DESC LIMIT ?", [recent]):
            if hashlib.sha1(incident_id.encode()).hexdigest()[:16] == key:
                return self.incident(incident_id)
        return None

    def posted(self, incident_id: str) -> bool:
        """True when the incident's message exists or is on its way (a parent recorded, or a post queued)."""
        return self.sql.execute(
            "SELECT 1 FROM messages WHERE incident_id = ? UNION ALL SELECT 1 FROM outbox WHERE incident_id = ? "
            "AND op = 'post' AND state IN ('pending', 'sent') LIMIT 1", [incident_id, incident_id]).fetchone() is not None

    def load_state(self, monitor: str) -> MonitorState | None:
        """One monitor's engine state as last written (the CLI acts on it without a running watcher)."""
        row = self.sql.execute("SELECT state FROM monitors WHERE name = ? AND state IS NOT NULL", [monitor]).fetchone()
        return load(MonitorState, json.loads(row[0])) if row else None

    def queue(self, deliveries: Sequence[Delivery], *, now: datetime, timeline: Sequence[Alert] = ()) -> None:
        """Outbox rows (and timeline rows) written outside a check: an action's edit and thread line."""
        run(self.sql, self._queue(deliveries, ts(now), timeline))

    def _queue(self, deliveries: Sequence[Delivery], now: float, timeline: Sequence[Alert]) -> Ops[None]:
        if timeline:
            yield self._write_timeline(timeline)
        if deliveries:
            yield self._write_outbox(deliveries, now)
        for monitor in {a.monitor for a in timeline}:  # the pages show the timeline: theirs moved
            yield from self._moved(monitor)

    @staticmethod
    def _write_held(held: Sequence[Held], now: float) -> Many:
        return Many(
            "INSERT INTO held (monitor, ts, why, alert) VALUES (?, ?, ?, ?)",
            [(h.alert.monitor, now, h.why, json.dumps(encode(h.alert))) for h in held],
        )

    def hold(self, held: Sequence[Held], *, now: datetime) -> None:
        """Keep alerts back outside a check (an action on an incident that was never posted)."""
        run(self.sql, statements(self._write_held(held, ts(now))))

    def held_monitors(self) -> set[str]:
        """The monitors with alerts held back."""
        return {r[0] for r in self.sql.execute("SELECT DISTINCT monitor FROM held")}

    def held(self, monitor: str) -> list[Held]:
        """A monitor's held alerts, oldest first (tests and diagnostics; `release` takes them)."""
        return [Held(alert=queued_alert(a), why=w) for w, a in self.sql.execute(
            "SELECT why, alert FROM held WHERE monitor = ? ORDER BY id", [monitor])]

    def release(self, monitor: str, plan: typing.Callable[[list[Held]], Sequence[Delivery]], *, now: datetime) -> int:
        """Take a monitor's held alerts and queue what `plan` makes of them, in one transaction: two processes
        releasing at once (the bot and `downwatch unmute`) cannot both queue them. Returns rows queued."""
        return run(self.sql, self._release(monitor, plan, ts(now)))

    def _release(self, monitor: str, plan: typing.Callable[[list[Held]], Sequence[Delivery]],
                 now: float) -> Ops[int]:
        rows = (yield Read("DELETE FROM held WHERE monitor = ? RETURNING id, why, alert", [monitor])).fetchall()
        if not rows:
            return 0
        deliveries = plan([Held(alert=queued_alert(a), why=w) for _, w, a in sorted(rows)])
        if deliveries:
            yield self._write_outbox(deliveries, now)
        return len(deliveries)


    # ------------------------------------------------------------ digest (issue 12)

    def first_seen(self) -> dict[str, datetime]:
        """When each active monitor was first watched (the digest counts uptime from then)."""
        return {name: dt(first) or datetime.min for name, first in self.sql.execute(
            "SELECT name, first_seen FROM monitors WHERE active = 1 AND first_seen IS NOT NULL")}

    def incidents_between(self, *, start: datetime, end: datetime) -> list[IncidentView]:
        """Every incident of an active monitor that overlapped [start, end): started before `end` and not
        resolved by `start` (those still open included), oldest first."""
        return self._incident_views(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents i JOIN monitors m ON m.name = i.monitor "
            "WHERE m.active = 1 AND i.started_at < ? AND (i.resolved_at IS NULL OR i.resolved_at > ?) "
            "ORDER BY i.started_at",
            [ts(end), ts(start)],
        )

    def queue_once(self, key: str, deliveries: Sequence[Delivery], *, now: datetime) -> bool:
        """Queue outbox rows that belong to no incident (the digest), keyed by `key`, unless rows with that
        key were queued before: two start-ups or two cron firings cannot queue the same digest twice. Every
        delivery must carry `key` as its alert's incident_id. True when queued now."""
        if any(d.alert.incident_id != key for d in deliveries):
            raise ValueError("every delivery must carry the key as its incident_id")
        return run(self.sql, self._queue_once(key, deliveries, ts(now)))

    def _queue_once(self, key: str, deliveries: Sequence[Delivery], now: float) -> Ops[bool]:
        if (yield Read("SELECT 1 FROM outbox WHERE incident_id = ? LIMIT 1", [key])).fetchone():
            return False
        yield self._write_outbox(deliveries, now)
        return True

    def queued(self, key: str) -> bool:
        """Whether rows keyed `key` were ever queued (and not yet deleted by retention)."""
        return self.sql.execute("SELECT 1 FROM outbox WHERE incident_id = ? LIMIT 1", [key]).fetchone() is not None

    # ------------------------------------------------------------ regions (issue 14)

    def write_reading(self, monitor: str, reading: RegionReading) -> None:
        """One region's latest result for a monitor (bot/regions.py). Not fenced: every region writes its own."""
        drive(self.sql, self._write_reading(monitor, reading))

    async def awrite_reading(self, monitor: str, reading: RegionReading) -> None:
        await self.sql.perform(self._write_reading(monitor, reading), atomic=False)

    @staticmethod
    def _write_reading(monitor: str, reading: RegionReading) -> Ops[None]:
        yield Write(
            "INSERT INTO region_readings (monitor, region, at, status, failures, successes, latency_ms, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (monitor, region) DO UPDATE SET at = excluded.at, "
            "status = excluded.status, failures = excluded.failures, successes = excluded.successes, "
            "latency_ms = excluded.latency_ms, detail = excluded.detail",
            [monitor, reading.region, ts(reading.at), reading.status.value, reading.failures, reading.successes,
             reading.latency_ms, reading.detail[:300]])

    def readings(self, monitor: str) -> dict[str, RegionReading]:
        """Every region's latest result for a monitor, by region."""
        return drive(self.sql, self._readings(monitor))

    async def areadings(self, monitor: str) -> dict[str, RegionReading]:
        return await self.sql.perform(self._readings(monitor), atomic=False)

    @staticmethod
    def _readings(monitor: str) -> Ops[dict[str, RegionReading]]:
        rows = yield Read("SELECT region, at, status, failures, successes, latency_ms, detail FROM region_readings "
                       "WHERE monitor = ?", [monitor])
        return {r[0]: RegionReading(region=r[0], at=dt(r[1]) or datetime.min, status=Status(r[2]), failures=r[3],
                                    successes=r[4], latency_ms=r[5], detail=r[6]) for r in rows}


def _mute_view(row: Sequence[typing.Any]) -> MuteView:
    monitor, actor, at, until, incident_id, reason = row
    return MuteView(monitor=monitor, muted=Muted(by=actor, at=dt(at) or datetime.min, until=dt(until), reason=reason),
                    incident_id=incident_id)
