"""The weekly digest (issue 12, item 5): real numbers from a scripted week written through the real Watcher and
Store, checked against an independent computation of the same timeline; the 7-day strip; a quiet week; the
digest on Slack, Discord and the console within their limits with 200 monitors; `[digest]` config errors;
`downwatch digest` on the terminal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters import buttons, console
from adapters.discord import render as discord_render
from adapters.slack import render as slack_render
from adapters.webhook.adapter import document
from bot import digest, maintenance, wording
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.codec import encode
from bot.config import ConfigError, Policy, Route, load_config
from bot.maintenance import Window
from bot.model import (
    AlertKind,
    CheckResult,
    ComponentReading,
    Digest,
    DigestComponent,
    DigestDay,
    DigestRow,
    IncidentView,
    LeadStats,
    Op,
    Status,
)
from bot.outbox import plan
from bot.store import Store, queued_alert
from tests.conftest import Ran
from tests.wiring import Wired, database_setting, wire

OK, DEG, PART, MAJ = Status.OPERATIONAL, Status.DEGRADED, Status.PARTIAL, Status.MAJOR
QUICK = Policy(failures_before_alert=1, successes_before_recovery=1)  # a poll that sees it decides it


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


WEEK = (utc(23), utc(30))  # Monday 23 – Sunday 29 November 2026: the week the digest of Monday 30 covers
POSTED = utc(30, 9)  # cron "0 9 * * MON", UTC
FIRST_SEEN = utc(16)
CHECKOUT_SEEN = utc(25, 12)  # Wednesday noon: the days before it have no data

# OpenAI's scripted outages: (component, status, first poll that sees it, first poll that sees it recovered).
# One runs into the week from Sunday before, one crosses midnight inside it, one is still on when it ends.
OUTAGES = [
    ("API", MAJ, utc(22, 23), utc(23, 1)),
    ("Chat", DEG, utc(25, 10), utc(25, 10, 45)),
    ("API", PART, utc(27, 23, 30), utc(28, 0, 30)),
    ("API", MAJ, utc(29, 23), utc(30, 1)),
]


@dataclass
class Page:
    """What OpenAI's status page says now; Anthropic's is always fine."""

    now: dict[str, Status] = field(default_factory=lambda: {"API": OK, "Chat": OK})

    async def check(self, monitor: StatuspageMonitor, *, client: object, now: Callable[[], datetime]) -> CheckResult:
        page = self.now if monitor.name == "OpenAI" else {"Claude API": OK}
        return CheckResult(monitor.name, now(), readable=True,
                           components=tuple(ComponentReading(n, s) for n, s in page.items()))


def provider(name: str) -> StatuspageMonitor:
    return StatuspageMonitor(name=name, url=f"https://{name.lower()}.test", policy=QUICK,
                             routes=(Route("console", "console"),))


async def scripted_week(path: Path | str, *, until: datetime = POSTED) -> Wired:
    """The history of the scripted outages, polled at each change (and the new monitor synced on Wednesday),
    through the real Watcher into a real database (SQLite or PostgreSQL), up to `until`."""
    page = Page()
    monitors = [provider("OpenAI"), provider("Anthropic")]
    wired = wire(path, monitors, clock=FakeClock(FIRST_SEEN), check=page.check)
    events: list[tuple[datetime, str, Status]] = [(FIRST_SEEN + timedelta(minutes=1), "API", OK)]
    for component, status, start, end in OUTAGES:
        events += [(start, component, status), (end, component, OK)]
    synced = False
    for at, component, status in sorted(events, key=lambda e: e[0]):
        if at > until:
            break
        if not synced and at > CHECKOUT_SEEN:
            wired.clock.advance((CHECKOUT_SEEN - wired.clock.now()).total_seconds())
            wired.store.sync_monitors([("OpenAI", "statuspage"), ("Anthropic", "statuspage"),
                                       ("Checkout API", "http")], CHECKOUT_SEEN)
            synced = True
        wired.clock.advance((at - wired.clock.now()).total_seconds())
        page.now[component] = status
        for monitor in monitors:
            await wired.watcher.poll(monitor)
    wired.clock.advance(max(0.0, (until - wired.clock.now()).total_seconds()))
    return wired


def independent(outages: list[tuple[str, Status, datetime, datetime]], start: datetime, end: datetime,
                seen: datetime) -> tuple[float, int, timedelta, timedelta]:
    """Uptime, incidents started, MTTR of those that ended, longest: straight from the script, no store."""
    begin = max(start, seen)
    down = sum(max(0.0, (min(e, end) - max(s, begin)).total_seconds()) for _, _, s, e in outages)
    uptime = 100.0 * (1 - down / (end - begin).total_seconds())
    started = sum(1 for _, _, s, _ in outages if start <= s < end)
    ended = [e - s for _, _, s, e in outages if start <= e < end]
    longest = max(min(e, end) - s for _, _, s, e in outages if s < end and e > start)
    return uptime, started, sum(ended, timedelta(0)) / len(ended), longest


def rows(week: Digest) -> dict[str, DigestRow]:
    return {row.monitor: row for row in week.rows}


# ---------------------------------------------------------------- the numbers


@pytest.mark.anyio
async def test_the_week_s_numbers_match_an_independent_computation_of_the_script(database: str) -> None:
    wired = await scripted_week(database)
    week = digest.read(wired.store, now=POSTED)
    assert (week.start, week.end) == WEEK
    openai = rows(week)["OpenAI"]
    uptime, started, mttr, longest = independent(OUTAGES, *WEEK, FIRST_SEEN)
    assert openai.uptime == pytest.approx(uptime)
    assert (openai.incidents, openai.mttr, openai.longest) == (started, mttr, longest)
    # the same figures by hand: 1 h + 45 m + 1 h + 1 h down in a 168 h week; MTTR of the three that ended in it
    # (2 h, 45 m, 1 h); the longest ran from Sunday 23:00 to Monday 01:00
    assert wording.percent(openai.uptime) == "97.77%" and openai.down == timedelta(hours=3, minutes=45)
    assert (openai.incidents, openai.mttr, openai.longest) == (3, timedelta(hours=1, minutes=15), timedelta(hours=2))
    assert openai.components == (DigestComponent("API", 3), DigestComponent("Chat", 1))
    # what `/uptime 7d` answers at the end of the week says the same
    same = wired.store.uptime(monitor="OpenAI", component=None, window=timedelta(days=7), now=WEEK[1])
    assert same.percent == pytest.approx(openai.uptime)
    assert (same.incidents, same.mttr) == (openai.incidents, openai.mttr)
    # a monitor first seen on Wednesday noon: its uptime counts from then, its first two days have no data
    checkout = rows(week)["Checkout API"]
    assert (checkout.uptime, checkout.incidents, checkout.mttr, checkout.longest) == (100.0, 0, None, None)
    assert [d.status for d in checkout.days[:3]] == [None, None, OK]
    # worst first
    assert [row.monitor for row in week.rows] == ["OpenAI", "Anthropic", "Checkout API"]
    wired.store.close()


@pytest.mark.anyio
async def test_maintenance_is_left_out_of_the_week_s_uptime_as_uptime_does(database: str) -> None:
    wired = await scripted_week(database)
    upgrade = Window(name="upgrade", monitors=("OpenAI",), start=utc(25, 10), end=utc(25, 11))
    openai = rows(digest.read(wired.store, now=POSTED, windows=(upgrade,)))["OpenAI"]
    # Wednesday's 45 minutes of degradation fell inside the window: 3 h down out of 167 h watched
    assert openai.uptime == pytest.approx(100.0 * (1 - 3 / 167))
    assert openai.incidents == 3 and wording.digest_strip(openai) == "🟥🟩🟨🟩🟥🟥🟥"  # still counted, still shown
    same = wired.store.uptime(monitor="OpenAI", component=None, window=timedelta(days=7), now=WEEK[1],
                              excluded=maintenance.spans((upgrade,), "OpenAI", *WEEK))
    assert same.percent == pytest.approx(openai.uptime)
    assert rows(digest.read(wired.store, now=POSTED, windows=(upgrade,)))["Anthropic"].uptime == 100.0
    wired.store.close()


@pytest.mark.anyio
async def test_an_incident_still_open_when_the_week_ends_counts_until_the_end(database: str) -> None:
    wired = await scripted_week(database, until=utc(30, 0, 30))  # Sunday's outage still on
    week = digest.read(wired.store, now=wired.clock.now())
    openai = rows(week)["OpenAI"]
    assert wired.store.open_incidents()[0].monitor == "OpenAI"
    uptime, started, mttr, longest = independent(OUTAGES, *WEEK, FIRST_SEEN)
    assert openai.uptime == pytest.approx(uptime) and (openai.incidents, openai.mttr) == (started, mttr)
    assert openai.days[-1].status is MAJ and openai.days[-1].down == timedelta(hours=1)
    wired.store.close()


@pytest.mark.anyio
async def test_the_strip_has_one_square_per_day(database: str) -> None:
    wired = await scripted_week(database)
    week = rows(digest.read(wired.store, now=POSTED))
    # Mon: Sunday's major outage ran until 01:00 · Wed: Chat degraded · Fri 23:30 → Sat 00:30 partial outage ·
    # Sun 23:00: major
    assert wording.digest_strip(week["OpenAI"]) == "🟥🟩🟨🟩🟥🟥🟥"
    assert [d.down for d in week["OpenAI"].days] == [timedelta(hours=1), timedelta(0), timedelta(minutes=45),
                                                     timedelta(0), timedelta(minutes=30), timedelta(minutes=30),
                                                     timedelta(hours=1)]
    assert wording.digest_strip(week["Checkout API"]) == "⬜⬜🟩🟩🟩🟩🟩"
    assert wording.digest_strip(week["Anthropic"]) == "🟩" * 7
    assert [d.day.strftime("%a %d") for d in week["OpenAI"].days] == [
        "Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Sat 28", "Sun 29"]
    wired.store.close()


@pytest.mark.anyio
async def test_a_quiet_week_says_no_incidents_this_week_everywhere(database: str) -> None:
    wired = wire(database, [provider("Anthropic"), provider("OpenAI")], clock=FakeClock(FIRST_SEEN),
                 check=Page().check)
    await wired.watcher.poll(provider("OpenAI"))
    week = digest.read(wired.store, now=POSTED)
    assert week.quiet and week.incidents == 0
    assert wording.digest_summary(week) == "No incidents this week · 2 monitors"
    text, blocks = slack_render.render_digest(week)
    assert "No incidents this week" in text and "No incidents this week" in json.dumps(blocks, ensure_ascii=False)
    assert "No incidents this week" in (discord_render.render_digest(week).description or "")
    assert "No incidents this week" in console.render_digest(week)
    assert all(wording.digest_figures(row) == "100.00% · no incidents" for row in week.rows)
    wired.store.close()


def test_an_incident_of_the_week_before_that_runs_into_this_one_is_no_new_incident() -> None:
    carried = IncidentView(id="x", monitor="A", severity=MAJ, started_at=utc(22, 23), resolved_at=utc(23, 1),
                           components=())
    week = digest.build(monitors=["A"], first_seen={"A": FIRST_SEEN}, incidents=[carried], start=WEEK[0],
                        end=WEEK[1], timezone="UTC")
    assert wording.digest_summary(week) == "No new incidents · 1 of 1 monitor affected · 1h in incidents"
    assert wording.digest_figures(week.rows[0]) == "99.40% · no new incidents · MTTR 2h · longest 2h"


def test_the_median_lead_of_a_provider_goes_on_its_row() -> None:
    stats = LeadStats(provider="OpenAI", window=timedelta(days=7),
                      leads=(timedelta(minutes=4), timedelta(minutes=10), timedelta(minutes=6)), never=1)
    week = digest.build(monitors=["OpenAI", "OpenAI API (from here)"], first_seen={"OpenAI": FIRST_SEEN},
                        incidents=[], start=WEEK[0], end=WEEK[1], timezone="UTC", leads={"OpenAI": stats})
    row = rows(week)["OpenAI"]
    assert row.lead is not None and (row.lead.median, len(row.lead.leads)) == (timedelta(minutes=6), 3)
    line = ("downwatch saw OpenAI's last 3 outages a median of 6m before its status page; 1 outage never "
            "acknowledged by OpenAI")
    assert wording.digest_lead(row) == line
    assert line in console.render_digest(week)
    assert line in json.dumps(slack_render.render_digest(week)[1], ensure_ascii=False)
    assert "median of 6m before its status page" in (discord_render.render_digest(week).description or "")
    assert wording.digest_lead(rows(week)["OpenAI API (from here)"]) == ""


class Leads:
    """A history whose store has leads recorded (the early-warning table of issue 15)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def monitor_names(self) -> list[str]:
        return self.store.monitor_names()

    def first_seen(self) -> dict[str, datetime]:
        return self.store.first_seen()

    def incidents_between(self, *, start: datetime, end: datetime) -> list[IncidentView]:
        return self.store.incidents_between(start=start, end=end)

    def leads(self, *, window: timedelta, now: datetime, monitor: str | None = None) -> tuple[LeadStats, ...]:
        assert (now, window) == (WEEK[1], timedelta(days=7))  # asked over exactly the digest's week
        return (LeadStats(provider="OpenAI", window=window, leads=(timedelta(minutes=8),)),)


