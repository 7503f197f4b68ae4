"""The monitoring loop body: check → engine.step → one store transaction → wake the sender.

One `Watcher` serves every monitor; the scheduler calls `poll(monitor)` on each monitor's interval.
It logs once when a source starts failing and once when it recovers, not on every tick.

Two decisions live in their own place and are injected: whether the probe engine has room for a poll
(bot.overload.OverloadGate) and whether a check that got no answer is the bot's own failure
(bot.reachability.Reachability: then the result is not applied, and its notices go out through `NetworkNotices`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import ChainMap
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot import early, engine, regions, wording
from bot.checks import KINDS, CheckKind, run_check
from bot.checks.client import ProbeClient
from bot.clock import Clock
from bot.config import Monitor, Route
from bot.engine import MonitorState, Step
from bot.model import Alert, AlertKind, Alternative, CheckResult, Delivery, Status, Verdict, summary
from bot.outbox import plan, plan_edit
from bot.overload import OverloadGate
from bot.quiet import Quiet
from bot.reachability import Reachability
from bot.regions import Quorum, Readings
from bot.store import Fenced, Store, Unavailable

Check = Callable[..., Awaitable[CheckResult]]


class NetworkNotices:
    """Delivers the bot's own network notices to every channel any monitor routes to (without mentions)."""

    def __init__(self, *, store: Store, monitors: Iterable[Monitor], on_commit: Callable[[], None]) -> None:
        routes: dict[tuple[str, str], Route] = {}
        for monitor in monitors:
            for route in monitor.routes:
                routes.setdefault((route.platform, route.channel), Route(route.platform, route.channel))
        self._routes = tuple(routes.values())
        self._store = store
        self._on_commit = on_commit

    def __call__(self, alert: Alert) -> None:
        self._store.commit_notice(alert, plan([alert], self._routes))
        self._on_commit()


def live_status(state: MonitorState | None) -> Status:
    """A monitor's live state as another monitor's alternative (bot.model.summary of its in-memory state)."""
    if state is None:
        return Status.UNKNOWN
    statuses = [c.status for c in state.components]
    if state.incident is not None:
        statuses.append(state.incident.severity)
    return summary(statuses, readable=not state.unreadable_notified)


# Alerts that show an open incident as it stands carry the alternatives line; a resolved one and notices do not.
_WITH_ALTERNATIVES = frozenset({AlertKind.OPENED, AlertKind.UPDATED, AlertKind.REMINDER})


@dataclass(frozen=True, slots=True)
class _Change:
    """One step of a monitor, before it is written: `commit` holds the store call's arguments."""

    step: Step
    at: datetime
    deliveries: Sequence[Delivery]
    commit: dict[str, Any]


