"""Rows queued before the upgrade still deliver: tests/data/outbox_v1.db was written by the previous version
(its Alerts carry one worded `change` line) and is opened, migrated and drained by this one."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from adapters.console import ConsoleAdapter
from adapters.discord import render as discord_render
from adapters.slack import render as slack_render
from bot import wording
from bot.clock import FakeClock
from bot.model import AlertKind, Change, ChangeKind
from bot.outbox import Sender
from bot.store import Store
from tests.fakes.recording import RecordingAdapter

V1 = Path(__file__).parent / "data" / "outbox_v1.db"
UPDATE = ("Actions (degraded performance) joined; API Requests: partial outage → major outage; "
          "provider incident: Degraded API performance (investigating); 2 of 3 components affected")
UNREADABLE = "HTTP 503 from https://www.githubstatus.com/api/v2/summary.json"
NETWORK = "all 3 monitors fail to connect at once"


def open_copy(tmp_path: Path) -> Store:
    """The file is migrated in place when opened: work on a copy, keep the fixture as the old code left it."""
    path = tmp_path / "dw.db"
    shutil.copy(V1, path)
    return Store.open(str(path))


def test_the_fixture_is_what_the_previous_version_wrote(tmp_path: Path) -> None:
    store = open_copy(tmp_path)
    alerts = [json.loads(r["alert"]) for r in store.outbox_rows()]
    assert len(alerts) == 21 and all("change" in a and "changes" not in a for a in alerts)
    store.close()


def test_old_rows_decode_to_one_text_change(tmp_path: Path) -> None:
    store = open_copy(tmp_path)
    rows = store.pending("slack")
    assert [(r.op.value, r.alert.kind) for r in rows] == [
        ("post", AlertKind.OPENED), ("edit", AlertKind.UPDATED), ("reply", AlertKind.UPDATED),
        ("edit", AlertKind.RESOLVED), ("reply", AlertKind.RESOLVED), ("post", AlertKind.SOURCE_UNREADABLE),
        ("post", AlertKind.NETWORK_DOWN)]
    assert rows[0].alert.changes == (Change(ChangeKind.TEXT, detail="1 of 3 components affected"),)
    assert rows[2].alert.changes == (Change(ChangeKind.TEXT, detail=UPDATE),)
    assert rows[4].alert.changes == (Change(ChangeKind.TEXT, detail="Recovered after 1h 13m"),)
    assert rows[0].alert.components[0].name == "API Requests" and rows[0].alert.total_components == 3
    store.close()


def test_old_rows_deliver_through_the_console_and_render_on_slack_and_discord(tmp_path: Path) -> None:
    store = open_copy(tmp_path)
    stream = io.StringIO()
    slack, discord = RecordingAdapter(name="slack"), RecordingAdapter(name="discord")
    sender = Sender(store=store, adapters={"console": ConsoleAdapter(stream=stream), "slack": slack,
                                           "discord": discord},
                    clock=FakeClock(datetime(2026, 11, 2, tzinfo=UTC)))
    asyncio.run(sender.deliver_all())
    assert not store.pending("console") and not store.pending("slack") and not store.pending("discord")

    out = stream.getvalue()
    assert "[#1] 🟠 GitHub — partial outage" in out
    assert f"   ↳ [#1 thread] 🔴 {UPDATE}" in out
    assert "   ↳ [#1 thread] ✅ Recovered after 1h 13m" in out and out.count("1h 13m") == 2  # title + line
    assert "ℹ️ Cannot read the status source of GitHub" in out and UNREADABLE in out
    assert "ℹ️ downwatch cannot reach the network" in out and NETWORK in out

    for recorded in (slack, discord):
        # in order per incident; the update's edit is superseded by the resolved one (a newer snapshot)
        assert sorted((c.op, c.kind.value) for c in recorded.calls) == [
            ("edit", "resolved"), ("post", "network_down"), ("post", "opened"), ("post", "source_unreadable"),
            ("reply", "resolved"), ("reply", "updated")]
    replies = [c.alert for c in slack.calls if c.op == "reply"]
    assert [slack_render.render_change(a)[0] for a in replies] == [f"🔴 {UPDATE}", "✅ Recovered after 1h 13m"]
    assert [discord_render.render_change(a) for a in replies] == [f"🔴 {UPDATE}", "✅ Recovered after 1h 13m"]
    notices = [c.alert for c in discord.calls if c.alert.is_notice]
    assert [wording.notice_detail(a) for a in notices] == [UNREADABLE, NETWORK]
    assert UNREADABLE in (discord_render.render_alert(notices[0]).description or "")
    assert NETWORK in slack_render.render_alert(notices[1])[0]
    store.close()
