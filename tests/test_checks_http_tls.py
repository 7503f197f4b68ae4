"""TLS certificate expiry on https HTTP monitors, against a real TLS server on 127.0.0.1 (a trustme CA).

OpenSSL checks a certificate's dates against the real clock, so the certificates here are dated from the
real time (NOW) and the checks are told it is NOW (or later, to pass an hour without waiting for one).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from aiohttp import web

from bot.checks import run_check
from bot.checks.client import ProbeClient, make_client
from bot.checks.http import HttpMonitor, certificate_problem
from bot.model import CheckResult, Status
from tests.loopback import BOTH_LOOPS

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(params=BOTH_LOOPS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return request.param


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@dataclass
class TlsServer:
    port: int
    context: ssl.SSLContext  # load_cert_chain on it changes the certificate new handshakes get
    handshakes: list[str | None]

    def url(self, path: str = "/health") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def serve(self, cert: trustme.LeafCert) -> None:
        cert.configure_cert(self.context)


@pytest.fixture
async def tls_server(anyio_backend: object, authority: trustme.CA) -> AsyncIterator[TlsServer]:
    """An aiohttp server on 127.0.0.1 answering "ok" over TLS, serving a certificate valid for a year."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    handshakes: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: handshakes.append(name)  # type: ignore[assignment,func-returns-value]
    authority.issue_cert("127.0.0.1", not_after=NOW + timedelta(days=365)).configure_cert(context)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/other", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield TlsServer(port=port, context=context, handshakes=handshakes)
    finally:
        await runner.cleanup()


@pytest.fixture
async def trusting(anyio_backend: object, authority: trustme.CA) -> AsyncIterator[ProbeClient]:
    """The bot's client, trusting the test CA (as make_client's ssl_context lets the composition root)."""
    context = ssl.create_default_context()
    authority.configure_trust(context)
    async with make_client(ssl_context=context) as client:
        yield client


def monitor(url: str, **options: object) -> HttpMonitor:
    return HttpMonitor(url=url, **{"name": "api", "timeout": 2.0, **options})  # type: ignore[arg-type]


async def check(client: ProbeClient, mon: HttpMonitor, at: datetime = NOW) -> CheckResult:
    return await run_check(mon, client=client, now=lambda: at)


def reading(result: CheckResult) -> tuple[Status, str]:
    (only,) = result.components
    return only.status, only.detail


@pytest.mark.anyio
async def test_a_certificate_valid_for_long_is_fine(tls_server: TlsServer, trusting: ProbeClient) -> None:
    assert reading(await check(trusting, monitor(tls_server.url()))) == (Status.OPERATIONAL, "HTTP 200")


@pytest.mark.anyio
async def test_a_certificate_expiring_soon_is_degraded(
    tls_server: TlsServer, trusting: ProbeClient, authority: trustme.CA
) -> None:
    expires = NOW + timedelta(days=3, hours=1)
    tls_server.serve(authority.issue_cert("127.0.0.1", not_after=expires))
    result = await check(trusting, monitor(tls_server.url()))
    assert reading(result) == (Status.DEGRADED, f"TLS certificate expires in 3 days ({expires.date().isoformat()})")
    assert result.reached and result.latency_ms is not None


@pytest.mark.anyio
async def test_expiry_beyond_the_configured_days_is_fine_and_zero_turns_it_off(
    tls_server: TlsServer, trusting: ProbeClient, authority: trustme.CA
) -> None:
    tls_server.serve(authority.issue_cert("127.0.0.1", not_after=NOW + timedelta(days=3, hours=1)))
    assert reading(await check(trusting, monitor(tls_server.url(), tls_expiry_days=2))) == (
        Status.OPERATIONAL, "HTTP 200")
    assert reading(await check(trusting, monitor(tls_server.url(), tls_expiry_days=0))) == (
        Status.OPERATIONAL, "HTTP 200")


