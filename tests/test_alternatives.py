"""Healthy alternatives: a monitor names other monitors; while it has an open incident its alert carries their
live state on one line, kept current by editing that alert (never a message of its own), and
`/status alternatives <monitor>` answers the same on Slack, Discord and the console."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from adapters import console
from adapters.discord.adapter import DiscordAdapter
from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.slack.render import render_reply as slack_reply
from bot import commands
from bot.app import command_handler
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.codec import encode
from bot.config import ConfigError, Policy, Route, load_config
from bot.model import (
    Alert,
    AlertKind,
    Alternative,
    AlternativesReport,
    CheckResult,
    Command,
    CommandKind,
    ComponentReading,
    Op,
    Status,
    Usage,
)
from bot.store import queued_alert
from tests.fakes.discord_api import APP_ID, FakeDiscord
from tests.fakes.recording import Call, RecordingAdapter
from tests.test_discord_bot import CHANNEL, GUILD, TOKEN, followup_of, interaction
from tests.test_slack_commands import served
from tests.wiring import Wired, database_setting, wire

OK, DEG, MAJ, UNKNOWN = Status.OPERATIONAL, Status.DEGRADED, Status.MAJOR, Status.UNKNOWN
QUICK = Policy(failures_before_alert=1, successes_before_recovery=1)
QUICK_AT = FakeClock().now()


# ---------------------------------------------------------------- config


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "downwatch.toml"
    path.write_text(text)
    return str(path)


def monitors(*blocks: str) -> str:
    return "\n".join(f'[[monitors]]\nname = "{name}"\ntype = "statuspage"\nurl = "https://{name.lower()}.test"\n{rest}'
                     for name, _, rest in (b.partition("|") for b in blocks))


def test_alternatives_name_other_monitors_in_any_case_and_any_order(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, monitors('OpenAI|alternatives = ["anthropic", "Gemini"]', "Anthropic|",
                                                  'Gemini|alternatives = ["OpenAI"]')), {})
    by_name = {m.name: m for m in config.monitors}
    assert by_name["OpenAI"].alternatives == ("Anthropic", "Gemini")  # as each monitor writes its name
    assert by_name["Anthropic"].alternatives == ()
    assert by_name["Gemini"].alternatives == ("OpenAI",)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('["Antropic"]', "no monitor named 'Antropic' (did you mean 'Anthropic'?)"),
        ('["Azure"]', "no monitor named 'Azure'"),
        ('["openai"]', "'openai' is this monitor itself: name other monitors"),
        ('["Anthropic", "ANTHROPIC"]', "'ANTHROPIC' is listed twice"),
        ('"Anthropic"', "must be a list of other monitors' names (got 'Anthropic')"),
        ('["Anthropic", 3]', "must be a list of other monitors' names (got ['Anthropic', 3])"),
        ('[""]', "must be a list of other monitors' names (got [''])"),
    ],
)
def test_a_bad_alternative_is_an_error_with_file_key_reason_and_a_suggestion(
    tmp_path: Path, value: str, reason: str
) -> None:
    path = write(tmp_path, monitors(f"OpenAI|alternatives = {value}", "Anthropic|"))
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.errors == [f"{path}: monitors[0] (OpenAI).alternatives: {reason}"]


def test_a_misspelt_key_suggests_alternatives(tmp_path: Path) -> None:
    path = write(tmp_path, monitors('OpenAI|alternative = ["Anthropic"]', "Anthropic|"))
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.errors == [f"{path}: monitors[0] (OpenAI).alternative: unknown key (did you mean 'alternatives'?)"]


# ---------------------------------------------------------------- the pipeline


@dataclass
class Pages:
    """What each monitor's status page says now (a readable page, or None: it cannot be read)."""

    now: dict[str, dict[str, Status] | None] = field(default_factory=dict)

    async def check(self, monitor: StatuspageMonitor, *, client: object, now: object) -> CheckResult:
        assert callable(now)
        page = self.now[monitor.name]
        if page is None:
            return CheckResult(monitor.name, now(), readable=False, detail="HTTP 502")
        return CheckResult(monitor.name, now(), readable=True,
                           components=tuple(ComponentReading(name, status) for name, status in page.items()))


