"""The monitoring loop body: check → engine.step → one store transaction → wake the sender.

One `Watcher` serves every monitor; the scheduler calls `poll(monitor)` on each monitor's interval.
It logs once when a source starts failing and once when it recovers, not on every tick.

The bot's own connectivity: when a check gets no answer at all and the control target (or, without
one, every monitor at once) cannot be reached either, the result is NOT applied — the bot cannot see,
so it declares nothing — and one "monitoring degraded" notice goes out, then one when it can see again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from bot import engine
from bot.checks import run_check
from bot.checks.client import ProbeClient
from bot.clock import Clock
from bot.config import Monitor, Route
from bot.engine import MonitorState, Step
from bot.model import Alert, AlertKind, CheckResult, MonitorKind, Status
from bot.outbox import plan
from bot.store import Store

Check = Callable[..., Awaitable[CheckResult]]
Control = Callable[[], Awaitable[bool]]
CONTROL_CACHE = timedelta(seconds=10)  # one control probe answers for every failing check in this window
MIN_MONITORS_WITHOUT_CONTROL = 3  # without a control target, "everything fails at once" needs this many
# Probes in flight at once; more are skipped (and counted) rather than queued: a queued probe would wait for
# CPU or a pooled connection past its own timeout and report a false outage. Matches make_client's pool size;
# at the measured ~5,000 probes/s a full engine answers a probe within ~0.1 s (bench/README.md).
MAX_IN_FLIGHT = 500
OVERLOAD_QUIET = timedelta(seconds=60)  # an overload episode ends after this long without a skipped poll


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
        control: Control | None = None,
        log: logging.Logger | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._monitors = {m.name: m for m in monitors}
        self._store = store
        self._client = client
        self._clock = clock
        self._on_commit = on_commit
        self._check = check
        self._log = log or logging.getLogger("downwatch.watch")
        self._states: dict[str, MonitorState] = {
            name: state for name, state in store.load_states().items() if name in self._monitors
        }
        self._control = control
        self._control_seen: tuple[datetime, bool] | None = None
        self._unreached: set[str] = set()
        self._blind_since: datetime | None = None
        self._blind_id = ""
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._overloaded = False
        self._last_skip: datetime | None = None
        self.skipped = 0  # polls skipped because the probe engine was full (since start)

    @property
    def states(self) -> dict[str, MonitorState]:
        return dict(self._states)

    @property
    def blind(self) -> bool:
        """True while the bot itself cannot reach the network."""
        return self._blind_since is not None

    @property
    def overloaded(self) -> bool:
        """True from the first skipped poll until the engine has drained and skipped nothing for a minute
        (one report per episode, not one per burst)."""
        return self._overloaded

    async def poll(self, monitor: Monitor) -> Step | None:
        """Run one check of `monitor` and apply it (None: not applied — the bot cannot see, or the probe
        engine is full and this poll was skipped; the monitor's next interval polls it again)."""
        if self._in_flight >= self._max_in_flight:
            self.skipped += 1
            self._last_skip = self._clock.now()
            if not self._overloaded:
                self._overloaded = True
                self._log.error("probe engine overloaded: %d probes in flight; skipping polls until it drains",
                                self._in_flight)
            return None
        self._in_flight += 1
        try:
            return await self._poll(monitor)
        finally:
            self._in_flight -= 1
            if (self._overloaded and self._in_flight <= self._max_in_flight // 2 and self._last_skip is not None
                    and self._clock.now() - self._last_skip >= OVERLOAD_QUIET):
                self._overloaded = False
                self._log.info("probe engine keeps up again; %d polls skipped so far", self.skipped)

    async def _poll(self, monitor: Monitor) -> Step | None:
        result = await self._check(monitor, client=self._client, now=self._clock.now)
        if not result.reached:
            self._unreached.add(monitor.name)
            if not await self._can_see():
                return None
        else:
            self._unreached.discard(monitor.name)
            if self._blind_since is not None:
                self._see_again("a check got an answer")
        return self.apply(monitor, result)

    async def _can_see(self) -> bool:
        """Is the failure the bot's own? Asks the control target (cached), else: does everything fail?"""
        now = self._clock.now()
        if self._control is not None:
            if self._control_seen is None or now - self._control_seen[0] >= CONTROL_CACHE:
                self._control_seen = (now, await self._control())
            ok = self._control_seen[1]
            reason = "the control target cannot be reached either"
        else:
            ok = not (len(self._monitors) >= MIN_MONITORS_WITHOUT_CONTROL and self._unreached >= set(self._monitors))
            reason = f"all {len(self._monitors)} monitors fail to connect at once"
        if not ok and self._blind_since is None:
            self._blind_since = now
            self._blind_id = f"network@{now.isoformat()}"
            self._log.error("monitoring degraded: the bot cannot reach the network (%s)", reason)
            self._notice(AlertKind.NETWORK_DOWN, now, reason)
        elif ok and self._blind_since is not None:
            self._see_again("the control target answers")
        return ok

    def _see_again(self, reason: str) -> None:
        now = self._clock.now()
        self._log.info("monitoring restored: %s", reason)
        self._notice(AlertKind.NETWORK_UP, now, reason)
        self._blind_since = None

    def _notice(self, kind: AlertKind, now: datetime, reason: str) -> None:
        since = self._blind_since or now
        alert = Alert(kind=kind, incident_id=self._blind_id, monitor="downwatch", severity=Status.UNKNOWN, at=now,
                      started_at=since, resolved_at=now if kind is AlertKind.NETWORK_UP else None, change=reason)
        routes: dict[tuple[str, str], Route] = {}
        for monitor in self._monitors.values():
            for route in monitor.routes:
                routes.setdefault((route.platform, route.channel), Route(route.platform, route.channel))
        self._store.commit_notice(alert, plan([alert], routes.values()))
        self._on_commit()

    def apply(self, monitor: Monitor, result: CheckResult, now: datetime | None = None) -> Step:
        """Feed one result to the engine and persist its consequences in one transaction."""
        prev = self._states.get(monitor.name)
        step = engine.step(prev, result, now or result.at, monitor.policy)
        deliveries = plan(step.alerts, monitor.routes)
        self._store.commit(prev=prev, step=step, result=result, deliveries=deliveries,
                           probe=monitor.kind is MonitorKind.HTTP)
        self._states[monitor.name] = step.state
        self._log_transition(prev, step)
        for alert in step.alerts:
            self._log.info("%s: %s — %s", alert.monitor, alert.kind.value, alert.change)
        if deliveries:
            self._on_commit()
        return step

    def _log_transition(self, prev: MonitorState | None, step: Step) -> None:
        state = step.state
        was_readable = prev.readable if prev else True
        if was_readable and not state.readable:
            self._log.warning("%s: source unreadable: %s", state.monitor, state.source_detail)
        elif not was_readable and state.readable:
            self._log.info("%s: source readable again", state.monitor)
