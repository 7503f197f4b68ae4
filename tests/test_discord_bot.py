"""Discord bot mode: the real discord.py client against the fake Discord (REST + gateway) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord

from adapters.discord.adapter import DiscordAdapter, nonce
from adapters.discord.platform import DiscordConfig, DiscordMode
from bot.clock import FakeClock
from bot.commands import COMMANDS, help_text
from bot.model import (
    AffectedComponent,
    Alert,
    AlertKind,
    Change,
    ChangeKind,
    Command,
    CommandKind,
    IncidentList,
    IncidentView,
    Overview,
    Reply,
    SendError,
    Sent,
    Status,
    Usage,
)
from tests.fakes.discord_api import APP_ID, FakeDiscord

DATA = Path(__file__).parent / "data"
TOKEN = "fake-bot-token-MTIzNDU2Nzg5MDEyMzQ1Njc4.secret"
GUILD = 290926798626357999
CHANNEL = "645027906669510667"
NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)
T0 = datetime(2026, 9, 29, 14, tzinfo=UTC)


def interaction(name: str, options: list[dict[str, Any]], *, interaction_id: str = "786008729715212338") -> dict[str, Any]:
    """The documented slash-command interaction with our command's name and options.

    The docs example omits fields every real interaction carries and discord.py 2.7 reads:
    `application_id` and `version` (present in the docs' user-command example), `attachment_size_limit`,
    and the member's `flags`.
    """
    data = copy.deepcopy(json.loads((DATA / "discord_interaction_application_command_slash_docs.json").read_text()))
    data["data"].update(name=name, options=options)
    data.update(id=interaction_id, token=f"tok-{interaction_id}", application_id=APP_ID, version=1,
                attachment_size_limit=10 * 1024 * 1024)
    data["member"]["flags"] = 0
    return data


class Answers:
    """A command handler recording what it was asked."""

    def __init__(self) -> None:
        self.commands: list[Command] = []

    async def __call__(self, command: Command) -> Reply:
        self.commands.append(command)
        if command.kind is CommandKind.INCIDENTS:
            view = IncidentView("i1", "OpenAI", Status.MAJOR, T0, T0 + timedelta(minutes=45), ("API",), "Errors")
            return IncidentList(now=NOW, incidents=(view,), target=command.target, since=command.since)
        if command.kind is CommandKind.TARGET and command.target == "nope":
            return Usage("No monitor or component named “nope”.", suggestions=("OpenAI",), is_error=True)
        return Overview(now=NOW, monitors=2, problems=(), open_incidents=())


async def names() -> list[str]:
    return ["OpenAI", "OpenAI / API", "Slack"]


def run(test: Callable[[DiscordAdapter, FakeDiscord, Answers], Awaitable[None]], *, guild: int | None = GUILD) -> None:
    async def main() -> None:
        async with FakeDiscord(token=TOKEN, heartbeat_ms=200) as fake:
            config = DiscordConfig(mode=DiscordMode.BOT, channel=CHANNEL, bot_token=TOKEN, api_url=fake.api_url, guild_id=guild)
            adapter = DiscordAdapter(config=config, names=names, clock=FakeClock(NOW), ready_timeout=20)
            answers = Answers()
            await adapter.start(answers)
            try:
                await test(adapter, fake, answers)
            finally:
                await adapter.stop()
            assert discord.http.Route.BASE == "https://discord.com/api/v10"  # restored by stop()

    asyncio.run(main())


def callback_of(fake: FakeDiscord, interaction_id: str) -> Callable[[Any], bool]:
    return lambda r: r.method == "POST" and r.path == f"/interactions/{interaction_id}/tok-{interaction_id}/callback"


def followup_of(interaction_id: str) -> Callable[[Any], bool]:
    return lambda r: r.method == "POST" and r.path == f"/webhooks/{APP_ID}/tok-{interaction_id}"


def test_connects_through_the_discovered_gateway_and_syncs_commands_to_the_guild() -> None:
    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        assert fake.find("GET", "/gateway/bot")
        assert fake.identifies and fake.identifies[0]["token"] == TOKEN
        put = fake.find("PUT", f"/applications/{APP_ID}/guilds/{GUILD}/commands")
        assert put, [r.path for r in fake.requests]
        commands = {c["name"]: c for c in put[0].json}
        assert list(commands) == [spec.name for spec in COMMANDS]  # built from the command table
        for spec in COMMANDS:
            assert commands[spec.name]["description"] == spec.summary
            assert [(o["name"], o["description"], o["required"]) for o in commands[spec.name]["options"]] == [
                (a.name, a.summary, False) for a in spec.arguments]
        options = {o["name"]: o for o in commands["incidents"]["options"]}
        assert (options["limit"]["min_value"], options["limit"]["max_value"]) == (1, 25)
        assert options["target"]["autocomplete"] is True
        windows = {o["name"]: o for o in commands["uptime"]["options"]}["window"]["choices"]
        assert [c["value"] for c in windows] == ["24h", "7d", "30d", "90d"]
        assert fake.heartbeats >= 1  # discord.py heartbeats right after HELLO; the fake ACKs (op 11)

    run(scenario)


def test_global_sync_without_a_guild() -> None:
    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        assert fake.find("PUT", f"/applications/{APP_ID}/commands")
        assert not fake.find("PUT", "/guilds/")

    run(scenario, guild=None)


def test_slash_commands_defer_then_follow_up_with_embeds() -> None:
    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        await fake.dispatch("INTERACTION_CREATE", interaction("status", [], interaction_id="1001"))
        deferred = await fake.wait_for(callback_of(fake, "1001"))
        assert deferred.json == {"type": 5}  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
        followup = await fake.wait_for(followup_of("1001"))
        assert followup.json["embeds"][0]["title"] == "✅ All 2 monitors operational"
        assert followup.json["allowed_mentions"] == {"parse": []}

        await fake.dispatch("INTERACTION_CREATE", interaction("incidents", [
            {"type": 3, "name": "target", "value": "OpenAI"},
            {"type": 4, "name": "limit", "value": 3},
            {"type": 3, "name": "since", "value": "7d"},
        ], interaction_id="1002"))
        followup = await fake.wait_for(followup_of("1002"))
        assert answers.commands[-1] == Command(CommandKind.INCIDENTS, target="OpenAI", limit=3, since=NOW - timedelta(days=7))
        assert followup.json["embeds"][0]["title"].startswith("Last 1 incident for OpenAI")

        await fake.dispatch("INTERACTION_CREATE", interaction("uptime", [
            {"type": 3, "name": "window", "value": "30d"},
        ], interaction_id="1003"))
        await fake.wait_for(followup_of("1003"))
        assert answers.commands[-1] == Command(CommandKind.UPTIME, window=timedelta(days=30))

        await fake.dispatch("INTERACTION_CREATE", interaction("status", [
            {"type": 3, "name": "target", "value": "nope"},
        ], interaction_id="1004"))
        followup = await fake.wait_for(followup_of("1004"))
        assert "Did you mean: OpenAI?" in followup.json["embeds"][0]["description"]

    run(scenario)


def test_bad_options_and_help_get_an_ephemeral_usage_reply_without_calling_the_handler() -> None:
    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        bad = [
            ("2001", "incidents", [{"type": 4, "name": "limit", "value": 99}], "limit"),
            ("2002", "uptime", [{"type": 3, "name": "window", "value": "1y"}], "window"),
            ("2003", "incidents", [{"type": 3, "name": "since", "value": "someday"}], "since"),
        ]
        for interaction_id, name, options, word in bad:
            await fake.dispatch("INTERACTION_CREATE", interaction(name, options, interaction_id=interaction_id))
            callback = await fake.wait_for(callback_of(fake, interaction_id))
            assert callback.json["type"] == 4  # CHANNEL_MESSAGE_WITH_SOURCE, answered at once
            assert callback.json["data"]["flags"] == 64  # EPHEMERAL
            description = callback.json["data"]["embeds"][0]["description"]
            assert word in description and "/incidents [target] [limit] [since]" in description  # with the help
        await fake.dispatch("INTERACTION_CREATE", interaction("help", [], interaction_id="2004"))
        callback = await fake.wait_for(callback_of(fake, "2004"))
        assert callback.json["type"] == 4 and callback.json["data"]["flags"] == 64
        description = callback.json["data"]["embeds"][0]["description"]
        assert all(line in description for line in help_text(slash=True).splitlines())
        assert answers.commands == []

    run(scenario)


def test_autocomplete_offers_matching_names() -> None:
    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        data = interaction("status", [{"type": 3, "name": "target", "value": "open", "focused": True}], interaction_id="3001")
        data["type"] = 4  # APPLICATION_COMMAND_AUTOCOMPLETE
        await fake.dispatch("INTERACTION_CREATE", data)
        callback = await fake.wait_for(callback_of(fake, "3001"))
        assert callback.json["type"] == 8
        assert [c["value"] for c in callback.json["data"]["choices"]] == ["OpenAI", "OpenAI / API"]

    run(scenario)


def alert(kind: AlertKind, severity: Status, change: str, **kw: Any) -> Alert:
    return Alert(kind=kind, incident_id="inc-7", monitor="OpenAI", severity=severity, at=T0 + timedelta(minutes=30),
                 started_at=T0, components=(AffectedComponent("API", severity, T0),), total_components=25,
                 changes=(Change(ChangeKind.TEXT, detail=change),), **kw)


def test_outage_update_recovery_edits_one_message_and_threads_the_changes() -> None:
    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        opened = alert(AlertKind.OPENED, Status.MAJOR, "API major outage")
        posted = await adapter.post(CHANNEL, opened, mention="539082325061836999")
        assert isinstance(posted, Sent)
        post = fake.find("POST", f"/channels/{CHANNEL}/messages")[0]
        assert post.json["embeds"][0]["title"] == "🔴 OpenAI — major outage"
        assert post.json["content"] == "<@&539082325061836999>"
        allowed = post.json["allowed_mentions"]
        assert allowed["parse"] == [] and [str(r) for r in allowed["roles"]] == ["539082325061836999"]
        # a retry of the same alert carries the same nonce, and Discord is told to enforce it
        assert post.json["enforce_nonce"] is True and post.json["nonce"] == nonce(opened, "post")
        assert nonce(opened, "post") != nonce(opened, "reply") and len(nonce(opened, "post")) <= 25

        updated = alert(AlertKind.UPDATED, Status.PARTIAL, "API now partial outage")
        assert await adapter.edit(CHANNEL, posted.ref, updated) == Sent(ref=posted.ref)
        assert (await adapter.reply(CHANNEL, posted.ref, updated)).thread_ref == posted.ref

        resolved = alert(AlertKind.RESOLVED, Status.PARTIAL, "Recovered after 2h", resolved_at=T0 + timedelta(hours=2))
        assert isinstance(await adapter.edit(CHANNEL, posted.ref, resolved), Sent)
        assert isinstance(await adapter.reply(CHANNEL, posted.ref, resolved), Sent)

        patches = fake.find("PATCH", f"/channels/{CHANNEL}/messages/{posted.ref}")
        assert [p.json["embeds"][0]["title"] for p in patches] == ["🟠 OpenAI — partial outage",
                                                                    "✅ OpenAI — resolved after 2h"]
        assert len(fake.find("POST", f"/messages/{posted.ref}/threads")) == 1  # created once, then reused
        in_thread = fake.find("POST", f"/channels/{posted.ref}/messages")
        assert [m.json["content"] for m in in_thread] == [
            "🟠 API now partial outage", "✅ Recovered after 2h"]  # the duration once
        assert all(m.json["allowed_mentions"]["parse"] == [] and not m.json["allowed_mentions"].get("roles")
                   for m in in_thread)

        worse = alert(AlertKind.UPDATED, Status.MAJOR, "API major outage again")
        assert isinstance(await adapter.reply(CHANNEL, posted.ref, worse, mention="539082325061836999"), Sent)
        pinged = fake.find("POST", f"/channels/{posted.ref}/messages")[-1].json
        assert pinged["content"] == "<@&539082325061836999> 🔴 API major outage again"
        assert [str(r) for r in pinged["allowed_mentions"]["roles"]] == ["539082325061836999"]

    run(scenario)


def test_existing_thread_and_deleted_message_and_failures() -> None:
    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        a = alert(AlertKind.UPDATED, Status.MAJOR, "still down")
        posted = await adapter.post(CHANNEL, a)
        assert isinstance(posted, Sent)
        fake.threads.add(posted.ref)  # made before a restart: Discord answers 160004
        replied = await adapter.reply(CHANNEL, posted.ref, a)
        assert isinstance(replied, Sent) and replied.thread_ref == posted.ref

        gone = await adapter.edit(CHANNEL, "1234567890", a)
        assert isinstance(gone, SendError) and gone.message_gone

        fake.fail_next("POST", f"/channels/{CHANNEL}/messages", 503, {"message": "upstream", "code": 0})
        down = await adapter.post(CHANNEL, a)  # 503: discord.py does not retry it; the outbox will
        assert isinstance(down, SendError) and down.retryable

    run(scenario)


def test_missing_permissions_are_logged_once_and_threads_fall_back_to_replies(caplog: Any) -> None:
    forbidden = {"message": "Missing Permissions", "code": 50013}

    async def scenario(adapter: DiscordAdapter, fake: FakeDiscord, answers: Answers) -> None:
        a = alert(AlertKind.UPDATED, Status.MAJOR, "still down")
        fake.fail_next("POST", "/channels/111/messages", 403, forbidden)
        fake.fail_next("POST", "/channels/111/messages", 403, forbidden)
        first = await adapter.post("111", a)
        second = await adapter.post("111", a)
        assert isinstance(first, SendError) and not first.retryable and isinstance(second, SendError)

        posted = await adapter.post(CHANNEL, a)
        assert isinstance(posted, Sent)
        fake.fail_next("POST", f"/channels/{CHANNEL}/messages/{posted.ref}/threads", 403, forbidden)
        replied = await adapter.reply(CHANNEL, posted.ref, a)
        assert isinstance(replied, Sent) and replied.thread_ref is None
        plain = fake.find("POST", f"/channels/{CHANNEL}/messages")[-1]
        assert str(plain.json["message_reference"]["message_id"]) == posted.ref
        assert isinstance(await adapter.reply(CHANNEL, posted.ref, a), Sent)  # no second thread attempt
        assert len(fake.find("POST", "/threads")) == 1

    with caplog.at_level(logging.INFO):
        run(scenario)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("downwatch") and r.levelno >= logging.ERROR]
    assert len([m for m in ours if "Send Messages and Embed Links" in m]) == 1
    assert len([m for m in ours if "Create Public Threads and Send Messages in Threads" in m]) == 1
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
