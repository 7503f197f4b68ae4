"""The web server (issue 13) against a real SQLite store and a fake clock, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import app, cli
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import FakeClock
from bot.config import Config, ConfigError, Route, Web, parse_config
from bot.model import SendError, Status
from bot.outbox import Sender
from bot.web.activity import Activity
from bot.web.deflated import gzipped
from bot.web.metrics import exposition, reference
from bot.web.page import href
from tests.fakes.recording import RecordingAdapter
from tests.loopback import LoopbackServer
from tests.web.world import (
    CLOUD,
    DOTS,
    FAST,
    MONITORS,
    SCRIPT_TITLE,
    SITE,
    SLASH,
    World,
    build_world,
    running,
)
from tests.wiring import wire

pytestmark = pytest.mark.anyio




@pytest.fixture
async def web(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with running(world) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def days_per_strip(html: str) -> list[int]:
    return [len(re.findall(r'<rect class="day ', svg)) for svg in re.findall(r'<svg class="strip".*?</svg>', html)]


# ---------------------------------------------------------------- the page


async def test_the_page_during_an_outage_and_after_recovery(world: World, web: httpx.AsyncClient) -> None:
    calm = (await web.get("/")).text
    assert "All 4 monitors operational" in calm
    assert days_per_strip(calm) == [90, 90, 90, 90]
    assert "lasted 1h 2m" in calm  # the resolved incident 10 days ago, with its duration
    assert "major outage, down 1h 2m" in calm  # that day in words, not only in colour

    world.outage()
    page = await web.get("/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert '<meta http-equiv="refresh" content="30">' in html
    assert "4 monitors · 2 components not operational · 1 open incident" in html
    assert 'class="state s-major">🔴 major outage' in html
    assert 'class="state s-degraded">🟡 degraded performance' in html
    assert "Timeline" in html and "joined; 2 of 3 components affected" in html
    assert "https://" in html and "HTTP 503" in html  # not public: URLs and details shown
    assert "<script" not in html.lower() and "src=" not in html  # no script, nothing loaded from elsewhere

    for _ in range(2):
        world.all_well()
        world.clock.advance(60)
    after = (await web.get("/")).text
    assert "All 4 monitors operational" in after
    assert "Open incidents" not in after


async def test_provider_text_is_escaped_everywhere(world: World, web: httpx.AsyncClient) -> None:
    world.outage()
    for path in ("/", href(CLOUD.name)):
        html = (await web.get(path)).text
        assert SCRIPT_TITLE not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends" in html
        assert "&lt;b&gt;Storage&lt;/b&gt;" in html and "<b>Storage</b>" not in html
    summary = (await web.get("/api/v2/summary.json")).json()
    assert summary["incidents"][0]["name"] == SCRIPT_TITLE  # JSON carries the text as it is


async def test_monitor_pages_for_awkward_names(world: World, web: httpx.AsyncClient) -> None:
    for monitor in (CLOUD, SITE, SLASH, DOTS):
        link = href(monitor.name)
        assert link.count("/") == 2, link  # one path segment, whatever the name
        answer = await web.get(link)
        assert answer.status_code == 200, (monitor.name, link)
        assert f"<h1>{monitor.name}</h1>" in answer.text
        assert link in (await web.get("/")).text
    site = (await web.get(href(SITE.name))).text
    assert "Latency, last 24h" in site and '<svg class="latency"' in site and "Probes (24h)" in site
    assert "24h: 100.00%" in site and "90d:" in site
    cloud = (await web.get(href(CLOUD.name))).text
    assert days_per_strip(cloud) == [90] * 4  # the monitor and each of its 3 components
    assert "Latency" not in cloud  # a status page has no probes


async def test_unknown_paths_and_names_are_404(web: httpx.AsyncClient) -> None:
    for path in ("/nope", "/monitors/nobody", "/monitors/" + "x" * 10_000, "/monitors/%2E%2E%2Fetc",
                 "/static/app.js", "/monitors/Acme%20Cloud/extra"):
        answer = await web.get(path)
        assert answer.status_code == 404, path
        assert "<script" not in answer.text
        assert len(answer.text) < 10_000  # a 10 KB name is not echoed back whole
    api = await web.get("/api/v2/nope.json")
    assert api.status_code == 404 and api.json() == {"error": "not found"}
    named = await web.get("/monitors/%3Cscript%3E")
    assert "&lt;script&gt;" in named.text and "<script>" not in named.text


async def test_head_options_and_other_methods(web: httpx.AsyncClient) -> None:
    head = await web.head("/")
    assert head.status_code == 200 and head.content == b""
    options = await web.options("/api/v2/summary.json")
    assert options.status_code == 204 and options.headers["Allow"] == "GET, HEAD, OPTIONS"
    post = await web.post("/", content=b"x")
    assert post.status_code == 405
    page = await web.get("/")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


async def test_public_page_hides_probe_urls_and_details(world: World) -> None:
    world.outage()
    async with running(world, public=True) as url, httpx.AsyncClient(base_url=url) as client:
        html = (await client.get("/")).text
        site = (await client.get(href(SITE.name))).text
        api = (await client.get("/api/v2/summary.json")).text
    assert "secret-host" not in html + site + api
    assert "token=abc" not in html + site + api
    assert "Probes (24h)" not in site and "Latency" not in site
    assert CLOUD.url in html  # a provider's public status page stays


async def test_many_concurrent_clients_all_answered(web: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(*(web.get("/") for _ in range(200)))
    assert {a.status_code for a in answers} == {200}


# ---------------------------------------------------------------- Statuspage v2 API


async def test_statuspage_documents_have_atlassians_fields(world: World, web: httpx.AsyncClient) -> None:
    world.outage()
    summary = (await web.get("/api/v2/summary.json")).json()
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert set(summary["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
    assert summary["status"] == {"indicator": "critical", "description": "Major System Outage"}
    by_name = {c["name"]: c for c in summary["components"]}
    group = by_name["Acme Cloud"]
    assert group["group"] is True and group["status"] == "major_outage" and len(group["components"]) == 3
    api = by_name["API"]
    assert api["group_id"] == group["id"] and api["status"] == "major_outage"
    assert {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
            "start_date", "group_id", "page_id", "group", "only_show_if_degraded"} <= set(api)
    [incident] = summary["incidents"]
    assert incident["status"] == "investigating" and incident["impact"] == "critical"
    assert incident["incident_updates"] and {c["name"] for c in incident["components"]} == {"API", "<b>Storage</b>"}
    assert (await web.get("/api/v2/incidents/unresolved.json")).json()["incidents"] == summary["incidents"]
    assert (await web.get("/api/v2/status.json")).json()["status"] == summary["status"]
    assert (await web.get("/api/v2/components.json")).json()["components"] == summary["components"]
    history = (await web.get("/api/v2/incidents.json")).json()["incidents"]
    assert [i["status"] for i in history] == ["investigating", "resolved"]
    assert history[1]["resolved_at"] and history[1]["incident_updates"][0]["status"] == "resolved"


def test_a_second_downwatch_check_sees_the_same_statuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The first bot's web server runs in a thread with its own loop (the CLI runs its own event loop)."""
    ready: list[str] = []
    expected: dict[str, str] = {}
    stop = threading.Event()
    started = threading.Event()

    async def first() -> None:
        world = build_world(tmp_path)
        world.outage()
        expected.update({v.name: v.status.value for v in world.wired.store.component_views()})
        async with running(world) as url:
            ready.append(url)
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.01)  # serving the other thread's requests until it is done
        world.wired.store.close()

    thread = threading.Thread(target=lambda: asyncio.run(first()))
    thread.start()
    try:
        assert started.wait(30)
        config = tmp_path / "second.toml"
        config.write_text(f'[[monitors]]\nname = "first"\ntype = "statuspage"\nurl = "{ready[0]}"\n')
        code = cli.main(["check", "--json", "--config", str(config)])
    finally:
        stop.set()
        thread.join(30)
    rows = json.loads(capsys.readouterr().out)
    seen = {r["component"]: r["status"] for r in rows if not r["component"].startswith("incident: ")}
    assert seen == expected
    assert seen["API"] == Status.MAJOR.value and code == 1
    assert any(r["component"] == f"incident: {SCRIPT_TITLE}" for r in rows)


