"""Discord buttons (issue 12): the action row under an alert, and clicks arriving as Discord sends them
(INTERACTION_CREATE type 3 on the fake gateway) through the real discord.py client into the real
bot/operate.py over a real SQLite file; the deferred update and the ephemeral follow-up land on the fake
REST API, and the outbox edits the alert and replies in its thread."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters import buttons
from adapters.discord.adapter import DiscordAdapter
from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.discord.render import (
    CUSTOM_ID_MAX,
    custom_id,
    parse_custom_id,
    render_alert,
    render_buttons,
    render_reply,
)
from adapters.discord.webhook import DiscordWebhookAdapter
from bot import wording
from bot.app import command_handler
from bot.chat import ActionHandler
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import ConfigError, Policy, Route, load_config
from bot.model import (
    Acknowledged,
    Action,
    ActionResult,
    AffectedComponent,
    Alert,
    AlertKind,
    CheckResult,
    Command,
    ComponentReading,
    Muted,
    Reply,
    Status,
)
from bot.operate import Operations
from bot.quiet import Quiet
from bot.store import Store
from tests.fakes.discord_api import APP_ID, FakeDiscord, Recorded
from tests.test_discord_bot import interaction as slash_interaction
from tests.wiring import Wired, wire

DATA = Path(__file__).parent / "data"
SAMPLE = "discord_interaction_message_component_button_click_docs_2021_sample.json"
T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
MENTIONS = "@everyone @here <@53908232506183680> <@&290926798626357999> **bold**"


def alert(kind: AlertKind = AlertKind.OPENED, **changes: Any) -> Alert:
    base = Alert(kind=kind, incident_id="OpenAI#2026-11-30T14:00:00+00:00", monitor="OpenAI", severity=Status.MAJOR,
                 at=T0 + timedelta(minutes=2), started_at=T0,
                 components=(AffectedComponent("API", Status.MAJOR, T0),), total_components=25,
                 resolved_at=T0 + timedelta(hours=1) if kind is AlertKind.RESOLVED else None)
    return replace(base, **changes)


def row(shown: Alert) -> list[tuple[str, str, int]]:
    """(custom_id, label, style) of each button under the alert; [] when it has none."""
    view = render_buttons(shown)
    if view is None:
        return []
    components = view.to_components()
    assert len(components) == 1 and components[0]["type"] == 1  # one action row
    return [(b["custom_id"], b["label"], b["style"]) for b in components[0]["components"]]


# ---------------------------------------------------------------- rendering


def test_an_open_incident_shows_acknowledge_and_both_mutes_with_short_stable_ids() -> None:
    shown = alert()
    h = buttons.incident_hash(shown.incident_id)
    assert row(shown) == [(f"downwatch:ack:{h}", "Acknowledge", 1), (f"downwatch:mute_1h:{h}", "Mute 1 h", 2),
                          (f"downwatch:mute_resolved:{h}", "Mute until resolved", 2)]
    assert render_buttons(shown) is not None and not render_buttons(shown).is_dispatchable()  # type: ignore[union-attr]


def test_custom_ids_fit_discords_100_characters_whatever_the_incident_id() -> None:
    long = alert(incident_id="A monitor with a very long name " * 20 + "#2026-11-30T14:00:00+00:00")
    for custom, _, _ in row(long):
        assert len(custom) <= CUSTOM_ID_MAX
        verb, incident = parse_custom_id(custom) or (None, "")
        assert incident == buttons.incident_hash(long.incident_id) and isinstance(verb, buttons.Verb)
    assert custom_id(buttons.Verb.UNMUTE, "x") == f"downwatch:unmute:{buttons.incident_hash('x')}"
    for foreign in ("click_one", "downwatch:explode:abc", "downwatch:ack:", "other:ack:abc", "x" * 200):
        assert parse_custom_id(foreign) is None


def test_acknowledged_and_muted_change_the_row_and_the_embed_says_who() -> None:
    acked = alert(acknowledged=Acknowledged("alice", T0 + timedelta(minutes=2)))
    assert [c.split(":")[1] for c, _, _ in row(acked)] == ["mute_1h", "mute_resolved"]
    assert "Acknowledged by @\u200balice 14:02 UTC" in (render_alert(acked).description or "")
    muted = alert(muted=Muted("bob", T0, until=T0 + timedelta(hours=1, minutes=2)))
    assert [(c.split(":")[1], style) for c, _, style in row(muted)] == [("ack", 1), ("unmute", 4)]
    assert "Muted by @\u200bbob until 15:02 UTC" in (render_alert(muted).description or "")


@pytest.mark.parametrize("case", ["resolved", "notice", "digest", "buttons off"])
def test_no_buttons_on_resolved_alerts_notices_or_when_turned_off(case: str) -> None:
    shown = {"resolved": alert(AlertKind.RESOLVED), "notice": alert(AlertKind.SOURCE_UNREADABLE),
             "digest": alert(AlertKind.DIGEST),
             "buttons off": alert(buttons=False)}[case]
    assert render_buttons(shown) is None


def test_a_mention_in_a_mute_reason_or_a_name_pings_nobody_in_the_embed() -> None:
    shown = alert(muted=Muted("@everyone", T0, until=None, reason=MENTIONS), acknowledged=Acknowledged("<@1234>", T0))
    text = json.dumps(render_alert(shown).to_dict(), ensure_ascii=False)
    for token in ("@everyone", "@here", "<@53908232506183680>", "<@&290926798626357999>", "<@1234>", "**bold**"):
        assert token not in text


def test_the_answer_to_the_clicker_is_one_embed() -> None:
    embeds = render_reply(ActionResult("Muted @everyone until resolved", changed=True))
    assert len(embeds) == 1 and "@everyone" not in (embeds[0].description or "")
    embeds = render_reply(ActionResult(wording.NOT_OPERATOR, changed=False, is_error=True))
    assert "not an operator here" in (embeds[0].description or "")


# ---------------------------------------------------------------- what Discord sends


def click(message: dict[str, Any], custom: str, *, interaction_id: str, roles: tuple[str, ...] = (),
          user_id: str = "53908232506183680", name: str = "alice", guild: str = "290926798626357999") -> dict[str, Any]:
    """The documented component interaction with our message, button, member and ids swapped in.

    Like the slash-command sample, the 2021 docs example lacks fields discord.py 2.7 reads:
    `application_id` is there, `attachment_size_limit` and the member's `flags` are added."""
    data: dict[str, Any] = copy.deepcopy(json.loads((DATA / SAMPLE).read_text()))
    data.update(id=interaction_id, token=f"tok-{interaction_id}", application_id=APP_ID, guild_id=guild,
                channel_id=message["channel_id"], message=message, attachment_size_limit=10 * 1024 * 1024)
    data["data"] = {"custom_id": custom, "component_type": 2}
    data["member"]["user"].update(id=user_id, username=name)
    data["member"].update(roles=list(roles), flags=0)
    return data


