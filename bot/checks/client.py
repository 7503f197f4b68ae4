"""The one place an httpx client for checks is built (the composition root owns and closes it)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import AiohttpResponseStream, map_aiohttp_exceptions
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

USER_AGENT = "downwatch/0.1"
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0  # seconds; every check passes its own monitor.timeout per request
MAX_CACHED_URLS = 100_000  # parsed probe URLs kept (~0.5 KB each)
# A certificate's expiry date is a matter of days: one handshake per host an hour is plenty, and a failed one
# (the probe itself judges reachability and invalid certificates) is retried a few minutes later.
CERT_RECHECK = timedelta(hours=1)
CERT_RETRY = timedelta(minutes=5)


@dataclass
class _CertLookup:
    due: datetime  # look again from then on
    task: asyncio.Future[datetime | None]  # the certificate's notAfter; None when the handshake failed

    def expired(self, at: datetime) -> bool:
        """The certificate seen has expired since: look again at once, it may have been renewed meanwhile
        (an expired one fails the handshake, which then waits CERT_RETRY)."""
        if not self.task.done() or self.task.cancelled() or self.task.exception() is not None:
            return False
        not_after = self.task.result()
        return not_after is not None and not_after <= at


class ProbeClient(httpx.AsyncClient):
    """httpx's AsyncClient, plus `probe()`: one health-probe request straight on the client's transport, and
    `certificate_expiry()`: when the TLS certificate of a probe URL's host expires.

    Why `probe()`: `client.stream()` spends a large share of a probe's CPU above the transport (merging the
    client's cookie jar into each request, extracting cookies from each response through http.cookiejar,
    auth and redirect plumbing, event hooks; measured in bench/README.md). Health probes want none of it: a
    probe must not carry one target's cookies to its next poll, and there is no auth. Redirects are still
    followed: a target whose answer is a redirect is remembered and probed through `send()`, which follows
    them, from then on. The client's cookie jar keeps nothing (make_client), so that path carries no state
    from one poll to the next either.
    """

    def __init__(
        self, *, transport: httpx.AsyncBaseTransport, ssl_context: ssl.SSLContext | None = None, **kwargs: Any
    ) -> None:
        super().__init__(transport=transport, **kwargs)
        self._probe_transport = transport
        self._ssl_context = ssl_context  # what certificate_expiry verifies with (None: built when first needed)
        self._redirecting: set[str] = set()  # probe URLs seen answering a redirect (bounded by the config)
        self._urls: dict[str, httpx.URL] = {}  # parsed once per monitor URL: parsing is a visible share of a probe
        # A probe's request is the same every poll: on aiohttp's transport it is prepared once per monitor
        # (aiohttp's own URL; the headers and timeout shared) and sent as it is. An httpx.Request built each
        # poll, for httpx-aiohttp to turn into aiohttp's arguments, was much of the CPU a poll spends before
        # its connection is under way, where every poll of a tick waits for the ones before it (bench/README.md)
        self._prepared: dict[tuple[object, ...], _Prepared] = {}
        self._origins: dict[str, tuple[str, int]] = {}  # probe URL → (host, port) whose certificate it has
        self._certs: dict[tuple[str, int], _CertLookup] = {}

    async def probe(
        self, method: str, url: str, *, timeout: float, headers: tuple[tuple[str, str], ...] = (),
        content: bytes | None = None,
    ) -> httpx.Response:
        """The final response to `method url` (redirects followed), its body unread: the caller closes it.
        `headers` go over the client's own (User-Agent); `content` is the request body.

        Not a context manager on purpose: contextlib's wrapper was ~3 % of a probe."""
        if url not in self._redirecting:
            transport = self._probe_transport
            if isinstance(transport, _AiohttpTransport):
                response = await transport.send_prepared(
                    self._prepare(transport, method, url, timeout, headers, content))
            else:  # an injected transport (tests): httpx's request
                response = await transport.handle_async_request(httpx.Request(
                    method, self._url(url), headers=self._sent(headers), content=content,
                    extensions={"timeout": httpx.Timeout(timeout).as_dict()}))
            if not (self.follow_redirects and response.has_redirect_location):
                return response
            await response.aclose()
            self._redirecting.add(url)
        # httpx drops Authorization when a redirect leaves the origin, and a body when it turns POST into GET
        request = self.build_request(method, url, timeout=timeout, headers=dict(headers) or None, content=content)
        return await self.send(request, stream=True)

    async def certificate_expiry(self, url: str, *, timeout: float, at: datetime) -> datetime | None:
        """When the TLS certificate of the https `url`'s host expires (its notAfter, UTC); None while unknown.

        Why a separate handshake and not the probe's own connection: the probe's connection is aiohttp's,
        behind httpx-aiohttp, which exposes neither the connection nor its transport, and reading them through
        private attributes on every probe would tie the hot path to both libraries' internals. One extra
        handshake per host:port an hour (CERT_RECHECK), shared by every monitor on that host, costs nothing
        that a benchmark can see; between two, a probe pays two dictionary lookups. It is made with the same
        SSLContext as the probes (make_client's), so it trusts what they trust. A handshake that fails gives
        None: the probe has already judged whether the target answers and whether its certificate is valid.
        It checks the URL's own host: a redirect elsewhere is not followed here.
        """
        origin = self._origins.get(url)
        if origin is None:
            if len(self._origins) >= MAX_CACHED_URLS:  # only a config far beyond any real one gets here
                self._origins.clear()
            parsed = self._url(url)
            origin = self._origins[url] = (parsed.host, parsed.port or 443)
        lookup = self._certs.get(origin)
        if lookup is None or lookup.due <= at or lookup.expired(at):
            task = asyncio.ensure_future(self._handshake(*origin, timeout=timeout))
            lookup = self._certs[origin] = _CertLookup(due=at + CERT_RECHECK, task=task)
        if lookup.task.done():
            return lookup.task.result()
        # shield: a check cancelled (shutdown, its own deadline) must not cancel the lookup others wait on
        not_after = await asyncio.shield(lookup.task)
        if not_after is None:
            lookup.due = min(lookup.due, at + CERT_RETRY)
        return not_after

    async def _handshake(self, host: str, port: int, *, timeout: float) -> datetime | None:
        if self._ssl_context is None:  # not at construction: loading the system trust store takes a while
            self._ssl_context = ssl.create_default_context()
        try:
            async with asyncio.timeout(timeout):
                _, writer = await asyncio.open_connection(host, port, ssl=self._ssl_context)
        except (OSError, TimeoutError):  # ssl.SSLError is an OSError
            return None
        try:
            certificate = writer.get_extra_info("peercert") or {}
        finally:
            writer.transport.abort()  # nothing was sent: no need to wait for a TLS close_notify exchange
        try:
            return datetime.fromtimestamp(ssl.cert_time_to_seconds(certificate["notAfter"]), UTC)
        except (KeyError, TypeError, ValueError):  # no date, or not in the form OpenSSL writes: unknown
            return None

    async def aclose(self) -> None:
        self._cancel_lookups()
        await super().aclose()

    async def __aexit__(self, *exc_info: Any) -> None:  # httpx's __aexit__ does not go through aclose()
        self._cancel_lookups()
        await super().__aexit__(*exc_info)

    def _cancel_lookups(self) -> None:
        for lookup in self._certs.values():
            lookup.task.cancel()

    def _prepare(self, transport: _AiohttpTransport, method: str, url: str, timeout: float,
                 headers: tuple[tuple[str, str], ...], content: bytes | None) -> _Prepared:
        key = (method, url, timeout, headers, content)
        prepared = self._prepared.get(key)
        if prepared is None:
            if len(self._prepared) >= MAX_CACHED_URLS:  # only a config far beyond any real one gets here
                self._prepared.clear()
            prepared = self._prepared[key] = transport.prepare(method, self._url(url), self._sent(headers), content,
                                                                timeout)
        return prepared

    def _sent(self, headers: tuple[tuple[str, str], ...]) -> httpx.Headers:
        """The client's headers (User-Agent), the monitor's over them."""
        if not headers:
            return self.headers
        sent = self.headers.copy()
        sent.update(headers)
        return sent

    def _url(self, url: str) -> httpx.URL:
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= MAX_CACHED_URLS:  # only a config far beyond any real one gets here
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A probe's request as aiohttp takes it: what httpx-aiohttp would convert an httpx.Request into."""

    method: str
    url: URL
    headers: CIMultiDictProxy[str]  # shared by every probe sending the same headers
    data: bytes | None
    timeout: aiohttp.ClientTimeout  # shared by every probe with the same timeout


