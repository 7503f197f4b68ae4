"""Properties of the engine over arbitrary poll sequences (hypothesis): whatever the sources say, the
alert stream stays well formed, unknown never becomes an outage, and an unchanged poll changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from bot.codec import encode, load
from bot.config import Policy
from bot.engine import (
    ComponentState,
    IncidentState,
    MonitorState,
    Step,
    _advance_component,
    _unchanged,
    step,
    still,
)
from bot.model import AlertKind, CheckResult, ComponentReading, ProviderIncident, ProviderMaintenance, Status

T0 = datetime(2026, 9, 29, 12, 0, tzinfo=UTC)
NAMES = ("API", "ChatGPT", "Fine-tuning", "Codex")
INCIDENT = ProviderIncident(id="i1", title="Elevated errors", status="investigating", impact="minor")
PLANNED = ProviderMaintenance(id="m1", name="Upgrade", status="scheduled", starts_at=T0, components=("API",))
MAINTENANCES = ((), (PLANNED,), (PLANNED, ProviderMaintenance(id="m2", name="Network", status="in_progress")),
                (ProviderMaintenance(id="m1", name="Upgrade", status="in_progress", starts_at=T0, components=("API",)),))

statuses = st.sampled_from(list(Status))
poll = st.one_of(
    st.none(),  # the source could not be read
    st.tuples(
        st.dictionaries(st.sampled_from(NAMES), statuses, min_size=0, max_size=len(NAMES)),
        st.booleans(),  # the provider reports an open incident
    ),
)
policies = st.builds(
    Policy,
    failures_before_alert=st.integers(1, 3),
    successes_before_recovery=st.integers(1, 3),
    flap_threshold=st.integers(2, 6),
    flap_window=st.sampled_from([300.0, 1800.0]),
    flap_settle=st.sampled_from([120.0, 600.0]),
    reminder_interval=st.sampled_from([None, 600.0]),
)


def result(at: datetime, item: tuple[dict[str, Status], bool] | None) -> CheckResult:
    if item is None:
        return CheckResult(monitor="M", at=at, readable=False, detail="HTTP 502 (HTML page)")
    readings, open_incident = item
    return CheckResult(monitor="M", at=at, readable=True,
                       components=tuple(ComponentReading(n, s) for n, s in readings.items()),
                       incidents=(INCIDENT,) if open_incident else ())


@settings(max_examples=300, deadline=None)
@given(st.lists(poll, min_size=1, max_size=40), policies, st.integers(10, 120))
def test_alert_stream_is_well_formed(sequence: list, policy: Policy, interval: int) -> None:
    state: MonitorState | None = None
    open_id: str | None = None
    source_down = False
    for i, item in enumerate(sequence):
        at = T0 + timedelta(seconds=interval * i)
        s = step(state, result(at, item), at, policy)
        if state is None:
            assert s.alerts == ()  # the first poll is always silent
        for alert in s.alerts:
            if alert.kind is AlertKind.OPENED:
                assert open_id is None, "opened twice without a recovery"
                open_id = alert.incident_id
            elif alert.kind in (AlertKind.UPDATED, AlertKind.REMINDER):
                assert alert.incident_id == open_id, "an update for an incident that is not open"
            elif alert.kind is AlertKind.RESOLVED:
                assert alert.incident_id == open_id and alert.resolved_at is not None
                assert alert.duration >= timedelta(0)
                open_id = None
            elif alert.kind is AlertKind.SOURCE_UNREADABLE:
                assert not source_down
                source_down = True
            elif alert.kind is AlertKind.SOURCE_READABLE:
                assert source_down
                source_down = False
        announced = s.state.incident is not None and s.state.incident.announced
        assert (open_id is not None) == announced, "the alerts and the state disagree about an open incident"
        state = s.state


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.dictionaries(st.sampled_from(NAMES), st.sampled_from(
    [Status.OPERATIONAL, Status.UNKNOWN, Status.MAINTENANCE]), max_size=len(NAMES))), min_size=1, max_size=30),
       policies)
def test_unknown_maintenance_and_unreadable_never_open_an_incident(sequence: list, policy: Policy) -> None:
    state: MonitorState | None = None
    for i, item in enumerate(sequence):
        at = T0 + timedelta(seconds=60 * i)
        s = step(state, result(at, None if item is None else (item, False)), at, policy)
        assert all(a.kind not in (AlertKind.OPENED, AlertKind.UPDATED) for a in s.alerts)
        assert s.state.incident is None
        state = s.state


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES), statuses, min_size=1, max_size=len(NAMES)), st.booleans(), policies)
def test_repeating_the_same_poll_settles_and_then_changes_nothing(readings: dict[str, Status], incident: bool,
                                                                  policy: Policy) -> None:
    state: MonitorState | None = None
    for i in range(8):  # long enough for any threshold to confirm what is seen
        at = T0 + timedelta(seconds=60 * i)
        state = step(state, result(at, (readings, incident)), at, policy).state
    at = T0 + timedelta(seconds=60 * 8)
    again = step(state, result(at, (readings, incident)), at, Policy(
        **{**policy.__dict__, "reminder_interval": None}))
    assert again.alerts == () and again.observed == ()
    assert again.state.components == state.components  # the fast path keeps the very same component states


# ---------------------------------------------------------------- the fast path agrees with the full step

DETAILS = st.sampled_from(["", "HTTP 503", "timeout"])
GROUPS = st.sampled_from([None, "Core", "Apps"])
MOMENTS = st.integers(0, 7200).map(lambda s: T0 + timedelta(seconds=s))
component_states = st.builds(
    ComponentState,
    name=st.just("API"),
    status=statuses,
    since=MOMENTS,
    observed=statuses,
    detail=DETAILS,
    group=GROUPS,
    candidate=st.one_of(st.none(), statuses),
    candidate_since=st.one_of(st.none(), MOMENTS),
    streak=st.integers(0, 3),
    changes=st.lists(MOMENTS, max_size=6).map(lambda ts: tuple(sorted(ts))),
    flapping=st.booleans(),
    missing_since=st.one_of(st.none(), MOMENTS),
)


@st.composite
def state_and_reading(draw: st.DrawFn) -> tuple[ComponentState, ComponentReading]:
    """A component state and a reading; half the time the reading repeats what the state last saw, so the
    fast path's True answers are explored as well as its False ones."""
    old = draw(component_states)
    if draw(st.booleans()):
        return old, ComponentReading(old.name, old.observed, draw(st.sampled_from(["", old.detail])), old.group)
    return old, draw(st.builds(ComponentReading, name=st.just(old.name), status=statuses, detail=DETAILS,
                               group=GROUPS))