# ---------------------------------------------------------------- [discord] operator_roles

DISCORD_ENV = {"DISCORD_BOT_TOKEN": "token"}


def config_with(tmp_path: Path, roles: str) -> str:
    path = tmp_path / "downwatch.toml"
    path.write_text(f'[discord]\nchannel = "645027906669510667"\noperator_roles = {roles}\n'
                    '[[monitors]]\nname = "OpenAI"\ntype = "statuspage"\nurl = "https://status.openai.com"\n')
    return str(path)


def test_operator_roles_are_role_ids_as_text_or_numbers(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, '["290926798626357999", 345678901234567890]'), DISCORD_ENV)
    discord_config = config.platforms["discord"]
    assert isinstance(discord_config, DiscordConfig)
    assert discord_config.operator_roles == (290926798626357999, 345678901234567890)


@pytest.mark.parametrize(("value", "key", "reason"), [
    ('"290926798626357999"', "discord.operator_roles", "must be a list of role ids (digits; got '290926798626357999')"),
    ('["@oncall"]', "discord.operator_roles[0]",
     "must be a role id (digits; got '@oncall'); a role name like @oncall cannot be checked"),
    ('[true]', "discord.operator_roles[0]",
     "must be a role id (digits; got True); a role name like @oncall cannot be checked"),
])
def test_a_bad_operator_role_is_an_error_with_file_key_and_reason(tmp_path: Path, value: str, key: str,
                                                                  reason: str) -> None:
    path = config_with(tmp_path, value)
    with pytest.raises(ConfigError) as info:
        load_config(path, DISCORD_ENV)
    assert info.value.errors == [f"{path}: {key}: {reason}"]


# ---------------------------------------------------------------- clicks, end to end

