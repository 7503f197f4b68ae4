"""Maintenance windows: the pure schedule (bot/maintenance.py) as tables with `now` given, DST weeks in
Europe/Berlin, the config's errors, and windows through the real Watcher, Quiet, Sender and database (SQLite,
PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console import render_reply
from bot import commands, maintenance, wording
from bot.checks.client import make_client
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import ConfigError, Route, load_config
from bot.maintenance import Window, active, covers, occurrence_at, parse_duration, spans, upcoming
from bot.model import (
    ChangeKind,
    CheckResult,
    Command,
    CommandKind,
    ComponentReading,
    MaintenanceReport,
    MaintenanceView,
    Overview,
    ProviderMaintenance,
    Status,
    TargetReport,
)
from bot.outbox import Sender
from bot.quiet import Quiet
from bot.store import Store
from bot.watch import Watcher
from tests.fakes.recording import RecordingAdapter


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


ONE_OFF = Window(name="DB upgrade", monitors=("Checkout API",), start=at("2026-12-06T02:00:00Z"),
                 end=at("2026-12-06T04:00:00Z"))
SUNDAY_BERLIN = Window(name="Weekly deploy", cron="0 3 * * SUN", duration=timedelta(hours=2), timezone="Europe/Berlin")
SKIPPED_HOUR = Window(name="Night job", cron="30 2 * * SUN", duration=timedelta(hours=1), timezone="Europe/Berlin")
DAILY_UTC = Window(name="Backups", cron="0 1 * * *", duration=timedelta(minutes=30))


@pytest.mark.parametrize(
    ("window", "now", "start"),
    [
        (ONE_OFF, "2026-12-06T01:59:59Z", None),
        (ONE_OFF, "2026-12-06T02:00:00Z", "2026-12-06T02:00:00Z"),
        (ONE_OFF, "2026-12-06T03:59:59Z", "2026-12-06T02:00:00Z"),
        (ONE_OFF, "2026-12-06T04:00:00Z", None),  # the end is not inside
        (DAILY_UTC, "2026-11-30T01:10:00Z", "2026-11-30T01:00:00Z"),
        (DAILY_UTC, "2026-11-30T01:30:00Z", None),
        # the week the clocks go back in Berlin (Sunday 2026-10-25 03:00 CEST → 02:00 CET)
        (SUNDAY_BERLIN, "2026-10-18T01:00:00Z", "2026-10-18T01:00:00Z"),  # summer: 03:00 CEST = 01:00 UTC
        (SUNDAY_BERLIN, "2026-10-25T01:30:00Z", None),  # 02:30 CET: not yet 03:00 local
        (SUNDAY_BERLIN, "2026-10-25T02:00:00Z", "2026-10-25T02:00:00Z"),  # winter: 03:00 CET = 02:00 UTC
        (SUNDAY_BERLIN, "2026-10-25T03:59:00Z", "2026-10-25T02:00:00Z"),  # 2 real hours
        (SUNDAY_BERLIN, "2026-10-25T04:00:00Z", None),
        # the week they go forward (Sunday 2027-03-28 02:00 CET → 03:00 CEST)
        (SUNDAY_BERLIN, "2027-03-21T02:30:00Z", "2027-03-21T02:00:00Z"),  # still winter
        (SUNDAY_BERLIN, "2027-03-28T01:00:00Z", "2027-03-28T01:00:00Z"),  # summer from that morning
        (SUNDAY_BERLIN, "2027-03-28T02:59:00Z", "2027-03-28T01:00:00Z"),
        (SUNDAY_BERLIN, "2027-03-28T03:00:00Z", None),
        # 02:30 does not exist on 2027-03-28 in Berlin: read as if the clocks had not changed (03:30 CEST)
        (SKIPPED_HOUR, "2027-03-28T01:30:00Z", "2027-03-28T01:30:00Z"),
        (SKIPPED_HOUR, "2027-03-28T00:45:00Z", None),
        # 02:30 happens twice on 2026-10-25: the first one (CEST, 00:30 UTC) starts the window
        (SKIPPED_HOUR, "2026-10-25T00:30:00Z", "2026-10-25T00:30:00Z"),
        (SKIPPED_HOUR, "2026-10-25T01:30:00Z", None),
    ],
)
def test_which_occurrence_covers_now(window: Window, now: str, start: str | None) -> None:
    found = occurrence_at(window, at(now))
    assert (found.start if found else None) == (at(start) if start else None)
    if found is not None:
        assert found.end == found.start + (window.duration if window.cron else timedelta(hours=2))


def test_upcoming_lists_the_next_occurrences_soonest_first_across_the_dst_change() -> None:
    views = upcoming([SUNDAY_BERLIN, ONE_OFF], at("2026-10-20T00:00:00Z"), limit=4, horizon=timedelta(days=60))
    assert [(v.name, v.start) for v in views] == [
        ("Weekly deploy", at("2026-10-25T02:00:00Z")),
        ("Weekly deploy", at("2026-11-01T02:00:00Z")),
        ("Weekly deploy", at("2026-11-08T02:00:00Z")),
        ("Weekly deploy", at("2026-11-15T02:00:00Z")),
    ]
    later = upcoming([ONE_OFF], at("2026-12-01T00:00:00Z"))
    assert [v.name for v in later] == ["DB upgrade"] and later[0].monitors == ("Checkout API",)
    assert upcoming([ONE_OFF], at("2026-12-06T03:00:00Z")) == ()  # in force, not upcoming


def test_windows_apply_to_their_monitors_and_components() -> None:
    now = at("2026-12-06T03:00:00Z")
    assert [v.name for v in active([ONE_OFF, DAILY_UTC], now, "Checkout API")] == ["DB upgrade"]
    assert active([ONE_OFF], now, "OpenAI") == ()
    payments = Window(name="p", components=("Payments",), start=ONE_OFF.start, end=ONE_OFF.end)
    view = active([payments], now, "Checkout API")[0]
    assert covers(view, ["Payments"]) and not covers(view, ["Payments", "Login"]) and not covers(view, [])
    assert covers(active([ONE_OFF], now)[0], ["anything"])


@pytest.mark.parametrize(("text", "span"), [("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)),
                                            ("1d", timedelta(days=1)), ("1h30m", timedelta(minutes=90)),
                                            ("", None), ("2x", None), ("h", None), ("0m", None), ("-1h", None)])
def test_durations(text: str, span: timedelta | None) -> None:
    assert parse_duration(text) == span


def test_spans_over_a_window_of_time_for_uptime() -> None:
    found = spans([SUNDAY_BERLIN, ONE_OFF], "Checkout API", at("2026-11-29T00:00:00Z"), at("2026-12-07T00:00:00Z"))
    assert found == ((at("2026-11-29T02:00:00Z"), at("2026-11-29T04:00:00Z")),
                     (at("2026-12-06T02:00:00Z"), at("2026-12-06T04:00:00Z")),
                     (ONE_OFF.start, ONE_OFF.end))


# ---------------------------------------------------------------- the config


BASE = """
[[monitors]]
name = "Checkout API"
type = "http"
url = "https://api.example.com/health"

