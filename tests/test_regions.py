"""Regions (issue 14): the quorum as a table, a region's counting, the verdict as the engine sees it, its
wording, and region agents running the real checks against loopback targets. A fake clock; no sleeps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import wording
from bot.checks import run_check
from bot.checks.client import ProbeClient
from bot.checks.http import HttpMonitor
from bot.checks.tcp import TcpMonitor
from bot.clock import FakeClock
from bot.codec import encode, load
from bot.config import Monitor, Policy
from bot.engine import MonitorState, step
from bot.model import AlertKind, CheckResult, ComponentReading, RegionReading, Status, Verdict
from bot.reachability import Reachability
from bot.regions import (
    MemoryReadings,
    Quorum,
    RegionAgent,
    count,
    decide,
    default_confirm,
    fresh_for,
    quorum_policy,
    regional,
    verdict_result,
)
from bot.store import Unavailable
from tests.loopback import LoopbackServer, closed_port

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OK, DEG, MAJ, UNK = Status.OPERATIONAL, Status.DEGRADED, Status.MAJOR, Status.UNKNOWN
EU, US, AP = "eu-west", "us-east", "ap-south"
THREE = (EU, US, AP)
FRESH = timedelta(seconds=130)  # fresh_for of a monitor at 60 s with a 10 s timeout


def up(successes: int = 2, *, age: float = 0) -> tuple[Status, int, int, float]:
    return OK, 0, successes, age


def down(failures: int = 2, *, age: float = 0, status: Status = MAJ) -> tuple[Status, int, int, float]:
    return status, failures, 0, age


def blind(failures: int = 0) -> tuple[Status, int, int, float]:
    """The region's own network is down: unknown, its counters kept."""
    return UNK, failures, 0, 0


def readings(spec: Mapping[str, tuple[Status, int, int, float]]) -> dict[str, RegionReading]:
    return {region: RegionReading(region=region, at=T0 - timedelta(seconds=age), status=status,
                                  failures=failures, successes=successes)
            for region, (status, failures, successes, age) in spec.items()}


# ---------------------------------------------------------------- the quorum, as a table


