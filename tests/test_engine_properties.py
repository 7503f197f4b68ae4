"""Properties of the engine over arbitrary poll sequences (hypothesis): whatever the sources say, the
alert stream stays well formed, unknown never becomes an outage, and an unchanged poll changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import Policy
from bot.engine import ComponentState, MonitorState, _advance_component, _unchanged, step
from bot.model import AlertKind, CheckResult, ComponentReading, ProviderIncident, Status

T0 = datetime(2026, 9, 29, 12, 0, tzinfo=UTC)
NAMES = ("API", "ChatGPT", "Fine-tuning", "Codex")
INCIDENT = ProviderIncident(id="i1", title="Elevated errors", status="investigating", impact="minor")

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
