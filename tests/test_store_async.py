"""The per-check writes awaited on PostgreSQL (issue 14: psycopg's async connections and their pool): a check
whose commit waits on the database does not hold up the others, a monitor's own changes still apply one at
a time, and a database that stops answering costs a bounded wait and `Unavailable`, then heals. Against the
test suite's real PostgreSQL; the statements are the blocking path's (tests/test_store.py runs those on both)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from bot.checks.client import make_client
from bot.checks.http import HttpMonitor
from bot.clock import FakeClock
from bot.config import Route
from bot.model import CheckResult, ComponentReading, RegionReading, Status
from bot.store import Store, Unavailable, postgres
from bot.store.sql import Fenced, Write, statements
from bot.watch import Watcher
from tests.pg import PgServer, via
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
A = HttpMonitor(name="a", url="http://127.0.0.1:9/a", routes=(Route("chat", "C1"),))
B = HttpMonitor(name="b", url="http://127.0.0.1:9/b", routes=(Route("chat", "C1"),))


class Results:
    """The check the watcher runs: each monitor answers what `status` says now, at the fake clock's time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.status = {A.name: Status.OPERATIONAL, B.name: Status.OPERATIONAL}

    async def __call__(self, monitor: HttpMonitor, **_: object) -> CheckResult:
        status = self.status[monitor.name]
        return CheckResult(monitor=monitor.name, at=self.clock.now(), readable=True, latency_ms=3.0,
                           components=(ComponentReading(monitor.name, status, "HTTP 500" if status is not
                                                        Status.OPERATIONAL else "HTTP 200"),))