# Each row: the regions' readings (thresholds: 2 failures, 2 successes), the configured regions, confirm,
# then the verdict: (status, degraded, down, up, unknown, stale, reporting).
QUORUM = [
    pytest.param({EU: up(), US: up(), AP: up()}, THREE, 2,
                 (OK, False, (), THREE, (), (), 3), id="3 of 3 up"),
    pytest.param({EU: down(), US: up(), AP: up()}, THREE, 2,
                 (OK, False, (EU,), (US, AP), (), (), 3), id="1 of 3 down: no outage"),
    pytest.param({EU: down(), US: down(), AP: up()}, THREE, 2,
                 (MAJ, False, (EU, US), (AP,), (), (), 3), id="2 of 3 down: outage"),
    pytest.param({EU: down(), US: down(), AP: down()}, THREE, 2,
                 (MAJ, False, THREE, (), (), (), 3), id="3 of 3 down: outage"),
    pytest.param({EU: down(), US: down(), AP: up()}, THREE, 3,
                 (OK, False, (EU, US), (AP,), (), (), 3), id="2 of 3 down, 3 to confirm: no outage"),
    pytest.param({EU: down(), US: down(), AP: down()}, THREE, 3,
                 (MAJ, False, THREE, (), (), (), 3), id="3 of 3 down, 3 to confirm: outage"),
    # freshness: a stale region does not vote
    pytest.param({EU: down(), US: down(age=131), AP: up()}, THREE, 2,
                 (OK, False, (EU,), (AP,), (), (US,), 2), id="2 down but one stale: no outage"),
    pytest.param({EU: down(), US: down(age=130), AP: up()}, THREE, 2,
                 (MAJ, False, (EU, US), (AP,), (), (), 3), id="fresh up to the limit itself"),
    pytest.param({EU: down(), US: down(), AP: up(age=3600)}, THREE, 2,
                 (MAJ, False, (EU, US), (), (), (AP,), 2), id="2 down, the third stale: outage"),
    pytest.param({EU: down(), US: down()}, THREE, 2,
                 (MAJ, False, (EU, US), (), (), (AP,), 2), id="a region never heard from is stale"),
    pytest.param({EU: down(), US: down(age=-5), AP: up()}, THREE, 2,
                 (MAJ, False, (EU, US), (AP,), (), (), 3), id="a clock a little ahead is fresh"),
    # a region that cannot judge (its own network is down) does not vote down
    pytest.param({EU: down(), US: blind(failures=7), AP: up()}, THREE, 2,
                 (OK, False, (EU,), (AP,), (US,), (), 2), id="unknown region does not vote down"),
    pytest.param({EU: down(), US: blind(), AP: down()}, THREE, 2,
                 (MAJ, False, (EU, AP), (), (US,), (), 2), id="2 down and 1 unknown: outage"),
    # too few voters: degraded, never an outage
    pytest.param({EU: down(), US: down(age=600), AP: down(age=600)}, THREE, 2,
                 (UNK, True, (EU,), (), (), (US, AP), 1), id="fewer fresh than confirm: degraded"),
    pytest.param({EU: down(), US: blind(), AP: down(age=600)}, THREE, 2,
                 (UNK, True, (EU,), (), (US,), (AP,), 1), id="fewer voting than confirm: degraded"),
    pytest.param({}, THREE, 2, (UNK, True, (), (), (), THREE, 0), id="no region reporting: degraded"),
    pytest.param({EU: up(), US: up(age=600), AP: up(age=600)}, THREE, 2,
                 (UNK, True, (), (EU,), (), (US, AP), 1), id="one fresh region up: still degraded"),
    # thresholds: each region's own, the quorum waits for them
    pytest.param({EU: down(1), US: down(1), AP: up()}, THREE, 2,
                 (UNK, False, (EU, US), (AP,), (), (), 3), id="2 failing once: not settled"),
    pytest.param({EU: down(2), US: down(1), AP: up()}, THREE, 2,
                 (UNK, False, (EU, US), (AP,), (), (), 3), id="1 confirmed, 1 failing once: not settled"),
    pytest.param({EU: down(1), US: up(), AP: up()}, THREE, 2,
                 (OK, False, (EU,), (US, AP), (), (), 3), id="1 failing once: up"),
    pytest.param({EU: down(5), US: up(1), AP: up()}, THREE, 2,
                 (UNK, False, (EU,), (US, AP), (), (), 3), id="1 confirmed, 1 up once: not settled"),
    pytest.param({EU: up(1), US: up(1), AP: up()}, THREE, 2,
                 (UNK, False, (), THREE, (), (), 3), id="2 recovering: not settled"),
    pytest.param({EU: up(2), US: down(9), AP: up()}, THREE, 2,
                 (OK, False, (US,), (EU, AP), (), (), 3), id="1 recovered, 1 still down: up"),
    # severity: the worst that `confirm` regions agree on
    pytest.param({EU: down(status=DEG), US: down(), AP: up()}, THREE, 2,
                 (DEG, False, (EU, US), (AP,), (), (), 3), id="slow in one, down in another: degraded"),
    pytest.param({EU: down(status=DEG), US: down(), AP: down()}, THREE, 2,
                 (MAJ, False, THREE, (), (), (), 3), id="down in two, slow in one: major"),
    # configuration
    pytest.param({EU: down(), US: down(), "sa-east": down()}, (EU, US, AP), 2,
                 (MAJ, False, (EU, US), (), (), (AP,), 2), id="a region not configured is ignored"),
    pytest.param({US: down(), EU: down(), AP: up()}, (AP, US, EU), 2,
                 (MAJ, False, (US, EU), (AP,), (), (), 3), id="regions in the configured order"),
    pytest.param({EU: down(), US: up()}, (EU, US), 2,
                 (OK, False, (EU,), (US,), (), (), 2), id="2 regions, 1 down: no outage"),
    pytest.param({EU: down()}, (EU,), 1, (MAJ, False, (EU,), (), (), (), 1), id="one region only: down"),
    pytest.param({EU: up()}, (EU,), 1, (OK, False, (), (EU,), (), (), 1), id="one region only: up"),
    pytest.param({EU: down(1)}, (EU,), 1, (UNK, False, (EU,), (), (), (), 1),
                 id="one region only: failing once"),
    pytest.param({EU: down(age=600)}, (EU,), 1, (UNK, True, (), (), (), (EU,), 0),
                 id="one region only: stale"),
    pytest.param({EU: blind()}, (EU,), 1, (UNK, True, (), (), (EU,), (), 0), id="one region only: blind"),
]


