"""The status sources of issue 11 as check kinds: each fetched from a real aiohttp server on 127.0.0.1 that
serves the real captures in tests/data (tests/data/README.md says where each comes from), through the real
probe client; `downwatch check --json` in-process; the Watcher; the presets' drift hint."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from bot.checks import (
    KINDS,
    SourceMonitor,
    aws,
    betterstack,
    feed,
    gcp,
    heroku,
    incidentio,
    instatus,
    kind_of,
    run_check,
    slackstatus,
    statusio,
)
from bot.checks.statuspage import StatuspageMonitor, parse_statuspage
from bot.clock import FakeClock
from bot.config import Monitor, parse_config
from bot.model import CheckResult, Status
from tests.conftest import Ran
from tests.loopback import LoopbackServer
from tests.wiring import wire

DATA = Path(__file__).parent / "data"
AT = datetime(2026, 4, 30, 5, tzinfo=UTC)  # when the OpenAI feed excerpt's first item was still open
Downwatch = Callable[..., Ran]
STATUSIO_PATH = "/1.0/status/5e5f7b5b5f7b5b5f7b5b5f7b"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


@dataclass(frozen=True)
class Case:
    """One source type served from its capture: where it is served, the `url` a monitor gives, its filter."""

    type: str
    module: ModuleType
    capture: str
    path: str  # where the server answers with the capture
    url_path: str  # what the monitor's url adds to the server's base URL
    only: tuple[str, ...] = ()
    content_type: str = "application/json"


CASES = [
    Case("incidentio", incidentio, "openai_status_proxy_summary_codex_test_fixture_minimal.json",
         "/proxy/127.0.0.1", ""),
    Case("feed", feed, "openai_feed.rss_2026-04-30_excerpt_ids_anonymized.xml", "/feed.rss", "/feed.rss",
         ("Connectors/Apps", "Responses"), "application/rss+xml"),
    Case("slack", slackstatus, "slack_current_v2_2020-07-30_two_active_incidents.json", "/api/v2.0.0/current",
         "/api/v2.0.0/current", ("Notifications", "Messaging")),
    Case("gcp", gcp, "gcp_incidents_2026-06_one_open_one_resolved_author_trimmed.json", "/incidents.json",
         "/incidents.json", ("Vertex Gemini API", "Virtual Private Cloud (VPC)")),
    Case("aws", aws, "aws_health_currentevents_2026-08-01_two_active_events_utf16be_bom.json",
         "/public/currentevents", "/public/currentevents", ("bedrock-us-east-1", "rds-me-south-1")),
    Case("betterstack", betterstack, "huggingface_betterstack_index_2026-07-19_downtime.json", "/index.json", ""),
    Case("instatus", instatus, "perplexity_instatus_summary_2026-07-23_major_outage.json", "/summary.json", ""),
    Case("statusio", statusio, "docker_statusio_status_2020-07-16_partial_service_disruption.json", STATUSIO_PATH,
         STATUSIO_PATH),
    Case("heroku", heroku, "heroku_status_v4_current-status_2019-10-24_open_incident_author_adjusted.json",
         "/api/v4/current-status", "/api/v4/current-status"),
]
# What each capture shows, read through the kind (the parsers' own tests, tests/test_sources.py, say why).
EXPECTED: dict[str, dict[str, Status]] = {
    "incidentio": {"Codex": Status.MAJOR},
    "feed": {"Connectors/Apps": Status.DEGRADED, "Responses": Status.OPERATIONAL},
    "slack": {"Notifications": Status.DEGRADED, "Messaging": Status.OPERATIONAL},
    "gcp": {"Vertex Gemini API": Status.OPERATIONAL, "Virtual Private Cloud (VPC)": Status.PARTIAL},
    "aws": {"bedrock-us-east-1": Status.OPERATIONAL, "rds-me-south-1": Status.MAJOR},
    "instatus": {"Perplexity": Status.MAJOR},
    "heroku": {"Apps": Status.DEGRADED, "Data": Status.DEGRADED, "Tools": Status.DEGRADED},
}


def serve(server: LoopbackServer, case: Case) -> None:
    server.reply(case.path, read(case.capture), content_type=case.content_type)


def monitor(case: Case, base: str, **extra: object) -> Monitor:
    """The monitor a config with this type, url and filter makes (through the real config parsing)."""
    table: dict[str, object] = {"name": case.type.title(), "type": case.type, "url": base + case.url_path,
                                "timeout": 5, **extra}
    if case.only and "components" not in extra:
        table["components"] = list(case.only)
    (made,) = parse_config({"monitors": [table]}, path="dw.toml", env={}, platforms=()).monitors
    return made


def statuses(result: CheckResult) -> dict[str, Status]:
    return {c.name: c.status for c in result.components}


# ---------------------------------------------------------------- each kind through the probe client


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=[c.type for c in CASES])
async def test_each_source_kind_reads_its_real_capture_from_a_server(
    server: LoopbackServer, client: httpx.AsyncClient, case: Case
) -> None:
    serve(server, case)
    made = monitor(case, server.url)
    assert isinstance(made, SourceMonitor) and made.kind == case.type and kind_of(made).records_probes is False
    result = await run_check(made, client=client, now=lambda: AT)
    assert result.readable, result.detail
    assert result.latency_ms is not None
    # The kind adds the fetch and nothing else: what came back is what the pure parser makes of the capture.
    # (Google's incident links are relative to the dashboard the list was read from: here, the server.)
    links = {"base_url": server.url + "/"} if case.type == "gcp" else {}
    pure = case.module.parse(read(case.capture), monitor=made.name, at=AT, only=case.only, **links)
    assert (result.components, result.incidents) == (pure.components, pure.incidents)
    if case.type in EXPECTED:
        assert statuses(result) == EXPECTED[case.type]
    # every other capture has an open incident (Hugging Face's reports are all resolved: its Spaces Proxy is down)
    assert bool(result.incidents) is (case.type not in ("incidentio", "betterstack"))
    assert server.hits(case.path) == 1


@pytest.mark.anyio
async def test_instatus_fetches_the_components_list_as_a_second_request(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    case = next(c for c in CASES if c.type == "instatus")
    serve(server, case)
    server.json("/v2/components.json", {"components": [
        {"id": "a", "name": "API", "status": "MAJOROUTAGE", "group": {"name": "Platform"}},
        {"id": "b", "name": "Search", "status": "OPERATIONAL", "group": None},
    ]})
    result = await run_check(monitor(case, server.url), client=client, now=lambda: AT)
    assert statuses(result) == {"API": Status.MAJOR, "Search": Status.OPERATIONAL}
    assert server.hits("/summary.json") == server.hits("/v2/components.json") == 1
    filtered = await run_check(monitor(case, server.url, components=["Platform"]), client=client,
                               now=lambda: AT)
    assert statuses(filtered) == {"API": Status.MAJOR}  # a group name keeps its components


@pytest.mark.anyio
async def test_the_cloud_filters_are_their_providers_words(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    gcp_case, aws_case = (next(c for c in CASES if c.type == t) for t in ("gcp", "aws"))
    serve(server, gcp_case)
    serve(server, aws_case)
    by_product = monitor(replace(gcp_case, only=()), server.url, products=["BSGtCUnz6ZmyajsjgTKv"])
    assert isinstance(by_product, SourceMonitor) and by_product.components == ("BSGtCUnz6ZmyajsjgTKv",)
    result = await run_check(by_product, client=client, now=lambda: AT)
    assert statuses(result) == {"BSGtCUnz6ZmyajsjgTKv": Status.PARTIAL}
    # incident links are relative to the dashboard incidents.json is served from
    assert result.incidents[0].url == f"{server.url}/incidents/5fGQt4VbkDnr3Yp8PXPr"

    regional = monitor(replace(aws_case, only=()), server.url, services=["bedrock", "rds"],
                       regions=["us-east-1", "me-south-1"])
    assert isinstance(regional, SourceMonitor)
    assert regional.components == ("bedrock-us-east-1", "bedrock-me-south-1", "rds-us-east-1", "rds-me-south-1")
    result = await run_check(regional, client=client, now=lambda: AT)
    # the Bahrain event names both services; nothing is open in N. Virginia
    assert {n for n, s in statuses(result).items() if s is not Status.OPERATIONAL} == {"bedrock-me-south-1",
                                                                                        "rds-me-south-1"}


@pytest.mark.anyio
async def test_an_unchanged_body_is_read_once_per_monitor(
    server: LoopbackServer, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = next(c for c in CASES if c.type == "betterstack")
    serve(server, case)
    made = monitor(case, server.url)
    reads = 0
    original = betterstack.read

    def counting(body: bytes) -> object:
        nonlocal reads
        reads += 1
        return original(body)

    monkeypatch.setattr(betterstack, "read", counting)  # counts the reads; the reading itself is the real one
    first = await run_check(made, client=client, now=lambda: AT)
    second = await run_check(made, client=client, now=lambda: AT)
    assert first.components == second.components and len(first.components) == 8
    assert server.hits("/index.json") == 2 and reads == 1


# ---------------------------------------------------------------- failures are unknown, never an outage


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=[c.type for c in CASES])
async def test_a_source_that_cannot_be_read_is_unknown_with_a_reason(
    server: LoopbackServer, client: httpx.AsyncClient, case: Case
) -> None:
    server.html(case.path)  # a Cloudflare 502 page
    result = await run_check(monitor(case, server.url), client=client, now=lambda: AT)
    assert not result.readable and result.detail == "HTTP 502 (HTML page)"
    server.reply(case.path, b'{"truncated": [', content_type=case.content_type)
    result = await run_check(monitor(case, server.url), client=client, now=lambda: AT)
    assert not result.readable and result.detail


# ---------------------------------------------------------------- drift: a preset's endpoint moved


@pytest.mark.anyio
async def test_a_preset_whose_endpoint_answers_404_says_to_run_discover(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    (openai, plain) = parse_config({"monitors": [
        {"preset": "openai", "url": server.url, "timeout": 5},
        {"name": "Mine", "type": "incidentio", "url": server.url, "timeout": 5},
    ]}, path="dw.toml", env={}, platforms=()).monitors
    moved = await run_check(openai, client=client, now=lambda: AT)
    assert not moved.readable
    assert moved.detail == (f"HTTP 404; the provider may have moved its status page: run `downwatch discover "
                            f"{server.url}`")
    assert (await run_check(plain, client=client, now=lambda: AT)).detail == "HTTP 404"  # not a preset

    server.reply("/proxy/127.0.0.1", b"<!DOCTYPE html><html><body>We moved!</body></html>", content_type="text/html")
    html = await run_check(openai, client=client, now=lambda: AT)
    assert html.detail.startswith("HTTP 200 (HTML page, expected JSON); the provider may have moved")
    server.html("/proxy/127.0.0.1")  # a 502 error page is the provider having a bad minute, not a move
    assert (await run_check(openai, client=client, now=lambda: AT)).detail == "HTTP 502 (HTML page)"


@pytest.mark.anyio
async def test_a_statuspage_preset_that_moved_says_so_too(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    (claude,) = parse_config({"monitors": [{"preset": "anthropic", "url": server.url, "timeout": 5}]},
                             path="dw.toml", env={}, platforms=()).monitors
    assert isinstance(claude, StatuspageMonitor) and claude.preset == "anthropic"
    result = await run_check(claude, client=client, now=lambda: AT)
    assert "HTTP 404; the provider may have moved its status page: run `downwatch discover" in result.detail


# ---------------------------------------------------------------- the statuspage filter keeps a group


def test_a_group_name_in_the_statuspage_filter_keeps_that_group() -> None:
    body = read("cloudflare_statuspage_summary_2026-07-29_incident_and_maintenances.json")
    doc = json.loads(body)
    groups = {c["id"]: c["name"] for c in doc["components"] if c.get("group")}
    services = [c["name"] for c in doc["components"]
                if groups.get(c.get("group_id")) == "Cloudflare Sites and Services"]
    assert len(doc["components"]) > 400 and 100 < len(services) < 200
    (preset,) = parse_config({"monitors": [{"preset": "cloudflare"}]}, path="dw.toml", env={},
                             platforms=()).monitors
    assert isinstance(preset, StatuspageMonitor) and preset.components == ("Cloudflare Sites and Services",)
    result = parse_statuspage(monitor="Cloudflare", summary=body, unresolved=None, at=AT,
                              components_filter=preset.components)
    assert sorted(c.name for c in result.components) == sorted(services)  # no data centre, no "not on the page"
    assert {c.group for c in result.components} == {"Cloudflare Sites and Services"}
    everything = parse_statuspage(monitor="Cloudflare", summary=body, unresolved=None, at=AT,
                                  components_filter=())
    assert sum(c.status is Status.PARTIAL for c in everything.components) >= 20  # the re-routed data centres
    assert all(c.status is not Status.UNKNOWN for c in result.components)
    mixed = parse_statuspage(monitor="Cloudflare", summary=body, unresolved=None, at=AT,
                             components_filter=("cloudflare sites and services", "Nowhere"))
    assert len(mixed.components) == len(services) + 1 and mixed.components[-1].name == "Nowhere"


# ---------------------------------------------------------------- the Watcher polls a source kind


@pytest.mark.anyio
async def test_the_watcher_polls_an_incidentio_monitor_into_an_outage(
    server: LoopbackServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    case = next(c for c in CASES if c.type == "incidentio")
    serve(server, case)
    made = monitor(case, server.url)
    clock = FakeClock()
    wired = wire(tmp_path / "dw.db", [made], clock=clock, client=client)
    for _ in range(made.policy.failures_before_alert):
        await wired.watcher.poll(made)
        clock.advance(60)
    codex = wired.watcher.states[made.name].component("Codex")
    assert codex is not None and codex.status is Status.MAJOR
    assert wired.store.sql.execute("SELECT COUNT(*) FROM probes").fetchone()[0] == 0  # records_probes is False: readings, not probe rows
    assert wired.store.sql.execute("SELECT kind FROM monitors").fetchone() == ("incidentio",)
    wired.store.close()


# ---------------------------------------------------------------- `downwatch check --json`




def test_check_json_reads_every_source_type(tmp_path: Path, page_thread: LoopbackServer, downwatch: Downwatch) -> None:
    blocks = []
    for case in CASES:
        serve(page_thread, case)
        block = (f'[[monitors]]\nname = "{case.type}"\ntype = "{case.type}"\n'
                 f'url = "{page_thread.url}{case.url_path}"\ntimeout = 5\n')
        if case.only:
            block += f"components = {json.dumps(list(case.only))}\n"
        blocks.append(block)
    path = tmp_path / "dw.toml"
    path.write_text("\n".join(blocks))
    assert len(tomllib.loads(path.read_text())["monitors"]) == len(CASES)
    ran = downwatch("check", "--config", str(path), "--json")
    assert ran.code == 1, ran.err  # outages on most captures
    rows = json.loads(ran.out)
    assert {r["monitor"] for r in rows} == {c.type for c in CASES}
    assert not [r for r in rows if r["component"] == "*"], rows  # every source read
    by = {(r["monitor"], r["component"]): r["status"] for r in rows}
    assert by[("incidentio", "Codex")] == "major_outage"
    assert by[("aws", "rds-me-south-1")] == "major_outage" and by[("aws", "bedrock-us-east-1")] == "operational"
    assert by[("heroku", "Apps")] == "degraded_performance"
    assert ("slack", "incident: " + json.loads(read(CASES[2].capture))["active_incidents"][0]["title"]) in by
    assert by[("statusio", "Docker Hub Automated Builds")] == "partial_outage"


def test_check_json_with_a_preset_and_a_moved_page(tmp_path: Path, page_thread: LoopbackServer,
                                                  downwatch: Downwatch) -> None:
    page_thread.reply("/incidents.json", read(CASES[3].capture))
    path = tmp_path / "dw.toml"
    path.write_text(f'[[monitors]]\npreset = "gemini"\nurl = "{page_thread.url}/incidents.json"\ntimeout = 5\n'
                    f'[[monitors]]\npreset = "huggingface"\nurl = "{page_thread.url}/gone"\ntimeout = 5\n')
    ran = downwatch("check", "--config", str(path), "--json")
    rows = json.loads(ran.out)
    assert ran.code == 1, ran.err
    gemini = [r for r in rows if r["monitor"] == "Gemini API"]
    assert [(r["component"], r["status"]) for r in gemini] == [("Z0FZJAMvEB4j3NbCJs6B", "operational")]
    (moved,) = [r for r in rows if r["monitor"] == "Hugging Face"]
    assert moved["status"] == "unknown"
    assert f"may have moved its status page: run `downwatch discover {page_thread.url}/gone`" in moved["detail"]


def test_every_registered_kind_is_documented_in_the_example() -> None:
    text = (Path(__file__).parent.parent / "downwatch.example.toml").read_text()
    for kind in KINDS:
        assert f'type = "{kind.type}"' in text, kind.type