class _AiohttpTransport(AiohttpTransport):
    """httpx-aiohttp's transport, sending a request body held in memory as bytes, and sending a probe's
    request prepared once (`prepare`, `send_prepared`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._headers: dict[tuple[tuple[bytes, bytes], ...], CIMultiDictProxy[str]] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def prepare(self, method: str, url: httpx.URL, headers: httpx.Headers, content: bytes | None,
                timeout: float) -> _Prepared:
        """aiohttp's arguments for the request httpx would build from these (the same conversions as
        httpx-aiohttp's handle_async_request; header names as written, where httpx's mapping lowercases them)."""
        raw = tuple(headers.raw)
        shared = self._headers.get(raw)
        if shared is None:
            if len(self._headers) >= MAX_CACHED_URLS:  # as many header sets as monitors at the very most
                self._headers.clear()
            shared = self._headers[raw] = CIMultiDictProxy(CIMultiDict(
                (k.decode(headers.encoding), v.decode(headers.encoding)) for k, v in raw))
        limits = self._timeouts.get(timeout)
        if limits is None:
            limits = self._timeouts[timeout] = aiohttp.ClientTimeout(
                sock_connect=timeout, sock_read=timeout, connect=timeout)  # httpx.Timeout(t): connect, read, pool
        return _Prepared(method=method, url=URL(str(url)), headers=shared, data=content or None, timeout=limits)

    async def send_prepared(self, probe: _Prepared) -> httpx.Response:
        """The response to a prepared probe, as handle_async_request answers (its body unread), with no
        httpx.Request behind it: nothing reads one from a probe's response."""
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        with map_aiohttp_exceptions():
            response = await self.client.request(
                probe.method, probe.url, headers=probe.headers, data=probe.data, allow_redirects=False,
                auto_decompress=False, compress=False, timeout=probe.timeout).__aenter__()
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(status_code=response.status, headers=response.raw_headers,
                              stream=AiohttpResponseStream(response), extensions=extensions)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # httpx builds the request that follows a redirect with the original request's body *stream* (for a
        # GET, an empty httpx.ByteStream) and does not read it; httpx-aiohttp passes any unread stream to
        # aiohttp as a streaming upload, so without this the redirected GET goes out with `Transfer-Encoding:
        # chunked`, `Content-Type: application/octet-stream` and an empty chunked body, which servers and
        # proxies that refuse a GET with a body answer with 400. A ByteStream is bytes already in memory:
        # reading it is free and lets the transport send what it is (no body at all when empty).
        if isinstance(request.stream, httpx.ByteStream):
            request.read()
        return await super().handle_async_request(request)


