"""The state engine: previous state + one check result + now → new state + alerts. Pure: no I/O, no clock.

Rules (see README "How alerts are decided"):
- A component's confirmed status changes only after `failures_before_alert` consecutive observations of a
  worse status, or `successes_before_recovery` of a better one. `unknown` observations change nothing.
- An incident belongs to a monitor: it opens when a confirmed component is in outage or the provider reports
  an unresolved incident, stays ONE incident while either holds, and resolves when neither does.
- A component that changes confirmed status more than `flap_threshold` times in `flap_window` is flapping:
  reported once, keeps the incident open, and is trusted again after `flap_settle` seconds of stability.
- A source that cannot be read is reported once as "source unreadable" (after the failure threshold) and
  once when readable again; it is never an outage.
- No previous state (first run) seeds silently; an incident found then is recorded but not announced
  unless it later worsens.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from operator import attrgetter

from bot.config import Policy
from bot.model import (
    AffectedComponent,
    Alert,
    AlertKind,
    Change,
    ChangedComponent,
    ChangeKind,
    CheckResult,
    ComponentReading,
    ProviderIncident,
    ProviderMaintenance,
    Status,
    Watch,
    worst,
)


@dataclass(frozen=True)
class ComponentState:
    name: str
    status: Status  # confirmed
    since: datetime  # confirmed since (the first observation of this status)
    observed: Status  # the last observation, unknown included
    detail: str = ""
    group: str | None = None
    candidate: Status | None = None  # a different status being counted towards confirmation
    candidate_since: datetime | None = None
    streak: int = 0
    changes: tuple[datetime, ...] = ()  # confirmed changes inside the flap window
    flapping: bool = False
    missing_since: datetime | None = None  # no longer on the page since then


@dataclass(frozen=True)
class IncidentState:
    id: str
    started_at: datetime
    severity: Status
    announced: bool
    last_notified: datetime
    affected: tuple[tuple[str, Status], ...] = ()  # as last reported
    provider: tuple[tuple[str, str, str], ...] = ()  # (id, status, latest_update) as last reported
    flapping: tuple[str, ...] = ()  # components reported as flapping
    title: str = ""
    ended_at: datetime | None = None  # set when it resolves: the first good observation
    watch: Watch | None = None  # a probe's incident: its watched status page (set by bot.early, carried here)


@dataclass(frozen=True)
class Settled:
    """Set by a full `step` that changed nothing: every reading kept its component state (no candidate to
    count, nothing flapping or missing), no alert, the incident as it was. The very same `readings` and
    provider incidents again would make that step again. It holds the objects it was made for; `step`
    trusts it only while the state still holds those same objects."""

    readings: tuple[ComponentReading, ...]
    components: tuple[ComponentState, ...]
    incident: IncidentState | None
    incidents: tuple[ProviderIncident, ...]


@dataclass(frozen=True)
class MonitorState:
    monitor: str
    components: tuple[ComponentState, ...] = ()
    incident: IncidentState | None = None
    incidents: tuple[ProviderIncident, ...] = ()  # the provider's unresolved incidents, last readable poll
    # The provider's announced maintenances, last readable poll: shown, never an incident, never an alert
    maintenances: tuple[ProviderMaintenance, ...] = ()
    readable: bool = True
    unreadable_streak: int = 0
    readable_streak: int = 0
    unreadable_notified: bool = False
    unreadable_since: datetime | None = None
    source_detail: str = ""
    checked_at: datetime | None = None
    # Kept on the state rather than in the Watcher so that every caller of `step` (the Watcher, the simulator,
    # the benchmarks, tests) gets the fast path without a side table keyed by monitor, and it goes wherever
    # the state goes. It is a cache, not state: not compared (two states equal whatever they proved), not
    # persisted (bot/codec.py skips fields whose metadata says persist=False; a state read back from the
    # database starts without it), and it voids itself when a `replace()` swaps the objects it names.
    settled: Settled | None = field(default=None, compare=False, repr=False, metadata={"persist": False})

    def component(self, name: str) -> ComponentState | None:
        for c in self.components:
            if c.name == name:
                return c
        return None

    def same_but_checked_at(self, other: MonitorState) -> bool:
        """`replace(self, checked_at=other.checked_at) == other`, without building that state (per poll)."""
        return _BUT_CHECKED_AT(self) == _BUT_CHECKED_AT(other)


_BUT_CHECKED_AT = attrgetter(*(f.name for f in fields(MonitorState) if f.compare and f.name != "checked_at"))


@dataclass(frozen=True)
class ObservedChange:
    """A component's observed status changed: one row for the status log (uptime is computed from it)."""

    component: str
    status: Status
    at: datetime


