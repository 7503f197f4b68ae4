"""Operating from chat, commands and the terminal: acknowledge, mute and unmute, each recorded with who and when.

`Operations.act(action)` is the one entry: a button click (by incident id, or the 16-hex sha1 prefix of it),
`/status ack|mute|unmute …` and `downwatch ack|mute|unmute` all end here. It never raises for bad or stale
input: it answers with what happened (an ActionResult) and changes nothing. What it changes goes in one
transaction: the action row (who, when, what), the mute or acknowledgement, and the incident's edit and
thread line on every route of the monitor (the sender delivers them; `on_commit` wakes it).
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from bot import engine, wording
from bot.clock import Clock
from bot.commands import MAX_REASON
from bot.config import Monitor
from bot.engine import MonitorState
from bot.model import (
    Acknowledged,
    Action,
    ActionKind,
    ActionResult,
    Actor,
    Alert,
    AlertKind,
    Alternative,
    Change,
    ChangeKind,
    Command,
    CommandKind,
    Delivery,
    Held,
    IncidentView,
    Muted,
    Op,
    Verdict,
)
from bot.outbox import plan_edit
from bot.quiet import Quiet, Snapshot, decorate
from bot.store import Store
from bot.watch import live_status

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def clean_reason(text: str) -> str:
    """One line, no control characters, spaces collapsed (mentions are defused where it is worded)."""
    return " ".join(_CONTROL.sub(" ", text).split())


class Snapshots:
    """A monitor's open incident as its message shows it, from the engine states (with its alternatives)."""

    def __init__(self, *, monitors: Iterable[Monitor], states: Callable[[], Mapping[str, MonitorState]],
                 regions: Callable[[str], Verdict | None] = lambda monitor: None) -> None:
        """`regions`: a regional monitor's latest verdict, so that an ack or a mute keeps the regions line."""
        self._monitors = {m.name: m for m in monitors}
        self._states = states
        self._regions = regions

    def __call__(self, monitor: str, now: datetime) -> Alert | None:
        states = self._states()
        state = states.get(monitor)
        if state is None or state.incident is None:
            return None
        alert = replace(engine.snapshot(state, state.incident, AlertKind.UPDATED, now, ()),
                        regions=self._regions(monitor))
        config = self._monitors.get(monitor)
        if config is not None and config.alternatives:
            alert = replace(alert, alternatives=tuple(Alternative(n, live_status(states.get(n)))
                                                      for n in config.alternatives))
        return alert


