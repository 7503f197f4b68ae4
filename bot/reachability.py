"""The bot's own reachability: is a check that got no answer at all the target's failure, or the bot's?

When the control target (or, without one, every monitor at once) cannot be reached either, the bot cannot
see: the failed result is not applied, since it would declare outages that are the bot's own, and one
"network down" notice goes out, then one "network up" when a check or the control target answers again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.model import Alert, AlertKind, Change, ChangeKind, Status

Control = Callable[[], Awaitable[bool]]
Notify = Callable[[Alert], None]
CONTROL_CACHE = timedelta(seconds=10)  # one control probe answers for every failing check in this window
MIN_MONITORS_WITHOUT_CONTROL = 3  # without a control target, "everything fails at once" needs this many


class Reachability:
    """Tracks which monitors got no answer, decides whether the bot is blind, and notifies each transition."""

    def __init__(
        self,
        *,
        monitors: Iterable[str],
        clock: Clock,
        notify: Notify,
        control: Control | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self._monitors = frozenset(monitors)
        self._clock = clock
        self._notify = notify
        self._control = control
        self._log = log or logging.getLogger("downwatch.watch")
        self._control_seen: tuple[datetime, bool] | None = None
        self._unreached: set[str] = set()
        self._blind_since: datetime | None = None
        self._blind_id = ""

    @property
    def blind(self) -> bool:
        """True while the bot itself cannot reach the network."""
        return self._blind_since is not None

    def answered(self, monitor: str) -> None:
        """A check of `monitor` got an answer: the bot can see."""
        self._unreached.discard(monitor)
        if self._blind_since is not None:
            self._see_again("a check got an answer")

    async def can_see(self, monitor: str) -> bool:
        """A check of `monitor` got no answer: is the failure the target's (True) or the bot's own (False)?
        Asks the control target (cached), else: does every monitor fail at once?"""
        self._unreached.add(monitor)
        now = self._clock.now()
        if self._control is not None:
            if self._control_seen is None or now - self._control_seen[0] >= CONTROL_CACHE:
                self._control_seen = (now, await self._control())
            ok = self._control_seen[1]
            reason = "the control target cannot be reached either"
        else:
            ok = not (len(self._monitors) >= MIN_MONITORS_WITHOUT_CONTROL and self._unreached >= self._monitors)
            reason = f"all {len(self._monitors)} monitors fail to connect at once"
        if not ok and self._blind_since is None:
            self._blind_since = now
            self._blind_id = f"network@{now.isoformat()}"
            self._log.error("monitoring degraded: the bot cannot reach the network (%s)", reason)
            self._notify(self._notice(AlertKind.NETWORK_DOWN, now, reason))
        elif ok and self._blind_since is not None:
            self._see_again("the control target answers")
        return ok

    def _see_again(self, reason: str) -> None:
        now = self._clock.now()
        self._log.info("monitoring restored: %s", reason)
        self._notify(self._notice(AlertKind.NETWORK_UP, now, reason))
        self._blind_since = None

    def _notice(self, kind: AlertKind, now: datetime, reason: str) -> Alert:
        since = self._blind_since or now
        return Alert(kind=kind, incident_id=self._blind_id, monitor="downwatch", severity=Status.UNKNOWN, at=now,
                     started_at=since, resolved_at=now if kind is AlertKind.NETWORK_UP else None,
                     changes=(Change(ChangeKind.NETWORK_UP, duration=now - since, detail=reason)
                              if kind is AlertKind.NETWORK_UP else Change(ChangeKind.NETWORK_DOWN, detail=reason),))
