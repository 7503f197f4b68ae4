"""Checks: the I/O edge that turns one monitored source into a `CheckResult`. Failures are data.

`KINDS` is the registry of check kinds (bot/checks/kind.py): a monitor's `type` names one of them. A new
kind is its module plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.checks.client import ProbeClient
from bot.checks.http import HTTP, HttpMonitor, check_http
from bot.checks.kind import CheckKind
from bot.checks.statuspage import STATUSPAGE, StatuspageMonitor, check_statuspage, parse_statuspage
from bot.checks.tcp import TCP, TcpMonitor, check_tcp
from bot.config import Monitor
from bot.model import CheckResult

KINDS: tuple[CheckKind, ...] = (HTTP, STATUSPAGE, TCP)

__all__ = [
    "KINDS", "CheckKind", "HttpMonitor", "StatuspageMonitor", "TcpMonitor", "check_http", "check_statuspage",
    "check_tcp", "kind_of", "parse_statuspage", "run_check",
]


def kind_of(monitor: Monitor, kinds: Sequence[CheckKind] = KINDS) -> CheckKind:
    """The kind that made `monitor` (its `kind` is the kind's `type`)."""
    for kind in kinds:
        if kind.type == monitor.kind:
            return kind
    raise LookupError(f"{monitor.name}: no check kind {monitor.kind!r} among {', '.join(k.type for k in kinds)}")


async def run_check(
    monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime], kinds: Sequence[CheckKind] = KINDS
) -> CheckResult:
    """Run one poll of `monitor`. Never raises for a bad target or source; only bugs raise."""
    return await kind_of(monitor, kinds).run(monitor, client=client, now=now)
