"""A crowd on the web server (bot/web/traffic.py): gzip made once per render, requests admitted a few per turn
of the event loop, so that a check due meanwhile waits for a few answers, not for a crowd's."""

from __future__ import annotations

import asyncio
import gzip
import socket

import httpx
import pytest

from bot.web.traffic import PER_TURN, Compressed, Pace, Paced, Turns, accepts_gzip
from tests.web.world import World, running

pytestmark = pytest.mark.anyio




@pytest.mark.parametrize(("header", "takes"), [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8, *;q=0.1", True), ("*", True),
    ("GZIP", True), ("x-gzip", True), ("", False), ("identity", False), ("deflate, br", False),
    ("gzip;q=0", False), ("*;q=0", False), ("gzip;q=0, *", False), ("gzip;q=abc", False), ("gzipped", False),
])
def test_accept_encoding_is_read_with_its_weights(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes


async def test_answers_are_gzipped_once_for_clients_that_take_it(world: World) -> None:
    world.outage()
    async with running(world) as url:
        async with httpx.AsyncClient(base_url=url) as client:  # asks for gzip and inflates it, as browsers do
            plain = {path: await client.get(path, headers={"Accept-Encoding": "identity"})
                     for path in ("/", "/api/v2/summary.json", "/metrics")}
            for path, first in plain.items():
                answer = await client.get(path)
                assert answer.headers["Content-Encoding"] == "gzip" and answer.headers["Vary"] == "Accept-Encoding"
                assert int(answer.headers["Content-Length"]) < len(first.content) / 3
                assert "Content-Encoding" not in first.headers
                if path != "/metrics":  # its counters move between two scrapes
                    assert answer.content == first.content
            tiny = await client.get("/healthz")
            assert "Content-Encoding" not in tiny.headers  # too small to be worth it


async def test_compressed_is_made_once_per_body_and_shared() -> None:
    squeeze = Compressed()
    body = b"<rect class='day s-ok'/>" * 10_000  # large: compressed on the executor
    first, second = await asyncio.gather(squeeze("/", body), squeeze("/", body))
    assert first is second and gzip.decompress(first) == body
    assert await squeeze("/", body) is first
    other = b"<rect class='day s-major'/>" * 10_000  # a new render: a new encoding
    assert gzip.decompress(await squeeze("/", other)) == other


async def test_a_burst_is_admitted_a_few_per_turn_in_order() -> None:
    turns = Turns()
    turn = 0
    started: list[tuple[int, int]] = []

    async def request(number: int) -> None:
        await turns.admit()
        started.append((number, turn))

    async def count_turns() -> None:
        nonlocal turn
        while len(started) < 200:
            turn += 1
            await asyncio.sleep(0)

    await asyncio.gather(count_turns(), *(request(n) for n in range(200)))
    assert [number for number, _ in started] == list(range(200))  # first come, first answered
    per_turn: dict[int, int] = {}
    for _, at in started:
        per_turn[at] = per_turn.get(at, 0) + 1
    assert max(per_turn.values()) <= PER_TURN
    assert len(per_turn) >= 200 // PER_TURN


async def test_a_crowd_is_answered_a_few_per_turn_of_the_loop(world: World) -> None:
    """200 requests read in one turn of the loop are answered PER_TURN a turn (counted at every turn by what
    reached the clients' sockets): a check due meanwhile waits for a few answers, not for 200 (without the
    admission, all 200 are written in one turn)."""
    async with running(world) as url:
        host, port = url.removeprefix("http://").split(":")
        async with httpx.AsyncClient(base_url=url) as client:
            await client.get("/", headers={"Accept-Encoding": "identity"})  # rendered once: answers are cheap
        loop = asyncio.get_running_loop()
        crowd: list[socket.socket] = []
        for _ in range(200):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex((host, int(port)))
            crowd.append(sock)
            await asyncio.sleep(0)  # the server accepts it
        await asyncio.sleep(0.2)
        for sock in crowd:  # all 200 requests in the kernel before the loop looks again
            sock.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answered: list[int] = []
        finished = loop.create_future()

        def count() -> None:  # once a turn
            ready = 0
            for sock in crowd:
                try:
                    ready += bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
                except BlockingIOError:
                    pass
            answered.append(ready)
            if ready < len(crowd) and len(answered) < 1000:
                loop.call_soon(count)
            else:
                finished.set_result(None)

        loop.call_soon(count)
        await finished
        for sock in crowd:
            sock.close()
    assert answered[-1] == 200
    assert max(b - a for a, b in zip(answered, answered[1:], strict=False)) <= PER_TURN, answered


class Recorder(asyncio.Protocol):
    """A connection's protocol that notes, with the loop's turn, what it was fed."""

    def __init__(self, clock: list[int], log: list[tuple[int, int, bytes | None]], number: int) -> None:
        self.clock, self.log, self.number = clock, log, number

    def data_received(self, data: bytes) -> None:
        self.log.append((self.clock[0], self.number, data))

    def eof_received(self) -> bool | None:
        self.log.append((self.clock[0], self.number, None))
        return None


async def test_bytes_that_arrive_together_are_fed_a_few_connections_per_turn() -> None:
    """200 clients send at once, then end their stream: their protocols are fed their bytes PER_TURN a turn
    (without Pace, all 200 in one), each connection its bytes before its end of stream; nothing is lost."""
    pace = Pace()
    turn = [0]
    log: list[tuple[int, int, bytes | None]] = []
    made = iter(range(1000))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Paced(Recorder(turn, log, next(made)), pace), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    crowd: list[socket.socket] = []
    for _ in range(200):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        crowd.append(sock)
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)  # every connection accepted
    for n, sock in enumerate(crowd):  # all in the kernel before the loop looks again
        sock.send(b"GET /%d HTTP/1.1\r\n\r\n" % n)
        sock.shutdown(socket.SHUT_WR)
    while len(log) < 400 and turn[0] < 5000:
        turn[0] += 1
        await asyncio.sleep(0)
    for sock in crowd:
        sock.close()
    server.close()
    per_turn: dict[int, int] = {}
    for at, _, data in log:
        if data is not None:  # the parsing; an end of stream costs next to nothing and is not metered alone
            per_turn[at] = per_turn.get(at, 0) + 1
    assert len(log) == 400
    assert max(per_turn.values()) <= PER_TURN, per_turn
    fed: dict[int, list[bytes | None]] = {}
    for _, number, data in log:
        fed.setdefault(number, []).append(data)
    assert all(len(got) == 2 and got[0] and got[0].startswith(b"GET /") and got[1] is None for got in fed.values())