class Operations:
    """Acknowledge, mute and unmute, from any surface. Usable as a chat adapter's ActionHandler (`await ops(a)`)."""

    def __init__(
        self, *, store: Store, clock: Clock, monitors: Iterable[Monitor], quiet: Quiet,
        snapshot: Snapshot | None = None, on_commit: Callable[[], None] = lambda: None,
        log: logging.Logger | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._monitors = {m.name: m for m in monitors}
        self._quiet = quiet
        self._snapshot = snapshot or Snapshots(monitors=self._monitors.values(), states=store.load_states)
        self._on_commit = on_commit
        self._log = log or logging.getLogger("downwatch.operate")

    async def __call__(self, action: Action) -> ActionResult:
        return self.act(action)

    # ------------------------------------------------------------ commands

    def command(self, command: Command) -> ActionResult:
        """`/status ack|mute|unmute …` (and the CLI) as an Action."""
        if command.actor is None:
            return ActionResult(wording.UNKNOWN_ACTOR, changed=False, is_error=True)
        kind = {CommandKind.ACK: ActionKind.ACK, CommandKind.MUTE: ActionKind.MUTE}.get(command.kind, ActionKind.UNMUTE)
        until = self._clock.now() + command.mute_for if command.mute_for is not None else None
        return self.act(Action(kind=kind, actor=command.actor, target=command.target or "", until=until,
                               reason=command.reason))

    # ------------------------------------------------------------ acting

    def act(self, action: Action) -> ActionResult:
        """Do what the action asks, or say why not. Never raises for what a user sent."""
        try:
            return self._act(action)
        except Exception:  # a bug: the one who clicked gets an answer, the log gets the trace
            self._log.exception("action %s on %r failed", action.kind.value, action.incident_id or action.target)
            return ActionResult(wording.APOLOGY, changed=False, is_error=True)

    def _act(self, action: Action) -> ActionResult:
        now = self._clock.now()
        reason = clean_reason(action.reason)
        if len(reason) > MAX_REASON:
            return ActionResult(wording.reason_too_long(len(reason), MAX_REASON), changed=False, is_error=True)
        action = replace(action, reason=reason)
        found = self._find(action)
        if isinstance(found, ActionResult):
            return found
        monitor, incident = found
        if action.kind is ActionKind.ACK:
            return self._ack(action, monitor, incident, now)
        if action.kind is ActionKind.MUTE:
            return self._mute(action, monitor, incident, now)
        return self._unmute(action, monitor, incident, now)

    def _find(self, action: Action) -> tuple[str, IncidentView | None] | ActionResult:
        """The monitor acted on and the incident in question (a button's, else the monitor's open one)."""
        store = self._store
        if action.incident_id:
            incident = store.find_incident(action.incident_id)
            if incident is None or incident.monitor not in self._monitors:
                return ActionResult(wording.forgotten_incident(), changed=False)
            return incident.monitor, incident
        name = self._monitor_named(action.target)
        if name is None:
            return ActionResult(wording.unknown_monitor(action.target, self._close(action.target)), changed=False,
                                is_error=True)
        incident = next((i for i in store.open_incidents() if i.monitor == name), None)
        return name, incident

    def _monitor_named(self, target: str) -> str | None:
        """A configured monitor by name (case-insensitive), or the monitor of a component by that name."""
        wanted = " ".join(target.split()).casefold()
        if not wanted:
            return None
        for name in self._monitors:
            if name.casefold() == wanted:
                return name
        found = self._store.find_component(target.strip())
        if found is None and "/" in target:
            found = self._store.find_component(target.partition("/")[2].strip(), target.partition("/")[0].strip())
        return found[0] if found is not None and found[0] in self._monitors else None

    def _close(self, target: str) -> list[str]:
        by_fold = {n.casefold(): n for n in self._monitors}
        close = difflib.get_close_matches(target.casefold(), list(by_fold), n=3, cutoff=0.5)
        close += [f for f in by_fold if target.casefold() in f and f not in close][: 3 - len(close)]
        return [by_fold[c] for c in close]

    def _ack(self, action: Action, monitor: str, incident: IncidentView | None, now: datetime) -> ActionResult:
        if incident is None:
            return ActionResult(wording.no_open_incident(monitor, "acknowledge"), changed=False)
        if incident.resolved_at is not None:
            return ActionResult(wording.resolved_already(incident), changed=False)
        store = self._store
        already = store.acknowledgements({incident.id}).get(incident.id)
        if already is not None:
            return ActionResult(wording.already_acked(monitor, already), changed=False)
        ack = Acknowledged(by=action.actor.name, at=now)
        with store.transaction():
            store.record_action(action, monitor=monitor, incident_id=incident.id, now=now)
            store.acknowledge(incident.id, monitor, ack)
            self._announce(monitor, incident.id, Change(ChangeKind.ACKED, detail=action.actor.name), now)
        self._log.info("%s: incident acknowledged by %s (%s)", monitor, action.actor.name, action.actor.platform)
        self._on_commit()
        return ActionResult(wording.acked(monitor, action.actor.name), changed=True)

    def _mute(self, action: Action, monitor: str, incident: IncidentView | None, now: datetime) -> ActionResult:
        if action.incident_id and incident is not None and incident.resolved_at is not None:
            return ActionResult(wording.resolved_already(incident), changed=False)
        if action.until is not None and action.until <= now:
            return ActionResult(wording.TIME_PASSED, changed=False, is_error=True)
        if action.until is None and (incident is None or incident.resolved_at is not None):
            return ActionResult(wording.until_resolved_needs_incident(monitor), changed=False, is_error=True)
        muted = Muted(by=action.actor.name, at=now, until=action.until, reason=action.reason)
        store = self._store
        open_id = incident.id if incident is not None and incident.resolved_at is None else ""
        with store.transaction():
            store.record_action(action, monitor=monitor, incident_id=open_id, now=now)
            store.set_mute(monitor, muted, incident_id=open_id if action.until is None else "")
            if open_id:
                span = action.until - now if action.until is not None else None
                self._announce(monitor, open_id, Change(ChangeKind.MUTED, detail=action.actor.name, duration=span),
                               now)
        self._log.info("%s: muted by %s (%s) %s", monitor, action.actor.name, action.actor.platform,
                       wording.until_phrase(action.until, wording.utc))
        self._on_commit()
        return ActionResult(wording.muted(monitor, muted, incident=bool(open_id)), changed=True)

    def _unmute(self, action: Action, monitor: str, incident: IncidentView | None, now: datetime) -> ActionResult:
        store = self._store
        if self._quiet.mute(monitor, now) is None:
            self._quiet.tick(now)  # a mute that ran out a moment ago ends now, with its catch-up
            return ActionResult(wording.not_muted(monitor, store.last_mute(monitor)), changed=False)
        open_id = incident.id if incident is not None and incident.resolved_at is None else ""
        if not open_id:
            open_one = next((i for i in store.open_incidents() if i.monitor == monitor), None)
            open_id = open_one.id if open_one is not None else ""
        with store.transaction():
            store.record_action(action, monitor=monitor, incident_id=open_id, now=now)
            store.end_mute(monitor)
            if open_id:
                self._announce(monitor, open_id, Change(ChangeKind.UNMUTED, detail=action.actor.name), now)
        queued = self._quiet.release(monitor, now) if self._quiet.quiet(monitor, now) is None else 0
        self._log.info("%s: unmuted by %s (%s)", monitor, action.actor.name, action.actor.platform)
        self._on_commit()
        return ActionResult(wording.unmuted(monitor, queued), changed=True)

    def _announce(self, monitor: str, incident_id: str, change: Change, now: datetime) -> None:
        """The incident's message rewritten (who acknowledged or muted it) and one thread line saying it, on
        every route; kept back with the rest when the incident was never posted (it opened while quiet)."""
        alert = self._snapshot(monitor, now)
        if alert is None or alert.incident_id != incident_id:
            return  # the engine state is not there (another database?): the action is recorded all the same
        store = self._store
        acks = store.acknowledgements({incident_id})
        mute = self._quiet.mute(monitor, now)
        shown = decorate(alert, acknowledged=acks.get(incident_id), muted=mute.muted if mute else None)
        line = replace(shown, changes=(change,))
        config = self._monitors[monitor]
        if not store.posted(incident_id):
            store.queue((), now=now, timeline=(line,))
            self._quiet.held([Held(alert=line)], now)
            return
        deliveries = plan_edit(shown, config.routes)
        deliveries += [Delivery(platform=r.platform, channel=r.channel, op=Op.REPLY, alert=line) for r in config.routes]
        store.queue(deliveries, now=now, timeline=(line,))


TERMINAL = Actor(id="terminal", name="terminal", platform="cli")
