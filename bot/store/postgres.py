"""The PostgreSQL backend: several downwatch processes on one database (issue 14). With bot/cluster.py (the
lease, on a connection of its own), the only importer of psycopg.

The Store's SQL is shared with SQLite (`?` parameters become psycopg's `%s` here, once per statement). The
schema is the SQLite one as of its m007, in PostgreSQL's types, plus the cluster's tables (lease, members,
claims, region readings); migrations are recorded in `schema_migrations` and applied under an advisory lock,
so two processes starting together migrate once. A database migrated by a newer downwatch is refused before
anything is written.

The per-check writes (`Backend.perform`: a check's commit, a region's reading and the readings read) go
through psycopg's async connections and their pool, so the event loop runs other checks while their statements
travel: a cluster's leader makes seven round trips per check, and blocking calls held up every check due
meanwhile (bench item 14). A leader's checks that finish within a few ms of each other commit in one fenced
transaction and one round trip (`_grouped`: bench item 12). The rest (commands, pages, the sender, retention, migrations) is rarer and calls
synchronously, like SQLite's, through the blocking pool. libpq's timeouts bound what a dead network path can
cost (a few seconds, then `Unavailable`), each pool replaces a broken connection on its next use, and a round
trip left unanswered past `DEADLINE` is cut (the Watchdog; the async path's own timeout).
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import socket
import threading
import time
import typing
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

import psycopg
from psycopg.adapt import Buffer
from psycopg.types.string import StrDumperUnknown
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from bot.store.sql import Fenced, Many, Ops, Read, Unavailable, Write

# libpq's own settings (postgresql.org/docs/15/libpq-connect.html): fail a dead path within seconds. A
# statement may run 5 s at most (a retention step, chunked, is the longest), a lock is waited for 3 s.
# A transaction idle for 2 s is ended by the server: the Store sends a transaction's statements back to back,
# so an idle one belongs to a process that froze (SIGSTOP, a VM pause) or lost its path mid-transaction. Left
# open it would hold the lease row FOR SHARE (the fence) and every takeover would wait for it: no failover
# for as long as the freeze lasts (tests/test_chaos.py, a leader frozen inside a fenced transaction).
CONNECT = {
    "autocommit": True,
    "connect_timeout": 3,
    "tcp_user_timeout": 3000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "options": "-c statement_timeout=5000 -c lock_timeout=3000 -c idle_in_transaction_session_timeout=2000",
    "application_name": "downwatch",
}
MIGRATION_LOCK = 0x646F776E  # pg_advisory_xact_lock key: "down"
DEADLINE = 6.0  # seconds: a round trip still unanswered then is cut by the Watchdog
GROUP_FOR = 0.005  # seconds a leader's check waits for others to commit with (bench/README.md, session 10)
Bound = tuple[str, Sequence[object]]  # a statement (psycopg's placeholders) and its arguments, to bind

# What PostgreSQL says when the URL or the credentials are wrong (SQLSTATE classes 28 and 3D): no retry helps.
_REFUSED = ("28000", "28P01", "3D000")


class BadDatabase(Exception):
    """The URL or the credentials are wrong, or the schema belongs to another downwatch: retrying cannot help."""


def redact(url: str) -> str:
    """The URL as logs may show it: no password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


@functools.lru_cache(maxsize=2048)
def _translate(statement: str) -> str:
    """The Store's `?` placeholders as psycopg's `%s` (the Store's SQL has no `?` or `%` inside literals)."""
    return statement.replace("%", "%%").replace("?", "%s")


