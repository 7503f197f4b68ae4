"""Probe throughput (issue 6 items 2 and 3): the real `check_http` through each client option, beside a bare loop.

Each run is `concurrency` workers probing as fast as they can for `seconds`, in a fresh process, while a
ticker measures how late the event loop wakes up (the lag a scheduled job would see). The figures: probes/s,
CPU µs per probe, loop lag p99, failures. Clients compared in the same run:

- bare:     asyncio streams, hand-written HTTP/1.1 GET; the floor of what Python's event loop costs per probe
- httpx:    make_client() over httpcore's own pool (what it shipped before this bench)
- sharded:  several make_client() instances, ~10 connections each, one shared SSLContext
- aiohttp:  httpx's API on aiohttp's engine (httpx_aiohttp.AiohttpTransport): make_client() as it ships
- raw:      aiohttp's own ClientSession.get, no httpx and no check_http: the ceiling of the library underneath
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bench.common import cpu_seconds, percentile, rss_mb
from bot import runtime

CLIENTS = ("bare", "httpx", "sharded", "aiohttp", "raw")


async def ticker(lags: list[float], stop: asyncio.Event, period: float = 0.005) -> None:
    """Event-loop lag: how late a 5 ms sleep wakes up, in ms."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + period
        await asyncio.sleep(period)
        lags.append(max(0.0, (loop.time() - due) * 1000.0))


async def drive(probe: Callable[[], Awaitable[bool]], *, concurrency: int, seconds: float) -> dict[str, Any]:
    """Run `probe` from `concurrency` workers for `seconds`; count successes and failures."""
    ok = failed = 0
    stop = asyncio.Event()
    lags: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal ok, failed
        while time.perf_counter() < deadline:
            if await probe():
                ok += 1
            else:
                failed += 1

    # warm up (imports, first connections, SSL context) before the clock starts
    for _ in range(3):
        await probe()
    tick = asyncio.create_task(ticker(lags, stop))
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    stop.set()
    await tick
    n = ok + failed
    return {
        "probes": n, "ok": ok, "failed": failed, "seconds": elapsed, "per_s": n / elapsed if elapsed else 0.0,
        "cpu_us": 1e6 * cpu / n if n else 0.0, "cpu_share": cpu / elapsed if elapsed else 0.0,
        "lag_p99_ms": percentile(lags, 99), "rss_mb": rss_mb(),
    }


def ssl_context(cert: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cert) if cert else ssl.create_default_context()


def bare_probe(url: str, ctx: ssl.SSLContext | None) -> Callable[[], Awaitable[bool]]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    tls = ctx if parts.scheme == "https" else None

    async def probe() -> bool:
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
            writer.write(request)
            head = await reader.readuntil(b"\r\n")
            await reader.read()
            writer.close()
            return head.startswith(b"HTTP/1.1 200")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return False

    return probe


def raw_probe(url: str, ctx: ssl.SSLContext, concurrency: int):  # type: ignore[no-untyped-def]
    """(probe, close) on aiohttp's ClientSession directly: what the library costs without httpx's API."""
    import aiohttp

    session: aiohttp.ClientSession | None = None

    async def probe() -> bool:
        nonlocal session
        if session is None:
            connector = aiohttp.TCPConnector(ssl=ctx, limit=max(10, concurrency))
            session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        try:
            async with session.get(url) as response:
                return response.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    async def close() -> None:
        if session is not None:
            await session.close()

    return probe, close


async def http_probe(kind: str, url: str, cert: str | None, concurrency: int):  # type: ignore[no-untyped-def]
    """(probe, close) for one of the httpx options, each going through the real check_http."""
    import httpx

    from bot.checks.client import make_client
    from bot.checks.http import HttpMonitor, check_http
    from bot.model import Status

    ctx = ssl_context(cert)
    monitor = HttpMonitor(name="bench", url=url, timeout=10.0)
    now = lambda: datetime.now(UTC)  # noqa: E731
    limit = max(10, concurrency)
    if kind == "httpx":  # httpcore's own pool: what make_client() built before this bench
        transport = httpx.AsyncHTTPTransport(verify=ctx, limits=httpx.Limits(max_connections=limit))
        clients = [make_client(transport=transport, max_connections=limit)]
    elif kind == "sharded":
        shards = max(1, limit // 10)
        clients = [make_client(transport=httpx.AsyncHTTPTransport(verify=ctx, limits=httpx.Limits(max_connections=10)))
                   for _ in range(shards)]
    elif kind == "aiohttp":  # exactly what make_client() ships: httpx's API on aiohttp's pool
        clients = [make_client(ssl_context=ctx, max_connections=limit)]
    else:
        raise ValueError(kind)
    turn = 0

    async def probe() -> bool:
        nonlocal turn
        turn += 1
        result = await check_http(monitor, client=clients[turn % len(clients)], now=now)
        return result.components[0].status is Status.OPERATIONAL

    async def close() -> None:
        for c in clients:
            await c.aclose()

    return probe, close


async def measure(args: dict[str, Any]) -> dict[str, Any]:
    kind, url, cert = args["client"], args["url"], args.get("cert")
    concurrency, seconds = int(args["concurrency"]), float(args["seconds"])
    if kind == "bare":
        result = await drive(bare_probe(url, ssl_context(cert)), concurrency=concurrency, seconds=seconds)
    else:
        if kind == "raw":
            probe, close = raw_probe(url, ssl_context(cert), concurrency)
        else:
            probe, close = await http_probe(kind, url, cert, concurrency)
        try:
            result = await drive(probe, concurrency=concurrency, seconds=seconds)
        finally:
            await close()
    return {"client": kind, "concurrency": concurrency, **result}


if __name__ == "__main__":
    print(json.dumps(runtime.run(measure(json.loads(sys.argv[1])))))
