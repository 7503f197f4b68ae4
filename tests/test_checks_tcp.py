"""TCP checks against real sockets on 127.0.0.1: open, refused, never accepted. Nothing leaves the machine."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest

from bot.checks import run_check
from bot.checks.client import ProbeClient
from bot.checks.tcp import TcpMonitor, describe, judge, parse_address
from bot.model import CheckResult, Status
from tests.loopback import BOTH_LOOPS, closed_port

AT = datetime(2026, 9, 29, 18, 30, tzinfo=UTC)


@pytest.fixture(params=BOTH_LOOPS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """The standard loop and uvloop (the bot's) must fail alike."""
    return request.param


def monitor(url: str, **options: object) -> TcpMonitor:
    return TcpMonitor(name="db", url=url, **{"timeout": 2.0, **options})  # type: ignore[arg-type]


async def check(client: ProbeClient, mon: TcpMonitor) -> CheckResult:
    return await run_check(mon, client=client, now=lambda: AT)


def reading(result: CheckResult) -> tuple[Status, str]:
    assert result.readable and result.monitor == "db"
    (only,) = result.components
    return only.status, only.detail


@pytest.fixture
async def listening(anyio_backend: object) -> AsyncIterator[tuple[int, list[int]]]:
    """An asyncio server on 127.0.0.1 that accepts and counts connections; yields (port, [accepted])."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, accepted


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose listener never accepts and whose accept queue is already full: Linux then drops the
    next SYN, so a new connection neither opens nor is refused until the client gives up (a real timeout,
    on loopback). listen(0) queues one connection; the filler takes that place."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        yield port
    finally:
        filler.close()
        listener.close()


@pytest.mark.anyio
async def test_open_port_is_up(listening: tuple[int, list[int]], client: ProbeClient) -> None:
    port, _ = listening
    result = await check(client, monitor(f"tcp://127.0.0.1:{port}"))
    assert reading(result) == (Status.OPERATIONAL, "connected")
    assert result.reached and result.at == AT
    assert result.latency_ms is not None and 0 <= result.latency_ms < 2000


@pytest.mark.anyio
async def test_slow_connect_is_degraded(listening: tuple[int, list[int]], client: ProbeClient) -> None:
    port, _ = listening
    # A limit no connection can meet (below zero ms): judged like HTTP's degraded_after_ms
    status, detail = reading(await check(client, monitor(f"tcp://127.0.0.1:{port}", degraded_after_ms=-1.0)))
    assert status is Status.DEGRADED and detail.startswith("slow: ") and detail.endswith("(limit -1 ms)")


@pytest.mark.anyio
async def test_refused_is_a_major_outage_with_no_answer(client: ProbeClient) -> None:
    result = await check(client, monitor(f"tcp://127.0.0.1:{closed_port()}"))
    assert reading(result) == (Status.MAJOR, "connection refused")
    assert not result.reached and result.latency_ms is None


@pytest.mark.anyio
async def test_never_accepted_times_out(full_backlog: int, client: ProbeClient) -> None:
    result = await check(client, monitor(f"tcp://127.0.0.1:{full_backlog}", timeout=0.3))
    assert reading(result) == (Status.MAJOR, "timed out after 0.3 s")
    assert not result.reached


@pytest.mark.anyio
async def test_a_bad_url_built_in_code_is_data(client: ProbeClient) -> None:
    assert reading(await check(client, monitor("http://127.0.0.1:5432"))) == (Status.MAJOR, "invalid URL")


def test_parse_address() -> None:
    assert parse_address("tcp://db.internal:5432") == ("db.internal", 5432)
    assert parse_address("tcp://[::1]:22") == ("::1", 22)
    assert "tcp://host:port" in str(parse_address("tcp://db.internal"))
    assert "tcp://host:port" in str(parse_address("http://db.internal:80"))
    assert "from 1 to 65535" in str(parse_address("tcp://db:99999"))
    assert "no path" in str(parse_address("tcp://db:5432/x"))


def test_judge_and_describe() -> None:
    mon = monitor("tcp://db:1", degraded_after_ms=100.0)
    assert judge(mon, 99.0) == (Status.OPERATIONAL, "connected")
    assert judge(mon, 150.4) == (Status.DEGRADED, "slow: 150 ms (limit 100 ms)")
    assert describe(TimeoutError(), timeout=10) == "timed out after 10 s"
    # DNS failure is judged here, not looked up: a lookup of a name that does not exist may leave the machine
    assert describe(socket.gaierror(-2, "Name or service not known"), timeout=10) == "DNS lookup failed"
    assert describe(ConnectionRefusedError(111, "Connection refused"), timeout=10) == "connection refused"
    assert describe(OSError(113, "No route to host"), timeout=10) == "could not connect: no route to host"