@pytest.mark.parametrize(("spec", "regions", "confirm", "expected"), QUORUM)
def test_quorum(spec: Mapping[str, tuple[Status, int, int, float]], regions: tuple[str, ...], confirm: int,
                expected: tuple[object, ...]) -> None:
    verdict = decide(readings(spec), regions=regions, now=T0, fresh_for=FRESH, confirm=confirm,
                     failures_needed=2, successes_needed=2)
    assert (verdict.status, verdict.degraded, verdict.down, verdict.up, verdict.unknown, verdict.stale,
            verdict.reporting) == expected
    assert verdict.expected == len(regions)
    assert not (verdict.degraded and verdict.status is not UNK)  # degraded is never an outage


def test_confirm_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        decide({}, regions=THREE, now=T0, fresh_for=FRESH, confirm=0, failures_needed=2, successes_needed=2)


@pytest.mark.parametrize(("n", "confirm"), [(0, 1), (1, 1), (2, 2), (3, 2), (5, 2)])
def test_default_confirm(n: int, confirm: int) -> None:
    assert default_confirm(n) == confirm


def test_latency_is_the_median_of_the_fresh_voters() -> None:
    rows = readings({EU: up(), US: down(), AP: up(age=3600), "sa-east": up()})
    for region, latency in ((EU, 40.0), (US, 90.0), (AP, 500.0), ("sa-east", 1.0)):  # ap-south: stale
        rows[region] = replace(rows[region], latency_ms=latency)
    verdict = decide(rows, regions=THREE, now=T0, fresh_for=FRESH, confirm=2, failures_needed=2,
                     successes_needed=2)
    assert verdict.latency_ms == 65.0


def test_without_a_configured_list_the_regions_that_wrote_are_expected() -> None:
    monitor = Monitor(name="API", url="https://api.example/health")
    quorum = Quorum()  # no `regions`, no `confirm_regions`
    three = readings({US: down(), EU: down(), AP: up(age=3600)})
    verdict = quorum.judge(monitor, three, T0)
    assert (verdict.status, verdict.down, verdict.stale, verdict.expected) == (MAJ, (EU, US), (AP,), 3)
    assert quorum.judge(monitor, readings({EU: down()}), T0).status is MAJ  # one region: confirm 1
    assert Quorum(confirm=2).judge(monitor, readings({EU: down()}), T0).degraded


def test_quorum_uses_the_monitors_thresholds_and_interval() -> None:
    monitor = Monitor(name="API", url="https://api.example/health", interval=30.0, timeout=5.0,
                      policy=Policy(failures_before_alert=3, successes_before_recovery=1))
    assert fresh_for(monitor) == timedelta(seconds=65)
    quorum = Quorum(regions=THREE, confirm=2)
    twice = readings({EU: down(2), US: down(2), AP: up()})
    assert quorum.judge(monitor, twice, T0).status is UNK  # 3 failures needed in each region
    thrice = readings({EU: down(3), US: down(3, age=65), AP: up(1)})
    assert quorum.judge(monitor, thrice, T0).status is MAJ
    assert quorum.judge(monitor, thrice, T0 + timedelta(seconds=1)).status is OK  # us-east went stale


# ---------------------------------------------------------------- a region's counting


def check_result(status: Status | None, at: datetime = T0, detail: str = "",
                 latency: float | None = 12.0) -> CheckResult:
    """One HTTP/TCP check's result: a status (None: unreadable, e.g. its key refused)."""
    if status is None:
        return CheckResult(monitor="API", at=at, readable=False, detail=detail or "HTTP 401: refused")
    reading = ComponentReading(name="API", status=status, detail=detail or status.value)
    return CheckResult(monitor="API", at=at, readable=True, components=(reading,), latency_ms=latency)


