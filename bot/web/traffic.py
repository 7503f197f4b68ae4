"""What keeps a crowd of web clients from delaying the checks that share the event loop (issue 13: 200
concurrent clients, the checks' lag p99 ≤ 10 ms): the bytes clients send are parsed a few connections per turn
of the loop (`Pace`), requests start a few per turn (`Turns`), and a rendered answer is compressed once, not
once per client.
"""

from __future__ import annotations

import asyncio
import gzip
from collections import deque
from collections.abc import Callable
from functools import partial

from aiohttp import web

PER_TURN = 2  # requests started per turn of the event loop: a check due meanwhile waits for ~1 ms of answers
GZIP_LEVEL = 1  # 30× smaller on the page's repeated bars at a fifth of level 6's time
GZIP_FROM = 1024  # bytes: a smaller answer goes as it is
ASIDE = 64 * 1024  # bytes: a larger answer is compressed on another thread (zlib lets go of the GIL)


class PerTurn:
    """At most `per_turn` things go per turn of the event loop; the others wait for later turns, in order."""

    def __init__(self, per_turn: int = PER_TURN) -> None:
        self._per_turn = per_turn
        self._gone = 0
        self._queue: deque[Callable[[], bool]] = deque()
        self._turning = False

    def _room(self) -> bool:
        """Takes a place in this turn if one is free and nothing waits."""
        if self._queue or self._gone >= self._per_turn:
            return False
        self._gone += 1
        self._next_turn()
        return True

    def _later(self, go: Callable[[], bool]) -> None:
        """`go()` in a later turn, after those waiting; it returns False when there was nothing left to do
        (its client went away), which takes no place."""
        self._queue.append(go)
        self._next_turn()

    def _next_turn(self) -> None:
        if not self._turning:
            self._turning = True
            asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        self._turning = False
        self._gone = 0
        while self._queue and self._gone < self._per_turn:
            if self._queue.popleft()():
                self._gone += 1
        if self._queue or self._gone:
            self._next_turn()


class Turns(PerTurn):
    """Admits at most `per_turn` requests per turn of the event loop; the others wait for later turns, in order.

    A burst of 200 requests read in one turn would otherwise all be answered in the next, one after the other,
    and a check due meanwhile waits for all of them (asyncio runs a turn's ready callbacks before the timers
    that fell due). Only the start is metered: a client that is slow to read holds no turn."""

    async def admit(self) -> None:
        if self._room():
            return
        waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._later(partial(_start, waiting))
        await waiting


def _start(waiting: asyncio.Future[None]) -> bool:
    if waiting.done():  # its client went away meanwhile
        return False
    waiting.set_result(None)
    return True


class Pace(PerTurn):
    """Feeds connections the bytes they received, at most `per_turn` of them per turn of the event loop.

    200 clients that send their requests at the same moment are 200 readable sockets in one poll of the loop,
    and aiohttp parses each request as its bytes arrive: 5–10 ms of one turn, while a check due meanwhile
    waits (the timers run after the turn). Queued bytes go out first come, first served, so a connection's
    bytes keep their order."""

    def feed(self, conn: Paced, data: bytes | None) -> bool:
        """Hand `data` (None: the client's end of stream) to `conn` now, or queue it; True when queued."""
        if self._room():
            conn.deliver(data)
            return False
        conn.pending += 1
        self._later(partial(conn.deliver_queued, data))
        return True


class Paced(asyncio.Protocol):
    """One connection's protocol (aiohttp's request handler, `inner`), fed its bytes by `pace`."""

    def __init__(self, inner: asyncio.Protocol, pace: Pace) -> None:
        self._inner = inner
        self._pace = pace
        self._transport: asyncio.BaseTransport | None = None
        self.pending = 0  # bytes (or the end of stream) queued for this connection
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._pace.feed(self, data)

    def eof_received(self) -> bool | None:
        if self.pending:  # after the bytes still queued: the transport stays open until then
            self._pace.feed(self, None)
            return True
        return self._inner.eof_received()

    def deliver_queued(self, data: bytes | None) -> bool:
        self.pending -= 1
        if self.closed:  # its client went away meanwhile
            return False
        self.deliver(data)
        return True

    def deliver(self, data: bytes | None) -> None:
        if data is not None:
            self._inner.data_received(data)
        elif not self._inner.eof_received() and self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class PacedSite(web.TCPSite):
    """aiohttp's TCP site whose connections are fed their bytes by a `Pace` (the server's own protocol inside)."""

    __slots__ = ("_pace",)

    def __init__(self, runner: web.BaseRunner, host: str, port: int, *, pace: Pace) -> None:
        super().__init__(runner, host, port)
        self._pace = pace

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server, pace = self._runner.server, self._pace
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            lambda: Paced(server(), pace), self._host, self._port, backlog=self._backlog)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


class Compressed:
    """The gzip encoding of each kept answer, made when first asked for and kept while the answer is the same
    object (the caches hand out the same bytes until they render again). A large one is compressed on the
    loop's default executor, so that the checks on the loop do not wait for it (10,000 monitors' summary.json
    is 7 MB: 75 ms of zlib); the clients asking meanwhile wait for the same result."""

    def __init__(self, limit: int = 1000) -> None:
        self._kept: dict[str, tuple[bytes, asyncio.Future[bytes]]] = {}
        self._limit = limit

    async def __call__(self, key: str, body: bytes) -> bytes:
        kept = self._kept.get(key)
        if kept is None or kept[0] is not body:
            if len(self._kept) >= self._limit:  # keys include monitor names: bounded however many are asked for
                self._kept.clear()
            loop = asyncio.get_running_loop()
            encode = partial(gzip.compress, body, compresslevel=GZIP_LEVEL, mtime=0)
            if len(body) >= ASIDE:
                encoded = loop.run_in_executor(None, encode)
            else:
                encoded = loop.create_future()
                encoded.set_result(encode())
            kept = self._kept[key] = (body, encoded)
        return await asyncio.shield(kept[1])  # a client going away does not cancel the others' wait


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header accepts gzip (`gzip`, `gzip;q=0.5`, `*`; not `gzip;q=0`)."""
    found = False
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() not in ("gzip", "x-gzip", "*"):
            continue
        quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            if float(quality) <= 0:
                if name.strip() != "*":
                    return False
                continue
        except ValueError:
            continue
        found = True
    return found
