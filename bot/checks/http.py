"""HTTP health check: one request to a target; the target failing is an outage (a reading, never an exception)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import httpx

from bot.checks.client import REQUEST_FAILURES, ProbeClient, describe_failure, format_size
from bot.config import HttpMonitor
from bot.model import CheckResult, ComponentReading, Status


@dataclass(frozen=True)
class Probe:
    """What the target answered: the final status code and, when a keyword is expected, whether it was seen."""

    status_code: int
    keyword_found: bool | None = None  # None: no keyword configured, or the status already failed
    body_capped: bool = False  # stopped reading at max_body_bytes without finding the keyword


def status_ok(monitor: HttpMonitor, status_code: int) -> bool:
    """Expected statuses when configured, otherwise any 2xx/3xx."""
    if monitor.expect_status:
        return status_code in monitor.expect_status
    return 200 <= status_code < 400


def judge(monitor: HttpMonitor, probe: Probe, elapsed_ms: float) -> tuple[Status, str]:
    """Pure: the status and short detail for one answered probe."""
    if not status_ok(monitor, probe.status_code):
        return Status.MAJOR, f"HTTP {probe.status_code}"
    if monitor.body_contains is not None and not probe.keyword_found:
        keyword = _quote(monitor.body_contains)
        if probe.body_capped:
            return (
                Status.MAJOR,
                f"keyword {keyword} not found in the first {format_size(monitor.max_body_bytes)}",
            )
        return Status.MAJOR, f"keyword {keyword} not found"
    if monitor.degraded_after_ms is not None and elapsed_ms > monitor.degraded_after_ms:
        return Status.DEGRADED, f"slow: {elapsed_ms:.0f} ms (limit {monitor.degraded_after_ms:g} ms)"
    return Status.OPERATIONAL, f"HTTP {probe.status_code}"


async def check_http(
    monitor: HttpMonitor, *, client: ProbeClient, now: Callable[[], datetime]
) -> CheckResult:
    """Probe the target within `monitor.timeout` (a total deadline, not per read) and judge the answer."""
    at = now()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(monitor.timeout):
            probe = await _probe(monitor, client)
    except REQUEST_FAILURES as exc:
        detail = describe_failure(exc, timeout=monitor.timeout)
        return replace(_result(monitor, at, Status.MAJOR, detail, latency_ms=None), reached=False)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    status, detail = judge(monitor, probe, elapsed_ms)
    return _result(monitor, at, status, detail, latency_ms=elapsed_ms)


async def _probe(monitor: HttpMonitor, client: ProbeClient) -> Probe:
    response = await client.probe(monitor.method, monitor.url, timeout=monitor.timeout)
    try:
        code = response.status_code
        if monitor.body_contains is None or not status_ok(monitor, code):
            return Probe(status_code=code)  # the body is not needed: leave it unread
        found, capped = await _find(response, monitor.body_contains.encode(), monitor.max_body_bytes)
        return Probe(status_code=code, keyword_found=found, body_capped=capped)
    finally:
        await response.aclose()


async def _find(response: httpx.Response, keyword: bytes, cap: int) -> tuple[bool, bool]:
    """Stream the body looking for `keyword`; stop as soon as it is found or `cap` bytes were read."""
    seen = bytearray()
    async for chunk in response.aiter_bytes():
        room = cap - len(seen)
        start = max(0, len(seen) - len(keyword) + 1)  # the keyword may straddle two chunks
        seen += chunk[:room]
        if keyword in seen[start:]:
            return True, False
        if len(chunk) >= room:
            return False, len(chunk) > room or _more_expected(response, cap)
    return False, False


def _more_expected(response: httpx.Response, cap: int) -> bool:
    length = response.headers.get("content-length", "")
    return not length.isdigit() or int(length) > cap


def _quote(keyword: str) -> str:
    shown = keyword if len(keyword) <= 40 else keyword[:39] + "…"
    return f"'{shown}'"


def _result(
    monitor: HttpMonitor, at: datetime, status: Status, detail: str, *, latency_ms: float | None
) -> CheckResult:
    reading = ComponentReading(name=monitor.name, status=status, detail=detail)
    return CheckResult(
        monitor=monitor.name, at=at, readable=True, components=(reading,), latency_ms=latency_ms
    )