@dataclass(frozen=True)
class Step:
    state: MonitorState
    alerts: tuple[Alert, ...] = ()
    observed: tuple[ObservedChange, ...] = ()
    opened: IncidentState | None = None  # an incident record to create
    closed: IncidentState | None = None  # an incident record to close (resolved_at = now)


MISSING_GRACE = timedelta(hours=1)  # a component gone from a readable page is kept (as unknown) this long
MISSING_DETAIL = "not on the page (renamed or removed?)"

_IMPACT = {"critical": Status.MAJOR, "major": Status.MAJOR, "minor": Status.DEGRADED}


def provider_severity(incident: ProviderIncident) -> Status:
    """A provider incident's impact in our vocabulary (none/unknown impacts count as degraded)."""
    return _IMPACT.get(incident.impact, Status.DEGRADED)


def step(prev: MonitorState | None, result: CheckResult, now: datetime, policy: Policy) -> Step:
    """Advance one monitor's state by one check result."""
    if prev is None:
        return _seed(result, now)
    if not result.readable:
        return _unreadable(prev, result, now, policy)
    if still(prev, result, now, policy):
        # What the full step below would give (see `still`), without walking every component again. The
        # maintenances are carried either way: they decide nothing, so a poll that changed only them is still.
        return Step(state=replace(prev, source_detail=result.detail, checked_at=now,
                                  maintenances=result.maintenances))
    components, observed, kept = _advance_components(prev, result.components, now, policy)
    # One replace() in the usual case (each builds a whole MonitorState again: a visible share of a poll). A
    # source whose unreadability was announced keeps its streak towards the "readable again" notice below.
    notified = prev.unreadable_notified
    state = replace(
        prev,
        components=components,
        incidents=result.incidents,
        maintenances=result.maintenances,
        readable=True,
        unreadable_streak=0,
        source_detail=result.detail,
        checked_at=now,
        unreadable_since=prev.unreadable_since if notified else None,
        readable_streak=prev.readable_streak if notified else 0,
    )
    alerts: list[Alert] = []
    if notified:
        streak = prev.readable_streak + 1
        if streak >= policy.successes_before_recovery:
            since = prev.unreadable_since or now
            alerts.append(_notice(AlertKind.SOURCE_READABLE, state, now, since,
                                  Change(ChangeKind.READABLE, duration=now - since)))
            state = replace(state, unreadable_notified=False, unreadable_since=None, readable_streak=0)
        else:
            state = replace(state, readable_streak=streak)
    incident_step = _advance_incident(state, now, policy, prev.incidents)
    state = incident_step.state
    if (kept and not alerts and not incident_step.alerts and incident_step.opened is None
            and incident_step.closed is None and state.incident == prev.incident):
        # This step changed nothing: the same readings and incidents again would make it again (see `still`).
        state = replace(state, settled=Settled(result.components, state.components, state.incident, state.incidents))
    return Step(
        state=state,
        alerts=tuple(alerts) + incident_step.alerts,
        observed=observed,
        opened=incident_step.opened,
        closed=incident_step.closed,
    )


# ---------------------------------------------------------------- an unchanged poll


def still(prev: MonitorState, result: CheckResult, now: datetime, policy: Policy) -> bool:
    """True when `result` hands over the very readings (the same tuple object: an unchanged body, see
    bot/checks/payload.LastBody) and provider incidents that the full step which settled `prev` had, and
    nothing outside them moved (the source's flags, a reminder falling due): that step would then run again
    the same way, giving `prev` back with only checked_at, source_detail and the maintenances (which decide
    nothing) new, no change observed, no alert. O(1): identity checks instead of a walk over the components."""
    memo = prev.settled
    if (
        memo is None
        or not result.readable
        or result.components is not memo.readings
        or result.incidents is not prev.incidents
        or memo.components is not prev.components
        or memo.incident is not prev.incident
        or memo.incidents is not prev.incidents
    ):
        return False
    if (not prev.readable or prev.unreadable_notified or prev.unreadable_streak or prev.readable_streak
            or prev.unreadable_since is not None):
        return False
    return prev.incident is None or not _reminder_due(prev.incident, now, policy)


