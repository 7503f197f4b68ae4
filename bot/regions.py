"""Regions: HTTP and TCP monitors probed from several places, and the quorum that decides from their results.

A process with `region = "eu-west"` is that region's agent: it runs the monitors' own checks and writes one
`RegionReading` per monitor per check (its latest result with the region's consecutive failures and
successes: each region applies the failure and recovery thresholds itself). The leader reads the regions'
latest readings and `decide`s: down when at least `confirm` fresh regions have failed `failures_needed`
times in a row, up when too few regions could still make such a quorum, and otherwise not yet known either
way (the engine then keeps the status it has, which is where the recovery threshold's patience comes from).
A stale region does not vote, a region that cannot judge (its own network is down) does not vote, and too
few voters is "monitoring degraded", never an outage. `verdict_result` turns a verdict into the CheckResult
the engine steps on, with thresholds of 1 (`quorum_policy`): the regions already counted.

Too few voters on every regional monitor at once is said once for the whole cluster (`Coverage`, `Degradation`,
`degradation`: one "monitoring degraded: only N of M regions reporting" notice, one restore), with a hold on
both transitions so that a region on the edge of staleness or blindness cannot make it flap.

The decision, the counting and the wording of a verdict are pure; `RegionAgent` is the region's poll, its
I/O all injected (the check, the readings store, the clock).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot import wording
from bot.checks import KINDS, CheckKind, kind_of, run_check
from bot.checks.client import ProbeClient
from bot.clock import Clock
from bot.config import Monitor, Policy
from bot.model import (
    Alert,
    AlertKind,
    Change,
    ChangedComponent,
    ChangeKind,
    CheckResult,
    ComponentReading,
    RegionReading,
    Status,
    TimelineEntry,
    Verdict,
    worst,
)
from bot.overload import OverloadGate
from bot.reachability import Reachability
from bot.store import Unavailable

Check = Callable[..., Awaitable[CheckResult]]

# ---------------------------------------------------------------- the quorum (pure)


def default_confirm(n_regions: int) -> int:
    """How many regions must agree by default: 2 where there are 2 or more (one region's own path failing is
    never an outage), else 1."""
    return 2 if n_regions >= 2 else 1


def fresh_for(monitor: Monitor) -> timedelta:
    """How old a region's reading may be and still vote: two of the monitor's intervals and one timeout (a
    reading is stamped when its check starts and written when it ends; one missed or skipped poll is no
    reason to stop trusting a region, two are)."""
    return timedelta(seconds=2 * monitor.interval + monitor.timeout)


def quorum_policy(policy: Policy) -> Policy:
    """The policy the engine applies to a verdict: thresholds of 1, since every region already applied the
    monitor's own (a verdict is down only once `confirm` regions each failed `failures_before_alert` times,
    and up only once too few could still agree on it). Flap detection and reminders stay as configured."""
    return replace(policy, failures_before_alert=1, successes_before_recovery=1)


def decide(
    readings: Mapping[str, RegionReading],
    *,
    regions: Sequence[str],
    now: datetime,
    fresh_for: timedelta,
    confirm: int,
    failures_needed: int,
    successes_needed: int,
) -> Verdict:
    """The quorum's verdict on one monitor from each region's latest reading (regions not in `regions` are
    ignored; a region without a reading is stale).

    - degraded (status UNKNOWN) when fewer than `confirm` regions are fresh and can judge: no outage can be
      confirmed, and none is declared;
    - an outage when at least `confirm` fresh regions have failed `failures_needed` times in a row: the worst
      status that `confirm` of them agree on (MAJOR for failed connections and bad answers, DEGRADED when
      some only see it slow);
    - OPERATIONAL when even counting the regions still unsettled (failing but not yet `failures_needed`
      times, or recovering but not yet `successes_needed` times) fewer than `confirm` could see it down;
    - otherwise UNKNOWN, not degraded: the quorum is not settled either way, and the engine, for which an
      unknown observation changes nothing, keeps its status.
    """
    if confirm < 1:
        raise ValueError(f"confirm must be at least 1 (got {confirm})")
    needed_failures, needed_successes = max(1, failures_needed), max(1, successes_needed)
    down: list[str] = []
    up: list[str] = []
    stale: list[str] = []
    unknown: list[str] = []
    confirmed: list[Status] = []  # the statuses of the regions that have failed enough times
    unsettled = 0
    latencies: list[float] = []
    for region in regions:
        reading = readings.get(region)
        if reading is None or now - reading.at > fresh_for:
            stale.append(region)
            continue
        if reading.status is Status.UNKNOWN:
            unknown.append(region)
            continue
        if reading.latency_ms is not None:
            latencies.append(reading.latency_ms)
        if reading.status.is_outage:
            down.append(region)
            if reading.failures >= needed_failures:
                confirmed.append(reading.status)
            else:
                unsettled += 1
        else:
            up.append(region)
            if reading.successes < needed_successes:
                unsettled += 1
    voters = len(down) + len(up)
    if voters < confirm:
        status = Status.UNKNOWN
    elif len(confirmed) >= confirm:
        status = sorted(confirmed, key=lambda s: s.rank, reverse=True)[confirm - 1]
    elif len(confirmed) + unsettled < confirm:
        status = Status.OPERATIONAL
    else:
        status = Status.UNKNOWN
    return Verdict(
        status=status,
        down=tuple(down),
        up=tuple(up),
        stale=tuple(stale),
        unknown=tuple(unknown),
        reporting=voters,
        expected=len(regions),
        degraded=voters < confirm,
        latency_ms=statistics.median(latencies) if latencies else None,
    )


@dataclass(frozen=True)
class Quorum:
    """The regions expected to report and how many must agree (config `confirm_regions`; None: 2 where
    there are 2 or more). Without a configured list, the regions expected are the ones that have written a
    reading of the monitor (rows stay until removed, so a region that dies is still expected: stale)."""

    regions: tuple[str, ...] = ()
    confirm: int | None = None

    def judge(self, monitor: Monitor, readings: Mapping[str, RegionReading], now: datetime) -> Verdict:
        """`decide` with the monitor's own thresholds and freshness."""
        regions = self.regions or tuple(sorted(readings))
        return decide(
            readings, regions=regions, now=now, fresh_for=fresh_for(monitor),
            confirm=self.confirm or default_confirm(len(regions)),
            failures_needed=monitor.policy.failures_before_alert,
            successes_needed=monitor.policy.successes_before_recovery,
        )


