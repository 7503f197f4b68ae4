"""Checks: the I/O edge that turns one monitored source into a `CheckResult`. Failures are data.

`KINDS` is the registry of check kinds (bot/checks/kind.py): a monitor's `type` names one of them. A new
kind is its module plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.checks.aws import AWS
from bot.checks.betterstack import BETTERSTACK
from bot.checks.client import REQUEST_FAILURES, ProbeClient, describe_failure
from bot.checks.feed import FEED_KIND
from bot.checks.gcp import GCP
from bot.checks.heroku import HEROKU
from bot.checks.http import HTTP, HttpMonitor, check_http
from bot.checks.incidentio import INCIDENTIO
from bot.checks.instatus import INSTATUS
from bot.checks.kind import CheckKind
from bot.checks.slackstatus import SLACK
from bot.checks.source import SourceMonitor
from bot.checks.statusio import STATUSIO
from bot.checks.statuspage import STATUSPAGE, StatuspageMonitor, check_statuspage, parse_statuspage
from bot.checks.tcp import TCP, TcpMonitor, check_tcp
from bot.config import Monitor
from bot.model import CheckResult

KINDS: tuple[CheckKind, ...] = (
    HTTP, STATUSPAGE, TCP, INCIDENTIO, FEED_KIND, SLACK, GCP, AWS, BETTERSTACK, INSTATUS, STATUSIO, HEROKU,
)

__all__ = [
    "KINDS", "CheckKind", "HttpMonitor", "SourceMonitor", "StatuspageMonitor", "TcpMonitor", "check_http", "check_statuspage",
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
    kind = kind_of(monitor, kinds)
    try:
        return await kind.run(monitor, client=client, now=now)
    except REQUEST_FAILURES as exc:
        # Each kind turns its own fetch's failures into a result (an http probe's into an outage). One that
        # lets one through must still not crash `check` or end a monitor's polling in `run`: the source is
        # unknown, never down.
        return CheckResult(monitor=monitor.name, at=now(), readable=False, reached=False,
                           detail=describe_failure(exc, timeout=monitor.timeout))
