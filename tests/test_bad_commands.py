"""Bad commands and requests: hostile /status text through Bolt's dispatch with the REAL
command handler over a real SQLite history: a short helpful answer, nothing executed (the database is
byte-for-byte the same dump), nobody pinged. Fuzzed form bodies, validly signed, never raise or 5xx.
Discord: the same text through the renderer, answered with no mention allowed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.render import mention_for
from adapters.discord.render import render_reply as discord_reply
from adapters.slack.adapter import SlackAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from adapters.slack.render import render_reply as slack_reply
from bot import commands
from bot.app import command_handler
from bot.clock import FakeClock
from bot.model import Command, CommandKind, Usage
from bot.store import Store
from tests.fakes.slack_api import FakeSlack

BAD_TOKEN = "xoxb-badcommands-SECRETtoken"
BAD_SIGNING_SECRET = "badcommands-signing-SECRET-42"

HOSTILE = {
    "empty": "",
    "blank": "   \t  ",
    "huge": "OpenAI " * 1500,  # ~10 KB
    "control": "Open\x00AI\x1b[31m\x07\r\n\x7f",
    "channel": "<!channel>",
    "here": "<!here> please",
    "user": "<@U123> <#C123|general> <https://evil.example|click>",
    "everyone": "@everyone @here",
    "sql": "'; DROP TABLE incidents; --",
    "sql2": "\" OR 1=1 --",
    "like": "%_%",
    "unknown": "no-such-monitor",
    "markdown": "*bold* _it_ ~x~ `code` ```block``` > quote",
}


# Names that start with a command word: "Uptime Robot" alone, "Incidents Dashboard" next to "Dashboard".
MONITORS = [("OpenAI", "statuspage"), ("Checkout API", "http"), ("Uptime Robot", "http"),
            ("Incidents Dashboard", "http"), ("Dashboard", "http")]


def sign(body: bytes, timestamp: int, secret: str = BAD_SIGNING_SECRET) -> dict[str, str]:
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": str(timestamp), "x-slack-signature": f"v0={digest}",
            "content-type": "application/x-www-form-urlencoded"}


def dump(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return "\n".join(conn.iterdump())


class Bot:
    """A Slack adapter in HTTP mode with the real handler over a real store, on one private event loop."""

    def __init__(self, path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.path = path
        self.clock = clock = FakeClock()
        self.store = Store.open(str(path))
        self.store.sync_monitors(MONITORS, clock.now())
        self.fake = FakeSlack(token=BAD_TOKEN)
        self.loop.run_until_complete(self.fake.__aenter__())
        self.adapter = SlackAdapter(config=SlackConfig(
            mode=SlackMode.HTTP, channel="C1", bot_token=BAD_TOKEN, signing_secret=BAD_SIGNING_SECRET,
            api_url=self.fake.api_url, host="127.0.0.1", port=0), log=logging.getLogger("downwatch.slack"),
            clock=clock)
        self.loop.run_until_complete(self.adapter.start(command_handler(self.store, clock)))

    def dispatch(self, body: bytes, headers: dict[str, str]) -> int:
        """POST to the adapter's /slack/events over real HTTP, as Slack does (Bolt's aiohttp adapter)."""

        async def go() -> int:
            async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{self.adapter.port}/slack/events", data=body, headers=headers
            ) as response:
                return response.status

        return self.loop.run_until_complete(go())

    def command(self, text: str) -> dict[str, Any]:
        before = len(self.fake.called("response_url"))
        body = urlencode({"command": "/status", "text": text, "team_id": "T1", "user_id": "U1",
                          "channel_id": "C1", "response_url": self.fake.response_url()}).encode()
        assert self.dispatch(body, sign(body, int(time.time()))) == 200
        calls = self.loop.run_until_complete(self.fake.wait_for("response_url", before + 1))
        return dict(calls[-1].params)

    def close(self) -> None:
        self.loop.run_until_complete(self.adapter.stop())
        self.loop.run_until_complete(self.fake.__aexit__(None, None, None))
        self.store.close()
        self.loop.close()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    running = Bot(tmp_path_factory.mktemp("badcommands") / "dw.db")
    yield running
    running.close()


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_text_gets_a_short_answer_changes_nothing_and_pings_nobody(bot: Bot, case: str) -> None:
    before = dump(bot.path)
    answer = bot.command(HOSTILE[case])
    assert dump(bot.path) == before  # nothing executed, nothing written
    text = answer["text"]
    rendered = json.dumps(answer, ensure_ascii=False)
    assert len(text) < 3000 and "Traceback" not in rendered
    for mention in ("<!channel>", "<!here>", "<@U123>", "<#C123", "<https://evil"):
        assert mention not in rendered, (case, rendered)
    if case in ("channel", "here", "user"):
        assert "&lt;" in text  # shown, escaped
    if case in ("sql", "sql2", "like", "unknown", "markdown", "everyone", "channel", "here", "user", "control"):
        assert text.startswith("⚠️ No monitor or component named") or "Usage" in text, text
    if case == "huge":
        assert text.startswith("⚠️ That is too long")
    if case in ("empty", "blank"):
        assert "monitors" in text
    assert "\x00" not in rendered and "\x1b" not in rendered


def test_did_you_mean_still_helps_after_hostile_text(bot: Bot) -> None:
    answer = bot.command("opnai")
    assert "OpenAI" in answer["text"]


# ---------------------------------------------------------------- every subcommand, answered from the history

NOW = FakeClock().now()  # the bot's clock, never moved
WEEK = timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("uptime", Command(CommandKind.UPTIME)),
        ("uptime 90d", Command(CommandKind.UPTIME, window=timedelta(days=90))),
        ("uptime openai 7d", Command(CommandKind.UPTIME, target="openai", window=WEEK)),
        ("incidents", Command(CommandKind.INCIDENTS)),
        ("incidents Checkout API 3 7d", Command(CommandKind.INCIDENTS, target="Checkout API", limit=3, since=NOW - WEEK)),
        ("incidents 2026-09-01", Command(CommandKind.INCIDENTS, since=datetime(2026, 9, 1, tzinfo=UTC))),
        # "uptime Robot" names nothing, so the whole text is the monitor's name
        ("Uptime Robot", Command(CommandKind.TARGET, target="Uptime Robot")),
        ("uptime Uptime Robot", Command(CommandKind.UPTIME, target="Uptime Robot")),
        # "Dashboard" exists: the subcommand reading wins, and quotes ask for the other monitor
        ("Incidents Dashboard", Command(CommandKind.INCIDENTS, target="Dashboard")),
        ('"Incidents Dashboard"', Command(CommandKind.TARGET, target="Incidents Dashboard")),
        ("help", Command(CommandKind.HELP)),
        ("Help Desk", Command(CommandKind.TARGET, target="Help Desk")),
    ],
)
def test_slack_subcommands_answer_what_the_handler_answers(bot: Bot, text: str, meant: Command) -> None:
    assert bot.clock.now() == NOW
    expected = commands.handle(meant, history=bot.store, now=NOW)
    answer = bot.command(text)
    assert answer["text"] == slack_reply(expected)[0]
    assert ("No monitor or component named" in answer["text"]) == (text == "Help Desk")


@pytest.mark.parametrize("case", ["stale", "future", "wrong-secret", "no-headers", "garbage-signature"])
def test_bad_signatures_and_timestamps_are_rejected(bot: Bot, case: str) -> None:
    body = urlencode({"command": "/status", "text": "", "response_url": bot.fake.response_url()}).encode()
    now = int(time.time())
    headers = {"stale": sign(body, now - 301), "future": sign(body, now + 301),
               "wrong-secret": sign(body, now, secret="nope"), "no-headers": {},
               "garbage-signature": {**sign(body, now), "x-slack-signature": "v0=zz not hex"}}[case]
    before = len(bot.fake.called("response_url"))
    assert bot.dispatch(body, headers) == 401
    assert len(bot.fake.called("response_url")) == before


# ---------------------------------------------------------------- fuzzing Bolt's form parsing

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=st.binary(max_size=2048).filter(lambda b: b"response_url" not in b))
def test_any_signed_body_never_raises_or_5xx(bot: Bot, body: bytes) -> None:
    status = bot.dispatch(body, sign(body, int(time.time())))
    assert status < 500


@FUZZ
@given(text=st.text(max_size=400), command=st.sampled_from(["/status", "/other", ""]),
       extra=st.dictionaries(st.text(max_size=10).filter(lambda k: k != "response_url"), st.text(max_size=30),
                             max_size=4))
def test_any_signed_slash_command_form_never_raises_or_5xx(
    bot: Bot, text: str, command: str, extra: dict[str, str]
) -> None:
    fields = {**extra, "command": command, "text": text, "response_url": bot.fake.response_url()}
    body = urlencode(fields).encode()
    status = bot.dispatch(body, sign(body, int(time.time())))
    assert status < 500


# ---------------------------------------------------------------- the parser and Discord


@pytest.mark.parametrize("case", list(HOSTILE))
def test_the_parser_answers_usage_or_a_plain_target_for_any_hostile_text(case: str) -> None:
    parsed = commands.parse_text(HOSTILE[case], now=NOW)
    if isinstance(parsed, Command):
        assert parsed.kind in (CommandKind.OVERVIEW, CommandKind.TARGET)
        assert parsed.target is None or not any(c in parsed.target for c in "\x00\x1b\x07\r\n\x7f")
    else:
        assert isinstance(parsed, Usage) and parsed.is_error


@pytest.mark.parametrize("case", ["channel", "here", "user", "everyone", "markdown", "huge"])
def test_discord_answers_escape_the_text_and_allow_no_mention(case: str) -> None:
    reply = Usage(f"No monitor or component named “{HOSTILE[case][:80]}”.", suggestions=("OpenAI",), is_error=True)
    embeds = [e.to_dict() for e in discord_reply(reply)]
    rendered = json.dumps(embeds, ensure_ascii=False)
    assert "@everyone" not in rendered.replace("@\u200beveryone", "") or "\\@everyone" in rendered
    assert all(len(e.get("description", "")) <= 4096 for e in embeds)
    content, allowed = mention_for(None)
    assert content is None and allowed == {"parse": []}


@pytest.mark.parametrize("body", [b"{", b"{not json", b"\xff\xfe{"])
def test_a_body_bolt_cannot_parse_is_a_400_not_a_500(bot: Bot, body: bytes) -> None:
    assert bot.dispatch(body, {}) == 400  # before any signature: found by the fuzz test above
    assert bot.dispatch(body, sign(body, int(time.time()))) in (400, 401, 404)