def provider(name: str, *alternatives: str, routes: tuple[Route, ...] = (Route("chat", "#ops"),)) -> StatuspageMonitor:
    return StatuspageMonitor(name=name, url=f"https://{name.lower()}.test", policy=QUICK, routes=routes,
                             alternatives=alternatives)


class Bot:
    def __init__(self, path: Path | str, pages: Pages, monitors: list[StatuspageMonitor], **adapters: RecordingAdapter) -> None:
        self.pages = pages
        self.monitors = monitors
        self.wired: Wired = wire(path, monitors, adapters=adapters, check=pages.check)

    async def tick(self) -> None:
        """Every monitor polled once, then one delivery pass, then a minute passes."""
        for monitor in self.monitors:
            await self.wired.watcher.poll(monitor)
        await self.wired.sender.deliver_all()
        self.wired.clock.advance(60)


def of(chat: RecordingAdapter, monitor: str) -> list[Call]:
    return [c for c in chat.calls if c.alert.monitor == monitor]


def seq(calls: list[Call]) -> list[tuple[str, str | None, str]]:
    return [(c.op, c.ref, c.kind.value) for c in calls]


@pytest.mark.anyio
async def test_the_open_incident_shows_its_alternatives_and_one_edit_keeps_them_current(database: str) -> None:
    chat = RecordingAdapter()
    pages = Pages({"OpenAI": {"API": OK}, "Anthropic": {"Claude API": OK}, "Gemini": {"Gemini API": OK}})
    bot = Bot(database, pages, [provider("OpenAI", "Anthropic", "Gemini"), provider("Anthropic", "OpenAI"),
                                          provider("Gemini")], chat=chat)
    await bot.tick()  # seed: silent
    pages.now["OpenAI"] = {"API": MAJ}
    await bot.tick()
    assert seq(chat.calls) == [("post", None, "opened")]
    opened = chat.calls[0].alert
    assert opened.alternatives == (Alternative("Anthropic", OK), Alternative("Gemini", OK))
    assert "   Alternatives: ✅ Anthropic operational · ✅ Gemini operational" in console.render_alert(opened).splitlines()

    await bot.tick()  # nothing moved: nothing sent
    assert len(chat.calls) == 1

    pages.now["Anthropic"] = {"Claude API": DEG}
    await bot.tick()
    # Anthropic's own incident is its own message (showing OpenAI, its alternative, down) ...
    assert seq(of(chat, "Anthropic")) == [("post", None, "opened")]
    assert of(chat, "Anthropic")[0].alert.alternatives == (Alternative("OpenAI", MAJ),)
    # ... and OpenAI's message is edited once, in place: no new message, no thread line
    assert seq(of(chat, "OpenAI")) == [("post", None, "opened"), ("edit", "m1", "updated")]
    edited = of(chat, "OpenAI")[1].alert
    assert edited.alternatives == (Alternative("Anthropic", DEG), Alternative("Gemini", OK))
    assert edited.incident_id == opened.incident_id and edited.changes == ()
    assert edited.components == opened.components and edited.severity is MAJ  # the incident as it stands
    assert "Alternatives: 🟡 Anthropic degraded performance · ✅ Gemini operational" in console.render_alert(edited)
    # and the edit is not an event of OpenAI's incident: its timeline has the opening only
    assert [e.kind for e in bot.wired.store.timeline(opened.incident_id)] == [AlertKind.OPENED]

    pages.now["Gemini"] = None  # Gemini's page cannot be read: unknown, once the failure is confirmed
    await bot.tick()
    assert seq(of(chat, "OpenAI"))[2:] == [("edit", "m1", "updated")]
    assert of(chat, "OpenAI")[2].alert.alternatives == (Alternative("Anthropic", DEG), Alternative("Gemini", UNKNOWN))

    pages.now["OpenAI"] = {"API": OK}
    await bot.tick()
    assert seq(of(chat, "OpenAI"))[3:] == [("edit", "m1", "resolved"), ("reply", "m1", "resolved")]
    assert of(chat, "OpenAI")[3].alert.alternatives == ()  # resolved: the line is gone from the message

    before = len(of(chat, "OpenAI"))
    pages.now["Anthropic"] = {"Claude API": OK}
    pages.now["Gemini"] = {"Gemini API": OK}
    await bot.tick()
    assert len(of(chat, "OpenAI")) == before  # no open incident: nothing more for OpenAI
    # Anthropic's incident, open while OpenAI recovered, had its own line edited to say so
    assert seq(of(chat, "Anthropic"))[1:] == [("edit", "m2", "updated"), ("edit", "m2", "resolved"),
                                             ("reply", "m2", "resolved")]
    assert of(chat, "Anthropic")[1].alert.alternatives == (Alternative("OpenAI", OK),)
    outbox = bot.wired.store.outbox_rows()
    assert {row["state"] for row in outbox} == {"sent"}