class _Text(StrDumperUnknown):
    """A Python str as psycopg sends it by default, but a NUL character as U+FFFD: PostgreSQL's text cannot
    hold one (SQLite's can), and a status page may send one (JSON's \\u0000); refusing the write would stop
    that monitor for good. The replacement character keeps names distinct and shows where it was."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(obj.replace("\x00", "\ufffd"))


def _configure(conn: psycopg.Connection[typing.Any]) -> None:
    """Each pooled connection, once: str parameters through `_Text`."""
    conn.adapters.register_dumper(str, _Text)


async def _aconfigure(conn: psycopg.AsyncConnection[typing.Any]) -> None:
    conn.adapters.register_dumper(str, _Text)


class _Rows:
    """A statement's result, read at once so the connection can go back to the pool."""

    __slots__ = ("_rows", "description", "rowcount")

    def __init__(self, cursor: psycopg.Cursor[typing.Any] | None = None) -> None:
        self.description = cursor.description if cursor is not None else None
        self._rows = cursor.fetchall() if cursor is not None and cursor.description is not None else []
        self.rowcount = cursor.rowcount if cursor is not None else -1

    @classmethod
    def of(cls, cursor: psycopg.AsyncCursor[typing.Any], fetched: list[typing.Any]) -> _Rows:
        """An async cursor's result, its rows already fetched."""
        rows = cls()
        rows._rows, rows.description, rows.rowcount = fetched, cursor.description, cursor.rowcount
        return rows

    def fetchone(self) -> typing.Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[typing.Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[typing.Any]:
        return iter(self._rows)


Fence = Callable[[], tuple[str, int] | None]
R = typing.TypeVar("R")


class Watch:
    """One round trip under a Watchdog: `cut` once the watchdog shut its connection down."""

    __slots__ = ("conn", "deadline", "cut")

    def __init__(self, conn: psycopg.Connection[typing.Any], deadline: float) -> None:
        self.conn, self.deadline, self.cut = conn, deadline, False


class Watchdog:
    """Cuts a round trip that has not answered by its deadline: shuts its connection's socket down, which
    wakes libpq's wait with an error. libpq's timeouts cannot see a path that acknowledges every packet and
    never answers (a stalled proxy or NAT on the way), and a synchronous call has no deadline of its own. One
    thread per connection user (the store; the lease, bot/cluster.py), looking twice a second: arming costs an
    assignment per statement. Each round trip in flight has its own watch: the store's are made by the event
    loop and by the worker threads that answer commands."""

    def __init__(self, seconds: float = DEADLINE) -> None:
        self.seconds = seconds
        self._busy: set[Watch] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="downwatch-pg-watchdog", daemon=True)
        self._thread.start()

    @contextmanager
    def watching(self, conn: psycopg.Connection[typing.Any]) -> Iterator[Watch]:
        watch = Watch(conn, time.monotonic() + self.seconds)
        self._busy.add(watch)
        try:
            yield watch
        finally:
            self._busy.discard(watch)

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            for busy in list(self._busy):
                if time.monotonic() < busy.deadline:
                    continue
                # marked before the shutdown: the failing call wakes at once and may read `cut` before _cut returns
                busy.cut = True
                busy.cut = _cut(busy.conn)
                self._busy.discard(busy)

    def close(self) -> None:
        self._stop.set()