def _reminder_due(incident: IncidentState, now: datetime, policy: Policy) -> bool:
    return bool(policy.reminder_interval and incident.announced
                and (now - incident.last_notified).total_seconds() >= policy.reminder_interval)


# ---------------------------------------------------------------- seeding and unreadable sources


def _seed(result: CheckResult, now: datetime) -> Step:
    """First ever check: adopt what is seen as the confirmed state, silently."""
    components = tuple(
        ComponentState(name=r.name, status=r.status, since=now, observed=r.status, detail=r.detail, group=r.group)
        for r in result.components
    )
    state = MonitorState(
        monitor=result.monitor,
        components=components,
        incidents=result.incidents,
        maintenances=result.maintenances,
        readable=result.readable,
        unreadable_streak=0 if result.readable else 1,
        unreadable_since=None if result.readable else now,
        source_detail=result.detail,
        checked_at=now,
    )
    observed = tuple(ObservedChange(c.name, c.status, now) for c in components)
    if _active(state):
        incident = _new_incident(state, now, announced=False)
        return Step(state=replace(state, incident=incident), observed=observed, opened=incident)
    return Step(state=state, observed=observed)


def _unreadable(prev: MonitorState, result: CheckResult, now: datetime, policy: Policy) -> Step:
    streak = prev.unreadable_streak + 1
    state = replace(
        prev,
        readable=False,
        unreadable_streak=streak,
        readable_streak=0,
        unreadable_since=prev.unreadable_since or now,
        source_detail=result.detail,
        checked_at=now,
    )
    if streak >= policy.failures_before_alert and not prev.unreadable_notified:
        state = replace(state, unreadable_notified=True)
        since = state.unreadable_since or now
        change = Change(ChangeKind.UNREADABLE, detail=result.detail)
        return Step(state=state, alerts=(_notice(AlertKind.SOURCE_UNREADABLE, state, now, since, change),))
    return Step(state=state)


def _notice(kind: AlertKind, state: MonitorState, now: datetime, since: datetime, change: Change) -> Alert:
    return Alert(
        kind=kind,
        incident_id=f"{state.monitor}#source@{since.isoformat()}",
        monitor=state.monitor,
        severity=Status.UNKNOWN,
        at=now,
        started_at=since,
        resolved_at=now if kind is AlertKind.SOURCE_READABLE else None,
        total_components=len(state.components),
        changes=(change,),
    )


# ---------------------------------------------------------------- components


def _advance_components(
    prev: MonitorState, readings: tuple[ComponentReading, ...], now: datetime, policy: Policy
) -> tuple[tuple[ComponentState, ...], tuple[ObservedChange, ...], bool]:
    """The new component states, the observed changes, and whether every state was kept as it was, in
    its place (then the states are `prev.components` itself)."""
    out: list[ComponentState] = []
    observed: list[ObservedChange] = []
    index: dict[str, ComponentState] = {}
    before = prev.components
    for c in before:
        index.setdefault(c.name, c)  # the first of a repeated name, as MonitorState.component finds it
    kept = len(readings) == len(before)
    for i, reading in enumerate(readings):
        old = index.get(reading.name)
        if old is not None and _unchanged(old, reading):
            out.append(old)  # the steady-state poll: same object, no replace() per field
            kept = kept and old is before[i]  # in its place: names are unique, no state is dropped
            continue
        kept = False
        if old is None:
            # A component that appears later starts operational and earns any outage through the threshold.
            start = Status.UNKNOWN if reading.status is Status.UNKNOWN else Status.OPERATIONAL
            old = ComponentState(name=reading.name, status=start, since=now, observed=start, group=reading.group)
            if reading.status is not start:
                old = replace(old, observed=Status.UNKNOWN)
        new = replace(_advance_component(old, reading, now, policy), missing_since=None)
        if new.observed is not old.observed:
            observed.append(ObservedChange(new.name, new.observed, now))
        out.append(new)
    seen = {r.name for r in readings}
    for old in prev.components:
        if old.name in seen or not old.status.is_outage:
            continue  # a healthy component leaving the page (a reorganisation) is simply forgotten
        # Gone from the page while down: unknown, never "recovered", and forgotten only after a grace
        # period, so a component removed mid-outage cannot resolve the incident by disappearing.
        since = old.missing_since or now
        if now - since >= MISSING_GRACE:
            continue
        gone = replace(old, observed=Status.UNKNOWN, detail=MISSING_DETAIL, missing_since=since)
        if old.observed is not Status.UNKNOWN:
            observed.append(ObservedChange(old.name, Status.UNKNOWN, now))
        out.append(gone)
    if kept:
        return before, (), True
    return tuple(out), tuple(observed), False


