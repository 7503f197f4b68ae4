"""Acknowledge, mute and unmute (bot/operate.py) over a real database (SQLite, PostgreSQL), the real Watcher,
Quiet and Sender, a recording chat adapter and a fake clock: what is recorded, what is posted, and what a stale
click is told."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console import render_reply
from bot import app, wording
from bot.app import command_handler
from bot.checks.client import make_client
from bot.checks.statuspage import StatuspageMonitor
from bot.cli import main
from bot.clock import FakeClock
from bot.commands import MAX_REASON, build, parse_mute_for, parse_text
from bot.config import Config, Policy, Route, load_config
from bot.model import (
    Action,
    ActionKind,
    ActionResult,
    Actor,
    AlertKind,
    ChangeKind,
    CheckResult,
    Command,
    CommandKind,
    ComponentReading,
    MutesReport,
    Status,
    Usage,
)
from bot.operate import Operations, Snapshots
from bot.outbox import Sender
from bot.quiet import Quiet
from bot.store import Store
from bot.watch import Watcher
from tests.fakes.recording import RecordingAdapter
from tests.loopback import LoopbackServer
from tests.wiring import database_setting

NOWHERE = "http://127.0.0.1:9"
ALICE = Actor(id="U1", name="alice", platform="slack")
BOB = Actor(id="U2", name="bob", platform="discord")
MONITOR = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=(Route("chat", "#ops"),),
                            policy=Policy(reminder_interval=600))
OTHER = StatuspageMonitor(name="Stripe", url=NOWHERE, routes=(Route("chat", "#ops"),))


def reading(at, api: Status, chat: Status = Status.OPERATIONAL, monitor: str = "OpenAI") -> CheckResult:  # type: ignore[no-untyped-def]
    return CheckResult(monitor=monitor, at=at, readable=True,
                       components=(ComponentReading("API", api), ComponentReading("ChatGPT", chat)))


@dataclass
class World:
    """One bot process over `path` (an SQLite file or a PostgreSQL URL): store, quiet, watcher, operations,
    sender. A restart is a new World."""

    path: Path | str
    clock: FakeClock
    chat: RecordingAdapter

    def __post_init__(self) -> None:
        self.store = Store.open(str(self.path))
        monitors = [MONITOR, OTHER]
        self.store.sync_monitors([(m.name, m.kind) for m in monitors], self.clock.now())
        self.sender = Sender(store=self.store, adapters={"chat": self.chat}, clock=self.clock)
        snapshots = Snapshots(monitors=monitors, states=lambda: self.watcher.states)
        self.quiet = Quiet(store=self.store, monitors=monitors, snapshot=snapshots)
        self.watcher = Watcher(monitors=monitors, store=self.store, client=make_client(), clock=self.clock,
                               quiet=self.quiet)
        self.ops = Operations(store=self.store, clock=self.clock, monitors=monitors, quiet=self.quiet,
                              snapshot=snapshots)

    def poll(self, api: Status, chat: Status = Status.OPERATIONAL, *, every: float = 60) -> None:
        self.watcher.apply(MONITOR, reading(self.clock.now(), api, chat))
        self.clock.advance(every)

    async def deliver(self) -> list[tuple[str, str | None, str]]:
        """Deliver what is due; the calls made, as (op, ref, kind)."""
        before = len(self.chat.calls)
        for _ in range(5):
            await self.sender.deliver_all()
        return [(c.op, c.ref, c.kind.value) for c in self.chat.calls[before:]]

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def world(database: str) -> World:
    return World(database, FakeClock(), RecordingAdapter())


async def open_incident(world: World) -> str:
    world.poll(Status.OPERATIONAL)
    world.poll(Status.MAJOR)
    world.poll(Status.MAJOR)
    assert await world.deliver() == [("post", None, "opened")]
    incident = world.store.open_incidents()[0]
    return incident.id


@pytest.mark.anyio
async def test_ack_by_button_records_who_edits_the_message_says_it_in_the_thread_and_stops_reminders(
    world: World,
) -> None:
    incident = await open_incident(world)
    result = world.ops.act(Action(ActionKind.ACK, ALICE, incident_id=incident))
    assert result.changed and not result.is_error
    calls = await world.deliver()
    assert calls == [("edit", "m1", "updated"), ("reply", "m1", "updated")]
    edit, reply = world.chat.calls[-2:]
    assert edit.alert.acknowledged is not None and edit.alert.acknowledged.by == "alice"
    assert wording.acknowledged_line(edit.alert).startswith(f"{wording.ACK_ICON} Acknowledged by @")
    assert reply.alert.changes[0].kind is ChangeKind.ACKED
    assert "alice" in wording.change_line(reply.alert)
    assert world.store.actions("OpenAI")[0][1:4] == ("ack", "OpenAI", "alice")
    # a second click: already acknowledged, nothing changes
    again = world.ops.act(Action(ActionKind.ACK, BOB, incident_id=incident))
    assert not again.changed and "already acknowledged" in again.text
    # reminders (every 10 min) stop for this incident; later changes still post, with the ack kept
    for _ in range(15):
        world.poll(Status.MAJOR)
    assert await world.deliver() == []
    world.poll(Status.MAJOR, Status.MAJOR)
    world.poll(Status.MAJOR, Status.MAJOR)
    calls = await world.deliver()
    assert calls == [("edit", "m1", "updated"), ("reply", "m1", "updated")]
    assert world.chat.calls[-2].alert.acknowledged is not None


@pytest.mark.anyio
async def test_reminders_still_come_without_an_ack(world: World) -> None:
    await open_incident(world)
    for _ in range(11):
        world.poll(Status.MAJOR)
    assert ("reply", "m1", "reminder") in await world.deliver()


@pytest.mark.anyio
async def test_a_sha1_prefix_finds_the_incident_like_the_id(world: World) -> None:
    incident = await open_incident(world)
    short = hashlib.sha1(incident.encode()).hexdigest()[:16]
    assert world.ops.act(Action(ActionKind.ACK, ALICE, incident_id=short)).changed


@pytest.mark.anyio
async def test_mute_holds_changes_then_one_edit_and_one_line_when_it_runs_out(world: World) -> None:
    incident = await open_incident(world)
    until = world.clock.now() + timedelta(hours=1)
    result = world.ops.act(Action(ActionKind.MUTE, BOB, incident_id=incident, until=until, reason="known"))
    assert result.changed
    assert await world.deliver() == [("edit", "m1", "updated"), ("reply", "m1", "updated")]
    assert world.chat.calls[-2].alert.muted is not None
    assert wording.muted_line(world.chat.calls[-2].alert).endswith(": known")
    line = wording.change_line(world.chat.calls[-1].alert)  # the thread line: who, until when, why
    assert line.startswith("Muted by @") and "bob until " in line and line.endswith(" UTC: known")
    # while muted: ChatGPT joins, then recovers, API goes partial — recorded, nothing posted
    for chat in (Status.MAJOR, Status.MAJOR, Status.OPERATIONAL, Status.OPERATIONAL):
        world.poll(Status.MAJOR, chat)
    world.poll(Status.PARTIAL)
    world.poll(Status.PARTIAL)
    assert await world.deliver() == []
    assert len(world.store.timeline(incident)) >= 4  # /status shows them
    assert world.store.held("OpenAI")
    # the mute runs out with no poll: the tick brings the message up to date, once
    world.clock.advance(3600)
    world.quiet.tick(world.clock.now())
    calls = await world.deliver()
    assert calls == [("edit", "m1", "updated"), ("reply", "m1", "updated")]
    edit, reply = world.chat.calls[-2:]
    assert edit.alert.muted is None
    line = wording.change_line(reply.alert)
    assert "ChatGPT" in line and "mute ended" in line
    assert world.store.mute("OpenAI") is None and not world.store.held("OpenAI")
    world.quiet.tick(world.clock.now())
    assert await world.deliver() == []


@pytest.mark.anyio
async def test_mute_until_resolved_ends_with_the_recovery_which_is_posted(world: World) -> None:
    incident = await open_incident(world)
    assert world.ops.act(Action(ActionKind.MUTE, ALICE, incident_id=incident, until=None)).changed
    await world.deliver()
    world.poll(Status.OPERATIONAL)
    world.poll(Status.OPERATIONAL)
    calls = await world.deliver()
    assert calls == [("edit", "m1", "resolved"), ("reply", "m1", "resolved")]
    assert world.store.mute("OpenAI") is None
    # a later outage is a new incident and is posted as usual
    world.poll(Status.MAJOR)
    world.poll(Status.MAJOR)
    assert await world.deliver() == [("post", None, "opened")]


@pytest.mark.anyio
async def test_unmute_is_immediate_and_catches_up(world: World) -> None:
    incident = await open_incident(world)
    world.ops.act(Action(ActionKind.MUTE, ALICE, target="openai", until=world.clock.now() + timedelta(days=1)))
    await world.deliver()
    world.poll(Status.MAJOR, Status.MAJOR)
    world.poll(Status.MAJOR, Status.MAJOR)
    assert await world.deliver() == []
    result = world.ops.act(Action(ActionKind.UNMUTE, BOB, incident_id=incident))
    assert result.changed
    calls = await world.deliver()
    # the unmute's edit is superseded by the catch-up's newer snapshot (the sender keeps the newest edit)
    assert calls == [("reply", "m1", "updated"), ("edit", "m1", "updated"), ("reply", "m1", "updated")]
    assert world.chat.calls[-3].alert.changes[0].kind is ChangeKind.UNMUTED
    assert world.chat.calls[-2].alert.muted is None
    assert "ChatGPT" in wording.change_line(world.chat.calls[-1].alert)
    # unmuting again: not muted, nothing changes
    stale = world.ops.act(Action(ActionKind.UNMUTE, BOB, target="OpenAI"))
    assert not stale.changed and "not muted" in stale.text and "alice" in stale.text


@pytest.mark.anyio
async def test_an_incident_that_opens_and_resolves_while_muted_posts_nothing(world: World) -> None:
    world.poll(Status.OPERATIONAL)
    assert world.ops.act(Action(ActionKind.MUTE, ALICE, target="OpenAI",
                                until=world.clock.now() + timedelta(hours=1))).changed
    world.poll(Status.MAJOR)
    world.poll(Status.MAJOR)
    world.poll(Status.OPERATIONAL)
    world.poll(Status.OPERATIONAL)
    world.clock.advance(3600)
    world.quiet.tick(world.clock.now())
    assert await world.deliver() == []
    assert world.store.recent_incidents(limit=1)[0].resolved_at is not None


@pytest.mark.anyio
async def test_an_incident_opened_while_muted_and_still_open_is_posted_when_the_mute_ends(world: World) -> None:
    world.poll(Status.OPERATIONAL)
    world.ops.act(Action(ActionKind.MUTE, ALICE, target="OpenAI", until=world.clock.now() + timedelta(hours=1)))
    world.poll(Status.MAJOR)
    world.poll(Status.MAJOR)
    world.clock.advance(3600)
    world.quiet.tick(world.clock.now())
    assert await world.deliver() == [("post", None, "opened"), ("reply", "m1", "updated")]
    assert wording.change_line(world.chat.calls[-1].alert) == "mute ended"


@pytest.mark.anyio
async def test_a_mute_holds_across_a_restart_and_ends_on_time_even_when_the_process_was_down(
    database: str,
) -> None:
    clock, chat = FakeClock(), RecordingAdapter()
    first = World(database, clock, chat)
    incident = await open_incident(first)
    first.ops.act(Action(ActionKind.MUTE, ALICE, incident_id=incident, until=clock.now() + timedelta(minutes=30)))
    await first.deliver()
    first.close()
    second = World(database, clock, chat)  # restarted: the mute is in the database
    second.poll(Status.MAJOR, Status.MAJOR)
    second.poll(Status.MAJOR, Status.MAJOR)
    assert await second.deliver() == []
    second.close()
    clock.advance(7200)  # the mute ended while the process was down
    third = World(database, clock, chat)
    third.quiet.tick(clock.now())  # at start-up
    assert await third.deliver() == [("edit", "m1", "updated"), ("reply", "m1", "updated")]
    assert third.store.mute("OpenAI") is None


@pytest.mark.anyio
async def test_stale_clicks_answer_what_happened_and_change_nothing(world: World) -> None:
    incident = await open_incident(world)
    world.poll(Status.OPERATIONAL)
    world.poll(Status.OPERATIONAL)
    await world.deliver()
    rows = len(world.store.outbox_rows())
    for kind in (ActionKind.ACK, ActionKind.MUTE):
        result = world.ops.act(Action(kind, ALICE, incident_id=incident, until=None))
        assert not result.changed and "already resolved" in result.text
    forgotten = world.ops.act(Action(ActionKind.ACK, ALICE, incident_id="Gone@2020-01-01T00:00:00+00:00"))
    assert not forgotten.changed and "no longer knows" in forgotten.text
    unmute = world.ops.act(Action(ActionKind.UNMUTE, ALICE, incident_id=incident))
    assert not unmute.changed and "not muted" in unmute.text
    assert len(world.store.outbox_rows()) == rows and world.store.actions() == []


@pytest.mark.anyio
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(world: World) -> None:
    await open_incident(world)
    unknown = world.ops.act(Action(ActionKind.MUTE, ALICE, target="OpenIA", until=world.clock.now()))
    assert unknown.is_error and "OpenAI" in unknown.text  # did you mean
    huge = world.ops.act(Action(ActionKind.MUTE, ALICE, target="OpenAI", until=world.clock.now() + timedelta(hours=1),
                                reason="x" * 10_000))
    assert huge.is_error and str(MAX_REASON) in huge.text
    past = world.ops.act(Action(ActionKind.MUTE, ALICE, target="OpenAI", until=world.clock.now() - timedelta(1)))
    assert past.is_error
    nothing_open = world.ops.act(Action(ActionKind.MUTE, ALICE, target="Stripe", until=None))
    assert nothing_open.is_error and "until-resolved" in nothing_open.text
    assert world.store.actions() == [] and world.store.mute("OpenAI") is None
    assert isinstance(parse_mute_for("2x"), str) and isinstance(parse_mute_for("90d"), str)
    assert parse_mute_for("90m") == timedelta(minutes=90) and parse_mute_for("until-resolved") is None
    typed = build("mute", {"monitor": "OpenAI", "duration": "1h", "reason": "x" * 10_000}, now=world.clock.now())
    assert isinstance(typed, Usage) and typed.is_error and "too long" in typed.message
    assert isinstance(build("mute", {"monitor": "OpenAI"}, now=world.clock.now()), Usage)
    assert isinstance(build("ack", {}, now=world.clock.now()), Usage)


@pytest.mark.anyio
async def test_mentions_in_a_reason_or_a_name_ping_nobody(world: World) -> None:
    incident = await open_incident(world)
    mallory = Actor(id="U9", name="<!channel>", platform="slack")
    reason = "<@U123> <!channel> @everyone @here <@&42> <#C1>"
    assert world.ops.act(Action(ActionKind.MUTE, mallory, incident_id=incident,
                                until=world.clock.now() + timedelta(hours=1), reason=reason)).changed
    await world.deliver()
    edit, reply = world.chat.calls[-2:]
    for text in (wording.muted_line(edit.alert), wording.change_line(reply.alert), wording.operation_line(reply.alert)):
        for token in ("<@", "<!", "@everyone", "@here", "<#"):
            assert token not in text, (token, text)


@pytest.mark.anyio
async def test_ack_of_a_monitor_without_an_open_incident(world: World) -> None:
    world.poll(Status.OPERATIONAL)
    result = world.ops.act(Action(ActionKind.ACK, ALICE, target="Stripe"))
    assert not result.changed and "no open incident" in result.text


@pytest.mark.anyio
async def test_a_mute_set_by_another_process_holds_here(world: World, database: str) -> None:
    """`downwatch mute` writes to the same database: the running watcher reads it at each alert."""
    await open_incident(world)
    cli = Store.open(str(database))
    other = Operations(store=cli, clock=world.clock, monitors=[MONITOR, OTHER],
                       quiet=Quiet(store=cli, monitors=[MONITOR, OTHER]))
    assert other.act(Action(ActionKind.MUTE, Actor("terminal", "terminal", "cli"), target="OpenAI",
                            until=world.clock.now() + timedelta(hours=2))).changed
    cli.close()
    world.poll(Status.MAJOR, Status.MAJOR)
    world.poll(Status.MAJOR, Status.MAJOR)
    calls = await world.deliver()
    assert calls == [("edit", "m1", "updated"), ("reply", "m1", "updated")]  # the CLI's mute line, nothing else
    assert world.chat.calls[-1].alert.changes[0].kind is ChangeKind.MUTED
    assert world.chat.calls[-1].kind is AlertKind.UPDATED


@pytest.mark.anyio
async def test_commands_that_act_reach_operations_through_the_bots_handler(world: World) -> None:

    await open_incident(world)
    handler = command_handler(world.store, world.clock, operations=world.ops)
    typed = parse_text("mute openai 2h deploying a fix <!channel>", now=world.clock.now())
    assert isinstance(typed, Command) and typed.kind is CommandKind.MUTE
    done = await handler(replace(typed, actor=ALICE))
    assert isinstance(done, ActionResult) and done.changed
    anonymous = await handler(typed)
    assert isinstance(anonymous, ActionResult) and anonymous.is_error and not anonymous.changed
    mutes = await handler(Command(CommandKind.MUTES))
    assert isinstance(mutes, MutesReport) and [m.monitor for m in mutes.mutes] == ["OpenAI"]
    assert mutes.mutes[0].muted.until == world.clock.now() + timedelta(hours=2)
    shown = render_reply(mutes)
    assert "OpenAI" in shown and "deploying a fix" in shown and "<!channel>" not in shown
    acked = await handler(Command(CommandKind.ACK, target="OpenAI", actor=BOB))
    assert isinstance(acked, ActionResult) and acked.changed
    assert [a[1] for a in world.store.actions()] == ["ack", "mute"]


def test_the_cli_mutes_unmutes_and_acknowledges_in_the_bots_database(
    tmp_path: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dw.toml"
    line, env = database_setting(database)
    path.write_text(f'{line}[[monitors]]\nname = "OpenAI"\ntype = "statuspage"\nurl = "{NOWHERE}"\n')
    config = load_config(str(path), env)
    assert config.database == database
    clock = FakeClock()
    clock._now = datetime.now(UTC)  # the CLI acts at the real time
    store = Store.open(config.database)
    store.sync_monitors([("OpenAI", "statuspage")], clock.now())
    watcher = Watcher(monitors=config.monitors, store=store, client=make_client(), clock=clock)
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR):
        watcher.apply(config.monitors[0], reading(clock.now(), status))
    store.close()
    assert main(["mute", "OpenAI", "2h", "--reason", "known issue", "--config", str(path)], env=env) == 0
    assert "Muted OpenAI" in capsys.readouterr().out
    assert main(["status", "mutes", "--config", str(path)], env=env) == 0
    assert "known issue" in capsys.readouterr().out
    assert main(["unmute", "OpenAI", "--config", str(path)], env=env) == 0
    assert main(["unmute", "OpenAI", "--config", str(path)], env=env) == 1
    assert "not muted" in capsys.readouterr().out
    assert main(["ack", "OpenAI", "--config", str(path)], env=env) == 0
    assert main(["ack", "OpenAI", "--config", str(path)], env=env) == 1
    assert main(["mute", "OpenAl", "1h", "--config", str(path)], env=env) == 2
    assert "did you mean" in capsys.readouterr().err.lower()
    assert main(["mute", "OpenAI", "soon", "--config", str(path)], env=env) == 2
    assert main(["mute", "OpenAI", "1h", "--reason", "x" * 10_000, "--config", str(path)], env=env) == 2
    again = Store.open(config.database)
    assert [(a[1], a[3]) for a in again.actions()] == [("ack", "terminal"), ("unmute", "terminal"),
                                                        ("mute", "terminal")]
    assert again.mute("OpenAI") is None
    again.close()


@pytest.mark.anyio
async def test_the_bot_catches_up_a_mute_that_ended_while_it_was_down_and_takes_clicks(
    database: str, server: LoopbackServer
) -> None:
    """`downwatch run` end to end: the start-up tick releases what a mute held, and the adapters get
    Operations as their action handler."""
    clock, chat = FakeClock(), RecordingAdapter()
    before = World(database, clock, chat)
    incident = await open_incident(before)
    before.ops.act(Action(ActionKind.MUTE, ALICE, incident_id=incident, until=clock.now() + timedelta(minutes=5)))
    before.poll(Status.MAJOR, Status.MAJOR)
    before.poll(Status.MAJOR, Status.MAJOR)
    await before.deliver()
    before.close()
    clock.advance(3600)  # the mute ended while the bot was down
    server.json("/api/v2/summary.json", {"page": {}, "incidents": [], "components": [
        {"id": "c1", "name": "API", "status": "major_outage"}, {"id": "c2", "name": "ChatGPT", "status": "major_outage"}]})
    server.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    server.json("/api/v2/components.json", {"components": []})
    monitor = replace(MONITOR, url=server.url_for(""))
    config = Config(path="(test)", database=database, monitors=(monitor, replace(OTHER, url=server.url_for(""))))
    stop = asyncio.Event()
    seen = len(chat.calls)
    runner = asyncio.create_task(app.run(config, stop=stop, clock=clock, adapters={"chat": chat}))
    try:
        for _ in range(500):
            if len(chat.calls) >= seen + 2 and getattr(chat, "actions", None) is not None:
                break
            await asyncio.sleep(0.01)
        # the catch-up first; a reminder may follow it (the incident is over an hour old), on PostgreSQL as soon
        # as this process leads
        caught_up = [(c.op, c.kind.value) for c in chat.calls[seen:seen + 2]]
        assert caught_up == [("edit", "updated"), ("reply", "updated")]
        assert "ChatGPT" in wording.change_line(chat.calls[seen + 1].alert)
        assert chat.actions is not None
        answer = await chat.actions(Action(ActionKind.ACK, BOB, incident_id=incident))
        assert answer.changed

        def acked() -> list[str]:  # the calls that say it: the message's edit leads with the incident
            return [c.op for c in chat.calls[seen + 2:] if [ch.kind for ch in c.alert.changes[:1]] == [ChangeKind.ACKED]]

        for _ in range(500):
            if acked():
                break
            await asyncio.sleep(0.01)
        assert acked() == ["reply"]
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
