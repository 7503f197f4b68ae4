"""Several downwatch processes as one (issue 14): the leader's lease, the members, claims, the cluster view.

One row of `lease` says who leads: its holder, an epoch that grows with every new term, and an expiry on
PostgreSQL's clock (never ours: the processes' clocks may disagree, the database's is the one they share).
Every process beats every `renew` seconds: one statement renews the lease if it is ours, takes it if it has
expired, and says who holds it otherwise; the same statement records the new term in `lease_log` and our
`members` row. The leader's writes are fenced on the epoch in the store (bot/store/postgres.py), its sends
re-check it here (`Lease.still_leader`), so a leader that froze and woke up after it was replaced neither
writes nor sends. `transition` (pure) turns each beat into a role change; `Membership` drives the beats.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import inspect
import json
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import psycopg

from bot.clock import Clock
from bot.store.postgres import CONNECT as STORE_CONNECT
from bot.store.postgres import Watchdog
from bot.store.sql import Unavailable
from bot.wording import format_duration

LEASE = "leader"  # the lease row's name: one leader per database
ALIVE_BEATS = 3  # a member seen within 3 × the TTL is alive: a few missed beats are not a death
CLAIMS_KEPT = timedelta(days=1)  # a Discord interaction is answered within seconds; a day is plenty
MEMBERS_KEPT = timedelta(days=1)  # a process gone for a day leaves `downwatch cluster`
ANSWER_WITHIN = 5.0  # seconds: a round trip that takes longer is cut (its socket shut down): _Link's Watchdog

# libpq's own limits (postgresql.org/docs/15/libpq-connect.html): a dead path fails a connect within 3 s and a
# sent statement within 3 s of unacknowledged data; the server gives up on a lock after 3 s (a takeover waits
# only for the fenced writes under way) and on any statement after 4 s. None of these helps when something
# on the path acknowledges and then says nothing (a proxy, a black-holed NAT): that is what the Watchdog is for.
CONNECT: dict[str, Any] = {
    **STORE_CONNECT,
    "options": "-c statement_timeout=4000 -c lock_timeout=3000",
    "application_name": "downwatch-lease",
}

T = TypeVar("T")


# ---------------------------------------------------------------- values


class ClusterConflict(Exception):
    """Another downwatch cluster (another set of monitors) is alive on this database."""


@dataclass(frozen=True, kw_only=True)
class LeaseView:
    """The lease as PostgreSQL saw it at one beat; `leader` is True when it is ours and has not expired."""

    holder: str
    epoch: int
    leader: bool
    acquired_at: datetime
    expires_at: datetime
    lease_age: timedelta  # since the holder's term began, on PostgreSQL's clock
    expires_in: timedelta  # negative once expired


@dataclass(frozen=True, kw_only=True)
class Member:
    """One downwatch process as `downwatch cluster` shows it."""

    holder: str
    cluster: str
    host: str
    pid: int
    region: str
    started_at: datetime
    name: str = ""  # the cluster's name in its config ([cluster] name), "" when it has none
    seen_age: timedelta
    alive: bool
    leader: bool


@dataclass(frozen=True, kw_only=True)
class Backlog:
    """A platform's undelivered outbox rows: how many, and when the longest-waiting one was due."""

    platform: str
    pending: int
    oldest_due: datetime | None


@dataclass(frozen=True, kw_only=True)
class ClusterView:
    """The cluster at one moment of PostgreSQL's clock (`at`): processes, the lease, the outbox backlog."""

    at: datetime
    holder: str | None  # the lease's holder, even when it has expired (None: nobody ever took it)
    epoch: int | None
    cluster: str | None  # the lease holder's configuration (`fingerprint`)
    live: bool  # the lease has not expired: `holder` leads
    lease_age: timedelta | None
    expires_in: timedelta | None
    members: tuple[Member, ...]
    backlog: tuple[Backlog, ...]

    @property
    def leader(self) -> str | None:
        """The holder that leads now: None when the lease has expired or was never taken."""
        return self.holder if self.live else None

    def as_json(self) -> dict[str, Any]:
        """`downwatch cluster --json`: the same facts, times as ISO 8601 and ages in seconds."""
        def seconds(delta: timedelta | None) -> float | None:
            return None if delta is None else round(delta.total_seconds(), 3)

        return {
            "at": self.at.isoformat(), "leader": self.leader, "holder": self.holder, "epoch": self.epoch,
            "cluster": self.cluster, "live": self.live, "lease_age_s": seconds(self.lease_age),
            "expires_in_s": seconds(self.expires_in),
            "members": [{"holder": m.holder, "name": m.name, "cluster": m.cluster, "host": m.host, "pid": m.pid,
                         "region": m.region, "started_at": m.started_at.isoformat(),
                         "seen_age_s": seconds(m.seen_age), "alive": m.alive, "leader": m.leader}
                        for m in self.members],
            "backlog": [{"platform": b.platform, "pending": b.pending,
                         "oldest_due": None if b.oldest_due is None else b.oldest_due.isoformat()}
                        for b in self.backlog],
        }


