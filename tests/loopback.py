"""A real HTTP server on 127.0.0.1 whose routes each test programs (a fake at the real boundary, no mocks).

    async with LoopbackServer() as server:
        server.json("/api/v2/summary.json", {...})
        server.hang("/slow")                      # accepts, reads the request, never answers
        server.drip("/drip", interval=0.05)       # answers 200 and then one byte per interval
        url = server.url_for("/api/v2/summary.json")

Routes can be changed while the server runs; every request is recorded in `server.requests`.
Nothing here sleeps to let test time pass: `drip` paces the *server*, and hanging handlers are released
the moment the server closes.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HTML_502 = b"""<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>
"""


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released): connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    """aiohttp.web on 127.0.0.1:`port` (0 = any free port) with per-path programmable behaviour."""

    def __init__(self, *, port: int = 0, max_drip_chunks: int = 10_000) -> None:
        self._port = port
        self._max_drip_chunks = max_drip_chunks
        self._routes: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.requests: list[SeenRequest] = []

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> LoopbackServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()  # releases hanging and dripping handlers at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. http://127.0.0.1:41234."""
        return f"http://127.0.0.1:{self._port}"

    def url_for(self, path: str) -> str:
        return self.url + path

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    # ------------------------------------------------------------ programming routes

    def route(self, path: str, handler: Handler) -> None:
        """Any aiohttp handler, for behaviour the helpers below do not cover."""
        self._routes[path] = handler

    def reply(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A fixed answer."""
        payload = body.encode() if isinstance(body, str) else body

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.Response(body=payload, status=status, headers=dict(headers or {}))
            response.content_type = content_type
            return response

        self.route(path, handler)

    def json(self, path: str, obj: Any, *, status: int = 200) -> None:
        self.reply(path, jsonlib.dumps(obj).encode(), status=status)

    def html(self, path: str, body: bytes = HTML_502, *, status: int = 502) -> None:
        self.reply(path, body, status=status, content_type="text/html")

    def redirect(self, path: str, location: str, *, status: int = 301) -> None:
        self.reply(path, b"", status=status, content_type="text/plain", headers={"Location": location})

    def hang(self, path: str) -> None:
        """Accept the connection and the request, then never answer (until the server closes)."""

        async def handler(request: web.Request) -> web.StreamResponse:
            await self._closing.wait()
            return web.Response(status=503)

        self.route(path, handler)

    def drip(
        self,
        path: str,
        *,
        interval: float,
        chunk: bytes = b" ",
        status: int = 200,
        content_type: str = "application/json",
    ) -> None:
        """Send the headers at once, then `chunk` every `interval` seconds, never finishing the body."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(status=status)
            response.content_type = content_type
            await response.prepare(request)
            for _ in range(self._max_drip_chunks):
                try:
                    await response.write(chunk)
                except (ConnectionError, RuntimeError):
                    break  # the client gave up
                try:
                    await asyncio.wait_for(self._closing.wait(), interval)
                    break
                except TimeoutError:
                    continue
            return response

        self.route(path, handler)

    def cut(self, path: str, body: bytes, *, declared_length: int) -> None:
        """Promise `declared_length` bytes, send `body`, then drop the connection mid-body."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(status=200)
            response.content_type = "application/json"
            response.content_length = declared_length
            await response.prepare(request)
            await response.write(body)
            if request.transport is not None:
                request.transport.close()
            return response

        self.route(path, handler)

    # ------------------------------------------------------------ dispatch

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            SeenRequest(
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers=dict(request.headers),
                body=body,
            )
        )
        handler = self._routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no route programmed", content_type="text/plain")
        return await handler(request)


# The bot runs on uvloop (bot/runtime.py). Test modules whose results depend on the event loop's own socket
# and TLS errors run on both loops by overriding anyio's backend fixture with these params.
BOTH_LOOPS = [pytest.param("asyncio", id="asyncio"), pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")]


@contextmanager
def on_own_loop(setup: Callable[[LoopbackServer], None] | None = None) -> Iterator[LoopbackServer]:
    """A LoopbackServer on its own thread's event loop, for in-process commands: `downwatch check`,
    `discover`… run their own loop in the test's thread, so the server cannot share it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = LoopbackServer()
    asyncio.run_coroutine_threadsafe(server.__aenter__(), loop).result(timeout=10)
    if setup is not None:
        setup(server)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.__aexit__(None, None, None), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
