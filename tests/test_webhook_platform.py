"""The generic webhook and platforms as plug-ins: signed JSON documents to a real loopback server, delivered
through the real Sender and outbox (real SQLite, a fake clock), config through the platform registry."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters import PLATFORMS, retry
from adapters.console_platform import PLATFORM as CONSOLE
from adapters.webhook.adapter import SCHEMA_VERSION, WebhookAdapter, document, signature
from adapters.webhook.platform import WebhookConfig
from bot import cli
from bot.app import build_adapters
from bot.chat import ChatAdapter
from bot.clock import Clock, FakeClock
from bot.config import Checker, ConfigError, Route, parse_config
from bot.model import (
    Acknowledged,
    AffectedComponent,
    Alert,
    AlertKind,
    Change,
    ChangedComponent,
    ChangeKind,
    ProviderIncident,
    SendError,
    Sent,
    Status,
    Verdict,
)
from bot.outbox import Sender, plan
from bot.platform import NamesFn, Platform, unused_secrets
from bot.store import Store
from tests.fakes.recording import RecordingAdapter
from tests.loopback import LoopbackServer, closed_port

ROOT = Path(__file__).parent.parent
WEBHOOK_SECRET = "whsec-planted-SECRET-5f3a9c1e7b"
URL_TOKEN = "hook-path-token-SECRET-8d2e41"
PATH = f"/hooks/{URL_TOKEN}"
T0 = datetime(2026, 9, 29, 14, 0, tzinfo=UTC)
MONITOR = {"name": "OpenAI", "type": "statuspage", "url": "https://status.openai.com"}
ROUTES = (Route("webhook", "webhook"),)


def alert(kind: AlertKind = AlertKind.OPENED, *, minutes: float = 0) -> Alert:
    at = T0 + timedelta(minutes=minutes)
    provider = ProviderIncident("p1", "Elevated errors", "investigating", "major", "We are investigating.",
                                updated_at=T0, url="https://status.openai.com/incidents/p1", components=("Responses",))
    changes = {
        AlertKind.OPENED: (Change(ChangeKind.OPENED, components=(ChangedComponent("Responses", Status.PARTIAL),),
                                  affected=1, total=25),),
        AlertKind.UPDATED: (Change(ChangeKind.SEVERITY, components=(ChangedComponent(
            "Responses", Status.MAJOR, Status.PARTIAL),), before=Status.PARTIAL, after=Status.MAJOR, affected=1,
            total=25),),
        AlertKind.RESOLVED: (Change(ChangeKind.RESOLVED, duration=at - T0),),
    }[kind]
    return Alert(kind=kind, incident_id="OpenAI#2026-09-29T14:00:00+00:00", monitor="OpenAI",
                 severity=Status.OPERATIONAL if kind is AlertKind.RESOLVED else Status.MAJOR, at=at, started_at=T0,
                 components=(AffectedComponent("Responses", Status.MAJOR, T0),), total_components=25,
                 provider_incidents=(provider,), resolved_at=at if kind is AlertKind.RESOLVED else None,
                 changes=changes,
                 acknowledged=Acknowledged("alice", T0 + timedelta(minutes=2)) if kind is AlertKind.UPDATED else None)


def adapter(server: LoopbackServer, clock: Clock, *, path: str = PATH) -> WebhookAdapter:
    return WebhookAdapter(config=WebhookConfig(url=server.url_for(path), secret=WEBHOOK_SECRET, timeout=5.0),
                          clock=clock)


def answers(server: LoopbackServer, *responses: web.Response) -> None:
    """Answer the webhook path with these responses in turn, then 200 for ever."""
    queue = list(responses)

    async def handler(request: web.Request) -> web.StreamResponse:
        return queue.pop(0) if queue else web.json_response({"ok": True})

    server.route(PATH, handler)


def readme_verifier() -> Any:
    """The signature check from README.md ("Generic webhook"), executed as printed."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Generic webhook", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    assert len(code.strip().splitlines()) <= 10, "the README promises ten lines"
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md (Generic webhook)", "exec"), namespace)
    return namespace["verify"]


# ---------------------------------------------------------------- the document and its signature


