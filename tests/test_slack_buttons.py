"""Slack buttons (issue 12): Block Kit rendering, and clicks dispatched through the real slack-bolt as Slack sends
them (signed block_actions form posts over HTTP, `interactive` envelopes over Socket Mode) into the real
bot/operate.py over a real SQLite file, with the outbox editing the alert and replying in its thread on the
fake Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import aiohttp
import pytest

from adapters import buttons
from adapters.slack.adapter import SlackAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from adapters.slack.render import ACTIONS_BLOCK_ID, BUTTON_VALUE_LIMIT, render_alert, render_reply
from adapters.slack.webhook import SlackWebhookAdapter
from bot import app, wording
from bot.app import command_handler
from bot.chat import ActionHandler
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Config, ConfigError, Policy, Route, Web, load_config
from bot.model import (
    Acknowledged,
    Action,
    ActionResult,
    AffectedComponent,
    Alert,
    AlertKind,
    CheckResult,
    ComponentReading,
    Muted,
    Status,
)
from bot.operate import Operations, Snapshots
from bot.quiet import Quiet
from bot.store import Store
from tests.fakes.slack_api import FakeSlack
from tests.loopback import LoopbackServer
from tests.wiring import Wired, wire

DATA = Path(__file__).parent / "data"
SAMPLE = "slack_block_actions_button_bolt-python_test_payload.json"
SAMPLE_BODY = "slack_block_actions_button_bolt-python_test_payload_form_body.txt"
T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
MENTIONS = "<!channel> <!here> <@U0ALICE> <!subteam^S0OPS> @everyone & <https://evil.example|click>"


def alert(kind: AlertKind = AlertKind.OPENED, **changes: Any) -> Alert:
    base = Alert(kind=kind, incident_id="OpenAI#2026-11-30T14:00:00+00:00", monitor="OpenAI", severity=Status.MAJOR,
                 at=T0 + timedelta(minutes=2), started_at=T0,
                 components=(AffectedComponent("API", Status.MAJOR, T0),), total_components=25,
                 resolved_at=T0 + timedelta(hours=1) if kind is AlertKind.RESOLVED else None)
    return replace(base, **changes)


def actions_of(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(action_id, label, value) of every button, in order."""
    found = [b for b in blocks if b["type"] == "actions"]
    assert len(found) <= 1
    return [(e["action_id"], e["text"]["text"], e["value"]) for b in found for e in b["elements"]]


def context_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


# ---------------------------------------------------------------- rendering


def test_an_open_incident_shows_acknowledge_and_both_mutes_carrying_its_id() -> None:
    incident = alert().incident_id
    _, blocks = render_alert(alert())
    assert blocks[-1]["type"] == "actions" and blocks[-1]["block_id"] == ACTIONS_BLOCK_ID
    assert actions_of(blocks) == [("downwatch_ack", "Acknowledge", incident),
                                  ("downwatch_mute_1h", "Mute 1 h", incident),
                                  ("downwatch_mute_resolved", "Mute until resolved", incident)]
    assert blocks[-1]["elements"][0]["style"] == "primary"


def test_acknowledged_hides_acknowledge_and_says_who_in_a_context_line() -> None:
    text, blocks = render_alert(alert(acknowledged=Acknowledged("alice", T0 + timedelta(minutes=2))))
    assert [a[0] for a in actions_of(blocks)] == ["downwatch_mute_1h", "downwatch_mute_resolved"]
    line = next(t for t in context_texts(blocks) if "Acknowledged by" in t)
    assert line.replace("\u200b", "").endswith("Acknowledged by @alice 14:02 UTC")
    assert "Acknowledged by" in text  # the notification fallback says it too


def test_muted_shows_unmute_and_who_muted_until_when() -> None:
    muted = Muted("bob", T0 + timedelta(minutes=2), until=T0 + timedelta(hours=1, minutes=2))
    _, blocks = render_alert(alert(muted=muted))
    assert [a[0] for a in actions_of(blocks)] == ["downwatch_ack", "downwatch_unmute"]
    assert blocks[-1]["elements"][1]["style"] == "danger"
    assert any("Muted by @\u200bbob until 15:02 UTC" in t for t in context_texts(blocks))
    both = alert(muted=replace(muted, until=None), acknowledged=Acknowledged("alice", T0))
    assert [a[0] for a in actions_of(render_alert(both)[1])] == ["downwatch_unmute"]
    assert any("until resolved" in t for t in context_texts(render_alert(both)[1]))