@pytest.mark.anyio
async def test_read_asks_the_history_for_the_week_s_leads(database: str) -> None:
    wired = await scripted_week(database)
    assert rows(digest.read(wired.store, now=POSTED))["OpenAI"].lead is None  # none recorded in the store
    row = rows(digest.read(Leads(wired.store), now=POSTED))["OpenAI"]
    assert row.lead is not None and (row.lead.median, len(row.lead.leads)) == (timedelta(minutes=8), 1)
    wired.store.close()


# ---------------------------------------------------------------- rendering, within each platform's limits


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def big_digest(count: int = 200) -> Digest:
    """`count` monitors with long names full of markup, components and leads: the worst case to lay out."""
    days = tuple(DigestDay(day=WEEK[0] + timedelta(days=d), status=(MAJ, DEG, OK, None, PART, OK, OK)[d])
                 for d in range(7))
    made = [DigestRow(monitor=f"<!channel> @everyone *Monitor* {i:03d} " + "x" * 60, uptime=100.0 - i / 10,
                      incidents=i % 4, mttr=timedelta(minutes=i), longest=timedelta(hours=1, minutes=i),
                      down=timedelta(minutes=i), days=days,
                      components=tuple(DigestComponent(f"Component {c} " + "y" * 40, 3) for c in range(5)),
                      lead=LeadStats(f"Monitor {i:03d}", timedelta(days=7), (timedelta(minutes=5),
                                                                             timedelta(minutes=7)))
                      if i % 3 == 0 else None)
            for i in range(count)]
    return Digest(start=WEEK[0], end=WEEK[1], timezone="Europe/Berlin", rows=tuple(made))