@settings(max_examples=2000, deadline=None)
@given(state_and_reading(), st.integers(0, 7200), policies)
def test_the_unchanged_fast_path_never_disagrees_with_the_full_step(
    pair: tuple[ComponentState, ComponentReading], later: int, policy: Policy
) -> None:
    """engine._advance_components skips the full step when `_unchanged` says so: it must then be right that
    the full step (`_advance_component`, then `missing_since=None`) gives back an equal state."""
    old, reading = pair
    now = max([old.since, *old.changes, *[t for t in (old.candidate_since, old.missing_since) if t]])
    now += timedelta(seconds=later)
    if _unchanged(old, reading):
        full = replace(_advance_component(old, reading, now, policy), missing_since=None)
        assert full == old


# ---------------------------------------------------------------- the monitor-level fast path agrees too


def full_step(prev: MonitorState, result: CheckResult, now: datetime, policy: Policy) -> Step:
    """The step without the monitor-level fast path: the same state, less what a full step proved about it."""
    return step(replace(prev, settled=None), result, now, policy)


def agree(prev: MonitorState, result: CheckResult, now: datetime, policy: Policy) -> Step:
    """step(), checked against the full step whenever the fast path applies."""
    s = step(prev, result, now, policy)
    if still(prev, result, now, policy):
        event("fast path")
        full = full_step(prev, result, now, policy)
        assert s == full  # the state (checked_at and source_detail included), alerts, observed, opened, closed
        assert s.alerts == () and s.observed == () and s.opened is None and s.closed is None
        assert s.state.components is prev.components and s.state.incident is prev.incident
    return s


AGAIN = "again"  # hand over the previous result's very objects again (an unchanged body)
INCIDENTS = (INCIDENT, replace(INCIDENT, status="monitoring", latest_update="Recovering"),
             ProviderIncident(id="i2", title="Login failures", status="identified", impact="major"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.just(AGAIN), st.just(AGAIN), poll), min_size=1, max_size=40), policies,
       st.lists(st.integers(10, 900), min_size=1, max_size=40), st.sampled_from(["", "incidents unreadable"]))
def test_the_monitor_fast_path_gives_the_full_steps_result(sequence: list, policy: Policy, gaps: list[int],
                                                           detail: str) -> None:
    """Over arbitrary poll sequences, most of them repeats, with reminders falling due and the source going
    unreadable in between: whenever `step` takes the fast path, it gives what the full step gives."""
    state: MonitorState | None = None
    last: CheckResult | None = None
    at = T0
    for i, item in enumerate(sequence):
        at += timedelta(seconds=gaps[i % len(gaps)])
        if item == AGAIN and last is not None:
            # the same readings and incidents objects; now and then other maintenances (they decide nothing)
            res = replace(last, at=at, detail=detail if i % 3 else "",
                          maintenances=MAINTENANCES[i % len(MAINTENANCES)] if i % 4 == 0 else last.maintenances)
        else:
            res = result(at, None if item == AGAIN else item)
        s = step(state, res, at, policy) if state is None else agree(state, res, at, policy)
        state, last = s.state, res


provider_incidents = st.lists(st.sampled_from(INCIDENTS), max_size=3).map(tuple)  # i1 may come twice
affected_lists = st.lists(st.tuples(st.sampled_from(NAMES), statuses), max_size=4).map(tuple)
incident_states = st.builds(
    IncidentState,
    id=st.just("M@x"),
    started_at=MOMENTS,
    severity=statuses,
    announced=st.booleans(),
    last_notified=MOMENTS,
    affected=affected_lists,
    provider=st.lists(st.sampled_from([(i.id, i.status, i.latest_update) for i in INCIDENTS]), max_size=3).map(tuple),
    flapping=st.lists(st.sampled_from(NAMES), max_size=2).map(tuple),
    title=st.sampled_from(["", "Elevated errors"]),
)