@pytest.mark.parametrize("case", ["resolved", "notice", "digest", "buttons off"])
def test_no_buttons_on_resolved_alerts_notices_or_when_turned_off(case: str) -> None:
    shown = {"resolved": alert(AlertKind.RESOLVED), "notice": alert(AlertKind.SOURCE_UNREADABLE),
             "digest": alert(AlertKind.DIGEST),
             "buttons off": alert(buttons=False)}[case]
    _, blocks = render_alert(shown)
    assert actions_of(blocks) == []
    assert "actions" not in json.dumps(blocks)


def test_a_mention_in_a_mute_reason_or_a_name_pings_nobody() -> None:
    muted = Muted("<!channel>", T0, until=None, reason=MENTIONS)
    text, blocks = render_alert(alert(muted=muted, acknowledged=Acknowledged("<@U0ALICE>", T0)))
    payload = json.dumps(blocks, ensure_ascii=False) + text
    for token in ("<!channel>", "<!here>", "<@U0ALICE>", "<!subteam^S0OPS>", "<https://evil"):
        assert token not in payload
    line = next(t for t in context_texts(blocks) if "Muted by" in t)
    assert "&lt;" in line and "&amp;" in line and "<" not in line  # Slack's three control characters escaped


def test_a_very_long_incident_id_rides_as_its_hash() -> None:
    long = alert(incident_id="x" * (BUTTON_VALUE_LIMIT + 1))
    values = {value for _, _, value in actions_of(render_alert(long)[1])}
    assert values == {hashlib.sha1(long.incident_id.encode()).hexdigest()[:16]} == {buttons.incident_hash(long.incident_id)}


def test_the_answer_to_the_clicker_is_one_escaped_line() -> None:
    text, blocks = render_reply(ActionResult("Muted <!channel> until resolved", changed=True))
    assert text == "Muted &lt;!channel&gt; until resolved" and blocks[0]["text"]["text"] == text
    text, _ = render_reply(ActionResult(wording.NOT_OPERATOR, changed=False, is_error=True))
    assert text.startswith("⚠️") and "not an operator here" in text


def test_the_form_body_is_built_as_slack_and_its_sdk_tests_build_it() -> None:
    payload = json.loads((DATA / SAMPLE).read_text())
    assert form_body(payload) == (DATA / SAMPLE_BODY).read_text()
    assert json.loads(dict(parse_qsl(form_body(payload)))["payload"]) == payload


@pytest.mark.anyio
async def test_an_incoming_webhook_message_carries_no_buttons() -> None:
    async with FakeSlack() as fake:
        adapter = SlackWebhookAdapter(config=SlackConfig(mode=SlackMode.WEBHOOK, channel="webhook",
                                                         webhook_url=fake.webhook_url()))
        await adapter.start(handler=_never, actions=_never_act)
        try:
            await adapter.post("webhook", alert(muted=Muted("bob", T0, until=None)))
        finally:
            await adapter.stop()
        body = fake.called("webhook")[0].params
        assert "actions" not in json.dumps(body) and "Muted by" in json.dumps(body, ensure_ascii=False)


async def _never(command: object) -> Any:
    raise AssertionError("a webhook receives no commands")


async def _never_act(action: object) -> ActionResult:
    raise AssertionError("a webhook receives no clicks")


# ---------------------------------------------------------------- what Slack sends


def form_body(payload: dict[str, Any]) -> str:
    """`payload=` + the URL-encoded JSON, exactly as Bolt's own tests (and our sample) build it."""
    return f"payload={quote(json.dumps(payload))}"