def _unchanged(old: ComponentState, reading: ComponentReading) -> bool:
    """True when `_advance_component` (then `missing_since=None`) would give back a state equal to `old`:
    same observation, detail and group, not flapping or missing, and no candidate unless the reading is unknown.
    The steady-state poll takes this path, because `replace()` per component per poll dominated `step`."""
    seen = reading.status
    if seen is not old.observed or old.flapping or old.missing_since is not None or reading.group != old.group:
        return False
    if (reading.detail or (old.detail if seen is Status.UNKNOWN else "")) != old.detail:
        return False
    # An unknown observation leaves any candidate alone; a known one equal to the confirmed status clears it.
    return seen is Status.UNKNOWN or (
        seen is old.status and old.candidate is None and old.candidate_since is None and old.streak == 0
    )


def _advance_component(old: ComponentState, reading: ComponentReading, now: datetime, policy: Policy) -> ComponentState:
    seen = reading.status
    c = replace(old, observed=seen, detail=reading.detail or (old.detail if seen is Status.UNKNOWN else ""),
                group=reading.group)
    if seen is Status.UNKNOWN:
        return _settle(c, now, policy)
    if seen is c.status:
        return _settle(replace(c, candidate=None, candidate_since=None, streak=0), now, policy)
    if seen is c.candidate:
        c = replace(c, streak=c.streak + 1)
    else:
        c = replace(c, candidate=seen, candidate_since=now, streak=1)
    better = seen.rank < c.status.rank
    needed = policy.successes_before_recovery if better else policy.failures_before_alert
    if c.streak >= max(1, needed):
        horizon = now - timedelta(seconds=policy.flap_window)
        # Only changes into or out of an outage count towards flapping: a component moving between
        # operational, maintenance and unknown is not an outage, however often it does so.
        counts = c.status.is_outage or seen.is_outage
        changes = tuple(t for t in c.changes if t > horizon) + ((now,) if counts else ())
        c = replace(c, status=seen, since=c.candidate_since or now, candidate=None, candidate_since=None,
                    streak=0, changes=changes)
        if len(changes) > policy.flap_threshold:
            c = replace(c, flapping=True)
    return _settle(c, now, policy)


def _settle(c: ComponentState, now: datetime, policy: Policy) -> ComponentState:
    """A flapping component is trusted again once its status has held for `flap_settle` seconds."""
    if c.flapping and c.candidate is None and (now - c.since).total_seconds() >= policy.flap_settle:
        return replace(c, flapping=False, changes=())
    return c


# ---------------------------------------------------------------- incidents


def _active(state: MonitorState) -> bool:
    return any(c.status.is_outage or c.flapping for c in state.components) or bool(state.incidents)


def _affected(state: MonitorState) -> tuple[tuple[str, Status], ...]:
    return tuple((c.name, c.status) for c in state.components if c.status.is_outage or c.flapping)


def _provider_key(state: MonitorState) -> tuple[tuple[str, str, str], ...]:
    return tuple((i.id, i.status, i.latest_update) for i in state.incidents)


def _severity(state: MonitorState, previous: Status | None = None) -> Status:
    """Worst status of the incident; a flapping component keeps the severity it was reported with."""
    statuses = [c.status for c in state.components if c.status.is_outage and not c.flapping]
    statuses += [provider_severity(i) for i in state.incidents]
    if any(c.flapping for c in state.components):
        statuses += [previous] if previous else [c.status for c in state.components if c.status.is_outage]
    return worst(statuses) if statuses else Status.DEGRADED


