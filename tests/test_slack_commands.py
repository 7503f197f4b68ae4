"""The /status slash command dispatched through Bolt as Slack sends it: signed form bodies over real HTTP,
Socket Mode envelopes over a real websocket, answers delivered to a response_url on the fake Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import aiohttp
import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier

from adapters.slack.adapter import SlackAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from adapters.slack.render import render_reply
from bot.clock import FakeClock
from bot.commands import COMMANDS, USAGE, form
from bot.model import (
    Command,
    CommandKind,
    IncidentList,
    IncidentView,
    Overview,
    Reply,
    Status,
    TargetReport,
    Uptime,
    UptimeReport,
    Usage,
)
from tests.fakes.slack_api import FakeSlack

DATA = Path(__file__).parent / "data"
SECRET = "test-signing-secret-0123456789"
TOKEN = "xoxb-commands-SECRETtoken"
APP_TOKEN = "xapp-commands-SECRETapptoken"
NOW = datetime(2026, 9, 29, 15, 0, tzinfo=UTC)
SIGNED_SAMPLE = "slack_signing_docs_example_slash_command_body.txt"
WEATHER_SAMPLE = "slack_slash_command_docs_weather_body.txt"
BOLT_SAMPLE = "slack_slash_command_bolt-python_test_body_enterprise.txt"


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def sign(body: str, *, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    """Headers exactly as Slack sends them: v0 HMAC-SHA256 over `v0:{timestamp}:{body}`."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def slash_body(sample: str, *, response_url: str, text: str | None = None, command: str | None = None) -> str:
    """A real sample body with only its response_url (and optionally text/command) swapped, bytes otherwise kept."""
    body = (DATA / sample).read_text()
    body = re.sub(r"response_url=[^&]*", "response_url=" + quote(response_url, safe=""), body)
    if text is not None:
        body = re.sub(r"(?<=[&?])text=[^&]*|^text=[^&]*", "text=" + quote(text, safe=""), body)
    if command is not None:
        body = re.sub(r"command=[^&]*", "command=" + quote(command, safe=""), body)
    return body


@dataclass
class FakeHandler:
    """Answers like bot.commands.handle would, from a tiny fixed history; records what it was asked."""

    seen: list[Command] = field(default_factory=list)
    answered: list[Reply] = field(default_factory=list)
    gate: asyncio.Event | None = None  # when set, the handler waits for it before answering
    started: asyncio.Event = field(default_factory=asyncio.Event)
    explode: bool = False

    async def __call__(self, command: Command) -> Reply:
        self.seen.append(command)
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.explode:
            raise RuntimeError("database is locked at /var/lib/downwatch.db")
        self.answered.append(self.reply(command))
        return self.answered[-1]

    def reply(self, command: Command) -> Reply:
        incident = IncidentView("i1", "OpenAI", Status.MAJOR, NOW - timedelta(hours=3), NOW - timedelta(hours=1, minutes=48),
                                ("API", "ChatGPT"), title="Elevated errors")
        if command.kind is CommandKind.OVERVIEW:
            return Overview(now=NOW, monitors=3, problems=(), open_incidents=())
        if command.kind is CommandKind.HELP:
            return Usage(USAGE)
        if command.kind is CommandKind.INCIDENTS:
            return IncidentList(now=NOW, incidents=(incident,) * command.limit, target=command.target,
                                since=command.since)
        if command.kind is CommandKind.UPTIME and command.target is None:
            window = command.window or timedelta(hours=24)
            return UptimeReport(now=NOW, window=window, rows=(("OpenAI", Uptime(window, 99.95, 1)),))
        assert command.target is not None
        if command.target.casefold() == "openai":
            return TargetReport(now=NOW, name="OpenAI", monitor="OpenAI", is_monitor=True, status=Status.OPERATIONAL,
                                since=NOW - timedelta(hours=1), uptime=(Uptime(timedelta(hours=24), 99.5, 1),),
                                incidents=(incident,))
        return Usage(f"No monitor or component named “{command.target[:80]}”.", suggestions=("OpenAI",),
                     is_error=True)