def sign(body: str, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers as Slack sends them: v0 HMAC-SHA256 over `v0:{timestamp}:{body}`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def click_payload(action_id: str, value: str, *, user: str = "U0ALICE", name: str = "alice", channel: str = "C0ALERTS",
                  message_ts: str = "", response_url: str = "") -> dict[str, Any]:
    """The real block_actions sample with our button, user, channel and response_url swapped in."""
    payload: dict[str, Any] = json.loads((DATA / SAMPLE).read_text())
    payload["user"].update(id=user, username=name, name=name)
    payload["container"].update(message_ts=message_ts, channel_id=channel, is_ephemeral=False)
    payload["channel"].update(id=channel, name="ops-alerts")
    payload["response_url"] = response_url
    payload["actions"][0].update(action_id=action_id, block_id=ACTIONS_BLOCK_ID, value=value,
                                 text={"type": "plain_text", "text": action_id, "emoji": True})
    return payload


# ---------------------------------------------------------------- [slack] operators

SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}


def config_with(tmp_path: Path, operators: str) -> str:
    path = tmp_path / "downwatch.toml"
    path.write_text(f'[slack]\nchannel = "C0ALERTS"\noperators = {operators}\n'
                    '[[monitors]]\nname = "OpenAI"\ntype = "statuspage"\nurl = "https://status.openai.com"\n')
    return str(path)


def test_operators_are_user_and_user_group_ids(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, '["U0ALICE", "W0GRID", "S0OPS", "U0ALICE"]'), SLACK_ENV)
    slack = config.platforms["slack"]
    assert isinstance(slack, SlackConfig) and slack.operators == ("U0ALICE", "W0GRID", "S0OPS")
    empty = load_config(config_with(tmp_path, "[]"), SLACK_ENV).platforms["slack"]
    assert isinstance(empty, SlackConfig) and empty.operators == ()  # anyone may act


@pytest.mark.parametrize(("value", "key", "reason"), [
    ('"U0ALICE"', "slack.operators", "must be a list of Slack user ids (U…/W…) or user-group ids (S…) (got 'U0ALICE')"),
    ('["U0ALICE", "@bob"]', "slack.operators[1]",
     "not a Slack user id (U…/W…) or user-group id (S…) (got '@bob'); a name like @alice cannot be checked"),
    ('[42]', "slack.operators[0]",
     "not a Slack user id (U…/W…) or user-group id (S…) (got 42); a name like @alice cannot be checked"),
])
def test_a_bad_operator_is_an_error_with_file_key_and_reason(tmp_path: Path, value: str, key: str, reason: str) -> None:
    path = config_with(tmp_path, value)
    with pytest.raises(ConfigError) as info:
        load_config(path, SLACK_ENV)
    assert info.value.errors == [f"{path}: {key}: {reason}"]


# ---------------------------------------------------------------- clicks, end to end

SECRET = "test-signing-secret-buttons-0123"
TOKEN = "xoxb-buttons-SECRETtoken"
APP_TOKEN = "xapp-buttons-SECRETapptoken"
CHANNEL = "C0ALERTS"
QUICK = Policy(failures_before_alert=1, successes_before_recovery=1)
MONITOR = StatuspageMonitor(name="OpenAI", url="https://status.openai.com", policy=QUICK,
                            routes=(Route("slack", CHANNEL),))


@dataclass
class Page:
    """What the status page says now: the API's status."""

    status: Status = Status.OPERATIONAL
    chatgpt: Status = Status.OPERATIONAL

    async def check(self, monitor: StatuspageMonitor, *, client: object, now: Any) -> CheckResult:
        return CheckResult(monitor.name, now(), readable=True,
                           components=(ComponentReading("API", self.status), ComponentReading("ChatGPT", self.chatgpt)))