STRIP = re.compile("[🟥🟩🟨⬜]{7} ")  # a monitor's entry starts with its week


def typical_digest(count: int = 200, hit: int = 20) -> Digest:
    """`count` monitors with ordinary names, `hit` of them with two incidents this week."""
    days = tuple(DigestDay(day=WEEK[0] + timedelta(days=d), status=OK) for d in range(7))
    made = [DigestRow(monitor=f"Service {i:03d} API", uptime=99.5 if i < hit else 100.0, incidents=2 if i < hit else 0,
                      mttr=timedelta(minutes=12) if i < hit else None, longest=timedelta(minutes=30) if i < hit else None,
                      down=timedelta(minutes=24) if i < hit else timedelta(0), days=days,
                      components=(DigestComponent("Chat Completions", 2), DigestComponent("Responses", 1))
                      if i < hit else ())
            for i in range(count)]
    return Digest(start=WEEK[0], end=WEEK[1], timezone="UTC", rows=tuple(made))


def shown_and_more(text: str) -> tuple[int, int]:
    shown = sum(1 for line in text.splitlines() if STRIP.match(line))
    more = [line for line in text.splitlines() if "more monitors" in line]
    assert len(more) == 1, more
    return shown, int(more[0].split("and ")[1].split(" more")[0].replace(",", ""))