class PostgresBackend:
    """The Store's connection to PostgreSQL (bot/store/sql.py Backend), through psycopg's pool.

    `fence`, when set (bot/app.py, from the lease), returns (holder, epoch) of the term this process leads, or
    None when it leads none: a fenced transaction first locks the lease row in SHARE mode and goes on only if
    that term is still current, so a leader that froze and was replaced commits nothing, and a takeover waits
    for the writes already under way. The epoch is written on every outbox row (a default reads it)."""

    name = "postgresql"
    shared = True
    greatest, least = "GREATEST", "LEAST"

    def __init__(self, pool: ConnectionPool[typing.Any], *, url: str) -> None:
        self.pool = pool
        self.url = redact(url)
        self._dsn = url  # for the async pool, made in the event loop on first use; never shown
        self._apool: AsyncConnectionPool[typing.Any] | None = None
        self._checking: asyncio.Task[None] | None = None
        self.fence: Fence | None = None
        self.watchdog = Watchdog()
        self._local = threading.local()  # each thread's open transaction (a command's reads run in a worker)
        self._writes = 0
        self._group: dict[tuple[str, int], list[tuple[list[Bound], asyncio.Future[None]]]] = {}  # by term
        self._group_timer: asyncio.TimerHandle | None = None
        self._groups: set[asyncio.Task[None]] = set()  # groups committing

    @property
    def _held(self) -> psycopg.Connection[typing.Any] | None:
        """This thread's transaction's connection, while `atomic` holds one."""
        return typing.cast("psycopg.Connection[typing.Any] | None", getattr(self._local, "held", None))

    @_held.setter
    def _held(self, conn: psycopg.Connection[typing.Any] | None) -> None:
        self._local.held = conn

    @classmethod
    def open(cls, url: str, *, timeout: float = 3.0) -> PostgresBackend:
        """Connect and migrate. `BadDatabase`: wrong URL, credentials or schema; `Unavailable`: not reachable."""
        check(url)
        pool: ConnectionPool[typing.Any] = ConnectionPool(
            url, min_size=1, max_size=4, kwargs=dict(CONNECT), open=False, timeout=timeout,
            # reconnect_timeout: a connection lost with the server (a restart) is re-made in the background, with
            # backoff, until the server is back; with 0 one refused try ends it, and the next checkout waits out
            # the whole `timeout` on the event loop (3 s without a beat: a 2 s lease is lost)
            name="downwatch", reconnect_timeout=60, configure=_configure)
        try:
            pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            pool.close()
            raise Unavailable(f"PostgreSQL at {redact(url)} did not answer within {timeout:g}s") from exc
        backend = cls(pool, url=url)
        try:
            migrate(backend)
        except BaseException:
            pool.close()
            raise
        return backend

    # -------------------------------------------------------------- Backend

    def execute(self, sql: str, args: Sequence[object] = ()) -> _Rows:
        statement = _translate(sql)
        try:
            if self._held is not None:
                with self.watchdog.watching(self._held):
                    return _Rows(self._held.execute(statement, args))
            with self.pool.connection() as conn, self.watchdog.watching(conn):
                return _Rows(conn.execute(statement, args))
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise Unavailable(_why(exc)) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        statement = _translate(sql)
        try:
            if self._held is not None:
                with self.watchdog.watching(self._held):
                    self._held.cursor().executemany(statement, list(rows))
                return
            with self.pool.connection() as conn, self.watchdog.watching(conn):
                conn.cursor().executemany(statement, list(rows))
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise Unavailable(_why(exc)) from exc

    @contextmanager
    def atomic(self, *, fenced: bool = False) -> Iterator[object]:
        if self._held is not None:  # nested: a savepoint on the transaction's connection
            with self._held.transaction():
                yield self
            return
        try:
            with self.pool.connection() as conn, conn.transaction():
                self._held = conn
                try:
                    if fenced and self.fence is not None:
                        self._check_fence(conn)
                    yield self
                finally:
                    self._held = None
            self._writes += 1
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise Unavailable(_why(exc)) from exc

    def _check_fence(self, conn: psycopg.Connection[typing.Any]) -> None:
        try:
            conn.execute(_FENCE, self._term())
        except psycopg.Error as exc:
            refusal = _refusal(exc)
            if refusal is exc:
                raise
            raise refusal from exc

    def _term(self) -> tuple[str, int]:
        term = self.fence() if self.fence is not None else None
        if term is None:
            raise Fenced("this process does not lead the cluster")
        return term

    async def perform(self, ops: Ops[R], *, atomic: bool = True, fenced: bool = False) -> R:
        """`ops` on an async connection. Their writes go out as one simple-protocol query, bound on the client:
        a fenced commit of a check is one round trip (BEGIN; the fence; the writes; COMMIT), where a statement
        at a time was seven, each a wait and a wake-up of the event loop. A leader's fenced writes that read
        nothing (a check's usual commit) wait `GROUP_FOR` for the others finishing meanwhile and commit with
        them, in one transaction and one round trip (`_grouped`). A `Read` sends what is queued, then waits
        for its own rows. On any failure the connection is closed, not returned: the server rolls its
        transaction back, and no rollback is waited for on a dead path."""
        term = self._term() if atomic and fenced and self.fence is not None else None
        writes: list[Bound] = []
        try:
            op = next(ops)
            while not isinstance(op, Read):
                _collect(op, writes)
                op = ops.send(None)
        except StopIteration as stopped:
            if term is not None:
                await self._grouped(term, writes)
            else:
                await self._transaction(writes, term=None, atomic=atomic)
            return typing.cast(R, stopped.value)
        async with self._connection() as conn:
            bind = psycopg.AsyncClientCursor(conn).mogrify
            queued = self._opening(bind, term, atomic) + [bind(*w) for w in writes]
            try:
                while True:
                    if isinstance(op, Read):
                        await _send(conn, queued)
                        cursor = await conn.execute(_translate(op.sql), op.args)
                        op = ops.send(_Rows.of(cursor, await cursor.fetchall()))
                        continue
                    writes.clear()
                    _collect(op, writes)
                    queued += (bind(*w) for w in writes)
                    op = ops.send(None)
            except StopIteration as stopped:
                done: R = stopped.value
            if atomic:
                queued.append("COMMIT")
            await _send(conn, queued)
        if atomic:
            self._writes += 1
        return done

    def _opening(self, bind: Callable[..., str], term: tuple[str, int] | None, atomic: bool) -> list[str]:
        queued = ["BEGIN"] if atomic else []
        if term is not None:
            queued.append(bind(_FENCE, term))
        return queued

    async def _transaction(self, writes: Sequence[Bound], *, term: tuple[str, int] | None,
                           atomic: bool = True) -> None:
        """`writes` in one round trip: one transaction (fenced on `term` when given) or, not `atomic`, as they
        are."""
        async with self._connection() as conn:
            bind = psycopg.AsyncClientCursor(conn).mogrify
            queued = self._opening(bind, term, atomic) + [bind(*w) for w in writes]
            if atomic:
                queued.append("COMMIT")
            await _send(conn, queued)
        if atomic:
            self._writes += 1

    async def _grouped(self, term: tuple[str, int], writes: list[Bound]) -> None:
        """`writes` committed, fenced on `term`, in one transaction with the others that arrive within
        `GROUP_FOR`: 10,000 monitors at 60 s finish ~8 checks per 50 ms tick, and a round trip's own CPU (the
        pool, the wait, the loop's wake-ups) is paid once for them. A group commits whole or not at all;
        when it fails for one member (a statement refused, a row locked too long), each member is tried
        again on its own, so only the one at fault fails; a term that is over or a database out of reach
        fails them all. A group in flight holds no other: the next one takes another connection."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._group.setdefault(term, []).append((writes, done))
        if self._group_timer is None:
            self._group_timer = loop.call_later(GROUP_FOR, self._flush)
        await done

    def _flush(self) -> None:
        self._group_timer = None
        groups, self._group = self._group, {}
        for term, members in groups.items():
            task = asyncio.ensure_future(self._commit_group(term, members))
            self._groups.add(task)
            task.add_done_callback(self._groups.discard)

    async def _commit_group(self, term: tuple[str, int],
                            members: list[tuple[list[Bound], asyncio.Future[None]]]) -> None:
        live = [(writes, done) for writes, done in members if not done.done()]  # a cancelled check writes nothing
        if not live:
            return
        try:
            await self._transaction([w for writes, _ in live for w in writes], term=term)
        except (Fenced, Unavailable) as exc:
            if len(live) == 1 or not isinstance(exc.__cause__, _ONE_AT_FAULT):
                for _, done in live:  # the term is over, or the database is out of reach: for every member
                    _fail(done, exc)
                return
            await self._each_alone(term, live)
        except Exception as exc:
            if len(live) == 1:
                _fail(live[0][1], exc)
                return
            await self._each_alone(term, live)
        except BaseException:
            for _, done in live:
                done.cancel()
            raise
        else:
            self._writes += len(live) - 1
            for _, done in live:
                if not done.done():
                    done.set_result(None)

    async def _each_alone(self, term: tuple[str, int], live: list[tuple[list[Bound], asyncio.Future[None]]]) -> None:
        """A group that failed for one member (a statement the database refuses, a row locked past the lock
        timeout): each member committed again on its own, together, so that only the one at fault fails."""
        async def alone(writes: list[Bound], done: asyncio.Future[None]) -> None:
            try:
                await self._transaction(writes, term=term)
            except Exception as exc:
                _fail(done, exc)
            else:
                if not done.done():
                    done.set_result(None)

        await asyncio.gather(*(alone(writes, done) for writes, done in live))

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[typing.Any]]:
        """A connection of the async pool for one unit of work, cut if it has not answered by the watchdog's
        deadline; on failure closed, not returned, and the error as the Store knows it (`Fenced`,
        `Unavailable`)."""
        pool = await self._async_pool()
        try:
            conn = await pool.getconn()
        except PoolTimeout as exc:
            raise Unavailable(_why(exc)) from exc
        # The deadline shuts the socket down, as the blocking path's Watchdog does, rather than cancelling the
        # task: a cancelled psycopg wait first asks the server to cancel the query over a new connection, which
        # on a black-holed path waits out its own timeout (10 s more, measured).
        deadline = asyncio.get_running_loop().call_later(self.watchdog.seconds, _cut, conn)
        try:
            yield conn
        except BaseException as exc:
            deadline.cancel()
            await conn.close()
            await pool.putconn(conn)
            if isinstance(exc, psycopg.OperationalError):
                self._recheck(pool)
            if isinstance(exc, psycopg.OperationalError) and deadline.when() <= asyncio.get_running_loop().time():
                raise Unavailable(f"no answer within {self.watchdog.seconds:g}s") from exc
            refusal = _refusal(exc)
            if refusal is exc:  # Fenced before the first statement, a bug, a cancellation: as it is
                raise
            raise refusal from exc
        deadline.cancel()
        await pool.putconn(conn)

    def _recheck(self, pool: AsyncConnectionPool[typing.Any]) -> None:
        """After a connection broke: test the idle ones in the background and replace the broken ones. The
        pool hands out what it holds without testing it (a test per use would be a round trip per check), so
        after a server restart each of its connections would otherwise fail one check in turn."""
        if self._checking is None or self._checking.done():
            self._checking = asyncio.get_running_loop().create_task(pool.check())

    async def _async_pool(self) -> AsyncConnectionPool[typing.Any]:
        if self._apool is None:
            self._apool = AsyncConnectionPool(
                self._dsn, min_size=1, max_size=4, kwargs=dict(CONNECT), open=False, timeout=self.pool.timeout,
                name="downwatch-async", reconnect_timeout=60, configure=_aconfigure)
            await self._apool.open(wait=False)
        return self._apool

    def nocase(self, expr: str) -> str:
        # lower() folds by the collation: under "C" ASCII only, as SQLite's NOCASE, whatever the database's
        # locale (which would also fold Ä on one side only). The components_name index is on lower(name), "C".
        return f'lower(({expr}) COLLATE "C")'

    def serialize(self, key: int) -> None:
        """Wait for any other process's transaction holding `key` (released at commit): for as long as that
        one takes (a replica syncing 10,000 monitors takes seconds), not the 3 s lock_timeout of the rest."""
        self.execute("SET LOCAL lock_timeout = '60s'")
        self.execute("SELECT pg_advisory_xact_lock(?)", [key])

    def changes(self) -> int:
        return self._writes

    def integrity(self) -> str:
        """Whether the schema is the one this downwatch expects ("ok", as SQLite's integrity_check says)."""
        missing = sorted(set(TABLES) - set(self.tables()))
        return "ok" if not missing else f"missing tables: {', '.join(missing)}"

    def checkpoint(self) -> int:
        """PostgreSQL checkpoints in its own processes."""
        return 0

    def tables(self) -> list[str]:
        return [r[0] for r in self.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]

    def close(self) -> None:
        """The blocking pool. An async pool still open is closed in its loop if that loop runs here, or else
        left to the process's end (its connections close with it): `aclose` is the orderly way."""
        apool, self._apool = self._apool, None
        if apool is not None and not apool.closed:
            try:
                asyncio.get_running_loop().create_task(apool.close())
            except RuntimeError:
                pass
        self.watchdog.close()
        self.pool.close()

    async def aclose(self) -> None:
        if self._group_timer is not None:  # the checks waiting for their group commit now, not never
            self._group_timer.cancel()
            self._flush()
        if self._groups:
            await asyncio.gather(*self._groups, return_exceptions=True)
        if self._checking is not None:
            self._checking.cancel()
        apool, self._apool = self._apool, None
        if apool is not None:
            await apool.close()
        self.close()


# The fence (m009_fence's function): the lease row locked FOR SHARE while this term is current (a takeover
# waits for the transaction), the epoch set for the transaction (the outbox rows' default reads it), and an
# error with SQLSTATE `FENCED` otherwise, which ends the transaction without one more round trip.
_FENCE = "SELECT downwatch_fence(%s, %s)"
# What one member of a group can cause alone, though psycopg reports it as an OperationalError: a row locked past
# lock_timeout, a statement past statement_timeout. The members are committed again one by one.
_ONE_AT_FAULT = (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)
FENCED = "DWF01"


def _cut(conn: psycopg.Connection[typing.Any] | psycopg.AsyncConnection[typing.Any]) -> bool:
    """Shut the connection's socket down: its pending wait, blocking or awaited, ends with an OperationalError
    at once. False when it was closed meanwhile (the round trip is failing by itself)."""
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, psycopg.Error):
        return False
    return True