@pytest.mark.anyio
async def test_a_platform_that_cannot_edit_gets_no_extra_message(database: str) -> None:
    hook = RecordingAdapter(name="hook", keeps_parent=False, can_edit=False, can_thread=False)
    pages = Pages({"OpenAI": {"API": OK}, "Anthropic": {"Claude API": OK}})
    bot = Bot(database, pages, [provider("OpenAI", "Anthropic", routes=(Route("hook", "-"),)),
                                          provider("Anthropic", routes=())], hook=hook)
    await bot.tick()
    pages.now["OpenAI"] = {"API": MAJ}
    await bot.tick()
    pages.now["Anthropic"] = {"Claude API": DEG}
    await bot.tick()
    assert seq(hook.calls) == [("post", None, "opened")]
    edits = [r for r in bot.wired.store.outbox_rows() if r["op"] == Op.EDIT.value]
    assert [r["state"] for r in edits] == ["superseded"]


@pytest.mark.anyio
async def test_an_incident_found_at_start_up_is_not_edited(database: str) -> None:
    chat = RecordingAdapter()
    pages = Pages({"OpenAI": {"API": MAJ}, "Anthropic": {"Claude API": OK}})
    bot = Bot(database, pages, [provider("OpenAI", "Anthropic"), provider("Anthropic", routes=())],
              chat=chat)
    await bot.tick()  # seeded mid-outage: recorded, not announced
    pages.now["Anthropic"] = {"Claude API": DEG}
    await bot.tick()
    assert chat.calls == [] and bot.wired.store.outbox_rows() == []


def test_rows_queued_before_alternatives_existed_decode_with_none() -> None:
    alert = Alert(kind=AlertKind.OPENED, incident_id="i", monitor="OpenAI", severity=MAJ,
                  at=QUICK_AT, started_at=QUICK_AT, alternatives=(Alternative("Anthropic", OK),))
    data = encode(alert)
    assert queued_alert(json.dumps(data)) == alert
    del data["alternatives"]
    assert queued_alert(json.dumps(data)) == replace(alert, alternatives=())


# ---------------------------------------------------------------- /status alternatives


async def outage(path: Path | str) -> Wired:
    """OpenAI in a major outage, Anthropic degraded, Gemini fine, Mistral never read."""
    pages = Pages({"OpenAI": {"API": OK}, "Anthropic": {"Claude API": OK}, "Gemini": {"Gemini API": OK},
                   "Mistral": None})
    bot = Bot(path, pages, [provider("OpenAI", "Anthropic", "Gemini", "Mistral"), provider("Anthropic"),
                            provider("Gemini"), provider("Mistral")], chat=RecordingAdapter())
    await bot.tick()
    pages.now["OpenAI"] = {"API": MAJ}
    pages.now["Anthropic"] = {"Claude API": DEG}
    await bot.tick()
    await bot.tick()
    return bot.wired


ALTERNATIVES = {"OpenAI": ("Anthropic", "Gemini", "Mistral"), "Anthropic": (), "Gemini": (), "Mistral": ()}
LINE = "Alternatives: 🟡 Anthropic degraded performance · ✅ Gemini operational · ❔ Mistral unknown"