def test_slack_with_200_monitors_stays_within_block_kit_limits_and_says_how_many_more() -> None:
    text, blocks = slack_render.render_digest(big_digest())
    assert len(blocks) <= slack_render.MAX_BLOCKS
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(units(s) <= slack_render.SECTION_TEXT_LIMIT for s in sections)  # even counted in UTF-16
    assert sum(slack_render._block_chars(b) for b in blocks) <= slack_render.BLOCKS_TEXT_BUDGET
    assert len(blocks[0]["text"]["text"]) <= slack_render.HEADER_TEXT_LIMIT
    assert units(text) <= slack_render.MESSAGE_TEXT_LIMIT
    shown, more = shown_and_more("\n".join(sections))
    assert shown + more == 200 and shown >= 15  # the worst case: long names and five long components each
    _, blocks = slack_render.render_digest(typical_digest())
    shown, more = shown_and_more("\n".join(b["text"]["text"] for b in blocks if b["type"] == "section"))
    assert shown + more == 200 and shown >= 100  # ordinary names: every monitor with an incident, and more
    body = "\n".join(sections)
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body  # a monitor's name is shown, never obeyed
    assert blocks[-1]["type"] == "context" and "🟩 no incident" in blocks[-1]["elements"][0]["text"]


def test_discord_with_200_monitors_stays_within_embed_limits_and_says_how_many_more() -> None:
    embed = discord_render.render_digest(big_digest())
    assert discord_render.within_limits(embed) == []
    description = embed.description or ""
    assert units(description) <= discord_render.DESCRIPTION_MAX
    assert units(description) + units(embed.title or "") + units(embed.footer.text or "") <= discord_render.TOTAL_MAX
    shown, more = shown_and_more(description)
    assert shown + more == 200 and shown >= 8  # the worst case: long names and five long components each
    shown, more = shown_and_more(discord_render.render_digest(typical_digest()).description or "")
    assert shown + more == 200 and shown >= 20  # ordinary names: every monitor with an incident comes first
    assert "@everyone" not in description.replace("@\u200beveryone", "")  # escaped: pings nobody