TOKEN = "fake-bot-token-MTIzNDU2Nzg5MDEyMzQ1Njc4.buttons"
CHANNEL = "645027906669510667"
ONCALL = "345678901234567890"
QUICK = Policy(failures_before_alert=1, successes_before_recovery=1)
MONITOR = StatuspageMonitor(name="OpenAI", url="https://status.openai.com", policy=QUICK,
                            routes=(Route("discord", CHANNEL),))


@dataclass
class Page:
    status: Status = Status.OPERATIONAL

    async def check(self, monitor: StatuspageMonitor, *, client: object, now: Any) -> CheckResult:
        return CheckResult(monitor.name, now(), readable=True,
                           components=(ComponentReading("API", self.status), ComponentReading("ChatGPT", Status.OPERATIONAL)))


@dataclass
class Bot:
    fake: FakeDiscord
    wired: Wired
    adapter: DiscordAdapter
    clicks: itertools.count[int]

    @property
    def store(self) -> Store:
        return self.wired.store

    async def tick(self) -> None:
        await self.wired.watcher.poll(MONITOR)
        await self.wired.drain("discord")

    def parent(self) -> str:
        """The alert's message id (the first message posted in the alert channel)."""
        return next(mid for mid, channel in self.fake.channels.items() if channel == CHANNEL)

    async def click(self, custom: str, **who: Any) -> Recorded:
        """INTERACTION_CREATE type 3 for one of the parent's buttons; returns the ephemeral follow-up."""
        interaction_id = str(next(self.clicks))
        await self.fake.dispatch("INTERACTION_CREATE", click(self.fake.message_object(self.parent()), custom,
                                                             interaction_id=interaction_id, **who))
        deferred = await self.fake.wait_for(callback_of(interaction_id))
        assert deferred.json == {"type": 6}  # DEFERRED_UPDATE_MESSAGE: acknowledged, nothing shown yet
        followup = await self.fake.wait_for(followup_of(interaction_id))
        assert followup.json["flags"] == 64 and followup.json["allowed_mentions"] == {"parse": []}  # ephemeral
        await self.wired.drain("discord")  # the edit and the thread line the action queued
        return followup

    def edits(self) -> list[Recorded]:
        return self.fake.find("PATCH", f"/channels/{CHANNEL}/messages/{self.parent()}")

    def thread(self) -> list[Recorded]:
        return self.fake.find("POST", f"/channels/{self.parent()}/messages")


def callback_of(interaction_id: str) -> Callable[[Recorded], bool]:
    return lambda r: r.method == "POST" and r.path == f"/interactions/{interaction_id}/tok-{interaction_id}/callback"


def followup_of(interaction_id: str) -> Callable[[Recorded], bool]:
    return lambda r: r.method == "POST" and r.path == f"/webhooks/{APP_ID}/tok-{interaction_id}"


def told(followup: Recorded) -> str:
    return str(followup.json["embeds"][0]["description"])


def buttons_in(body: Any) -> list[str]:
    """The verbs of the buttons a message body carries."""
    return [b["custom_id"].split(":")[1] for row_ in body.get("components") or [] for b in row_["components"]]


@asynccontextmanager
async def running(path: Path, fake: FakeDiscord, clock: FakeClock, page: Page, *,
                  roles: tuple[int, ...] = (), busy: Busy | None = None) -> AsyncIterator[Bot]:
    """The bot as `downwatch run` wires it (store, watcher, sender, Operations, Discord) over `path`."""
    config = DiscordConfig(mode=DiscordMode.BOT, channel=CHANNEL, bot_token=TOKEN, api_url=fake.api_url,
                           guild_id=290926798626357999, operator_roles=roles)
    adapter = DiscordAdapter(config=config, clock=clock, ready_timeout=20)
    wired = wire(path, [MONITOR], clock=clock, adapters={"discord": adapter}, check=page.check)
    quiet = Quiet(store=wired.store, monitors=[MONITOR])
    operations = Operations(store=wired.store, clock=clock, monitors=[MONITOR], quiet=quiet)
    await adapter.start(command_handler(wired.store, clock, operations=operations), held(operations, busy))
    try:
        yield Bot(fake, wired, adapter, itertools.count(int(clock.now().timestamp()) * 1000))
    finally:
        await adapter.stop()
        wired.store.close()


