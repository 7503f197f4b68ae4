"""Checks: the I/O edge that turns one monitored source into a `CheckResult`. Failures are data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.checks.client import ProbeClient
from bot.checks.http import check_http
from bot.checks.statuspage import check_statuspage, parse_statuspage
from bot.config import HttpMonitor, Monitor, StatuspageMonitor
from bot.model import CheckResult

__all__ = ["check_http", "check_statuspage", "parse_statuspage", "run_check"]


async def run_check(
    monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime]
) -> CheckResult:
    """Run one poll of `monitor`. Never raises for a bad target or source; only bugs raise."""
    if isinstance(monitor, HttpMonitor):
        return await check_http(monitor, client=client, now=now)
    if isinstance(monitor, StatuspageMonitor):
        return await check_statuspage(monitor, client=client, now=now)
    raise TypeError(f"unknown monitor type: {type(monitor).__name__}")