def _aiohttp_session(context: ssl.SSLContext, limits: httpx.Limits) -> aiohttp.ClientSession:
    """aiohttp's pool for httpx's API. No cookie jar: probes must not carry one poll's cookies to the next,
    and aiohttp's jar filters and updates cookies on every request."""
    connector = aiohttp.TCPConnector(ssl=context, limit=limits.max_connections or 0,
                                     keepalive_timeout=limits.keepalive_expiry)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)


def make_client(
    *, transport: httpx.AsyncBaseTransport | None = None, max_connections: int = 500,
    ssl_context: ssl.SSLContext | None = None,
) -> ProbeClient:
    """A ProbeClient that follows redirects, pools connections and says who it is.

    `transport` is injected by tests and benchmarks (a MockTransport or a loopback-bound transport);
    None means httpx's API on aiohttp's connection pool (httpx-aiohttp), sized by `max_connections`.
    `ssl_context` is what TLS targets are verified with (None: the system's trust store).
    Why not httpcore's own pool: its request-to-connection assignment is quadratic in queued requests
    (encode/httpx#3215), so throughput halves as concurrent new connections grow and a start-up burst of
    monitors spends most of its CPU there; the aiohttp transport also costs less CPU per probe
    (bench/README.md has the figures). Keep httpx's API here.
    `trust_env=False`: proxy and certificate settings are not read from os.environ behind our back
    (STYLE.md, habit 4); the composition root would pass them explicitly if ever needed.
    """
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(20, max_connections),
        keepalive_expiry=30.0,
    )
    if transport is None:
        ssl_context = ssl_context or ssl.create_default_context()
        # verify=ssl_context only spares the transport building a default SSLContext of its own: the session
        # it is given (_aiohttp_session) is what verifies
        transport = _AiohttpTransport(verify=ssl_context, trust_env=False,
                                      client=partial(_aiohttp_session, ssl_context, limits))
    return ProbeClient(
        transport=transport,
        ssl_context=ssl_context,
        limits=limits,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(DEFAULT_TIMEOUT),
        headers={"User-Agent": USER_AGENT},
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keeps none: no state between polls
        trust_env=False,
    )


# ---------------------------------------------------------------- how failures read


def format_seconds(seconds: float) -> str:
    """'10 s', '0.3 s' — the deadline as a person would say it."""
    return f"{seconds:g} s"


def format_size(size: int) -> str:
    """'2 MiB', '512 KiB', '100 bytes'."""
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it was raised from (httpx → httpcore → OSError …)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _timed_out(exc: BaseException, causes: list[BaseException]) -> bool:
    """A deadline passed. Not so when the aiohttp transport labelled a refused/reset/TLS connection
    httpx.ConnectTimeout (its exception map does that): then an aiohttp connection error that is not a
    timeout sits further down the chain."""
    if not isinstance(exc, httpx.TimeoutException | TimeoutError):
        return False
    return not any(isinstance(c, aiohttp.ClientConnectionError) and not isinstance(c, aiohttp.ServerTimeoutError)
                   for c in causes[1:])