def _collect(op: Write | Many, into: list[Bound]) -> None:
    """A `Write` or `Many` as (statement, arguments) to bind."""
    statement = _translate(op.sql)
    if isinstance(op, Many):
        into += ((statement, row) for row in op.rows)
    else:
        into.append((statement, op.args))


def _fail(done: asyncio.Future[None], exc: Exception) -> None:
    """A group member's failure: its own exception (one raised in several tasks would gather their tracebacks)."""
    if done.done():
        return
    try:
        own = type(exc)(*exc.args)
    except Exception:  # an exception that cannot be made again from its args
        own = exc
    if own is not exc:
        own.__cause__ = exc
    done.set_exception(own)


async def _send(conn: psycopg.AsyncConnection[typing.Any], queued: list[str]) -> None:
    """The statements bound so far, in one query (the simple protocol runs them in order, and an error ends
    the whole string: nothing after it runs, and its transaction is rolled back)."""
    if queued:
        await conn.execute("; ".join(queued).encode())
        queued.clear()


def _refusal(exc: BaseException) -> BaseException:
    """What a failed statement means to the Store: the fence's refusal is `Fenced`, a lost or refusing
    connection `Unavailable`, anything else itself (a bug: a statement the database rejects)."""
    if isinstance(exc, psycopg.Error) and exc.sqlstate == FENCED:
        return Fenced(exc.diag.message_primary or "this process no longer leads")
    if isinstance(exc, psycopg.OperationalError):
        return Unavailable(_why(exc))
    return exc