class Role(enum.Enum):
    LEADER = "leader"
    FOLLOWER = "follower"
    UNKNOWN = "unknown"  # not yet beaten, or the database has not answered for longer than the TTL


class RoleChangeKind(enum.Enum):
    BECAME_LEADER = "became leader"  # a new term (also our own, after our lease expired): reload state
    LOST_LEADERSHIP = "lost leadership"  # stop the engine and the sender: another process may lead


@dataclass(frozen=True)
class RoleChange:
    kind: RoleChangeKind
    epoch: int  # the term begun, or the term lost


def fingerprint(monitors: Iterable[tuple[str, str]]) -> str:
    """The cluster's identity: a short stable hash of the configured monitors' sorted (name, kind) pairs."""
    pairs = sorted({(name, kind) for name, kind in monitors})
    return hashlib.sha256(json.dumps(pairs, separators=(",", ":")).encode()).hexdigest()[:12]


def new_holder(host: str, pid: int) -> str:
    """A lease holder name unique to this process: host and pid say where, the suffix tells apart two
    processes that share both (pid 1 in a container restarted on the same host)."""
    return f"{host}:{pid}:{secrets.token_hex(3)}"


def transition(was: Role, epoch: int | None, view: LeaseView | None, holder: str) -> tuple[Role, RoleChange | None]:
    """The role after one beat. `epoch` is the term we lead (None when we lead none): the previous epoch is
    what shows a new term of our own (our lease expired and we took it again, or the answer of the beat that
    took it was lost). A failed beat (None) changes nothing here: stepping down after a TTL without a beat is
    a matter of time, decided by `Membership`."""
    if view is None:
        return was, None
    if view.leader and view.holder == holder:
        if was is Role.LEADER and epoch == view.epoch:
            return Role.LEADER, None
        return Role.LEADER, RoleChange(RoleChangeKind.BECAME_LEADER, view.epoch)
    if was is Role.LEADER:
        return Role.FOLLOWER, RoleChange(RoleChangeKind.LOST_LEADERSHIP, view.epoch if epoch is None else epoch)
    return Role.FOLLOWER, None


# ---------------------------------------------------------------- the connection


def _why(exc: BaseException) -> str:
    """A connection failure in one line (libpq's messages carry host and port, never the password)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Link:
    """One dedicated autocommit connection, opened on first use and again after a failure; every round trip
    under a Watchdog (the store's: a path that acknowledges and never answers is cut after `timeout`). A
    lock makes it safe to share between the beat's thread and a sender's."""

    def __init__(self, conninfo: str, *, timeout: float) -> None:
        self._conninfo = conninfo
        self._timeout = timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._watchdog = Watchdog(timeout)

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` on the connection; psycopg.OperationalError when the database could not be reached."""
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._conninfo, **CONNECT)
            with self._watchdog.watching(self._conn) as watch:
                try:
                    return work(self._conn)
                except psycopg.OperationalError as exc:
                    self._drop()
                    if watch.cut:
                        raise psycopg.OperationalError(f"no answer within {self._timeout:g}s") from exc
                    raise

    def _drop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except psycopg.Error:
                pass

    def close(self) -> None:
        with self._lock:
            self._drop()
        self._watchdog.close()


# ---------------------------------------------------------------- the lease

