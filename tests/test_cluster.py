"""The leader's lease, membership, claims and the cluster view (bot/cluster.py, issue 14), against a real
PostgreSQL (tests/pg.py); the role transition and the membership driver as tables with a fake clock.

Expiry is simulated by moving the lease's expiry into the past on the database: nothing here sleeps for time
to pass."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from bot.clock import FakeClock
from bot.cluster import (
    Backlog,
    ClusterConflict,
    ClusterView,
    Lease,
    LeaseView,
    Member,
    Membership,
    Role,
    RoleChange,
    RoleChangeKind,
    fingerprint,
    new_holder,
    read_cluster,
    render_cluster,
    transition,
)
from tests import pg
from tests.tcpproxy import TcpProxy, partition_missing

CLUSTER = fingerprint([("api", "http"), ("github", "statuspage")])

# ---------------------------------------------------------------- the database


@pytest.fixture
def pg_url(pg_server: pg.PgServer, pg_schema: str) -> Iterator[str]:
    """A fresh database with downwatch's own schema (its migrations, as `downwatch run` leaves it)."""
    url = pg_server.create_database(like=pg_schema)
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def db(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An administrative connection to that database."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def leases(pg_url: str, db: psycopg.Connection[Any]) -> Iterator[dict[str, Lease]]:
    """Leases by holder name, each on its own connection as in separate processes; closed after the test."""
    made: dict[str, Lease] = {}

    class Make(dict[str, Lease]):
        def __missing__(self, holder: str) -> Lease:
            made[holder] = self[holder] = Lease(pg_url, holder=holder, cluster=CLUSTER, host=f"host-{holder}",
                                                pid=1000 + len(made), region="eu-west")
            return made[holder]

    yield Make()
    for lease in made.values():
        lease.close()


def expire(db: psycopg.Connection[Any]) -> None:
    """What the TTL passing looks like to PostgreSQL, without waiting for it."""
    db.execute("UPDATE lease SET expires_at = now() - interval '1 second'")


def log_rows(db: psycopg.Connection[Any]) -> list[tuple[int, str]]:
    return [(epoch, holder) for epoch, holder in db.execute("SELECT epoch, holder FROM lease_log ORDER BY epoch")]


# ---------------------------------------------------------------- the lease on PostgreSQL


def test_two_holders_one_leader_and_renewing_keeps_the_epoch(leases: dict[str, Lease],
                                                              db: psycopg.Connection[Any]) -> None:
    a, b = leases["a"], leases["b"]
    first = a.beat()
    assert first is not None and first.leader and first.holder == "a" and first.epoch == 1
    seen_by_b = b.beat()
    assert seen_by_b is not None and not seen_by_b.leader
    assert (seen_by_b.holder, seen_by_b.epoch) == ("a", 1)
    renewed = a.beat()
    assert renewed is not None and renewed.leader and renewed.epoch == 1
    assert renewed.acquired_at == first.acquired_at and renewed.expires_at > first.expires_at
    assert renewed.lease_age >= timedelta(0) and timedelta(seconds=9) < renewed.expires_in <= timedelta(seconds=10)
    assert log_rows(db) == [(1, "a")]
    assert a.still_leader(1) and not b.still_leader(1)


def test_expiry_lets_the_other_take_over_with_the_next_epoch(leases: dict[str, Lease],
                                                              db: psycopg.Connection[Any]) -> None:
    a, b = leases["a"], leases["b"]
    assert a.beat() is not None
    expire(db)
    taken = b.beat()
    assert taken is not None and taken.leader and (taken.holder, taken.epoch) == ("b", 2)
    assert log_rows(db) == [(1, "a"), (2, "b")]
    late = a.beat()  # the old leader wakes up
    assert late is not None and not late.leader and (late.holder, late.epoch) == ("b", 2)
    assert not a.still_leader(1) and b.still_leader(2)
    assert log_rows(db) == [(1, "a"), (2, "b")]


def test_the_same_holder_after_its_own_expiry_begins_a_new_term(leases: dict[str, Lease],
                                                                 db: psycopg.Connection[Any]) -> None:
    a = leases["a"]
    assert a.beat() is not None
    expire(db)
    again = a.beat()
    assert again is not None and again.leader and again.epoch == 2
    assert log_rows(db) == [(1, "a"), (2, "a")]
    assert not a.still_leader(1) and a.still_leader(2)


def test_epochs_keep_growing_when_the_lease_row_is_deleted(leases: dict[str, Lease],
                                                           db: psycopg.Connection[Any]) -> None:
    assert leases["a"].beat() is not None
    db.execute("DELETE FROM lease")
    view = leases["b"].beat()
    assert view is not None and view.leader and view.epoch == 2  # never epoch 1 again: fencing relies on it
    assert log_rows(db) == [(1, "a"), (2, "b")]


def test_release_hands_over_at_once(leases: dict[str, Lease], db: psycopg.Connection[Any]) -> None:
    a, b = leases["a"], leases["b"]
    assert a.beat() is not None and b.beat() is not None
    assert a.release()
    assert not a.still_leader(1)
    view = b.beat()
    assert view is not None and view.leader and view.epoch == 2
    assert [h for (h,) in db.execute("SELECT holder FROM members ORDER BY holder")] == ["b"]
    assert not a.release()  # no longer ours: nothing to give back


def test_beat_records_the_member(leases: dict[str, Lease], db: psycopg.Connection[Any]) -> None:
    assert leases["a"].beat() is not None
    started, seen = db.execute("SELECT started_at, seen_at FROM members").fetchone()  # type: ignore[misc]
    db.execute("UPDATE members SET seen_at = seen_at - interval '1 minute'")
    assert leases["a"].beat() is not None
    row = db.execute("SELECT cluster, host, pid, region, started_at, seen_at FROM members").fetchone()
    assert row is not None and row[:4] == (CLUSTER, "host-a", 1000, "eu-west")
    assert row[4] == started and row[5] > seen - timedelta(minutes=1)


def test_two_processes_beating_at_once_get_one_leader(pg_url: str, db: psycopg.Connection[Any]) -> None:
    holders = [f"p{i}" for i in range(5)]
    made = [Lease(pg_url, holder=h, cluster=CLUSTER, host="h", pid=i) for i, h in enumerate(holders)]
    start = threading.Barrier(len(made))
    views: list[LeaseView | None] = [None] * len(made)

    def beat(i: int) -> None:
        start.wait()
        views[i] = made[i].beat()

    threads = [threading.Thread(target=beat, args=(i,)) for i in range(len(made))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for lease in made:
        lease.close()
    assert all(v is not None for v in views)
    leaders = [v for v in views if v is not None and v.leader]
    assert len(leaders) == 1 and leaders[0].epoch == 1
    assert {(v.holder, v.epoch) for v in views if v is not None} == {(leaders[0].holder, 1)}
    assert log_rows(db) == [(1, leaders[0].holder)]


def test_a_beat_waits_for_a_fenced_write_under_way(pg_url: str, leases: dict[str, Lease],
                                                   db: psycopg.Connection[Any]) -> None:
    """The store's fence locks the lease row FOR SHARE (bot/store/postgres.py): a beat, which may change the
    row, waits for that write to commit, so no term begins while the old leader's write is under way."""
    a, b = leases["a"], leases["b"]
    assert a.beat() is not None
    answers: list[LeaseView | None] = []
    with psycopg.connect(pg_url) as writer:  # a transaction, as the store's fenced writes are
        assert writer.execute("SELECT 1 FROM lease WHERE name = 'leader' AND holder = 'a' AND epoch = 1 "
                              "AND expires_at > now() FOR SHARE").fetchone() == (1,)
        beating = threading.Thread(target=lambda: answers.append(b.beat()))
        beating.start()
        deadline = time.monotonic() + 5
        while not db.execute("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                             "AND application_name = 'downwatch-lease'").fetchone():
            assert time.monotonic() < deadline, "the beat did not wait for the fenced write"
            time.sleep(0.01)
        assert answers == []
        writer.commit()
    beating.join(5)
    assert len(answers) == 1 and answers[0] is not None and answers[0].holder == "a" and not answers[0].leader


# ---------------------------------------------------------------- claims and the cluster check


def test_a_claim_is_won_by_exactly_one_of_five_at_once(pg_url: str, db: psycopg.Connection[Any]) -> None:
    made = [Lease(pg_url, holder=f"r{i}", cluster=CLUSTER, host="h", pid=i) for i in range(5)]
    start = threading.Barrier(len(made))
    won: list[bool] = [False] * len(made)

    def claim(i: int) -> None:
        start.wait()
        won[i] = made[i].claim("discord:interaction:1234")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(made))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert won.count(True) == 1
    winner = f"r{won.index(True)}"
    assert db.execute("SELECT holder FROM claims").fetchall() == [(winner,)]
    assert not made[0].claim("discord:interaction:1234")  # asking again does not win it either
    assert made[0].claim("discord:interaction:5678")
    db.execute("UPDATE claims SET at = now() - interval '25 hours' WHERE key = 'discord:interaction:1234'")
    assert made[0].prune_claims() == 1
    assert [k for (k,) in db.execute("SELECT key FROM claims")] == ["discord:interaction:5678"]
    for lease in made:
        lease.close()


def test_check_cluster_refuses_a_live_member_of_another_configuration(pg_url: str, leases: dict[str, Lease],
                                                                      db: psycopg.Connection[Any]) -> None:
    assert leases["a"].beat() is not None
    same = Lease(pg_url, holder="c", cluster=CLUSTER, host="host-c", pid=7)
    same.check_cluster()  # the same monitors: one cluster
    other_cluster = fingerprint([("api", "http")])
    other = Lease(pg_url, holder="d", cluster=other_cluster, host="host-d", pid=8)
    with pytest.raises(ClusterConflict) as refused:
        other.check_cluster()
    message = str(refused.value)
    assert message.startswith("this database is used by another downwatch cluster: host host-a, pid 1000, started ")
    assert f"cluster {CLUSTER}" in message and other_cluster in message
    assert message.endswith("point this one at its own database or give both the same configuration, or the same "
                            "[cluster] name to change the monitors one replica at a time")
    db.execute("UPDATE members SET seen_at = now() - interval '31 seconds'")  # 3 × TTL: gone
    other.check_cluster()
    same.close()
    other.close()


@pytest.mark.parametrize(("mine", "theirs", "refused"), [
    (("", CLUSTER), ("", CLUSTER), False),  # no names, the same monitors: one cluster
    (("", "other"), ("", CLUSTER), True),  # no names, other monitors: another cluster, by mistake
    (("prod", "other"), ("prod", CLUSTER), False),  # one name: a change of monitors rolling out
    (("staging", CLUSTER), ("prod", CLUSTER), True),  # two names: two clusters, even with the same monitors
    (("prod", CLUSTER), ("", CLUSTER), False),  # naming a running cluster: the same monitors, one at a time
    (("prod", "other"), ("", CLUSTER), True),  # naming it and changing its monitors at once: refused
])
def test_a_cluster_is_its_name_or_else_its_monitors(pg_url: str, mine: tuple[str, str], theirs: tuple[str, str],
                                                    refused: bool) -> None:
    with (Lease(pg_url, holder="a", name=theirs[0], cluster=theirs[1], host="host-a", pid=1) as running,
          Lease(pg_url, holder="b", name=mine[0], cluster=mine[1], host="host-b", pid=2) as starting):
        assert running.beat() is not None
        if not refused:
            starting.check_cluster()
            return
        with pytest.raises(ClusterConflict) as conflict:
            starting.check_cluster()
        said = str(conflict.value)
        assert "host host-a, pid 1" in said
        if mine[0] and theirs[0]:
            assert said.endswith(f"named {theirs[0]!r} (this one is {mine[0]!r}); point this one at its own "
                                 "database or give both the same [cluster] name")


def test_the_cluster_view_shows_each_members_name(pg_url: str) -> None:
    with Lease(pg_url, holder="a", name="prod", cluster=CLUSTER, host="host-a", pid=1) as lease:
        assert lease.beat() is not None
        view = read_cluster(pg_url)
    assert [m.name for m in view.members] == ["prod"] and view.as_json()["members"][0]["name"] == "prod"
    assert f"prod {CLUSTER}" in render_cluster(view)


def test_fingerprint_is_stable_and_says_which_monitors() -> None:
    pairs = [("api", "http"), ("github", "statuspage"), ("db", "tcp")]
    assert fingerprint(pairs) == fingerprint(reversed(pairs)) == fingerprint(pairs + pairs[:1])
    assert len(fingerprint(pairs)) == 12
    assert fingerprint(pairs) != fingerprint([("api", "tcp"), ("github", "statuspage"), ("db", "tcp")])
    assert fingerprint(pairs) != fingerprint(pairs[:2])
    assert fingerprint([]) == fingerprint([])


def test_holder_names_differ_for_the_same_host_and_pid() -> None:
    first, second = new_holder("web-1", 1), new_holder("web-1", 1)
    assert first.startswith("web-1:1:") and first != second


# ---------------------------------------------------------------- an unreachable database


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_closed_port_fails_a_beat_at_once(caplog: pytest.LogCaptureFixture) -> None:
    lease = Lease(f"postgresql://postgres:pw@127.0.0.1:{_closed_port()}/x", holder="a", cluster=CLUSTER,
                  host="h", pid=1)
    started = time.monotonic()
    assert lease.beat() is None
    assert lease.beat() is None
    assert not lease.still_leader(1) and not lease.claim("k")
    assert time.monotonic() - started < 2
    warned = [r.getMessage() for r in caplog.records if "not reachable" in r.getMessage()]
    assert len(warned) == 1 and "(beat: " in warned[0]  # once per outage, not once per beat


def test_a_restarted_database_costs_one_beat(pg_server: pg.PgServer, leases: dict[str, Lease],
                                             caplog: pytest.LogCaptureFixture) -> None:
    a = leases["a"]
    assert a.beat() is not None
    pg_server.restart_immediate()  # every backend dies at once: our connection is gone
    assert a.beat() is None
    view = a.beat()  # reconnected; the lease survived the restart and is still ours
    assert view is not None and view.leader and view.epoch == 1
    assert [r.getMessage() for r in caplog.records if "reachable again" in r.getMessage()] == [
        "cluster: PostgreSQL reachable again"]


def test_a_black_hole_fails_a_beat_within_the_deadline_and_the_lease_comes_back(
        pg_server: pg.PgServer, pg_url: str, db: psycopg.Connection[Any]) -> None:
    proxy = TcpProxy(pg_server.port)
    proxy.start()
    lease = Lease(pg.via(pg_url, *proxy.address), holder="a", cluster=CLUSTER, host="h", pid=1, timeout=1.0)
    try:
        assert lease.beat() is not None  # connected through the proxy
        proxy.blackhole()  # the connection stays open, the kernel acknowledges, nothing answers
        started = time.monotonic()
        assert lease.beat() is None  # cut by the deadline: libpq's TCP timeouts cannot see this
        cut_after = time.monotonic() - started
        assert 0.9 < cut_after < 2.5
        started = time.monotonic()
        assert lease.beat() is None  # a new connection into the black hole: libpq's connect_timeout (3 s)
        assert time.monotonic() - started < 5
        proxy.heal()
        view = lease.beat()
        assert view is not None and view.leader and view.epoch == 1
    finally:
        lease.close()
        proxy.stop()


def test_a_partition_fails_a_beat_by_libpqs_own_timeout(pg_server: pg.PgServer, pg_url: str,
                                                         db: psycopg.Connection[Any]) -> None:
    """A dead path (nothing acknowledged): tcp_user_timeout=3000 ends the beat, well before our deadline."""
    reason = partition_missing()
    if reason:
        pytest.skip(reason)
    proxy = TcpProxy(pg_server.port)
    proxy.start()
    lease = Lease(pg.via(pg_url, *proxy.address), holder="a", cluster=CLUSTER, host="h", pid=1, timeout=30.0)
    try:
        assert lease.beat() is not None
        proxy.partition()
        started = time.monotonic()
        assert lease.beat() is None
        assert 2.5 < time.monotonic() - started < 6
    finally:
        lease.close()
        proxy.stop()


# ---------------------------------------------------------------- the role (pure)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def view(holder: str, epoch: int, *, leader: bool) -> LeaseView:
    return LeaseView(holder=holder, epoch=epoch, leader=leader, acquired_at=T0, expires_at=T0 + timedelta(seconds=10),
                     lease_age=timedelta(0), expires_in=timedelta(seconds=10))


BECAME, LOST = RoleChangeKind.BECAME_LEADER, RoleChangeKind.LOST_LEADERSHIP


@pytest.mark.parametrize(("was", "epoch", "seen", "role", "change"), [
    # nothing known yet
    (Role.UNKNOWN, None, None, Role.UNKNOWN, None),
    (Role.UNKNOWN, None, view("me", 1, leader=True), Role.LEADER, RoleChange(BECAME, 1)),
    (Role.UNKNOWN, None, view("other", 1, leader=False), Role.FOLLOWER, None),
    # a follower
    (Role.FOLLOWER, None, view("other", 1, leader=False), Role.FOLLOWER, None),
    (Role.FOLLOWER, None, view("me", 2, leader=True), Role.LEADER, RoleChange(BECAME, 2)),
    (Role.FOLLOWER, None, None, Role.FOLLOWER, None),
    # a leader renewing, losing, or beginning a new term of its own
    (Role.LEADER, 3, view("me", 3, leader=True), Role.LEADER, None),
    (Role.LEADER, 3, view("me", 4, leader=True), Role.LEADER, RoleChange(BECAME, 4)),
    (Role.LEADER, 3, view("other", 4, leader=False), Role.FOLLOWER, RoleChange(LOST, 3)),
    (Role.LEADER, 3, view("me", 3, leader=False), Role.FOLLOWER, RoleChange(LOST, 3)),  # ours, expired
    (Role.LEADER, 3, None, Role.LEADER, None),  # one failed beat: time decides (Membership)
    # a view of another process's lease is never ours, whatever it says
    (Role.FOLLOWER, None, view("other", 5, leader=True), Role.FOLLOWER, None),
])
def test_transition(was: Role, epoch: int | None, seen: LeaseView | None, role: Role,
                    change: RoleChange | None) -> None:
    assert transition(was, epoch, seen, "me") == (role, change)


# ---------------------------------------------------------------- the membership driver (fake clock)


class ScriptedLease:
    """A lease whose beats answer what the test says: a view, or None (the database did not answer)."""

    holder = "me"
    ttl = 10.0

    def __init__(self) -> None:
        self.answer: LeaseView | None = None
        self.beats = 0

    def beat(self) -> LeaseView | None:
        self.beats += 1
        return self.answer

    def still_leader(self, epoch: int) -> bool:
        return self.answer is not None and self.answer.leader and self.answer.epoch == epoch


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def change(self, role: Role, seen: LeaseView | None) -> None:
        self.events.append((role, None if seen is None else seen.epoch))

    def lost(self) -> None:  # plain functions are fine too
        self.events.append("lost")

    async def found(self) -> None:
        self.events.append("found")


def membership(lease: ScriptedLease, clock: FakeClock, seen: Recorder) -> Membership:
    return Membership(lease=lease, clock=clock, on_change=seen.change, on_lost=seen.lost, on_found=seen.found)


async def beats(member: Membership, clock: FakeClock, count: int, every: float = 2.0) -> None:
    for _ in range(count):
        await member.step()
        clock.advance(every)


def test_lost_after_two_minutes_once_then_found_once() -> None:
    lease, clock, seen = ScriptedLease(), FakeClock(), Recorder()
    member = membership(lease, clock, seen)

    async def scenario() -> None:
        lease.answer = view("other", 1, leader=False)
        await beats(member, clock, 1)
        assert member.role is Role.FOLLOWER and seen.events == []
        lease.answer = None
        await beats(member, clock, 59)  # 118 s without an answer
        assert seen.events == []
        assert member.role is Role.UNKNOWN  # a follower past the TTL no longer knows who leads
        await beats(member, clock, 30)  # 120 s and on: once
        assert seen.events == ["lost"]
        lease.answer = view("other", 1, leader=False)
        await beats(member, clock, 3)
        assert seen.events == ["lost", "found"]
        assert member.role is Role.FOLLOWER and member.view == lease.answer

    asyncio.run(scenario())


def test_a_leader_whose_beats_fail_for_the_ttl_steps_down() -> None:
    lease, clock, seen = ScriptedLease(), FakeClock(), Recorder()
    member = membership(lease, clock, seen)

    async def scenario() -> None:
        lease.answer = view("me", 1, leader=True)
        await beats(member, clock, 2)
        assert seen.events == [(Role.LEADER, 1)] and member.term() == ("me", 1)
        lease.answer = None  # the last success was sent at t=2 s
        await beats(member, clock, 4)  # t=4..10 s: failing, but within the TTL of the last renewal
        assert member.role is Role.LEADER and seen.events == [(Role.LEADER, 1)]
        await member.step()  # t=12 s: 10 s since the last renewal was sent
        assert member.role is Role.UNKNOWN and member.epoch is None and member.term() is None
        assert seen.events == [(Role.LEADER, 1), (Role.UNKNOWN, None)]
        clock.advance(2)
        await beats(member, clock, 3)
        assert seen.events == [(Role.LEADER, 1), (Role.UNKNOWN, None)]  # stepped down once
        lease.answer = view("me", 2, leader=True)  # the database is back; the lease had expired: a new term
        await member.step()
        assert seen.events[-1] == (Role.LEADER, 2) and member.term() == ("me", 2)

    asyncio.run(scenario())


def test_a_new_term_of_our_own_is_announced_again() -> None:
    lease, clock, seen = ScriptedLease(), FakeClock(), Recorder()
    member = membership(lease, clock, seen)

    async def scenario() -> None:
        lease.answer = view("me", 1, leader=True)
        await beats(member, clock, 2)
        lease.answer = view("me", 2, leader=True)  # the answer of the beat that took epoch 2 was lost
        await beats(member, clock, 2)
        lease.answer = view("other", 3, leader=False)
        await beats(member, clock, 1)
        assert seen.events == [(Role.LEADER, 1), (Role.LEADER, 2), (Role.FOLLOWER, 3)]
        assert member.role is Role.FOLLOWER and member.epoch is None

    asyncio.run(scenario())


def test_a_beat_that_raises_is_a_failed_beat() -> None:
    class Broken(ScriptedLease):
        def beat(self) -> LeaseView | None:
            raise psycopg.errors.UndefinedTable("relation \"lease\" does not exist")

    lease, clock, seen = Broken(), FakeClock(), Recorder()
    member = membership(lease, clock, seen)
    asyncio.run(beats(member, clock, 61))
    assert seen.events == ["lost"]


def test_two_memberships_on_postgresql_hand_over_on_release(pg_url: str, db: psycopg.Connection[Any]) -> None:
    """The driver with real leases: run() with an injected pause, a clean hand-over, no waiting."""
    clock = FakeClock()
    a = Lease(pg_url, holder="a", cluster=CLUSTER, host="ha", pid=1)
    b = Lease(pg_url, holder="b", cluster=CLUSTER, host="hb", pid=2)
    seen_a, seen_b = Recorder(), Recorder()

    async def scenario() -> None:
        stop = asyncio.Event()
        rounds = 0

        async def pause(seconds: float) -> None:
            nonlocal rounds
            rounds += 1
            clock.advance(seconds)
            if rounds == 3:
                stop.set()

        member_a = Membership(lease=a, clock=clock, on_change=seen_a.change, sleep=pause)
        member_b = Membership(lease=b, clock=clock, on_change=seen_b.change)
        await member_a.run(stop)  # three beats, then stop
        await member_b.step()
        assert (member_a.role, member_b.role) == (Role.LEADER, Role.FOLLOWER)
        assert await member_a.confirm() and not await member_b.confirm()
        assert a.release()
        assert not await member_a.confirm()  # its last beat says leader; the database says no
        await member_b.step()
        assert member_b.role is Role.LEADER and member_b.term() == ("b", 2) and await member_b.confirm()
        assert (seen_a.events, seen_b.events) == ([(Role.LEADER, 1)], [(Role.LEADER, 2)])

    try:
        asyncio.run(scenario())
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------- `downwatch cluster`


def test_read_cluster_shows_the_processes_the_leader_and_the_backlog(pg_url: str, leases: dict[str, Lease],
                                                                     db: psycopg.Connection[Any]) -> None:
    assert leases["a"].beat() is not None and leases["b"].beat() is not None
    db.execute("UPDATE members SET seen_at = now() - interval '1 hour', region = '' WHERE holder = 'b'")
    now = time.time()
    db.execute("INSERT INTO outbox (incident_id, channel, op, alert, platform, state, next_at, created_at) VALUES "
               "('i', 'C1', 'post', '{}', 'slack', 'pending', %s, %s), ('i', 'C1', 'post', '{}', 'slack', 'pending', "
               "%s, %s), ('i', 'C1', 'post', '{}', 'slack', 'sent', 0, 0), "
               "('i', 'C1', 'post', '{}', 'discord', 'failed', 0, 0)", [now - 30, now - 40, now + 60, now])
    view = read_cluster(pg_url)
    assert (view.holder, view.epoch, view.live) == ("a", 1, True)
    assert view.lease_age is not None and view.expires_in is not None
    assert timedelta(seconds=9) < view.expires_in <= timedelta(seconds=10)
    assert [(m.holder, m.host, m.pid, m.region, m.alive, m.leader) for m in view.members] == [
        ("a", "host-a", 1000, "eu-west", True, True), ("b", "host-b", 1001, "", False, False)]
    assert [(b.platform, b.pending) for b in view.backlog] == [("slack", 2)]
    oldest = view.backlog[0].oldest_due
    assert oldest is not None and abs(oldest.timestamp() - (now - 30)) < 1e-3
    assert view.leader == "a"
    as_json = json.loads(json.dumps(view.as_json()))
    assert (as_json["leader"], as_json["epoch"], as_json["cluster"]) == ("a", 1, CLUSTER)
    assert [(m["holder"], m["alive"], m["leader"]) for m in as_json["members"]] == [("a", True, True),
                                                                                  ("b", False, False)]
    assert as_json["backlog"][0]["platform"] == "slack" and as_json["backlog"][0]["pending"] == 2
    text = render_cluster(view)
    assert text.startswith("leader: a (epoch 1, leading for 0s, lease expires in ")
    assert "a        host-a  1000  eu-west  0s ago  leader" in text
    assert "b        host-b  1001  -        1h ago  gone" in text
    assert "slack   2        30s ago" in text


def test_read_cluster_of_an_unreachable_database_says_so() -> None:
    from bot.store.sql import Unavailable

    with pytest.raises(Unavailable, match="not reachable"):
        read_cluster(f"postgresql://postgres:pw@127.0.0.1:{_closed_port()}/x")


def test_render_cluster_without_a_leader() -> None:
    at = T0 + timedelta(minutes=5)
    members = (
        Member(holder="web-1:1:ab12cd", cluster="aaaaaaaaaaaa", host="web-1", pid=1, region="eu-west",
               started_at=T0, seen_age=timedelta(seconds=40), alive=False, leader=False),
        Member(holder="web-2:1:ef34ab", cluster="bbbbbbbbbbbb", host="web-2", pid=1, region="us-east",
               started_at=T0, seen_age=timedelta(seconds=1), alive=True, leader=False),
        Member(holder="web-3:7:0a0b0c", cluster="aaaaaaaaaaaa", host="web-3", pid=7, region="",
               started_at=T0, seen_age=timedelta(seconds=2), alive=True, leader=False),
    )
    expired = ClusterView(at=at, holder="web-1:1:ab12cd", epoch=7, cluster="aaaaaaaaaaaa", live=False, lease_age=timedelta(minutes=5),
                          expires_in=timedelta(seconds=-12), members=members,
                          backlog=(Backlog(platform="discord", pending=1200, oldest_due=at + timedelta(seconds=3)),))
    assert render_cluster(expired) == (
        "leader: none (the lease of web-1:1:ab12cd, epoch 7, expired 12s ago)\n"
        "\n"
        "PROCESS         HOST   PID  REGION   SEEN     STATE     CONFIG\n"
        "web-1:1:ab12cd  web-1  1    eu-west  40s ago  gone      aaaaaaaaaaaa\n"
        "web-2:1:ef34ab  web-2  1    us-east  1s ago   follower  bbbbbbbbbbbb (not the leader's)\n"
        "web-3:7:0a0b0c  web-3  7    -        2s ago   follower  aaaaaaaaaaaa\n"
        "\n"
        "OUTBOX   PENDING  OLDEST DUE\n"
        "discord  1,200    in 3s\n")
    assert expired.leader is None and expired.as_json()["holder"] == "web-1:1:ab12cd"
    empty = ClusterView(at=at, holder=None, epoch=None, cluster=None, live=False, lease_age=None, expires_in=None, members=(),
                        backlog=())
    assert render_cluster(empty) == ("leader: none yet (no process has taken the lease)\n\n"
                                     "processes: none has beaten yet\n\noutbox: nothing pending\n")
