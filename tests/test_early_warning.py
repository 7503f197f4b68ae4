"""Early warning: a probe of a provider's API with the team's own key (`watches = "OpenAI"`) sees the outage
before the provider's status page admits it. The alert says the page is still green; when the page admits it,
the alert is edited and one thread line says so with the lead; the recovery says the lead, or that the
provider never acknowledged it. `/status` and `/uptime` show the median lead.

The provider's API is a loopback server that checks the bearer key; its status page is the loopback
SimulatedProvider; Slack and Discord are the fakes in tests/fakes driven by the real slack_sdk and discord.py.
Time is a FakeClock moved a minute per tick: the lead is measured on it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from adapters import console
from adapters.discord.adapter import DiscordAdapter
from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.slack.adapter import SlackAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from bot import commands, early, wording
from bot.checks.client import make_client
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.codec import load
from bot.config import Config, ConfigError, Policy, Route, load_config
from bot.engine import ComponentState, IncidentState, MonitorState
from bot.model import (
    Action,
    ActionKind,
    Actor,
    Alert,
    AlertKind,
    ChangeKind,
    CheckResult,
    Command,
    CommandKind,
    ComponentReading,
    LeadStats,
    PageSaid,
    ProviderIncident,
    Status,
    TargetReport,
    UptimeReport,
    Watch,
)
from bot.simulator import INCIDENT_TITLE, Phase, SimulatedProvider
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.recording import RecordingAdapter
from tests.fakes.slack_api import FakeSlack
from tests.loopback import LoopbackServer
from tests.wiring import Wired, wire

T0 = datetime(2026, 9, 29, 12, 0, tzinfo=UTC)
SECRET_API_KEY = "sk-downwatch-SECRET-early-warning-0003"
SLACK_TOKEN = "xoxb-1234-5678-EARLYbottoken"
DISCORD_TOKEN = "MTEarly.warning.bot-token"
SLACK_CHANNEL = "C0EARLY"
DISCORD_CHANNEL = "645027906669510667"
PROBE = "OpenAI API (from here)"


# ---------------------------------------------------------------- the world


class ProviderAPI:
    """GET /v1/models: 200 with the right bearer key, 401 without it, 500 while `failing`."""

    def __init__(self, server: LoopbackServer) -> None:
        self.failing = False
        server.route("/v1/models", self._models)

    async def _models(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {SECRET_API_KEY}":
            return web.json_response({"error": {"code": "invalid_api_key"}}, status=401)
        if self.failing:
            return web.json_response({"error": {"message": "The server had an error"}}, status=500)
        return web.json_response({"object": "list", "data": [{"id": "gpt-test"}]})


def config_for(tmp_path: Path, api_url: str, page_url: str) -> Config:
    """The config a user writes (the probe's key from the environment), read by the real loader."""
    path = tmp_path / "downwatch.toml"
    path.write_text(f"""
database = "{tmp_path / 'dw.db'}"
[[monitors]]
name = "OpenAI"
type = "statuspage"
url = "{page_url}"
alternatives = ["Anthropic"]

[[monitors]]
name = "Anthropic"
type = "statuspage"
url = "{page_url}/anthropic"

[[monitors]]
name = "{PROBE}"
type = "http"
url = "{api_url}/v1/models"
headers = {{ Authorization = "Bearer ${{OPENAI_API_KEY}}" }}
watches = "openai"
""")
    return load_config(str(path), {"OPENAI_API_KEY": SECRET_API_KEY})


@dataclass
class World:
    wired: Wired
    api: ProviderAPI
    page: SimulatedProvider
    slack: FakeSlack
    discord: FakeDiscord
    config: Config

    async def tick(self) -> None:
        """One poll of the probe and of the provider's page, delivery (paced: the clock moves to each next
        due message), then the clock moves on to the next whole minute."""
        by_name = {m.name: m for m in self.config.monitors}
        start = self.wired.clock.now()
        for name in (PROBE, "OpenAI"):
            await self.wired.watcher.poll(by_name[name])
        await self.wired.sender.deliver_all()
        for platform in ("slack", "discord"):
            await self.wired.drain(platform)
        self.wired.clock.advance((start + timedelta(minutes=1) - self.wired.clock.now()).total_seconds())

    def slack_texts(self, method: str, *, thread: bool = False) -> list[str]:
        """The text and blocks of the probe's Slack messages: its parents (and their edits), or the lines in
        their threads."""
        parents = {ref for (ref,) in self.wired.store.sql.execute(
            "SELECT ref FROM outbox WHERE platform = 'slack' AND op = 'post' AND incident_id LIKE ?",
            [f"{PROBE}@%"])}
        out: list[str] = []
        for call in self.slack.called(method):
            mine = call.params.get("thread_ts") in parents if thread else (
                not call.params.get("thread_ts") and PROBE in str(call.params))
            if mine:
                out.append(f"{call.params.get('text', '')}\n{call.params.get('blocks', '')}")
        return out


@asynccontextmanager
async def world(tmp_path: Path, database: str) -> AsyncIterator[World]:
    clock = FakeClock(T0)
    async with (
        LoopbackServer() as server,
        SimulatedProvider(phase=Phase.OPERATIONAL, now=clock.now) as page,
        FakeSlack(token=SLACK_TOKEN) as fake_slack,
        FakeDiscord(token=DISCORD_TOKEN, heartbeat_ms=200) as fake_discord,
        make_client() as http,
    ):
        api = ProviderAPI(server)
        config = config_for(tmp_path, server.url, page.url)
        routes = (Route("slack", SLACK_CHANNEL), Route("discord", DISCORD_CHANNEL))
        monitors = tuple(replace(m, routes=routes) for m in config.monitors if m.name != "Anthropic")
        slack_client = AsyncWebClient(token=SLACK_TOKEN, base_url=fake_slack.api_url)
        slack = SlackAdapter(config=SlackConfig(mode=SlackMode.SOCKET, channel=SLACK_CHANNEL, bot_token=SLACK_TOKEN,
                                                api_url=fake_slack.api_url), client=slack_client)
        discord = DiscordAdapter(config=DiscordConfig(mode=DiscordMode.BOT, channel=DISCORD_CHANNEL,
                                                      bot_token=DISCORD_TOKEN, api_url=fake_discord.api_url),
                                 clock=clock, ready_timeout=20)

        async def nothing(command: Command) -> Any:
            raise AssertionError("no command in this test")

        await discord.start(nothing)
        wired = wire(database, monitors, clock=clock, client=http,
                     adapters={"slack": slack, "discord": discord})
        try:
            yield World(wired, api, page, fake_slack, fake_discord, replace(config, monitors=monitors))
        finally:
            await discord.stop()
            if slack_client.session is not None:
                await slack_client.session.close()
            wired.store.close()


def probe_alerts(world: World) -> list[Alert]:
    """Every alert of the probe's incidents, in the order the outbox took them (one per row and route)."""
    rows = world.wired.store.sql.execute(
        "SELECT alert FROM outbox WHERE platform = 'slack' AND incident_id LIKE ? ORDER BY id", [f"{PROBE}@%"]
    ).fetchall()
    return [load(Alert, json.loads(alert)) for (alert,) in rows]


# ---------------------------------------------------------------- the sequence


@pytest.mark.anyio
async def test_api_fails_page_green_then_admits_it_then_both_recover(tmp_path: Path, database: str) -> None:
    async with world(tmp_path, database) as w:
        await w.tick()  # minute 0: all well (the first poll seeds, silently)
        w.api.failing = True  # minute 1: our calls fail; the page is green
        for _ in range(11):  # minutes 1-11
            await w.tick()
        opened = probe_alerts(w)
        assert [a.kind for a in opened] == [AlertKind.OPENED]
        page = early.page_name(w.page.url)
        line = f"{page} still says all systems operational"
        assert wording.watch_line(opened[0]) == line
        assert opened[0].watch == Watch(provider="OpenAI", page=page, said=PageSaid.CLEAR)
        assert opened[0].started_at == T0 + timedelta(minutes=1)  # the first failing probe
        # the alternatives of the provider's monitor come with the probe's incident
        assert [a.name for a in opened[0].alternatives] == ["Anthropic"]
        slack_posts = w.slack_texts("chat.postMessage", thread=False)
        assert len(slack_posts) == 1 and line in slack_posts[0]
        discord_post = [r for r in w.discord.find("POST", f"/channels/{DISCORD_CHANNEL}/messages")
                        if PROBE in str(r.json)]
        assert len(discord_post) == 1 and line in discord_post[0].json["embeds"][0]["description"]

        w.page.set_phase(Phase.DEGRADED)  # minute 12: the page declares an incident
        await w.tick()
        alerts = probe_alerts(w)
        acknowledged = alerts[1:]
        assert [a.kind for a in acknowledged] == [AlertKind.UPDATED, AlertKind.UPDATED]  # edit + thread line
        watch = acknowledged[0].watch
        assert watch is not None and watch.lead == timedelta(minutes=11)  # the scripted gap, on the fake clock
        assert watch.acknowledged_at == T0 + timedelta(minutes=12) and watch.title == INCIDENT_TITLE
        said = f"OpenAI acknowledged '{INCIDENT_TITLE}' 11m after downwatch saw the failures"
        assert [c.kind for c in acknowledged[0].changes] == [ChangeKind.ACKNOWLEDGED]
        assert wording.change_line(acknowledged[0]) == said
        assert wording.watch_line(acknowledged[0]) == said
        # Slack: the parent edited to say it, one thread line with the lead
        updates = w.slack_texts("chat.update")
        assert len(updates) == 1 and said in updates[0] and line not in updates[0]
        thread = w.slack_texts("chat.postMessage", thread=True)
        assert len(thread) == 1 and thread[0].startswith(f"🔴 {said}\n")
        # Discord: the same edit and one line in the incident's thread
        parent = w.wired.store.parent_ref(opened[0].incident_id, "discord", DISCORD_CHANNEL)
        patches = w.discord.find("PATCH", f"/channels/{DISCORD_CHANNEL}/messages/{parent}")
        assert len(patches) == 1 and said in patches[0].json["embeds"][0]["description"]
        in_thread = w.discord.find("POST", f"/channels/{parent}/messages")
        assert [m.json["content"] for m in in_thread] == [f"🔴 {said}"]

        for _ in range(8):  # minutes 13-20: nothing new for the probe
            await w.tick()
        assert len(probe_alerts(w)) == 3
        w.api.failing = False  # minute 21: our calls succeed again
        w.page.set_phase(Phase.RECOVERED)
        for _ in range(3):
            await w.tick()
        resolved = probe_alerts(w)[3:]
        assert [a.kind for a in resolved] == [AlertKind.RESOLVED, AlertKind.RESOLVED]
        recovery = wording.change_line(resolved[0])
        assert recovery == "Recovered after 20m; OpenAI acknowledged it 11m after downwatch saw the failures"
        assert recovery in w.slack_texts("chat.postMessage", thread=True)[-1]
        assert recovery in w.discord.find("POST", f"/channels/{parent}/messages")[-1].json["content"]

        # the lead is history: the incident row, /status of the probe and of the provider, /uptime
        row = w.wired.store.sql.execute(
            "SELECT watched, page_said, lead_s FROM incidents WHERE monitor = ?", [PROBE]).fetchone()
        assert tuple(row) == ("OpenAI", "clear", 660.0)
        now = w.wired.clock.now()
        for target in (PROBE, "OpenAI"):
            report = commands.handle(Command(CommandKind.TARGET, target=target), history=w.wired.store, now=now)
            assert isinstance(report, TargetReport)
            assert report.leads == (LeadStats("OpenAI", timedelta(days=30), (timedelta(minutes=11),)),)
            assert "downwatch saw OpenAI's last outage 11m before its status page" in console.render_reply(report)
        uptime = commands.handle(Command(CommandKind.UPTIME), history=w.wired.store, now=now)
        assert isinstance(uptime, UptimeReport) and uptime.leads[0].leads == (timedelta(minutes=11),)


@pytest.mark.anyio
async def test_a_page_that_never_admits_it_says_so_on_the_recovery(tmp_path: Path, database: str) -> None:
    async with world(tmp_path, database) as w:
        await w.tick()
        w.api.failing = True
        for _ in range(6):
            await w.tick()
        w.api.failing = False
        for _ in range(3):
            await w.tick()
        alerts = probe_alerts(w)
        assert [a.kind for a in alerts] == [AlertKind.OPENED, AlertKind.RESOLVED, AlertKind.RESOLVED]
        line = wording.change_line(alerts[-1])
        assert line.startswith("Recovered after 6m; never acknowledged by the provider")
        assert line in w.slack_texts("chat.postMessage", thread=True)[-1]
        assert all("acknowledged '" not in t for t in w.slack_texts("chat.update"))
        parent = w.wired.store.parent_ref(alerts[0].incident_id, "discord", DISCORD_CHANNEL)
        assert [m.json["content"] for m in w.discord.find("POST", f"/channels/{parent}/messages")] == [f"✅ {line}"]
        row = w.wired.store.sql.execute("SELECT page_said, lead_s, acknowledged_at FROM incidents WHERE monitor = ?",
                                       [PROBE]).fetchone()
        assert tuple(row) == ("clear", None, None)
        report = commands.handle(Command(CommandKind.TARGET, target=PROBE), history=w.wired.store,
                                 now=w.wired.clock.now())
        assert isinstance(report, TargetReport) and report.leads[0].never == 1
        assert "1 outage never acknowledged by OpenAI" in console.render_reply(report)


# ---------------------------------------------------------------- the pure parts


NOW = T0 + timedelta(minutes=30)


def provider_state(*components: tuple[str, Status], incidents: tuple[ProviderIncident, ...] = (),
                   readable: bool = True) -> MonitorState:
    return MonitorState(
        monitor="OpenAI", readable=readable, checked_at=NOW, incidents=incidents,
        components=tuple(ComponentState(name, status, T0, status) for name, status in components))


def probe_state(watch: Watch | None, *, announced: bool = True) -> MonitorState:
    incident = IncidentState(id=f"{PROBE}@x", started_at=T0, severity=Status.MAJOR, announced=announced,
                             last_notified=T0, affected=((PROBE, Status.MAJOR),), watch=watch)
    return MonitorState(monitor=PROBE, components=(ComponentState(PROBE, Status.MAJOR, T0, Status.MAJOR),),
                        incident=incident, checked_at=NOW)


ELEVATED = ProviderIncident(id="p1", title="Elevated errors", status="investigating", impact="major")
MAINTENANCE = ProviderIncident(id="p2", title="Database upgrade", status="in_progress", impact="maintenance")


@pytest.mark.parametrize(("provider", "said", "title", "status"), [
    (provider_state(("API", Status.OPERATIONAL)), PageSaid.CLEAR, "", None),
    (provider_state(("API", Status.OPERATIONAL), incidents=(MAINTENANCE,)), PageSaid.CLEAR, "", None),
    (provider_state(("API", Status.MAINTENANCE)), PageSaid.CLEAR, "", None),
    (provider_state(("API", Status.OPERATIONAL), incidents=(ELEVATED,)), PageSaid.REPORTING, "Elevated errors", None),
    (provider_state(("API", Status.DEGRADED), ("Chat", Status.PARTIAL)), PageSaid.REPORTING, "Chat", Status.PARTIAL),
    (provider_state(("API", Status.OPERATIONAL), readable=False), PageSaid.UNKNOWN, "", None),
    (None, PageSaid.UNKNOWN, "", None),
], ids=["clear", "maintenance-incident", "maintenance-component", "incident", "component", "unreadable", "never-read"])
def test_what_the_page_says(provider: MonitorState | None, said: PageSaid, title: str, status: Status | None) -> None:
    assert early.page_says(provider) == (said, title, status)


def test_acknowledge_records_the_lead_only_when_the_page_was_clear() -> None:
    clear = Watch("OpenAI", "status.openai.com", PageSaid.CLEAR)
    step = early.acknowledge(probe_state(clear), provider_state(("API", Status.PARTIAL)), NOW)
    assert step is not None and step.state.incident is not None
    assert step.state.incident.watch == replace(clear, title="API", status=Status.PARTIAL, acknowledged_at=NOW,
                                                lead=timedelta(minutes=30))
    assert wording.change_line(step.alerts[0]) == (
        "OpenAI acknowledged API partial outage 30m after downwatch saw the failures")
    unknown = Watch("OpenAI", "status.openai.com", PageSaid.UNKNOWN)
    step = early.acknowledge(probe_state(unknown), provider_state(incidents=(ELEVATED,)), NOW)
    assert step is not None and step.state.incident is not None and step.state.incident.watch is not None
    assert step.state.incident.watch.lead is None
    assert wording.change_line(step.alerts[0]) == "OpenAI now reports 'Elevated errors'"
    # nothing to do: the page is still clear; already acknowledged; it reported it from the start; no incident
    assert early.acknowledge(probe_state(clear), provider_state(("API", Status.OPERATIONAL)), NOW) is None
    done = replace(clear, acknowledged_at=NOW, title="x")
    assert early.acknowledge(probe_state(done), provider_state(incidents=(ELEVATED,)), NOW) is None
    reporting = Watch("OpenAI", "status.openai.com", PageSaid.REPORTING, title="Elevated errors")
    assert early.acknowledge(probe_state(reporting), provider_state(incidents=(ELEVATED,)), NOW) is None
    assert early.acknowledge(MonitorState(monitor=PROBE), provider_state(incidents=(ELEVATED,)), NOW) is None
    # an incident seeded silently at start-up is recorded, but nothing is said of it
    silent = early.acknowledge(probe_state(clear, announced=False), provider_state(incidents=(ELEVATED,)), NOW)
    assert silent is not None and silent.alerts == ()


def test_the_lines_for_each_state_of_the_page() -> None:
    alert = Alert(AlertKind.OPENED, "i", PROBE, Status.MAJOR, NOW, T0)
    page = "status.openai.com"
    cases = [
        (Watch("OpenAI", page, PageSaid.CLEAR), "status.openai.com still says all systems operational"),
        (Watch("OpenAI", page, PageSaid.REPORTING, title="Elevated errors"),
         "status.openai.com already reports it: 'Elevated errors'"),
        (Watch("OpenAI", page, PageSaid.UNKNOWN),
         "status.openai.com could not be read: not known whether OpenAI has acknowledged it"),
    ]
    for watch, line in cases:
        assert wording.watch_line(replace(alert, watch=watch)) == line
    assert wording.watch_line(alert) == ""
    stats = LeadStats("OpenAI", timedelta(days=30), tuple(timedelta(minutes=m) for m in (4, 9, 12, 30)), never=1)
    assert stats.median == timedelta(minutes=10, seconds=30)
    assert wording.lead_line(stats) == ("downwatch saw OpenAI's last 4 outages a median of 10m before its status "
                                        "page; 1 outage never acknowledged by OpenAI")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(("value", "kind", "reason"), [
    ('"Opnai"', "http", "no monitor named 'Opnai' (did you mean 'OpenAI'?)"),
    ('"Checkout"', "http", "'Checkout' is a http monitor, not a status page: name the provider's status-page "
     "monitor (statuspage, incidentio, a preset…)"),
    ('"Probe"', "http", "'Probe' is this monitor itself: name the provider's status-page monitor"),
    ('["OpenAI"]', "http", "must be the name of a status-page monitor (got ['OpenAI'])"),
    ('"OpenAI"', "statuspage", "only probes (http, tcp monitors) can watch a status page; this is a statuspage "
     "monitor"),
], ids=["missing", "not-a-page", "itself", "not-a-string", "not-a-probe"])
def test_a_bad_watches_is_a_config_error_and_validate_exits_2(tmp_path: Path, downwatch: Any, value: str, kind: str,
                                                               reason: str) -> None:
    path = tmp_path / "downwatch.toml"
    url = "https://api.example.com/v1/models" if kind == "http" else "https://status.example.com"
    path.write_text(f"""
[[monitors]]
name = "OpenAI"
type = "statuspage"
url = "https://status.openai.com"

[[monitors]]
name = "Checkout"
type = "http"
url = "https://shop.example.com"

[[monitors]]
name = "Probe"
type = "{kind}"
url = "{url}"
watches = {value}
""")
    with pytest.raises(ConfigError) as info:
        load_config(str(path), {})
    assert f"{path}: monitors[2] (Probe).watches: {reason}" in info.value.errors
    ran = downwatch("validate", "--config", str(path))
    assert ran.code == 2 and f"monitors[2] (Probe).watches: {reason}" in ran.err


# ---------------------------------------------------------------- across a restart


@pytest.mark.anyio
async def test_the_watch_survives_a_restart_and_the_lead_counts_from_the_first_failure(database: str) -> None:
    """The probe's incident opens, the bot restarts, then the page admits it: the new process edits the same
    message and measures the lead from the failure the old one saw."""
    quick = Policy(failures_before_alert=1, successes_before_recovery=1)
    probe = HttpMonitor(name=PROBE, url="https://api.openai.test/v1/models", policy=quick,
                        routes=(Route("chat", "#ops"),), watches="OpenAI")
    page = StatuspageMonitor(name="OpenAI", url="https://status.openai.test", policy=quick)
    script: dict[str, Any] = {"probe": Status.OPERATIONAL, "page": ()}

    async def check(monitor: Any, *, client: object, now: Callable[[], datetime]) -> CheckResult:
        if monitor.name == PROBE:
            return CheckResult(PROBE, now(), readable=True, components=(ComponentReading(PROBE, script["probe"]),))
        return CheckResult("OpenAI", now(), readable=True, components=(ComponentReading("API", Status.OPERATIONAL),),
                           incidents=script["page"])

    clock = FakeClock(T0)
    chat = RecordingAdapter()

    async def tick(wired: Wired) -> None:
        for monitor in (probe, page):
            await wired.watcher.poll(monitor)
        await wired.sender.deliver_all()
        clock.advance(60)

    first = wire(database, [probe, page], clock=clock, adapters={"chat": chat}, check=check)
    await tick(first)
    script["probe"] = Status.MAJOR
    await tick(first)  # 12:01 the probe fails, the page is green
    await tick(first)
    first.store.close()

    second = wire(database, [probe, page], clock=clock, adapters={"chat": chat}, check=check)
    clock.advance(5 * 60)  # down for five minutes
    script["page"] = (ELEVATED,)
    await tick(second)  # 12:08 the page admits it
    calls = [c for c in chat.calls if c.alert.monitor == PROBE]
    assert [(c.op, c.ref, c.kind.value) for c in calls] == [
        ("post", None, "opened"), ("edit", "m1", "updated"), ("reply", "m1", "updated")]
    watch = calls[-1].alert.watch
    assert watch is not None and watch.lead == timedelta(minutes=7) and watch.title == "Elevated errors"
    second.store.close()


@pytest.mark.anyio
async def test_a_muted_probe_keeps_the_acknowledgement_until_the_mute_ends(database: str) -> None:
    """The page admits it while the probe is muted: recorded at once (the lead is the page's moment), posted
    as one edit and one line when the mute ends."""
    quick = Policy(failures_before_alert=1, successes_before_recovery=1)
    probe = HttpMonitor(name=PROBE, url="https://api.openai.test/v1/models", policy=quick,
                        routes=(Route("chat", "#ops"),), watches="OpenAI")
    page = StatuspageMonitor(name="OpenAI", url="https://status.openai.test", policy=quick)
    clock = FakeClock(T0)
    chat = RecordingAdapter()
    wired = wire(database, [probe, page], clock=clock, adapters={"chat": chat})
    store, watcher, sender, ops = wired.store, wired.watcher, wired.sender, wired.ops

    def poll(api: Status, incidents: tuple[ProviderIncident, ...] = ()) -> None:
        at = clock.now()
        watcher.apply(probe, CheckResult(PROBE, at, readable=True, components=(ComponentReading(PROBE, api),)))
        watcher.apply(page, CheckResult("OpenAI", at, readable=True, incidents=incidents,
                                        components=(ComponentReading("API", Status.OPERATIONAL),)))
        clock.advance(60)

    poll(Status.OPERATIONAL)
    poll(Status.MAJOR)  # 12:01
    await sender.deliver_all()
    assert [(c.op, c.kind.value) for c in chat.calls] == [("post", "opened")]
    alice = Actor("U1", "alice", "slack")
    assert ops.act(Action(ActionKind.MUTE, alice, target=PROBE, until=clock.now() + timedelta(minutes=30))).changed
    await sender.deliver_all()
    posted = len(chat.calls)
    poll(Status.MAJOR, (ELEVATED,))  # 12:02 the page admits it, while muted
    await sender.deliver_all()
    assert len(chat.calls) == posted  # nothing posted while muted ...
    incident = watcher.states[PROBE].incident
    watch = incident.watch if incident is not None else None
    assert watch is not None and watch.lead == timedelta(minutes=1)  # ... but measured at the page's moment
    assert ops.act(Action(ActionKind.UNMUTE, alice, target=PROBE)).changed
    for _ in range(3):
        await sender.deliver_all()
    caught_up = chat.calls[posted:]  # the unmute's own line, then one edit and one line with what was held
    assert [(c.op, wording.change_line(c.alert)) for c in caught_up] == [
        ("reply", "Unmuted by @\u200balice"),
        ("edit", "OpenAI acknowledged 'Elevated errors' 1m after downwatch saw the failures; mute ended"),
        ("reply", "OpenAI acknowledged 'Elevated errors' 1m after downwatch saw the failures; mute ended")]
    assert wording.watch_line(caught_up[1].alert) == (
        "OpenAI acknowledged 'Elevated errors' 1m after downwatch saw the failures")
    store.close()
