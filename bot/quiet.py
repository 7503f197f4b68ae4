"""Quiet monitors: alerts held back while a monitor is muted or under maintenance, and the catch-up when that ends.

A quiet monitor is still checked and its history recorded (state, incidents, timeline: `/status` shows them);
only its deliveries are held, in the `held` table, with the state change that made them (one transaction).
When the quiet ends (the mute runs out or is lifted, its incident resolves, the window closes), `catch_up`
turns what was held into at most one message and one thread line per incident: the latest snapshot (an
edit, or the first post when the incident opened while quiet) and one line with every change meanwhile.
An incident that opened and resolved while quiet posts nothing.

The decisions (`hold_reason`, `sort`, `catch_up`) are pure and take `now`; `Quiet` reads the current mutes
and acknowledgements from SQLite at each use, so a mute set by `downwatch mute` in another process holds.
Acknowledged incidents send no reminders: they are dropped here, the engine stays as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot import maintenance
from bot.config import Monitor, Route
from bot.maintenance import Window
from bot.model import (
    Acknowledged,
    Alert,
    AlertKind,
    Change,
    ChangeKind,
    Delivery,
    Held,
    MaintenanceView,
    Muted,
    MuteView,
    Op,
)
from bot.outbox import plan, plan_edit
from bot.store import Store

OPENERS = frozenset({AlertKind.OPENED, AlertKind.SOURCE_UNREADABLE, AlertKind.NETWORK_DOWN})
CLOSERS = frozenset({AlertKind.RESOLVED, AlertKind.SOURCE_READABLE, AlertKind.NETWORK_UP})
_NOT_NEWS = frozenset({ChangeKind.REMINDER, ChangeKind.MUTE_ENDED, ChangeKind.MAINTENANCE_ENDED})

Snapshot = Callable[[str, datetime], Alert | None]  # a monitor's open incident as it stands (None: none open)


def mute_over(mute: MuteView, now: datetime, *, incident_open: bool) -> bool:
    """A timed mute is over at its time; a mute until resolved when its incident is no longer open."""
    if mute.muted.until is not None:
        return now >= mute.muted.until
    return not incident_open


def decorate(alert: Alert, *, acknowledged: Acknowledged | None, muted: Muted | None) -> Alert:
    """The alert as a message shows it: who acknowledged and muted it; buttons only on an open incident."""
    buttons = not alert.is_notice and alert.kind is not AlertKind.RESOLVED
    if alert.acknowledged == acknowledged and alert.muted == muted and alert.buttons == buttons:
        return alert
    return replace(alert, acknowledged=acknowledged, muted=muted, buttons=buttons)


def component_names(alert: Alert) -> tuple[str, ...]:
    """Every component the alert is about: the affected ones and those its changes name."""
    names = [c.name for c in alert.components]
    names += [c.name for change in alert.changes for c in change.components]
    return tuple(dict.fromkeys(names))


def hold_reason(alert: Alert, *, mute: MuteView | None, windows: Sequence[MaintenanceView],
                pending: bool) -> str | None:
    """Why this alert is held (None: deliver it): '' for a mute, else the maintenance window's name.
    `pending`: the monitor already has held alerts, so later ones wait behind them (order per thread)."""
    if mute is not None:
        return ""
    names = component_names(alert)
    for window in windows:
        if maintenance.covers(window, names):
            return window.name
    if pending:
        return windows[0].name if windows else ""
    return None


@dataclass(frozen=True)
class Sorted:
    deliver: tuple[Delivery, ...] = ()
    held: tuple[Held, ...] = ()


def sort(
    deliveries: Sequence[Delivery], *, mutes: Mapping[str, MuteView], windows: Mapping[str, Sequence[MaintenanceView]],
    acks: Mapping[str, Acknowledged], pending: Collection[str],
) -> Sorted:
    """Split a step's deliveries into those that go now and the alerts held back (each alert once, in order).
    `mutes`: the monitors muted now; `windows`: the maintenance in force per monitor; `acks`: acknowledged
    incidents (their reminders are dropped); `pending`: monitors with held alerts."""
    deliver: list[Delivery] = []
    held: list[Held] = []
    seen: dict[int, Alert | None] = {}  # id(alert) → its decorated form, or None when held or dropped
    for delivery in deliveries:
        alert = delivery.alert
        key = id(alert)
        if key not in seen:
            ack = acks.get(alert.incident_id)
            mute = mutes.get(alert.monitor)
            if alert.kind is AlertKind.REMINDER and ack is not None:
                seen[key] = None
                continue
            why = hold_reason(alert, mute=mute, windows=windows.get(alert.monitor, ()),
                              pending=alert.monitor in pending)
            shown = decorate(alert, acknowledged=ack, muted=mute.muted if mute else None)
            if why is None:
                seen[key] = shown
            else:
                seen[key] = None
                held.append(Held(alert=shown, why=why))
        shown_alert = seen[key]
        if shown_alert is not None:
            deliver.append(delivery if shown_alert is alert else replace(delivery, alert=shown_alert))
    return Sorted(tuple(deliver), tuple(held))


def _ended(why: str) -> Change:
    return Change(ChangeKind.MAINTENANCE_ENDED, detail=why) if why else Change(ChangeKind.MUTE_ENDED)


def catch_up(
    held: Sequence[Held], routes: Sequence[Route], *, now: datetime, posted: Callable[[str], bool],
    acks: Mapping[str, Acknowledged],
) -> list[Delivery]:
    """What brings the messages up to date once the quiet ends, per incident (in the order they were held):
    - opened while quiet and still open: its first post now, and a thread line saying why it comes late;
    - opened and resolved while quiet: nothing;
    - posted before: one edit (the latest snapshot) and one thread line with every change meanwhile, or the
      recovery; only an edit (the mute line goes away) when nothing but reminders happened."""
    groups: dict[str, list[Held]] = {}
    for item in held:
        groups.setdefault(item.alert.incident_id, []).append(item)
    out: list[Delivery] = []
    for incident_id, items in groups.items():
        first, last = items[0].alert, items[-1].alert
        ended = _ended(items[-1].why)
        changes = tuple(c for item in items for c in item.alert.changes if c.kind not in _NOT_NEWS)
        latest = decorate(replace(last, at=now), acknowledged=acks.get(incident_id), muted=None)
        closed = last.kind in CLOSERS
        if not posted(incident_id):
            if closed or first.kind not in OPENERS:
                continue  # opened and resolved while quiet (or nothing to show it on): nothing to say
            opening = replace(latest, kind=first.kind, changes=changes)
            out += plan([opening], routes)
            line = replace(latest, kind=AlertKind.UPDATED, changes=(ended,))
            out += [Delivery(platform=r.platform, channel=r.channel, op=Op.REPLY, alert=line) for r in routes]
        elif closed:
            out += plan([replace(latest, changes=changes)], routes)
        elif changes:
            out += plan([replace(latest, kind=AlertKind.UPDATED, changes=(*changes, ended))], routes)
        else:
            out += plan_edit(replace(latest, kind=AlertKind.UPDATED, changes=()), routes)
    return out


class Quiet:
    """Holds a quiet monitor's alerts (`sort`, before the watcher commits a step) and releases them when the
    quiet ends (`settle` after the commit, `tick` on a schedule and at start-up for ends without a poll)."""

    def __init__(
        self, *, store: Store, monitors: Iterable[Monitor], windows: Sequence[Window] = (),
        snapshot: Snapshot | None = None, on_commit: Callable[[], None] = lambda: None,
        log: logging.Logger | None = None,
    ) -> None:
        self._store = store
        self._routes = {m.name: m.routes for m in monitors}
        self._windows = tuple(windows)
        self._snapshot = snapshot
        self._on_commit = on_commit
        self._log = log or logging.getLogger("downwatch.quiet")
        self._pending = store.held_monitors()

    @property
    def windows(self) -> tuple[Window, ...]:
        return self._windows

    def mute(self, monitor: str, now: datetime) -> MuteView | None:
        """The monitor's mute if it holds at `now` (one that has run out but is not yet ended holds no more)."""
        mute = self._store.mute(monitor)
        if mute is None or mute_over(mute, now, incident_open=self._incident_open(mute)):
            return None
        return mute

    def quiet(self, monitor: str, now: datetime) -> str | None:
        """Why the monitor is quiet now ('' muted, else a window's name), None when it is not."""
        if self.mute(monitor, now) is not None:
            return ""
        windows = maintenance.active(self._windows, now, monitor)
        return windows[0].name if windows else None

    def _incident_open(self, mute: MuteView) -> bool:
        if not mute.incident_id:
            return False
        incident = self._store.incident(mute.incident_id)
        return incident is not None and incident.resolved_at is None

    def sort(self, deliveries: Sequence[Delivery], now: datetime) -> tuple[list[Delivery], list[Held]]:
        """The deliveries to queue now and the alerts to hold, for one step (no query when nothing is sent)."""
        if not deliveries:
            return [], []
        monitors = {d.alert.monitor for d in deliveries}
        mutes = {name: mute for name in monitors if (mute := self.mute(name, now)) is not None}
        windows = {name: maintenance.active(self._windows, now, name) for name in monitors}
        acks = self._store.acknowledgements({d.alert.incident_id for d in deliveries})
        result = sort(deliveries, mutes=mutes, windows=windows, acks=acks, pending=self._pending)
        self._pending |= {h.alert.monitor for h in result.held}
        return list(result.deliver), list(result.held)

    def held(self, items: Sequence[Held], now: datetime) -> None:
        """Hold alerts made outside a step (an action on an incident that was never posted)."""
        self._store.hold(items, now=now)
        self._pending |= {h.alert.monitor for h in items}

    def settle(self, monitor: str, now: datetime) -> int:
        """After a step: release the monitor's held alerts once it is not quiet any more (a mute until resolved
        ends with the recovery). A set lookup for a monitor with nothing held: the per-poll path."""
        return self._settle(monitor, now) if monitor in self._pending else 0

    def _settle(self, monitor: str, now: datetime) -> int:
        """End the monitor's mute if it is over, and release its held alerts once it is not quiet any more.
        Returns the outbox rows queued."""
        rows = 0
        ended = self._end_mute(monitor, now)
        if monitor in self._pending and self.quiet(monitor, now) is None:
            rows = self.release(monitor, now)
        elif ended is not None and self.quiet(monitor, now) is None:
            rows = self._refresh(monitor, now)
        if rows:
            self._on_commit()
        return rows

    def release(self, monitor: str, now: datetime) -> int:
        """Queue the catch-up of a monitor's held alerts now (whether or not it is still quiet: an unmute)."""
        routes = self._routes.get(monitor, ())
        store = self._store

        def make(items: list[Held]) -> Sequence[Delivery]:
            acks = store.acknowledgements({h.alert.incident_id for h in items})
            return catch_up(items, routes, now=now, posted=store.posted, acks=acks)

        rows = store.release(monitor, make, now=now)
        self._pending.discard(monitor)
        if rows:
            self._log.info("%s: no longer quiet; %d held message(s) queued", monitor, rows)
        return rows

    def _end_mute(self, monitor: str, now: datetime) -> MuteView | None:
        mute = self._store.mute(monitor)
        if mute is None or not mute_over(mute, now, incident_open=self._incident_open(mute)):
            return None
        self._store.end_mute(monitor)
        self._log.info("%s: mute by %s ended", monitor, mute.muted.by)
        return mute

    def _refresh(self, monitor: str, now: datetime) -> int:
        """A mute ended with nothing held: rewrite the open incident's message without its mute line."""
        alert = self._snapshot(monitor, now) if self._snapshot is not None else None
        if alert is None or not self._store.posted(alert.incident_id):
            return 0
        acks = self._store.acknowledgements({alert.incident_id})
        shown = decorate(alert, acknowledged=acks.get(alert.incident_id), muted=None)
        edits = plan_edit(shown, self._routes.get(monitor, ()))
        self._store.queue(edits, now=now)
        return len(edits)

    def tick(self, now: datetime) -> int:
        """Every monitor with a mute or held alerts: settle it (mutes that ran out while no poll came, or while
        the process was down; windows that closed). Run at start-up and on a schedule."""
        self._pending = self._store.held_monitors()  # another process (the CLI) may have held or released
        names = self._pending | {m.monitor for m in self._store.mutes()}
        return sum(self._settle(name, now) for name in sorted(names))
