"""Status sources of mixed types (issue 11, performance; bench item 10): N monitors through the REAL path.

The ten source types take turns (monitor i is of type KINDS[i % 10]): statuspage, incidentio, feed, slack, gcp,
aws, betterstack, instatus, statusio, heroku. Each polls its own paths on bench.sourceserver, an aiohttp server
in another process on 127.0.0.1 serving the real captures of tests/data (`documents` below says which), with a
body that changes now and then (see bench.sourceserver). The path is the one bot/app.py wires:
bot.schedule.build_scheduler → Activity.wrap_poll → Watcher.poll → run_check (make_client, each kind's fetch
and parser, its LastBody) → engine.step → Store.commit (SQLite file, WAL).

Measured over a window after a warm-up (the first round of polls, which reads every body for the first time):
the process's CPU share, polls done, polls whose source could not be read (0 expected), alerts, RSS, and the
server's count of requests and of alternate bodies served in the window.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, free_port, rss_mb, wait_port
from bot import runtime

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
KINDS = ("statuspage", "incidentio", "feed", "slack", "gcp", "aws", "betterstack", "instatus", "statusio", "heroku")
JSON = "application/json"
RSS = "application/rss+xml"
ATOM = "application/atom+xml"

# type → (the monitor's URL under its base, the filter a preset would use)
URLS: dict[str, tuple[str, tuple[str, ...]]] = {
    "statuspage": ("", ()),  # the page's base URL; the kind fetches summary, unresolved and components
    "incidentio": ("/api/v1/summary", ()),
    "feed": ("/history.xml", ()),
    "slack": ("/api/v2.0.0/current", ()),
    "gcp": ("/incidents.json", ("Vertex Gemini API",)),
    "aws": ("/public/currentevents", ("bedrock-us-east-1",)),
    "betterstack": ("", ()),  # base URL; the kind fetches /index.json
    "instatus": ("", ()),  # base URL; the kind fetches /summary.json and /v2/components.json
    "statusio": ("/1.0/status/page", ()),
    "heroku": ("/api/v4/current-status", ()),
}

# type → its captures in tests/data: (file, where it is served under the monitor's base, content type)
CAPTURES: dict[str, list[tuple[str, str, str]]] = {
    "incidentio": [(f, "/api/v1/summary", JSON) for f in (
        "incidentio_widget_api_v1_summary_preview_sample_fitnudge_doc.json",
        "neon_incidentio_widget_api_v1_summary_docs_all_clear.json",
        "openai_status_proxy_summary_codex_test_fixture_minimal.json")],
    "feed": [(f, "/history.xml", ATOM if f.endswith(".atom") else RSS) for f in (
        "aws_legacy_status_rss_all_2026-08-18_50_items.xml", "github_2026-02-04-history.atom",
        "claude_2026-02-04-history.rss", "azure_status_rss_2026-07-23_westus_incident_live.xml",
        "azure_status_rss_2026-08-01_all_clear_empty_channel.xml",
        "openai_feed.rss_2026-04-30_excerpt_ids_anonymized.xml")],
    "slack": [(f, "/api/v2.0.0/current", JSON) for f in (
        "slack_current_v2_2020-07-30_two_active_incidents.json", "slack_status_current_v2_2026-08-13_all_clear.json")],
    "gcp": [(f, "/incidents.json", JSON) for f in (
        "gcp_incidents_2022-07-03_first21of157_resolved_compact.json",
        "gcp_incidents_2026-06_one_open_one_resolved_author_trimmed.json")],
    "aws": [(f, "/public/currentevents", JSON) for f in (
        "aws_health_currentevents_2026-08-01_two_active_events_utf16be_bom.json",
        "aws_health_currentevents_2023-03-13_resolved_event_from_stts_comment_utf8.json")],
    "betterstack": [("huggingface_betterstack_index_2026-07-19_downtime.json", "/index.json", JSON)],
    "instatus": [("perplexity_instatus_summary_2026-07-23_major_outage.json", "/summary.json", JSON)],
    "statusio": [(f, "/1.0/status/page", JSON) for f in (
        "gitlab_statusio_status_2020-09-05_planned_maintenance_active.json",
        "gitlab_statusio_status_2020-02-09_security_issue.json",
        "docker_statusio_status_2020-07-16_partial_service_disruption.json")],
    "heroku": [(f, "/api/v4/current-status", JSON) for f in (
        "heroku_status_v4_current-status_2020-11_maintenance_data_blue.json",
        "heroku_status_v4_current-status_2019-10-24_open_incident_author_adjusted.json")],
}
# Statuspage pages: summary.json as captured; incidents/unresolved.json and components.json are the summary's
# own `incidents` and `components` lists (what a Statuspage serves there), except Discord's real unresolved.json.
STATUSPAGES = (
    ("cloudflare_statuspage_summary_2026-07-29_incident_and_maintenances.json", None),
    ("twilio_summary_2020-06-16_during_incident.json", None),
    ("openai_incidentio_compat_summary_2026-09-29_during_outage_sorted_keys.json", None),
    ("discord_summary_2019-06-24_during_incident.json", "discord_incidents-unresolved_2019-06-24_during_incident.json"),
    ("claude_statuspage_summary_2026-07-29_during_outage.json", None),
    ("cloudamqp_summary_2020-07-16_during_maintenance.json", None),
    ("openai_incidentio_compat_summary_2026-07-09_all_operational_sorted_keys.json", None),
)

Document = dict[str, tuple[bytes, str]]  # path under the monitor's base → (body, content type)


@dataclass(frozen=True)
class Variants:
    """A type's documents, one set per capture. A monitor's primary set is chosen by its index among its
    type; its alternate is the next capture, or (a type with one capture) the same JSON written out anew:
    different bytes, same content."""

    sets: tuple[Document, ...]

    def pair(self, j: int) -> tuple[Document, Document]:
        primary = self.sets[j % len(self.sets)]
        if len(self.sets) > 1:
            return primary, self.sets[(j + 1) % len(self.sets)]
        return primary, {path: (_rewritten(body), kind) for path, (body, kind) in primary.items()}


def _rewritten(body: bytes) -> bytes:
    return json.dumps(json.loads(body), indent=1).encode()


def documents(kind: str) -> Variants:
    if kind == "statuspage":
        sets = []
        for summary_file, unresolved_file in STATUSPAGES:
            summary = (DATA / summary_file).read_bytes()
            doc = json.loads(summary)
            unresolved = ((DATA / unresolved_file).read_bytes() if unresolved_file
                          else json.dumps({"incidents": doc.get("incidents", [])}).encode())
            sets.append({"/api/v2/summary.json": (summary, JSON),
                         "/api/v2/incidents/unresolved.json": (unresolved, JSON),
                         "/api/v2/components.json": (json.dumps({"components": doc["components"]}).encode(), JSON)})
        return Variants(tuple(sets))
    return Variants(tuple({path: ((DATA / file).read_bytes(), ctype)} for file, path, ctype in CAPTURES[kind]))


def url_of(base: str, kind: str, i: int) -> str:
    return f"{base.rstrip('/')}/{kind}/{i}{URLS[kind][0]}"


def monitors(n: int, base: str, interval: float) -> list[Any]:
    """n monitors, the types in turn, each on its own paths of the server at `base`."""
    from bot.checks.source import SourceMonitor
    from bot.checks.statuspage import StatuspageMonitor
    from bot.config import Policy

    policy = Policy()
    out: list[Any] = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        name, url, only = f"{kind}-{i // len(KINDS):03d}", url_of(base, kind, i), URLS[kind][1]
        if kind == "statuspage":
            out.append(StatuspageMonitor(name=name, url=url, interval=interval, timeout=10.0, policy=policy,
                                         components=only))
        else:
            out.append(SourceMonitor(name=name, url=url, interval=interval, timeout=10.0, policy=policy, kind=kind,
                                     components=only))
    return out


async def _stats(client: Any, base: str) -> dict[str, int]:
    response = await client.get(f"{base}stats")
    stats: dict[str, int] = response.json()
    return stats


async def run(args: dict[str, Any]) -> dict[str, Any]:
    from bot.checks import run_check
    from bot.checks.client import make_client
    from bot.clock import SystemClock
    from bot.config import Monitor
    from bot.engine import Step
    from bot.schedule import build_scheduler
    from bot.store import Store
    from bot.watch import Watcher
    from bot.web.activity import Activity

    n, interval = int(args["monitors"]), float(args["interval"])
    warmup, seconds = float(args["warmup"]), float(args["seconds"])
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.sourceserver", "--port", str(port),
                               "--every", str(int(args.get("every", 10)))],
                              cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        if not wait_port(port, time.monotonic() + 20):
            raise RuntimeError(f"bench.sourceserver did not listen: {server.stderr.read().decode() if server.stderr else ''}")
        base = f"http://127.0.0.1:{port}/"
        clock = SystemClock()
        tmp = tempfile.TemporaryDirectory(prefix="downwatch-mixed-")
        store = Store.open(str(Path(tmp.name) / "bench.db"))
        watched = monitors(n, base, interval)
        store.sync_monitors(((m.name, m.kind) for m in watched), clock.now())
        measuring = False
        polls = unreadable = alerts = 0
        unreadable_by: dict[str, str] = {}

        async with make_client() as client:
            activity = Activity(clock=clock)
            watcher = Watcher(monitors=watched, store=store, client=client, clock=clock,
                              check=activity.wrap_check(run_check))
            watched_poll = activity.wrap_poll(watcher.poll)

            async def poll(monitor: Monitor) -> object:
                nonlocal polls, unreadable, alerts
                step = await watched_poll(monitor)
                if measuring and isinstance(step, Step):
                    polls += 1
                    alerts += len(step.alerts)
                    if not step.state.readable:
                        unreadable += 1
                        unreadable_by[monitor.name] = step.state.source_detail
                return step

            scheduler = build_scheduler(monitors=watched, poll=poll, start=clock.now(), checkpoint=store.checkpoint)
            runtime.settle()  # as bot/app.py does before starting the scheduler
            scheduler.start()
            await asyncio.sleep(warmup)
            served0 = await _stats(client, base)
            measuring = True
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            await asyncio.sleep(seconds)
            cpu, elapsed = cpu_seconds() - cpu0, time.perf_counter() - t0
            measuring = False
            served = await _stats(client, base)
            scheduler.shutdown(wait=False)
            rss = rss_mb()
            runtime.unsettle()
        store.close()
        tmp.cleanup()
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    requests = served["requests"] - served0["requests"]
    return {
        "monitors": n, "interval": interval, "seconds": elapsed, "cpu_s": cpu, "cpu_share": cpu / elapsed,
        "polls": polls, "expected_polls": n * elapsed / interval, "unreadable": unreadable,
        "unreadable_by": dict(list(unreadable_by.items())[:5]), "alerts": alerts, "rss_mb": rss,
        "requests": requests, "alternates": served["alternates"] - served0["alternates"],
        "changed": served["changed"] - served0["changed"],
        "missing": served["missing"] - served0["missing"],
    }


if __name__ == "__main__":
    print(json.dumps(runtime.run(run(json.loads(sys.argv[1])))))