[[monitors]]
name = "OpenAI"
type = "statuspage"
url = "https://status.openai.com"
components = ["Chat Completions", "Responses"]
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dw.toml"
    path.write_text(BASE + text)
    return str(path)


def test_valid_windows_are_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[[maintenance]]
name = "Sunday database upgrade"
monitors = ["checkout api"]
start = "2026-12-06T02:00:00Z"
end = 2026-12-06T05:00:00+01:00

[[maintenance]]
name = "Weekly deploy"
monitors = ["OpenAI"]
components = ["Responses"]
cron = "0 3 * * SUN"
duration = "2h"
timezone = "Europe/Berlin"

[[maintenance]]
name = "Short"
start = "2026-12-07T02:00:00Z"
duration = "45m"
"""), {})
    one, weekly, short = config.maintenance
    assert one == Window(name="Sunday database upgrade", monitors=("Checkout API",), start=at("2026-12-06T02:00:00Z"),
                         end=at("2026-12-06T04:00:00Z"))
    assert weekly.cron == "0 3 * * SUN" and weekly.components == ("Responses",) and weekly.timezone == "Europe/Berlin"
    assert short.end == at("2026-12-07T02:45:00Z") and short.monitors == ()


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('name = "x"\nstart = "tomorrow"\nend = "2026-12-06T04:00:00Z"',
         "maintenance[0] (x).start: must be an RFC 3339 time"),
        ('name = "x"\nstart = "2026-12-06T02:00:00"\nend = "2026-12-06T04:00:00Z"',
         "maintenance[0] (x).start: needs a time zone offset"),
        ('name = "x"\nstart = "2026-12-06T04:00:00Z"\nend = "2026-12-06T02:00:00Z"', "maintenance[0] (x).end: must be after start"),
        ('name = "x"\ncron = "0 3 * * SUN"\nduration = "2h"\nstart = "2026-12-06T02:00:00Z"',
         "maintenance[0] (x).cron: give either cron"),
        ('name = "x"\nmonitors = ["Chekout API"]\nstart = "2026-12-06T02:00:00Z"\nend = "2026-12-06T04:00:00Z"',
         "maintenance[0] (x).monitors: no monitor named 'Chekout API' (did you mean 'Checkout API'?)"),
        ('name = "x"\nmonitors = ["OpenAI"]\ncomponents = ["Respones"]\ncron = "0 3 * * *"\nduration = "1h"',
         "maintenance[0] (x).components: no component 'Respones' in those monitors' components (did you mean 'Responses'?)"),
        ('name = "x"\ncron = "0 3 * * SUN"\nduration = "2h"\ntimezone = "Europe/Berlinn"',
         "maintenance[0] (x).timezone: must be an IANA time zone"),
        ('name = "x"\ncron = "0 3 * * SUN"\nduration = "two hours"', "maintenance[0] (x).duration: must be a span"),
        ('name = "x"\ncron = "0 3 * * SUN"', "maintenance[0] (x).duration: is required with cron"),
        ('name = "x"\ncron = "0 25 * * SUN"\nduration = "1h"', "maintenance[0] (x).cron: must be a cron expression"),
        ('name = "x"\ncron = "0 3 * * SUN"\nduration = "9d"', "maintenance[0] (x).duration: must be at most 7d"),
        ('name = "x"\nstart = "2026-12-06T02:00:00Z"', "maintenance[0] (x).end: is required"),
        ('start = "2026-12-06T02:00:00Z"\nend = "2026-12-06T04:00:00Z"', "maintenance[0].name: is required"),
        ('name = "x"\nstart = "2026-12-06T02:00:00Z"\nend = "2026-12-06T04:00:00Z"\nwhen = 1',
         "maintenance[0] (x).when: unknown key"),
    ],
)
def test_bad_windows_are_errors_with_file_key_and_reason(tmp_path: Path, table: str, error: str) -> None:
    path = write(tmp_path, "\n[[maintenance]]\n" + table + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert any(e.startswith(f"{path}: {error}") for e in caught.value.errors), caught.value.errors


# ---------------------------------------------------------------- windows through the watcher

MONITOR = StatuspageMonitor(name="OpenAI", url="http://127.0.0.1:9", routes=(Route("chat", "#ops"),))
WINDOW = Window(name="Upgrade", monitors=("OpenAI",), start=at("2026-09-29T13:00:00Z"), end=at("2026-09-29T14:00:00Z"))


def reading(now: datetime, api: Status, chat: Status = Status.OPERATIONAL) -> CheckResult:
    return CheckResult(monitor="OpenAI", at=now, readable=True,
                       components=(ComponentReading("API", api), ComponentReading("ChatGPT", chat)))


@dataclass
class Bot:
    path: Path | str
    clock: FakeClock
    chat: RecordingAdapter

    def __post_init__(self) -> None:
        self.store = Store.open(str(self.path))
        self.store.sync_monitors([("OpenAI", "statuspage")], self.clock.now())
        self.quiet = Quiet(store=self.store, monitors=[MONITOR], windows=[WINDOW])
        self.watcher = Watcher(monitors=[MONITOR], store=self.store, client=make_client(), clock=self.clock,
                               quiet=self.quiet)
        self.sender = Sender(store=self.store, adapters={"chat": self.chat}, clock=self.clock)

    def poll(self, api: Status, chat: Status = Status.OPERATIONAL) -> None:
        self.watcher.apply(MONITOR, reading(self.clock.now(), api, chat))
        self.clock.advance(60)

    async def deliver(self) -> list[tuple[str, str]]:
        before = len(self.chat.calls)
        for _ in range(4):
            await self.sender.deliver_all()
        return [(c.op, c.kind.value) for c in self.chat.calls[before:]]


@pytest.fixture
def bot(database: str) -> Bot:
    return Bot(database, FakeClock(at("2026-09-29T12:50:00Z")), RecordingAdapter())


@pytest.mark.anyio
async def test_an_outage_inside_a_window_posts_nothing(bot: Bot) -> None:
    bot.poll(Status.OPERATIONAL)
    bot.clock.advance(600)  # 13:01: in the window
    for status in (Status.MAJOR, Status.MAJOR, Status.MAJOR, Status.OPERATIONAL, Status.OPERATIONAL):
        bot.poll(status)
    assert await bot.deliver() == []
    assert bot.store.recent_incidents(limit=1)[0].resolved_at is not None  # recorded all the same
    bot.clock.advance(3600)
    bot.quiet.tick(bot.clock.now())
    assert await bot.deliver() == []


@pytest.mark.anyio
async def test_an_outage_that_outlasts_the_window_posts_once_when_it_ends_saying_so(bot: Bot, database: str) -> None:
    bot.poll(Status.OPERATIONAL)
    bot.clock.advance(600)
    bot.poll(Status.MAJOR)
    bot.poll(Status.MAJOR)
    overview = commands.handle(Command(CommandKind.OVERVIEW), history=bot.store, now=bot.clock.now(), planned=[WINDOW])
    assert isinstance(overview, Overview) and [v.name for v in overview.maintenance] == ["Upgrade"]
    report = commands.handle(Command(CommandKind.TARGET, target="OpenAI"), history=bot.store, now=bot.clock.now(),
                             planned=[WINDOW])
    assert isinstance(report, TargetReport) and report.maintenance[0].name == "Upgrade"
    assert "🔧 Upgrade — OpenAI" in render_reply(overview) and "🔧 Upgrade — OpenAI" in render_reply(report)
    assert await bot.deliver() == []
    bot.store.close()
    restarted = Bot(database, bot.clock, bot.chat)  # a restart inside the window changes nothing
    restarted.poll(Status.MAJOR, Status.MAJOR)
    restarted.poll(Status.MAJOR, Status.MAJOR)
    assert await restarted.deliver() == []
    bot.clock.advance(3600)  # 14:04: the window has ended, no poll yet
    restarted.quiet.tick(bot.clock.now())
    assert await restarted.deliver() == [("post", "opened"), ("reply", "updated")]
    post, line = bot.chat.calls[-2:]
    assert post.alert.severity is Status.MAJOR and {c.name for c in post.alert.components} == {"API", "ChatGPT"}
    assert line.alert.changes[0].kind is ChangeKind.MAINTENANCE_ENDED
    assert wording.change_line(line.alert) == "outlasted the maintenance “Upgrade”"
    restarted.quiet.tick(bot.clock.now())
    restarted.poll(Status.MAJOR, Status.MAJOR)
    assert await restarted.deliver() == []  # once
    restarted.poll(Status.OPERATIONAL, Status.OPERATIONAL)
    restarted.poll(Status.OPERATIONAL, Status.OPERATIONAL)
    assert await restarted.deliver() == [("edit", "resolved"), ("reply", "resolved")]


@pytest.mark.anyio
async def test_an_incident_posted_before_the_window_stays_quiet_then_is_brought_up_to_date(bot: Bot) -> None:
    bot.poll(Status.OPERATIONAL)
    bot.poll(Status.MAJOR)
    bot.poll(Status.MAJOR)
    assert await bot.deliver() == [("post", "opened")]
    bot.clock.advance(600)  # into the window
    bot.poll(Status.MAJOR, Status.PARTIAL)
    bot.poll(Status.MAJOR, Status.PARTIAL)
    assert await bot.deliver() == []
    bot.clock.advance(3600)
    bot.poll(Status.MAJOR, Status.PARTIAL)  # the first poll after the window releases what was held
    assert await bot.deliver() == [("edit", "updated"), ("reply", "updated")]
    line = wording.change_line(bot.chat.calls[-1].alert)
    assert "ChatGPT" in line and "outlasted the maintenance “Upgrade”" in line


@pytest.mark.anyio
async def test_status_maintenance_lists_ours_and_the_providers(bot: Bot) -> None:
    bot.poll(Status.OPERATIONAL, Status.MAINTENANCE)
    bot.poll(Status.OPERATIONAL, Status.MAINTENANCE)
    before = commands.handle(Command(CommandKind.MAINTENANCE), history=bot.store, now=bot.clock.now(),
                             planned=[WINDOW])
    assert isinstance(before, MaintenanceReport)
    assert [v.name for v in before.upcoming] == ["Upgrade"]
    assert [(v.name, v.provider) for v in before.active] == [("ChatGPT", True)]
    assert await bot.deliver() == []  # a provider's maintenance is never an outage
    bot.clock.advance(900)
    during = commands.handle(Command(CommandKind.MAINTENANCE), history=bot.store, now=bot.clock.now(),
                             planned=[WINDOW])
    assert isinstance(during, MaintenanceReport) and during.active[0].name == "Upgrade" and not during.upcoming
    text = render_reply(during)
    assert "🔧 Upgrade — OpenAI" in text and "ChatGPT" in text


FAILOVER = ProviderMaintenance(id="m1", name="Database failover", status="in_progress",
                               starts_at=at("2026-09-29T12:30:00Z"), ends_at=at("2026-09-29T13:30:00Z"),
                               components=("ChatGPT",), url="https://stspg.io/m1")
NETWORK = ProviderMaintenance(id="m2", name="Network upgrade", status="scheduled", starts_at=at("2026-09-30T02:00:00Z"),
                              ends_at=at("2026-09-30T04:00:00Z"), components=("API",))


def announcing(now: datetime) -> CheckResult:
    """A page announcing one maintenance in progress and one planned, with a component under maintenance that
    no announced one names."""
    return CheckResult(monitor="OpenAI", at=now, readable=True, maintenances=(FAILOVER, NETWORK), components=(
        ComponentReading("API", Status.OPERATIONAL), ComponentReading("ChatGPT", Status.MAINTENANCE),
        ComponentReading("Files", Status.MAINTENANCE)))


@pytest.mark.anyio
async def test_the_providers_announced_maintenances_show_by_their_own_name(bot: Bot, database: str) -> None:
    from adapters.discord.render import render_reply as discord_reply
    from adapters.slack.render import render_reply as slack_reply

    for _ in range(3):
        bot.watcher.apply(MONITOR, announcing(bot.clock.now()))
        bot.clock.advance(60)
    assert await bot.deliver() == []  # a provider's maintenance is never an outage
    assert bot.store.open_incidents() == []
    bot.store.close()
    restarted = Bot(database, bot.clock, bot.chat)  # read back from the file, not from memory
    now = bot.clock.now()  # 12:53
    report = commands.handle(Command(CommandKind.MAINTENANCE), history=restarted.store, now=now, planned=[WINDOW])
    assert isinstance(report, MaintenanceReport)
    assert [(v.name, v.provider, v.monitors, v.components) for v in report.active] == [
        ("Database failover", True, ("OpenAI",), ("ChatGPT",)),
        ("Files", True, ("OpenAI",), ("Files",)),  # under maintenance, no announced one names it
    ]
    assert [(v.name, v.provider, v.start, v.end) for v in report.upcoming] == [
        ("Upgrade", False, WINDOW.start, WINDOW.end),  # ours, today 13:00
        ("Network upgrade", True, NETWORK.starts_at, NETWORK.ends_at),  # the provider's, tomorrow 02:00
    ]
    text = render_reply(report)
    assert ("🔧 Database failover — OpenAI (ChatGPT) · 2026-09-29 12:30 UTC–13:30 UTC (ends in 37m)"
            " · announced by the provider") in text
    assert ("🔧 Network upgrade — OpenAI (API) · 2026-09-30 02:00 UTC–04:00 UTC (in 13h 7m)"
            " · announced by the provider") in text
    assert text.index("Upgrade — OpenAI") < text.index("Network upgrade")
    fallback, _ = slack_reply(report)
    assert "Database failover" in fallback and "Network upgrade" in fallback and "Files" in fallback
    (embed,) = discord_reply(report)
    assert embed.description is not None
    assert "Database failover" in embed.description and "Network upgrade" in embed.description

    # `/status` and `/status OpenAI` show the one in progress the way they show ours, not the planned one
    overview = commands.handle(Command(CommandKind.OVERVIEW), history=restarted.store, now=now)
    target = commands.handle(Command(CommandKind.TARGET, target="OpenAI"), history=restarted.store, now=now)
    assert isinstance(overview, Overview) and isinstance(target, TargetReport)
    assert [v.name for v in overview.maintenance] == [v.name for v in target.maintenance] == ["Database failover"]
    for reply in (overview, target):
        assert "🔧 Database failover — OpenAI (ChatGPT)" in render_reply(reply)
        assert "Network upgrade" not in render_reply(reply)
        assert "🔧 Database failover — OpenAI (ChatGPT)" in slack_reply(reply)[0]
        (embed,) = discord_reply(reply)
        assert "🔧 Database failover — OpenAI (ChatGPT)" in (embed.description or "")


def test_slack_and_discord_show_the_windows_in_force_even_when_all_is_operational() -> None:
    from adapters.discord.render import render_reply as discord_reply
    from adapters.slack.render import render_reply as slack_reply

    now = at("2026-09-29T13:10:00Z")
    window = maintenance.occurrence_at(WINDOW, now)
    assert window is not None
    overview = Overview(now=now, monitors=1, problems=(), open_incidents=(), maintenance=(window,))
    assert overview.all_operational
    line = "🔧 Upgrade — OpenAI · 2026-09-29 13:00 UTC–14:00 UTC (ends in 50m)"
    assert line in render_reply(overview)
    text, blocks = slack_reply(overview)
    assert line in text and len(blocks) == 1
    (embed,) = discord_reply(overview)
    assert embed.description == line


def test_a_maintenance_overrunning_its_announced_end_says_so() -> None:
    view = MaintenanceView(name="Failover", start=at("2026-09-29T12:00:00Z"), end=at("2026-09-29T13:00:00Z"),
                           monitors=("OpenAI",), provider=True)
    row = wording.maintenance_row(view, at("2026-09-29T13:20:00Z"))
    assert row.endswith("(due to end 20m ago) · announced by the provider")
    across = MaintenanceView(name="IAD", start=at("2026-07-29T11:00:00Z"), end=at("2026-07-30T06:00:00Z"))
    assert "2026-07-29 11:00 UTC – 2026-07-30 06:00 UTC" in wording.maintenance_row(across, at("2026-07-29T17:00:00Z"))


def test_uptime_leaves_the_window_out(database: str) -> None:
    clock = FakeClock(at("2026-09-29T10:00:00Z"))
    store = Store.open(str(database))
    store.sync_monitors([("OpenAI", "statuspage")], clock.now())
    watcher = Watcher(monitors=[MONITOR], store=store, client=make_client(), clock=clock,
                      quiet=Quiet(store=store, monitors=[MONITOR], windows=[WINDOW]))
    # down from 12:30 to 13:30: half of it inside the 13:00–14:00 window
    for moment, status in (("12:00", Status.OPERATIONAL), ("12:30", Status.MAJOR), ("12:31", Status.MAJOR),
                           ("13:30", Status.OPERATIONAL), ("13:31", Status.OPERATIONAL)):
        watcher.apply(MONITOR, reading(at(f"2026-09-29T{moment}:00Z"), status))
    now = at("2026-09-29T16:00:00Z")
    plain = store.uptime(monitor="OpenAI", component=None, window=timedelta(hours=24), now=now)
    report = commands.handle(Command(CommandKind.TARGET, target="OpenAI"), history=store, now=now, planned=[WINDOW])
    assert isinstance(report, TargetReport)
    watched = 6 * 3600  # since first seen at 10:00
    assert plain.percent == pytest.approx(100 * (1 - 3600 / watched))
    assert report.uptime[0].percent == pytest.approx(100 * (1 - 1800 / (watched - 3600)))
    assert maintenance.spans([WINDOW], "OpenAI", now - timedelta(hours=24), now) == ((WINDOW.start, WINDOW.end),)