@dataclass
class Bot:
    """One run of the bot: store, watcher, sender, the real Operations and a Slack adapter, on one SQLite file."""

    fake: FakeSlack
    wired: Wired
    adapter: SlackAdapter
    operations: Operations
    quiet: Quiet
    session: aiohttp.ClientSession

    @property
    def store(self) -> Store:
        return self.wired.store

    async def tick(self, page: Page) -> None:
        await self.wired.watcher.poll(MONITOR)
        await self.wired.drain("slack")

    async def post(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.adapter.port}/slack/events"
        async with self.session.post(url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def click(self, action_id: str, value: str, **who: str) -> str:
        """A signed block_actions post of one button; returns what the clicker was told (privately)."""
        before = len(self.fake.called("response_url"))
        payload = click_payload(action_id, value, message_ts=self.parent_ts(),
                                response_url=self.fake.action_response_url(), **who)
        body = form_body(payload)
        assert await self.post(body, sign(body, SECRET)) == (200, "")  # acknowledged at once, empty
        answer = (await self.fake.wait_for("response_url", before + 1))[-1].params
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
        await self.wired.drain("slack")  # the edit and the thread line the action queued (paced: the clock moves)
        return str(answer["text"])

    def parent_ts(self) -> str:
        return next((ts for (channel, ts), m in self.fake.messages.items()
                     if channel == CHANNEL and "thread_ts" not in m), "")

    def parent(self) -> dict[str, Any]:
        """The alert's parent message as Slack holds it now."""
        return next(m for (channel, _), m in self.fake.messages.items()
                    if channel == CHANNEL and "thread_ts" not in m)

    def thread(self) -> list[str]:
        return [str(m["text"]) for m in self.fake.messages.values() if "thread_ts" in m]


def methods(calls: list[Any]) -> list[str]:
    """The Slack calls made, but Bolt's own auth.test (it asks once, on the first request it authorizes)."""
    return [c.method for c in calls if c.method != "auth.test"]


def incident_id(bot: Bot) -> str:
    return bot.store.open_incidents()[0].id


def blocks_of(params: Any) -> list[dict[str, Any]]:
    blocks = params["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def button_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


@asynccontextmanager
async def running(path: Path, fake: FakeSlack, clock: FakeClock, *, operators: tuple[str, ...] = (),
                  mode: SlackMode = SlackMode.HTTP, busy: Busy | None = None) -> AsyncIterator[Bot]:
    """The bot as `downwatch run` wires it (store, watcher, sender, Operations, Slack) over `path`."""
    config = SlackConfig(mode=mode, channel=CHANNEL, bot_token=TOKEN, app_token=APP_TOKEN, signing_secret=SECRET,
                         api_url=fake.api_url, host="127.0.0.1", port=0, operators=operators)
    adapter = SlackAdapter(config=config, clock=clock, log=logging.getLogger("downwatch.slack"))
    wired = wire(path, [MONITOR], clock=clock, adapters={"slack": adapter}, check=PAGE.check)
    snapshots = Snapshots(monitors=[MONITOR], states=wired.store.load_states)
    quiet = Quiet(store=wired.store, monitors=[MONITOR], snapshot=snapshots)
    operations = Operations(store=wired.store, clock=clock, monitors=[MONITOR], quiet=quiet, snapshot=snapshots)
    quiet.tick(clock.now())  # as `downwatch run` does at start: mutes that ended while it was down
    await adapter.start(command_handler(wired.store, clock, operations=operations), held(operations, busy))
    try:
        async with aiohttp.ClientSession() as session:
            yield Bot(fake, wired, adapter, operations, quiet, session)
    finally:
        await adapter.stop()
        wired.store.close()


PAGE = Page()


@pytest.fixture
def page() -> Page:
    PAGE.status = PAGE.chatgpt = Status.OPERATIONAL
    return PAGE


async def opened(bot: Bot, page: Page) -> str:
    """Seed, then an outage: the alert is posted with its buttons; returns the incident id."""
    await bot.tick(page)
    page.status = Status.MAJOR
    await bot.tick(page)
    assert button_ids(blocks_of(bot.parent())) == ["downwatch_ack", "downwatch_mute_1h", "downwatch_mute_resolved"]
    return incident_id(bot)


@pytest.mark.anyio
async def test_acknowledge_edits_the_alert_replies_in_its_thread_and_is_kept_in_the_history(
        tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake, running(tmp_path / "dw.db", fake, clock) as bot:
        incident = await opened(bot, page)
        clicked = clock.advance(120)
        told = await bot.click("downwatch_ack", incident)
        assert "Acknowledged OpenAI's incident" in told and "@\u200balice" in told

        update = fake.called("chat.update")[-1].params
        assert update["ts"] == bot.parent_ts() and update["channel"] == CHANNEL
        assert "Acknowledged by @\u200balice 14:02 UTC" in json.dumps(blocks_of(update), ensure_ascii=False)
        assert button_ids(blocks_of(update)) == ["downwatch_mute_1h", "downwatch_mute_resolved"]
        assert any("Acknowledged by @\u200balice" in line for line in bot.thread())
        [(at, kind, monitor, actor, _)] = bot.store.actions("OpenAI")
        assert (at, kind, monitor, actor) == (clicked, "ack", "OpenAI", "alice")

        updates = len(fake.called("chat.update"))
        again = await bot.click("downwatch_ack", incident, user="U0BOB", name="bob")  # a second on-call, late
        assert "already acknowledged by @\u200balice" in again
        assert len(fake.called("chat.update")) == updates and len(bot.store.actions("OpenAI")) == 1

        page.chatgpt = Status.PARTIAL  # the incident grows: the engine's edit keeps who acknowledged it
        clock.advance(60)
        await bot.tick(page)
        grown = blocks_of(fake.called("chat.update")[-1].params)
        assert "ChatGPT" in json.dumps(grown) and "Acknowledged by @\u200balice" in json.dumps(grown, ensure_ascii=False)
        assert button_ids(grown) == ["downwatch_mute_1h", "downwatch_mute_resolved"]


@pytest.mark.anyio
async def test_a_button_posted_before_a_restart_still_works(tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake:
        async with running(tmp_path / "dw.db", fake, clock) as before:
            incident = await opened(before, page)
            parent = before.parent_ts()
        clock.advance(600)  # the bot was down ten minutes; a new process, a new adapter, a new Operations
        async with running(tmp_path / "dw.db", fake, clock) as after:
            told = await after.click("downwatch_mute_1h", incident, user="U0BOB", name="bob")
            assert "Muted OpenAI until 15:10 UTC" in told
            update = fake.called("chat.update")[-1].params
            assert update["ts"] == parent
            assert "Muted by @\u200bbob until 15:10 UTC" in json.dumps(blocks_of(update), ensure_ascii=False)
            assert button_ids(blocks_of(update)) == ["downwatch_ack", "downwatch_unmute"]
            assert any("Muted by @\u200bbob" in line for line in after.thread())
            assert [(a[1], a[3]) for a in after.store.actions("OpenAI")] == [("mute", "bob")]


@pytest.mark.anyio
async def test_a_mute_that_ran_out_while_the_bot_was_down_takes_its_line_and_unmute_away(
        tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake:
        async with running(tmp_path / "dw.db", fake, clock) as before:
            incident = await opened(before, page)
            await before.click("downwatch_mute_1h", incident)
            assert button_ids(blocks_of(fake.called("chat.update")[-1].params)) == ["downwatch_ack", "downwatch_unmute"]
        clock.advance(3 * 3600)  # down for three hours: the mute ended meanwhile
        async with running(tmp_path / "dw.db", fake, clock) as after:
            await after.wired.drain("slack")
            update = blocks_of(fake.called("chat.update")[-1].params)
            assert "Muted by" not in json.dumps(update, ensure_ascii=False)
            assert button_ids(update) == ["downwatch_ack", "downwatch_mute_1h", "downwatch_mute_resolved"]
            stale = await after.click("downwatch_unmute", incident)  # the Unmute some client still shows
            assert "has already ended" in stale


@pytest.mark.anyio
async def test_unmute_then_a_stale_unmute_and_a_mute_that_already_ended_change_nothing(
        tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake, running(tmp_path / "dw.db", fake, clock) as bot:
        incident = await opened(bot, page)
        await bot.click("downwatch_mute_1h", incident)
        told = await bot.click("downwatch_unmute", incident, user="U0BOB", name="bob")
        assert told.startswith("🔔 Unmuted OpenAI")
        update = fake.called("chat.update")[-1].params
        assert button_ids(blocks_of(update)) == ["downwatch_ack", "downwatch_mute_1h", "downwatch_mute_resolved"]
        assert "Muted by" not in json.dumps(blocks_of(update), ensure_ascii=False)
        assert any("Unmuted by @\u200bbob" in line for line in bot.thread())

        updates, lines = len(fake.called("chat.update")), len(bot.thread())
        stale = await bot.click("downwatch_unmute", incident)  # the same old Unmute button, pressed again
        assert "OpenAI is not muted" in stale
        await bot.click("downwatch_mute_1h", incident)
        clock.advance(2 * 3600)  # the hour ran out while nobody looked
        ended = await bot.click("downwatch_unmute", incident)
        assert "is not muted (the last mute, by @\u200balice, has already ended)" in ended
        assert [a[1] for a in bot.store.actions("OpenAI")] == ["mute", "unmute", "mute"]
        assert len(bot.thread()) == lines + 1  # only the second mute's line; the stale clicks said nothing
        assert len(fake.called("chat.update")) >= updates + 1


@pytest.mark.anyio
async def test_a_click_on_a_resolved_incident_says_so_and_changes_nothing(tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake, running(tmp_path / "dw.db", fake, clock) as bot:
        incident = await opened(bot, page)
        page.status = Status.OPERATIONAL
        clock.advance(60)
        await bot.tick(page)
        resolved = blocks_of(fake.called("chat.update")[-1].params)
        assert button_ids(resolved) == []  # the recovery took the buttons away
        calls = len(fake.calls)
        for action_id in ("downwatch_ack", "downwatch_mute_1h", "downwatch_mute_resolved", "downwatch_unmute"):
            told = await bot.click(action_id, incident)  # a button from a client that has not refreshed
            assert "already resolved" in told or "is not muted" in told, told
        assert methods(fake.calls[calls:]) == ["response_url"] * 4  # no edit, no thread line
        assert bot.store.actions("OpenAI") == []


@pytest.mark.anyio
async def test_a_click_on_an_incident_this_database_never_saw_answers_plainly(tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake, running(tmp_path / "dw.db", fake, clock) as bot:
        await opened(bot, page)
        told = await bot.click("downwatch_ack", "Gone#2020-01-01T00:00:00+00:00")
        assert "no longer knows that incident" in told and "Traceback" not in told
        told = await bot.click("downwatch_explode", "whatever")  # a button of some other version
        assert "another version of downwatch" in told
        assert bot.store.actions() == []


@pytest.mark.anyio
@pytest.mark.parametrize("case", ["unsigned", "wrong secret", "tampered", "stale timestamp"])
async def test_a_forged_or_unsigned_click_is_refused_with_401_and_changes_nothing(
        tmp_path: Path, page: Page, case: str) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake, running(tmp_path / "dw.db", fake, clock) as bot:
        incident = await opened(bot, page)
        body = form_body(click_payload("downwatch_ack", incident, message_ts=bot.parent_ts(),
                                       response_url=fake.action_response_url()))
        headers = {"unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
                   "wrong secret": sign(body, "not-the-signing-secret"),
                   "tampered": sign(body.replace("alice", "mallory"), SECRET),
                   "stale timestamp": sign(body, SECRET, timestamp=int(time.time()) - 3600)}[case]
        calls = len(fake.calls)
        status, _ = await bot.post(body, headers)
        assert status == 401
        await bot.wired.drain("slack")
        assert methods(fake.calls[calls:]) == [] and bot.store.actions() == []
        assert button_ids(blocks_of(bot.parent()))[0] == "downwatch_ack"


@pytest.mark.anyio
async def test_only_operators_may_click_users_or_members_of_a_user_group(tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake:
        fake.usergroups["S0ONCALL"] = ["U0CAROL"]
        async with running(tmp_path / "dw.db", fake, clock, operators=("U0ALICE", "S0ONCALL")) as bot:
            incident = await opened(bot, page)
            calls = len(fake.calls)
            told = await bot.click("downwatch_ack", incident, user="U0MALLORY", name="mallory")
            assert "not an operator here" in told
            assert methods(fake.calls[calls:]) == ["usergroups.users.list", "response_url"]
            assert bot.store.actions() == [] and not fake.called("chat.update")

            told = await bot.click("downwatch_mute_1h", incident, user="U0CAROL", name="carol")  # in the group
            assert "Muted OpenAI" in told
            assert len(fake.called("usergroups.users.list")) == 1  # the members were kept for a minute
            told = await bot.click("downwatch_ack", incident)  # alice is listed by id
            assert "Acknowledged OpenAI's incident" in told
            assert [(a[1], a[3]) for a in bot.store.actions()] == [("ack", "alice"), ("mute", "carol")]


@pytest.mark.anyio
async def test_a_user_group_slack_will_not_show_lets_nobody_in_through_it(tmp_path: Path, page: Page,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake:
        async with running(tmp_path / "dw.db", fake, clock, operators=("S0MISSING",)) as bot:
            incident = await opened(bot, page)
            with caplog.at_level(logging.ERROR, logger="downwatch.slack"):
                told = await bot.click("downwatch_ack", incident)
            assert "not an operator here" in told and bot.store.actions() == []
            assert "cannot read the members of operator group S0MISSING (no_such_subteam)" in caplog.text
            assert TOKEN not in caplog.text


@pytest.mark.anyio
async def test_a_click_over_socket_mode_is_acknowledged_on_the_websocket_and_acted_on(
        tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake:
        async with running(tmp_path / "dw.db", fake, clock, mode=SlackMode.SOCKET) as bot:
            await fake.wait_for_socket()
            incident = await opened(bot, page)
            payload = click_payload("downwatch_mute_resolved", incident, message_ts=bot.parent_ts(),
                                    response_url=fake.action_response_url())
            envelope = await fake.send_envelope("interactive", payload)
            assert (await fake.wait_for_ack(envelope))["envelope_id"] == envelope
            answer = (await fake.wait_for("response_url"))[-1].params
            assert answer["response_type"] == "ephemeral" and "Muted OpenAI until resolved" in answer["text"]
            await bot.wired.drain("slack")
            update = blocks_of(fake.called("chat.update")[-1].params)
            assert "Muted by @\u200balice until resolved" in json.dumps(update, ensure_ascii=False)
            assert button_ids(update) == ["downwatch_ack", "downwatch_unmute"]


# ---------------------------------------------------------------- /status ack|mute|unmute


async def slash(bot: Bot, text: str, *, user: str = "U0ALICE", name: str = "alice") -> str:
    """A signed /status with `text` from `user`; returns what its response_url received."""
    before = len(bot.fake.called("response_url"))
    body = "&".join(f"{k}={quote(v, safe='')}" for k, v in {
        "team_id": "T0001", "team_domain": "example", "channel_id": CHANNEL,
        "channel_name": "ops-alerts", "user_id": user, "user_name": name, "command": "/status", "text": text,
        "api_app_id": "A0001", "response_url": bot.fake.response_url(), "trigger_id": "1.2.3"}.items())
    assert await bot.post(body, sign(body, SECRET)) == (200, "")
    answer = (await bot.fake.wait_for("response_url", before + 1))[-1].params
    await bot.wired.drain("slack")
    return str(answer["text"])


@pytest.mark.anyio
async def test_status_ack_and_mute_carry_who_typed_them_and_need_an_operator(tmp_path: Path, page: Page) -> None:
    clock = FakeClock(T0)
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake:
        async with running(tmp_path / "dw.db", fake, clock, operators=("U0ALICE",)) as bot:
            await opened(bot, page)
            refused = await slash(bot, "mute OpenAI 2h", user="U0MALLORY", name="mallory")
            assert "not an operator here" in refused and bot.store.actions() == []
            assert "OpenAI" in await slash(bot, "OpenAI", user="U0MALLORY", name="mallory")  # reading stays open

            told = await slash(bot, f"mute OpenAI 2h deploying the fix {MENTIONS}")
            assert "Muted OpenAI until 16:0" in told
            update = json.dumps(blocks_of(fake.called("chat.update")[-1].params), ensure_ascii=False)
            thread = fake.called("chat.postMessage")[-1].params
            assert "Muted by @\u200balice until 16:0" in update and "deploying the fix" in update
            assert thread["thread_ts"] == bot.parent_ts()
            for payload in (update, json.dumps(thread, ensure_ascii=False)):  # the reason pings nobody
                for token in ("<!channel>", "<!here>", "<@U0ALICE>", "<!subteam^S0OPS>", "<https://evil"):
                    assert token not in payload
            assert "Acknowledged OpenAI's incident" in await slash(bot, "ack openai")
            assert [(a[1], a[3]) for a in bot.store.actions()] == [("ack", "alice"), ("mute", "alice")]


# ---------------------------------------------------------------- as `downwatch run` wires it


@pytest.mark.anyio
async def test_downwatch_run_answers_a_click_on_the_web_servers_port(tmp_path: Path, server: LoopbackServer) -> None:
    """The composition root end to end: bot.app.run builds the store, watcher, Operations and Slack (HTTP mode,
    answering on the [web] server's port), posts the alert with its buttons, and a signed click edits it."""
    def page(status: str) -> None:
        server.json("/api/v2/summary.json", {"page": {}, "components": [
            {"id": "c1", "name": "API", "status": status}], "incidents": []})

    page("operational")  # the first reading is the baseline (silent); then the outage
    server.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    server.json("/api/v2/components.json", {"components": []})
    monitor = StatuspageMonitor(name="Provider", url=server.url_for(""), interval=1.0, timeout=0.5, policy=QUICK,
                                routes=(Route("slack", CHANNEL),))
    config = Config(path="(test)", database=str(tmp_path / "run.db"), monitors=(monitor,),
                    web=Web(host="127.0.0.1", port=0))
    async with FakeSlack(token=TOKEN) as fake:
        slack = SlackAdapter(config=SlackConfig(mode=SlackMode.HTTP, channel=CHANNEL, bot_token=TOKEN,
                                                signing_secret=SECRET, api_url=fake.api_url, host="127.0.0.1", port=0))
        stop, urls = asyncio.Event(), list[str]()
        runner = asyncio.create_task(app.run(config, stop=stop, adapters={"slack": slack}, on_web=urls.append))
        try:
            for _ in range(2000):  # the first poll (the scheduler's first interval), then the outage
                if any(r.path == "/api/v2/summary.json" for r in server.requests):
                    break
                await asyncio.sleep(0.01)
            page("major_outage")
            [posted] = await fake.wait_for("chat.postMessage", timeout=20)
            [ack] = [e for b in blocks_of(posted.params) if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == "downwatch_ack"]
            body = form_body(click_payload("downwatch_ack", ack["value"], response_url=fake.action_response_url()))
            async with aiohttp.ClientSession() as session:
                async with session.post(urls[0] + "/slack/events", data=body.encode(),
                                        headers=sign(body, SECRET)) as response:
                    assert (response.status, await response.text()) == (200, "")
            [answer] = await fake.wait_for("response_url")
            assert "Acknowledged Provider's incident" in answer.params["text"]
            [update] = await fake.wait_for("chat.update", timeout=20)
            assert "Acknowledged by @\u200balice" in json.dumps(blocks_of(update.params), ensure_ascii=False)
            lines = await fake.wait_for("chat.postMessage", 2, timeout=20)
            assert "Acknowledged by @\u200balice" in lines[-1].params["text"] and "thread_ts" in lines[-1].params
        finally:
            stop.set()
            await asyncio.wait_for(runner, 10)


@pytest.mark.anyio
async def test_the_click_is_acknowledged_before_the_action_runs(tmp_path: Path, page: Page) -> None:
    """Slack wants the HTTP answer within 3 s: Bolt's ack() goes out first, whatever the action takes."""
    clock, busy = FakeClock(T0), Busy()
    async with FakeSlack(token=TOKEN, app_token=APP_TOKEN) as fake, running(tmp_path / "dw.db", fake, clock, busy=busy) as bot:
        incident = await opened(bot, page)
        body = form_body(click_payload("downwatch_ack", incident, message_ts=bot.parent_ts(),
                                       response_url=fake.action_response_url()))
        assert await bot.post(body, sign(body, SECRET)) == (200, "")  # answered while the action waits
        await asyncio.wait_for(busy.started.wait(), 10)
        assert fake.called("response_url") == []
        busy.done.set()
        [answer] = await fake.wait_for("response_url")
        assert "Acknowledged OpenAI's incident" in answer.params["text"]



@dataclass
class Busy:
    """A database that keeps the action waiting until `done` is set; `started` says the action began."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)


def held(operations: Operations, busy: Busy | None) -> ActionHandler:
    """`operations`, or (busy) an action handler that waits until the database is free."""
    if busy is None:
        return operations

    async def slow(action: Action) -> ActionResult:
        busy.started.set()
        await busy.done.wait()
        return await operations(action)

    return slow