@pytest.mark.anyio
async def test_a_real_request_verifies_with_the_readme_code_and_matches_the_documented_schema(
    server: LoopbackServer,
) -> None:
    seen: list[tuple[Mapping[str, str], bytes]] = []

    async def capture(request: web.Request) -> web.StreamResponse:
        seen.append((request.headers, await request.read()))  # the framework's case-insensitive headers
        return web.Response(status=204)

    server.route(PATH, capture)
    hook = adapter(server, FakeClock(datetime.now(UTC)))  # the README's check compares with the real time
    try:
        assert await hook.post("webhook", alert(AlertKind.UPDATED, minutes=12), key="row-1") == Sent(ref="")
    finally:
        await hook.stop()
    (headers, body), = seen
    verify = readme_verifier()
    assert verify(WEBHOOK_SECRET, headers, body)
    assert not verify(WEBHOOK_SECRET, headers, body.replace(b"OpenAI", b"OpenAl"))
    assert not verify("another-secret-of-16-chars", headers, body)
    stale = {**headers, "X-Downwatch-Timestamp": str(int(headers["X-Downwatch-Timestamp"]) - 3600)}
    assert not verify(WEBHOOK_SECRET, stale, body)
    assert headers["Content-Type"] == "application/json" and re.fullmatch(r"[0-9a-f]{32}", headers["Idempotency-Key"])

    sent = json.loads(body)
    assert sent["version"] == SCHEMA_VERSION == 1 and sent["event"] == "updated"
    assert sent["incident"]["severity"] == "major_outage" and sent["incident"]["duration_seconds"] == 720.0
    assert sent["changes"] == [{"kind": "severity", "components": [
        {"name": "Responses", "status": "major_outage", "before": "partial_outage"}], "provider": None,
        "before": "partial_outage", "after": "major_outage", "duration": None, "affected": 1, "total": 25, "detail": "",
        "monitor": ""}]
    assert sent["acknowledged"] == {"by": "alice", "at": "2026-09-29T14:02:00+00:00"} and sent["muted"] is None
    assert sent["title"] == "🔴 OpenAI — major outage" and "OpenAI" in sent["text"]
    readme = (ROOT / "README.md").read_text().split("## Generic webhook", 1)[1]
    example = json.loads(re.findall(r"```json\n(.*?)```", readme, re.S)[0])
    assert shape(example) == shape(sent), "the README's example document no longer matches what is sent"