# One statement, one round trip: acquire or renew (the SQL of the session plan), the new term's log row,
# our members row. A term is new when its acquired_at is this transaction's now(). The first epoch follows
# the log's last one, so epochs never repeat even if someone deletes the lease row.
_BEAT = """
WITH won AS (
    INSERT INTO lease (name, holder, epoch, cluster, acquired_at, renewed_at, expires_at)
    VALUES (%(name)s, %(holder)s, (SELECT coalesce(max(epoch), 0) + 1 FROM lease_log), %(cluster)s,
            now(), now(), now() + make_interval(secs => %(ttl)s))
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
        epoch = CASE WHEN lease.holder = excluded.holder AND lease.expires_at > now()
                     THEN lease.epoch ELSE lease.epoch + 1 END,
        acquired_at = CASE WHEN lease.holder = excluded.holder AND lease.expires_at > now()
                           THEN lease.acquired_at ELSE now() END,
        renewed_at = now(), expires_at = excluded.expires_at, cluster = excluded.cluster
    WHERE lease.holder = excluded.holder OR lease.expires_at <= now()
    RETURNING holder, epoch, acquired_at, expires_at
), logged AS (
    INSERT INTO lease_log (epoch, holder, acquired_at)
    SELECT epoch, holder, acquired_at FROM won WHERE acquired_at = now()
    ON CONFLICT (epoch) DO NOTHING
), seen AS (
    INSERT INTO members (holder, cluster, name, host, pid, region, started_at, seen_at)
    VALUES (%(holder)s, %(cluster)s, %(cluster_name)s, %(host)s, %(pid)s, %(region)s, now(), now())
    ON CONFLICT (holder) DO UPDATE SET cluster = excluded.cluster, name = excluded.name, host = excluded.host,
        pid = excluded.pid, region = excluded.region, seen_at = now()
)
SELECT holder, epoch, acquired_at, expires_at, now() FROM won
"""
_CURRENT = "SELECT holder, epoch, acquired_at, expires_at, now() FROM lease WHERE name = %s"