class Watcher:
    """Owns the in-memory engine state (loaded from SQLite at start) and applies check results."""

    def __init__(
        self,
        *,
        monitors: Iterable[Monitor],
        store: Store,
        client: ProbeClient,
        clock: Clock,
        on_commit: Callable[[], None] = lambda: None,
        check: Check = run_check,
        kinds: Sequence[CheckKind] = KINDS,
        log: logging.Logger | None = None,
        gate: OverloadGate | None = None,
        sight: Reachability | None = None,
        quiet: Quiet | None = None,
        leads: Callable[[], bool] = lambda: True,
        quorum: Quorum | None = None,
        readings: Readings | None = None,
    ) -> None:
        """`gate` defaults to the standard in-flight limit; `sight` to "blind when every monitor fails at
        once" (no control target), its notices delivered to the monitors' channels. `kinds`: the check kinds
        the monitors were made by (whether their results are probe rows); `check` runs them. `leads`: whether
        this process runs the engine now (in a cluster, only the leader does: bot/cluster.py)."""
        self._monitors = {m.name: m for m in monitors}
        self._store = store
        self._client = client
        self._clock = clock
        self._on_commit = on_commit
        self._check = check
        self._probe_kinds = frozenset(k.type for k in kinds if k.records_probes)
        self._log = log or logging.getLogger("downwatch.watch")
        self._leads = leads
        # With regions, HTTP/TCP monitors are probed by the region agents and decided here from their readings,
        # stepped with thresholds of 1: each region applied the monitor's own (bot/regions.py).
        self._quorum = quorum or Quorum()
        self._readings: Readings = readings or store
        self._voted = {m.name: replace(m, policy=regions.quorum_policy(m.policy)) for m in self._monitors.values()
                       if quorum is not None and m.kind in self._probe_kinds}
        self._verdicts: dict[str, Verdict] = {}  # each regional monitor's latest: its alerts name the regions
        voted = [self._monitors[name] for name in self._voted]
        # too few regions reporting on every regional monitor: one notice to their channels (and one restore)
        self._reporting = regions.Reporting(
            monitors=self._voted, hold=regions.notice_hold(voted), log=self._log,
            notify=NetworkNotices(store=store, monitors=voted, on_commit=on_commit)) if voted else None
        self._states: dict[str, MonitorState] = {}
        self._locks: dict[str, asyncio.Lock] = {}  # per monitor: its changes applied one at a time
        self._stored = ""  # why the last write failed ("" when it did not): logged once, not every poll
        self.reload()
        listed: dict[str, list[str]] = {}
        for m in self._monitors.values():
            for other in m.alternatives:
                listed.setdefault(other, []).append(m.name)
        self._listed_by = {name: tuple(parents) for name, parents in listed.items()}  # alternative → monitors
        watchers: dict[str, list[str]] = {}
        for m in self._monitors.values():
            if m.watches:
                watchers.setdefault(m.watches, []).append(m.name)
        self._watchers = {name: tuple(probes) for name, probes in watchers.items()}  # provider → its probes
        self._pages = {m.name: early.page_name(m.url, m.page) for m in self._monitors.values() if m.name in watchers}
        self._gate = gate or OverloadGate(clock=clock, log=self._log)
        self._quiet = quiet or Quiet(store=store, monitors=self._monitors.values())  # mutes, maintenance
        self._sight = sight or Reachability(
            monitors=self._monitors, clock=clock, log=self._log,
            notify=NetworkNotices(store=store, monitors=self._monitors.values(), on_commit=on_commit))

    def reload(self) -> None:
        """Take the engine state from the store, as the last writer left it (at start, and when this process
        becomes the leader: the previous leader moved it on)."""
        self._states = {name: state for name, state in self._store.load_states().items() if name in self._monitors}
        if self._reporting is not None:  # whether a "monitoring degraded" notice is out, as the last leader left it
            last = self._store.timeline(regions.NOTICE_ID, limit=1)
            self._reporting.resume(last[-1] if last else None)

    @property
    def states(self) -> dict[str, MonitorState]:
        return dict(self._states)

    def verdict(self, monitor: str) -> Verdict | None:
        """A regional monitor's latest quorum verdict (None: not regional, or not judged by this process)."""
        return self._verdicts.get(monitor)

    @property
    def blind(self) -> bool:
        """True while the bot itself cannot reach the network."""
        return self._sight.blind

    @property
    def overloaded(self) -> bool:
        """True while the probe engine is in an overload episode (see OverloadGate)."""
        return self._gate.overloaded

    @property
    def skipped(self) -> int:
        """Polls skipped because the probe engine was full (since start)."""
        return self._gate.skipped

    async def poll(self, monitor: Monitor) -> Step | None:
        """Run one check of `monitor` and apply it (None: not applied — the bot cannot see, or the probe
        engine is full and this poll was skipped, this process does not lead, or the store refused the write;
        the monitor's next interval polls it again)."""
        if not self._leads() or not self._gate.enter():
            return None
        try:
            if monitor.name in self._voted:
                return await self._stored_or_not(self._decide(monitor))
            result = await self._check(monitor, client=self._client, now=self._clock.now)
            if not result.reached:
                if not await self._sight.can_see(monitor.name):
                    return None
            else:
                self._sight.answered(monitor.name)
            if not self._leads():  # lost the lead during the check: its successor decides
                return None
            return await self._stored_or_not(self._apply(monitor, result))
        finally:
            self._gate.leave()

    async def _decide(self, monitor: Monitor) -> Step:
        """A regional monitor: the quorum over the regions' latest readings, as the engine's result."""
        now = self._clock.now()
        verdict = self._quorum.judge(monitor, await self._readings.areadings(monitor.name), now)
        step = await self._apply(self._voted[monitor.name], regions.verdict_result(monitor.name, verdict, now),
                                 verdict=verdict)
        if self._reporting is not None:
            self._reporting.judged(monitor.name, verdict, now)
        return step

    async def _stored_or_not(self, work: Awaitable[Step]) -> Step | None:
        """`work` (a read and an apply); None when the store refused it (unreachable, or this process no
        longer leads): nothing was committed and the state did not move. Said once, not on every poll."""
        try:
            step = await work
        except (Unavailable, Fenced) as exc:
            if not self._stored:
                self._log.warning("store: cannot write (%s); checks go on and are applied again once it can", exc)
            self._stored = str(exc)
            return None
        if self._stored:
            self._log.info("store: writing again")
            self._stored = ""
        return step

    def apply(self, monitor: Monitor, result: CheckResult, now: datetime | None = None, *,
              verdict: Verdict | None = None) -> Step:
        """Feed one result to the engine and persist its consequences in one transaction (`verdict`: the
        regions' quorum the result stands for; its detail, which names the regions, is the component's).
        Blocking: tests and benches feed results this way; a poll awaits the same work."""
        change = self._change(monitor, result, now or result.at, verdict)
        self._store.commit(**change.commit)
        for probe in self._settle(monitor, change):
            linked = self._acknowledgement(probe, change.step.state, change.at)
            if linked is not None:
                self._store.commit_linked(**linked.commit)
                self._settle(probe, linked)
        return change.step

    async def _apply(self, monitor: Monitor, result: CheckResult, *, verdict: Verdict | None = None) -> Step:
        """`apply`, awaiting the store: on PostgreSQL other checks run while the statements travel. A monitor's
        changes are applied one at a time, each from the state the one before left."""
        async with self._lock(monitor.name):
            change = self._change(monitor, result, result.at, verdict)
            await self._store.acommit(**change.commit)
            probes = self._settle(monitor, change)
        for probe in probes:
            lock = self._lock(probe.name)
            if lock.locked():  # the probe's own check is being written: the page's next read acknowledges it
                continue
            async with lock:
                linked = self._acknowledgement(probe, change.step.state, change.at)
                if linked is not None:
                    await self._store.acommit_linked(**linked.commit)
                    self._settle(probe, linked)
        return change.step

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock

    def _change(self, monitor: Monitor, result: CheckResult, at: datetime, verdict: Verdict | None) -> _Change:
        """What one result does: the engine's step, and the rows it writes (not written yet)."""
        prev = self._states.get(monitor.name)
        if verdict is not None:
            self._verdicts[monitor.name] = verdict
        step = engine.step(prev, result, at, monitor.policy)
        if monitor.watches:
            step = early.link(step, self._states.get(monitor.watches), name=monitor.watches,
                              page=self._pages[monitor.watches])
        states = ChainMap({monitor.name: step.state}, self._states)  # as they stand after this step
        step = self._with_regions(monitor.name, self._with_alternatives(monitor, step, states))
        deliveries = (plan(step.alerts, monitor.routes) + self._alternative_edits(monitor.name, prev, states, at)
                      + self._regions_edits(monitor, prev, step, states, at))
        deliveries, held = self._quiet.sort(deliveries, at)  # muted or in maintenance: held (bot/quiet.py)
        # an unreadable probe (its key refused) measured nothing about the target: no probe row, no downtime
        probe = (monitor.kind in self._probe_kinds and result.readable
                 and (verdict is None or verdict.status is not Status.UNKNOWN))
        return _Change(step=step, at=at, deliveries=deliveries, commit=dict(
            prev=prev, step=step, result=result, deliveries=deliveries, probe=probe, held=held))

    def _settle(self, monitor: Monitor, change: _Change) -> tuple[Monitor, ...]:
        """After the commit: the state moves, the news is logged and the sender woken. Returns the probes
        whose open incident this monitor's page may now acknowledge."""
        step = change.step
        self._quiet.settle(monitor.name, change.at)  # held alerts go once the quiet ends (a set lookup when none)
        prev = self._states.get(monitor.name)
        self._states[monitor.name] = step.state
        self._log_transition(prev, step)
        for alert in step.alerts:
            self._log.info("%s: %s — %s", alert.monitor, alert.kind.value, wording.change_line(alert))
        if change.deliveries:
            self._on_commit()
        return tuple(self._monitors[probe] for probe in self._watchers.get(monitor.name, ()))

    def _acknowledgement(self, probe: Monitor, provider: MonitorState, now: datetime) -> _Change | None:
        """The watched page of `probe` was just read: if it now admits what the probe's open incident saw,
        the change that records it on that incident (an edit and one thread line, with the lead)."""
        prev = self._states.get(probe.name)
        step = early.acknowledge(prev, provider, now)
        if step is None:
            return None
        states = ChainMap({probe.name: step.state}, self._states)
        step = self._with_regions(probe.name, self._with_alternatives(probe, step, states))
        deliveries, held = self._quiet.sort(plan(step.alerts, probe.routes), now)
        return _Change(step=step, at=now, deliveries=deliveries, commit=dict(
            prev=prev, step=step, deliveries=deliveries, at=now, held=held))

    def _with_alternatives(self, monitor: Monitor, step: Step, states: Mapping[str, MonitorState]) -> Step:
        """The step with its open incident's alerts carrying the monitor's alternatives as they stand."""
        if not monitor.alternatives or not any(a.kind in _WITH_ALTERNATIVES for a in step.alerts):
            return step
        return replace(step, alerts=tuple(
            replace(a, alternatives=self._alternatives(monitor, states)) if a.kind in _WITH_ALTERNATIVES else a
            for a in step.alerts))

    def _alternatives(self, monitor: Monitor, states: Mapping[str, MonitorState]) -> tuple[Alternative, ...]:
        return tuple(Alternative(name, live_status(states.get(name))) for name in monitor.alternatives)

    def _alternative_edits(
        self, name: str, prev: MonitorState | None, states: Mapping[str, MonitorState], now: datetime
    ) -> list[Delivery]:
        """When `name`'s live state moved, the edits that rewrite the parent message of every open, announced
        incident of a monitor listing it as an alternative: its snapshot as it stands, with the new line.
        Edits only, so the news never becomes a message of its own."""
        parents = self._listed_by.get(name)
        if not parents or live_status(prev) is live_status(states.get(name)):
            return []
        edits: list[Delivery] = []
        for parent in parents:
            state = states.get(parent)
            incident = state.incident if state is not None else None
            if state is None or incident is None or not incident.announced:
                continue
            monitor = self._monitors[parent]
            alert = engine.snapshot(state, incident, AlertKind.UPDATED, now, ())
            edits += plan_edit(replace(alert, alternatives=self._alternatives(monitor, states),
                                       regions=self._verdicts.get(parent)), monitor.routes)
        return edits

    def _with_regions(self, name: str, step: Step) -> Step:
        """A regional monitor's step with its open incident's alerts naming the regions (its latest verdict)."""
        verdict = self._verdicts.get(name)
        if verdict is None or not any(a.kind in _WITH_ALTERNATIVES for a in step.alerts):
            return step
        return replace(step, alerts=tuple(replace(a, regions=verdict) if a.kind in _WITH_ALTERNATIVES else a
                                          for a in step.alerts))

    def _regions_edits(self, monitor: Monitor, prev: MonitorState | None, step: Step,
                       states: Mapping[str, MonitorState], now: datetime) -> list[Delivery]:
        """A regional monitor's open, announced incident whose regions moved without an alert of its own (the
        engine has none for a detail: a third region joining the failure, one recovering): its parent message
        rewritten to say so. Edits only, as for an alternative's news."""
        verdict = self._verdicts.get(monitor.name)
        incident = step.state.incident
        if verdict is None or step.alerts or prev is None or incident is None or not incident.announced:
            return []
        before = prev.component(monitor.name)
        if before is not None and before.detail == wording.verdict_detail(verdict):
            return []
        alert = engine.snapshot(step.state, incident, AlertKind.UPDATED, now, ())
        alternatives = self._alternatives(monitor, states) if monitor.alternatives else ()
        return plan_edit(replace(alert, regions=verdict, alternatives=alternatives), monitor.routes)

    def _log_transition(self, prev: MonitorState | None, step: Step) -> None:
        state = step.state
        was_readable = prev.readable if prev else True
        if was_readable and not state.readable:
            self._log.warning("%s: source unreadable: %s", state.monitor, state.source_detail)
        elif not was_readable and state.readable:
            self._log.info("%s: source readable again", state.monitor)
