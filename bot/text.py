"""Small pure wording helpers shared by every renderer."""

from __future__ import annotations

from datetime import timedelta

from bot.model import ProbeStats


def probe_summary(stats: ProbeStats) -> str:
    """'Probes (24h): 1,440, 99.93% OK, avg 120 ms, max 900 ms' — the same words on every platform."""
    hours = int(stats.window.total_seconds() // 3600)
    share = 100.0 * stats.ok / stats.probes if stats.probes else 0.0
    return (f"Probes ({hours}h): {stats.probes:,}, {share:.2f}% OK, avg {stats.avg_ms:,.0f} ms, "
            f"max {stats.max_ms:,.0f} ms")


def all_operational(monitors: int) -> str:
    """'All 7 monitors operational' (and the singular, which the demo shows first)."""
    return "The monitor is operational" if monitors == 1 else f"All {monitors} monitors operational"


def format_duration(delta: timedelta) -> str:
    """'45s', '12m', '1h 12m', '3d 4h' — the two largest units, never negative."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