def test_the_console_lists_100_monitors_then_says_how_many_more_and_the_cli_lists_them_all() -> None:
    text = console.render_digest(big_digest())
    assert shown_and_more("\n".join(line.strip() for line in text.splitlines())) == (100, 100)
    every = console.render_digest(big_digest(), limit=None)
    assert sum(1 for line in every.splitlines() if line.strip().startswith("🟥")) == 200
    assert "more monitors" not in every


@pytest.mark.anyio
async def test_the_same_words_on_every_platform(database: str) -> None:
    wired = await scripted_week(database)
    week = digest.read(wired.store, now=POSTED)
    line = wording.digest_figures(rows(week)["OpenAI"])
    assert line == "97.77% · 3 incidents · MTTR 1h 15m · longest 2h"
    slack_text = json.dumps(slack_render.render_digest(week)[1], ensure_ascii=False)
    discord_text = discord_render.render_digest(week).description or ""
    console_text = console.render_digest(week)
    for words in (line, "🟥🟩🟨🟩🟥🟥🟥", "most affected: API (3), Chat (1)", "⬜⬜🟩🟩🟩🟩🟩",
                  "3 incidents · 1 of 3 monitors affected · 3h 45m in incidents"):
        assert words in slack_text and words in discord_text and words in console_text, words
    assert wording.digest_headline(week) == "📊 Weekly digest · 23–29 Nov 2026"
    assert console_text.splitlines()[0] == "📊 Weekly digest · 23–29 Nov 2026"
    wired.store.close()