# ---------------------------------------------------------------- /metrics and /healthz


async def test_metrics_parse_and_say_what_the_bot_sees(world: World, web: httpx.AsyncClient) -> None:
    world.outage()
    answer = await web.get("/metrics")
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    status = {(s.labels["monitor"], s.labels["component"]): (s.labels["status"], s.value)
              for s in families["downwatch_component_status"].samples}
    assert status[("Acme Cloud", "API")] == ("major_outage", 4)
    assert status[("Acme Cloud", "<b>Storage</b>")] == ("degraded_performance", 2)
    assert status[(SLASH.name, "Ünïcødé ☃")] == ("operational", 0)
    incident = {s.labels["monitor"]: s.value for s in families["downwatch_monitor_open_incident"].samples}
    assert incident == {"Acme Cloud": 1, "Website": 0, SLASH.name: 0, "..": 0}
    checks = {s.labels["result"]: s.value for s in families["downwatch_checks"].samples
              if s.name == "downwatch_checks_total"}
    assert checks["readable"] > 400 and checks["unreadable"] == 0
    last = {s.labels["monitor"]: s.value for s in families["downwatch_monitor_last_check_timestamp_seconds"].samples}
    assert last["Website"] == pytest.approx(world.clock.now().timestamp() - 60)
    latency = {s.labels["kind"]: s.value for s in families["downwatch_probe_latency_seconds"].samples
               if s.name.endswith("_count")}
    assert latency["http"] > 24 and "statuspage" not in latency  # the fed status pages had no latency
    assert families["downwatch_healthy"].samples[0].value == 1
    assert [s.value for s in families["downwatch_scheduler_lag_seconds"].samples if s.name.endswith("_count")] == [0]
    for seconds in (0.0004, 0.003, 0.2):  # three polls, as bot.schedule tells how late each started
        world.activity.late(seconds)
    again = {f.name: f for f in text_string_to_metric_families((await web.get("/metrics")).text)}
    lag = {(s.name, s.labels.get("le")): s.value for s in again["downwatch_scheduler_lag_seconds"].samples}
    assert lag[("downwatch_scheduler_lag_seconds_bucket", "0.001")] == 1
    assert lag[("downwatch_scheduler_lag_seconds_bucket", "0.01")] == 2
    assert lag[("downwatch_scheduler_lag_seconds_bucket", "0.25")] == 3
    assert lag[("downwatch_scheduler_lag_seconds_count", None)] == 3
    assert lag[("downwatch_scheduler_lag_seconds_sum", None)] == pytest.approx(0.2034)
    site = world.site()
    assert exposition(site._registry) == reference(site._registry)  # the fast writer writes the same text