# (previous counters or None, what the check saw) → (status, failures, successes)
COUNTS = [
    pytest.param(None, OK, (OK, 0, 1), id="first success"),
    pytest.param(None, MAJ, (MAJ, 1, 0), id="first failure"),
    pytest.param((OK, 0, 7), OK, (OK, 0, 8), id="another success"),
    pytest.param((OK, 0, 7), MAJ, (MAJ, 1, 0), id="a failure clears the successes"),
    pytest.param((MAJ, 3, 0), MAJ, (MAJ, 4, 0), id="another failure"),
    pytest.param((MAJ, 3, 0), DEG, (DEG, 4, 0), id="slow counts as failing"),
    pytest.param((MAJ, 3, 0), OK, (OK, 0, 1), id="a success clears the failures"),
    pytest.param((MAJ, 3, 0), UNK, (UNK, 3, 0), id="unknown keeps the counts"),
    pytest.param((OK, 0, 2), None, (UNK, 0, 2), id="unreadable keeps the counts"),
    pytest.param((UNK, 3, 0), MAJ, (MAJ, 4, 0), id="counting resumes after unknown"),
]


@pytest.mark.parametrize(("prev", "seen", "expected"), COUNTS)
def test_count(prev: tuple[Status, int, int] | None, seen: Status | None,
               expected: tuple[Status, int, int]) -> None:
    before = None if prev is None else RegionReading(region=EU, at=T0 - timedelta(seconds=60), status=prev[0],
                                                      failures=prev[1], successes=prev[2])
    after = count(before, check_result(seen), EU)
    assert (after.status, after.failures, after.successes) == expected
    assert after.region == EU and after.at == T0


def test_count_keeps_the_detail_and_latency() -> None:
    failed = count(None, check_result(MAJ, detail="HTTP 503", latency=80.0), EU)
    assert (failed.detail, failed.latency_ms) == ("HTTP 503", 80.0)
    refused = count(None, check_result(None, detail="HTTP 401: the credentials were refused"), EU)
    assert (refused.status, refused.detail, refused.latency_ms) == (
        UNK, "HTTP 401: the credentials were refused", None)


def test_count_refuses_another_regions_reading() -> None:
    other = RegionReading(region=US, at=T0, status=OK, failures=0, successes=1)
    with pytest.raises(ValueError, match="us-east"):
        count(other, check_result(OK), EU)


# ---------------------------------------------------------------- verdicts through the engine


def test_verdict_result() -> None:
    verdict = Verdict(status=MAJ, down=(EU, US), up=(AP,), reporting=3, expected=3, latency_ms=42.0)
    result = verdict_result("API", verdict, T0)
    assert result.readable and result.reached and result.monitor == "API" and result.at == T0
    line = "down from eu-west and us-east; up from ap-south"
    assert result.components == (ComponentReading("API", MAJ, line),)
    assert result.latency_ms == 42.0
    degraded = Verdict(status=UNK, down=(EU,), stale=(US, AP), reporting=1, expected=3, degraded=True)
    (reading,) = verdict_result("API", degraded, T0).components
    assert reading.status is UNK
    assert reading.detail == ("monitoring degraded: only 1 of 3 regions reporting "
                              "(down from eu-west; no recent result from us-east and ap-south)")


def test_quorum_policy_keeps_all_but_the_thresholds() -> None:
    policy = Policy(failures_before_alert=3, successes_before_recovery=4, flap_threshold=2,
                    reminder_interval=600)
    assert quorum_policy(policy) == replace(policy, failures_before_alert=1, successes_before_recovery=1)