def verdict_result(monitor: str, verdict: Verdict, at: datetime) -> CheckResult:
    """The CheckResult the leader's engine steps on for a regional monitor: one component (the monitor, as
    an HTTP/TCP check has) with the verdict's status and the regions line as its detail. Degraded and
    unsettled verdicts are an UNKNOWN reading, which changes nothing in the engine: never an outage."""
    reading = ComponentReading(name=monitor, status=verdict.status, detail=wording.verdict_detail(verdict))
    return CheckResult(monitor=monitor, at=at, readable=True, components=(reading,),
                       latency_ms=verdict.latency_ms)


# ---------------------------------------------------------------- the cluster's coverage (pure)

NOTICE_ID = "downwatch#regions"  # every degraded/restored notice: the last one's kind says whether one is open


@dataclass(frozen=True)
class Coverage:
    """How the regions report across the regional monitors' latest verdicts. `degraded`: every one of those
    verdicts is (no outage can be confirmed anywhere); the counts and the silent regions are the best-covered
    monitor's, so that "only N of M" is what the quorum itself saw."""

    degraded: bool
    reporting: int
    expected: int
    silent: tuple[str, ...] = ()  # regions without a vote there: stale, or unable to judge


def coverage(verdicts: Iterable[Verdict]) -> Coverage | None:
    """The coverage of these verdicts (None without any)."""
    verdicts = tuple(verdicts)
    if not verdicts:
        return None
    best = max(verdicts, key=lambda v: v.reporting)  # the first of the best: verdicts in the monitors' order
    return Coverage(degraded=all(v.degraded for v in verdicts), reporting=best.reporting, expected=best.expected,
                    silent=best.stale + best.unknown)


@dataclass(frozen=True)
class Degradation:
    """Whether a "monitoring degraded" notice is out (`since`: when its coverage fell) and, while the coverage
    disagrees with that, since when it has (`pending`: the hold counts from there)."""

    since: datetime | None = None
    pending: datetime | None = None

    @property
    def announced(self) -> bool:
        return self.since is not None


def degradation(prev: Degradation, cover: Coverage | None, now: datetime, *,
                hold: timedelta) -> tuple[Degradation, Alert | None]:
    """The next state and the notice to send, if any: "monitoring degraded" once the coverage has been
    degraded for `hold`, "monitoring restored" once it has been enough for `hold` (a coverage that changes
    back within the hold resets it). No coverage (not every monitor judged yet) changes nothing."""
    if cover is None:
        return prev, None
    if cover.degraded == prev.announced:
        return (replace(prev, pending=None) if prev.pending is not None else prev), None
    pending = prev.pending or now
    if now - pending < hold:
        return replace(prev, pending=pending), None
    if cover.degraded:
        change = Change(ChangeKind.REGIONS_DEGRADED, affected=cover.reporting, total=cover.expected,
                        components=tuple(ChangedComponent(r, Status.UNKNOWN) for r in cover.silent))
        return Degradation(since=pending), _regions_notice(AlertKind.REGIONS_DEGRADED, now, pending, change)
    since = prev.since or pending
    change = Change(ChangeKind.REGIONS_RESTORED, affected=cover.reporting, total=cover.expected,
                    duration=now - since)
    return Degradation(), _regions_notice(AlertKind.REGIONS_RESTORED, now, since, change)


