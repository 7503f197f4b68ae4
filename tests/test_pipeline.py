"""check → engine → store → outbox → adapter, on both backends (a real SQLite file, a real PostgreSQL
database: tests/conftest.py `database`), a real loopback status page serving the real OpenAI captures, and a
fake clock (nothing sleeps)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot import commands
from bot.checks.client import make_client
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Policy, Route
from bot.model import (
    AlertKind,
    Change,
    ChangeKind,
    CheckResult,
    Command,
    CommandKind,
    ComponentReading,
    IncidentList,
    Overview,
    SendError,
    Status,
    TargetReport,
    Usage,
)
from tests.fakes.recording import RecordingAdapter
from tests.loopback import LoopbackServer
from tests.wiring import wire

DATA = Path(__file__).parent / "data"
OUTAGE = json.loads((DATA / "openai_incidentio_compat_summary_2026-09-29_during_outage_sorted_keys.json").read_text())
# The same page all clear. (The real all-clear capture is from July, when OpenAI's component list
# differed by 10 components; a recovery is the same page turning green, so derive it from the outage.)
CLEAR = {**OUTAGE, "components": [{**c, "status": "operational"} for c in OUTAGE["components"]],
         "status": {"description": "All Systems Operational", "indicator": "none"}}
CLEAR.pop("incidents")


@pytest.fixture
async def page(anyio_backend: str) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer() as server:
        server.json("/api/v2/summary.json", CLEAR)
        server.json("/api/v2/incidents/unresolved.json", {"incidents": []})
        yield server


def serve(page: LoopbackServer, summary: dict) -> None:
    page.json("/api/v2/summary.json", summary)
    page.json("/api/v2/incidents/unresolved.json", {"incidents": summary.get("incidents", [])})


class Bot:
    """The pieces the composition root wires, over one database, restartable."""

    def __init__(self, path: Path | str, page: LoopbackServer, client: httpx.AsyncClient, clock: FakeClock,
                 chat: RecordingAdapter) -> None:
        self.monitor = StatuspageMonitor(name="OpenAI", url=page.url, interval=60, timeout=5,
                                         policy=Policy(), routes=(Route("chat", "#ops", "<!here>"),))
        self.store, self.watcher, self.sender = wire(path, [self.monitor], clock=clock, client=client,
                                                     adapters={"chat": chat}).parts()
        self.chat = chat
        self.clock = clock

    async def tick(self) -> None:
        """One poll, then one delivery pass, then a minute passes."""
        await self.watcher.poll(self.monitor)
        await self.sender.deliver_all()
        self.clock.advance(60)


@pytest.mark.anyio
async def test_outage_update_recovery_through_the_whole_pipeline(
    database: str, page: LoopbackServer, client: httpx.AsyncClient
) -> None:
    clock = FakeClock()
    chat = RecordingAdapter()
    bot = Bot(database, page, client, clock, chat)
    await bot.tick()  # seed: silent
    serve(page, OUTAGE)
    await bot.tick()
    # the provider's own open incident is announced at once (a human declared it) ...
    assert chat.sequence() == [("post", None, "opened")]
    assert chat.calls[0].alert.components == ()
    assert chat.calls[0].alert.provider_incidents[0].title == (
        "Elevated errors across ChatGPT, Codex, and the API including the Agents API")
    await bot.tick()
    # ... and the components' states join it once they pass the failure threshold: same message, edited
    assert chat.sequence()[1:] == [("edit", "m1", "updated"), ("reply", "m1", "updated")]
    opened = chat.calls[1].alert
    assert len(opened.components) == 22 and opened.total_components == 25
    assert [(c.kind, c.affected, c.total) for c in opened.changes] == [(ChangeKind.JOINED, 22, 25)]
    assert chat.calls[0].mention is None  # degraded, not a major outage: nobody is paged
    overview = commands.handle(Command(CommandKind.OVERVIEW), history=bot.store, now=clock.now())
    assert isinstance(overview, Overview) and len(overview.problems) == 22 and len(overview.open_incidents) == 1

    # a component recovers inside the outage: an edit and a thread line on the same message
    partial = json.loads(json.dumps(OUTAGE))
    partial["components"][0]["status"] = "operational"
    serve(page, partial)
    await bot.tick()
    await bot.tick()
    assert chat.sequence()[3:] == [("edit", "m1", "updated"), ("reply", "m1", "updated")]
    assert ChangeKind.RECOVERED in [c.kind for c in chat.calls[4].alert.changes]

    serve(page, CLEAR)
    await bot.tick()
    await bot.tick()
    assert chat.sequence()[5:] == [("edit", "m1", "updated"), ("reply", "m1", "updated"),
                                   ("edit", "m1", "resolved"), ("reply", "m1", "resolved")]
    assert ChangeKind.PROVIDER_RESOLVED in [c.kind for c in chat.calls[6].alert.changes]
    resolved = chat.calls[-1].alert
    # until the first all-clear poll
    assert resolved.changes == (Change(ChangeKind.RESOLVED, duration=timedelta(minutes=4)),)

    listing = commands.handle(Command(CommandKind.INCIDENTS), history=bot.store, now=clock.now())
    assert isinstance(listing, IncidentList) and len(listing.incidents) == 1
    assert listing.incidents[0].resolved_at is not None
    assert bot.store.integrity() == "ok"


@pytest.mark.anyio
async def test_restart_mid_outage_is_silent_and_recovery_edits_the_original(
    database: str, page: LoopbackServer, client: httpx.AsyncClient
) -> None:
    clock = FakeClock()
    chat = RecordingAdapter()
    bot = Bot(database, page, client, clock, chat)
    await bot.tick()
    serve(page, OUTAGE)
    await bot.tick()
    await bot.tick()
    bot.store.close()
    # restart: new store, new watcher, new sender over the same file
    bot2 = Bot(database, page, client, clock, chat)
    before = chat.sequence()
    assert before == [("post", None, "opened"), ("edit", "m1", "updated"), ("reply", "m1", "updated")]
    await bot2.tick()
    await bot2.tick()
    assert chat.sequence() == before  # nothing re-announced
    serve(page, CLEAR)  # it recovers while we are "down"
    bot2.store.close()
    bot3 = Bot(database, page, client, clock, chat)
    await bot3.tick()
    await bot3.tick()
    after = chat.sequence()[len(before):]
    assert after[-2:] == [("edit", "m1", "resolved"), ("reply", "m1", "resolved")]
    assert all(op != "post" for op, _, _ in after)


NOWHERE = "http://127.0.0.1:9"  # these tests feed results to the watcher: nothing is fetched


def _reading(at, status: Status) -> CheckResult:  # type: ignore[no-untyped-def]
    return CheckResult(monitor="OpenAI", at=at, readable=True,
                       components=(ComponentReading("API", status), ComponentReading("ChatGPT", Status.OPERATIONAL)))


@pytest.mark.anyio
async def test_outbox_retries_honour_retry_after_then_backoff_and_keep_order(
    database: str, client: httpx.AsyncClient
) -> None:
    clock = FakeClock()
    chat = RecordingAdapter(failures=[SendError("HTTP 429", retryable=True, retry_after=30, rate_limited=True),
                                      SendError("HTTP 503", retryable=True)])
    monitor = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=(Route("chat", "#ops"),))
    store, watcher, sender = wire(database, [monitor], clock=clock, client=client, adapters={"chat": chat}).parts()
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR):
        watcher.apply(monitor, _reading(clock.now(), status))
        clock.advance(60)
    await sender.deliver_all()  # 429, retry in 30 s
    assert chat.calls == [] and len(chat.failures) == 1
    for status in (Status.OPERATIONAL, Status.OPERATIONAL):  # recovery queued behind the unsent parent
        watcher.apply(monitor, _reading(clock.now(), status))
        clock.advance(1)
    await sender.deliver_all()
    assert chat.calls == []  # still inside Retry-After: nothing, and the replies wait for their parent
    clock.advance(30)
    await sender.deliver_all()  # 503: no hint, back off 2 s
    assert chat.calls == []
    clock.advance(2)
    for _ in range(4):
        await sender.deliver_all()
    assert chat.sequence() == [("post", None, "opened"), ("edit", "m1", "resolved"), ("reply", "m1", "resolved")]
    assert [r["state"] for r in store.outbox_rows()] == ["sent", "sent", "sent"]


@pytest.mark.anyio
async def test_refused_parent_fails_loudly_and_deleted_parent_is_reposted(
    database: str, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    chat = RecordingAdapter(failures=[SendError("channel_not_found: invite the bot", retryable=False)])
    monitor = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=(Route("chat", "#ops"),))
    store, watcher, sender = wire(database, [monitor], clock=clock, client=client, adapters={"chat": chat}).parts()
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR):
        watcher.apply(monitor, _reading(clock.now(), status))
        clock.advance(60)
    await sender.deliver_all()
    assert [r["state"] for r in store.outbox_rows()] == ["failed"]
    assert "channel_not_found" in caplog.text
    # the next change (the channel was fixed meanwhile) posts a fresh parent, then threads under it
    watcher.apply(monitor, _reading(clock.now(), Status.OPERATIONAL))
    watcher.apply(monitor, _reading(clock.now(), Status.OPERATIONAL))
    await sender.deliver_all()
    await sender.deliver_all()
    assert chat.sequence() == [("post", None, "resolved"), ("reply", "m1", "resolved")]


@pytest.mark.anyio
async def test_message_gone_is_reposted_and_new_ref_recorded(database: str, client: httpx.AsyncClient) -> None:
    clock = FakeClock()
    chat = RecordingAdapter()
    monitor = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=(Route("chat", "#ops"),))
    store, watcher, sender = wire(database, [monitor], clock=clock, client=client, adapters={"chat": chat}).parts()
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR):
        watcher.apply(monitor, _reading(clock.now(), status))
    await sender.deliver_all()
    chat.failures.append(SendError("message_not_found", retryable=False, message_gone=True))
    for status in (Status.OPERATIONAL, Status.OPERATIONAL):
        watcher.apply(monitor, _reading(clock.now(), status))
    await sender.deliver_all()
    await sender.deliver_all()
    assert chat.sequence() == [("post", None, "opened"), ("post", None, "resolved"), ("reply", "m2", "resolved")]
    incident = store.outbox_rows()[0]["incident_id"]
    assert store.parent_ref(str(incident), "chat", "#ops") == "m2"


@pytest.mark.anyio
async def test_a_hanging_platform_never_delays_another(database: str, client: httpx.AsyncClient) -> None:
    clock = FakeClock()
    stuck = RecordingAdapter(name="slack", gate=asyncio.Event())
    fine = RecordingAdapter(name="discord")
    monitor = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=(Route("slack", "#ops"), Route("discord", "123")))
    store, watcher, sender = wire(database, [monitor], clock=clock, client=client,
                                  adapters={"slack": stuck, "discord": fine}).parts()
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR):
        watcher.apply(monitor, _reading(clock.now(), status))
    hanging = asyncio.create_task(sender.deliver_due("slack"))
    await sender.deliver_due("discord")
    assert fine.sequence() == [("post", None, "opened")] and not hanging.done()
    assert stuck.gate is not None
    stuck.gate.set()
    await hanging
    assert stuck.sequence() == [("post", None, "opened")]


def test_commands_answer_from_history_with_uptime_and_did_you_mean(database: str) -> None:
    clock = FakeClock()
    monitor = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=())
    store, watcher, _ = wire(database, [monitor], clock=clock, client=make_client(), adapters={}).parts()
    sequence = [Status.OPERATIONAL] * 60 + [Status.MAJOR] * 6 + [Status.OPERATIONAL] * 54  # 2 h, 6 min down
    for status in sequence:
        watcher.apply(monitor, _reading(clock.now(), status))
        clock.advance(60)
    report = commands.handle(Command(CommandKind.TARGET, target="api"), history=store, now=clock.now())
    assert isinstance(report, TargetReport) and report.name == "API" and not report.is_monitor
    day = report.uptime[0]
    assert day.percent is not None and abs(day.percent - 95.0) < 0.01  # 6 of 120 minutes down
    assert day.incidents == 1 and day.mttr is not None and day.mttr.total_seconds() == 360
    monitor_report = commands.handle(Command(CommandKind.TARGET, target="OpenAI"), history=store, now=clock.now())
    assert isinstance(monitor_report, TargetReport) and monitor_report.is_monitor
    assert len(monitor_report.incidents) == 1
    missing = commands.handle(Command(CommandKind.TARGET, target="OpenAl"), history=store, now=clock.now())
    assert isinstance(missing, Usage) and missing.is_error and "OpenAI" in missing.suggestions
    injected = commands.handle(Command(CommandKind.TARGET, target="x'; DROP TABLE incidents; --"),
                               history=store, now=clock.now())
    assert isinstance(injected, Usage) and store.recent_incidents(limit=5)
    assert commands.parse_text("incidents 0", now=clock.now()) == commands.parse_text("incidents 99", now=clock.now())
    assert commands.handle(Command(CommandKind.HELP), history=store, now=clock.now()) == Usage(commands.USAGE)
    assert store.integrity() == "ok"


def test_alert_kinds_persisted_in_timeline(database: str) -> None:
    clock = FakeClock()
    monitor = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=())
    store, watcher, _ = wire(database, [monitor], clock=clock, client=make_client(), adapters={}).parts()
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR, Status.OPERATIONAL, Status.OPERATIONAL):
        watcher.apply(monitor, _reading(clock.now(), status))
        clock.advance(60)
    kinds = [r[0] for r in store.sql.execute("SELECT kind FROM timeline ORDER BY id")]
    assert kinds == [AlertKind.OPENED.value, AlertKind.RESOLVED.value]


@pytest.mark.anyio
async def test_mention_only_when_it_becomes_a_major_outage(database: str, client: httpx.AsyncClient) -> None:
    clock = FakeClock()
    chat = RecordingAdapter()
    monitor = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=(Route("chat", "#ops", "<!here>"),))
    store, watcher, sender = wire(database, [monitor], clock=clock, client=client, adapters={"chat": chat}).parts()
    for status in (Status.OPERATIONAL, Status.DEGRADED, Status.DEGRADED, Status.MAJOR, Status.MAJOR,
                   Status.PARTIAL, Status.PARTIAL, Status.MAJOR, Status.MAJOR):
        watcher.apply(monitor, _reading(clock.now(), status))
        clock.advance(60)
        await sender.deliver_all()
    pings = [(c.op, c.kind.value, c.mention) for c in chat.calls if c.mention]
    # opened as degraded: no ping; became major: the thread line pings; back to major later: pings again
    assert chat.calls[0].mention is None
    assert pings == [("reply", "updated", "<!here>"), ("reply", "updated", "<!here>")]


@pytest.mark.anyio
@pytest.mark.parametrize(("failure", "held"), [
    (SendError("HTTP 429", retryable=True, retry_after=30, rate_limited=True), True),
    (SendError("HTTP 503", retryable=True, retry_after=30), False),
])
async def test_a_rate_limit_holds_the_platform_but_a_server_error_holds_only_its_message(
    database: str, client: httpx.AsyncClient, failure: SendError, held: bool
) -> None:
    clock = FakeClock()
    monitors = [StatuspageMonitor(name=n, url=NOWHERE, routes=(Route("chat", "#ops"),)) for n in ("OpenAI", "GitHub")]
    chat = RecordingAdapter(failures=[failure])
    _, watcher, sender = wire(database, monitors, clock=clock, client=client, adapters={"chat": chat}).parts()
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR):  # both monitors open an incident
        for m in monitors:
            watcher.apply(m, CheckResult(monitor=m.name, at=clock.now(), readable=True,
                                         components=(ComponentReading("API", status),)))
        clock.advance(60)
    await sender.deliver_all()  # the first post fails: does the other incident's post wait too?
    assert [c.alert.monitor for c in chat.calls] == ([] if held else ["GitHub"])
    clock.advance(31)
    await sender.deliver_all()
    assert sorted(c.alert.monitor for c in chat.calls) == ["GitHub", "OpenAI"]