def run_regions(rounds: Mapping[str, str], *, regions: tuple[str, ...] = THREE, confirm: int = 2,
                policy: Policy | None = None) -> list[tuple[Verdict, list[AlertKind]]]:
    """Each region's checks as a string, one character a round ('x' failed, '.' passed, '?' could not judge,
    ' ' no check: the reading ages), one minute apart. Each round: every region counts its check, the
    leader decides and steps the engine on the verdict. Returns each round's verdict and alert kinds."""
    policy = policy or Policy()
    seen = {"x": MAJ, ".": OK, "?": UNK}
    last: dict[str, RegionReading] = {}
    state: MonitorState | None = None
    out: list[tuple[Verdict, list[AlertKind]]] = []
    length = max(len(s) for s in rounds.values())
    for i in range(length):
        now = T0 + timedelta(minutes=i)
        for region, checks in rounds.items():
            mark = checks[i] if i < len(checks) else " "
            if mark != " ":
                last[region] = count(last.get(region), check_result(seen[mark], at=now), region)
        verdict = decide(last, regions=regions, now=now, fresh_for=FRESH, confirm=confirm,
                         failures_needed=policy.failures_before_alert,
                         successes_needed=policy.successes_before_recovery)
        s = step(state, verdict_result("API", verdict, now), now, quorum_policy(policy))
        state = s.state
        out.append((verdict, [a.kind for a in s.alerts]))
    return out


def alerts(rounds: list[tuple[Verdict, list[AlertKind]]]) -> list[tuple[int, AlertKind]]:
    return [(i, kind) for i, (_, kinds) in enumerate(rounds) for kind in kinds]


SEQUENCES = [
    pytest.param({EU: "x.x.xx..xx.x.xxx.x.", US: "." * 20, AP: "." * 20}, [], id="one region flapping"),
    pytest.param({EU: "xxxxxxxxxxxxxxxxxxxx", US: "." * 20, AP: "." * 20}, [], id="one region down for good"),
    pytest.param({EU: "x.x.x.x.x.x.", US: ".x.x.x.x.x.x", AP: "." * 12}, [],
                 id="two regions failing out of step, never twice in a row"),
    pytest.param({EU: "xxxxxx", US: "..????", AP: "..??.."}, [], id="one down while the others go blind"),
    pytest.param({EU: "xxxxxx", US: "..    ", AP: "......"}, [], id="one down while another goes stale"),
    pytest.param({EU: "..xxxxx...", US: "..xxxxx...", AP: "." * 10},
                 [(3, AlertKind.OPENED), (8, AlertKind.RESOLVED)], id="two regions down, then up"),
    pytest.param({EU: "..xxxxx...", US: "..xxxxx...", AP: "..xxxxx..."},
                 [(3, AlertKind.OPENED), (8, AlertKind.RESOLVED)], id="three regions down, then up"),
    pytest.param({EU: "..xxxxxxxx", US: "..x.xxxxxx", AP: "." * 10}, [(5, AlertKind.OPENED)],
                 id="the second region confirms later"),
    pytest.param({EU: "..xxxxx.x.x.x.", US: "..xxxxxxxxxxxx", AP: "." * 14}, [(3, AlertKind.OPENED)],
                 id="down in two, then one of them flapping: no recovery while it is not settled up"),
    pytest.param({EU: "..xxxxxxxx", US: "..xxxx    ", AP: "......    "},
                 [(3, AlertKind.OPENED)], id="down, then too few fresh regions: degraded keeps it open"),
    pytest.param({EU: "..xxxxxxxx", US: "..xxxx    ", AP: "." * 10},
                 [(3, AlertKind.OPENED), (8, AlertKind.RESOLVED)],
                 id="down, then one of the two goes stale: 1 of 2 fresh regions is no quorum"),
]


@pytest.mark.parametrize(("rounds", "expected"), SEQUENCES)
def test_sequences(rounds: Mapping[str, str], expected: list[tuple[int, AlertKind]]) -> None:
    assert alerts(run_regions(rounds)) == expected


def test_regions_alert_when_one_machine_would() -> None:
    """With the same thresholds, two regions failing together open and resolve the incident on the same
    rounds as a single machine's engine seeing the same checks."""
    policy = Policy(failures_before_alert=3, successes_before_recovery=2)
    checks = "...xxxxx....x..."
    regional_rounds = run_regions({EU: checks, US: checks, AP: "." * len(checks)}, policy=policy)
    state: MonitorState | None = None
    single: list[tuple[int, AlertKind]] = []
    for i, mark in enumerate(checks):
        now = T0 + timedelta(minutes=i)
        s = step(state, check_result(MAJ if mark == "x" else OK, at=now), now, policy)
        state = s.state
        single += [(i, a.kind) for a in s.alerts]
    assert alerts(regional_rounds) == single == [(5, AlertKind.OPENED), (9, AlertKind.RESOLVED)]


