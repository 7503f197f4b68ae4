"""Chaos (issue 14): two or three real `downwatch run` processes on one PostgreSQL, alerting the fake Slack
(HTTP mode) and the fake Discord (bot mode) about a simulated provider that goes down and recovers, again
and again, while the leader is killed, frozen, cut off from the database, or the database itself restarts.

For each scenario the harness (tests/fakes/cluster.py) counts, and the test asserts:
- lost alerts: 0 (every phase change of the provider is a message on both platforms, in its incident's
  thread, in order);
- duplicates: 0 on Discord (the nonce), on Slack (no idempotency key) at most one per change of leader, or per
  restart of the database (one may fall between Slack's answer and the commit that records it);
- stale commits: 0 (no row written with epoch e from the moment epoch e+1 began), and no stale sends;
- the longest delay from a phase change to the alert's first message, against TTL + renew + one poll
  interval (+ 1 s of scheduling on a busy machine; a thread line follows its edit by the platform's pace);
- the failover time: from the fault to the successor's term in lease_log.
Each prints one line (`pytest -s`). Seeds: DOWNWATCH_CHAOS_SEED; more faults: DOWNWATCH_CHAOS_KILLS (21),
DOWNWATCH_CHAOS_STOPS (2), DOWNWATCH_CHAOS_RESTARTS (3). Nothing sleeps for time to pass: faults land at
seeded random moments scheduled on the loop, and the test waits on conditions with deadlines.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import signal
import time
from collections.abc import AsyncIterator, Sized
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest

from bot.simulator import Phase
from tests import pg
from tests.fakes.botprocess import BotProcess, until
from tests.fakes.cluster import CYCLE, PACE, Cluster, Figures, bound
from tests.tcpproxy import TcpProxy, partition_missing

SEED = int(os.environ.get("DOWNWATCH_CHAOS_SEED", "14"))
KILLS = int(os.environ.get("DOWNWATCH_CHAOS_KILLS", "21"))
STOPS = int(os.environ.get("DOWNWATCH_CHAOS_STOPS", "2"))
RESTARTS = int(os.environ.get("DOWNWATCH_CHAOS_RESTARTS", "3"))
FAULT_WITHIN = 2.0  # s after a phase change: the poll that sees it, the decision, the sends (and Slack's pace)


def check(cluster: Cluster, figures: Figures, *, extra: float = 0.0, interruptions: int = 0) -> None:
    """Print the figures' line, then assert them. `extra`: seconds the fault itself kept every replica from
    deciding or sending (the database restarting), added to the delay bound. `interruptions`: faults besides
    a failover that can fall between Slack's answer and the commit recording it (the database going away
    there: the row is sent again), each allowed one Slack duplicate like a failover."""
    print("\n" + figures.line())
    for detail in figures.lost_detail + figures.stale_detail:
        print("  " + detail)
    assert figures.lost == 0, figures.lost_detail
    assert figures.discord_duplicates == 0
    assert figures.slack_duplicates <= max(0, figures.epochs - 1) + interruptions, "Slack duplicates past the allowance"
    assert figures.stale_commits == 0 and figures.unfenced == 0, figures.stale_detail
    assert figures.stale_sends == 0, figures.stale_detail
    for platform, delay in figures.delay_first.items():
        limit = bound(cluster) + PACE[platform] + extra
        assert delay <= limit, f"{platform}: an alert took {delay:.2f}s (bound {limit:.2f}s)"
    for platform, delay in figures.delay_line.items():
        limit = bound(cluster) + 2 * PACE[platform] + extra
        assert delay <= limit, f"{platform}: a thread line took {delay:.2f}s (bound {limit:.2f}s)"


async def reached(events: Sized, count: int, what: str, *, timeout: float = 15.0) -> None:
    """Wait until `count` events (kills, stops, …) have happened."""
    await until(lambda: len(events) >= count, timeout=timeout, what=what)


@asynccontextmanager
async def cluster(tmp_path: Path, url: str, *, replicas: int, **kwargs: object) -> AsyncIterator[Cluster]:
    async with Cluster(tmp_path, url, replicas=replicas, **kwargs) as c:  # type: ignore[arg-type]
        try:
            yield c
        except BaseException:
            for bot in c.replicas:
                if bot.log.exists():
                    print(f"--- {bot.log}:\n" + bot.log.read_text(errors="replace")[-3000:])
            print("--- timeline (seconds since the start):\n" + c.timeline())
            raise


# ---------------------------------------------------------------- 1. kill -9 of the leader


@pytest.mark.anyio
@pytest.mark.timeout(max(120, 8 * KILLS + 60))
async def test_kill_9_of_the_leader_at_random_moments(tmp_path: Path, pg_url: str) -> None:
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    async with cluster(tmp_path, pg_url, replicas=3) as c:
        await c.start_all()
        kills: list[tuple[float, int, BotProcess]] = []  # (time.time(), the epoch killed, its process)
        failovers: list[float] = []
        cycles = math.ceil(KILLS / len(CYCLE))

        def kill_leader() -> None:
            lead = c.leader()
            if lead is None:  # between two terms (a failover under way): try again in a moment
                loop.call_later(0.05, kill_leader)
                return
            bot = c.replica(lead.pid)
            bot.kill()
            kills.append((time.time(), lead.epoch, bot))
            c.note(f"kill -9 {lead.pid} (epoch {lead.epoch})")

        for cycle in range(1, cycles + 1):
            for phase in CYCLE:
                killing = len(kills) < KILLS
                if killing:
                    loop.call_later(rng.uniform(0.0, FAULT_WITHIN), kill_leader)
                    done = len(kills) + 1
                c.change(cycle, phase)
                if killing:
                    await reached(kills, done, "the kill")
                    killed_at, epoch, bot = kills[-1]
                    await bot.dead()
                    await bot.start()  # restarted at once: three replicas stay up
                    failovers.append(await c.failover(epoch, killed_at))
                await c.settled(cycle, phase)
        figures = c.verify(Figures("kill -9", faults=f"seed {SEED}, {len(kills)} kills of the leader, "
                                   f"3 replicas, {sum(b.starts for b in c.replicas)} starts"), cycles=cycles)
        figures.failovers = failovers
        check(c, figures)
        assert len(kills) >= KILLS
        assert max(failovers) <= c.ttl + c.renew + 1.0, failovers


# ---------------------------------------------------------------- 2. SIGSTOP of the leader past its TTL


@pytest.mark.anyio
@pytest.mark.timeout(max(120, 25 * STOPS + 40))
async def test_sigstop_of_the_leader_past_its_ttl_then_sigcont(tmp_path: Path, pg_url: str) -> None:
    """Frozen at a random moment after a phase change, or right as its message reaches a platform (the answer
    waits for it to wake). The other replica takes over and the provider moves on once more while it is
    frozen; woken, the old leader must neither write nor send (a stale in-memory state, a send in flight)."""
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    async with cluster(tmp_path, pg_url, replicas=2) as c:
        await c.start_all()
        stops: list[tuple[float, int, int, str]] = []  # (time.time(), epoch, pid, how)
        failovers: list[float] = []

        def stop(lead_pid: int, epoch: int, how: str) -> None:
            if len(stops) < done and c.leader() is not None:
                os.kill(lead_pid, signal.SIGSTOP)
                stops.append((time.time(), epoch, lead_pid, how))
                c.note(f"SIGSTOP {lead_pid} (epoch {epoch}, {how})")

        for cycle in range(1, STOPS + 1):
            at = CYCLE[(cycle - 1) % len(CYCLE)]
            how = ("random", "at a send")[(cycle - 1) % 2]
            phases = list(CYCLE)
            index = 0
            while index < len(phases):
                phase = phases[index]
                if phase is not at:
                    c.change(cycle, phase)
                    await c.settled(cycle, phase)
                    index += 1
                    continue
                lead = c.leader()
                assert lead is not None
                done = len(stops) + 1
                if how == "random":
                    loop.call_later(rng.uniform(0.0, FAULT_WITHIN), stop, lead.pid, lead.epoch, how)
                else:
                    c.on_send = lambda s, pid=lead.pid, epoch=lead.epoch: (  # a new message, not an edit
                        stop(pid, epoch, f"at a {s.platform} {s.op}") if s.pid == pid and s.op != "edit" else None)
                c.change(cycle, phase)
                await reached(stops, done, "the leader to be stopped")
                c.on_send = None
                stopped_at, epoch, pid, _ = stops[-1]
                failovers.append(await c.failover(epoch, stopped_at))
                await c.settled(cycle, phase)
                index += 1
                if index < len(phases):  # the provider moves on again while the old leader is frozen
                    c.change(cycle, phases[index])
                    await c.settled(cycle, phases[index])
                    index += 1
                assert time.time() - stopped_at > c.ttl
                woken = time.time()
                os.kill(pid, signal.SIGCONT)
                c.note(f"SIGCONT {pid}")
                # it beats again (as a follower) and what it had in flight has had its chance to go wrong
                await c.beats_again(pid, after=woken)
                now = c.leader()
                assert now is not None and now.pid != pid, "the woken replica leads again"
        figures = c.verify(Figures("SIGSTOP", faults=f"seed {SEED}, {len(stops)} stops of the leader "
                                   f"({', '.join(h for *_, h in stops)}), 2 replicas"), cycles=STOPS)
        figures.failovers = failovers
        check(c, figures)


@pytest.mark.anyio
async def test_a_leader_frozen_inside_a_fenced_transaction_is_replaced(tmp_path: Path, pg_url: str) -> None:
    """The leader is frozen after its transaction has passed the fence (it holds the lease row FOR SHARE) and
    before it commits: PostgreSQL keeps that transaction open as long as the connection lives, so a takeover
    (which must lock the row) waits for it. It must still come within the usual failover time."""
    async with cluster(tmp_path, pg_url, replicas=2) as c:
        await c.start_all()
        c.change(1, Phase.DEGRADED)
        await c.settled(1, Phase.DEGRADED)
        lead = c.leader()
        assert lead is not None

        def inside() -> bool:  # the leader's poll passed its fence and waits for the lock below
            return bool(c.db.rows("SELECT 1 FROM pg_stat_activity WHERE application_name = 'downwatch' "
                                  "AND wait_event_type = 'Lock' AND query LIKE '%%UPDATE monitors%%'"))

        with psycopg.connect(pg_url, autocommit=True) as blocker:
            with blocker.transaction():
                blocker.execute("LOCK TABLE monitors IN EXCLUSIVE MODE")
                await until(inside, what="the leader's transaction to wait inside its fence")
                os.kill(lead.pid, signal.SIGSTOP)
                stopped_at = time.time()
        try:
            c.change(1, Phase.MAJOR)
            failover = await c.failover(lead.epoch, stopped_at, timeout=c.ttl + c.renew + 8)
            await c.settled(1, Phase.MAJOR)
        finally:
            os.kill(lead.pid, signal.SIGCONT)
        c.change(1, Phase.RECOVERED)
        await c.settled(1, Phase.RECOVERED)
        figures = c.verify(Figures("SIGSTOP inside a transaction", faults="1 stop"), cycles=1)
        figures.failovers = [failover]
        check(c, figures)


# ---------------------------------------------------------------- 3. PostgreSQL restarted (immediate)


@pytest.mark.anyio
@pytest.mark.timeout(max(120, 10 * RESTARTS + 60))
async def test_postgresql_restarted_immediately_during_outages(tmp_path: Path) -> None:
    """`pg_ctl restart -m immediate` (every connection dropped, crash recovery) at a random moment after each
    phase change of an outage. A server of its own: the session's would break every other test's pool."""
    reason = pg.missing()
    if reason:
        pytest.skip(reason)
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    server = pg.PgServer.start()
    try:
        async with cluster(tmp_path, server.create_database(), replicas=2) as c:
            await c.start_all()
            restarts: list[tuple[float, float, int]] = []  # (began, ready again, the epoch before)
            failovers: list[float] = []
            kept = 0
            running: set[asyncio.Task[None]] = set()

            async def restart() -> None:
                epoch, began = c.epoch(), time.time()
                c.note("PostgreSQL restart -m immediate")
                await asyncio.to_thread(server.restart_immediate)
                restarts.append((began, time.time(), epoch))
                c.note("PostgreSQL ready")

            def schedule() -> None:
                task = asyncio.ensure_future(restart())
                running.add(task)
                task.add_done_callback(running.discard)

            cycles = math.ceil(RESTARTS / len(CYCLE))
            for cycle in range(1, cycles + 1):
                for phase in CYCLE:
                    done = len(restarts) + 1
                    loop.call_later(rng.uniform(0.0, FAULT_WITHIN), schedule)
                    c.change(cycle, phase)
                    await reached(restarts, done, "PostgreSQL to restart", timeout=40)
                    await c.settled(cycle, phase)
                    began, _, epoch = restarts[-1]
                    after = c.acquired_after(epoch)
                    if after is None:
                        kept += 1  # the leader renewed its lease once the server was back: no failover
                    else:
                        failovers.append(after[1] - began)
            down = max(ready - began for began, ready, _ in restarts)
            figures = c.verify(Figures("PostgreSQL restart", faults=(
                f"seed {SEED}, {len(restarts)} immediate restarts (down up to {down:.2f}s), 2 replicas, "
                f"{kept} kept the leader")), cycles=cycles)
            figures.failovers = failovers
            check(c, figures, extra=down, interruptions=len(restarts))
    finally:
        server.stop()


# ---------------------------------------------------------------- 4. the leader's database path black-holed


@pytest.mark.anyio
@pytest.mark.timeout(150)
async def test_the_leaders_database_traffic_black_holed_then_healed(tmp_path: Path, pg_server: pg.PgServer,
                                                                    pg_url: str) -> None:
    """Replica 0 reaches PostgreSQL only through a TcpProxy; while it leads, during an outage, the proxy goes
    silent (blackhole: acknowledged, never answered) or drops every packet (partition: an nftables rule), until
    the other replica has taken over and delivered the outage's next two phases; then the path heals. Before
    each round replica 0 is made the leader again by a clean stop (SIGTERM) of the other."""
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    proxy = TcpProxy(pg_server.port)
    proxy.start()
    try:
        async with cluster(tmp_path, pg_url, replicas=2, urls=[pg.via(pg_url, *proxy.address), pg_url]) as c:
            await c.start_all()
            a, b = c.replicas
            cuts: list[tuple[float, int, str]] = []  # (time.time(), the epoch cut off, how)
            failovers: list[float] = []
            kinds = ["blackhole", "partition" if partition_missing() is None else "blackhole"]

            def cut(how: str) -> None:
                lead = c.leader()
                if lead is None or lead.pid != a.pid:  # not (or no longer) the leader: this round is void
                    cuts.append((time.time(), -1, how))
                    return
                proxy.blackhole() if how == "blackhole" else proxy.partition()
                cuts.append((time.time(), lead.epoch, how))
                c.note(f"{how} of {lead.pid}'s path (epoch {lead.epoch})")

            for cycle, how in enumerate(kinds, start=1):
                if (lead := c.leader()) is None or lead.pid != a.pid:  # hand the lease back to replica 0
                    assert await b.stop() == 0
                    await until(lambda: (now := c.leader()) is not None and now.pid == a.pid,
                                what="replica 0 to lead after a clean stop")
                    await b.start()
                    await until(lambda: c.members_alive() >= 2, timeout=30, what="replica 1 back")
                c.change(cycle, Phase.DEGRADED)
                await c.settled(cycle, Phase.DEGRADED)
                done = len(cuts) + 1
                loop.call_later(rng.uniform(0.0, FAULT_WITHIN), cut, how)
                c.change(cycle, Phase.MAJOR)
                await reached(cuts, done, "the cut")
                cut_at, epoch, _ = cuts[-1]
                assert epoch > 0, "replica 0 did not lead when its path was cut"
                failovers.append(await c.failover(epoch, cut_at))
                await c.settled(cycle, Phase.MAJOR)
                c.change(cycle, Phase.RECOVERED)
                await c.settled(cycle, Phase.RECOVERED)
                healed = time.time()
                proxy.heal()
                c.note("healed")
                await c.beats_again(a.pid, after=healed)
            figures = c.verify(Figures("database path cut", faults=(
                f"seed {SEED}, {len(cuts)} cuts of the leader's path ({', '.join(h for *_, h in cuts)}), "
                "2 replicas")), cycles=len(kinds))
            figures.failovers = failovers
            check(c, figures)
    finally:
        proxy.stop()


@pytest.mark.anyio
@pytest.mark.timeout(150)
async def test_postgresql_restart_and_the_leader_killed_together(tmp_path: Path) -> None:
    """A correlated failure: the database restarts and, as it comes back, the leader dies (the machine they
    shared, say). The successor takes over with its pool's connections broken by the restart; it must load
    the state the old leader left (the outage open) before it decides anything."""
    reason = pg.missing()
    if reason:
        pytest.skip(reason)
    server = pg.PgServer.start()
    try:
        async with cluster(tmp_path, server.create_database(), replicas=2) as c:
            await c.start_all()
            c.change(1, Phase.DEGRADED)
            await c.settled(1, Phase.DEGRADED)
            lead = c.leader()
            assert lead is not None
            bot = c.replica(lead.pid)
            c.note("PostgreSQL restart -m immediate")
            await asyncio.to_thread(server.restart_immediate)
            bot.kill()
            killed = time.time()
            c.note(f"kill -9 {lead.pid} (epoch {lead.epoch})")
            await bot.dead()
            failover = await c.failover(lead.epoch, killed)
            await bot.start()
            for phase in (Phase.MAJOR, Phase.RECOVERED):
                c.change(1, phase)
                await c.settled(1, phase)
            figures = c.verify(Figures("PostgreSQL restart + kill", faults="a restart, then a kill -9 of the leader"),
                               cycles=1)
            figures.failovers = [failover]
            check(c, figures, interruptions=1)
    finally:
        server.stop()