def test_the_week_names_its_months_and_years() -> None:
    def title(start: datetime) -> str:
        return wording.digest_week(Digest(start=start, end=start + timedelta(days=7), timezone="UTC"))

    assert title(datetime(2026, 11, 30, tzinfo=UTC)) == "30 Nov – 6 Dec 2026"
    assert title(datetime(2026, 12, 28, tzinfo=UTC)) == "28 Dec 2026 – 3 Jan 2027"


# ---------------------------------------------------------------- through the outbox: the alert it rides in


def test_the_digest_rides_an_alert_that_decodes_from_its_outbox_row_and_old_rows_decode_without_it() -> None:
    week = big_digest(3)
    message = digest.alert(week, at=POSTED)
    assert (message.kind, message.incident_id, message.buttons) == (AlertKind.DIGEST, "digest#2026-11-29", False)
    assert queued_alert(json.dumps(encode(message))) == message
    assert not buttons.buttons(message)  # nothing to acknowledge or mute
    deliveries = plan([message], (Route("slack", "#weekly", mention="<!here>"), Route("console", "console")))
    assert [(d.op, d.mention) for d in deliveries] == [(Op.POST, None), (Op.POST, None)]  # never pings
    old = encode(message)
    del old["digest"]
    assert queued_alert(json.dumps(old)).digest is None
    # every renderer lays a DIGEST alert out as the digest
    assert slack_render.render_alert(message) == slack_render.render_digest(week)
    assert console.render_alert(message) == console.render_digest(week)
    assert discord_render.render_alert(message).title == discord_render.render_digest(week).title


def test_the_webhook_gets_the_digest_as_data_with_its_own_event() -> None:
    week = big_digest(2)
    doc = document(digest.alert(week, at=POSTED), sent_at=POSTED)
    assert (doc["version"], doc["event"], doc["id"]) == (1, "digest", "digest#2026-11-29")
    assert "incident" not in doc
    assert doc["digest"]["rows"][0]["days"][0]["status"] == "major_outage"
    assert doc["title"] == "📊 Weekly digest · 23–29 Nov 2026" and "🟥🟨🟩⬜🟥🟩🟩" in doc["text"]


# ---------------------------------------------------------------- config


SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-digest-test", "SLACK_APP_TOKEN": "xapp-digest-test"}
MONITOR = '[[monitors]]\nname = "OpenAI"\ntype = "statuspage"\nurl = "https://status.openai.com"\n'


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "downwatch.toml"
    path.write_text(MONITOR + text)
    return str(path)