def _why(exc: BaseException) -> str:
    """A connection failure in one line, without the URL (libpq's messages carry host and port, no password)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check(url: str) -> None:
    """Connect once: `BadDatabase` for a malformed URL or refused credentials/database, `Unavailable` when
    nothing answers (the caller retries)."""
    try:
        with psycopg.connect(url, **CONNECT) as conn:  # type: ignore[arg-type]
            conn.execute("SELECT 1")
    except psycopg.ProgrammingError as exc:  # libpq could not parse the conninfo
        raise BadDatabase(f"database: {redact(url)} is not a valid PostgreSQL URL ({_why(exc)})") from exc
    except psycopg.OperationalError as exc:
        state = getattr(exc, "sqlstate", None)
        text = _why(exc)
        if state in _REFUSED or "authentication failed" in text or "does not exist" in text:
            raise BadDatabase(f"database: PostgreSQL refused {redact(url)}: {text}") from exc
        if state is None and "invalid " in text:  # libpq's own check of an option's value: 'invalid sslmode'
            raise BadDatabase(f"database: {redact(url)} is not a valid PostgreSQL URL ({text})") from exc
        raise Unavailable(f"PostgreSQL at {redact(url)} is not reachable: {text}") from exc


# ---------------------------------------------------------------- schema

T = 'TEXT COLLATE "C"'  # byte order, as SQLite sorts: the same lists in the same order on both backends
ID = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
F = "DOUBLE PRECISION"

MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # The SQLite schema as of its m007 (bot/store/sqlite.py), in one step: PostgreSQL support began there.
    ("m007_schema", (
        f"""CREATE TABLE monitors (
            name {T} PRIMARY KEY, kind {T} NOT NULL, active INTEGER NOT NULL DEFAULT 1, state TEXT,
            checked_at {F}, first_seen {F}, readable INTEGER NOT NULL DEFAULT 1,
            unreadable INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '', mid INTEGER, maintenances TEXT)""",
        "CREATE UNIQUE INDEX monitors_mid ON monitors (mid)",
        f"""CREATE TABLE components (
            monitor {T} NOT NULL, name {T} NOT NULL, grp {T}, status {T} NOT NULL, since {F},
            observed {T} NOT NULL, detail TEXT NOT NULL DEFAULT '', PRIMARY KEY (monitor, name))""",
        "CREATE INDEX components_name ON components (lower(name))",
        f"""CREATE TABLE status_log (
            id {ID}, monitor {T} NOT NULL, component {T} NOT NULL, ts {F} NOT NULL, status {T} NOT NULL)""",
        "CREATE INDEX status_log_component_ts ON status_log (monitor, component, ts)",
        "CREATE INDEX status_log_ts ON status_log (ts)",
        f"""CREATE TABLE probes (
            id {ID}, mid INTEGER NOT NULL, ts BIGINT NOT NULL, status INTEGER NOT NULL, latency_ms INTEGER,
            detail TEXT)""",
        """CREATE TABLE probe_hours (
            mid INTEGER NOT NULL, hour INTEGER NOT NULL, probes INTEGER NOT NULL, ok INTEGER NOT NULL,
            latency_sum INTEGER NOT NULL, latency_max INTEGER NOT NULL, PRIMARY KEY (mid, hour))""",
        f"""CREATE TABLE incidents (
            id {T} PRIMARY KEY, monitor {T} NOT NULL, started_at {F} NOT NULL, resolved_at {F},
            severity {T} NOT NULL, title TEXT NOT NULL DEFAULT '', components TEXT NOT NULL DEFAULT '[]',
            announced INTEGER NOT NULL, watched {T}, page_said {T}, acknowledged_at {F}, lead_s {F})""",
        "CREATE INDEX incidents_started ON incidents (started_at)",
        "CREATE INDEX incidents_monitor_started ON incidents (monitor, started_at)",
        "CREATE INDEX incidents_open ON incidents (resolved_at) WHERE resolved_at IS NULL",
        "CREATE INDEX incidents_watched ON incidents (watched, started_at)",
        f"""CREATE TABLE incident_components (
            incident_id {T} NOT NULL, monitor {T} NOT NULL, component {T} NOT NULL, started_at {F} NOT NULL,
            PRIMARY KEY (incident_id, component))""",
        "CREATE INDEX incident_components_by_component ON incident_components (monitor, component, started_at)",
        f"""CREATE TABLE timeline (
            id {ID}, incident_id {T} NOT NULL, ts {F} NOT NULL, kind {T} NOT NULL, text TEXT NOT NULL,
            changes TEXT)""",
        "CREATE INDEX timeline_incident ON timeline (incident_id, ts)",
        f"""CREATE TABLE outbox (
            id {ID}, incident_id {T} NOT NULL, platform {T} NOT NULL, channel {T} NOT NULL, op {T} NOT NULL,
            alert TEXT NOT NULL, mention TEXT, state {T} NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0, next_at {F} NOT NULL, created_at {F} NOT NULL, sent_at {F},
            ref TEXT, error TEXT NOT NULL DEFAULT '',
            epoch BIGINT DEFAULT NULLIF(current_setting('downwatch.epoch', true), '')::BIGINT)""",
        "CREATE INDEX outbox_pending ON outbox (platform, id) WHERE state = 'pending'",
        "CREATE INDEX outbox_incident ON outbox (incident_id)",
        f"""CREATE TABLE messages (
            incident_id {T} NOT NULL, platform {T} NOT NULL, channel {T} NOT NULL, ref TEXT NOT NULL,
            PRIMARY KEY (incident_id, platform, channel))""",
        f"""CREATE TABLE actions (
            id {ID}, ts {F} NOT NULL, kind {T} NOT NULL, monitor {T} NOT NULL, incident_id {T} NOT NULL DEFAULT '',
            actor_id TEXT NOT NULL, actor TEXT NOT NULL, platform {T} NOT NULL, until {F},
            reason TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX actions_monitor_ts ON actions (monitor, ts)",
        f"""CREATE TABLE mutes (
            monitor {T} PRIMARY KEY, actor TEXT NOT NULL, at {F} NOT NULL, until {F},
            incident_id {T} NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '')""",
        f"""CREATE TABLE acks (
            incident_id {T} PRIMARY KEY, monitor {T} NOT NULL, actor TEXT NOT NULL, at {F} NOT NULL)""",
        f"""CREATE TABLE held (
            id {ID}, monitor {T} NOT NULL, ts {F} NOT NULL, why TEXT NOT NULL DEFAULT '', alert TEXT NOT NULL)""",
        "CREATE INDEX held_monitor ON held (monitor, id)",
    )),
    # Several processes as one (issue 14): the leader's lease and its history, the members, the claims on
    # interactions several replicas receive, each region's latest probe result per monitor.
    ("m008_cluster", (
        f"""CREATE TABLE lease (
            name {T} PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL, cluster TEXT NOT NULL,
            acquired_at TIMESTAMPTZ NOT NULL, renewed_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE lease_log (
            epoch BIGINT PRIMARY KEY, holder TEXT NOT NULL, acquired_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE members (
            holder TEXT PRIMARY KEY, cluster TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
            region TEXT NOT NULL DEFAULT '', started_at TIMESTAMPTZ NOT NULL, seen_at TIMESTAMPTZ NOT NULL)""",
        "CREATE TABLE claims (key TEXT PRIMARY KEY, holder TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())",
        f"""CREATE TABLE region_readings (
            monitor {T} NOT NULL, region {T} NOT NULL, at {F} NOT NULL, status {T} NOT NULL,
            failures INTEGER NOT NULL, successes INTEGER NOT NULL, latency_ms {F}, detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (monitor, region))""",
        # Every write of a monitor's state, incident or timeline moves its version: the pages of every
        # process (not only the writer's) key their caches on it.
        "CREATE SEQUENCE monitor_versions",
        "ALTER TABLE monitors ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
    )),
    # The fence as one statement that fails on its own when the term is not current: a check's fenced commit
    # goes out whole, in one round trip (`PostgresBackend.perform`), and the error ends it.
    ("m009_fence", (
        f"""CREATE FUNCTION downwatch_fence(holder TEXT, epoch BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM set_config('downwatch.epoch', downwatch_fence.epoch::TEXT, true) FROM lease l
                WHERE l.name = 'leader'
                AND l.holder = downwatch_fence.holder AND l.epoch = downwatch_fence.epoch
                AND l.expires_at > now() FOR SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'epoch % is no longer the leader''s', downwatch_fence.epoch
                    USING ERRCODE = '{FENCED}';
            END IF;
        END $$""",
    )),
    # A cluster's name ([cluster] name): replicas with one name are one cluster while their monitors differ.
    ("m010_cluster_name", (
        "ALTER TABLE members ADD COLUMN name TEXT NOT NULL DEFAULT ''",
    )),
)
TABLES = ("monitors", "components", "status_log", "probes", "probe_hours", "incidents", "incident_components",
          "timeline", "outbox", "messages", "actions", "mutes", "acks", "held", "lease", "lease_log", "members",
          "claims", "region_readings", "schema_migrations")


