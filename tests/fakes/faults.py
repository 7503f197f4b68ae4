"""Platform faults on a schedule of an injected clock, for the fake Slack and Discord servers.

    plan = Outage(clock=clock, start=t0, end=t0 + timedelta(minutes=20), faults=SLACK_FAULTS)
    fake_slack.intercept = plan            # every API call inside the window gets the next fault, in turn
    ...
    await plan.release()                   # hung handlers answer (only at teardown: clients timed out long ago)

A fault is a plain HTTP answer (a status with headers and a body), a connection dropped without an
answer, or a handler that never answers (the client's own timeout ends the call). Nothing here sleeps.
Calls answered with a fault are remembered (`faulted`), so a test can tell the accepted calls from the
refused ones in the fake's recording.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.clock import Clock


@dataclass(frozen=True)
class Fault:
    """One faulty answer: an HTTP status with body and headers, a dropped connection, or no answer at all."""

    name: str
    status: int = 503
    body: Mapping[str, Any] | str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    hang: bool = False
    disconnect: bool = False

    async def answer(self, request: web.Request, released: asyncio.Event) -> web.StreamResponse:
        if self.hang:
            await released.wait()
            return web.Response(status=503)
        if self.disconnect:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)  # never reaches the client
        text = self.body if isinstance(self.body, str) else json.dumps(dict(self.body))
        response = web.Response(status=self.status, text=text, headers=dict(self.headers))
        response.content_type = self.content_type
        return response


def html(status: int) -> Fault:
    """A CDN / proxy error page in front of the platform."""
    return Fault(f"{status}-html", status, f"<html><body><h1>{status}</h1></body></html>", content_type="text/html")


def hang() -> Fault:
    return Fault("hang", hang=True)


def disconnect() -> Fault:
    return Fault("disconnect", disconnect=True)


# Slack: https://api.slack.com/apis/rate-limits (429 + Retry-After), 5xx from Slack itself or a proxy.
SLACK_FAULTS: tuple[Fault, ...] = (
    Fault("500-json", 500, {"ok": False, "error": "internal_error"}),
    html(502),
    Fault("503-json", 503, {"ok": False, "error": "service_unavailable"}),
    hang(),
    Fault("429-retry-after", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}),
    Fault("429-bare", 429, {"ok": False, "error": "ratelimited"}),
    disconnect(),
    Fault("200-fatal_error", 200, {"ok": False, "error": "fatal_error"}),
)

# Discord: https://discord.com/developers/docs/topics/rate-limits (JSON retry_after; the Cloudflare ban
# is a bare 429 HTML page, tests/data/discord_429_cloudflare_ip_ban_issue5810.txt), 5xx, hangs.
DISCORD_FAULTS: tuple[Fault, ...] = (
    Fault("500-json", 500, {"message": "500: Internal Server Error", "code": 0}),
    html(502),
    Fault("503-json", 503, {"message": "upstream connect error", "code": 0}),
    hang(),
    Fault("429-retry-after", 429, {"message": "You are being rate limited.", "retry_after": 45.5, "global": False},
          {"Retry-After": "46", "Via": "1.1 google"}),
    Fault("429-cloudflare", 429, "<html><title>Error 1015</title>You are being rate limited</html>",
          content_type="text/html"),
    disconnect(),
)


class Outage:
    """An aiohttp-level intercept: inside [start, end) of `clock`, each call gets the next fault in turn."""

    def __init__(self, *, clock: Clock, start: datetime, end: datetime, faults: Sequence[Fault]) -> None:
        self._clock = clock
        self.start = start
        self.end = end
        self._faults = tuple(faults)
        self._released = asyncio.Event()
        self.faulted: list[object] = []  # the fake's records of the calls that got a fault
        self.given: list[str] = []  # the fault names, in order

    def down(self) -> bool:
        return self.start <= self._clock.now() < self.end

    async def __call__(self, request: web.Request, record: object) -> web.StreamResponse | None:
        if not self.down():
            return None
        fault = self._faults[len(self.given) % len(self._faults)]
        self.faulted.append(record)
        self.given.append(fault.name)
        return await fault.answer(request, self._released)

    def release(self) -> None:
        """Let every hung handler answer (teardown), so the server can close at once."""
        self._released.set()