def test_digest_config_defaults_and_channels_like_a_monitor_s(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[slack]\nchannel = "#ops"\n[digest]\n'), SLACK_ENV)
    assert config.digest is not None
    assert (config.digest.cron, config.digest.timezone) == ("0 9 * * MON", "UTC")
    assert config.digest.routes == (Route("console", "console"), Route("slack", "#ops"))
    config = load_config(write(tmp_path, '[slack]\nchannel = "#ops"\nmention = "<!here>"\n[digest]\n'
                               'cron = "30 8 * * FRI"\ntimezone = "Europe/Berlin"\nslack_channels = ["#weekly", "#leads"]\n'),
                         SLACK_ENV)
    assert config.digest is not None and config.digest.timezone == "Europe/Berlin"
    assert config.digest.routes == (Route("console", "console"), Route("slack", "#weekly"), Route("slack", "#leads"))
    assert load_config(write(tmp_path, ""), {}).digest is None


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('cron = "0 9 * *"', "digest.cron: must be a cron expression of 5 fields, minute hour day month weekday "
                             "(got '0 9 * *')"),
        ('cron = "0 25 * * MON"', "digest.cron: is not a valid cron expression (got '0 25 * * MON')"),
        ("cron = 9", "digest.cron: must be a non-empty string (got 9)"),
        ('timezone = "Mars/Olympus"', "digest.timezone: is not a time zone (got 'Mars/Olympus')"),
        ('slack_chanel = "#weekly"', "digest.slack_chanel: unknown key (did you mean 'slack_channel'?)"),
        ('discord_channel = "123"', "digest.discord_channel: set, but there is no [discord] section"),
        ('slack_channel = "Weekly Ops!"', "digest.slack_channel: not a Slack channel name or id"),
    ],
)
def test_bad_digest_config_names_file_key_and_reason(tmp_path: Path, table: str, error: str) -> None:
    path = write(tmp_path, f'[slack]\nchannel = "#ops"\n[digest]\n{table}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, SLACK_ENV)
    assert any(e.startswith(f"{path}: {error}") for e in caught.value.errors), caught.value.errors


def test_a_digest_that_is_not_a_table_and_validate_exits_2(tmp_path: Path, downwatch: Callable[..., Ran]) -> None:
    path = str(tmp_path / "top.toml")
    Path(path).write_text('digest = "weekly"\n' + MONITOR)  # a top-level key: before the first table
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert caught.value.errors == [f"{path}: digest: must be a table ([digest])"]
    ran = downwatch("validate", "--config", write(tmp_path, '[digest]\ncron = "every monday"\ntimezone = "CET+1"\n'))
    assert ran.code == 2
    assert "digest.cron: must be a cron expression of 5 fields" in ran.err and "digest.timezone:" in ran.err


# ---------------------------------------------------------------- `downwatch digest`


@pytest.mark.anyio
async def test_downwatch_digest_prints_the_week_from_the_database(tmp_path: Path, database: str,
                                                                  downwatch: Callable[..., Ran]) -> None:
    wired = await scripted_week(database)
    wired.store.close()
    ran = downwatch("digest", "--db", database, "--until", "2026-11-30")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == "📊 Weekly digest · 23–29 Nov 2026"
    assert lines[1].strip() == "3 incidents · 1 of 3 monitors affected · 3h 45m in incidents"
    assert lines[2].strip() == "🟥🟩🟨🟩🟥🟥🟥  OpenAI — 97.77% · 3 incidents · MTTR 1h 15m · longest 2h"
    # from a config: its database and its time zone (the week of Berlin's days, a different count)
    config = tmp_path / "downwatch.toml"
    line, env = database_setting(database)
    config.write_text(f'{line}{MONITOR}[digest]\ntimezone = "Europe/Berlin"\n')
    ran = downwatch("digest", "--config", str(config), "--until", "2026-11-30", env=env)
    assert ran.code == 0, ran.err
    assert "days Mon → Sun, Europe/Berlin" in ran.out
    # Berlin is UTC+1: Friday's 23:30 UTC outage fell on Saturday there, Sunday's 23:00 UTC one on next Monday
    assert "🟥🟩🟨🟩🟩🟥🟩  OpenAI — 97.77% · 3 incidents · MTTR 1h 15m · longest 2h" in ran.out


def test_downwatch_digest_says_what_is_wrong(tmp_path: Path, database: str, downwatch: Callable[..., Ran]) -> None:
    ran = downwatch("digest", "--db", str(tmp_path / "none.db"))
    assert ran.code == 2 and "no history yet" in ran.err
    Store.open(database).close()
    ran = downwatch("digest", "--db", database, "--until", "last monday")
    assert ran.code == 2 and "--until must be a date like 2026-11-30 (got 'last monday')" in ran.err
    ran = downwatch("digest", "--db", database)
    assert ran.code == 0 and "No incidents this week · 0 monitors" in ran.out