@dataclass
class Served:
    fake: FakeSlack
    adapter: SlackAdapter
    handler: FakeHandler
    session: aiohttp.ClientSession

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"

    async def send(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        async with self.session.post(self.events_url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def command(self, text: str, sample: str = BOLT_SAMPLE) -> dict[str, Any]:
        """Send a signed /status with `text`, check the ack, and return what reached the response_url."""
        before = len(self.fake.called("response_url"))
        body = slash_body(sample, response_url=self.fake.response_url(), text=text, command="/status")
        status, answer = await self.send(body, sign(body, timestamp=int(time.time())))
        assert (status, answer) == (200, "")
        calls = await self.fake.wait_for("response_url", before + 1)
        return dict(calls[-1].params)


@asynccontextmanager
async def served(handler: FakeHandler | None = None, **overrides: Any) -> AsyncIterator[Served]:
    async with FakeSlack(token=TOKEN) as fake, aiohttp.ClientSession() as session:
        values: dict[str, Any] = {"mode": SlackMode.HTTP, "channel": "C1", "bot_token": TOKEN, "signing_secret": SECRET,
                                  "api_url": fake.api_url, "host": "127.0.0.1", "port": 0}
        values.update(overrides)
        adapter = SlackAdapter(config=SlackConfig(**values), log=logging.getLogger("downwatch.slack"),
                               clock=FakeClock(NOW))
        handler = handler or FakeHandler()
        await adapter.start(handler)
        try:
            yield Served(fake, adapter, handler, session)
        finally:
            await adapter.stop()


# ---------------------------------------------------------------- signatures


class PinnedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_slacks_documented_signing_vector_verifies_with_a_pinned_clock() -> None:
    vector = json.loads((DATA / "slack_signing_docs_example_vector.json").read_text())
    body = (DATA / vector["body_file"]).read_text()
    timestamp = vector["headers"]["X-Slack-Request-Timestamp"]
    signature = vector["headers"]["X-Slack-Signature"]
    at_the_time = SignatureVerifier(vector["signing_secret"], clock=PinnedClock(int(timestamp)))
    assert at_the_time.is_valid(body=body, timestamp=timestamp, signature=signature)
    assert sign(body, timestamp=int(timestamp), secret=vector["signing_secret"])["X-Slack-Signature"] == signature
    assert not at_the_time.is_valid(body=body + "x", timestamp=timestamp, signature=signature)
    six_minutes_later = SignatureVerifier(vector["signing_secret"], clock=PinnedClock(int(timestamp) + 360))
    assert not six_minutes_later.is_valid(body=body, timestamp=timestamp, signature=signature)


def test_the_documented_request_replayed_today_is_stale_and_refused() -> None:
    async def scenario() -> None:
        vector = json.loads((DATA / "slack_signing_docs_example_vector.json").read_text())
        body = (DATA / vector["body_file"]).read_text()
        async with served(signing_secret=vector["signing_secret"], command="/webhook-collect") as s:
            status, _ = await s.send(body, {**vector["headers"], "Content-Type": "application/x-www-form-urlencoded"})
            assert status == 401
            assert s.handler.seen == [] and s.fake.called("response_url") == []

    run(scenario)


@pytest.mark.parametrize("case", ["wrong-secret", "tampered-body", "no-signature", "stale", "future"])
def test_bad_signatures_and_timestamps_get_401_and_never_reach_the_handler(case: str) -> None:
    async def scenario() -> None:
        async with served() as s:
            body = slash_body(BOLT_SAMPLE, response_url=s.fake.response_url(), text="", command="/status")
            now = int(time.time())
            if case == "wrong-secret":
                headers = sign(body, timestamp=now, secret="not-the-secret")
            elif case == "tampered-body":
                headers = sign(body, timestamp=now)
                body = body.replace("text=", "text=incidents")
            elif case == "no-signature":
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
            elif case == "stale":
                headers = sign(body, timestamp=now - 6 * 60)  # correctly signed, outside the 5-minute window
            else:
                headers = sign(body, timestamp=now + 6 * 60)
            status, _ = await s.send(body, headers)
            assert status == 401
            assert s.handler.seen == []

    run(scenario)


# ---------------------------------------------------------------- every subcommand


DAY, WEEK, MONTH = timedelta(hours=24), timedelta(days=7), timedelta(days=30)


@pytest.mark.parametrize(
    ("text", "expected_command", "expected_text"),
    [
        ("", Command(CommandKind.OVERVIEW), "All 3 monitors operational"),
        ("help", Command(CommandKind.HELP), "```Usage:"),
        ("incidents 3", Command(CommandKind.INCIDENTS, limit=3), "Last 3 incidents"),
        ("incidents", Command(CommandKind.INCIDENTS), "Last 5 incidents"),
        ("incidents OpenAI 2 7d",
         Command(CommandKind.INCIDENTS, target="OpenAI", limit=2, since=NOW - WEEK,
                 fallback_target="incidents OpenAI 2 7d"),
         "Last 2 incidents for OpenAI since"),
        ("incidents 2026-09-20", Command(CommandKind.INCIDENTS, since=datetime(2026, 9, 20, tzinfo=UTC)),
         "Last 5 incidents since"),
        ("incidents abc", Command(CommandKind.INCIDENTS, target="abc", fallback_target="incidents abc"),
         "Last 5 incidents for abc"),
        ("uptime", Command(CommandKind.UPTIME), "Uptime over the last 24h"),
        ("uptime 7d", Command(CommandKind.UPTIME, window=WEEK), "Uptime over the last 7d"),
        ("uptime OpenAI 30d", Command(CommandKind.UPTIME, target="OpenAI", window=MONTH,
                                      fallback_target="uptime OpenAI 30d"), "OpenAI"),
        ("OpenAI", Command(CommandKind.TARGET, target="OpenAI"), "99.50%"),
        ("  openai  ", Command(CommandKind.TARGET, target="openai"), "OpenAI"),
        ("opnai", Command(CommandKind.TARGET, target="opnai"), "No monitor or component named “opnai”."),
        ('"Uptime Robot"', Command(CommandKind.TARGET, target="Uptime Robot"), "“Uptime Robot”"),
    ],
)
def test_subcommands_are_parsed_handled_and_answered_ephemerally(
    text: str, expected_command: Command, expected_text: str
) -> None:
    async def scenario() -> None:
        async with served() as s:
            answer = await s.command(text)
            assert s.handler.seen == [expected_command]
            assert answer["response_type"] == "ephemeral"
            assert answer["text"] == render_reply(s.handler.answered[-1])[0]  # what the handler said, rendered
            assert expected_text in answer["text"]
            assert answer["blocks"] and all(b["type"] == "section" for b in answer["blocks"])

    run(scenario)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("incidents 0", "`limit` must be a number from 1 to 25."),
        ("incidents 99", "`limit` must be a number from 1 to 25."),
        ("incidents OpenAI 2099-01-01", "`since` takes a span"),
        ("incidents soon 1y", "`since` takes a span"),
        ("uptime 1y", "`window` is one of 24h, 7d, 30d, 90d."),
        ('uptime "OpenAI" soon 7d', "Unexpected “soon”."),
        ("x" * 300, "That is too long (300 characters)."),
    ],
)
def test_bad_arguments_answer_usage_without_calling_the_handler(text: str, problem: str) -> None:
    async def scenario() -> None:
        async with served() as s:
            answer = await s.command(text)
            assert s.handler.seen == []
            assert answer["text"].startswith("⚠️ " + problem)
            assert "```Usage:" in answer["text"]
            for spec in COMMANDS:  # the help comes with it
                assert form(spec, slash=False) in answer["text"]

    run(scenario)


