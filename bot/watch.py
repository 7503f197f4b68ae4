"""The monitoring loop body: check → engine.step → one store transaction → wake the sender.

One `Watcher` serves every monitor; the scheduler calls `poll(monitor)` on each monitor's interval.
It logs once when a source starts failing and once when it recovers, not on every tick.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

import httpx

from bot import engine
from bot.checks import run_check
from bot.clock import Clock
from bot.config import Monitor
from bot.engine import MonitorState, Step
from bot.model import CheckResult, MonitorKind
from bot.outbox import plan
from bot.store import Store

Check = Callable[..., Awaitable[CheckResult]]


class Watcher:
    """Owns the in-memory engine state (loaded from SQLite at start) and applies check results."""

    def __init__(
        self,
        *,
        monitors: Iterable[Monitor],
        store: Store,
        client: httpx.AsyncClient,
        clock: Clock,
        on_commit: Callable[[], None] = lambda: None,
        check: Check = run_check,
        log: logging.Logger | None = None,
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

    @property
    def states(self) -> dict[str, MonitorState]:
        return dict(self._states)

    async def poll(self, monitor: Monitor) -> Step:
        """Run one check of `monitor` and apply it."""
        result = await self._check(monitor, client=self._client, now=self._clock.now)
        return self.apply(monitor, result)

    async def poll_all(self) -> list[Step]:
        """Every monitor once, in config order (the CLI's `check` and tests)."""
        return [await self.poll(m) for m in self._monitors.values()]

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