class Lease:
    """This process's side of the lease, on its own connection (never the store's pool: a beat must not wait
    behind the engine's writes). Synchronous: `Membership` calls it from a thread."""

    def __init__(self, conninfo: str, *, holder: str, cluster: str, host: str, pid: int, region: str = "",
                 name: str = "", ttl: float = 10.0, timeout: float = ANSWER_WITHIN,
                 log: logging.Logger | None = None) -> None:
        """`cluster`: this process's monitors (`fingerprint`); `name`: the config's [cluster] name, if any."""
        self.holder = holder
        self.cluster = cluster
        self.name = name
        self.ttl = ttl
        self._member = {"host": host, "pid": pid, "region": region}
        self._link = _Link(conninfo, timeout=timeout)
        self._log = log or logging.getLogger("downwatch.cluster")
        self._failing = False

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._link.close()

    def beat(self) -> LeaseView | None:
        """Renew our lease or take an expired one, and say who holds it; None when the database could not be
        reached (the next beat reconnects)."""
        args = {"name": LEASE, "holder": self.holder, "cluster": self.cluster, "cluster_name": self.name,
                "ttl": self.ttl, **self._member}

        def work(conn: psycopg.Connection[Any]) -> tuple[Any, ...] | None:
            row = conn.execute(_BEAT, args).fetchone()
            return row if row is not None else conn.execute(_CURRENT, [LEASE]).fetchone()

        row = self._reach("beat", work)
        if row is None:
            return None
        holder, epoch, acquired_at, expires_at, now = row
        return LeaseView(holder=holder, epoch=epoch, leader=holder == self.holder and expires_at > now,
                         acquired_at=acquired_at, expires_at=expires_at, lease_age=now - acquired_at,
                         expires_in=expires_at - now)

    def still_leader(self, epoch: int) -> bool:
        """One round trip, right before a send: do we still hold the lease at `epoch`? (False when the
        database cannot say: a send that cannot be confirmed waits.)"""
        row = self._reach("lease check", lambda conn: conn.execute(
            "SELECT 1 FROM lease WHERE name = %s AND holder = %s AND epoch = %s AND expires_at > now()",
            [LEASE, self.holder, epoch]).fetchone())
        return row is not None

    def release(self) -> bool:
        """On a clean shutdown: expire our lease now, so a follower takes over at its next beat instead of
        after the TTL, and leave the members. True when we held the lease."""
        row = self._reach("release", lambda conn: conn.execute(
            "WITH gone AS (DELETE FROM members WHERE holder = %(holder)s) "
            "UPDATE lease SET expires_at = now() WHERE name = %(name)s AND holder = %(holder)s "
            "AND expires_at > now() RETURNING epoch", {"name": LEASE, "holder": self.holder}).fetchone())
        return row is not None

    def check_cluster(self) -> None:
        """At start: refuse a database where a live member belongs to another cluster. Two named processes
        are one cluster when their names are the same (their monitors may differ while a change rolls out);
        otherwise when their monitors are. `ClusterConflict` names that member; `Unavailable` when the
        database cannot be reached."""
        try:
            row = self._link.run(lambda conn: conn.execute(
                "SELECT host, pid, cluster, name, started_at FROM members WHERE holder <> %(holder)s "
                "AND seen_at > now() - make_interval(secs => %(alive)s) "
                "AND CASE WHEN %(name)s <> '' AND name <> '' THEN name <> %(name)s ELSE cluster <> %(cluster)s END "
                "ORDER BY seen_at DESC LIMIT 1",
                {"holder": self.holder, "alive": ALIVE_BEATS * self.ttl, "name": self.name,
                 "cluster": self.cluster}).fetchone())
        except psycopg.OperationalError as exc:
            raise Unavailable(f"PostgreSQL is not reachable: {_why(exc)}") from exc
        if row is None:
            return
        host, pid, cluster, name, started_at = row
        first = (f"this database is used by another downwatch cluster: host {host}, pid {pid}, started "
                 f"{started_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, ")
        if name and self.name:
            raise ClusterConflict(first + f"named {name!r} (this one is {self.name!r}); point this one at its own "
                                          "database or give both the same [cluster] name")
        raise ClusterConflict(first + f"cluster {cluster} (this one is {self.cluster}, from a different set of "
                                      "monitors); point this one at its own database or give both the same "
                                      "configuration, or the same [cluster] name to change the monitors one "
                                      "replica at a time")

    def claim(self, key: str) -> bool:
        """True for exactly one process among all that ask for `key` (an interaction several replicas
        received); False for the others, and when the database cannot be reached."""
        row = self._reach("claim", lambda conn: conn.execute(
            "INSERT INTO claims (key, holder) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING RETURNING 1",
            [key, self.holder]).fetchone())
        return row is not None

    def prune_claims(self, older_than: timedelta = CLAIMS_KEPT) -> int:
        """Forget claims older than `older_than`; the number removed."""
        return self._prune("DELETE FROM claims WHERE at < now() - %s", older_than)

    def prune_members(self, older_than: timedelta = MEMBERS_KEPT) -> int:
        """Forget processes not seen for `older_than`; the number removed."""
        return self._prune("DELETE FROM members WHERE seen_at < now() - %s", older_than)

    def _prune(self, statement: str, older_than: timedelta) -> int:
        removed = self._reach("prune", lambda conn: conn.execute(statement, [older_than]).rowcount)
        return removed or 0

    def _reach(self, what: str, work: Callable[[psycopg.Connection[Any]], T]) -> T | None:
        """`work` on the link; None when the database could not be reached, logged once per outage."""
        try:
            result = self._link.run(work)
        except psycopg.OperationalError as exc:
            if not self._failing:
                self._failing = True
                self._log.warning("cluster: PostgreSQL not reachable (%s: %s); retrying", what, _why(exc))
            return None
        if self._failing:
            self._failing = False
            self._log.info("cluster: PostgreSQL reachable again")
        return result


# ---------------------------------------------------------------- the driver


class Beats(Protocol):
    """What `Membership` needs of a lease (`Lease`; a scripted one in tests)."""

    @property
    def holder(self) -> str: ...
    @property
    def ttl(self) -> float: ...
    def beat(self) -> LeaseView | None: ...
    def still_leader(self, epoch: int) -> bool: ...


OnChange = Callable[[Role, LeaseView | None], Awaitable[None] | None]
OnEvent = Callable[[], Awaitable[None] | None]
Sleep = Callable[[float], Awaitable[None]]


async def _call(result: Awaitable[None] | None) -> None:
    if inspect.isawaitable(result):
        await result