def test_command_text_cannot_ping_anyone() -> None:
    async def scenario() -> None:
        async with served() as s:
            answer = await s.command("<!channel> & <@U123>")
            assert s.handler.seen == [Command(CommandKind.TARGET, target="<!channel> & <@U123>")]
            rendered = json.dumps(answer, ensure_ascii=False)
            assert "<!channel>" not in rendered and "<@U123>" not in rendered
            assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in answer["text"]

    run(scenario)


def test_answers_can_be_posted_in_channel() -> None:
    async def scenario() -> None:
        async with served(ephemeral=False) as s:
            answer = await s.command("")
            assert answer["response_type"] == "in_channel"

    run(scenario)


def test_a_failing_handler_gets_a_short_apology_and_a_logged_trace(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="downwatch.slack")

    async def scenario() -> None:
        async with served(FakeHandler(explode=True)) as s:
            answer = await s.command("OpenAI")
            assert answer["text"].startswith("Sorry, something went wrong")
            assert "database is locked" not in json.dumps(answer) and "Traceback" not in json.dumps(answer)

    run(scenario)
    assert "database is locked" in caplog.text  # the trace is in the log, for the operator


# ---------------------------------------------------------------- acknowledge first


def test_the_command_is_acknowledged_before_the_handler_answers() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()
        async with served(FakeHandler(gate=gate)) as s:
            body = slash_body(WEATHER_SAMPLE, response_url=s.fake.response_url("ack/first"), text="incidents 2",
                              command="/status")
            status, answer = await s.send(body, sign(body, timestamp=int(time.time())))
            # Slack got its 200 while the handler is still blocked on the gate: the ack did not wait for it.
            assert (status, answer) == (200, "")
            assert s.handler.started.is_set() and s.fake.called("response_url") == []
            gate.set()
            calls = await s.fake.wait_for("response_url")
            assert calls[0].path == "/commands/T0001/ack/first"
            assert "*Last 2 incidents*" in calls[0].params["text"]

    run(scenario)


