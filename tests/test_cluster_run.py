"""Two replicas of `app.run` on one PostgreSQL database, in one process: one leads, one follows, /healthz says
which, the follower answers commands from the shared database, a clean stop hands over at once. And what the
command line says for a cluster: `downwatch cluster`, refused credentials, a password in the TOML, PostgreSQL
unreachable at start. (Real processes, kill -9 and the network faults: tests/test_chaos.py.)"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from adapters.console import render_reply
from bot import app, cli, wording
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.cluster import Lease, read_cluster, render_cluster
from bot.config import Cluster, Config, Route, Web, load_config
from bot.model import AlertKind, Command, CommandKind
from bot.simulator import Phase, SimulatedProvider
from tests.fakes.recording import RecordingAdapter
from tests.loopback import closed_port
from tests.pg import PgServer, via
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.anyio


async def until(condition, *, within: float = 20.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Poll `condition` (sync or async) every 20 ms until it holds, failing after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {within}s")
        await asyncio.sleep(0.02)


def replica_config(url: str, page: str, tmp_path: Path) -> Config:
    monitor = StatuspageMonitor(name="OpenAI", url=page, interval=1.0, timeout=0.5, kind="statuspage",
                                routes=(Route("chat", "C1"),))
    return Config(path=str(tmp_path / "dw.toml"), database=url, monitors=(monitor,),
                  web=Web(host="127.0.0.1", port=0, refresh=30), cluster=Cluster(ttl=2.0, renew=0.5))


async def test_two_replicas_one_leads_the_follower_answers_and_a_clean_stop_hands_over(
        pg_url: str, tmp_path: Path) -> None:
    async with SimulatedProvider() as sim:
        config = replica_config(pg_url, sim.url, tmp_path)
        chats = [RecordingAdapter(name="chat"), RecordingAdapter(name="chat")]
        stops = [asyncio.Event(), asyncio.Event()]
        urls: list[list[str]] = [[], []]
        runs = [asyncio.create_task(app.run(config, stop=stops[i], adapters={"chat": chats[i]},
                                            on_web=urls[i].append)) for i in range(2)]
        try:
            async with httpx.AsyncClient() as client:
                async def roles() -> list[str]:
                    if not all(urls):
                        return []
                    return [(await client.get(u[0] + "/healthz")).text for u in urls]

                await until(lambda: _both(roles), what="one leader and one follower")
                said = await roles()
                leader = said.index("ok (leader)\n")
                follower = 1 - leader
                assert said[follower] == "ok (follower)\n"
                scraped = [(await client.get(u[0] + "/metrics")).text for u in urls]  # summed: exactly 1
                assert "downwatch_cluster_leader 1.0" in scraped[leader]
                assert "downwatch_cluster_leader 0.0" in scraped[follower]

                def seen() -> bool:  # the leader's first poll is in: a state to compare the next with
                    with psycopg.connect(pg_url) as conn:
                        return bool(conn.execute("SELECT state IS NOT NULL FROM monitors").fetchone()[0])

                await until(seen, what="the leader's first poll")
                polled = (await client.get(urls[leader][0] + "/metrics")).text  # the scheduler's own lag, served
                counted = [line for line in polled.splitlines() if line.startswith("downwatch_scheduler_lag_seconds_count")]
                assert counted and float(counted[0].split()[-1]) >= 1
                async def follower_page_says(status: str) -> bool:  # its versions are read every SHARED_FOR
                    summary = (await client.get(urls[follower][0] + "/api/v2/summary.json")).json()
                    return {c["status"] for c in summary["components"]} == {status}

                await until(lambda: follower_page_says("operational"), within=3.0,
                            what="the follower's page to show the leader's first poll")
                sim.set_phase(Phase.MAJOR)
                await until(lambda: any(c.op == "post" for c in chats[leader].calls), what="the leader's post")
                assert not chats[follower].calls  # only the leader sends
                # the follower answers /status from the shared database
                reply = await chats[follower].handler(Command(CommandKind.OVERVIEW))
                assert "OpenAI" in render_reply(reply) and "major outage" in render_reply(reply).lower()
                # ... and its pages follow the leader's writes (the monitors' versions are the database's)
                async def follower_page_says_major() -> bool:
                    summary = (await client.get(urls[follower][0] + "/api/v2/summary.json")).json()
                    return any(c["name"] == "Chat Completions" and c["status"] == "major_outage"
                               for c in summary["components"])

                await until(follower_page_says_major, within=3.0, what="the follower's page to show the outage")

                stops[leader].set()  # a clean stop releases the lease: the follower leads at its next beat
                await asyncio.wait_for(runs[leader], 10)
                await until(lambda: _is(client, urls[follower][0], "ok (leader)\n"), within=3.0,
                            what="the follower to lead within a beat or two of the release")
                sim.set_phase(Phase.RECOVERED)
                await until(lambda: len([c for c in chats[follower].calls if c.kind.value == "resolved"]) == 2,
                            what="the new leader's recovery: an edit and a thread line")
                resolved = [c for c in chats[follower].calls if c.kind.value == "resolved"]
                assert {c.op for c in resolved} == {"edit", "reply"}  # under the first leader's message
                assert [c.op for c in chats[leader].calls if c.op == "post"] == ["post"]
                assert all(c.ref == "m1" for c in resolved)  # the first leader's message (its adapter's id)
        finally:
            for stop in stops:
                stop.set()
            await asyncio.gather(*runs, return_exceptions=True)
    view = read_cluster(pg_url)
    assert view.epoch == 2  # two terms: the first leader's and its successor's


async def test_a_named_cluster_changes_its_monitors_one_replica_at_a_time(pg_url: str, tmp_path: Path) -> None:
    """A rolling change: the replica with the new config joins as a follower (not refused as another
    cluster), the old leader's monitors stay the watched ones until it goes, then the new one's are."""
    async with SimulatedProvider() as sim:
        old = replica_config(pg_url, sim.url, tmp_path)
        old = dataclasses.replace(old, cluster=dataclasses.replace(old.cluster, name="prod"))
        added = dataclasses.replace(old.monitors[0], name="OpenAI (added)")
        new = dataclasses.replace(old, monitors=(*old.monitors, added))
        stops = [asyncio.Event(), asyncio.Event()]
        urls: list[list[str]] = [[], []]
        runs = [asyncio.create_task(app.run(old, stop=stops[0], adapters={"chat": RecordingAdapter(name="chat")},
                                            on_web=urls[0].append))]

        def active() -> dict[str, bool]:
            with psycopg.connect(pg_url) as conn:
                return {name: bool(on) for name, on in conn.execute("SELECT name, active FROM monitors")}

        def polled(name: str) -> bool:
            with psycopg.connect(pg_url) as conn:
                row = conn.execute("SELECT state IS NOT NULL FROM monitors WHERE name = %s", [name]).fetchone()
            return bool(row and row[0])

        try:
            async with httpx.AsyncClient() as client:
                await until(lambda: urls[0] and _is(client, urls[0][0], "ok (leader)\n"), what="the old replica to lead")
                runs.append(asyncio.create_task(app.run(new, stop=stops[1], adapters={
                    "chat": RecordingAdapter(name="chat")}, on_web=urls[1].append)))
                await until(lambda: urls[1] and _is(client, urls[1][0], "ok (follower)\n"),
                            what="the new replica to follow")
                assert not runs[1].done()  # joined, not refused as another cluster
                assert active() == {"OpenAI": True, "OpenAI (added)": False}  # the leader's config rules
                assert "prod" in render_cluster(read_cluster(pg_url))
                stops[0].set()  # the old replica goes (to be restarted with the new config): the new one leads
                await asyncio.wait_for(runs[0], 10)
                await until(lambda: _is(client, urls[1][0], "ok (leader)\n"), within=5.0, what="the new one to lead")
                assert active() == {"OpenAI": True, "OpenAI (added)": True}
                await until(lambda: polled("OpenAI (added)"), what="the added monitor's first poll")
        finally:
            for stop in stops:
                stop.set()
            await asyncio.gather(*runs, return_exceptions=True)
    assert not [r for r in runs if r.exception() is not None]


def test_a_cluster_name_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"DOWNWATCH_DATABASE_URL": "postgresql://dw@db/dw"}
    path = write_config(tmp_path, "", '[cluster]\nname = "prod"\n')
    assert load_config(str(path), env).cluster.name == "prod"
    assert load_config(str(write_config(tmp_path, "")), env).cluster.name == ""
    path = write_config(tmp_path, "", '[cluster]\nname = "prod eu/1"\n')
    assert cli.main(["validate", "--config", str(path)], env=env) == 2
    assert f"{path}: cluster.name: 'prod eu/1' is not a cluster name" in capsys.readouterr().err
    path = write_config(tmp_path, 'database = "dw.db"\n', '[cluster]\nname = "prod"\n')
    assert cli.main(["validate", "--config", str(path)], env={}) == 2
    assert "cluster.name: a cluster needs a PostgreSQL database" in capsys.readouterr().err


async def _both(roles) -> bool:  # type: ignore[no-untyped-def]
    said = await roles()
    return sorted(said) == ["ok (follower)\n", "ok (leader)\n"]


async def _is(client: httpx.AsyncClient, url: str, text: str) -> bool:
    return (await client.get(url + "/healthz")).text == text


# ---------------------------------------------------------------- the command line


def write_config(tmp_path: Path, database: str, extra: str = "") -> Path:
    path = tmp_path / "dw.toml"
    path.write_text(f'{database}{extra}[[monitors]]\nname = "OpenAI"\ntype = "statuspage"\n'
                    'url = "http://127.0.0.1:9/"\n')
    return path


def test_a_password_in_the_toml_is_refused_with_the_way_to_pass_it(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, 'database = "postgresql://dw:hunter2@db.internal/dw"\n')
    assert cli.main(["validate", "--config", str(path)], env={}) == 2
    err = capsys.readouterr().err
    assert "database: the URL carries a password" in err and "DOWNWATCH_DATABASE_URL" in err
    assert "hunter2" not in err
    # the same URL from the environment is accepted, its password kept out of the config's repr
    config = load_config(str(write_config(tmp_path, "")), {"DOWNWATCH_DATABASE_URL": "postgresql://dw:hunter2@db/dw"})
    assert config.database == "postgresql://dw:hunter2@db/dw" and "hunter2" in config.secrets


def test_run_with_refused_credentials_exits_2_naming_the_reason_not_the_password(
        pg_server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, "")
    url = pg_server.url(password="wrong-password-123")
    assert cli.main(["run", "--config", str(path)], env={"DOWNWATCH_DATABASE_URL": url}) == 2
    err = capsys.readouterr().err
    assert "PostgreSQL refused" in err and "password authentication failed" in err
    assert "wrong-password-123" not in err


def test_cluster_says_who_leads_and_exits_1_without_a_leader(pg_url: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from bot.store import Store

    Store.open(pg_url).close()  # the schema, as the first `downwatch run` leaves it
    path = write_config(tmp_path, "")
    env = {"DOWNWATCH_DATABASE_URL": pg_url}
    assert cli.main(["cluster", "--config", str(path)], env=env) == 1
    with Lease(pg_url, holder="h1:42:abc", cluster="c", host="h1", pid=42, region="eu-west", ttl=10) as lease:
        assert lease.beat() is not None
        capsys.readouterr()
        assert cli.main(["cluster", "--config", str(path)], env=env) == 0
        out = capsys.readouterr().out
        assert "leader: h1:42:abc (epoch 1" in out and "eu-west" in out
        assert cli.main(["cluster", "--config", str(path), "--json"], env=env) == 0
        assert '"epoch": 1' in capsys.readouterr().out


def test_cluster_on_sqlite_says_a_cluster_needs_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, f'database = "{tmp_path / "dw.db"}"\n')
    assert cli.main(["cluster", "--config", str(path)], env={}) == 2
    assert "a cluster needs PostgreSQL" in capsys.readouterr().err


async def test_postgresql_unreachable_at_start_is_said_and_retried_until_stopped(
        caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://dw:secret-pw@127.0.0.1:{closed_port()}/dw"
    stop = asyncio.Event()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the retry pauses, counted instead of waited
        waits.append(seconds)
        if len(waits) == 3:
            stop.set()

    caplog.set_level(logging.ERROR, logger="downwatch")
    assert await app.open_store(url, stop=stop, sleep=sleep) is None
    assert waits == [1.0, 2.0, 5.0]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and all("is not reachable" in line and "trying again" in line for line in lines)
    assert not any("secret-pw" in line for line in lines) and "dw:***@" in lines[0]


def test_a_schema_from_a_newer_downwatch_is_refused_before_any_write(pg_url: str) -> None:
    from bot.store import Store
    from bot.store.postgres import BadDatabase

    Store.open(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (name) VALUES ('m099_from_the_future')")
        before = conn.execute("SELECT COUNT(*) FROM monitors").fetchone()
    with pytest.raises(BadDatabase, match="newer downwatch.*m099_from_the_future.*upgrade downwatch"):
        Store.open(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM monitors").fetchone() == before


async def test_a_replica_without_its_database_for_2_minutes_says_so_once_straight_to_the_channels(
        pg_server: PgServer, pg_url: str, tmp_path: Path) -> None:
    """Its database path black-holed (a proxy that keeps accepting and never answers): no false alarm, and
    after 2 minutes (the clock advanced) one 'downwatch has lost its database' notice, posted directly."""
    proxy = TcpProxy(pg_server.port)
    proxy.start()
    try:
        async with SimulatedProvider() as sim:
            config = replica_config(via(pg_url, *proxy.address), sim.url, tmp_path)
            chat, stop, clock = RecordingAdapter(name="chat"), asyncio.Event(), FakeClock(datetime.now(UTC))
            run = asyncio.create_task(app.run(config, stop=stop, adapters={"chat": chat}, clock=clock))
            try:
                def leading() -> bool:
                    with psycopg.connect(pg_url) as conn:
                        if conn.execute("SELECT to_regclass('lease')").fetchone()[0] is None:
                            return False  # not migrated yet
                        return conn.execute("SELECT COUNT(*) FROM lease").fetchone()[0] == 1

                await until(leading, what="the replica to lead")
                proxy.blackhole()
                sim.set_phase(Phase.MAJOR)  # nothing can be recorded: nothing may be said about it either
                clock.advance(60)
                await asyncio.sleep(0)
                assert not [c for c in chat.calls if c.kind is AlertKind.DATABASE_LOST]
                clock.advance(61)  # past the 2 minutes since the last beat that was answered
                await until(lambda: any(c.kind is AlertKind.DATABASE_LOST for c in chat.calls), within=30.0,
                            what="the lost-database notice")
                clock.advance(600)  # still lost: said once only
                await until(lambda: proxy.accepted >= 1, what="further tries")
                lost = [c for c in chat.calls if c.kind is AlertKind.DATABASE_LOST]
                assert [(c.op, c.channel) for c in lost] == [("post", "C1")]
                assert "has had no answer from PostgreSQL for 2m" in wording.notice_detail(lost[0].alert)
                assert not [c for c in chat.calls if c.kind is not AlertKind.DATABASE_LOST]  # no false alarm
            finally:
                stop.set()
                await asyncio.wait_for(run, 30)
    finally:
        proxy.stop()


def test_replicas_starting_together_register_their_monitors_once_each(pg_url: str) -> None:
    """Three processes syncing a fresh database at once (the first start of a cluster): every monitor gets one
    row and its own small id, whichever process wrote it (the sync is serialized cluster-wide)."""
    import threading

    from bot.store import Store

    stores = [Store.open(pg_url) for _ in range(3)]
    names = [(f"m{i:03d}", "http") for i in range(60)]
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def sync(store: Store, offset: int) -> None:
        start.wait()
        try:
            store.sync_monitors(names[offset:] + names[:offset], datetime.now(UTC))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=sync, args=(store, 20 * i)) for i, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    rows = stores[0].sql.execute("SELECT COUNT(*), COUNT(DISTINCT mid), MIN(mid), MAX(mid) FROM monitors").fetchone()
    assert tuple(rows) == (60, 60, 1, 60)
    for store in stores:
        store.close()


def test_run_with_a_malformed_url_exits_2_saying_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, "")
    url = "postgresql://dw:s3cret-pw@127.0.0.1:5432/dw?sslmode=sometimes"  # libpq refuses the option's value
    assert cli.main(["run", "--config", str(path)], env={"DOWNWATCH_DATABASE_URL": url}) == 2
    err = capsys.readouterr().err
    assert "is not a valid PostgreSQL URL" in err and "s3cret-pw" not in err
