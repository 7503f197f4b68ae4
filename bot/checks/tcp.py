"""TCP check: can a connection to host:port be opened within the timeout? (Uptime Kuma's and Gatus's "port"
check: databases, SMTP, SSH, game servers — anything that listens but does not speak HTTP.)

    [[monitors]]
    name = "Postgres"
    type = "tcp"
    url = "tcp://db.internal:5432"
    degraded_after_ms = 200

Nothing is sent: the connection is closed as soon as it is open.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from bot.checks.client import ProbeClient, format_seconds
from bot.config import Checker, Common, Monitor
from bot.model import CheckResult, ComponentReading, Status


@dataclass(frozen=True, kw_only=True)
class TcpMonitor(Monitor):
    degraded_after_ms: float | None = None
    kind: str = "tcp"


def judge(monitor: TcpMonitor, elapsed_ms: float) -> tuple[Status, str]:
    """Pure: the status and detail of a connection that opened after `elapsed_ms`."""
    if monitor.degraded_after_ms is not None and elapsed_ms > monitor.degraded_after_ms:
        return Status.DEGRADED, f"slow: {elapsed_ms:.0f} ms (limit {monitor.degraded_after_ms:g} ms)"
    return Status.OPERATIONAL, "connected"


def describe(exc: OSError, *, timeout: float) -> str:
    """A short human line for a connection that did not open (never includes the address)."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {format_seconds(timeout)}"
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    reason = exc.strerror or type(exc).__name__
    return f"could not connect: {reason[:1].lower()}{reason[1:]}"


async def check_tcp(monitor: TcpMonitor, *, now: Callable[[], datetime]) -> CheckResult:
    """Open a connection to monitor.host:port within monitor.timeout (DNS included), then close it."""
    at = now()
    address = parse_address(monitor.url)
    if isinstance(address, str):  # the config rejects these; a monitor built in code may still hold one
        return _unreached(monitor, at, "invalid URL")
    started = time.perf_counter()
    try:
        async with asyncio.timeout(monitor.timeout):
            _, writer = await asyncio.open_connection(*address)
    except OSError as exc:  # TimeoutError, socket.gaierror and ConnectionRefusedError are OSErrors
        return _unreached(monitor, at, describe(exc, timeout=monitor.timeout))
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    writer.transport.abort()  # nothing was sent, nothing to flush: no FIN handshake to wait for
    status, detail = judge(monitor, elapsed_ms)
    reading = ComponentReading(name=monitor.name, status=status, detail=detail)
    return CheckResult(monitor=monitor.name, at=at, readable=True, components=(reading,), latency_ms=elapsed_ms)


def _unreached(monitor: TcpMonitor, at: datetime, detail: str) -> CheckResult:
    reading = ComponentReading(name=monitor.name, status=Status.MAJOR, detail=detail)
    # reached=False: no answer at all, so the watcher may ask whether the bot itself is cut off
    return CheckResult(monitor=monitor.name, at=at, readable=True, components=(reading,), reached=False)


@cache  # one parse per configured URL, not one per poll (bounded by the config)
def parse_address(url: str) -> tuple[str, int] | str:
    """("db.internal", 5432) from "tcp://db.internal:5432", or why it is not such a URL."""
    example = "tcp://host:port, e.g. tcp://db.internal:5432"
    parts = urlsplit(url)
    if parts.scheme != "tcp":
        return f"must look like {example} (got {url!r})"
    try:
        port = parts.port
    except ValueError:  # out of range or not a number
        return f"the port must be a number from 1 to 65535 (got {url!r})"
    if not parts.hostname or port is None or port == 0:
        return f"must look like {example} (got {url!r})"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return f"must be only tcp://host:port, with no path, query or user (got {url!r})"
    return parts.hostname, port


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)


class _TcpKind:
    type = "tcp"
    keys = frozenset({"degraded_after_ms"})
    records_probes = True

    def parse(self, check: Checker, where: str, table: Mapping[str, object], common: Common) -> Monitor | None:
        address = parse_address(common.url) if common.url else None
        if isinstance(address, str):
            check.error(f"{where}url", address)
        slow = table.get("degraded_after_ms")
        if slow is not None:
            slow = check.number(f"{where}degraded_after_ms", slow)
            if slow is None:
                return None
        if not isinstance(address, tuple):
            return None
        return TcpMonitor(degraded_after_ms=slow, **vars(common))

    async def run(self, monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime]) -> CheckResult:
        if not isinstance(monitor, TcpMonitor):
            raise TypeError(f"not a TCP monitor: {monitor.name}")
        return await check_tcp(monitor, now=now)


TCP = _TcpKind()