class Membership:
    """Beats the lease every `renew` seconds off the event loop and turns the answers into a role.

    `on_change(role, view)` is called with each `RoleChange`: LEADER with a view (a new term: reload the state,
    start the engine and the sender), or FOLLOWER/UNKNOWN (stop them). A leader whose beats fail for the TTL
    steps down by itself (UNKNOWN, view None): its lease may have expired and another process may lead.
    After `lost_after` seconds without a successful beat `on_lost()` is called once, then `on_found()` once
    when a beat succeeds again. Callbacks may be plain or async functions."""

    def __init__(self, *, lease: Beats, clock: Clock, on_change: OnChange, on_lost: OnEvent | None = None,
                 on_found: OnEvent | None = None, renew: float = 2.0, lost_after: float = 120.0,
                 sleep: Sleep | None = None, log: logging.Logger | None = None) -> None:
        self._lease = lease
        self._clock = clock
        self._on_change = on_change
        self._on_lost = on_lost
        self._on_found = on_found
        self._renew = renew
        self._lost_after = timedelta(seconds=lost_after)
        self._ttl = timedelta(seconds=lease.ttl)
        self._sleep = sleep
        self._log = log or logging.getLogger("downwatch.cluster")
        self._last_ok: datetime | None = None  # when the last successful beat was sent (our clock)
        self._lost = False
        self.role = Role.UNKNOWN
        self.epoch: int | None = None  # the term we lead, None when we lead none
        self.view: LeaseView | None = None  # the lease as the last successful beat saw it

    def term(self) -> tuple[str, int] | None:
        """(holder, epoch) of the term we lead, or None: the store's fence (bot/store/postgres.py)."""
        return (self._lease.holder, self.epoch) if self.role is Role.LEADER and self.epoch is not None else None

    async def confirm(self) -> bool:
        """Right before a send: do we lead, by our last beat and by the database now? (Off the event loop: a
        database that does not answer costs this send a few seconds, never the loop.)"""
        term = self.term()
        return term is not None and await asyncio.to_thread(self._lease.still_leader, term[1])

    async def run(self, stop: asyncio.Event) -> None:
        """Beat until `stop` is set. (Releasing the lease is the composition root's, after the engine and the
        sender have stopped.)"""
        while not stop.is_set():
            try:
                await self.step()
            except Exception:  # a bug in a callback must not stop the beats: the lease would expire
                self._log.exception("cluster: membership step failed")
            await self._pause(stop)

    async def step(self) -> None:
        """One beat and what follows from it."""
        sent = self._clock.now()
        if self._last_ok is None:
            self._last_ok = sent
        await self._step_down_if_silent(sent)
        try:
            view = await asyncio.to_thread(self._lease.beat)
        except Exception:  # a bug (or an unexpected database error): a failed beat, not a dead loop
            self._log.exception("cluster: beat failed")
            view = None
        if view is None:
            await self._failed(self._clock.now())
            return
        self._last_ok = sent
        if self._lost:
            self._lost = False
            self._log.info("cluster: the database answers again")
            await _call(self._on_found() if self._on_found else None)
        role, change = transition(self.role, self.epoch, view, self._lease.holder)
        self.view = view
        self.role = role
        self.epoch = view.epoch if role is Role.LEADER else None
        if change is not None:
            self._log.info("cluster: %s %s (epoch %d)", self._lease.holder, change.kind.value, change.epoch)
            try:
                await _call(self._on_change(role, view))
            except Exception:
                if role is Role.LEADER:  # the term could not be taken up (the state could not be read): lead
                    self.role, self.epoch = Role.UNKNOWN, None  # nothing on a stale state; the next beat retries
                raise

    async def _failed(self, now: datetime) -> None:
        await self._step_down_if_silent(now)
        assert self._last_ok is not None
        if not self._lost and now - self._last_ok >= self._lost_after:
            self._lost = True
            self._log.error("cluster: no answer from the database for %s", format_duration(now - self._last_ok))
            await _call(self._on_lost() if self._on_lost else None)

    async def _step_down_if_silent(self, now: datetime) -> None:
        """Without a successful beat for the TTL nobody can say who leads: a leader steps down (its lease may
        have expired and been taken), a follower no longer knows it follows."""
        if self._last_ok is None or now - self._last_ok < self._ttl or self.role is Role.UNKNOWN:
            return
        was, epoch = self.role, self.epoch
        self.role, self.epoch = Role.UNKNOWN, None
        if was is Role.LEADER:
            self._log.warning("cluster: %s steps down (epoch %s): no beat for %s", self._lease.holder, epoch,
                              format_duration(now - self._last_ok))
            await _call(self._on_change(Role.UNKNOWN, None))

    async def _pause(self, stop: asyncio.Event) -> None:
        if self._sleep is not None:
            await self._sleep(self._renew)
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=self._renew)
        except TimeoutError:
            pass


# ---------------------------------------------------------------- `downwatch cluster`