def describe_failure(exc: BaseException, *, timeout: float) -> str:
    """A short human line for a request that got no usable answer (never includes the URL)."""
    causes = _causes(exc)
    if _timed_out(exc, causes):
        return f"timed out after {format_seconds(timeout)}"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "invalid URL"
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            # aiohttp's ClientConnectorCertificateError is one too, without verify_message: take the ssl one
            verified = [c for c in causes if isinstance(c, ssl.SSLCertVerificationError)
                        and getattr(c, "verify_message", None)]
            reason = verified[-1].verify_message if verified else "certificate verify failed"
            return f"TLS error: {reason}"
        if isinstance(cause, ssl.SSLError):
            # aiohttp's ClientConnectorSSLError is an SSLError without a reason; the ssl one is innermost
            inner = [c for c in causes if isinstance(c, ssl.SSLError) and getattr(c, "reason", None)]
            ssl_reason: str | None = inner[-1].reason if inner else None
            return f"TLS error: {(ssl_reason or 'handshake failed').replace('_', ' ').lower()}"
        if isinstance(cause, socket.gaierror):
            return "DNS lookup failed"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
            return "connection closed without a valid response"
        if isinstance(cause, aiohttp.ClientResponseError):  # aiohttp's parser refused what came back
            reason = str(cause.message).split(":", 1)[0].strip().lower()  # "Bad status line:\n  Expected …"
            return f"invalid HTTP response ({reason[:60]})" if reason else "invalid HTTP response"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed without a valid response"
    if isinstance(exc, httpx.DecodingError):
        return "could not decode the response body"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"request failed: {type(exc).__name__}"


# What a request to a target or a source may raise when the other side misbehaves: these become data.
# Anything else is a bug in downwatch and propagates. aiohttp's own errors are here because httpx-aiohttp
# maps only some of them to httpx's (a bad status line, invalid chunked framing or an over-long header line
# reach us as aiohttp.ClientResponseError); ssl.SSLError is an OSError, asyncio.IncompleteReadError an
# EOFError; UnicodeError and zlib.error cover a header or body that cannot be decoded.
REQUEST_FAILURES: tuple[type[BaseException], ...] = (
    httpx.HTTPError, httpx.InvalidURL, aiohttp.ClientError, OSError, TimeoutError, EOFError, UnicodeError,
    zlib.error,
)


# ---------------------------------------------------------------- reading a body within a cap


async def read_capped(response: httpx.Response, cap: int) -> AsyncIterator[bytes]:
    """The response body, decoded, in chunks; it stops once more than `cap` bytes came out (so a caller sees
    that there was more), and never holds more than that decoded at once.

    Why not `response.aiter_bytes()` for a compressed body: httpx's decoders expand each chunk read from the
    wire in full, so one 16 KiB chunk of a gzip bomb becomes 16 MiB in memory before a caller can count it.
    Here zlib gives at most what is still wanted (`max_length`). Only gzip and deflate are asked for (httpx's
    Accept-Encoding without brotli or zstandard installed); a body in no encoding we decode is passed as it
    came, as httpx does. A body that does not decompress raises httpx.DecodingError (a REQUEST_FAILURE)."""
    encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",")]
    encodings = [e for e in encodings if e in _WBITS]
    if not encodings:
        async for chunk in response.aiter_bytes():
            yield chunk
        return
    if len(encodings) > 1:  # no server does this unasked; decoding layer upon layer would need a cap each
        raise httpx.DecodingError(f"content encoded {len(encodings)} times")
    wbits = _WBITS[encodings[0]]
    decoder = zlib.decompressobj(wbits)
    first, left = True, cap + 1
    try:
        async for raw in response.aiter_raw():
            try:
                piece = decoder.decompress(raw, left)
            except zlib.error:
                if not (first and wbits == zlib.MAX_WBITS):
                    raise
                # "deflate" is meant as zlib-wrapped, but some servers send raw deflate (httpx allows both)
                decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = decoder.decompress(raw, left)
            first = False
            if piece:
                left -= len(piece)
                yield piece
            if left <= 0 or decoder.eof:  # over the cap (the rest is left compressed), or the end of it
                return
        piece = decoder.flush()[:left]
        if piece:
            yield piece
    except zlib.error as exc:
        raise httpx.DecodingError(f"could not decompress the body: {exc}") from exc


# Content-Encoding → zlib's wbits: gzip's header, zlib's header (raw deflate is tried too).
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
