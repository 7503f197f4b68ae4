"""A raw-socket HTTP server on 127.0.0.1 that answers every request in one chosen bad way (issue 11, defects).

    async with BadServer(Way.BAD_STATUS_LINE) as server:
        url = server.url          # every path misbehaves the same way
        server.received           # the raw bytes each connection sent, for asserting what the client wrote

It speaks HTTP/1.1 by hand (asyncio streams, no HTTP library) so that it can break the protocol in the ways a
library would refuse to. Nothing here sleeps to let test time pass: the endless body paces the *server*, and
a silent connection is released the moment the server closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from functools import cache

from tests.loopback import closed_port

HEAD_LIMIT = 64 * 1024
BOMB_BYTES = 64 << 20  # what the gzip bomb expands to: 32 times the default 2 MiB cap, about 64 KiB on the wire


class Way(StrEnum):
    BAD_STATUS_LINE = "bad-status-line"
    TRUNCATED_HEADERS = "truncated-headers"
    RESET_MID_BODY = "reset-mid-body"
    SHORT_BODY = "short-body"  # Content-Length says more than is sent, then the server closes
    BAD_CHUNKED = "bad-chunked"
    GZIP_BOMB = "gzip-bomb"
    ENDLESS_BODY = "endless-body"
    SILENT = "silent"  # accepts, reads the request, never answers
    TLS_GARBAGE = "tls-garbage"  # the URL is https; the server answers the handshake in plain text
    REDIRECT_LOOP = "redirect-loop"
    EMPTY_200 = "empty-200"
    REDIRECT_REFUSED = "redirect-refused"  # to another 127.0.0.x host whose port is closed


# The ways in which no answer ever completes: a check gets through them only by its own deadline.
NEVER_ANSWER = frozenset({Way.ENDLESS_BODY, Way.SILENT})


@cache
def gzip_bomb() -> bytes:
    """BOMB_BYTES of JSON whitespace, gzipped (built once per test run)."""
    header = gzip.compress(b"", mtime=0)[:10]  # a gzip member's fixed header; then raw deflate, CRC, size
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = b" " * (1 << 20)  # made a MiB at a time: the test process never holds the expanded body
    body, crc = bytearray(), 0
    for _ in range(BOMB_BYTES >> 20):
        body += deflate.compress(block)
        crc = zlib.crc32(block, crc)
    return header + bytes(body + deflate.flush()) + struct.pack("<II", crc, BOMB_BYTES & 0xFFFFFFFF)


class BadServer:
    """Answers every request on 127.0.0.1 in `way`; `host` may be another loopback address (127.0.0.2)."""

    def __init__(self, way: Way, *, host: str = "127.0.0.1") -> None:
        self.way = way
        self.host = host
        self.received: list[bytearray] = []  # one per connection, everything the client sent on it
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._refused = closed_port()

    async def __aenter__(self) -> BadServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):  # releases silent and endless answers at once
            writer.transport.abort()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def hung_up(self) -> None:
        """Until every connection so far has been closed by the client (all it sent is in `received`)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.way is Way.TLS_GARBAGE else "http"
        return f"{scheme}://{self.host}:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = bytearray()
        self.received.append(seen)
        self._open.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._answer(reader, writer, seen)
        except asyncio.IncompleteReadError as exc:  # the client hung up: keep what it sent last
            seen += exc.partial
        except (OSError, asyncio.LimitOverrunError):
            pass  # the client gave up first: that is what several of these ways are for
        finally:
            self._open.discard(writer)
            writer.transport.abort()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: bytearray) -> None:
        way = self.way
        if way is Way.TLS_GARBAGE:  # a TLS ClientHello has no blank line: answer the first bytes
            seen += await reader.read(HEAD_LIMIT)
            writer.write(_head("200 OK", b"{}") + b"{}")
            await writer.drain()
            return
        while True:  # keep-alive: the redirect ways get several requests on one connection
            head = await reader.readuntil(b"\r\n\r\n")
            seen += head
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
            if way is Way.SILENT:  # until the client gives up, or __aexit__ aborts the connection
                seen += await reader.read()
                return
            if await self._one(writer, path):
                return

    async def _one(self, writer: asyncio.StreamWriter, path: bytes) -> bool:
        """Answer one request; True when the connection is done with."""
        way = self.way
        if way is Way.BAD_STATUS_LINE:
            writer.write(b"HTPT/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}")
        elif way is Way.TRUNCATED_HEADERS:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Le")
        elif way is Way.RESET_MID_BODY:
            writer.write(_head("200 OK", length=100_000) + b'{"components": [' + b" " * 4000)
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        elif way is Way.SHORT_BODY:
            writer.write(_head("200 OK", length=5000) + b'{"components": []')
        elif way is Way.BAD_CHUNKED:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"zz\r\n{}\r\n0\r\n\r\n")
        elif way is Way.GZIP_BOMB:
            bomb = gzip_bomb()
            writer.write(_head("200 OK", length=len(bomb), extra=b"Content-Encoding: gzip\r\n") + bomb)
        elif way is Way.ENDLESS_BODY:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            while not writer.is_closing():  # paces the server, not the test: the client's deadline ends it
                writer.write(b"1\r\n \r\n")
                await writer.drain()
                await asyncio.sleep(0.02)
        elif way is Way.REDIRECT_LOOP:
            writer.write(_redirect(path))
            await writer.drain()
            return False
        elif way is Way.EMPTY_200:
            writer.write(_head("200 OK", length=0))
            await writer.drain()
            return False
        elif way is Way.REDIRECT_REFUSED:
            writer.write(_redirect(b"http://127.0.0.2:%d%s" % (self._refused, path)))
        await writer.drain()
        return True


def _head(status: str, body: bytes = b"", *, length: int | None = None, extra: bytes = b"") -> bytes:
    size = len(body) if length is None else length
    return (b"HTTP/1.1 " + status.encode() + b"\r\nContent-Type: application/json\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % size)


def _redirect(location: bytes) -> bytes:
    return b"HTTP/1.1 301 Moved Permanently\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"


class MovedPage(BadServer):
    """A page that has moved: `/api/v2/summary.json` answers `301 Location: <location>` (relative, or on
    another server), anything else answers 200 with `body`. What each connection sent is in `received`."""

    def __init__(self, body: bytes, *, location: str = "/moved", host: str = "127.0.0.1",
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(Way.EMPTY_200, host=host)
        self.body, self.location, self._tls = body, location, tls

    async def __aenter__(self) -> MovedPage:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self._tls)
        return self

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://{self.host}:{self.port}"

    async def _one(self, writer: asyncio.StreamWriter, path: bytes) -> bool:
        if path == b"/api/v2/summary.json":
            writer.write(_redirect(self.location.encode()))
        else:
            writer.write(_head("200 OK", self.body) + self.body)
        await writer.drain()
        return False


@contextlib.contextmanager
def in_thread(make: Callable[[], BadServer]) -> Iterator[BadServer]:
    """A server on its own thread's loop, for in-process commands (`bot.cli.main` runs its own loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = make()

    def call(step: Awaitable[object]) -> object:
        return asyncio.run_coroutine_threadsafe(step, loop).result(timeout=10)  # type: ignore[arg-type]

    try:
        call(server.__aenter__())
        yield server
    finally:
        call(server.__aexit__(None, None, None))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