def _new_incident(state: MonitorState, now: datetime, *, announced: bool) -> IncidentState:
    starts = [c.since for c in state.components if c.status.is_outage]
    started = min(starts, default=now)
    return IncidentState(
        id=f"{state.monitor}@{started.isoformat()}",
        started_at=started,
        severity=_severity(state),
        announced=announced,
        last_notified=now,
        affected=_affected(state),
        provider=_provider_key(state),
        flapping=tuple(c.name for c in state.components if c.flapping),
        title=state.incidents[0].title if state.incidents else "",
    )


def snapshot(
    state: MonitorState, incident: IncidentState, kind: AlertKind, now: datetime, changes: tuple[Change, ...]
) -> Alert:
    """The Alert a renderer needs: the incident as it stands now."""
    return Alert(
        kind=kind,
        incident_id=incident.id,
        monitor=state.monitor,
        severity=incident.severity,
        at=now,
        started_at=incident.started_at,
        components=tuple(
            AffectedComponent(name=c.name, status=c.status, since=c.since, flapping=c.flapping)
            for c in state.components
            if c.status.is_outage or c.flapping
        ),
        total_components=len(state.components),
        provider_incidents=state.incidents,
        resolved_at=(incident.ended_at or now) if kind is AlertKind.RESOLVED else None,
        changes=changes,
        watch=incident.watch,
    )


def _ended(state: MonitorState, incident: IncidentState, now: datetime) -> datetime:
    """When it really ended: the first good observation of the last component to recover (not the
    confirmation, which comes `successes_before_recovery` polls later); `now` if the provider closed it."""
    if incident.provider:
        return now
    names = {n for n, _ in incident.affected}
    times = [c.since for c in state.components if c.name in names and c.since >= incident.started_at]
    return max(times, default=now)


@dataclass(frozen=True)
class _IncidentStep:
    state: MonitorState
    alerts: tuple[Alert, ...] = ()
    opened: IncidentState | None = None
    closed: IncidentState | None = None


def _advance_incident(
    state: MonitorState, now: datetime, policy: Policy, previous: tuple[ProviderIncident, ...]
) -> _IncidentStep:
    """`previous`: the provider incidents of the last readable poll, to name one that has just resolved."""
    incident = state.incident
    active = _active(state)
    if incident is None:
        if not active:
            return _IncidentStep(state)
        new = _new_incident(state, now, announced=True)
        state = replace(state, incident=new)
        alert = snapshot(state, new, AlertKind.OPENED, now, (_opening(state),))
        return _IncidentStep(state, (alert,), opened=new)
    if not active:
        closed = replace(incident, last_notified=now, ended_at=_ended(state, incident, now))
        state = replace(state, incident=None)
        if not incident.announced:
            return _IncidentStep(state, closed=closed)
        resolved = Change(ChangeKind.RESOLVED, duration=(closed.ended_at or now) - incident.started_at)
        return _IncidentStep(state, (snapshot(state, closed, AlertKind.RESOLVED, now, (resolved,)),), closed=closed)
    severity = _severity(state, incident.severity)
    affected = _affected(state)
    provider = _provider_key(state)
    flapping = tuple(c.name for c in state.components if c.flapping)
    changes = _changes(incident, affected, provider, flapping, severity, state, previous)
    updated = replace(incident, severity=severity, affected=affected, provider=provider, flapping=flapping,
                      title=incident.title or (state.incidents[0].title if state.incidents else ""))
    if not changes:
        if _reminder_due(incident, now, policy):
            updated = replace(updated, last_notified=now)
            state = replace(state, incident=updated)
            reminder = Change(ChangeKind.REMINDER, duration=now - incident.started_at)
            return _IncidentStep(state, (snapshot(state, updated, AlertKind.REMINDER, now, (reminder,)),))
        return _IncidentStep(replace(state, incident=updated))
    if not incident.announced:
        # Seeded silently at start-up: announce only if it got worse than what was already there.
        worse = severity.rank > incident.severity.rank or bool({n for n, _ in affected} - {n for n, _ in incident.affected})
        if not worse:
            return _IncidentStep(replace(state, incident=updated))
        updated = replace(updated, announced=True, last_notified=now)
        state = replace(state, incident=updated)
        return _IncidentStep(state, (snapshot(state, updated, AlertKind.OPENED, now, changes),))
    updated = replace(updated, last_notified=now)
    state = replace(state, incident=updated)
    alert = snapshot(state, updated, AlertKind.UPDATED, now, changes)
    if severity is Status.MAJOR and incident.severity is not Status.MAJOR:
        alert = replace(alert, escalated=True)
    return _IncidentStep(state, (alert,))