def applied(backend: PostgresBackend) -> list[str]:
    """The migrations recorded in the database, in the order they ran."""
    return [r[0] for r in backend.execute("SELECT name FROM schema_migrations ORDER BY applied_at, name")]


def migrate(backend: PostgresBackend) -> list[str]:
    """Apply the migrations this database lacks, under an advisory lock, and return their names. A database
    with a migration this downwatch does not know was written by a newer one: `BadDatabase`, nothing written."""
    known = [name for name, _ in MIGRATIONS]
    done: list[str] = []
    with backend.atomic():
        backend.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])
        backend.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())")
        have = applied(backend)
        unknown = [name for name in have if name not in known]
        if unknown:
            raise BadDatabase(
                f"database: {backend.url} was migrated by a newer downwatch (its schema has {', '.join(unknown)}; "
                f"this one knows up to {known[-1]}): upgrade downwatch; nothing was written")
        for name, statements in MIGRATIONS:
            if name in have:
                continue
            for statement in statements:
                backend.execute(statement)
            backend.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
            done.append(name)
    return done


def drop_everything(backend: PostgresBackend) -> None:
    """Remove downwatch's tables (tests reuse one database; `downwatch migrate --replace`)."""
    with backend.atomic():
        for table in TABLES:
            backend.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        backend.execute("DROP FUNCTION IF EXISTS downwatch_fence")
