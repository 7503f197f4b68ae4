"""Bad sources (issue 5, item 5): every way a status page can be unreadable, through the real check AND the
engine over a real SQLite store. A bad source is `unknown` ("source unreadable", once, after the threshold)
within its timeout: never an outage of the provider, never a crash; memory and bytes read stay bounded.

Everything is served from 127.0.0.1 (tests/loopback.py, a trustme-signed TLS server); DNS failure is an
injected httpx transport raising the real httpx.ConnectError from socket.gaierror (no lookup is made).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import trustme
from aiohttp import web

from bot.checks import run_check
from bot.checks.client import make_client
from bot.checks.statuspage import MISSING_DETAIL, StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Policy, Route
from bot.model import AlertKind, CheckResult, Status
from tests.loopback import BOTH_LOOPS, LoopbackServer
from tests.wiring import wire

DATA = Path(__file__).parent / "data"
CLEAR = (DATA / "openai_incidentio_compat_summary_2026-07-09_all_operational_sorted_keys.json").read_bytes()
SUMMARY = "/api/v2/summary.json"
UNRESOLVED = "/api/v2/incidents/unresolved.json"
TIMEOUT = 0.5
MiB = 1 << 20


@pytest.fixture(params=BOTH_LOOPS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """Every test here runs on the standard loop and on uvloop (the bot's): their errors must read alike."""
    return request.param


@pytest.fixture
async def server(anyio_backend: object) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer() as srv:
        srv.reply(SUMMARY, CLEAR)
        srv.json(UNRESOLVED, {"incidents": []})
        yield srv


def monitor(url: str, **options: object) -> StatuspageMonitor:
    values: dict[str, object] = {"timeout": TIMEOUT, "interval": 60.0, "policy": Policy(),
                                 "routes": (Route("chat", "#ops"),)}
    values.update(options)
    return StatuspageMonitor(name="Provider", url=url, **values)  # type: ignore[arg-type]


class Pipeline:
    """The real check → engine → store, over one SQLite file, on a fake clock."""

    def __init__(self, path: Path, mon: StatuspageMonitor, client: httpx.AsyncClient) -> None:
        self.clock = FakeClock()
        self.monitor = mon
        self.store, self.watcher, _ = wire(path, [mon], clock=self.clock, client=client).parts()
        self.kinds: list[AlertKind] = []
        self.results: list[CheckResult] = []
        self.seconds: list[float] = []

    async def poll(self, times: int = 1) -> None:
        async def check(m: StatuspageMonitor, **kw: object) -> CheckResult:
            started = time.perf_counter()
            result = await run_check(m, **kw)  # type: ignore[arg-type]
            self.seconds.append(time.perf_counter() - started)
            self.results.append(result)
            return result

        self.watcher._check = check  # the real check, timed (the Watcher takes it as `check=` too)
        for _ in range(times):
            step = await self.watcher.poll(self.monitor)
            assert step is not None
            self.kinds += [a.kind for a in step.alerts]
            self.clock.advance(60)


async def bad_source_is_unknown_never_an_outage(
    tmp_path: Path, mon: StatuspageMonitor, client: httpx.AsyncClient, make_bad: Callable[[], None]
) -> CheckResult:
    """Seed on a good page, go bad for 3 polls: one 'source unreadable' and nothing else, components kept."""
    bot = Pipeline(tmp_path / "dw.db", mon, client)
    await bot.poll()  # seeds silently from the good page
    assert bot.results[-1].readable and len(bot.results[-1].components) == 25
    make_bad()
    await bot.poll(3)
    bad = bot.results[-1]
    assert not bad.readable and bad.components == () and bad.detail
    assert bot.kinds == [AlertKind.SOURCE_UNREADABLE], bot.kinds  # after the threshold, once
    assert max(bot.seconds) < mon.timeout + 1.0  # within its timeout (plus scheduling slack)
    state = bot.watcher.states[mon.name]
    assert state.incident is None and not state.readable
    assert all(c.status is Status.OPERATIONAL for c in state.components)  # nothing declared down
    assert bot.store.open_incidents() == [] and bot.store.unreadable_monitors() == [mon.name]
    queued = [json.loads(str(row["alert"]))["kind"] for row in bot.store.outbox_rows()]
    assert queued == [AlertKind.SOURCE_UNREADABLE.value]
    assert bot.store.integrity() == "ok"
    return bad


def _cases(server: LoopbackServer) -> dict[str, tuple[Callable[[], None], str]]:
    body = CLEAR
    return {
        "cdn-502": (lambda: server.html(SUMMARY, status=502), "HTTP 502 (HTML page)"),
        "cdn-503": (lambda: server.html(SUMMARY, b"<html><h1>503 Service Unavailable</h1></html>", status=503),
                    "HTTP 503 (HTML page)"),
        "301-to-html": (lambda: (server.redirect(SUMMARY, "/maintenance"),
                                 server.html("/maintenance", b"<html>We'll be right back</html>", status=200)),
                        "HTTP 200 (HTML page, expected JSON) after a redirect"),
        "html-as-json": (lambda: server.reply(SUMMARY, b"<!DOCTYPE html><html></html>"), "HTML page, expected JSON"),
        "truncated": (lambda: server.reply(SUMMARY, body[: len(body) // 2]), "invalid JSON"),
        "invalid": (lambda: server.reply(SUMMARY, b"{'components': [}"), "invalid JSON"),
        "not-utf8": (lambda: server.reply(SUMMARY, b'{"components": "\xff\xfe"}'), "invalid JSON"),
        "array": (lambda: server.json(SUMMARY, [1, 2, 3]), "unexpected JSON shape: not an object"),
        "components-not-a-list": (lambda: server.json(SUMMARY, {"components": {"a": 1}}),
                                  "unexpected JSON shape: no components list"),
        "nameless-component": (lambda: server.json(SUMMARY, {"components": [{"status": "major_outage"}]}),
                               "unexpected JSON shape: a component without a name"),
        "deep-nesting": (lambda: server.reply(SUMMARY, b"[" * 100_000), "invalid JSON"),
        "hang": (lambda: server.hang(SUMMARY), f"timed out after {TIMEOUT:g} s"),
        "drip": (lambda: server.drip(SUMMARY, interval=0.05, chunk=b" "), f"timed out after {TIMEOUT:g} s"),
        "cut": (lambda: server.cut(SUMMARY, body[:1000], declared_length=len(body)),
                "connection closed without a valid response"),
        "empty-200": (lambda: server.reply(SUMMARY, b""), "invalid JSON"),
    }


CASES = ["cdn-502", "cdn-503", "301-to-html", "html-as-json", "truncated", "invalid", "not-utf8", "array",
         "components-not-a-list", "nameless-component", "deep-nesting", "hang", "drip", "cut", "empty-200"]


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES)
async def test_bad_source_is_unknown_through_check_and_engine(
    case: str, tmp_path: Path, server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    make_bad, detail = _cases(server)[case]
    bad = await bad_source_is_unknown_never_an_outage(tmp_path, monitor(server.url), client, make_bad)
    assert bad.detail == detail


@pytest.mark.anyio
async def test_readable_again_is_said_once_and_nothing_was_ever_down(
    tmp_path: Path, server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    bot = Pipeline(tmp_path / "dw.db", monitor(server.url), client)
    await bot.poll()
    server.html(SUMMARY, status=502)
    await bot.poll(4)
    server.reply(SUMMARY, CLEAR)
    await bot.poll(3)
    assert bot.kinds == [AlertKind.SOURCE_UNREADABLE, AlertKind.SOURCE_READABLE]
    assert bot.store.recent_incidents(limit=5) == []


# ---------------------------------------------------------------- 50 MB, bounded


def fifty_megabytes(server: LoopbackServer, *, declare_length: bool) -> dict[str, int]:
    """A route streaming 50 MB of valid-looking JSON in 64 KiB chunks; counts what was really sent."""
    sent = {"bytes": 0}
    total = 50 * MiB
    chunk = b'{"components":[' + b" " * (64 * 1024 - 15)

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        response.content_type = "application/json"
        if declare_length:
            response.content_length = total
        await response.prepare(request)
        try:
            while sent["bytes"] < total:
                await response.write(chunk)  # waits for the socket to drain: a reader that stops, stops us
                sent["bytes"] += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up at its cap
        return response

    server.route(SUMMARY, handler)
    return sent


@pytest.mark.anyio
@pytest.mark.parametrize("declare_length", [False, True], ids=["chunked", "content-length"])
async def test_a_50_mb_body_stops_at_the_cap_with_bounded_memory(
    declare_length: bool, tmp_path: Path, server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    mon = monitor(server.url, timeout=5.0)  # the default 2 MiB cap
    bot = Pipeline(tmp_path / "dw.db", mon, client)
    await bot.poll()
    sent = fifty_megabytes(server, declare_length=declare_length)
    tracemalloc.start()
    try:
        await bot.poll(3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await asyncio.sleep(0)  # let the server notice the hang-up (no time needs to pass)
    assert [r.detail for r in bot.results[1:]] == ["body over 2 MiB"] * 3
    assert bot.kinds == [AlertKind.SOURCE_UNREADABLE]
    # three polls of a 50 MB page: what the server managed to push (kernel buffers included) is bounded
    assert sent["bytes"] < 3 * 12 * MiB, sent
    if declare_length:
        assert sent["bytes"] < 3 * 8 * MiB  # refused on the header; only buffers filled
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"
    print(f"50 MB body ({'declared' if declare_length else 'chunked'}): server sent "
          f"{sent['bytes'] / MiB:.1f} MiB over 3 polls; peak traced memory {peak / MiB:.1f} MiB")


# ---------------------------------------------------------------- TLS and DNS


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.mark.anyio
async def test_self_signed_tls_is_unknown(
    tmp_path: Path, authority: trustme.CA, client: httpx.AsyncClient, server: LoopbackServer
) -> None:
    cert = authority.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    app = web.Application()

    async def summary(request: web.Request) -> web.Response:
        return web.Response(body=CLEAR, content_type="application/json")

    async def unresolved(request: web.Request) -> web.Response:
        return web.json_response({"incidents": []})

    app.router.add_get(SUMMARY, summary)
    app.router.add_get(UNRESOLVED, unresolved)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        # The same server trusted (the CA injected): readable. Untrusted (the bot's client): unknown.
        trusting = ssl.create_default_context()
        authority.configure_trust(trusting)
        async with httpx.AsyncClient(verify=trusting) as trusted:
            ok = await run_check(monitor(f"https://127.0.0.1:{port}"), client=trusted, now=FakeClock().now)
        assert ok.readable and len(ok.components) == 25

        bot = Pipeline(tmp_path / "dw.db", monitor(f"https://127.0.0.1:{port}"), client)
        bot.watcher.apply(bot.monitor, ok)  # seed with what the page said while it was trusted
        await bot.poll(3)
        assert bot.kinds == [AlertKind.SOURCE_UNREADABLE]
        assert bot.results[-1].detail.startswith("TLS error: ") and "certificate" in bot.results[-1].detail
        assert not bot.results[-1].reached and max(bot.seconds) < TIMEOUT + 1.0
    finally:
        await runner.cleanup()


class FailingDNS(httpx.AsyncBaseTransport):
    """What httpx raises when getaddrinfo fails: ConnectError from socket.gaierror. No lookup is made."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request.url.host)
        error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        raise httpx.ConnectError(f"[Errno {error.errno}] {error.strerror}", request=request) from error


@pytest.mark.anyio
async def test_dns_failure_is_unknown(tmp_path: Path, server: LoopbackServer, client: httpx.AsyncClient) -> None:
    good = await run_check(monitor(server.url), client=client, now=FakeClock().now)
    dns = FailingDNS()
    async with make_client(transport=dns) as failing:
        bot = Pipeline(tmp_path / "dw.db", monitor("https://status.provider.invalid"), failing)
        bot.watcher.apply(bot.monitor, good)
        await bot.poll(3)
    assert bot.kinds == [AlertKind.SOURCE_UNREADABLE]
    assert {r.detail for r in bot.results} == {"DNS lookup failed"}
    assert not bot.results[-1].reached
    assert set(dns.asked) == {"status.provider.invalid"}


# ---------------------------------------------------------------- components renamed or removed


def page(*components: tuple[str, str]) -> bytes:
    return json.dumps({"components": [{"id": f"id-{name}", "name": name, "status": status}
                                      for name, status in components], "incidents": []}).encode()


@pytest.mark.anyio
async def test_filtered_component_renamed_or_removed_is_unknown_not_down(
    tmp_path: Path, server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.reply(SUMMARY, page(("API", "operational"), ("Chat", "operational")))
    bot = Pipeline(tmp_path / "dw.db", monitor(server.url, components=("API", "Chat")), client)
    await bot.poll()
    server.reply(SUMMARY, page(("API v2", "major_outage"), ("Chat", "operational")))  # renamed (and down)
    await bot.poll(3)
    result = bot.results[-1]
    assert result.readable
    api = next(r for r in result.components if r.name == "API")
    assert (api.status, api.detail) == (Status.UNKNOWN, MISSING_DETAIL)
    assert "API v2" not in {r.name for r in result.components}  # not in the filter: not watched
    assert bot.kinds == []  # unknown is not down, and not a recovery either
    state = {c.name: c for c in bot.watcher.states["Provider"].components}
    assert state["API"].status is Status.OPERATIONAL and state["API"].observed is Status.UNKNOWN
    server.reply(SUMMARY, page(("Chat", "operational")))  # removed
    await bot.poll(2)
    assert bot.kinds == [] and bot.store.open_incidents() == []


@pytest.mark.anyio
async def test_unfiltered_component_renamed_or_removed_is_never_an_outage(
    tmp_path: Path, server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.reply(SUMMARY, page(("API", "operational"), ("Chat", "operational")))
    bot = Pipeline(tmp_path / "dw.db", monitor(server.url), client)
    await bot.poll()
    server.reply(SUMMARY, page(("API (v2)", "operational"), ("Chat", "operational")))
    await bot.poll(3)
    server.reply(SUMMARY, page(("Chat", "operational")))
    await bot.poll(3)
    assert bot.kinds == [] and bot.store.open_incidents() == []
    assert {c.name for c in bot.watcher.states["Provider"].components} == {"Chat"}
