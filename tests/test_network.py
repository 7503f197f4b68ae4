"""The bot's own connectivity: when it cannot see, it says so once and declares no provider outage."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.checks.control import reachable
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Route
from bot.model import AlertKind, CheckResult, ComponentReading, Status
from tests.fakes.recording import RecordingAdapter
from tests.loopback import LoopbackServer, closed_port
from tests.wiring import wire


class Network:
    """A switchable network: while down, every check gets no answer at all."""

    def __init__(self) -> None:
        self.up = True

    async def check(self, monitor, *, client, now):  # type: ignore[no-untyped-def]
        if not self.up:
            return CheckResult(monitor=monitor.name, at=now(), readable=False, reached=False,
                               detail="DNS lookup failed")
        return CheckResult(monitor=monitor.name, at=now(), readable=True,
                           components=(ComponentReading(monitor.name, Status.OPERATIONAL),))

    async def control(self) -> bool:
        return self.up


def monitors() -> list[HttpMonitor | StatuspageMonitor]:
    route = (Route("chat", "#ops"),)
    return [StatuspageMonitor(name="OpenAI", url="https://status.openai.com", routes=route),
            StatuspageMonitor(name="GitHub", url="https://www.githubstatus.com", routes=route),
            HttpMonitor(name="Checkout API", url="https://api.example.com/health", routes=route)]


@pytest.mark.anyio
@pytest.mark.parametrize("with_control", [True, False])
async def test_network_down_is_one_notice_not_an_outage_per_monitor(
    tmp_path: Path, client: httpx.AsyncClient, with_control: bool
) -> None:
    clock = FakeClock()
    net = Network()
    watched = monitors()
    chat = RecordingAdapter()
    wired = wire(tmp_path / "dw.db", watched, client=client, clock=clock, adapters={"chat": chat}, check=net.check,
                 control=net.control if with_control else None)
    store, watcher, sender = wired.store, wired.watcher, wired.sender
    for _ in range(2):
        for m in watched:
            await watcher.poll(m)
        clock.advance(60)
    net.up = False
    for _ in range(10):  # ten minutes without a network
        for m in watched:
            await watcher.poll(m)
        clock.advance(60)
    assert watcher.blind
    await sender.deliver_all()
    assert [c.kind for c in chat.calls] == [AlertKind.NETWORK_DOWN]
    assert store.open_incidents() == [] and store.unreadable_monitors() == []
    net.up = True
    for _ in range(3):
        for m in watched:
            await watcher.poll(m)
        clock.advance(60)
    await sender.deliver_all()
    assert [(c.op, c.kind) for c in chat.calls] == [
        ("post", AlertKind.NETWORK_DOWN), ("edit", AlertKind.NETWORK_UP), ("reply", AlertKind.NETWORK_UP)]
    assert not watcher.blind and store.open_incidents() == []


@pytest.mark.anyio
async def test_one_source_down_with_the_network_up_is_still_detected(tmp_path: Path,
                                                                     client: httpx.AsyncClient) -> None:
    clock = FakeClock()
    api = HttpMonitor(name="Checkout API", url="https://api.example.com/health", routes=(Route("chat", "#ops"),))
    down = {"value": False}

    async def check(monitor, *, client, now):  # type: ignore[no-untyped-def]
        if down["value"]:
            return CheckResult(monitor=monitor.name, at=now(), readable=True, reached=False,
                               components=(ComponentReading(monitor.name, Status.MAJOR, "connection refused"),))
        return CheckResult(monitor=monitor.name, at=now(), readable=True,
                           components=(ComponentReading(monitor.name, Status.OPERATIONAL),))

    async def control() -> bool:
        return True

    watcher = wire(tmp_path / "dw.db", [api], client=client, clock=clock, check=check, control=control).watcher
    await watcher.poll(api)
    down["value"] = True
    steps = [await watcher.poll(api), await watcher.poll(api)]
    assert steps[-1] is not None and [a.kind for a in steps[-1].alerts] == [AlertKind.OPENED]


@pytest.mark.anyio
async def test_control_probe_against_real_sockets(client: httpx.AsyncClient) -> None:
    async with LoopbackServer() as server:
        server.html("/generate_204", b"", status=204)
        assert await reachable(client, server.url_for("/generate_204"))
        server.html("/err", status=503)
        assert await reachable(client, server.url_for("/err"))  # any answer means the network works
    assert not await reachable(client, f"http://127.0.0.1:{closed_port()}/")


@pytest.mark.anyio
async def test_real_checks_tell_no_answer_from_a_bad_answer(client: httpx.AsyncClient) -> None:
    from bot.checks import run_check

    async with LoopbackServer() as server:
        server.html("/api/v2/summary.json")  # a CDN's 502 page: an answer, so the network works
        server.html("/health", status=503)
        answered = [
            await run_check(StatuspageMonitor(name="P", url=server.url, timeout=2), client=client, now=FakeClock().now),
            await run_check(HttpMonitor(name="H", url=server.url_for("/health"), timeout=2), client=client,
                            now=FakeClock().now),
        ]
    dead = f"http://127.0.0.1:{closed_port()}"
    silent = [
        await run_check(StatuspageMonitor(name="P", url=dead, timeout=2), client=client, now=FakeClock().now),
        await run_check(HttpMonitor(name="H", url=dead + "/health", timeout=2), client=client, now=FakeClock().now),
    ]
    assert [r.reached for r in answered] == [True, True]
    assert [r.reached for r in silent] == [False, False]
    assert not answered[0].readable and answered[1].components[0].status is Status.MAJOR
