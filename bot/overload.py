"""The probe engine's overload gate: at most `limit` polls in flight; one beyond that is skipped and counted.

A queued probe would wait for CPU or a pooled connection past its own timeout and report a false outage, so
a poll that finds the engine full is skipped, never queued: the monitor's next interval polls it again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.clock import Clock

# Matches make_client's pool size; at the engine's measured throughput (bench/README.md) a full engine
# answers a probe well within a second.
MAX_IN_FLIGHT = 500
OVERLOAD_QUIET = timedelta(seconds=60)  # an overload episode ends after this long without a skipped poll


class OverloadGate:
    """Counts polls in flight; reports an overload once per episode (not once per burst)."""

    def __init__(self, *, clock: Clock, log: logging.Logger | None = None, limit: int = MAX_IN_FLIGHT) -> None:
        self._clock = clock
        self._log = log or logging.getLogger("downwatch.watch")
        self._limit = limit
        self._in_flight = 0
        self._overloaded = False
        self._last_skip: datetime | None = None
        self.skipped = 0  # polls skipped because the engine was full (since start)

    @property
    def overloaded(self) -> bool:
        """True from the first skipped poll until the engine has drained and skipped nothing for a minute."""
        return self._overloaded

    def enter(self) -> bool:
        """Take a slot for one poll (True), or count the poll as skipped (False): the engine is full."""
        if self._in_flight < self._limit:
            self._in_flight += 1
            return True
        self.skipped += 1
        self._last_skip = self._clock.now()
        if not self._overloaded:
            self._overloaded = True
            self._log.error("probe engine overloaded: %d probes in flight; skipping polls until it drains",
                            self._in_flight)
        return False

    def leave(self) -> None:
        """Give back the slot `enter` took; ends the episode once drained and quiet for a minute."""
        self._in_flight -= 1
        if (self._overloaded and self._in_flight <= self._limit // 2 and self._last_skip is not None
                and self._clock.now() - self._last_skip >= OVERLOAD_QUIET):
            self._overloaded = False
            self._log.info("probe engine keeps up again; %d polls skipped so far", self.skipped)
