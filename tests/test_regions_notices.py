"""Regions (issue 14), what people are told: "monitoring degraded: only N of M regions reporting" said once for
the cluster (a pure decision with a hold, as a table) and once restored, never as an outage; a regional
monitor's alert naming the regions that see the failure, and its message edited when that set moves. The
Watcher runs on a real SQLite store with the readings written as the region agents write them; a fake clock,
a recording chat adapter; no sleeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console import render_alert, render_change
from adapters.webhook.adapter import EVENTS
from bot import wording
from bot.checks.http import HttpMonitor
from bot.clock import FakeClock
from bot.config import Policy, Route
from bot.model import (
    AlertKind,
    Change,
    ChangeKind,
    CheckResult,
    ComponentReading,
    Op,
    RegionReading,
    Status,
    TimelineEntry,
    Verdict,
)
from bot.outbox import plan
from bot.regions import (
    NOTICE_ID,
    Coverage,
    Degradation,
    MemoryReadings,
    Quorum,
    Reporting,
    count,
    coverage,
    degradation,
    notice_hold,
    resumed,
)
from bot.store import Unavailable
from tests.fakes.recording import RecordingAdapter
from tests.wiring import Wired, wire

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OK, MAJ, UNK = Status.OPERATIONAL, Status.MAJOR, Status.UNKNOWN
EU, US, AP = "eu-west", "us-east", "ap-south"
THREE = (EU, US, AP)
DEGRADED, RESTORED = AlertKind.REGIONS_DEGRADED, AlertKind.REGIONS_RESTORED


# ---------------------------------------------------------------- the coverage of the latest verdicts


def verdict(reporting: int, *, expected: int = 3, confirm: int = 2, stale: tuple[str, ...] = (),
            unknown: tuple[str, ...] = ()) -> Verdict:
    return Verdict(status=UNK if reporting < confirm else OK, up=THREE[:reporting], stale=stale, unknown=unknown,
                   reporting=reporting, expected=expected, degraded=reporting < confirm)


COVERAGE = [
    pytest.param([], None, id="no verdict yet: nothing to say"),
    pytest.param([verdict(3)], Coverage(False, 3, 3), id="all report"),
    pytest.param([verdict(2, stale=(AP,))], Coverage(False, 2, 3, (AP,)), id="2 of 3: enough"),
    pytest.param([verdict(1, stale=(US,), unknown=(AP,))], Coverage(True, 1, 3, (US, AP)),
                 id="1 of 3: degraded, stale and blind regions named"),
    pytest.param([verdict(1, stale=(US, AP)), verdict(2, stale=(AP,))], Coverage(False, 2, 3, (AP,)),
                 id="one monitor still confirms: not degraded"),
    pytest.param([verdict(1, stale=(US, AP)), verdict(0, stale=THREE)], Coverage(True, 1, 3, (US, AP)),
                 id="every monitor degraded: the best covered one is quoted"),
]


@pytest.mark.parametrize(("verdicts", "expected"), COVERAGE)
def test_coverage(verdicts: Sequence[Verdict], expected: Coverage | None) -> None:
    assert coverage(verdicts) == expected


# ---------------------------------------------------------------- the notice's decision, as a table

BAD = Coverage(degraded=True, reporting=1, expected=3, silent=(US, AP))
GOOD = Coverage(degraded=False, reporting=3, expected=3)
HOLD = timedelta(minutes=2)


def notices(ticks: str, start: Degradation) -> list[tuple[int, AlertKind]]:
    """One character a minute: 'd' every monitor degraded, 'o' enough regions, '-' not every monitor judged
    yet (no coverage). Returns the minute and kind of each notice."""
    state, out = start, []
    for minute, mark in enumerate(ticks):
        cover = {"d": BAD, "o": GOOD, "-": None}[mark]
        state, alert = degradation(state, cover, T0 + timedelta(minutes=minute), hold=HOLD)
        if alert is not None:
            out.append((minute, alert.kind))
    return out


OPEN = Degradation(since=T0 - timedelta(hours=1))
NOTICES = [
    pytest.param("oooooooo", Degradation(), [], id="all report: nothing"),
    pytest.param("dd", Degradation(), [], id="degraded for less than the hold: nothing"),
    pytest.param("ddd", Degradation(), [(2, DEGRADED)], id="degraded for the hold: one notice"),
    pytest.param("dddddddddddd", Degradation(), [(2, DEGRADED)], id="degraded for long: still one notice"),
    pytest.param("dodododododo", Degradation(), [], id="flapping: never held, never said"),
    pytest.param("ddoddodd", Degradation(), [], id="one good minute resets the hold"),
    pytest.param("dddooo", Degradation(), [(2, DEGRADED), (5, RESTORED)], id="degraded, then restored"),
    pytest.param("dddododoooo", Degradation(), [(2, DEGRADED), (9, RESTORED)],
                 id="restored only once enough regions held: flapping back keeps the notice open"),
    pytest.param("dd-d", Degradation(), [(3, DEGRADED)], id="a minute without coverage keeps the hold running"),
    pytest.param("----", Degradation(), [], id="never every monitor judged: nothing"),
    pytest.param("ddddd", OPEN, [], id="a new leader resuming an open notice does not post it again"),
    pytest.param("ooo", OPEN, [(2, RESTORED)], id="a new leader restores the notice its predecessor posted"),
]


@pytest.mark.parametrize(("ticks", "start", "expected"), NOTICES)
def test_notices(ticks: str, start: Degradation, expected: list[tuple[int, AlertKind]]) -> None:
    assert notices(ticks, start) == expected


def test_the_notices_carry_the_counts_the_silent_regions_and_the_duration() -> None:
    state, degraded = degradation(Degradation(pending=T0), BAD, T0 + HOLD, hold=HOLD)
    assert degraded is not None and state == Degradation(since=T0)
    assert (degraded.incident_id, degraded.monitor, degraded.severity, degraded.started_at) == (
        NOTICE_ID, "downwatch", UNK, T0)
    assert degraded.is_notice and not degraded.buttons
    assert wording.title(degraded) == "Monitoring degraded: too few regions reporting"
    assert wording.notice_detail(degraded) == (
        "monitoring degraded: only 1 of 3 regions reporting (nothing from us-east and ap-south)")
    later = T0 + timedelta(minutes=30)
    state, restored = degradation(replace_pending(state, later - HOLD), GOOD, later, hold=HOLD)
    assert restored is not None and state == Degradation()
    assert (restored.incident_id, restored.started_at, restored.resolved_at) == (NOTICE_ID, T0, later)
    assert wording.change_line(restored) == "monitoring restored: 3 of 3 regions reporting (degraded for 30m)"
    assert render_change(restored) == "ℹ️ monitoring restored: 3 of 3 regions reporting (degraded for 30m)"
    assert "Outages can be confirmed again." in render_alert(restored)


def replace_pending(state: Degradation, pending: datetime) -> Degradation:
    return Degradation(since=state.since, pending=pending)


def test_the_notices_are_posted_then_edited_and_threaded_and_are_webhook_notices() -> None:
    routes = [Route("chat", "#ops", mention="@oncall")]
    _, degraded = degradation(Degradation(pending=T0), BAD, T0 + HOLD, hold=HOLD)
    _, restored = degradation(Degradation(since=T0, pending=T0), GOOD, T0 + HOLD, hold=HOLD)
    assert degraded is not None and restored is not None
    assert [d.op for d in plan([degraded], routes)] == [Op.POST]
    assert [d.op for d in plan([restored], routes)] == [Op.EDIT, Op.REPLY]
    assert EVENTS[DEGRADED] == EVENTS[RESTORED] == "notice"


@pytest.mark.parametrize(("last", "expected"), [
    (None, Degradation()),
    (TimelineEntry(at=T0, kind=DEGRADED), Degradation(since=T0)),
    (TimelineEntry(at=T0, kind=RESTORED), Degradation()),
])
def test_a_new_leader_resumes_from_the_last_notice(last: TimelineEntry | None, expected: Degradation) -> None:
    assert resumed(last) == expected


def test_notice_hold_is_two_intervals_of_the_slowest_monitor() -> None:
    assert notice_hold([HttpMonitor(name="a", url="http://a", interval=30),
                        HttpMonitor(name="b", url="http://b", interval=90)]) == timedelta(seconds=180)


def test_reporting_waits_for_every_monitor_and_tries_a_refused_notice_again() -> None:
    sent: list[AlertKind] = []
    refuse = {"now": True}

    def notify(alert):  # type: ignore[no-untyped-def]
        if refuse["now"]:
            raise Unavailable("connection refused")
        sent.append(alert.kind)

    reporting = Reporting(monitors=["API", "DB"], hold=HOLD, notify=notify)
    bad = verdict(1, stale=(US, AP))
    for minute in range(5):  # only API is ever judged: no coverage, nothing said
        reporting.judged("API", bad, T0 + timedelta(minutes=minute))
    assert reporting.state == Degradation()
    reporting.judged("DB", bad, T0 + timedelta(minutes=5))  # every monitor judged: the hold starts
    reporting.judged("DB", bad, T0 + timedelta(minutes=6))
    with pytest.raises(Unavailable):  # the hold is over, but the store refuses the notice
        reporting.judged("DB", bad, T0 + timedelta(minutes=7))
    assert sent == [] and reporting.state == Degradation(pending=T0 + timedelta(minutes=5))  # still to be said
    refuse["now"] = False
    reporting.judged("API", bad, T0 + timedelta(minutes=8))
    assert sent == [DEGRADED] and reporting.state.announced
    reporting.judged("DB", bad, T0 + timedelta(minutes=9))
    assert sent == [DEGRADED]
    reporting.resume(TimelineEntry(at=T0, kind=DEGRADED))  # a new term: every monitor judged anew
    reporting.judged("API", verdict(3), T0 + timedelta(minutes=20))
    reporting.judged("API", verdict(3), T0 + timedelta(minutes=30))
    assert sent == [DEGRADED]
    reporting.judged("DB", verdict(3), T0 + timedelta(minutes=31))
    reporting.judged("DB", verdict(3), T0 + timedelta(minutes=33))
    assert sent == [DEGRADED, RESTORED]


# ---------------------------------------------------------------- through the Watcher, on a real store


class Regions:
    """The regions' agents as the leader sees them: each round, each region counts what it saw and writes
    its reading ('x' failed, '.' passed, '?' cannot judge, ' ' wrote nothing) for every monitor."""

    def __init__(self, monitors: Sequence[HttpMonitor], wired: Wired, readings: MemoryReadings) -> None:
        self.monitors, self.wired, self.readings = monitors, wired, readings
        self.last: dict[tuple[str, str], RegionReading] = {}

    async def round(self, seen: Mapping[str, str]) -> None:
        now = self.wired.clock.now()
        for monitor in self.monitors:
            for region, mark in seen.items():
                if mark == " ":
                    continue
                status = {"x": MAJ, ".": OK, "?": UNK}[mark]
                result = CheckResult(monitor=monitor.name, at=now, readable=True,
                                     components=(ComponentReading(monitor.name, status, status.value),))
                reading = count(self.last.get((monitor.name, region)), result, region)
                self.last[(monitor.name, region)] = reading
                self.readings.write_reading(monitor.name, reading)
            await self.wired.watcher.poll(monitor)
        await self.wired.sender.deliver_all()
        self.wired.clock.advance(60)


def regional_rig(tmp_path: Path, names: Sequence[str], routes: Sequence[Route]
                 ) -> tuple[Regions, RecordingAdapter, Wired, MemoryReadings]:
    monitors = [HttpMonitor(name=name, url=f"https://{name.lower()}.example/health", routes=(route,),
                            policy=Policy(failures_before_alert=2, successes_before_recovery=2))
                for name, route in zip(names, routes, strict=True)]
    chat = RecordingAdapter()
    readings = MemoryReadings()
    wired = wire(tmp_path / "dw.db", monitors, clock=FakeClock(T0), adapters={"chat": chat},
                 quorum=Quorum(regions=THREE, confirm=2), readings=readings)
    return Regions(monitors, wired, readings), chat, wired, readings


@pytest.mark.anyio
async def test_the_alert_names_the_regions_and_a_third_joining_edits_it(tmp_path: Path) -> None:
    regions, chat, _, _ = regional_rig(tmp_path, ["API"], [Route("chat", "#ops")])
    for marks in ["...", "...", "x..", "x..", "x..", "xx.", "xx."]:  # one region alone: no alert
        await regions.round(dict(zip(THREE, marks, strict=True)))
    assert [(c.op, c.kind) for c in chat.calls] == [("post", AlertKind.OPENED)]
    opened = chat.calls[0].alert
    assert opened.regions is not None and wording.affected(opened) == (
        "down from eu-west and us-east; up from ap-south")
    assert "down from eu-west and us-east; up from ap-south" in render_alert(opened)

    await regions.round({EU: "x", US: "x", AP: "x"})  # ap-south joins: no new alert, the message edited
    await regions.round({EU: "x", US: "x", AP: "x"})  # nothing moved: nothing sent
    assert [(c.op, c.kind) for c in chat.calls] == [("post", AlertKind.OPENED), ("edit", AlertKind.UPDATED)]
    edit = chat.calls[1]
    assert edit.ref == "m1" and edit.mention is None
    assert wording.affected(edit.alert) == "down from eu-west, us-east and ap-south"

    for _ in range(3):  # every region up once (the quorum not settled yet: edited to say so), then resolved
        await regions.round({EU: ".", US: ".", AP: "."})
    assert [(c.op, c.kind) for c in chat.calls][2:] == [
        ("edit", AlertKind.UPDATED), ("edit", AlertKind.RESOLVED), ("reply", AlertKind.RESOLVED)]
    assert wording.affected(chat.calls[2].alert) == "up from eu-west, us-east and ap-south"


@pytest.mark.anyio
async def test_too_few_regions_is_one_notice_to_every_channel_never_an_outage_and_one_restore(
        tmp_path: Path) -> None:
    routes = [Route("chat", "#ops", mention="@oncall"), Route("chat", "#db")]
    regions, chat, wired, _ = regional_rig(tmp_path, ["API", "DB"], routes)
    for _ in range(2):
        await regions.round({EU: ".", US: ".", AP: "."})
    for _ in range(12):  # us-east and ap-south fall silent; eu-west sees both down meanwhile
        await regions.round({EU: "x", US: " ", AP: " "})
    assert [(c.op, c.kind, c.channel, c.mention) for c in chat.calls] == [
        ("post", DEGRADED, "#ops", None), ("post", DEGRADED, "#db", None)]
    notice = chat.calls[0].alert
    assert wording.notice_detail(notice) == (
        "monitoring degraded: only 1 of 3 regions reporting (nothing from us-east and ap-south)")
    assert wired.store.open_incidents() == []  # never an outage
    # the leader changes while it is degraded: its successor neither posts it again nor forgets to restore it
    wired.watcher.reload()
    for _ in range(3):
        await regions.round({EU: "x", US: " ", AP: " "})
    assert len(chat.calls) == 2
    for _ in range(6):
        await regions.round({EU: ".", US: ".", AP: "."})
    assert sorted((c.ref, c.op, c.kind) for c in chat.calls[2:]) == [
        ("m1", "edit", RESTORED), ("m1", "reply", RESTORED), ("m2", "edit", RESTORED), ("m2", "reply", RESTORED)]
    assert wording.change_line(chat.calls[2].alert).startswith("monitoring restored: 3 of 3 regions reporting")


@pytest.mark.anyio
async def test_a_region_seeing_blind_counts_as_not_reporting(tmp_path: Path) -> None:
    """Two regions that cannot judge (their own network is down) and one seeing the target down: degraded,
    said once, no outage."""
    regions, chat, wired, _ = regional_rig(tmp_path, ["API"], [Route("chat", "#ops")])
    for marks in ["...", "...", "x??", "x??", "x??", "x??", "x??", "x??"]:
        await regions.round(dict(zip(THREE, marks, strict=True)))
    assert [(c.op, c.kind) for c in chat.calls] == [("post", DEGRADED)]
    assert wording.notice_detail(chat.calls[0].alert) == (
        "monitoring degraded: only 1 of 3 regions reporting (nothing from us-east and ap-south)")
    assert wired.store.open_incidents() == []


def test_the_regions_change_kinds_are_worded() -> None:
    degraded = Change(ChangeKind.REGIONS_DEGRADED, affected=0, total=3)
    assert wording.change_part(degraded) == "monitoring degraded: none of 3 regions reporting"
    restored = Change(ChangeKind.REGIONS_RESTORED, affected=2, total=3)
    assert wording.change_part(restored) == "monitoring restored: 2 of 3 regions reporting"
