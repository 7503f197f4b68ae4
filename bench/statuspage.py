"""Status-page polling (issue 6 item 5): parse + engine step per poll on the real captures, and what it writes.

Per poll: bot.checks.parse_statuspage on the captured summary.json bytes (with the monitor's LastBody, as the
statuspage kind keeps one), then bot.engine.step from the
previous state, `now` moving 60 s a poll — exactly what Watcher.poll does after the fetch. Then the same polls
through Store.commit on a real SQLite file: rows written per unchanged poll (SQLite's total_changes, less the
one `monitors` state row) — the target is no per-component row when nothing changed.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import percentile

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CAPTURES = {
    "openai": "openai_incidentio_compat_summary_2026-09-29_during_outage_sorted_keys.json",
    "twilio": "twilio_summary_2020-06-16_during_incident.json",
}


def run(args: dict[str, Any]) -> dict[str, Any]:
    from bot import engine
    from bot.checks import parse_statuspage
    from bot.checks.payload import LastBody
    from bot.config import Policy
    from bot.outbox import plan
    from bot.store import Store

    polls = int(args["polls"])
    out: dict[str, Any] = {}
    policy = Policy()
    for name, file in CAPTURES.items():
        summary = (DATA / file).read_bytes()
        start = datetime(2026, 9, 29, 12, tzinfo=UTC)
        prev = None
        times = []
        last = LastBody()  # the monitor's, as the statuspage kind keeps one
        for k in range(polls):
            now = start + timedelta(seconds=60 * k)
            t = time.perf_counter()
            result = parse_statuspage(monitor=name, summary=summary, unresolved=None, components_filter=(), at=now,
                                      last=last)
            step = engine.step(prev, result, now, policy)
            times.append((time.perf_counter() - t) * 1000.0)
            prev = step.state
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(str(Path(tmp) / "sp.db"))
            store.sync_monitors([(name, "statuspage")], start)
            prev, changes, last = None, [], LastBody()
            for k in range(min(polls, 50)):
                now = start + timedelta(seconds=60 * k)
                result = parse_statuspage(monitor=name, summary=summary, unresolved=None, components_filter=(),
                                          at=now, last=last)
                step = engine.step(prev, result, now, policy)
                before = store.db.conn.total_changes
                store.commit(prev=prev, step=step, result=result, deliveries=plan(step.alerts, ()), probe=False)
                changes.append(store.db.conn.total_changes - before)
                prev = step.state
            store.close()
        out[name] = {"components": len(result.components), "mean_ms": sum(times) / len(times),
                     "p99_ms": percentile(times, 99),
                     "rows_per_unchanged_poll": max(changes[10:], default=0) - 1}  # less the monitors row
    return out


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