def test_dispatching_the_documented_weather_payload_through_the_bolt_app() -> None:
    async def scenario() -> None:
        async with served(command="/weather") as s:
            body = slash_body(WEATHER_SAMPLE, response_url=s.fake.response_url("weather"))
            response = await s.adapter.app.async_dispatch(
                AsyncBoltRequest(body=body, headers=dict(sign(body, timestamp=int(time.time()))))
            )
            assert response.status == 200
            assert s.handler.seen == [Command(CommandKind.TARGET, target="94070")]
            calls = await s.fake.wait_for("response_url")
            assert calls[0].params["text"].startswith("⚠️ No monitor or component named “94070”.")
            # Bolt resolved the bot through auth.test on the fake, with the bot token
            assert s.fake.called("auth.test")[0].headers["Authorization"] == f"Bearer {TOKEN}"

    run(scenario)


# ---------------------------------------------------------------- Socket Mode


def test_socket_mode_answers_a_slash_command_envelope() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake:
            adapter = SlackAdapter(config=SlackConfig(mode=SlackMode.SOCKET, channel="C1", bot_token=TOKEN,
                                                      app_token=APP_TOKEN, api_url=fake.api_url))
            handler = FakeHandler()
            await adapter.start(handler)
            try:
                await fake.wait_for_socket()
                opened = fake.called("apps.connections.open")
                assert len(opened) == 1 and opened[0].headers["Authorization"] == f"Bearer {APP_TOKEN}"
                body = slash_body(BOLT_SAMPLE, response_url=fake.response_url("socket"), text="help",
                                  command="/status")
                envelope = await fake.send_envelope("slash_commands", dict(parse_qsl(body, keep_blank_values=True)))
                ack = await fake.wait_for_ack(envelope)
                assert ack["envelope_id"] == envelope
                calls = await fake.wait_for("response_url")
                assert handler.seen == [Command(CommandKind.HELP)]
                assert calls[0].params["response_type"] == "ephemeral" and "```Usage:" in calls[0].params["text"]
            finally:
                await adapter.stop()

    run(scenario)


def test_socket_mode_with_a_bad_app_token_logs_what_to_check_and_does_not_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="downwatch.slack")

    async def scenario() -> None:
        async with FakeSlack(token=TOKEN, app_token="xapp-the-right-one") as fake:
            adapter = SlackAdapter(config=SlackConfig(mode=SlackMode.SOCKET, channel="C1", bot_token=TOKEN,
                                                      app_token=APP_TOKEN, api_url=fake.api_url))
            await adapter.start(FakeHandler())
            await adapter.stop()

    run(scenario)
    assert "check SLACK_APP_TOKEN" in caplog.text and "invalid_auth" in caplog.text
    assert APP_TOKEN not in caplog.text and TOKEN not in caplog.text