def test_the_verdicts_along_a_regional_outage() -> None:
    rounds = run_regions({EU: "..xxx..", US: "..xxx..", AP: "......."})
    assert [v.status for v, _ in rounds] == [UNK, OK, UNK, MAJ, MAJ, UNK, OK]  # round 0: everyone once only
    assert wording.regions_line(rounds[3][0]) == "down from eu-west and us-east; up from ap-south"


def test_the_degraded_verdict_is_not_an_alert() -> None:
    rounds = run_regions({EU: "......", US: "..    ", AP: "..    "})
    assert alerts(rounds) == []
    verdict = rounds[-1][0]
    assert verdict.degraded and verdict.status is UNK and (verdict.reporting, verdict.expected) == (1, 3)


def test_a_verdict_survives_the_codec() -> None:
    """An Alert may carry the verdict to the outbox (JSON), the store keeps readings."""
    verdict = Verdict(status=MAJ, down=(EU, US), up=(AP,), stale=(), unknown=(), reporting=3, expected=3,
                      degraded=False, latency_ms=12.5)
    assert load(Verdict, encode(verdict)) == verdict
    reading = RegionReading(region=EU, at=T0, status=MAJ, failures=2, successes=0, detail="HTTP 503")
    assert load(RegionReading, encode(reading)) == reading


# ---------------------------------------------------------------- wording


LINES = [
    pytest.param(Verdict(status=MAJ, down=(EU, US), up=(AP,)),
                 "down from eu-west and us-east; up from ap-south", id="down and up"),
    pytest.param(Verdict(status=MAJ, down=THREE), "down from eu-west, us-east and ap-south", id="all down"),
    pytest.param(Verdict(status=OK, up=(EU,), stale=(US, AP)),
                 "up from eu-west; no recent result from us-east and ap-south", id="stale"),
    pytest.param(Verdict(status=OK, down=(EU,), up=(AP,), unknown=(US,)),
                 "down from eu-west; up from ap-south; unknown from us-east", id="unknown"),
    pytest.param(Verdict(status=UNK), "", id="no regions"),
]


@pytest.mark.parametrize(("verdict", "line"), LINES)
def test_regions_line(verdict: Verdict, line: str) -> None:
    assert wording.regions_line(verdict) == line


@pytest.mark.parametrize(("reporting", "expected", "line"), [
    (1, 3, "monitoring degraded: only 1 of 3 regions reporting"),
    (2, 5, "monitoring degraded: only 2 of 5 regions reporting"),
    (1, 1, "monitoring degraded: only 1 of 1 region reporting"),
    (0, 3, "monitoring degraded: none of 3 regions reporting"),
    (0, 1, "monitoring degraded: no region reporting"),
])
def test_degraded_line(reporting: int, expected: int, line: str) -> None:
    assert wording.degraded_line(reporting, expected) == line


def test_verdict_detail() -> None:
    assert wording.verdict_detail(Verdict(status=MAJ, down=(EU, US), up=(AP,))) == (
        "down from eu-west and us-east; up from ap-south")
    assert wording.verdict_detail(Verdict(status=UNK, reporting=0, expected=2, degraded=True)) == (
        "monitoring degraded: none of 2 regions reporting")


# ---------------------------------------------------------------- region agents, real checks on loopback


def test_http_and_tcp_are_regional() -> None:
    assert regional(HttpMonitor(name="API", url="https://api.example"))
    assert regional(TcpMonitor(name="db", url="tcp://db.internal:5432"))
    from bot.checks.statuspage import StatuspageMonitor
    assert not regional(StatuspageMonitor(name="OpenAI", url="https://status.openai.com"))