@pytest.mark.anyio
async def test_the_command_answers_what_the_alert_shows(database: str) -> None:
    wired = await outage(database)
    answer = commands.handle(commands.parse_text("alternatives openai", now=wired.clock.now()),
                             history=wired.store, now=wired.clock.now(), alternatives=ALTERNATIVES)
    assert answer == AlternativesReport(now=wired.clock.now(), monitor="OpenAI", status=MAJ, alternatives=(
        Alternative("Anthropic", DEG), Alternative("Gemini", OK), Alternative("Mistral", UNKNOWN)))
    assert console.render_reply(answer).splitlines() == ["🔴 OpenAI — major outage", LINE]
    # the alert the watcher sends says the same
    assert wired.watcher.states["OpenAI"].incident is not None
    none = commands.handle(Command(CommandKind.ALTERNATIVES, target="Gemini"), history=wired.store,
                           now=wired.clock.now(), alternatives=ALTERNATIVES)
    assert console.render_reply(none).splitlines()[1].startswith("No alternatives set for Gemini")
    missing = commands.handle(Command(CommandKind.ALTERNATIVES), history=wired.store, now=wired.clock.now(),
                              alternatives=ALTERNATIVES)
    assert missing == Usage("Name a monitor. These have alternatives set: OpenAI.", is_error=True)
    typo = commands.handle(Command(CommandKind.ALTERNATIVES, target="opnai"), history=wired.store,
                           now=wired.clock.now(), alternatives=ALTERNATIVES)
    assert isinstance(typo, Usage) and "OpenAI" in typo.suggestions


@pytest.mark.anyio
async def test_slack_status_alternatives_through_bolt(database: str) -> None:
    wired = await outage(database)
    handler = command_handler(wired.store, wired.clock, ALTERNATIVES)
    async with served(handler) as s:
        answer = await s.command("alternatives OpenAI")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == slack_reply(AlternativesReport(now=wired.clock.now(), monitor="OpenAI", status=MAJ,
                                                            alternatives=(Alternative("Anthropic", DEG),
                                                                          Alternative("Gemini", OK),
                                                                          Alternative("Mistral", UNKNOWN))))[0]
    assert answer["text"].splitlines() == ["🔴 *OpenAI — major outage*", LINE]


@pytest.mark.anyio
async def test_discord_alternatives_slash_command(database: str) -> None:
    wired = await outage(database)
    handler = command_handler(wired.store, wired.clock, ALTERNATIVES)

    async def names() -> list[str]:
        return wired.store.monitor_names()

    async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake:
        config = DiscordConfig(mode=DiscordMode.BOT, channel=CHANNEL, bot_token=TOKEN, api_url=fake.api_url,
                               guild_id=GUILD)
        adapter = DiscordAdapter(config=config, names=names, clock=wired.clock, ready_timeout=20)
        await adapter.start(handler)
        try:
            put = fake.find("PUT", f"/applications/{APP_ID}/guilds/{GUILD}/commands")
            synced = {c["name"]: c for c in put[0].json}
            assert [o["name"] for o in synced["alternatives"]["options"]] == ["monitor"]
            assert synced["alternatives"]["options"][0]["autocomplete"] is True
            await fake.dispatch("INTERACTION_CREATE", interaction("alternatives", [
                {"type": 3, "name": "monitor", "value": "openai"}], interaction_id="7001"))
            followup = await asyncio.wait_for(fake.wait_for(followup_of("7001")), 10)
        finally:
            await adapter.stop()
    embed = followup.json["embeds"][0]
    assert embed["title"] == "🔴 OpenAI — major outage"
    assert embed["description"] == LINE
    assert followup.json["allowed_mentions"] == {"parse": []}


def test_the_cli_answers_from_the_config_it_is_given(tmp_path: Path, database: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from bot import cli

    asyncio.run(outage(database))
    line, env = database_setting(database)
    path = write(tmp_path, line + monitors(
        'OpenAI|alternatives = ["Anthropic", "Gemini", "Mistral"]', "Anthropic|", "Gemini|", "Mistral|"))
    assert cli.main(["status", "--config", path, "alternatives", "OpenAI"], env=env) == 0
    assert capsys.readouterr().out.splitlines() == ["🔴 OpenAI — major outage", LINE]
