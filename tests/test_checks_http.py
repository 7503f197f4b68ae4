"""HTTP health checks against real loopback servers: the target failing is an outage, never an exception."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime

import httpx
import pytest
from aiohttp import web

from bot.checks import run_check
from bot.checks.client import describe_failure, format_size, make_client
from bot.checks.http import HttpMonitor, Probe, judge
from bot.model import CheckResult, Status
from tests.loopback import BOTH_LOOPS, LoopbackServer, closed_port

AT = datetime(2026, 9, 29, 18, 30, tzinfo=UTC)


@pytest.fixture(params=BOTH_LOOPS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    """Every test here runs on the standard loop and on uvloop (the bot's): their errors must read alike."""
    return request.param


def monitor(url: str, **options: object) -> HttpMonitor:
    return HttpMonitor(name="api", url=url, **{"timeout": 2.0, **options})  # type: ignore[arg-type]


async def check(client: httpx.AsyncClient, mon: HttpMonitor) -> CheckResult:
    return await run_check(mon, client=client, now=lambda: AT)


def reading(result: CheckResult) -> tuple[Status, str]:
    assert result.readable, "an HTTP check always reads its target"
    (only,) = result.components
    assert only.name == result.monitor == "api"
    return only.status, only.detail


# ---------------------------------------------------------------- over real HTTP


@pytest.mark.anyio
async def test_healthy_target(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply("/health", b"ok", content_type="text/plain")
    result = await check(client, monitor(server.url_for("/health")))
    assert reading(result) == (Status.OPERATIONAL, "HTTP 200")
    assert result.at == AT
    assert result.latency_ms is not None and 0 <= result.latency_ms < 2000
    assert server.requests[0].headers["User-Agent"] == "downwatch/0.1"


@pytest.mark.anyio
async def test_server_error_is_a_major_outage(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.html("/health", status=503)
    result = await check(client, monitor(server.url_for("/health")))
    assert reading(result) == (Status.MAJOR, "HTTP 503")
    assert result.latency_ms is not None


@pytest.mark.anyio
async def test_expect_status(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply("/teapot", b"", status=418, content_type="text/plain")
    server.reply("/ok", b"", status=200, content_type="text/plain")
    assert reading(await check(client, monitor(server.url_for("/teapot"), expect_status=(418,)))) == (
        Status.OPERATIONAL,
        "HTTP 418",
    )
    assert reading(await check(client, monitor(server.url_for("/ok"), expect_status=(204,)))) == (
        Status.MAJOR,
        "HTTP 200",
    )
    assert reading(await check(client, monitor(server.url_for("/teapot")))) == (Status.MAJOR, "HTTP 418")


@pytest.mark.anyio
async def test_redirects_are_followed(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.redirect("/old", "/new")
    server.reply("/new", b"fine", content_type="text/plain")
    assert reading(await check(client, monitor(server.url_for("/old")))) == (Status.OPERATIONAL, "HTTP 200")
    assert server.hits("/new") == 1


@pytest.mark.anyio
async def test_redirect_loop(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.redirect("/loop", "/loop")
    assert reading(await check(client, monitor(server.url_for("/loop")))) == (
        Status.MAJOR,
        "too many redirects",
    )



@pytest.mark.anyio
async def test_a_redirecting_target_is_remembered_and_judged_by_its_final_answer(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    """The probe goes straight to the transport; a redirect sends it (and later polls) through the client."""
    server.redirect("/old", "/gone")
    server.html("/gone", status=503)
    mon = monitor(server.url_for("/old"))
    assert reading(await check(client, mon)) == (Status.MAJOR, "HTTP 503")
    assert (server.hits("/old"), server.hits("/gone")) == (2, 1)  # the first poll asks twice
    server.reply("/gone", b"back", content_type="text/plain")
    assert reading(await check(client, mon)) == (Status.OPERATIONAL, "HTTP 200")
    assert (server.hits("/old"), server.hits("/gone")) == (3, 2)  # later polls once


@pytest.mark.anyio
async def test_probes_carry_no_cookies_from_one_poll_to_the_next(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.reply("/health", b"ok", content_type="text/plain", headers={"Set-Cookie": "session=abc; Path=/"})
    mon = monitor(f"http://localhost:{server.port}/health")  # a host name: cookie jars take no IP's cookies
    for _ in range(2):
        assert reading(await check(client, mon)) == (Status.OPERATIONAL, "HTTP 200")
    assert [r.headers.get("Cookie") for r in server.requests] == [None, None]
    assert all(r.headers["User-Agent"] == "downwatch/0.1" for r in server.requests)
    # nor through the client's own path, which a redirecting target takes
    server.route("/old", _set_cookie_and_redirect)
    moved = monitor(f"http://localhost:{server.port}/old")
    for _ in range(2):
        assert reading(await check(client, moved)) == (Status.OPERATIONAL, "HTTP 200")
    assert [r.headers.get("Cookie") for r in server.requests[2:]] == [None] * 5  # /old twice, then /old, /health


async def _set_cookie_and_redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/health", headers={"Set-Cookie": "moved=1; Path=/"})

@pytest.mark.anyio
async def test_method_is_used(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply("/h", b"", content_type="text/plain")
    await check(client, monitor(server.url_for("/h"), method="HEAD"))
    assert server.requests[0].method == "HEAD"


@pytest.mark.anyio
async def test_every_poll_sends_the_monitors_whole_request(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    """The client builds a monitor's request once and sends it every poll: its body goes out each time,
    monitors that differ only in a header or a body each send their own, and header names go out as written."""
    server.reply("/rpc", b"ok", content_type="text/plain")
    url = server.url_for("/rpc")
    first = monitor(url, method="POST", headers=(("X-Team", "core"),), body=b'{"ping": 1}')
    other = monitor(url, method="POST", headers=(("X-Team", "edge"),), body=b'{"ping": 2}')
    for _ in range(3):
        assert reading(await check(client, first)) == (Status.OPERATIONAL, "HTTP 200")
    assert reading(await check(client, other)) == (Status.OPERATIONAL, "HTTP 200")
    assert reading(await check(client, monitor(url))) == (Status.OPERATIONAL, "HTTP 200")
    seen = [(r.method, r.headers.get("X-Team"), r.body, r.headers["User-Agent"]) for r in server.requests]
    assert seen == [("POST", "core", b'{"ping": 1}', "downwatch/0.1")] * 3 + [
        ("POST", "edge", b'{"ping": 2}', "downwatch/0.1"), ("GET", None, b"", "downwatch/0.1")]
    assert [r.headers.get("Content-Length") for r in server.requests] == ["11"] * 4 + [None]


@pytest.mark.anyio
async def test_keyword_found_and_not_found(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply("/health", b'{"status": "ok"}')
    found = await check(client, monitor(server.url_for("/health"), body_contains='"ok"'))
    assert reading(found) == (Status.OPERATIONAL, "HTTP 200")
    missing = await check(client, monitor(server.url_for("/health"), body_contains="healthy"))
    assert reading(missing) == (Status.MAJOR, "keyword 'healthy' not found")


@pytest.mark.anyio
async def test_keyword_beyond_the_cap_is_not_read(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply("/big", b"x" * 100_000 + b"MARKER", content_type="text/plain")
    small = monitor(server.url_for("/big"), body_contains="MARKER", max_body_bytes=1024)
    assert reading(await check(client, small)) == (
        Status.MAJOR,
        "keyword 'MARKER' not found in the first 1 KiB",
    )
    large = monitor(server.url_for("/big"), body_contains="MARKER", max_body_bytes=200_000)
    assert reading(await check(client, large)) == (Status.OPERATIONAL, "HTTP 200")


@pytest.mark.anyio
async def test_keyword_split_across_chunks(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for part in (b"status: hea", b"lthy", b" and more"):
            await response.write(part)
        await response.write_eof()
        return response

    server.route("/split", chunked)
    result = await check(client, monitor(server.url_for("/split"), body_contains="healthy"))
    assert reading(result) == (Status.OPERATIONAL, "HTTP 200")


@pytest.mark.anyio
async def test_keyword_found_early_in_an_endless_body(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.drip("/stream", interval=0.5, chunk=b"ok ")
    result = await check(client, monitor(server.url_for("/stream"), body_contains="ok", timeout=5.0))
    assert reading(result) == (Status.OPERATIONAL, "HTTP 200")
    assert result.latency_ms is not None and result.latency_ms < 1000  # stopped reading once found


@pytest.mark.anyio
async def test_slow_target_is_degraded(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply("/health", b"ok", content_type="text/plain")
    # any real round trip takes more than 0 ms: a zero limit is always exceeded, with no sleeping
    result = await check(client, monitor(server.url_for("/health"), degraded_after_ms=0.0))
    status, detail = reading(result)
    assert status is Status.DEGRADED
    assert detail.startswith("slow: ") and detail.endswith("(limit 0 ms)")
    fast = await check(client, monitor(server.url_for("/health"), degraded_after_ms=60_000.0))
    assert reading(fast) == (Status.OPERATIONAL, "HTTP 200")


@pytest.mark.anyio
async def test_connection_refused(client: httpx.AsyncClient) -> None:
    result = await check(client, monitor(f"http://127.0.0.1:{closed_port()}/health"))
    assert reading(result) == (Status.MAJOR, "connection refused")
    assert result.latency_ms is None


@pytest.mark.anyio
async def test_never_answers(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.hang("/health")
    result = await check(client, monitor(server.url_for("/health"), timeout=0.3))
    assert reading(result) == (Status.MAJOR, "timed out after 0.3 s")


@pytest.mark.anyio
async def test_drip_is_bounded_by_the_total_deadline(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    # a byte every 50 ms would defeat a per-read timeout; the keyword forces the body to be read
    server.drip("/health", interval=0.05, chunk=b".")
    mon = monitor(server.url_for("/health"), timeout=0.3, body_contains="ok")
    result = await check(client, mon)
    assert reading(result) == (Status.MAJOR, "timed out after 0.3 s")


@pytest.mark.anyio
async def test_tls_failure(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    result = await check(client, monitor(f"https://127.0.0.1:{server.port}/health"))
    status, detail = reading(result)
    assert status is Status.MAJOR and detail.startswith("TLS error: ")


@pytest.mark.anyio
async def test_invalid_url_is_data_not_an_exception(client: httpx.AsyncClient) -> None:
    assert reading(await check(client, monitor("http://[::1:80/"))) == (Status.MAJOR, "invalid URL")
    assert reading(await check(client, monitor("ftp://127.0.0.1/"))) == (Status.MAJOR, "invalid URL")


@pytest.mark.anyio
async def test_transport_is_injectable(anyio_backend: object) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    async with make_client(transport=httpx.MockTransport(answer)) as c:
        result = await check(c, monitor("http://target.test/health"))
    assert reading(result) == (Status.MAJOR, "HTTP 500")
    assert seen[0].headers["user-agent"] == "downwatch/0.1"


# ---------------------------------------------------------------- pure parts


def test_judge_precedence() -> None:
    mon = HttpMonitor(name="api", url="http://x", body_contains="ok", degraded_after_ms=100.0)
    assert judge(mon, Probe(500), 5000.0) == (Status.MAJOR, "HTTP 500")
    assert judge(mon, Probe(200, keyword_found=False), 5000.0) == (Status.MAJOR, "keyword 'ok' not found")
    assert judge(mon, Probe(200, keyword_found=True), 150.4) == (
        Status.DEGRADED,
        "slow: 150 ms (limit 100 ms)",
    )
    assert judge(mon, Probe(200, keyword_found=True), 99.0) == (Status.OPERATIONAL, "HTTP 200")
    plain = HttpMonitor(name="api", url="http://x")
    assert judge(plain, Probe(301), 1.0) == (Status.OPERATIONAL, "HTTP 301")
    assert judge(plain, Probe(404), 1.0) == (Status.MAJOR, "HTTP 404")


def _raised_from(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as exc:
        return exc


def test_describe_failure_walks_the_cause_chain() -> None:
    dns = _raised_from(httpx.ConnectError("[Errno -2] Name or service not known"), socket.gaierror(-2, "x"))
    assert describe_failure(dns, timeout=10) == "DNS lookup failed"
    refused = _raised_from(
        httpx.ConnectError("All connection attempts failed"), ConnectionRefusedError(111, "x")
    )
    assert describe_failure(refused, timeout=10) == "connection refused"
    cert = ssl.SSLCertVerificationError(1, "x")
    cert.verify_message = "certificate has expired"
    assert describe_failure(_raised_from(httpx.ConnectError("x"), cert), timeout=10) == (
        "TLS error: certificate has expired"
    )
    assert describe_failure(httpx.ReadTimeout("x"), timeout=10.0) == "timed out after 10 s"
    assert describe_failure(TimeoutError(), timeout=0.25) == "timed out after 0.25 s"


def test_format_size() -> None:
    assert format_size(2 * 1024 * 1024) == "2 MiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(100) == "100 bytes"