def seen_from(server: LoopbackServer, region: str) -> object:
    """A region's view of the target: the same monitor, its requests going to the path that plays that
    region's network (the loopback server answers each region as the test says)."""
    async def check(monitor: HttpMonitor, **options: object) -> CheckResult:
        view = replace(monitor, url=server.url_for(f"/{region}"))
        return await run_check(view, **options)  # type: ignore[arg-type]
    return check


class Leader:
    """The leader's side as the Watcher will do it: decide from the stored readings, step the engine."""

    def __init__(self, monitor: Monitor, store: MemoryReadings, quorum: Quorum) -> None:
        self.monitor, self.store, self.quorum = monitor, store, quorum
        self.state: MonitorState | None = None
        self.alerts: list[AlertKind] = []
        self.verdicts: list[Verdict] = []

    def decide(self, now: datetime) -> None:
        verdict = self.quorum.judge(self.monitor, self.store.readings(self.monitor.name), now)
        result = verdict_result(self.monitor.name, verdict, now)
        s = step(self.state, result, now, quorum_policy(self.monitor.policy))
        self.state = s.state
        self.alerts += [a.kind for a in s.alerts]
        self.verdicts.append(verdict)


async def run_rounds(agents: list[RegionAgent], leader: Leader, monitor: Monitor, clock: FakeClock,
                     n: int) -> None:
    for _ in range(n):
        for agent in agents:
            reading = await agent.poll(monitor)
            assert reading is not None and reading.region == agent.region
        leader.decide(clock.now())
        clock.advance(monitor.interval)


@pytest.mark.anyio
async def test_three_regions_one_failing_path_then_two(server: LoopbackServer, client: ProbeClient) -> None:
    """End to end in one process: three agents run the real HTTP check against a loopback target (each
    through its own path), write to the shared readings; the leader decides and steps the engine."""
    for region in THREE:
        server.reply(f"/{region}", b"ok")
    clock = FakeClock(T0)
    monitor = HttpMonitor(name="API", url="http://api.example/health", timeout=2.0)
    store = MemoryReadings()
    agents = [RegionAgent(region=region, monitors=[monitor], readings=store, client=client, clock=clock,
                          check=seen_from(server, region)) for region in THREE]  # type: ignore[arg-type]
    leader = Leader(monitor, store, Quorum(regions=THREE, confirm=default_confirm(3)))
    await run_rounds(agents, leader, monitor, clock, 3)
    server.reply(f"/{AP}", b"bad gateway", status=502)  # the path from ap-south fails
    await run_rounds(agents, leader, monitor, clock, 5)
    assert leader.alerts == []
    assert leader.verdicts[-1].down == (AP,) and leader.verdicts[-1].status is OK
    assert store.readings("API")[AP].failures == 5 and store.readings("API")[AP].detail == "HTTP 502"

    server.reply(f"/{EU}", b"bad gateway", status=503)  # now from eu-west too: an outage, confirmed
    await run_rounds(agents, leader, monitor, clock, 3)
    assert leader.alerts == [AlertKind.OPENED]
    assert leader.state is not None
    (component,) = leader.state.components
    assert component.status is MAJ
    assert component.detail == "down from eu-west and ap-south; up from us-east"

    server.reply(f"/{EU}", b"ok")
    server.reply(f"/{AP}", b"ok")
    await run_rounds(agents, leader, monitor, clock, 3)
    assert leader.alerts == [AlertKind.OPENED, AlertKind.RESOLVED]
    assert server.hits(f"/{US}") == 14


def agent_for(monitor: Monitor, store: MemoryReadings, client: ProbeClient, clock: FakeClock, *,
              sees: bool) -> tuple[RegionAgent, Reachability]:
    """eu-west's agent, whose control target answers (`sees`) or not (its own network is down)."""
    async def control() -> bool:
        return sees

    sight = Reachability(monitors=[monitor.name], clock=clock, notify=lambda alert: None, control=control)
    agent = RegionAgent(region=EU, monitors=[monitor], readings=store, client=client, clock=clock,
                        sight=sight)
    return agent, sight