@pytest.mark.anyio
async def test_an_expired_certificate_is_an_outage(
    tls_server: TlsServer, trusting: ProbeClient, authority: trustme.CA
) -> None:
    tls_server.serve(authority.issue_cert("127.0.0.1", not_before=NOW - timedelta(days=30),
                                          not_after=NOW - timedelta(days=1)))
    result = await check(trusting, monitor(tls_server.url()))
    assert reading(result) == (Status.MAJOR, "TLS error: certificate has expired")
    assert not result.reached


@pytest.mark.anyio
async def test_an_untrusted_certificate_is_an_outage(tls_server: TlsServer, client: ProbeClient) -> None:
    status, detail = reading(await check(client, monitor(tls_server.url())))  # the system trust store
    assert status is Status.MAJOR and detail.startswith("TLS error: ") and "certificate" in detail


@pytest.mark.anyio
async def test_the_certificate_is_looked_at_once_an_hour_per_host(
    tls_server: TlsServer, trusting: ProbeClient, authority: trustme.CA
) -> None:
    expires = NOW + timedelta(days=3, hours=1)
    tls_server.serve(authority.issue_cert("127.0.0.1", not_after=expires))
    health, other = monitor(tls_server.url()), monitor(tls_server.url("/other"), name="other")
    assert reading(await check(trusting, health))[0] is Status.DEGRADED
    seen = len(tls_server.handshakes)  # the probe's connection and the certificate's own handshake

    tls_server.serve(authority.issue_cert("127.0.0.1", not_after=NOW + timedelta(days=365)))  # renewed
    later = NOW + timedelta(minutes=59)
    assert reading(await check(trusting, health, later))[0] is Status.DEGRADED  # not looked at again yet
    assert reading(await check(trusting, other, later))[0] is Status.DEGRADED  # same host: same lookup
    assert len(tls_server.handshakes) == seen  # the pooled probe connection, and no certificate handshake

    hour = NOW + timedelta(hours=1)
    assert reading(await check(trusting, health, hour)) == (Status.OPERATIONAL, "HTTP 200")
    assert len(tls_server.handshakes) == seen + 1


@pytest.mark.anyio
async def test_a_certificate_renewed_before_it_expired_is_seen_when_the_old_date_passes(
    tls_server: TlsServer, trusting: ProbeClient, authority: trustme.CA
) -> None:
    expires = NOW + timedelta(minutes=30)
    tls_server.serve(authority.issue_cert("127.0.0.1", not_after=expires))
    assert reading(await check(trusting, monitor(tls_server.url())))[0] is Status.DEGRADED
    tls_server.serve(authority.issue_cert("127.0.0.1", not_after=NOW + timedelta(days=365)))  # renewed
    # Within the hour, past the old date: not "expired" from the remembered date, but looked at again
    assert reading(await check(trusting, monitor(tls_server.url()), expires + timedelta(minutes=1))) == (
        Status.OPERATIONAL, "HTTP 200")


@pytest.mark.anyio
async def test_plain_http_and_failed_probes_make_no_certificate_handshake(
    tls_server: TlsServer, trusting: ProbeClient
) -> None:
    plain = monitor(f"http://127.0.0.1:{tls_server.port}/health")  # HTTP spoken to a TLS port: no answer
    status, _ = reading(await check(trusting, plain))
    assert status is Status.MAJOR and tls_server.handshakes == []


def test_certificate_problem_wording() -> None:
    mon = monitor("https://x", tls_expiry_days=14)
    at = datetime(2026, 9, 29, 18, 30, tzinfo=UTC)
    assert certificate_problem(mon, at + timedelta(days=20), at) is None
    assert certificate_problem(mon, at + timedelta(days=14), at) == (
        Status.DEGRADED, "TLS certificate expires in 14 days (2026-10-13)")
    assert certificate_problem(mon, at + timedelta(days=1, hours=2), at) == (
        Status.DEGRADED, "TLS certificate expires in 1 day (2026-09-30)")
    assert certificate_problem(mon, at + timedelta(hours=2), at) == (
        Status.DEGRADED, "TLS certificate expires in less than a day (2026-09-29)")
    # A kept-alive connection can outlive its certificate: then the cached date says it has expired
    assert certificate_problem(mon, at - timedelta(hours=1), at) == (
        Status.MAJOR, "TLS certificate expired on 2026-09-29")