def _regions_notice(kind: AlertKind, now: datetime, since: datetime, change: Change) -> Alert:
    return Alert(kind=kind, incident_id=NOTICE_ID, monitor="downwatch", severity=Status.UNKNOWN, at=now,
                 started_at=since, resolved_at=now if kind is AlertKind.REGIONS_RESTORED else None,
                 changes=(change,), buttons=False)


def notice_hold(monitors: Iterable[Monitor]) -> timedelta:
    """How long the coverage must hold before the notice moves: two intervals of the slowest regional monitor
    (on top of the freshness window a region takes to go stale: a region missing one poll says nothing)."""
    return timedelta(seconds=2 * max((m.interval for m in monitors), default=60.0))


def resumed(last: TimelineEntry | None) -> Degradation:
    """The state a new leader starts from: a notice is out when the last one said degraded (its time)."""
    if last is not None and last.kind is AlertKind.REGIONS_DEGRADED:
        return Degradation(since=last.at)
    return Degradation()


class Reporting:
    """The leader's view of the cluster's coverage: takes each regional monitor's verdict as it is made and
    notifies a degraded/restored notice when `degradation` says so. A notice that cannot be committed (the
    store refused it) is tried again with the next verdict: the state moves only once it is."""

    def __init__(self, *, monitors: Iterable[str], hold: timedelta, notify: Callable[[Alert], None],
                 log: logging.Logger | None = None) -> None:
        self._monitors = tuple(monitors)
        self._hold = hold
        self._notify = notify
        self._log = log or logging.getLogger("downwatch.regions")
        self._verdicts: dict[str, Verdict] = {}
        self._degraded = 0  # how many of `_verdicts` are degraded: judging a verdict stays O(1), not O(monitors)
        self.state = Degradation()

    def resume(self, last: TimelineEntry | None) -> None:
        """Start a term: the notice state as the store has it; every monitor is to be judged again."""
        self.state = resumed(last)
        self._verdicts = {}
        self._degraded = 0

    def judged(self, monitor: str, verdict: Verdict, now: datetime) -> None:
        """`monitor`'s quorum gave `verdict`: notify if the coverage of all of them says so."""
        before = self._verdicts.get(monitor)
        self._verdicts[monitor] = verdict
        self._degraded += verdict.degraded - (before is not None and before.degraded)
        cover = None
        if len(self._verdicts) == len(self._monitors):  # every regional monitor judged in this term
            # Whether all are degraded is all the state machine reads; the counts a notice words are the
            # best-covered monitor's, looked for (over every verdict) only when a notice goes out.
            cover = Coverage(degraded=self._degraded == len(self._monitors), reporting=0, expected=0)
        state, alert = degradation(self.state, cover, now, hold=self._hold)
        if alert is not None:
            state, alert = degradation(self.state, coverage(self._verdicts[m] for m in self._monitors), now,
                                       hold=self._hold)
        if alert is not None:
            self._notify(alert)  # raises when the store refuses: the state stays, the next verdict tries again
            line = wording.change_line(alert)
            if alert.kind is AlertKind.REGIONS_DEGRADED:
                self._log.error("%s", line)
            else:
                self._log.info("%s", line)
        self.state = state


# ---------------------------------------------------------------- a region's counting (pure)


def observed(result: CheckResult) -> Status:
    """What one check saw: the worst of its readings; UNKNOWN when the source was unreadable or had none."""
    if not result.readable or not result.components:
        return Status.UNKNOWN
    return worst(tuple(r.status for r in result.components))


def count(prev: RegionReading | None, result: CheckResult, region: str) -> RegionReading:
    """A region's new reading: its previous one's counters moved by one check. A failure (an outage status,
    slowness included) adds to `failures` and clears `successes`, a success the other way round; an unknown
    result (the region cannot judge) moves neither, as the engine ignores an unknown observation."""
    if prev is not None and prev.region != region:
        raise ValueError(f"a reading of {prev.region} cannot be counted on in {region}")
    status = observed(result)
    failures = prev.failures if prev is not None else 0
    successes = prev.successes if prev is not None else 0
    if status.is_outage:
        failures, successes = failures + 1, 0
    elif status is not Status.UNKNOWN:
        failures, successes = 0, successes + 1
    worst_reading = max(result.components, key=lambda r: r.status.rank, default=None)
    detail = (worst_reading.detail if worst_reading is not None and result.readable else "") or result.detail
    return RegionReading(region=region, at=result.at, status=status, failures=failures, successes=successes,
                         detail=detail, latency_ms=result.latency_ms)