@pytest.mark.anyio
async def test_a_blind_region_reports_unknown(client: ProbeClient) -> None:
    """A region whose own network is down (its control target fails too) writes unknown, keeping its
    counts; the other regions' quorum goes on without it."""
    clock = FakeClock(T0)
    monitor = TcpMonitor(name="db", url=f"tcp://127.0.0.1:{closed_port()}", timeout=2.0)
    store = MemoryReadings()
    store.write_reading("db", RegionReading(region=EU, at=T0 - timedelta(seconds=60), status=MAJ, failures=4,
                                            successes=0))
    agent, sight = agent_for(monitor, store, client, clock, sees=False)
    reading = await agent.poll(monitor)
    assert reading == RegionReading(region=EU, at=T0, status=UNK, failures=4, successes=0,
                                    detail=wording.REGION_BLIND)
    assert sight.blind
    store.write_reading("db", RegionReading(region=US, at=T0, status=MAJ, failures=2, successes=0))
    store.write_reading("db", RegionReading(region=AP, at=T0, status=OK, failures=0, successes=9))
    verdict = Quorum(regions=THREE, confirm=2).judge(monitor, store.readings("db"), T0)
    assert (verdict.status, verdict.down, verdict.unknown) == (OK, (US,), (EU,))


@pytest.mark.anyio
async def test_a_region_that_sees_counts_the_failure(client: ProbeClient) -> None:
    """The same refused connection from a region that can see (its control target answers) is a failure."""
    clock = FakeClock(T0)
    monitor = TcpMonitor(name="db", url=f"tcp://127.0.0.1:{closed_port()}", timeout=2.0)
    store = MemoryReadings()
    agent, _ = agent_for(monitor, store, client, clock, sees=True)
    first = await agent.poll(monitor)
    clock.advance(60)
    second = await agent.poll(monitor)
    assert first is not None and second is not None
    assert (first.status, first.failures, first.detail) == (MAJ, 1, "connection refused")
    assert (second.status, second.failures) == (MAJ, 2)
    assert store.readings("db") == {EU: second}


@pytest.mark.anyio
@pytest.mark.parametrize(("age", "failures"), [(60, 4), (130, 4), (131, 1)])
async def test_a_restarted_agent_resumes_a_fresh_count(client: ProbeClient, age: float,
                                                        failures: int) -> None:
    """After a restart the agent goes on from its own stored reading while it is fresh, else counts anew."""
    clock = FakeClock(T0)
    monitor = TcpMonitor(name="db", url=f"tcp://127.0.0.1:{closed_port()}", timeout=10.0)
    store = MemoryReadings()
    store.write_reading("db", RegionReading(region=EU, at=T0 - timedelta(seconds=age), status=MAJ, failures=3,
                                            successes=0))
    store.write_reading("db", RegionReading(region=US, at=T0, status=MAJ, failures=7, successes=0))
    agent, _ = agent_for(monitor, store, client, clock, sees=True)
    reading = await agent.poll(monitor)
    assert reading is not None and reading.failures == failures


class DownStore(MemoryReadings):
    """A store that cannot be reached while `down` is set (as the Store raises for PostgreSQL)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def write_reading(self, monitor: str, reading: RegionReading) -> None:
        if self.down:
            raise Unavailable("connection refused")
        super().write_reading(monitor, reading)

    def readings(self, monitor: str) -> dict[str, RegionReading]:
        if self.down:
            raise Unavailable("connection refused")
        return super().readings(monitor)


@pytest.mark.anyio
async def test_an_unreachable_store_is_logged_once_and_the_counting_goes_on(
        client: ProbeClient, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(T0)
    monitor = TcpMonitor(name="db", url=f"tcp://127.0.0.1:{closed_port()}", timeout=2.0)
    store = DownStore()
    agent, _ = agent_for(monitor, store, client, clock, sees=True)
    for _ in range(3):
        reading = await agent.poll(monitor)
        clock.advance(60)
    assert reading is not None and reading.failures == 3
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "eu-west: cannot write this region's readings (connection refused); checks go on"]
    store.down = False
    await agent.poll(monitor)
    assert store.readings("db")[EU].failures == 4
    assert "eu-west: this region's readings are written again" in caplog.messages