def read_cluster(conninfo: str, *, ttl: float = 10.0, timeout: float = ANSWER_WITHIN) -> ClusterView:
    """The cluster as the database sees it now. A member is alive when seen within 3 × the lease's TTL (the
    lease row's own, else `ttl`). `Unavailable` when the database cannot be reached."""
    link = _Link(conninfo, timeout=timeout)

    def work(conn: psycopg.Connection[Any]) -> ClusterView:
        now = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        lease = conn.execute("SELECT holder, epoch, cluster, acquired_at, renewed_at, expires_at FROM lease "
                             "WHERE name = %s", [LEASE]).fetchone()
        members = conn.execute("SELECT holder, cluster, host, pid, region, started_at, seen_at, name FROM members "
                               "ORDER BY host, pid, holder").fetchall()
        backlog = conn.execute("SELECT platform, count(*), min(next_at) FROM outbox WHERE state = 'pending' "
                               "GROUP BY platform ORDER BY platform").fetchall()
        return _view(now, lease, members, backlog, ttl)

    try:
        return link.run(work)
    except psycopg.OperationalError as exc:
        raise Unavailable(f"PostgreSQL is not reachable: {_why(exc)}") from exc
    finally:
        link.close()


def _view(now: datetime, lease: Sequence[Any] | None, members: Sequence[Sequence[Any]],
          backlog: Sequence[Sequence[Any]], ttl: float) -> ClusterView:
    holder = epoch = cluster = lease_age = expires_in = None
    live = False
    if lease is not None:
        holder, epoch, cluster, acquired_at, renewed_at, expires_at = lease
        ttl = (expires_at - renewed_at).total_seconds() or ttl
        live = expires_at > now
        lease_age, expires_in = now - acquired_at, expires_at - now
    alive_within = timedelta(seconds=ALIVE_BEATS * ttl)
    return ClusterView(
        at=now, holder=holder, epoch=epoch, cluster=cluster, live=live, lease_age=lease_age, expires_in=expires_in,
        members=tuple(
            Member(holder=m_holder, cluster=m_cluster, host=host, pid=pid, region=region, started_at=started_at,
                   seen_age=now - seen_at, alive=now - seen_at <= alive_within, leader=live and m_holder == holder,
                   name=name)
            for m_holder, m_cluster, host, pid, region, started_at, seen_at, name in members),
        backlog=tuple(
            Backlog(platform=platform, pending=count,
                    oldest_due=None if due is None else datetime.fromtimestamp(due, UTC))
            for platform, count, due in backlog))


def _ago(delta: timedelta) -> str:
    """'12s ago' / 'in 8s'."""
    return f"in {format_duration(-delta)}" if delta < timedelta(0) else f"{format_duration(delta)} ago"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(head, *rows, strict=False)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in (head, *rows)]


def render_cluster(view: ClusterView) -> str:
    """`downwatch cluster` as plain text: who leads, the processes, the outbox backlog."""
    if view.holder is None:
        lines = ["leader: none yet (no process has taken the lease)"]
    elif view.live:
        assert view.lease_age is not None and view.expires_in is not None
        lines = [f"leader: {view.holder} (epoch {view.epoch}, leading for {format_duration(view.lease_age)}, "
                 f"lease expires in {format_duration(view.expires_in)})"]
    else:
        assert view.expires_in is not None
        lines = [f"leader: none (the lease of {view.holder}, epoch {view.epoch}, expired "
                 f"{format_duration(-view.expires_in)} ago)"]
    lines.append("")
    if view.members:
        rows = [(m.holder, m.host, str(m.pid), m.region or "-", _ago(m.seen_age),
                 "leader" if m.leader else "follower" if m.alive else "gone",
                 (f"{m.name} " if m.name else "") + m.cluster
                 + (" (not the leader's)" if view.cluster not in (None, m.cluster) else ""))
                for m in view.members]
        lines += _table(("PROCESS", "HOST", "PID", "REGION", "SEEN", "STATE", "CONFIG"), rows)
    else:
        lines.append("processes: none has beaten yet")
    lines.append("")
    if view.backlog:
        lines += _table(("OUTBOX", "PENDING", "OLDEST DUE"),
                        [(b.platform, f"{b.pending:,}", "-" if b.oldest_due is None else _ago(view.at - b.oldest_due))
                         for b in view.backlog])
    else:
        lines.append("outbox: nothing pending")
    return "\n".join(lines) + "\n"
