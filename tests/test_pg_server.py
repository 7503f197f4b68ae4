"""The test suite's PostgreSQL tooling against the real server (issue 14): tests/pg.py and tests/tcpproxy.py.

The fault tests block on real timeouts (libpq's connect_timeout, the kernel's TCP_USER_TIMEOUT): that is what
they test. Nothing sleeps for time to pass.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import pg
from tests.tcpproxy import TcpProxy, partition_missing

# What the store does (issue 14), tighter so the tests are quick. libpq's connect_timeout is at least 2 s.
FAST_FAIL: dict[str, Any] = {
    "connect_timeout": 2,
    "tcp_user_timeout": 1000,
    "keepalives": 1, "keepalives_idle": 1, "keepalives_interval": 1, "keepalives_count": 1,
    "options": "-c statement_timeout=2000",
}
BOUND_S = 5.0  # every fault must be noticed within this


@pytest.fixture
def proxy(pg_server: pg.PgServer) -> Iterator[TcpProxy]:
    proxy = TcpProxy(pg_server.port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_a_fresh_database_answers_over_tcp_with_the_password(pg_url: str, pg_server: pg.PgServer) -> None:
    with psycopg.connect(pg_url) as conn:
        name, user, fsync = conn.execute(
            "SELECT current_database(), current_user, current_setting('fsync')").fetchone() or ()
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        conn.execute("CREATE TABLE t (i integer)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        assert conn.execute("SELECT sum(i) FROM t").fetchone() == (3,)
    assert pg_url.endswith(f"/{name}") and user == "postgres" and fsync == "off"
    assert tables == (0,)
    assert pg_url.startswith(f"postgresql://postgres:{pg_server.password}@127.0.0.1:{pg_server.port}/")


def test_each_database_is_its_own(pg_url: str, pg_server: pg.PgServer) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE mine (i integer)")
    other = pg_server.create_database()
    try:
        assert other != pg_url
        with psycopg.connect(other) as conn:
            assert conn.execute("SELECT to_regclass('mine')").fetchone() == (None,)
    finally:
        pg_server.drop_database(other)
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(other, connect_timeout=2)


def test_a_wrong_password_is_refused(pg_server: pg.PgServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.url(password="not-" + pg_server.password), connect_timeout=2)


def test_an_immediate_restart_drops_live_connections_and_keeps_commits(pg_url: str,
                                                                        pg_server: pg.PgServer) -> None:
    conn = psycopg.connect(pg_url, autocommit=True)
    conn.execute("CREATE TABLE t (i integer)")
    conn.execute("INSERT INTO t SELECT generate_series(1, 100)")  # acknowledged, so it must survive
    pg_server.restart_immediate()
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    assert conn.closed
    with psycopg.connect(pg_url) as again:
        assert again.execute("SELECT count(*) FROM t").fetchone() == (100,)


def test_the_proxy_forwards_and_serves_other_processes(pg_url: str, proxy: TcpProxy) -> None:
    proxied = pg.via(pg_url, *proxy.address)
    with psycopg.connect(proxied) as conn:
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)
    child = subprocess.run(
        [sys.executable, "-c", "import psycopg, sys; print(psycopg.connect(sys.argv[1]).execute('SELECT 7').fetchone()[0])",
         proxied], capture_output=True, text=True, timeout=30)
    assert (child.returncode, child.stdout.strip()) == (0, "7"), child.stderr
    assert proxy.accepted == 2


def test_a_black_hole_holds_new_connections_until_connect_timeout_and_heal_lets_them_through(
        pg_url: str, proxy: TcpProxy) -> None:
    proxied = pg.via(pg_url, *proxy.address)
    proxy.blackhole()
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match="timeout expired"):  # held open: no refusal, no reset
        psycopg.connect(proxied, **FAST_FAIL)
    assert time.monotonic() - started < BOUND_S
    assert proxy.accepted == 1
    proxy.heal()
    with psycopg.connect(proxied, **FAST_FAIL) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_black_hole_is_invisible_to_tcp_on_an_open_connection(pg_url: str, proxy: TcpProxy) -> None:
    """The proxy's kernel acknowledges what the client sends, so tcp_user_timeout (1 s) never fires and
    statement_timeout never starts: the query waits until the test cuts the connection. A store facing a
    hung peer needs a deadline of its own (tests/tcpproxy.py)."""
    conn = psycopg.connect(pg.via(pg_url, *proxy.address), autocommit=True, **FAST_FAIL)
    proxy.blackhole()
    outcome: list[BaseException | None] = []

    def query() -> None:
        try:
            conn.execute("SELECT 1")
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    waiting = threading.Thread(target=query, daemon=True)
    waiting.start()
    waiting.join(2.5)  # past tcp_user_timeout (1 s) and statement_timeout (2 s): a deadline, not a sleep
    assert waiting.is_alive() and outcome == []
    proxy.cut()
    waiting.join(BOUND_S)
    assert not waiting.is_alive() and isinstance(outcome[0], psycopg.OperationalError)


@pytest.mark.skipif(partition_missing() is not None, reason=partition_missing() or "")
def test_a_partition_fails_an_open_connection_by_tcp_user_timeout_and_heals(pg_url: str,
                                                                            proxy: TcpProxy) -> None:
    proxied = pg.via(pg_url, *proxy.address)
    conn = psycopg.connect(proxied, autocommit=True, **FAST_FAIL)
    assert conn.execute("SELECT 1").fetchone() == (1,)
    proxy.partition()
    try:
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError, match="timed out"):
            conn.execute("SELECT 1")
        assert 0.9 < time.monotonic() - started < BOUND_S  # the kernel's TCP_USER_TIMEOUT of 1 s
    finally:
        proxy.heal()
    with psycopg.connect(proxied, **FAST_FAIL) as again:
        assert again.execute("SELECT 1").fetchone() == (1,)


def test_a_cut_resets_open_connections_and_the_proxy_keeps_serving(pg_url: str, proxy: TcpProxy) -> None:
    proxied = pg.via(pg_url, *proxy.address)
    conn = psycopg.connect(proxied, autocommit=True, **FAST_FAIL)
    assert conn.execute("SELECT 1").fetchone() == (1,)
    proxy.cut()
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError, match="closed the connection|reset"):
        conn.execute("SELECT 1")
    assert time.monotonic() - started < 1
    with psycopg.connect(proxied, **FAST_FAIL) as again:
        assert again.execute("SELECT 1").fetchone() == (1,)


def test_a_port_taken_before_the_server_binds_it_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1], pg.free_port()]
        monkeypatch.setattr(pg, "free_port", lambda: ports.pop(0))
        server = pg.PgServer.start()
        try:
            assert server.port != taken.getsockname()[1] and ports == []
            with psycopg.connect(server.url(), connect_timeout=2) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        finally:
            server.stop()
    assert not server.data.exists()


def test_the_newest_installed_server_is_used(tmp_path: Path) -> None:
    for version, programs in (("9.6", ["initdb"]), ("15", ["initdb"]), ("16", []), ("common", ["initdb"])):
        (tmp_path / version / "bin").mkdir(parents=True)
        for program in programs:
            (tmp_path / version / "bin" / program).touch()
    assert pg.bindir(tmp_path) == tmp_path / "15" / "bin"  # 16 has no server; "common" is no version
    assert pg.bindir(tmp_path / "nothing") is None
