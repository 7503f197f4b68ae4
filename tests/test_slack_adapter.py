"""SlackAdapter and SlackWebhookAdapter against a fake Slack on 127.0.0.1, through the real slack_sdk / httpx clients."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.adapter import SlackAdapter
from adapters.slack.errors import classify
from adapters.slack.platform import SlackConfig, SlackMode
from adapters.slack.webhook import SlackWebhookAdapter
from bot.model import (
    AffectedComponent,
    Alert,
    AlertKind,
    Change,
    ChangeKind,
    ProviderIncident,
    SendError,
    Sent,
    Status,
)
from tests.fakes.slack_api import (
    Canned,
    FakeSlack,
    disconnect,
    rate_limited,
    server_error,
    slack_error,
)

DATA = Path(__file__).parent / "data"
TOKEN = "xoxb-1234-5678-SECRETbottoken"
WEBHOOK_SECRET = "B0001/WEBHOOKsecretPART"
T0 = datetime(2026, 9, 29, 14, 0, tzinfo=UTC)
CHANNEL = "C0ALERTS"


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def alert(kind: AlertKind, *, minutes: int = 0, severity: Status = Status.MAJOR, change: str = "") -> Alert:
    resolved = kind is AlertKind.RESOLVED
    return Alert(
        kind=kind,
        incident_id="inc-1",
        monitor="OpenAI",
        severity=severity,
        at=T0 + timedelta(minutes=minutes),
        started_at=T0,
        components=(
            AffectedComponent("API", Status.OPERATIONAL if resolved else severity, T0),
            AffectedComponent("ChatGPT", Status.OPERATIONAL if resolved else Status.DEGRADED, T0),
        ),
        total_components=25,
        provider_incidents=(
            ProviderIncident("p1", "Elevated errors across ChatGPT", "investigating", "minor",
                             "We are investigating.", T0),
        ),
        resolved_at=T0 + timedelta(minutes=minutes) if resolved else None,
        changes=(Change(ChangeKind.TEXT, detail=change),) if change else (),
    )


def config(fake: FakeSlack, **overrides: Any) -> SlackConfig:
    values: dict[str, Any] = {
        "mode": SlackMode.SOCKET, "channel": CHANNEL, "bot_token": TOKEN, "app_token": "xapp-SECRETapptoken",
        "api_url": fake.api_url,
    }
    values.update(overrides)
    return SlackConfig(**values)


def slack(fake: FakeSlack, caplog: pytest.LogCaptureFixture | None = None) -> SlackAdapter:
    if caplog is not None:
        caplog.set_level(logging.DEBUG, logger="downwatch.slack")
    return SlackAdapter(config=config(fake), log=logging.getLogger("downwatch.slack"))


def http_text(name: str) -> Canned:
    """A raw HTTP response file (status line, headers, blank line, body) as a Canned answer."""
    head, _, body = (DATA / name).read_text().partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    content_type = headers.pop("Content-Type", "application/json").split(";")[0]
    return Canned(status, json.loads(body), headers={k: v for k, v in headers.items()}, content_type=content_type)


def data_json(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


# ---------------------------------------------------------------- the happy path


def test_outage_update_recovery_posts_then_edits_same_ts_then_replies_in_thread() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            adapter = slack(fake)
            opened = await adapter.post(CHANNEL, alert(AlertKind.OPENED), mention="<!here>")
            assert isinstance(opened, Sent)
            ts = opened.ref
            updated = await adapter.edit(CHANNEL, ts, alert(AlertKind.UPDATED, minutes=10,
                                                              change="ChatGPT joined: degraded performance"))
            thread_update = await adapter.reply(CHANNEL, ts, alert(AlertKind.UPDATED, minutes=10,
                                                                     change="ChatGPT joined: degraded performance"))
            resolved_edit = await adapter.edit(CHANNEL, ts, alert(AlertKind.RESOLVED, minutes=72))
            resolved_reply = await adapter.reply(CHANNEL, ts, alert(AlertKind.RESOLVED, minutes=72))
            await adapter.stop()

            assert updated == Sent(ref=ts) and resolved_edit == Sent(ref=ts)
            assert isinstance(thread_update, Sent) and isinstance(resolved_reply, Sent)
            assert len({ts, thread_update.ref, resolved_reply.ref}) == 3

            calls = fake.calls
            assert [c.method for c in calls] == [
                "chat.postMessage", "chat.update", "chat.postMessage", "chat.update", "chat.postMessage",
            ]
            assert all(c.headers["Authorization"] == f"Bearer {TOKEN}" for c in calls)
            post, edit, reply, final_edit, final_reply = (c.params for c in calls)
            assert post["channel"] == CHANNEL and "thread_ts" not in post
            assert post["text"].startswith("<!here> 🔴 OpenAI — major outage")
            assert post["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": "<!here>"}}
            assert post["blocks"][1]["type"] == "header"
            assert edit["channel"] == CHANNEL and edit["ts"] == ts and "<!here>" not in edit["text"]
            assert reply["thread_ts"] == ts and reply["text"] == "🔴 ChatGPT joined: degraded performance"
            assert final_edit["ts"] == ts
            assert final_edit["blocks"][0]["text"]["text"] == "✅ OpenAI — resolved after 1h 12m"
            assert final_reply == {**final_reply, "channel": CHANNEL, "thread_ts": ts,
                                   "text": "✅ Recovered after 1h 12m"}
            # the fake kept the edited parent: it now shows the resolved snapshot
            assert fake.messages[(CHANNEL, ts)]["text"].startswith("✅ OpenAI — resolved after 1h 12m")

    run(scenario)


def test_reminder_reply_says_still_ongoing() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            adapter = slack(fake)
            parent = await adapter.post(CHANNEL, alert(AlertKind.OPENED))
            assert isinstance(parent, Sent)
            await adapter.reply(CHANNEL, parent.ref, alert(AlertKind.REMINDER, minutes=120))
            assert fake.calls[-1].params["text"] == "⏳ Still ongoing after 2h"

    run(scenario)


def test_documented_success_with_warning_is_accepted() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            body = data_json("slack_chat.postMessage_ok_with_warning_real_slack-api-android-issue2.json")
            fake.fail("chat.postMessage", Canned(200, body))
            result = await slack(fake).post(CHANNEL, alert(AlertKind.OPENED))
            assert result == Sent(ref="1501758978.758433")

    run(scenario)


# ---------------------------------------------------------------- rate limits and outages of Slack itself


def test_429_with_retry_after_is_retryable_and_not_retried_inside_the_client() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("chat.postMessage", rate_limited(retry_after=7))
            result = await slack(fake).post(CHANNEL, alert(AlertKind.OPENED))
            assert result == SendError("rate limited (ratelimited)", retryable=True, retry_after=7.0, rate_limited=True)
            assert len(fake.calls) == 1  # slack_sdk did not sleep and retry on its own

    run(scenario)


def test_429_as_slacks_own_mock_sends_it_lower_case_header() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("chat.update", http_text("slack_429_ratelimited_python-slack-sdk_mock.http.txt"))
            result = await slack(fake).edit(CHANNEL, "1.2", alert(AlertKind.UPDATED))
            assert isinstance(result, SendError) and result.retryable and result.retry_after == 1.0

    run(scenario)


def test_429_without_retry_after_leaves_the_backoff_to_the_outbox() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("chat.postMessage", rate_limited(retry_after=None))
            result = await slack(fake).post(CHANNEL, alert(AlertKind.OPENED))
            assert isinstance(result, SendError)
            assert result.retryable and result.retry_after is None

    run(scenario)


@pytest.mark.parametrize("answer", [server_error(502), server_error(503, html=False), disconnect()],
                         ids=["502-html", "503-json", "disconnect"])
def test_5xx_and_broken_connections_are_retryable(answer: Canned) -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("chat.postMessage", answer)
            result = await slack(fake).post(CHANNEL, alert(AlertKind.OPENED))
            assert isinstance(result, SendError) and result.retryable and not result.message_gone

    run(scenario)


def test_a_burst_of_5xx_then_success() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("chat.postMessage", server_error(500), server_error(503), server_error(504))
            adapter = slack(fake)
            results = [await adapter.post(CHANNEL, alert(AlertKind.OPENED)) for _ in range(4)]
            assert [isinstance(r, SendError) and r.retryable for r in results[:3]] == [True] * 3
            assert isinstance(results[3], Sent)
            assert len(fake.called("chat.postMessage")) == 4

    run(scenario)


def test_unreachable_slack_is_retryable() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            closed_url = fake.api_url
        result = await SlackAdapter(config=SlackConfig(mode=SlackMode.SOCKET, channel=CHANNEL, bot_token=TOKEN,
                                                       api_url=closed_url)).post(CHANNEL, alert(AlertKind.OPENED))
        assert isinstance(result, SendError) and result.retryable
        assert result.reason.startswith("cannot reach Slack")

    run(scenario)


# ---------------------------------------------------------------- refusals: clear, not retried, no secrets


def test_channel_not_found_real_body_is_final_and_logged_with_advice(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            body = data_json("slack_chat.postMessage_error_channel_not_found_real_envoy-mobile-pr2234.json")
            fake.fail("chat.postMessage", Canned(200, body))
            result = await slack(fake, caplog).post("#alerts", alert(AlertKind.OPENED))
            assert result == SendError("channel_not_found", retryable=False)

    run(scenario)
    line = caplog.records[-1]
    assert line.levelno == logging.ERROR
    assert "#alerts" in line.getMessage() and "invite the bot" in line.getMessage()


@pytest.mark.parametrize(
    ("code", "advice"),
    [("not_in_channel", "invite the bot to #alerts"), ("invalid_auth", "check SLACK_BOT_TOKEN"),
     ("is_archived", "#alerts is archived"), ("missing_scope", "chat:write")],
)
def test_refusals_name_the_channel_and_what_to_do_never_the_token(
    code: str, advice: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("chat.postMessage", slack_error(code))
            result = await slack(fake, caplog).post("#alerts", alert(AlertKind.OPENED))
            assert isinstance(result, SendError) and not result.retryable and code in result.reason

    run(scenario)
    assert advice in caplog.text
    assert TOKEN not in caplog.text and "SECRET" not in caplog.text


def test_a_wrong_token_is_refused_by_the_fake_and_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with FakeSlack(token="xoxb-the-right-one") as fake:
            result = await slack(fake, caplog).post(CHANNEL, alert(AlertKind.OPENED))
            assert result == SendError("invalid_auth", retryable=False)

    caplog.set_level(logging.DEBUG)  # slack_sdk's own debug logs included
    run(scenario)
    assert "check SLACK_BOT_TOKEN" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("body", [{"ok": False, "error": "message_not_found"},
                                  "slack_chat.update_error_cant_update_message_docs.json"])
def test_editing_a_deleted_parent_says_message_gone(body: dict[str, Any] | str) -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            if isinstance(body, str):
                fake.fail("chat.update", Canned(200, data_json(body)))
            result = await slack(fake).edit(CHANNEL, "1700000000.000001", alert(AlertKind.UPDATED))
            assert isinstance(result, SendError)
            assert result.message_gone and not result.retryable
            assert fake.calls[0].params["ts"] == "1700000000.000001"

    run(scenario)


def test_replying_under_a_missing_thread_says_message_gone() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("chat.postMessage", slack_error("thread_not_found"))
            result = await slack(fake).reply(CHANNEL, "1.1", alert(AlertKind.RESOLVED, minutes=5))
            assert isinstance(result, SendError) and result.message_gone

    run(scenario)


def test_classify_table() -> None:
    assert classify(status=429, error="ratelimited", headers={"retry-after": "30"}).retry_after == 30.0
    assert classify(status=429, error=None, headers={"Retry-After": "soon"}).retry_after is None
    assert classify(status=200, error="rate_limited").retryable
    assert classify(status=200, error="service_unavailable").retryable
    assert classify(status=500, error=None).retryable
    assert not classify(status=200, error="invalid_blocks").retryable
    assert classify(status=200, error="message_not_found", editing=True).message_gone
    assert not classify(status=404, error="channel_not_found").retryable


def test_reprs_hold_no_secrets() -> None:
    cfg = SlackConfig(mode=SlackMode.HTTP, channel=CHANNEL, bot_token=TOKEN, signing_secret="SECRETsigning",
                      webhook_url="https://hooks.slack.com/services/" + WEBHOOK_SECRET)
    for thing in (cfg, SlackAdapter(config=cfg), SlackWebhookAdapter(config=cfg)):
        text = repr(thing)
        assert TOKEN not in text and "SECRET" not in text and WEBHOOK_SECRET not in text


# ---------------------------------------------------------------- webhook-only mode


def test_webhook_posts_each_change_as_a_new_message() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            adapter = SlackWebhookAdapter(config=config(fake, mode=SlackMode.WEBHOOK,
                                                        webhook_url=fake.webhook_url(WEBHOOK_SECRET)))
            assert not (adapter.keeps_parent or adapter.can_edit or adapter.can_thread)
            first = await adapter.post(CHANNEL, alert(AlertKind.OPENED), mention="<!here>")
            second = await adapter.edit(CHANNEL, "", alert(AlertKind.RESOLVED, minutes=42))
            await adapter.stop()
            assert isinstance(first, Sent) and isinstance(second, Sent)
            calls = fake.called("webhook")
            assert [c.path for c in calls] == [f"/services/T0001/{WEBHOOK_SECRET}"] * 2
            assert calls[0].params["text"].startswith("<!here> 🔴 OpenAI — major outage")
            assert calls[1].params["blocks"][0]["text"]["text"] == "✅ OpenAI — resolved after 42m"
            assert "thread_ts" not in calls[1].params

    run(scenario)


@pytest.mark.parametrize(
    ("answer", "retryable", "retry_after"),
    [
        (Canned(429, "rate limited", {"Retry-After": "5"}, content_type="text/plain"), True, 5.0),
        (Canned(429, "rate limited", content_type="text/plain"), True, None),
        (Canned(500, "rollup_error", content_type="text/plain"), True, None),
        (Canned(404, "channel_not_found", content_type="text/plain"), False, None),
        (Canned(403, "invalid_token", content_type="text/plain"), False, None),
        (disconnect(), True, None),
    ],
    ids=["429-retry-after", "429-bare", "500", "404-channel", "403-token", "disconnect"],
)
def test_webhook_errors_map_like_the_web_api(
    answer: Canned, retryable: bool, retry_after: float | None, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            fake.fail("webhook", answer)
            async with httpx.AsyncClient() as client:
                adapter = SlackWebhookAdapter(
                    config=config(fake, mode=SlackMode.WEBHOOK, webhook_url=fake.webhook_url(WEBHOOK_SECRET)),
                    client=client, log=logging.getLogger("downwatch.slack"),
                )
                result = await adapter.post(CHANNEL, alert(AlertKind.OPENED))
            assert isinstance(result, SendError)
            assert (result.retryable, result.retry_after) == (retryable, retry_after)
            assert WEBHOOK_SECRET not in result.reason

    caplog.set_level(logging.DEBUG, logger="downwatch.slack")
    run(scenario)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("downwatch")]
    assert ours and all(WEBHOOK_SECRET not in m for m in ours)


def test_injected_web_client_is_used_as_is() -> None:
    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            client = AsyncWebClient(token=TOKEN, base_url=fake.api_url, retry_handlers=[])
            adapter = SlackAdapter(config=config(fake, api_url="http://127.0.0.1:9/unused/"), client=client)
            assert adapter.client is client and adapter.app.client is client
            assert isinstance(await adapter.post(CHANNEL, alert(AlertKind.OPENED)), Sent)

    run(scenario)


# ---------------------------------------------------------------- with the real outbox and store, across a restart


def test_outbox_through_slack_survives_429_5xx_a_restart_and_a_deleted_parent(tmp_path: Path) -> None:
    from bot.clock import FakeClock
    from bot.config import Route
    from bot.outbox import Sender, plan
    from bot.store import Store

    routes = (Route(platform="slack", channel=CHANNEL, mention="<!here>"),)
    clock = FakeClock(T0)
    path = str(tmp_path / "downwatch.db")

    def catch_up(to: datetime) -> None:
        """The engine commits an alert at its own time: bring the fake clock there."""
        if to > clock.now():
            clock.advance((to - clock.now()).total_seconds())

    async def drain(sender: Sender, store: Store) -> None:
        for _ in range(40):  # each pass may be held by pacing or a Retry-After: move the fake clock, not time
            if not store.pending("slack"):
                return
            clock.advance(31)
            await sender.deliver_all()
        raise AssertionError(f"still pending: {store.pending('slack')}")

    async def scenario() -> None:
        async with FakeSlack(token=TOKEN) as fake:
            store = Store.open(path)
            adapter = slack(fake)
            sender = Sender(store=store, adapters={"slack": adapter}, clock=clock)
            fake.fail("chat.postMessage", rate_limited(retry_after=30))
            store.commit_notice(alert(AlertKind.OPENED), plan([alert(AlertKind.OPENED)], routes))
            await sender.deliver_all()
            assert store.pending("slack")  # held by the 429, not lost
            await drain(sender, store)
            parent = fake.calls[-1]
            ts = next(k[1] for k in fake.messages)

            fake.fail("chat.update", server_error(503))
            update = alert(AlertKind.UPDATED, minutes=10, change="ChatGPT joined")
            catch_up(update.at)
            store.commit_notice(update, plan([update], routes))
            await sender.deliver_all()
            store.close()
            await adapter.stop()

            # restart: a new store on the same file, a new adapter and sender
            store = Store.open(path)
            adapter = slack(fake)
            sender = Sender(store=store, adapters={"slack": adapter}, clock=clock)
            await drain(sender, store)

            fake.messages.pop((CHANNEL, ts))  # someone deleted the parent
            resolved = alert(AlertKind.RESOLVED, minutes=72)
            catch_up(resolved.at)
            store.commit_notice(resolved, plan([resolved], routes))
            await drain(sender, store)
            store.close()

            summary = [(c.method, c.params.get("ts"), c.params.get("thread_ts")) for c in fake.calls]
            reposted = [c for c in fake.calls if c.method == "chat.postMessage" and "thread_ts" not in c.params]
            new_ts = max(k[1] for k in fake.messages if "thread_ts" not in fake.messages[k])
            assert summary == [
                ("chat.postMessage", None, None),  # 429
                ("chat.postMessage", None, None),  # accepted: the parent
                ("chat.update", ts, None),  # 503
                ("chat.update", ts, None),  # after the restart
                ("chat.postMessage", None, ts),  # "ChatGPT joined" in the thread
                ("chat.update", ts, None),  # message_not_found: the parent was deleted
                ("chat.postMessage", None, None),  # re-posted fresh (resolved snapshot)
                ("chat.postMessage", None, new_ts),  # recovery reply under the new parent
            ]
            assert parent.params["text"].startswith("🔴 OpenAI — major outage")  # commit_notice stores no mention
            assert len(reposted) == 3 and reposted[-1].params["text"].startswith("✅ OpenAI — resolved after 1h 12m")
            assert fake.calls[-1].params["text"] == "✅ Recovered after 1h 12m"

    run(scenario)