# ---------------------------------------------------------------- where the readings live


class Readings(Protocol):
    """The two store calls regions need (the Store implements them on the `region_readings` table, one row
    per monitor and region: the latest reading replaces the previous one). Awaited: they are on every check."""

    async def awrite_reading(self, monitor: str, reading: RegionReading) -> None:
        """Record `reading` as its region's latest for `monitor`."""
        ...

    async def areadings(self, monitor: str) -> dict[str, RegionReading]:
        """Every region's latest reading for `monitor`, by region."""
        ...


class MemoryReadings:
    """Readings kept in a dict: tests and a single process without a shared database."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, RegionReading]] = {}

    def write_reading(self, monitor: str, reading: RegionReading) -> None:
        self._rows.setdefault(monitor, {})[reading.region] = reading

    def readings(self, monitor: str) -> dict[str, RegionReading]:
        return dict(self._rows.get(monitor, {}))

    async def awrite_reading(self, monitor: str, reading: RegionReading) -> None:
        self.write_reading(monitor, reading)

    async def areadings(self, monitor: str) -> dict[str, RegionReading]:
        return self.readings(monitor)


# ---------------------------------------------------------------- the region's agent


def regional(monitor: Monitor, kinds: Sequence[CheckKind] = KINDS) -> bool:
    """Whether `monitor` is probed from every region: the kinds whose results are probes (http, tcp); a
    status page says the same thing from everywhere."""
    return kind_of(monitor, kinds).records_probes


def _ignore(alert: Alert) -> None:
    """A region does not deliver its network notices: its unknown readings say it, in the leader's verdict."""


class RegionAgent:
    """One region's probes: runs a regional monitor's check from here, counts, and writes the reading."""

    def __init__(
        self,
        *,
        region: str,
        monitors: Iterable[Monitor],
        readings: Readings,
        client: ProbeClient,
        clock: Clock,
        check: Check = run_check,
        sight: Reachability | None = None,
        gate: OverloadGate | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        """`monitors`: the regional monitors this region probes. `sight` defaults to "blind when every one
        of them fails at once" (pass the one with the control target); its notices are not delivered from a
        region. `gate`: the standard in-flight limit."""
        self.region = region
        self._monitors = {m.name: m for m in monitors}
        self._readings = readings
        self._client = client
        self._clock = clock
        self._check = check
        self._log = log or logging.getLogger("downwatch.regions")
        self._gate = gate or OverloadGate(clock=clock, log=self._log)
        self._sight = sight or Reachability(monitors=tuple(self._monitors), clock=clock, notify=_ignore,
                                            log=self._log)
        self._last: dict[str, RegionReading] = {}
        self._unwritten = ""  # why the last write failed ("" when it did not): logged once, not every poll

    async def poll(self, monitor: Monitor) -> RegionReading | None:
        """Check `monitor` from this region and write its reading (None: the probe engine is full and this
        poll was skipped). A check that got no answer while this region cannot see the network is written
        as unknown: the region's own failure is not a vote against the target. While the store cannot be
        written the counting goes on (logged once): the leader sees this region go stale meanwhile."""
        if not self._gate.enter():
            return None
        try:
            result = await self._check(monitor, client=self._client, now=self._clock.now)
        finally:
            self._gate.leave()
        if not result.reached:
            if not await self._sight.can_see(monitor.name):
                result = CheckResult(monitor=monitor.name, at=result.at, readable=False, reached=False,
                                     detail=wording.REGION_BLIND)
        else:
            self._sight.answered(monitor.name)
        reading = count(await self._previous(monitor, result.at), result, self.region)
        self._last[monitor.name] = reading  # counted even when it cannot be written: the next write is right
        try:
            await self._readings.awrite_reading(monitor.name, reading)
        except Unavailable as exc:
            if not self._unwritten:
                self._log.warning("%s: cannot write this region's readings (%s); checks go on",
                                  self.region, exc)
            self._unwritten = str(exc)
            return reading
        if self._unwritten:
            self._log.info("%s: this region's readings are written again", self.region)
            self._unwritten = ""
        return reading

    async def _previous(self, monitor: Monitor, at: datetime) -> RegionReading | None:
        """This region's last reading of `monitor`: the one it wrote, or after a restart the stored one while
        it is fresh (a quick restart keeps the counts; an old reading starts them again)."""
        last = self._last.get(monitor.name)
        if last is not None:
            return last
        try:
            stored = (await self._readings.areadings(monitor.name)).get(self.region)
        except Unavailable:
            return None  # counted anew
        if stored is not None and at - stored.at <= fresh_for(monitor):
            return stored
        return None