async def opened(bot: Bot, page: Page) -> str:
    """Seed, then an outage: the alert is posted with its buttons; returns the incident id."""
    await bot.tick()
    page.status = Status.MAJOR
    await bot.tick()
    post = bot.fake.find("POST", f"/channels/{CHANNEL}/messages")[0]
    assert buttons_in(post.json) == ["ack", "mute_1h", "mute_resolved"]
    return bot.store.open_incidents()[0].id


def ids(incident: str) -> dict[str, str]:
    return {verb.value: custom_id(verb, incident) for verb in buttons.Verb}


@pytest.mark.anyio
async def test_acknowledge_defers_answers_privately_edits_the_alert_and_replies_in_its_thread(tmp_path: Path) -> None:
    clock, page = FakeClock(T0), Page()
    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake, running(tmp_path / "dw.db", fake, clock, page) as bot:
        incident = await opened(bot, page)
        clicked = clock.advance(120)
        followup = await bot.click(ids(incident)["ack"])
        assert "Acknowledged OpenAI's incident" in told(followup)
        edit = bot.edits()[-1].json
        assert "Acknowledged by @\u200balice 14:02 UTC" in edit["embeds"][0]["description"]
        assert buttons_in(edit) == ["mute_1h", "mute_resolved"]
        line = bot.thread()[-1].json
        assert "Acknowledged by @\u200balice" in line["content"] and line["allowed_mentions"]["parse"] == []
        assert [(a[0], a[1], a[3]) for a in bot.store.actions()] == [(clicked, "ack", "alice")]


@pytest.mark.anyio
async def test_a_button_posted_before_a_restart_still_works(tmp_path: Path) -> None:
    clock, page = FakeClock(T0), Page()
    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake:
        async with running(tmp_path / "dw.db", fake, clock, page) as before:
            incident = await opened(before, page)
        clock.advance(600)  # a new process: a new discord.py client, adapter and Operations, the same database
        async with running(tmp_path / "dw.db", fake, clock, page) as after:
            followup = await after.click(ids(incident)["mute_1h"], name="bob")
            assert "Muted OpenAI until 15:10 UTC" in told(followup)
            edit = after.edits()[-1].json
            assert "Muted by @\u200bbob until 15:10 UTC" in edit["embeds"][0]["description"]
            assert buttons_in(edit) == ["ack", "unmute"]
            assert any("Muted by @\u200bbob" in r.json["content"] for r in after.thread())
            assert [(a[1], a[3]) for a in after.store.actions()] == [("mute", "bob")]


@pytest.mark.anyio
async def test_stale_buttons_say_what_happened_and_change_nothing(tmp_path: Path) -> None:
    clock, page = FakeClock(T0), Page()
    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake, running(tmp_path / "dw.db", fake, clock, page) as bot:
        incident = await opened(bot, page)
        await bot.click(ids(incident)["mute_1h"])
        clock.advance(2 * 3600)  # the mute ran out
        ended = await bot.click(ids(incident)["unmute"])
        assert "is not muted (the last mute, by @\u200balice, has already ended)" in told(ended)
        page.status = Status.OPERATIONAL
        await bot.tick()
        assert buttons_in(bot.edits()[-1].json) == []  # the recovery took the buttons away
        requests = len(bot.fake.requests)
        resolved = await bot.click(ids(incident)["ack"])
        assert "already resolved" in told(resolved)
        unknown = await bot.click("downwatch:ack:0123456789abcdef")
        assert "no longer knows that incident" in told(unknown)
        foreign = await bot.click("downwatch:explode:0123456789abcdef")
        assert "another version of downwatch" in told(foreign)
        after = bot.fake.requests[requests:]
        assert not [r for r in after if r.method == "PATCH" or r.path.startswith("/channels/")]  # no edit, no line
        assert [a[1] for a in bot.store.actions()] == ["mute"]


@pytest.mark.anyio
async def test_only_members_with_an_operator_role_may_click(tmp_path: Path) -> None:
    clock, page = FakeClock(T0), Page()
    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake:
        async with running(tmp_path / "dw.db", fake, clock, page, roles=(int(ONCALL),)) as bot:
            incident = await opened(bot, page)
            edits = len(bot.edits())
            refused = await bot.click(ids(incident)["ack"], roles=("290926798626357999",), name="mallory")
            assert "not an operator here" in told(refused)
            assert bot.store.actions() == [] and len(bot.edits()) == edits
            allowed = await bot.click(ids(incident)["ack"], roles=("290926798626357999", ONCALL), name="carol")
            assert "Acknowledged OpenAI's incident" in told(allowed)
            assert [(a[1], a[3]) for a in bot.store.actions()] == [("ack", "carol")]


