"""What a check kind is: the one object a monitor's `type = "…"` names (STYLE.md, habit 17).

A kind is a module-level object in its own module under bot/checks/ that owns everything about one way of
checking: its monitor dataclass (a subclass of `bot.config.Monitor`), the monitor keys it accepts beyond the
common ones, their validation, the check itself, and whether its results are stored as probe rows. The core
walks the plain tuple `bot.checks.KINDS`; adding a kind is its module plus one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.checks.client import ProbeClient
    from bot.config import Checker, Common, Monitor
    from bot.model import CheckResult


class CheckKind(Protocol):
    """One way of checking a monitor. `parse` never raises for bad input and `run` never raises for a bad
    target: bad input is reported through `check` (file, key, reason), a bad target is a `CheckResult`."""

    type: str  # the monitor's `type = "…"`; also `Monitor.kind` and the `kind` column of the monitors table
    keys: frozenset[str]  # the monitor keys it accepts beyond the common ones and the platforms' keys
    records_probes: bool  # each result is one probe row (latency, up/down): http and tcp, not status pages

    def parse(self, check: Checker, where: str, table: Mapping[str, object], common: Common) -> Monitor | None:
        """Validate this kind's keys of one [[monitors]] table (`where` prefixes every key an error names,
        e.g. "monitors[2] (API)."); None when they are invalid (the errors are in `check`)."""
        ...

    async def run(self, monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime]) -> CheckResult:
        """One poll of `monitor` (a monitor this kind's `parse` made)."""
        ...
