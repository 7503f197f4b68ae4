"""`downwatch migrate` (bot/store/migrate.py): a real SQLite history, written by the watcher, the sender and
operations over two hours (incidents, timeline, outbox rows and their messages, probes, mutes, an
acknowledgement, held alerts, a region's reading), moved into a fresh PostgreSQL database: the same rows, the
same answers to `/status`, a restart on PostgreSQL that goes on where SQLite left off with ids past the copied
ones; and what it refuses, with nothing copied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from adapters.console import render_reply
from bot import commands
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Policy, Route
from bot.model import Action, ActionKind, Actor, CheckResult, ComponentReading, RegionReading, Status
from bot.store import Store
from bot.store.migrate import GENERATED
from tests.conftest import Ran
from tests.fakes.recording import RecordingAdapter
from tests.wiring import Wired, wire

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
NOWHERE = "http://127.0.0.1:9/"
ROUTES = (Route("chat", "#ops"),)
OPENAI = StatuspageMonitor(name="OpenAI", url=NOWHERE, routes=ROUTES, policy=Policy(reminder_interval=1800))
API = HttpMonitor(name="API", url=NOWHERE, routes=ROUTES)
MONITORS = [OPENAI, API]
ALICE = Actor(id="U1", name="alice", platform="slack")
BOB = Actor(id="U2", name="bob", platform="discord")
# Every table an SQLite history holds (its schema's, but sqlite-utils' own): what `downwatch migrate` copies.
TABLES = ("monitors", "components", "status_log", "probes", "probe_hours", "incidents", "incident_components",
          "timeline", "outbox", "messages", "actions", "mutes", "acks", "held", "region_readings")
# What `/status` is asked, typed as in chat; each answer must read the same from both databases.
ASKED = ("", "OpenAI", "API", "ChatGPT", "incidents", "incidents 20", "uptime OpenAI", "uptime API 7d", "mutes")


def openai(api: Status, chat: Status) -> Callable[[datetime], CheckResult]:
    return lambda at: CheckResult(monitor="OpenAI", at=at, readable=True, components=(
        ComponentReading("API", api), ComponentReading("ChatGPT", chat, "" if chat is Status.OPERATIONAL else
                                                       "Elevated errors")))


def api(status: Status) -> Callable[[datetime], CheckResult]:
    detail = "HTTP 200" if status is Status.OPERATIONAL else "HTTP 503"
    return lambda at: CheckResult(monitor="API", at=at, readable=True, latency_ms=40.0 + at.minute % 7,
                                  components=(ComponentReading("API", status, detail),))


def page_at(minute: int) -> Callable[[datetime], CheckResult]:
    """OpenAI's page: its API down from minute 10 to 30; ChatGPT degraded from minute 60 (still at 120)."""
    return openai(Status.MAJOR if 10 <= minute < 30 else Status.OPERATIONAL,
                  Status.DEGRADED if 60 <= minute < 125 else Status.OPERATIONAL)


def api_at(minute: int) -> Callable[[datetime], CheckResult]:
    """The API probe: failing from 40 to 50, and from 100 to 110 (while muted), and again from 130."""
    return api(Status.MAJOR if 40 <= minute < 50 or 100 <= minute < 110 or minute >= 130 else Status.OPERATIONAL)


async def minutes(wired: Wired, first: int, last: int, acts: dict[int, Callable[[], object]]) -> None:
    """Poll both monitors once a minute from `first` to `last`, an operator acting at the given minutes,
    delivering as the bot does."""
    for minute in range(first, last):
        if minute in acts:
            acts[minute]()
        wired.watcher.apply(OPENAI, page_at(minute)(wired.clock.now()))
        wired.watcher.apply(API, api_at(minute)(wired.clock.now()))
        await wired.sender.deliver_all()
        wired.clock.advance(60)


async def sqlite_history(path: str) -> tuple[Wired, RecordingAdapter]:
    """Two hours on SQLite: three incidents resolved, one open and acknowledged, the API muted with an incident
    held back, and a region's reading."""
    chat = RecordingAdapter()
    wired = wire(path, MONITORS, clock=FakeClock(T0), adapters={"chat": chat})

    def ack() -> None:
        [incident] = wired.store.open_incidents()
        assert wired.ops.act(Action(ActionKind.ACK, ALICE, incident_id=incident.id)).changed

    def mute() -> None:
        until = wired.clock.now() + timedelta(hours=3)
        assert wired.ops.act(Action(ActionKind.MUTE, BOB, target="API", until=until, reason="deploy")).changed

    def region() -> None:  # as a region's agent writes it, right before the check's own commit (bot/app.py)
        wired.store.write_reading("API", RegionReading(region="eu-west", at=wired.clock.now(),
                                                       status=Status.OPERATIONAL, failures=0, successes=12,
                                                       latency_ms=41.5))

    await minutes(wired, 0, 120, {70: ack, 95: mute, 119: region})
    return wired, chat


def counts(store: Store) -> dict[str, int]:
    return {table: store.sql.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}


def answers(store: Store, now: datetime) -> list[str]:
    return [render_reply(commands.handle(commands.parse_text(text, now=now), history=store, now=now))
            for text in ASKED]


def reads(store: Store, now: datetime) -> tuple[object, ...]:
    """Everything the bot reads back besides the commands' answers (the outbox without PostgreSQL's epoch)."""
    incidents = store.recent_incidents(limit=50)
    return (incidents, [store.timeline(i.id, limit=100) for i in incidents], store.load_states(),
            [{k: v for k, v in row.items() if k != "epoch"} for row in store.outbox_rows()], store.pending("chat"),
            store.held("API"), store.mutes(), store.acknowledgements([i.id for i in incidents]),
            store.readings("API"), store.actions(), store.component_views(), store.first_seen(),
            store.probe_stats(monitor="API", window=timedelta(hours=3), now=now),
            [store.parent_ref(i.id, "chat", "#ops") for i in incidents])