async def test_the_readmes_alert_rules_name_series_the_bot_serves(world: World, web: httpx.AsyncClient) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    rules = readme.split("An Alertmanager rule", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\b(downwatch_[a-z_]+)", rules))
    assert {"downwatch_checks_total", "downwatch_scheduler_lag_seconds_bucket", "downwatch_deliveries_total"} <= named
    world.activity.late(0.001)
    world.activity.delivered("slack", "failed")
    served = {s.name for f in text_string_to_metric_families((await web.get("/metrics")).text) for s in f.samples}
    served.add("downwatch_cluster_leader")  # served by a cluster's processes only (test_cluster_run)
    assert named <= served, f"the README's rules name series /metrics does not serve: {named - served}"


def test_parts_kept_per_monitor_read_like_a_fresh_render(world: World) -> None:
    # One site kept across writes and time (its cards, API groups and metric lines reused per monitor)
    # against a new site each time, which builds everything from the store.
    kept = world.site()
    moves = (lambda: None, world.outage, lambda: world.clock.advance(1), lambda: world.clock.advance(59),
             lambda: world.clock.advance(3600), world.all_well, lambda: world.clock.advance(86400),
             lambda: world.feed(SITE, {"Website": Status.MAJOR}, latency=50.0), lambda: world.clock.advance(600),
             lambda: world.feed(CLOUD, readable=False), lambda: world.clock.advance(30), world.all_well)
    for move in moves:
        move()
        fresh = world.site()
        assert kept._render_index() == fresh._render_index()
        assert kept._summary("http://x") == fresh._summary("http://x")
        for document in (kept._summary("http://x"), kept._components("http://x")):  # joined from kept JSON
            assert kept._json(document) == json.dumps(document).encode()
        assert exposition(kept._registry) == reference(fresh._registry)
        assert gzip.decompress(gzipped(kept._registry.state.blocks())) == reference(fresh._registry)


async def test_healthz_200_then_503_with_the_reason(world: World, web: httpx.AsyncClient) -> None:
    ok = await web.get("/healthz")
    assert ok.status_code == 200 and ok.text == "ok\n"
    world.clock.advance(600)  # no check completes for 10 minutes
    stale = await web.get("/healthz")
    assert stale.status_code == 503 and "no check completed for 600 s" in stale.text
    world.all_well()
    assert (await web.get("/healthz")).status_code == 200
    world.scheduler_running = False
    stopped = await web.get("/healthz")
    assert stopped.status_code == 503 and "the scheduler is not running" in stopped.text


async def test_healthz_503_when_the_outbox_does_not_drain(tmp_path: Path) -> None:
    routed = StatuspageMonitor(name="Acme Cloud", url="https://status.acme.example", policy=FAST,
                               routes=(Route("slack", "#ops"),))
    clock = FakeClock()
    world = World(wired=wire(tmp_path / "o.db", (routed, *MONITORS[1:]), clock=clock), activity=Activity(clock=clock))
    for status in (Status.OPERATIONAL, Status.MAJOR, Status.MAJOR):  # routed to slack; nobody delivers
        world.feed(routed, {"API": status})
        clock.advance(60)
    async with running(world) as url, httpx.AsyncClient(base_url=url) as client:
        world.clock.advance(11 * 60)
        world.all_well()
        answer = await client.get("/healthz")
        metrics = {f.name: f for f in text_string_to_metric_families((await client.get("/metrics")).text)}
    assert answer.status_code == 503 and "outbox for slack not draining" in answer.text
    assert metrics["downwatch_outbox_pending_rows"].samples[0].value > 0
    # Slack answers 503, then 429, then 400 for good, then takes the rest: each attempt is counted by result
    slack = RecordingAdapter(name="slack", failures=[
        SendError("HTTP 503", retryable=True), SendError("HTTP 429", retryable=True, retry_after=0.0,
                                                         rate_limited=True),
        SendError("HTTP 400 channel_not_found", retryable=False)])
    for _ in range(3):  # the recovery: more rows for slack behind the first
        world.feed(routed, {"API": Status.OPERATIONAL})
        world.clock.advance(60)
    sender = Sender(store=world.wired.store, adapters={"slack": slack}, clock=world.clock,
                    on_result=world.activity.delivered)
    for _ in range(4):
        await sender.deliver_all()
        world.clock.advance(120)  # past any backoff
    async with running(world) as url, httpx.AsyncClient(base_url=url) as client:
        metrics = {f.name: f for f in text_string_to_metric_families((await client.get("/metrics")).text)}
    attempts = {s.labels["result"]: s.value for s in metrics["downwatch_deliveries"].samples
                if s.name == "downwatch_deliveries_total" and s.labels["platform"] == "slack"}
    assert attempts["retry"] == 2 and attempts["failed"] == 1 and attempts["sent"] >= 1
    assert attempts["sent"] == len(slack.calls)  # every alert went in the end, one attempt each
    assert [s.value for s in metrics["downwatch_outbox_pending_rows"].samples if s.labels["platform"] == "slack"] == [0]
    world.wired.store.close()


# ---------------------------------------------------------------- config and the composition root


def test_web_table_defaults_and_errors(tmp_path: Path) -> None:
    monitors = [{"name": "a", "type": "statuspage", "url": "https://status.example"}]
    config = parse_config({"web": {}, "monitors": monitors}, path="c.toml", env={})
    assert config.web == Web(host="127.0.0.1", port=8080, public=False)
    assert parse_config({"monitors": monitors}, path="c.toml", env={}).web is None
    with pytest.raises(ConfigError) as caught:
        parse_config({"web": {"port": 70000, "public": "yes", "hots": "x"}, "monitors": monitors},
                     path="c.toml", env={})
    errors = "\n".join(caught.value.errors)
    assert "c.toml: web.port: must be at most 65535" in errors
    assert "c.toml: web.public: must be true or false" in errors
    assert "c.toml: web.hots: unknown key (did you mean 'host'?)" in errors


async def test_run_serves_the_page_while_the_bot_runs(tmp_path: Path, server: LoopbackServer) -> None:
    server.json("/api/v2/summary.json", {"page": {}, "components": [
        {"id": "c1", "name": "API", "status": "operational"}], "incidents": []})
    server.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    server.json("/api/v2/components.json", {"components": []})
    monitor = StatuspageMonitor(name="Provider", url=server.url_for(""), interval=1.0, timeout=0.5)
    config = Config(path="(test)", database=str(tmp_path / "run.db"), monitors=(monitor,),
                    web=Web(host="127.0.0.1", port=0))
    stop = asyncio.Event()
    urls: list[str] = []
    runner = asyncio.create_task(app.run(config, stop=stop, adapters={}, on_web=urls.append))
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(500):  # until the server listens and the first check has landed
                if urls and "API" in (await client.get(urls[0] + "/")).text:
                    break
                await asyncio.sleep(0.01)
            assert urls and (await client.get(urls[0] + "/healthz")).status_code == 200
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
    with pytest.raises(httpx.ConnectError):  # closed with the bot
        async with httpx.AsyncClient() as client:
            await client.get(urls[0] + "/healthz")


def test_strip_days_are_utc_days(world: World) -> None:
    days = world.wired.store.daily_status(days=90, now=world.clock.now())
    records = days["Acme Cloud"]
    assert len(records) == 90 and records[-1].day.hour == 0
    assert records[-1].day + timedelta(days=1) > world.clock.now()
    bad = [r for r in records if r.down]
    assert len(bad) == 1 and bad[0].status is Status.MAJOR and bad[0].down == timedelta(minutes=62)


async def test_demo_serves_the_page_and_prints_its_url() -> None:
    import io

    from bot.demo import demo

    out = io.StringIO()
    running_demo = asyncio.create_task(demo(stream=out, interval=0.2, speed=8.0))
    try:
        for _ in range(500):
            found = re.search(r"status page: (http://127\.0\.0\.1:\d+)/", out.getvalue())
            if found:
                break
            await asyncio.sleep(0.01)
        assert found, out.getvalue()
        async with httpx.AsyncClient() as client:
            page = await client.get(found.group(1) + "/")
        assert page.status_code == 200 and "OpenAI (simulated)" in page.text
        assert '<meta http-equiv="refresh" content="2">' in page.text
    finally:
        assert await asyncio.wait_for(running_demo, 60) == 0


async def test_a_client_that_never_reads_holds_nothing_up(world: World) -> None:
    async with running(world) as url, httpx.AsyncClient(base_url=url) as client:
        host, port = url.removeprefix("http://").split(":")
        stalled = []
        for _ in range(20):  # each asks for the page and its API, then never reads a byte
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 50 + b"GET /api/v2/incidents.json HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            stalled.append(writer)
        answers = await asyncio.wait_for(asyncio.gather(*(client.get(p) for p in ("/", "/healthz", "/metrics"))), 5)
        assert [a.status_code for a in answers] == [200, 200, 200]
        for writer in stalled:
            writer.close()


async def test_private_page_shows_no_token_from_a_probe_url(world: World) -> None:
    """Even the team's own page leaves out a URL's query and user-info: a token there is a secret."""
    world.outage()
    async with running(world, public=False) as url, httpx.AsyncClient(base_url=url) as client:
        html = (await client.get("/")).text + (await client.get(href(SITE.name))).text
    assert "https://secret-host.internal/health" in html
    assert "token=abc" not in html