def _opening(state: MonitorState) -> Change:
    """What a new incident starts with: its affected components, else the provider's incident."""
    affected = _affected(state)
    return Change(
        ChangeKind.OPENED,
        components=tuple(ChangedComponent(n, status) for n, status in affected),
        provider=state.incidents[0] if state.incidents and not affected else None,
        affected=len(affected),
        total=len(state.components),
    )


def _changes(
    incident: IncidentState,
    affected: tuple[tuple[str, Status], ...],
    provider: tuple[tuple[str, str, str], ...],
    flapping: tuple[str, ...],
    severity: Status,
    state: MonitorState,
    previous: tuple[ProviderIncident, ...],
) -> tuple[Change, ...]:
    """What changed since the last report (empty when nothing did), in the order a thread line says it."""
    out: list[Change] = []
    before = dict(incident.affected)
    now_map = dict(affected)
    quiet = set(incident.flapping) & set(flapping)  # already reported as flapping: their changes are noise
    joined = [n for n in now_map if n not in before and n not in quiet]
    left = [n for n in before if n not in now_map and n not in quiet]
    changed = [n for n in now_map if n in before and before[n] is not now_map[n] and n not in quiet]
    # The count after the change goes on the membership changes: the line ends with "N of M affected".
    n_affected, total = len(affected), len(state.components)
    if joined:
        out.append(Change(ChangeKind.JOINED, components=tuple(ChangedComponent(n, now_map[n]) for n in joined),
                          affected=n_affected, total=total))
    for n in changed:
        out.append(Change(ChangeKind.SEVERITY, components=(ChangedComponent(n, now_map[n], before[n]),),
                          before=before[n], after=now_map[n]))
    present = {c.name: c for c in state.components}
    removed = [n for n in left if n not in present]
    left = [n for n in left if n in present]
    if left:
        out.append(Change(ChangeKind.RECOVERED, components=tuple(
            ChangedComponent(n, present[n].status, before[n]) for n in left), affected=n_affected, total=total))
    if removed:
        out.append(Change(ChangeKind.VANISHED, components=tuple(
            ChangedComponent(n, Status.UNKNOWN, before[n]) for n in removed), affected=n_affected, total=total))
    new_flapping = [n for n in flapping if n not in incident.flapping]
    if new_flapping:
        out.append(Change(ChangeKind.FLAPPING, components=tuple(
            ChangedComponent(n, present[n].status) for n in new_flapping)))
    old_ids = {p[0]: p for p in incident.provider}
    for inc in state.incidents:
        if inc.id not in old_ids:
            out.append(Change(ChangeKind.PROVIDER_OPENED, provider=inc))
        elif old_ids[inc.id] != (inc.id, inc.status, inc.latest_update):
            out.append(Change(ChangeKind.PROVIDER_UPDATED, provider=inc))
    new_ids = {p[0] for p in provider}
    last = {i.id: i for i in previous}
    for pid, status, update in incident.provider:
        if pid not in new_ids:
            gone = last.get(pid) or ProviderIncident(id=pid, title="", status=status, impact="",
                                                      latest_update=update)
            out.append(Change(ChangeKind.PROVIDER_RESOLVED, provider=gone))
    if severity is not incident.severity and not changed and not joined:
        out.append(Change(ChangeKind.INCIDENT_SEVERITY, before=incident.severity, after=severity))
    if out:
        # Said only with another change: settling alone is no news (the component stays in the incident).
        settled = [n for n in incident.flapping if n not in flapping and n in now_map]
        if settled:
            out.append(Change(ChangeKind.SETTLED, components=tuple(ChangedComponent(n, now_map[n])
                                                                    for n in settled)))
    return tuple(out)
