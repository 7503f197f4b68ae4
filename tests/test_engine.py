"""The pure engine as tables of transitions, driven by a fake clock (no I/O, no sleeps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Policy
from bot.engine import MonitorState, Step, step
from bot.model import (
    AlertKind,
    Change,
    ChangedComponent,
    ChangeKind,
    CheckResult,
    ComponentReading,
    ProviderIncident,
    ProviderMaintenance,
    Status,
)

T0 = datetime(2026, 9, 29, 12, 0, tzinfo=UTC)
OK, DEG, PART, MAJ, UNK, MAINT = (Status.OPERATIONAL, Status.DEGRADED, Status.PARTIAL, Status.MAJOR,
                                  Status.UNKNOWN, Status.MAINTENANCE)
INCIDENT = ProviderIncident(id="inc1", title="Elevated errors", status="investigating", impact="minor",
                            latest_update="We are investigating.")


def result(at: datetime, statuses: dict[str, Status] | None, incidents: tuple[ProviderIncident, ...] = ()) -> CheckResult:
    if statuses is None:
        return CheckResult(monitor="OpenAI", at=at, readable=False, detail="HTTP 502 (HTML page)")
    readings = tuple(ComponentReading(name=n, status=s) for n, s in statuses.items())
    return CheckResult(monitor="OpenAI", at=at, readable=True, components=readings, incidents=incidents)


def run(sequence: list[dict[str, Status] | None | tuple[dict[str, Status], tuple[ProviderIncident, ...]]],
        policy: Policy | None = None, interval: float = 60.0,
        state: MonitorState | None = None) -> list[tuple[list[AlertKind], Step]]:
    """Feed a sequence of polls one interval apart; return the alert kinds of each step."""
    policy = policy or Policy()
    out = []
    for i, item in enumerate(sequence):
        at = T0 + timedelta(seconds=interval * i)
        if isinstance(item, tuple):
            res = result(at, item[0], item[1])
        else:
            res = result(at, item)
        s = step(state, res, at, policy)
        state = s.state
        out.append(([a.kind for a in s.alerts], s))
    return out


def kinds(steps: list[tuple[list[AlertKind], Step]]) -> list[list[AlertKind]]:
    return [k for k, _ in steps]


A = {"API": OK, "ChatGPT": OK, "Fine-tuning": OK}
A_DOWN = {"API": MAJ, "ChatGPT": OK, "Fine-tuning": OK}
A_DEG = {"API": DEG, "ChatGPT": OK, "Fine-tuning": OK}
AB_DOWN = {"API": MAJ, "ChatGPT": MAJ, "Fine-tuning": OK}

OPEN, U, R, RM, SU, SR = (AlertKind.OPENED, AlertKind.UPDATED, AlertKind.RESOLVED, AlertKind.REMINDER,
                          AlertKind.SOURCE_UNREADABLE, AlertKind.SOURCE_READABLE)


@pytest.mark.parametrize(
    ("name", "sequence", "expected"),
    [
        ("first run is silent", [A], [[]]),
        ("first run during an outage is silent", [A_DOWN, A_DOWN], [[], []]),
        ("one bad poll is not an outage", [A, A_DOWN, A, A], [[], [], [], []]),
        ("two bad polls open, two good resolve", [A, A_DOWN, A_DOWN, A, A], [[], [], [OPEN], [], [R]]),
        ("one good poll inside an outage does not resolve", [A, A_DOWN, A_DOWN, A, A_DOWN, A_DOWN],
         [[], [], [OPEN], [], [], []]),
        ("a component joining is an update, not a new alert", [A, A_DOWN, A_DOWN, AB_DOWN, AB_DOWN],
         [[], [], [OPEN], [], [U]]),
        ("severity change is an update", [A, A_DEG, A_DEG, A_DOWN, A_DOWN, A_DEG, A_DEG],
         [[], [], [OPEN], [], [U], [], [U]]),
        ("unknown readings change nothing", [A, {"API": UNK, "ChatGPT": OK, "Fine-tuning": OK}] * 3,
         [[]] * 6),
        ("maintenance is not an outage", [A, {"API": MAINT, "ChatGPT": OK, "Fine-tuning": OK}] + [
            {"API": MAINT, "ChatGPT": OK, "Fine-tuning": OK}] * 3, [[]] * 5),
        ("unreadable source is a notice, never an outage", [A, None, None, None, A, A],
         [[], [], [SU], [], [], [SR]]),
        ("a single unreadable poll says nothing", [A, None, A, A], [[], [], [], []]),
    ],
)
def test_transitions(name: str, sequence: list, expected: list) -> None:
    assert kinds(run(sequence)) == expected, name


def test_thresholds_are_configurable() -> None:
    policy = Policy(failures_before_alert=3, successes_before_recovery=1)
    assert kinds(run([A, A_DOWN, A_DOWN, A_DOWN, A], policy)) == [[], [], [], [OPEN], [R]]
    policy = Policy(failures_before_alert=1, successes_before_recovery=3)
    assert kinds(run([A, A_DOWN, A, A, A], policy)) == [[], [OPEN], [], [], [R]]


def test_provider_incident_alone_opens_and_its_resolution_closes() -> None:
    """Discord 2019: an open incident while every component shows operational."""
    steps = run([A, (A, (INCIDENT,)), (A, (INCIDENT,)), A])
    assert kinds(steps) == [[], [OPEN], [], [R]]
    opened = steps[1][1].alerts[0]
    assert opened.provider_incidents[0].title == "Elevated errors"
    assert opened.changes == (Change(ChangeKind.OPENED, provider=INCIDENT, total=3),)
    resolved = steps[3][1].alerts[0]
    assert resolved.changes == (Change(ChangeKind.RESOLVED, duration=timedelta(minutes=2)),)


def test_provider_update_without_component_change_is_an_update() -> None:
    newer = ProviderIncident(id="inc1", title="Elevated errors", status="identified", impact="minor",
                             latest_update="We found the cause.")
    steps = run([A, (A, (INCIDENT,)), (A, (newer,))])
    assert kinds(steps) == [[], [OPEN], [U]]
    assert steps[2][1].alerts[0].changes == (Change(ChangeKind.PROVIDER_UPDATED, provider=newer),)


def test_incident_stays_one_while_component_recovers_and_fails_inside_it() -> None:
    inc = (INCIDENT,)
    steps = run([A, (A_DOWN, inc), (A_DOWN, inc), (A, inc), (A, inc), (A_DOWN, inc), (A_DOWN, inc), A, A])
    assert kinds(steps) == [[], [OPEN], [U], [], [U], [], [U], [U], [R]]
    ids = {a.incident_id for _, s in steps for a in s.alerts}
    assert len(ids) == 1


def test_grouping_counts_components_and_duration_in_recovery() -> None:
    steps = run([A, AB_DOWN, AB_DOWN, A, A])
    opened = steps[2][1].alerts[0]
    assert opened.changes == (Change(ChangeKind.OPENED, components=(ChangedComponent("API", MAJ),
                                                                    ChangedComponent("ChatGPT", MAJ)),
                                     affected=2, total=3),)
    assert [c.name for c in opened.components] == ["API", "ChatGPT"]
    resolved = steps[4][1].alerts[0]
    # started at the first bad poll (t=60 s), ended at the first good one (t=180 s), confirmed at t=240 s
    assert resolved.started_at == T0 + timedelta(seconds=60)
    assert resolved.duration == timedelta(seconds=120)
    assert resolved.changes == (Change(ChangeKind.RESOLVED, duration=timedelta(minutes=2)),)
    assert steps[4][1].closed is not None and steps[4][1].state.incident is None


def test_flapping_is_reported_once_and_holds_the_incident() -> None:
    policy = Policy(failures_before_alert=1, successes_before_recovery=1, flap_threshold=3, flap_window=1800,
                    flap_settle=600)
    steps = run([A, A_DOWN, A, A_DOWN, A, A_DOWN, A, A_DOWN, A], policy)
    all_kinds = kinds(steps)
    # open, resolve, open ... until the 4th change marks flapping: then one update and silence
    assert all_kinds[:4] == [[], [OPEN], [R], [OPEN]]
    flagged = [s.alerts[0].changes for k, s in steps if k == [U]]
    assert flagged == [(
        Change(ChangeKind.SEVERITY, components=(ChangedComponent("API", OK, MAJ),), before=MAJ, after=OK),
        Change(ChangeKind.FLAPPING, components=(ChangedComponent("API", OK),)),
    )]
    assert all_kinds[5:] == [[], [], [], []]
    # settles after flap_settle seconds of stability, then resolves
    state = steps[-1][1].state
    later = T0 + timedelta(seconds=60 * 9 + 600)
    settled = step(state, result(later, A), later, policy)
    assert [a.kind for a in settled.alerts] == [R]


def test_reminders_at_the_configured_interval() -> None:
    policy = Policy(reminder_interval=3600)
    seq = [A, A_DOWN] + [A_DOWN] * 70
    steps = run(seq, policy)
    reminders = [i for i, (k, _) in enumerate(steps) if k == [RM]]
    assert reminders == [62]  # opened at poll 2 (t=120 s, started t=60 s); reminder an hour later
    assert steps[62][1].alerts[0].changes == (Change(ChangeKind.REMINDER, duration=timedelta(hours=1, minutes=1)),)


def test_no_reminders_by_default() -> None:
    steps = run([A, A_DOWN] + [A_DOWN] * 200)
    assert all(k in ([], [OPEN]) for k, _ in steps)


def test_restart_during_outage_is_silent_and_recovery_after_restart_is_posted() -> None:
    before = run([A, A_DOWN, A_DOWN])
    saved = before[-1][1].state  # what SQLite holds
    assert saved.incident is not None and saved.incident.announced
    after = run([A_DOWN, A_DOWN], state=saved)
    assert kinds(after) == [[], []]
    recovered = run([A, A], state=saved)
    assert kinds(recovered) == [[], [R]]
    assert recovered[1][1].alerts[0].started_at == saved.incident.started_at


def test_seeded_incident_is_announced_only_when_it_worsens() -> None:
    steps = run([A_DEG, A_DEG, A_DOWN, A_DOWN, AB_DOWN, AB_DOWN])
    assert kinds(steps) == [[], [], [], [OPEN], [], [U]]


def test_new_component_earns_its_outage_through_the_threshold() -> None:
    steps = run([A, {**A, "Codex": MAJ}, {**A, "Codex": MAJ}])
    assert kinds(steps) == [[], [], [OPEN]]


def test_observed_changes_feed_the_status_log_only_on_change() -> None:
    steps = run([A, A, A, A_DOWN, A_DOWN, A_DOWN])
    counts = [len(s.observed) for _, s in steps]
    assert counts == [3, 0, 0, 1, 0, 0]


def test_incident_severity_from_provider_impact() -> None:
    critical = ProviderIncident(id="x", title="Down", status="investigating", impact="critical")
    steps = run([A, (A, (critical,))])
    assert steps[1][1].alerts[0].severity is Status.MAJOR


def test_component_removed_from_the_page_during_an_outage_is_not_called_recovered() -> None:
    steps = run([AB_DOWN, AB_DOWN, A, A, {"API": MAJ, "Fine-tuning": OK}, {"API": MAJ, "Fine-tuning": OK}])
    # seeded during an outage, recovered silently, then API fails again and ChatGPT disappears
    changes = [c for _, s in steps for a in s.alerts for c in a.changes]
    assert not any(c.kind is ChangeKind.RECOVERED for c in changes)
    assert changes == [Change(ChangeKind.OPENED, components=(ChangedComponent("API", MAJ),), affected=1, total=2)]


def test_renamed_filtered_component_shows_unknown_not_operational() -> None:
    steps = run([A, {**A, "Fine-tuning": UNK}, {**A, "Fine-tuning": UNK}])
    state = steps[-1][1].state
    tuned = state.component("Fine-tuning")
    assert tuned is not None and tuned.observed is UNK and tuned.status is OK
    assert kinds(steps) == [[], [], []]  # unknown is never an outage


def test_component_vanishing_mid_outage_keeps_the_incident_open_for_the_grace_period() -> None:
    policy = Policy()
    steps = run([A, A_DOWN, A_DOWN, {"ChatGPT": OK, "Fine-tuning": OK}, {"ChatGPT": OK, "Fine-tuning": OK}], policy)
    assert kinds(steps) == [[], [], [OPEN], [], []]  # not "recovered" because it vanished
    state = steps[-1][1].state
    api = state.component("API")
    assert api is not None and api.observed is UNK and api.status is MAJ and "not on the page" in api.detail
    later = T0 + timedelta(hours=2)
    gone = step(state, result(later, {"ChatGPT": OK, "Fine-tuning": OK}), later, policy)
    assert [a.kind for a in gone.alerts] == [R]
    assert [c.kind for c in gone.alerts[0].changes] == [ChangeKind.RESOLVED]
    assert gone.state.component("API") is None


def test_cycling_between_operational_maintenance_and_unknown_is_not_flapping() -> None:
    """Found by tests/test_engine_properties.py: these changes used to count towards flapping, and a
    flapping component opened an incident although nothing was ever down."""
    policy = Policy(failures_before_alert=1, successes_before_recovery=1, flap_threshold=2)
    cycle = [{"Fine-tuning": UNK}, {"Fine-tuning": OK}, {"Fine-tuning": MAINT}, {"Fine-tuning": OK}] * 3
    steps = run(cycle, policy)
    assert all(k == [] for k in kinds(steps))
    last = steps[-1][1].state.component("Fine-tuning")
    assert last is not None and not last.flapping


def test_a_resolved_provider_incident_is_named_and_a_vanished_component_is_said() -> None:
    policy = Policy(failures_before_alert=1, successes_before_recovery=1)
    steps = run([A, (AB_DOWN, (INCIDENT,)), (AB_DOWN, ())], policy)
    assert kinds(steps) == [[], [OPEN], [U]]
    assert steps[2][1].alerts[0].changes == (Change(ChangeKind.PROVIDER_RESOLVED, provider=INCIDENT),)
    # ChatGPT leaves the page mid-outage: unknown for the grace period, then said to be gone (never "recovered")
    gone = {"API": MAJ, "Fine-tuning": OK}
    later = run([gone] * 62, policy, state=steps[2][1].state)
    alerts = [a for _, s in later for a in s.alerts]
    assert [c for a in alerts for c in a.changes] == [
        Change(ChangeKind.VANISHED, components=(ChangedComponent("ChatGPT", UNK, MAJ),), affected=1, total=2)]


# ---------------------------------------------------------------- the provider's announced maintenances (issue 12)

PLANNED = ProviderMaintenance(id="m1", name="Database upgrade", status="scheduled",
                              starts_at=T0 + timedelta(hours=1), ends_at=T0 + timedelta(hours=2), components=("API",))
UNDER_WAY = ProviderMaintenance(id="m1", name="Database upgrade", status="in_progress",
                                starts_at=T0 + timedelta(hours=1), ends_at=T0 + timedelta(hours=2), components=("API",))


def test_provider_maintenances_are_carried_and_never_alert() -> None:
    """The last readable poll's maintenances are on the state, an unreadable poll keeps them, and neither a
    maintenance starting nor its components going under maintenance opens anything."""
    readings = tuple(ComponentReading(n, s) for n, s in A.items())
    under = tuple(ComponentReading(n, MAINT if n == "API" else s) for n, s in A.items())
    polls = [
        CheckResult(monitor="OpenAI", at=T0, readable=True, components=readings, maintenances=(PLANNED,)),
        CheckResult(monitor="OpenAI", at=T0, readable=True, components=readings, maintenances=(PLANNED,)),
        CheckResult(monitor="OpenAI", at=T0, readable=True, components=under, maintenances=(UNDER_WAY,)),
        CheckResult(monitor="OpenAI", at=T0, readable=True, components=under, maintenances=(UNDER_WAY,)),
        CheckResult(monitor="OpenAI", at=T0, readable=False, detail="HTTP 502"),
        CheckResult(monitor="OpenAI", at=T0, readable=True, components=readings, maintenances=()),
    ]
    state: MonitorState | None = None
    seen = []
    for i, poll in enumerate(polls):
        at = T0 + timedelta(minutes=i)
        s = step(state, poll, at, Policy())
        assert s.alerts == () and s.opened is None and s.state.incident is None
        state = s.state
        seen.append(state.maintenances)
    assert seen == [(PLANNED,), (PLANNED,), (UNDER_WAY,), (UNDER_WAY,), (UNDER_WAY,), ()]


def test_a_poll_that_changes_only_its_maintenances_takes_them_on_the_fast_path() -> None:
    readings = tuple(ComponentReading(n, s) for n, s in A.items())
    first = CheckResult(monitor="OpenAI", at=T0, readable=True, components=readings)
    state = step(None, first, T0, Policy()).state
    state = step(state, first, T0 + timedelta(minutes=1), Policy()).state
    assert state.settled is not None  # the same readings again take the fast path ...
    again = CheckResult(monitor="OpenAI", at=T0, readable=True, components=readings, maintenances=(PLANNED,))
    s = step(state, again, T0 + timedelta(minutes=2), Policy())
    assert s.state.components is state.components  # ... which it did
    assert s.state.maintenances == (PLANNED,) and s.alerts == ()