# ---------------------------------------------------------------- /ack, /mute, /unmute


@pytest.mark.anyio
async def test_slash_mute_needs_an_operator_role_and_carries_who_typed_it(tmp_path: Path) -> None:
    clock, page = FakeClock(T0), Page()
    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake:
        async with running(tmp_path / "dw.db", fake, clock, page, roles=(int(ONCALL),)) as bot:
            await opened(bot, page)
            options = [{"type": 3, "name": "monitor", "value": "OpenAI"}, {"type": 3, "name": "duration", "value": "2h"},
                       {"type": 3, "name": "reason", "value": f"deploying the fix {MENTIONS}"}]
            refused = slash_interaction("mute", options, interaction_id="9001")  # Mason holds no operator role
            await fake.dispatch("INTERACTION_CREATE", refused)
            answer = await fake.wait_for(callback_of("9001"))
            assert answer.json["type"] == 4 and answer.json["data"]["flags"] == 64  # at once, privately
            assert "not an operator here" in answer.json["data"]["embeds"][0]["description"]
            assert bot.store.actions() == []

            allowed = slash_interaction("mute", options, interaction_id="9002")
            allowed["member"]["roles"].append(ONCALL)
            await fake.dispatch("INTERACTION_CREATE", allowed)
            deferred = await fake.wait_for(callback_of("9002"))
            assert deferred.json == {"type": 5, "data": {"flags": 64}}  # thinking…, privately
            followup = await fake.wait_for(followup_of("9002"))
            assert followup.json["flags"] == 64 and "Muted OpenAI until 16:00 UTC" in told(followup)
            await bot.wired.drain("discord")
            edit = json.dumps(bot.edits()[-1].json, ensure_ascii=False)
            line = bot.thread()[-1].json
            assert "Muted by @\u200bMason until 16:00 UTC" in edit and "deploying the fix" in edit
            assert line["allowed_mentions"]["parse"] == [] and "Muted by @\u200bMason" in line["content"]
            for payload in (edit, json.dumps(line, ensure_ascii=False)):  # the reason pings nobody
                for token in ("@everyone", "@here", "<@53908232506183680>", "<@&290926798626357999>"):
                    assert token not in payload
            assert [(a[1], a[3]) for a in bot.store.actions()] == [("mute", "Mason")]


@pytest.mark.anyio
async def test_a_webhook_message_carries_no_buttons_but_says_who_muted() -> None:
    async with FakeDiscord(token=TOKEN) as fake:
        config = DiscordConfig(mode=DiscordMode.WEBHOOK, channel="", webhook_url=f"{fake.api_url}/webhooks/1/tok")
        adapter = DiscordWebhookAdapter(config=config)
        await adapter.start(_no_commands, _no_actions)
        try:
            await adapter.post("", alert(muted=Muted("bob", T0, until=None)))
        finally:
            await adapter.stop()
        [posted] = fake.find("POST", "/webhooks/1/tok")
        assert "components" not in posted.json
        assert "Muted by @\u200bbob until resolved" in posted.json["embeds"][0]["description"]


async def _no_commands(command: Command) -> Reply:
    raise AssertionError("a webhook receives no commands")


async def _no_actions(action: object) -> ActionResult:
    raise AssertionError("a webhook receives no clicks")


@pytest.mark.anyio
async def test_the_click_is_acknowledged_before_the_action_runs(tmp_path: Path) -> None:
    """Discord wants an answer within 3 s: the deferred update goes out first, whatever the action takes."""
    clock, page, busy = FakeClock(T0), Page(), Busy()
    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake, running(tmp_path / "dw.db", fake, clock, page, busy=busy) as bot:
        incident = await opened(bot, page)
        await fake.dispatch("INTERACTION_CREATE", click(fake.message_object(bot.parent()), ids(incident)["ack"],
                                                        interaction_id="7001"))
        await asyncio.wait_for(busy.started.wait(), 10)
        assert (await fake.wait_for(callback_of("7001"))).json == {"type": 6}  # already answered
        assert not fake.find("POST", f"/webhooks/{APP_ID}/tok-7001")
        busy.done.set()
        assert "Acknowledged OpenAI's incident" in told(await fake.wait_for(followup_of("7001")))



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