def shape(value: object) -> object:
    """The keys of a JSON value, recursively (lists by their first item): what a receiver relies on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_a_regional_alert_says_how_each_region_sees_it_as_data() -> None:
    seen = Verdict(status=Status.MAJOR, down=("eu-west", "us-east"), up=("ap-south",), reporting=3, expected=3,
                   latency_ms=41.5)
    sent = json.loads(json.dumps(document(replace(alert(), regions=seen), sent_at=T0)))  # as it goes on the wire
    assert sent["regions"] == {"status": "major_outage", "down": ["eu-west", "us-east"], "up": ["ap-south"],
                               "stale": [], "unknown": [], "reporting": 3, "expected": 3, "degraded": False,
                               "latency_ms": 41.5}
    assert "down from eu-west and us-east; up from ap-south" in sent["text"]  # the same, in the words of chat
    readme = (ROOT / "README.md").read_text().split("## Generic webhook", 1)[1]
    documented = re.search(r"- `regions`: .*?`(\{.*?\})`", readme, re.S)
    assert documented is not None
    assert re.findall(r'"(\w+)"', documented.group(1)) == list(sent["regions"])  # every field, in order
    assert document(alert(), sent_at=T0)["regions"] is None


def test_every_alert_kind_has_an_event_and_the_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    events = {kind: document(replace(alert(), kind=kind), sent_at=T0)["event"] for kind in AlertKind}
    assert events[AlertKind.OPENED] == "opened" and events[AlertKind.RESOLVED] == "resolved"
    assert events[AlertKind.REMINDER] == "reminder" and events[AlertKind.NETWORK_DOWN] == "notice"
    assert set(events.values()) == {"opened", "updated", "resolved", "reminder", "notice", "digest"}
    expected = hmac.new(b"k" * 16, b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("k" * 16, "1700000000", b"{}") == f"sha256={expected}"


# ---------------------------------------------------------------- delivery through the real outbox


@dataclass
class World:
    store: Store
    sender: Sender
    clock: FakeClock
    hook: WebhookAdapter


async def world(tmp_path: Path, server: LoopbackServer) -> World:
    clock = FakeClock(T0)
    store = Store.open(str(tmp_path / "downwatch.db"))
    hook = adapter(server, clock)
    return World(store, Sender(store=store, adapters={"webhook": hook}, clock=clock), clock, hook)


def posted(server: LoopbackServer) -> list[Any]:
    return [r for r in server.requests if r.path == PATH]


@pytest.mark.anyio
async def test_the_idempotency_key_survives_a_503_then_a_200_and_each_alert_is_one_post(
    tmp_path: Path, server: LoopbackServer
) -> None:
    answers(server, web.Response(status=503, text="upstream busy"))
    w = await world(tmp_path, server)
    try:
        opened = alert()
        w.store.commit_notice(opened, plan([opened], ROUTES))
        await w.sender.deliver_all()
        assert [r["state"] for r in w.store.outbox_rows()] == ["pending"]  # kept, to be retried
        w.clock.advance(5)  # past the backoff: the fake clock moves, nothing sleeps
        await w.sender.deliver_all()
        first, again = posted(server)
        assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"]
        assert first.headers["X-Downwatch-Timestamp"] != again.headers["X-Downwatch-Timestamp"]  # re-signed

        updated, resolved = alert(AlertKind.UPDATED, minutes=12), alert(AlertKind.RESOLVED, minutes=72)
        for later in (updated, resolved):
            w.clock.advance((later.at - w.clock.now()).total_seconds())  # rows are due from their alert's time
            w.store.commit_notice(later, plan([later], ROUTES))
            await w.sender.deliver_all()
    finally:
        w.store.close()
        await w.hook.stop()
    documents = [json.loads(r.body) for r in posted(server)]
    assert [d["event"] for d in documents] == ["opened", "opened", "updated", "resolved"]  # one POST per alert
    keys = [r.headers["Idempotency-Key"] for r in posted(server)]
    assert len(set(keys)) == 3
    states = sorted(str(r["state"]) for r in Store.open(str(tmp_path / "downwatch.db")).outbox_rows())
    assert states.count("sent") == 3  # the edit rows are superseded: the document carries the whole incident


@pytest.mark.anyio
async def test_a_429_with_retry_after_holds_the_webhook_that_long(tmp_path: Path, server: LoopbackServer) -> None:
    answers(server, web.Response(status=429, headers={"Retry-After": "30"}))
    w = await world(tmp_path, server)
    try:
        opened = alert()
        w.store.commit_notice(opened, plan([opened], ROUTES))
        await w.sender.deliver_all()
        w.clock.advance(20)
        await w.sender.deliver_all()
        assert len(posted(server)) == 1  # still waiting: 20 s < 30 s
        w.clock.advance(11)
        await w.sender.deliver_all()
        assert len(posted(server)) == 2 and [r["state"] for r in w.store.outbox_rows()] == ["sent"]
    finally:
        w.store.close()
        await w.hook.stop()


@pytest.mark.anyio
async def test_a_4xx_fails_for_good_and_is_logged_once_without_the_url(
    tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers(server, web.json_response({"error": "bad signature"}, status=401),
            web.json_response({"error": "bad signature"}, status=401))
    w = await world(tmp_path, server)
    try:
        for minutes in (0, 1):
            w.clock.advance(60)
            one = alert(minutes=minutes)
            w.store.commit_notice(one, plan([one], ROUTES))
            await w.sender.deliver_all()
        w.clock.advance(3600)
        await w.sender.deliver_all()
    finally:
        w.store.close()
        await w.hook.stop()
    assert len(posted(server)) == 2  # each tried once, never again
    assert [r["state"] for r in Store.open(str(tmp_path / "downwatch.db")).outbox_rows()] == ["failed", "failed"]
    refusals = [r for r in caplog.records if r.name == "downwatch.webhook"]
    assert len(refusals) == 1 and "HTTP 401" in refusals[0].getMessage()


@pytest.mark.anyio
async def test_the_url_and_secret_never_reach_a_log_an_error_a_repr_or_the_database(
    tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="httpx")  # httpx logs every request URL at INFO
    answers(server, web.Response(status=500))
    w = await world(tmp_path, server)
    offline = WebhookAdapter(config=WebhookConfig(url=f"http://127.0.0.1:{closed_port()}{PATH}",
                                                  secret=WEBHOOK_SECRET), clock=w.clock)
    try:
        opened = alert()
        w.store.commit_notice(opened, plan([opened], ROUTES))
        await w.sender.deliver_all()
        w.clock.advance(5)
        await w.sender.deliver_all()
        unreachable = await offline.post("webhook", opened)
    finally:
        w.store.close()
        await w.hook.stop()
        await offline.stop()
    assert isinstance(unreachable, SendError) and unreachable.retryable
    assert unreachable.reason == "cannot reach the webhook (ConnectError)"
    assert any("HTTP Request" in r.getMessage() for r in caplog.records if r.name == "httpx")
    config = WebhookConfig(url=server.url_for(PATH), secret=WEBHOOK_SECRET)
    seen = [caplog.text, repr(w.hook), repr(offline), repr(config), unreachable.reason]
    seen += [p.read_bytes().decode("latin-1") for p in tmp_path.iterdir()]
    for secret in (URL_TOKEN, WEBHOOK_SECRET):
        assert not [text for text in seen if secret in text]


def test_the_shared_classifier() -> None:
    assert retry.classify(204, service="x") is None
    limited = retry.classify(429, service="x", headers={"retry-after": "7"})
    assert limited == SendError("rate limited (429)", retryable=True, retry_after=7.0, rate_limited=True)
    assert retry.classify(429, service="x", body={"retry_after": 1.5}).retry_after == 1.5  # type: ignore[union-attr]
    assert retry.classify(429, service="x", headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}).retry_after is None  # type: ignore[union-attr]
    assert retry.classify(502, service="x").retryable  # type: ignore[union-attr]
    gone = retry.classify(404, service="x", gone=True)
    assert gone is not None and gone.message_gone and not gone.retryable
    refused = retry.classify(404, service="x")
    assert refused is not None and not refused.retryable and not refused.message_gone
    assert retry.unreachable("x", TimeoutError("http://host/secret")).reason == "cannot reach x (TimeoutError)"


# ---------------------------------------------------------------- config through the registry


ENV = {"DOWNWATCH_WEBHOOK_URL": f"https://hooks.example.com{PATH}", "DOWNWATCH_WEBHOOK_SECRET": WEBHOOK_SECRET}


def test_a_webhook_table_routes_every_monitor_to_it() -> None:
    config = parse_config({"webhook": {"timeout": 3}, "monitors": [MONITOR]}, path="t.toml", env=ENV)
    hook = config.platforms["webhook"]
    assert isinstance(hook, WebhookConfig) and hook.timeout == 3.0 and hook.url == ENV["DOWNWATCH_WEBHOOK_URL"]
    assert config.monitors[0].routes == (Route("console", "console"), Route("webhook", "webhook"))
    assert URL_TOKEN not in repr(config) and WEBHOOK_SECRET not in repr(config)


def test_webhook_config_errors_name_the_key_and_never_echo_the_url() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"webhook": {"timeout": 0, "retries": 3}, "monitors": [MONITOR]}, path="t.toml",
                     env={"DOWNWATCH_WEBHOOK_URL": f"ftp://x{PATH}", "DOWNWATCH_WEBHOOK_SECRET": "short"})
    errors = "\n".join(info.value.errors)
    assert "t.toml: webhook.timeout: must be greater than 0" in errors
    assert "t.toml: webhook.retries: unknown key" in errors
    assert "t.toml: webhook: DOWNWATCH_WEBHOOK_URL must be an http:// or https:// URL" in errors
    assert "DOWNWATCH_WEBHOOK_SECRET must be at least 16 characters" in errors and URL_TOKEN not in errors
    with pytest.raises(ConfigError) as info:
        parse_config({"webhook": {}, "monitors": [MONITOR]}, path="t.toml", env={})
    assert info.value.errors == [
        "t.toml: webhook: needs the environment variable DOWNWATCH_WEBHOOK_URL (set it in .env)",
        "t.toml: webhook: needs the environment variable DOWNWATCH_WEBHOOK_SECRET (set it in .env): every request "
        "is signed with it",
    ]


class PagerPlatform:
    """A platform the core has never heard of: its table, a secret, a per-monitor key, its adapter."""

    name = "pager"
    secrets: tuple[str, ...] = ("PAGER_KEY",)
    keys = frozenset({"team"})
    monitor_keys: tuple[str, ...] = ("pager_team",)

    def parse(self, check: Checker, table: object, env: Mapping[str, str]) -> str | None:
        if table is None:
            return None
        assert isinstance(table, dict)
        check.unknown("pager.", table, set(self.keys))
        if not env.get("PAGER_KEY"):
            check.error("pager", "needs PAGER_KEY")
        return str(table.get("team", "ops"))

    def routes(self, check: Checker, where: str, monitor: Mapping[str, object], config: object) -> tuple[Route, ...]:
        return (Route(self.name, str(monitor.get("pager_team", config))),)

    def build(self, config: object, *, clock: Clock, names: NamesFn | None) -> ChatAdapter:
        return RecordingAdapter(name=self.name)


def test_a_platform_plug_in_works_through_the_registry_alone() -> None:
    pager: Platform = PagerPlatform()
    platforms = (CONSOLE, pager)
    raw = {"pager": {"team": "infra"}, "monitors": [MONITOR, {**MONITOR, "name": "GitHub", "pager_team": "web"}]}
    config = parse_config(raw, path="t.toml", env={"PAGER_KEY": "k"}, platforms=platforms)
    assert config.platforms == {"console": config.platforms["console"], "pager": "infra"}
    assert [m.routes for m in config.monitors] == [
        (Route("console", "console"), Route("pager", "infra")), (Route("console", "console"), Route("pager", "web"))]
    adapters = build_adapters(config, platforms=platforms, clock=FakeClock(T0))
    assert set(adapters) == {"console", "pager"} and isinstance(adapters["pager"], RecordingAdapter)

    with pytest.raises(ConfigError) as info:  # its keys are checked like the built-in ones
        parse_config({"pager": {"tem": "x"}, "monitors": [{**MONITOR, "pager_teem": "web"}]}, path="t.toml",
                     env={}, platforms=platforms)
    assert info.value.errors == [
        "t.toml: pager.tem: unknown key (did you mean 'team'?)",
        "t.toml: pager: needs PAGER_KEY",
        "t.toml: monitors[0] (OpenAI).pager_teem: unknown key (did you mean 'pager_team'?)",
    ]
    with pytest.raises(ConfigError) as info:  # without the plug-in, its table and keys are unknown
        parse_config({"pager": {}, "monitors": [{**MONITOR, "pager_team": "web"}]}, path="t.toml", env={},
                     platforms=(CONSOLE,))
    assert [e.split(": ")[1] for e in info.value.errors] == ["pager", "monitors[0] (OpenAI).pager_team"]
    with pytest.raises(ConfigError) as info:  # its monitor key without its table
        parse_config({"monitors": [{**MONITOR, "pager_team": "web"}]}, path="t.toml", env={}, platforms=platforms)
    assert info.value.errors == ["t.toml: monitors[0] (OpenAI).pager_team: set, but there is no [pager] section"]


def test_every_registered_platform_has_a_documented_secret_and_a_distinct_name() -> None:
    names = [p.name for p in PLATFORMS]
    assert len(set(names)) == len(names) and set(cli.SECRET_KEYS) >= {"DOWNWATCH_WEBHOOK_URL", "DISCORD_WEBHOOK_URL"}
    readme = (ROOT / "README.md").read_text()
    for secret in cli.SECRET_KEYS:
        assert f"`{secret}`" in readme


# ---------------------------------------------------------------- set but unused


def test_a_secret_without_its_table_is_named_with_the_missing_table() -> None:
    env = {"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/x", "SLACK_BOT_TOKEN": "",
           "DOWNWATCH_WEBHOOK_SECRET": WEBHOOK_SECRET, "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/x"}
    config = parse_config({"slack": {}, "monitors": [MONITOR]}, path="t.toml", env=env)
    assert unused_secrets(PLATFORMS, config.platforms, env) == [
        "DISCORD_WEBHOOK_URL is set, but there is no [discord] section: discord gets no alerts",
        "DOWNWATCH_WEBHOOK_SECRET is set, but there is no [webhook] section: webhook gets no alerts",
    ]


def test_validate_warns_about_a_secret_set_for_a_platform_without_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    (tmp_path / "downwatch.toml").write_text(
        '[[monitors]]\nname = "OpenAI"\ntype = "statuspage"\nurl = "https://status.openai.com"\n')
    code = cli.main(["validate", "--config", "downwatch.toml"],
                    env={"DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/planted-webhook-token"})
    out = capsys.readouterr()
    assert code == 0 and "OK" in out.out
    assert ("downwatch: warning: DISCORD_WEBHOOK_URL is set, but there is no [discord] section: discord gets no "
            "alerts") in out.err
    assert "planted-webhook-token" not in out.out + out.err


def test_each_adapter_says_what_it_can_do() -> None:
    from adapters.console import ConsoleAdapter
    from adapters.discord.adapter import DiscordAdapter
    from adapters.discord.webhook import DiscordWebhookAdapter
    from adapters.slack.adapter import SlackAdapter
    from adapters.slack.webhook import SlackWebhookAdapter

    def can(cls: type) -> tuple[bool, bool, bool]:  # (keeps_parent, can_edit, can_thread)
        return cls.keeps_parent, cls.can_edit, cls.can_thread  # type: ignore[attr-defined]

    assert can(SlackAdapter) == can(DiscordAdapter) == (True, True, True)
    assert can(DiscordWebhookAdapter) == (True, True, False)  # edits; its thread lines are channel messages
    assert can(SlackWebhookAdapter) == can(WebhookAdapter) == (False, False, False)  # every alert a new message
    assert can(ConsoleAdapter) == (True, True, True)  # numbered parents, "edited" lines, indented thread lines