@pytest.mark.anyio
async def test_a_history_moves_into_postgresql_with_the_same_rows_and_answers_and_goes_on_there(
    tmp_path: Path, pg_url: str, downwatch: Callable[..., Ran]
) -> None:
    source = str(tmp_path / "dw.db")
    wired, chat = await sqlite_history(source)
    now = wired.clock.now()
    before = counts(wired.store)
    assert all(before.values()), before  # every table holds rows: the comparison below means something
    sqlite_answers, sqlite_reads = answers(wired.store, now), reads(wired.store, now)
    [open_one] = [i for i in wired.store.open_incidents() if i.monitor == "OpenAI"]
    parent = wired.store.parent_ref(open_one.id, "chat", "#ops")
    assert parent is not None  # its message, posted on SQLite days
    wired.store.close()

    ran = downwatch("migrate", "--from", source, "--to", pg_url)
    assert ran.code == 0, ran.err
    password = pg_url.split(":")[2].split("@")[0]
    assert password not in ran.out + ran.err
    assert f"copied {sum(before.values()):,} rows" in ran.out, ran.out

    target = Store.open(pg_url)
    assert counts(target) == before
    assert answers(target, now) == sqlite_answers
    assert reads(target, now) == sqlite_reads
    copied = {table: target.sql.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0] for table in GENERATED}
    target.close()

    # A restart on PostgreSQL goes on where SQLite left off: ChatGPT recovers, and the incident's message of
    # the SQLite days is edited (not posted again); the muted API fails again, held. New rows everywhere.
    again = RecordingAdapter()
    wired = wire(pg_url, MONITORS, clock=FakeClock(now), adapters={"chat": again})

    def mute_openai() -> None:
        wired.ops.act(Action(ActionKind.MUTE, ALICE, target="OpenAI", until=wired.clock.now() + timedelta(hours=1)))

    await minutes(wired, 120, 140, {135: mute_openai})
    assert [(c.op, c.ref, c.kind.value) for c in again.calls] == [("edit", parent, "resolved"),
                                                                  ("reply", parent, "resolved")]
    for table, last in copied.items():
        new = wired.store.sql.execute(f"SELECT COUNT(*), MIN(id) FROM {table} WHERE id > ?", [last]).fetchone()
        assert new[0] > 0 and new[1] == last + 1, (table, last, new)
    wired.store.close()


@pytest.mark.anyio
async def test_a_target_that_holds_a_history_is_refused_and_nothing_is_copied(
    tmp_path: Path, pg_url: str, downwatch: Callable[..., Ran]
) -> None:
    source = str(tmp_path / "dw.db")
    wired, _ = await sqlite_history(source)
    wired.store.close()
    assert downwatch("migrate", "--from", source, "--to", pg_url).code == 0
    target = Store.open(pg_url)
    target.sync_monitors([("OpenAI", "statuspage"), ("API", "http"), ("New", "http")], T0)  # it ran since
    before = counts(target)

    ran = downwatch("migrate", "--from", source, "--to", pg_url)
    assert ran.code == 2 and "already holds a downwatch history: nothing was copied" in ran.err
    assert counts(target) == before
    target.close()


def test_a_target_that_is_not_postgresql_is_refused(tmp_path: Path, downwatch: Callable[..., Ran]) -> None:
    source = tmp_path / "dw.db"
    Store.open(str(source)).close()
    for target in (str(tmp_path / "copy.db"), "mysql://db.example/downwatch"):
        ran = downwatch("migrate", "--from", str(source), "--to", target)
        assert ran.code == 2 and "migrate needs a PostgreSQL URL" in ran.err and target in ran.err
    assert not (tmp_path / "copy.db").exists()
    ran = downwatch("migrate", "--from", str(source))  # no --to, no DOWNWATCH_DATABASE_URL, no config
    assert ran.code == 2 and "(got none)" in ran.err


def test_a_missing_source_is_refused_and_the_target_is_left_untouched(
    tmp_path: Path, pg_url: str, downwatch: Callable[..., Ran]
) -> None:
    ran = downwatch("migrate", "--from", str(tmp_path / "none.db"), "--to", pg_url)
    assert ran.code == 2 and "none.db does not exist" in ran.err
    assert not (tmp_path / "none.db").exists()
    with psycopg.connect(pg_url) as conn:  # not even the schema was created
        assert conn.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


@pytest.mark.anyio
async def test_a_row_postgresql_refuses_rolls_the_whole_copy_back_and_says_so(
    tmp_path: Path, pg_url: str, downwatch: Callable[..., Ran]
) -> None:
    source = str(tmp_path / "dw.db")
    wired, _ = await sqlite_history(source)
    # SQLite keeps any integer; PostgreSQL's INTEGER column stops at 2**31 - 1
    wired.store.sql.execute("UPDATE probes SET latency_ms = 3000000000 WHERE id = (SELECT MAX(id) FROM probes)")
    wired.store.close()
    ran = downwatch("migrate", "--from", source, "--to", pg_url)
    assert ran.code == 2 and "NumericValueOutOfRange" in ran.err and "nothing was copied" in ran.err
    target = Store.open(pg_url)
    assert sum(counts(target).values()) == 0  # one transaction: nothing half-copied
    target.close()