async def until(condition, *, within: float = 10.0, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {within}s")
        await asyncio.sleep(0.01)


@contextmanager
def row_locked(url: str, monitor: str) -> Iterator[None]:
    """Another session holds `monitor`'s row FOR UPDATE: its next state write waits for the lock."""
    with psycopg.connect(url, autocommit=True) as blocker, blocker.transaction():
        blocker.execute("SELECT 1 FROM monitors WHERE name = %s FOR UPDATE", [monitor])
        yield


def waiting(url: str) -> int:
    """downwatch's statements waiting on a lock right now."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'downwatch' "
                           "AND wait_event_type = 'Lock'").fetchone()
        return int(row[0]) if row else 0


@asynccontextmanager
async def watching(url: str) -> AsyncIterator[tuple[Store, Watcher, Results, FakeClock]]:
    clock = FakeClock(T0)
    store = Store.open(url)
    store.sync_monitors([(A.name, A.kind), (B.name, B.kind)], clock.now())
    results = Results(clock)
    async with make_client() as client:
        try:
            yield store, Watcher(monitors=[A, B], store=store, client=client, clock=clock, check=results), \
                results, clock
        finally:
            await store.aclose()


async def test_a_commit_waiting_on_postgresql_does_not_hold_up_another_monitors_check(pg_url: str) -> None:
    async with watching(pg_url) as (store, watcher, results, clock):
        await watcher.poll(A)
        await watcher.poll(B)
        clock.advance(60)
        results.status[A.name] = Status.MAJOR  # a's state moves: its monitor row is written
        results.status[B.name] = Status.MAJOR
        with row_locked(pg_url, A.name):
            a = asyncio.create_task(watcher.poll(A))
            await until(lambda: waiting(pg_url) == 1, what="a's commit to wait on the row lock")
            # With blocking calls the loop itself would wait here until the lock timed out (3 s), b after it.
            step = await asyncio.wait_for(watcher.poll(B), timeout=2.0)
            assert step is not None and step.state.components[0].observed is Status.MAJOR
            assert not a.done()
        step = await a
        assert step is not None
    reopened = Store.open(pg_url)
    try:
        stored = reopened.load_states()
        assert stored[A.name] == step.state  # a's commit landed after the lock went, whole
    finally:
        reopened.close()


async def test_a_monitors_changes_still_apply_one_at_a_time(pg_url: str) -> None:
    """Two results of one monitor in flight together: the second is stepped from the state the first left,
    so two failures in a row open the incident (the policy's threshold), as they do one after the other."""
    async with watching(pg_url) as (store, watcher, results, clock):
        await watcher.poll(A)
        clock.advance(60)
        results.status[A.name] = Status.MAJOR
        with row_locked(pg_url, A.name):
            first = asyncio.create_task(watcher.poll(A))
            await until(lambda: waiting(pg_url) == 1, what="the first commit to wait on the row lock")
            second = asyncio.create_task(watcher.poll(A))
            await asyncio.sleep(0)
            assert not second.done()
        steps = await asyncio.gather(first, second)
        assert [s is not None and s.opened is not None for s in steps] == [False, True]
        assert [i.monitor for i in store.open_incidents()] == [A.name]


async def test_readings_are_written_and_read_back_awaited(pg_url: str) -> None:
    store = Store.open(pg_url)
    try:
        store.sync_monitors([(A.name, A.kind)], T0)
        for region, status in (("eu-west", Status.MAJOR), ("us-east", Status.OPERATIONAL)):
            await store.awrite_reading(A.name, RegionReading(region=region, at=T0, status=status, failures=2,
                                                             successes=0, latency_ms=4.0, detail="HTTP 500"))
        read = await store.areadings(A.name)
        assert read == store.readings(A.name)
        assert {r: (v.status, v.at) for r, v in read.items()} == {
            "eu-west": (Status.MAJOR, T0), "us-east": (Status.OPERATIONAL, T0)}
    finally:
        await store.aclose()


async def test_a_database_that_stops_answering_costs_a_bounded_wait_then_heals(
        pg_server: PgServer, pg_url: str) -> None:
    Store.open(pg_url).close()  # migrated directly, then reached through the proxy
    proxy = TcpProxy(pg_server.port)
    proxy.start()
    try:
        async with watching(via(pg_url, *proxy.address)) as (store, watcher, results, clock):
            store.sql.watchdog.seconds = 0.5  # type: ignore[attr-defined]  # (the default 6 s, shortened)
            await watcher.poll(A)
            clock.advance(60)
            results.status[A.name] = Status.MAJOR
            proxy.blackhole()  # packets accepted, nothing ever answered
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            ticker = asyncio.create_task(tick())
            began = asyncio.get_running_loop().time()
            with pytest.raises(Unavailable, match="no answer within 0.5s"):
                await store.areadings(A.name)
            # the deadline, not psycopg's cancel request over a new connection on the same dead path (+10 s)
            assert asyncio.get_running_loop().time() - began < 2.0
            assert await watcher.poll(A) is None  # not applied: nothing moved
            ticker.cancel()
            assert ticks >= 20  # the loop ran all along (two 0.5 s waits of 10 ms ticks)
            assert watcher.states[A.name].components[0].observed is Status.OPERATIONAL
            proxy.heal()
            step = await watcher.poll(A)
            assert step is not None and step.state.components[0].candidate is Status.MAJOR
            assert step.state.components[0].streak == 1
    finally:
        proxy.stop()


async def test_a_fenced_commit_lands_only_in_the_current_term(pg_url: str) -> None:
    """The fence goes out in the commit's pipeline, first: the outbox rows carry the term's epoch, and a term
    that is no longer current (or none) commits nothing."""
    async with watching(pg_url) as (store, watcher, results, clock):
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute("INSERT INTO lease (name, holder, epoch, cluster, acquired_at, renewed_at, expires_at) "
                       "VALUES ('leader', 'a', 3, 'x', now(), now(), now() + interval '1 hour')")
            term: tuple[str, int] | None = ("a", 3)
            store.sql.fence = lambda: term  # type: ignore[attr-defined]
            await watcher.poll(A)
            results.status[A.name] = Status.MAJOR
            clock.advance(60)
            await watcher.poll(A)
            clock.advance(60)
            step = await watcher.poll(A)  # the second failure: the incident opens, its message is queued
            assert step is not None and step.opened is not None
            assert db.execute("SELECT DISTINCT epoch FROM outbox").fetchall() == [(3,)]
            before = db.execute("SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM probes)").fetchone()
            results.status[A.name] = Status.OPERATIONAL
            for stale in (("a", 2), ("b", 3), None):
                term = stale
                clock.advance(60)
                assert await watcher.poll(A) is None  # refused: nothing moved
                assert db.execute("SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM probes)"
                                  ).fetchone() == before
            assert watcher.states[A.name] == step.state


async def test_after_the_server_dropped_every_connection_one_check_fails_not_one_per_connection(
        pg_url: str) -> None:
    """The pool hands out its connections untested (a test per use would be a round trip per check). When
    one turns out broken, the others are tested in the background and replaced: after a server restart one
    check fails, not one per pooled connection in turn."""
    store = Store.open(pg_url)
    try:
        store.sync_monitors([(A.name, A.kind)], T0)
        backend = store.sql
        await asyncio.gather(*(store.areadings(A.name) for _ in range(12)))  # the pool grows under load
        pool = backend._apool  # type: ignore[attr-defined]
        await until(lambda: pool.get_stats()["pool_available"] >= 2, what="the async pool to hold 2+ connections")
        with psycopg.connect(pg_url, autocommit=True) as admin:  # what a restart does to them
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'downwatch' AND pid <> pg_backend_pid()")
        with pytest.raises(Unavailable):
            await store.areadings(A.name)
        checking = backend._checking  # type: ignore[attr-defined]
        if checking is not None:  # the test of the others, under way: awaited rather than slept on
            await checking
        for _ in range(pool.get_stats()["pool_size"] + 1):
            assert await store.areadings(A.name) == {}
    finally:
        await store.aclose()


async def test_a_command_on_postgresql_is_answered_off_the_event_loop(pg_url: str) -> None:
    """/status reads tens of ms of history: on PostgreSQL it runs in a worker thread. A read held on a table
    lock shows it: the loop keeps turning while the answer waits (before, the loop itself waited)."""
    from adapters.console import render_reply
    from bot.app import command_handler
    from bot.model import Command, CommandKind

    async with watching(pg_url) as (store, watcher, results, clock):
        results.status[A.name] = Status.MAJOR
        await watcher.poll(A)
        handle = command_handler(store, clock)
        with psycopg.connect(pg_url, autocommit=True) as blocker, blocker.transaction():
            blocker.execute("LOCK TABLE components IN ACCESS EXCLUSIVE MODE")
            answer = asyncio.create_task(handle(Command(CommandKind.OVERVIEW)))
            turns = 0

            def waits_and_counts() -> bool:
                nonlocal turns
                turns += 1
                return waiting(pg_url) == 1

            # Blocking, the read would hold the loop until its lock timeout (3 s) and fail: never seen waiting.
            await until(waits_and_counts, what="the command's read to wait on the lock")
            assert turns >= 2 and not answer.done()  # the loop turned while the read waited
        reply = await asyncio.wait_for(answer, timeout=5.0)
    said = render_reply(reply)
    assert "🔴 a — major outage" in said and "1 open incident" in said


def test_the_watchdog_watches_every_round_trip_in_flight() -> None:
    """The loop's round trip and a command's (in its worker thread) are in flight together: the one past its
    deadline is cut even though the other, answered in time, finished after it started."""
    import socket

    from bot.store.postgres import Watchdog

    class Conn:  # what the watchdog uses of a psycopg connection: its socket
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

        def fileno(self) -> int:
            return self.sock.fileno()

    dog = Watchdog(seconds=0.2)
    slow, slow_peer = socket.socketpair()
    fast, fast_peer = socket.socketpair()
    try:
        with dog.watching(Conn(slow)) as stalled:  # type: ignore[arg-type]
            with dog.watching(Conn(fast)) as answered:  # type: ignore[arg-type]
                pass
            slow_peer.settimeout(5.0)
            assert slow_peer.recv(1) == b""  # its socket was shut down: the stalled round trip fails
            assert stalled.cut and not answered.cut
    finally:
        dog.close()
        for sock in (slow, slow_peer, fast, fast_peer):
            sock.close()


async def test_the_sender_on_postgresql_settles_its_rows_without_holding_the_event_loop(pg_url: str) -> None:
    """The outbox is read and settled awaited: while the leader's sender waits on the database (here its
    `mark_sent` on a row another session holds), the checks go on; the row is sent once, when the lock goes."""
    from bot.outbox import Sender
    from tests.fakes.recording import RecordingAdapter

    async with watching(pg_url) as (store, watcher, results, clock):
        await watcher.poll(A)
        await watcher.poll(B)
        results.status[A.name] = Status.MAJOR
        for _ in range(2):  # the policy's two failures: the incident opens and its message is queued
            clock.advance(60)
            step = await watcher.poll(A)
        assert step is not None and step.opened is not None
        chat = RecordingAdapter()
        sender = Sender(store=store, adapters={"chat": chat}, clock=clock)
        [row] = await store.apending("chat")
        with psycopg.connect(pg_url, autocommit=True) as blocker, blocker.transaction():
            blocker.execute("SELECT 1 FROM outbox WHERE id = %s FOR UPDATE", [row.id])
            delivering = asyncio.create_task(sender.deliver_all())
            await until(lambda: waiting(pg_url) == 1, what="mark_sent to wait on the row lock")
            assert [c.op for c in chat.calls] == ["post"]  # sent; its record waits
            clock.advance(60)
            results.status[B.name] = Status.MAJOR
            # Blocking, the loop itself would wait here until the lock timed out (3 s), the check after it.
            moved = await asyncio.wait_for(watcher.poll(B), timeout=2.0)
            assert moved is not None and moved.state.components[0].observed is Status.MAJOR
            assert not delivering.done()
        assert await asyncio.wait_for(delivering, timeout=5.0) == 1
        assert await store.apending("chat") == [] and [c.op for c in chat.calls] == ["post"]
        assert await store.aparent_ref(row.incident_id, "chat", "C1") == "m1" == store.parent_ref(
            row.incident_id, "chat", "C1")


@contextmanager
def leading(store: Store, url: str, term: tuple[str, int]) -> Iterator[psycopg.Connection[Any]]:
    """`store` writes as the leader of `term` (the lease row says so); yields a connection to look with."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("INSERT INTO lease (name, holder, epoch, cluster, acquired_at, renewed_at, expires_at) "
                   "VALUES ('leader', %s, %s, 'x', now(), now(), now() + interval '1 hour')", term)
        store.sql.fence = lambda: term  # type: ignore[attr-defined]
        yield db


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each query the async path sends (its statements, bound), in order; groups wait 0.2 s for members, so
    that what is in flight together is grouped however slow the machine."""
    sent: list[list[str]] = []
    real = postgres._send

    async def counted(conn: psycopg.AsyncConnection[Any], queued: list[str]) -> None:
        if queued:
            sent.append(list(queued))
        await real(conn, queued)

    monkeypatch.setattr(postgres, "_send", counted)
    monkeypatch.setattr(postgres, "GROUP_FOR", 0.2)
    return sent


async def test_a_leaders_checks_finishing_together_commit_in_one_round_trip(
        pg_url: str, round_trips: list[list[str]]) -> None:
    """Two monitors' checks in flight together, on the leader: one transaction, fenced once, one round trip,
    and both checks' rows and states land (bench item 12: a round trip's CPU paid once for several checks)."""
    async with watching(pg_url) as (store, watcher, results, clock):
        with leading(store, pg_url, ("a", 3)) as db:
            await watcher.poll(A)
            await watcher.poll(B)
            round_trips.clear()
            clock.advance(60)
            results.status[B.name] = Status.MAJOR
            steps = await asyncio.gather(watcher.poll(A), watcher.poll(B))
            assert all(step is not None for step in steps)
            [sent] = round_trips
            assert sent[0] == "BEGIN" and sent[-1] == "COMMIT"
            assert [s for s in sent if "downwatch_fence" in s] == ["SELECT downwatch_fence('a', 3)"]
            assert db.execute("SELECT count(*) FROM probes").fetchone() == (4,)
    reopened = Store.open(pg_url)
    try:
        assert reopened.load_states()[B.name].components[0].observed is Status.MAJOR
    finally:
        reopened.close()


async def test_a_member_the_database_refuses_fails_alone(pg_url: str, round_trips: list[list[str]]) -> None:
    """A group whose transaction fails for one member's statement (a bug) is tried again member by member:
    the others commit, that one raises its own error."""
    store = Store.open(pg_url)
    try:
        with leading(store, pg_url, ("a", 3)) as db:
            good = [store.sql.perform(statements(Write("INSERT INTO probes (mid, ts, status) VALUES (?, ?, 0)",
                                                       [1, n])), fenced=True) for n in range(3)]
            bad = store.sql.perform(statements(Write("INSERT INTO probes (mid, ts, status) VALUES (?, ?, NULL)",
                                                     [1, 99])), fenced=True)
            outcomes = await asyncio.gather(*good, bad, return_exceptions=True)
            assert outcomes[:3] == [None, None, None]
            assert isinstance(outcomes[3], psycopg.errors.NotNullViolation)
            assert db.execute("SELECT ts FROM probes ORDER BY ts").fetchall() == [(0,), (1,), (2,)]
            assert len(round_trips) == 1 + 4  # the group, then each member on its own
    finally:
        await store.aclose()


async def test_a_group_in_a_term_no_longer_current_commits_nothing(pg_url: str,
                                                                    round_trips: list[list[str]]) -> None:
    store = Store.open(pg_url)
    try:
        with leading(store, pg_url, ("a", 3)) as db:
            store.sql.fence = lambda: ("a", 2)  # type: ignore[attr-defined]  # replaced meanwhile
            writes = [store.sql.perform(statements(Write("INSERT INTO probes (mid, ts, status) VALUES (?, ?, 0)",
                                                         [1, n])), fenced=True) for n in range(3)]
            outcomes = await asyncio.gather(*writes, return_exceptions=True)
            assert [type(o) for o in outcomes] == [Fenced] * 3
            assert len({id(o) for o in outcomes}) == 3  # each its own exception
            assert db.execute("SELECT count(*) FROM probes").fetchone() == (0,)
            assert len(round_trips) == 1  # refused together: nothing to try again
    finally:
        await store.aclose()


async def test_a_check_stopped_while_its_group_waits_writes_nothing_and_closing_commits_the_rest(
        pg_url: str, round_trips: list[list[str]]) -> None:
    store = Store.open(pg_url)
    try:
        with leading(store, pg_url, ("a", 3)) as db:
            stopped = asyncio.ensure_future(store.sql.perform(statements(
                Write("INSERT INTO probes (mid, ts, status) VALUES (?, ?, 0)", [1, 1])), fenced=True))
            kept = asyncio.ensure_future(store.sql.perform(statements(
                Write("INSERT INTO probes (mid, ts, status) VALUES (?, ?, 0)", [1, 2])), fenced=True))
            await asyncio.sleep(0)
            stopped.cancel()
            await store.aclose()  # the group goes now, not after its wait
            assert kept.done() and kept.exception() is None
            assert db.execute("SELECT ts FROM probes").fetchall() == [(2,)]
    finally:
        await store.aclose()


async def test_a_row_locked_past_the_lock_timeout_holds_up_its_group_once_then_only_its_own_check(
        pg_url: str, round_trips: list[list[str]]) -> None:
    """Another session holds a's monitor row: the group of a's and b's commits waits for the lock until the
    lock timeout (3 s), then each is committed again on its own: b's lands at once, a's when the lock goes."""
    async with watching(pg_url) as (store, watcher, results, clock):
        with leading(store, pg_url, ("a", 3)):
            await watcher.poll(A)
            await watcher.poll(B)
            round_trips.clear()
            clock.advance(60)
            results.status[A.name] = Status.MAJOR  # a's state moves: its monitor row is written
            results.status[B.name] = Status.MAJOR
            with row_locked(pg_url, A.name):
                a = asyncio.create_task(watcher.poll(A))
                b = asyncio.create_task(watcher.poll(B))
                await until(b.done, within=8.0, what="b's commit, alone after the group's lock timeout")
                assert not a.done()
                assert b.result() is not None
            step = await a
            assert step is not None
            assert len(round_trips) == 1 + 2
    reopened = Store.open(pg_url)
    try:
        stored = reopened.load_states()
        assert stored[A.name] == step.state
        assert stored[B.name].components[0].observed is Status.MAJOR
    finally:
        reopened.close()
