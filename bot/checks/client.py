"""The one place an httpx client for checks is built (the composition root owns and closes it)."""

from __future__ import annotations

import socket
import ssl

import httpx

USER_AGENT = "downwatch/0.1"
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0  # seconds; every check passes its own monitor.timeout per request


def make_client(
    *, transport: httpx.AsyncBaseTransport | None = None, max_connections: int = 100
) -> httpx.AsyncClient:
    """An AsyncClient that follows redirects, pools connections and says who it is.

    `transport` is injected by tests and benchmarks (a MockTransport or a loopback-bound transport);
    None means httpx's default connection pool, sized by `max_connections`.
    `trust_env=False`: proxy and certificate settings are not read from os.environ behind our back
    (STYLE.md, habit 4); the composition root would pass them explicitly if ever needed.
    """
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(20, max_connections),
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(
        transport=transport,
        limits=limits,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(DEFAULT_TIMEOUT),
        headers={"User-Agent": USER_AGENT},
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


def describe_failure(exc: BaseException, *, timeout: float) -> str:
    """A short human line for a request that got no usable answer (never includes the URL)."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return f"timed out after {format_seconds(timeout)}"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "invalid URL"
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or "certificate verify failed"
            return f"TLS error: {reason}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {(cause.reason or 'handshake failed').replace('_', ' ').lower()}"
        if isinstance(cause, socket.gaierror):
            return "DNS lookup failed"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed without a valid response"
    if isinstance(exc, httpx.DecodingError):
        return "could not decode the response body"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"request failed: {type(exc).__name__}"


# What a request to a target or a source may raise when the other side misbehaves: these become data.
# Anything else is a bug in downwatch and propagates.
REQUEST_FAILURES: tuple[type[BaseException], ...] = (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError)
