"""Source parsers (issue 11, performance): milliseconds per poll of each parser on its largest real capture.

`python -m bench.sources [--polls N]`. Each row: the median time of one `parse` call over N polls (a fresh
`at` each poll), twice: "new body" reads the bytes every poll (a body that changed), "unchanged" passes the
monitor's `LastBody`, as a poll does when the page served the same bytes again (most polls). The reference is
the floor any parser pays to read those bytes once: decode + `json.loads` (for feeds: feedparser.parse alone).
The issue's target is 0.5 ms per poll. Not wired into `python -m bench` yet.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
TARGET_MS = 0.5

# parser → (its largest real capture in tests/data, the `only` filter a preset would use)
CAPTURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "incidentio": ("incidentio_widget_api_v1_summary_preview_sample_fitnudge_doc.json", ()),
    "feed": ("aws_legacy_status_rss_all_2026-08-18_50_items.xml", ()),
    "feed (statuspage atom)": ("github_2026-02-04-history.atom", ()),
    "slack": ("slack_current_v2_2020-07-30_two_active_incidents.json", ()),
    "gcp": ("gcp_incidents_2022-07-03_first21of157_resolved_compact.json", ("Vertex Gemini API",)),
    "aws": ("aws_health_currentevents_2026-08-01_two_active_events_utf16be_bom.json", ("bedrock-us-east-1",)),
    "betterstack": ("huggingface_betterstack_index_2026-07-19_downtime.json", ()),
    "instatus": ("perplexity_instatus_summary_2026-07-23_major_outage.json", ()),
    "statusio": ("gitlab_statusio_status_2020-09-05_planned_maintenance_active.json", ()),
    "heroku": ("heroku_status_v4_current-status_2020-11_maintenance_data_blue.json", ()),
}


def _median_ms(fn: Callable[[int], object], polls: int) -> float:
    fn(0)  # warm: imports, regex compilation
    times = []
    for k in range(polls):
        started = time.perf_counter()
        fn(k)
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def run(polls: int) -> list[dict[str, Any]]:
    import feedparser

    from bot.checks import aws, betterstack, feed, gcp, heroku, incidentio, instatus, slackstatus, statusio
    from bot.checks.payload import LastBody, decode

    modules = {
        "incidentio": incidentio,
        "feed": feed,
        "feed (statuspage atom)": feed,
        "slack": slackstatus,
        "gcp": gcp,
        "aws": aws,
        "betterstack": betterstack,
        "instatus": instatus,
        "statusio": statusio,
        "heroku": heroku,
    }
    start = datetime(2026, 8, 1, 12, tzinfo=UTC)
    rows = []
    for name, (file, only) in CAPTURES.items():
        body = (DATA / file).read_bytes()
        module = modules[name]
        ms = _median_ms(
            lambda k, m=module, b=body, o=only, n=name: m.parse(
                b, monitor=n, at=start + timedelta(seconds=60 * k), only=o
            ),
            polls,
        )
        last = LastBody()
        # A fresh bytes object each poll, as the network hands over: equality is checked, not identity.
        copies = [bytes(bytearray(body)) for _ in range(2)]
        steady = _median_ms(
            lambda k, m=module, o=only, n=name, last=last, c=copies: m.parse(
                c[k % 2], monitor=n, at=start + timedelta(seconds=60 * k), only=o, last=last
            ),
            polls,
        )
        if module is feed:
            floor = _median_ms(
                lambda _k, b=body: feedparser.parse(b, sanitize_html=False, resolve_relative_uris=False),
                polls,
            )
            floor_name = "feedparser.parse"
        else:
            floor = _median_ms(lambda _k, b=body: json.loads(decode(b)), polls)
            floor_name = "decode + json.loads"
        rows.append(
            {
                "parser": name,
                "capture": file,
                "bytes": len(body),
                "ms_per_poll": ms,
                "unchanged_ms_per_poll": steady,
                "floor_ms": floor,
                "floor": floor_name,
                "ratio": ms / floor if floor else None,
                "passed": steady <= TARGET_MS,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sources")
    ap.add_argument("--polls", type=int, default=200)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args(argv)
    rows = run(args.polls)
    print(
        f"{'parser':24} {'bytes':>8} {'new body':>9} {'floor':>8} {'ratio':>6} {'unchanged':>10}"
        f"  ms/poll; target ≤ {TARGET_MS} ms"
    )
    for r in rows:
        print(
            f"{r['parser']:24} {r['bytes']:>8} {r['ms_per_poll']:>9.3f} {r['floor_ms']:>8.3f} "
            f"{r['ratio']:>6.2f} {r['unchanged_ms_per_poll']:>10.3f}  {'ok' if r['passed'] else 'OVER'}"
            f"  (floor: {r['floor']})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