@st.composite
def states_and_results(draw: st.DrawFn) -> tuple[MonitorState, CheckResult]:
    """Any state (incident records that no step would have written included) and a result that, most of the
    time, repeats what the state last saw."""
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES)))
    components = tuple(draw(component_states.map(lambda c, n=n: replace(c, name=n))) for n in names)
    state = MonitorState(
        monitor="M",
        components=components,
        incident=draw(st.one_of(st.none(), incident_states)),
        incidents=draw(provider_incidents),
        maintenances=draw(st.sampled_from(MAINTENANCES)),
        readable=draw(st.booleans()),
        unreadable_streak=draw(st.integers(0, 2)),
        readable_streak=draw(st.integers(0, 2)),
        unreadable_notified=draw(st.booleans()),
        unreadable_since=draw(st.one_of(st.none(), MOMENTS)),
        checked_at=T0,
    )
    echo = [ComponentReading(c.name, c.observed, c.detail, c.group) for c in components]
    how = draw(st.sampled_from(["echo", "reordered", "repeated", "any"]))
    if how == "echo":
        readings = tuple(echo)
    elif how == "reordered":  # each reading matches its state, in another order
        readings = tuple(draw(st.permutations(echo)))
    elif how == "repeated" and len(echo) > 1:  # as many readings as states, one name twice, one missing
        readings = (*echo[:-1], echo[0])
    else:
        readings = tuple(draw(st.lists(st.builds(ComponentReading, name=st.sampled_from(NAMES), status=statuses,
                                                  detail=DETAILS, group=GROUPS), max_size=len(NAMES))))
    incidents = state.incidents if draw(st.booleans()) else draw(provider_incidents)
    return state, CheckResult(monitor="M", at=T0, readable=True, components=readings, incidents=incidents,
                              maintenances=draw(st.sampled_from(MAINTENANCES)))


@settings(max_examples=1500, deadline=None)
@given(states_and_results(), st.lists(st.integers(0, 3600), min_size=1, max_size=4), policies)
def test_the_monitor_fast_path_holds_from_any_state(pair: tuple[MonitorState, CheckResult], gaps: list[int],
                                                    policy: Policy) -> None:
    """From any state, whatever a full step settled on: the same result objects again, once or a few times
    (a reminder may fall due meanwhile), give through the fast path what the full step gives."""
    state, res = pair
    at = T0 + timedelta(seconds=3 * 3600)  # after every moment a drawn state holds
    state = step(state, res, at, policy).state
    for i, gap in enumerate(gaps):
        at += timedelta(seconds=gap)
        maintenances = MAINTENANCES[(gap + i) % len(MAINTENANCES)]  # a poll whose only news is its maintenances
        state = agree(state, replace(res, at=at, maintenances=maintenances), at, policy).state
        assert state.maintenances == maintenances


def test_an_unchanged_poll_takes_the_fast_path_and_a_new_object_does_not() -> None:
    readings = tuple(ComponentReading(n, Status.MAJOR if n == "API" else Status.OPERATIONAL) for n in NAMES)
    res = CheckResult(monitor="M", at=T0, readable=True, components=readings, incidents=(INCIDENT,))
    policy = Policy(failures_before_alert=2, successes_before_recovery=2, reminder_interval=3600.0)
    calm = tuple(ComponentReading(n, Status.OPERATIONAL) for n in NAMES)
    state = step(None, CheckResult(monitor="M", at=T0, readable=True, components=calm), T0, policy).state
    for i in range(1, 4):  # counts, opens the incident, then changes nothing
        at = T0 + timedelta(seconds=60 * i)
        state = step(state, replace(res, at=at), at, policy).state
    assert state.settled is not None and state.incident is not None and state.incident.announced
    at = T0 + timedelta(seconds=60 * 4)
    assert still(state, replace(res, at=at), at, policy)
    fast = step(state, replace(res, at=at, detail="note"), at, policy)
    assert fast.state.components is state.components and fast.state.checked_at == at
    assert fast.state.source_detail == "note"
    # Equal values in a new tuple (a body that changed and changed back) take the full step.
    assert not still(state, replace(res, at=at, components=tuple(list(readings))), at, policy)
    # A reminder falling due takes the full step, which sends it.
    late = at + timedelta(hours=1)
    assert not still(state, replace(res, at=late), late, policy)
    assert [a.kind for a in step(state, replace(res, at=late), late, policy).alerts] == [AlertKind.REMINDER]


def test_what_the_full_step_proved_is_neither_stored_nor_compared() -> None:
    res = CheckResult(monitor="M", at=T0, readable=True, components=(ComponentReading("API", Status.OPERATIONAL),))
    state = step(step(None, res, T0, Policy()).state, res, T0, Policy()).state
    assert state.settled is not None
    assert "settled" not in encode(state)
    back = load(MonitorState, encode(state))
    assert back == state and back.settled is None
