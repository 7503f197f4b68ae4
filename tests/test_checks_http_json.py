"""JSON assertions on HTTP monitors (json_query, a JMESPath expression, and json_expect), over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.checks import run_check
from bot.checks.client import ProbeClient
from bot.checks.http import HttpMonitor, Probe, json_problem, judge
from bot.model import CheckResult, Status
from tests.loopback import LoopbackServer

AT = datetime(2026, 9, 29, 18, 30, tzinfo=UTC)
HEALTH = {"status": "ok", "checks": {"db": {"status": "up", "latency_ms": 3}, "queue": {"status": "down"}},
          "version": 12, "ready": True, "regions": ["eu", "us"]}


def monitor(url: str, **options: object) -> HttpMonitor:
    return HttpMonitor(url=url, **{"name": "api", "timeout": 2.0, **options})  # type: ignore[arg-type]


async def check(client: ProbeClient, mon: HttpMonitor) -> CheckResult:
    return await run_check(mon, client=client, now=lambda: AT)


def reading(result: CheckResult) -> tuple[Status, str]:
    (only,) = result.components
    return only.status, only.detail


@pytest.mark.anyio
async def test_expected_values_pass(server: LoopbackServer, client: ProbeClient) -> None:
    server.json("/health", HEALTH)
    url = server.url_for("/health")
    for query, expect in [("status", "ok"), ("checks.db.status", "up"), ("version", 12), ("version", 12.0),
                          ("version", "12"), ("ready", True), ("ready", "true"), ("regions", ["eu", "us"]),
                          ("checks.db", {"status": "up", "latency_ms": 3}), ("length(regions)", 2),
                          ("checks.*.status | sort(@)", ["down", "up"])]:
        result = await check(client, monitor(url, json_query=query, json_expect=expect))
        assert reading(result) == (Status.OPERATIONAL, "HTTP 200"), (query, expect)


@pytest.mark.anyio
async def test_without_an_expected_value_the_query_must_find_something_true(
    server: LoopbackServer, client: ProbeClient
) -> None:
    server.json("/health", HEALTH)
    url = server.url_for("/health")
    assert reading(await check(client, monitor(url, json_query="checks.db"))) == (Status.OPERATIONAL, "HTTP 200")
    assert reading(await check(client, monitor(url, json_query="status == 'ok'"))) == (
        Status.OPERATIONAL, "HTTP 200")
    assert reading(await check(client, monitor(url, json_query="checks.queue.status == 'up'"))) == (
        Status.MAJOR, "json_query 'checks.queue.status == 'up'' is false")


@pytest.mark.anyio
async def test_a_wrong_value(server: LoopbackServer, client: ProbeClient) -> None:
    server.json("/health", {**HEALTH, "status": "down"})
    url = server.url_for("/health")
    assert reading(await check(client, monitor(url, json_query="status", json_expect="ok"))) == (
        Status.MAJOR, 'json_query \'status\' is "down", expected "ok"')
    # as JSON values: true is not 1, and "12" only matches 12 when it is the expectation that is text
    assert reading(await check(client, monitor(url, json_query="ready", json_expect=1))) == (
        Status.MAJOR, "json_query 'ready' is true, expected 1")
    server.json("/text", {"version": "12"})
    assert reading(await check(client, monitor(server.url_for("/text"), json_query="version", json_expect=12))) == (
        Status.MAJOR, 'json_query \'version\' is "12", expected 12')


@pytest.mark.anyio
async def test_a_query_that_finds_nothing(server: LoopbackServer, client: ProbeClient) -> None:
    server.json("/health", HEALTH)
    result = await check(client, monitor(server.url_for("/health"), json_query="checks.cache.status",
                                         json_expect="up"))
    assert reading(result) == (Status.MAJOR, "json_query 'checks.cache.status' found nothing")


@pytest.mark.anyio
async def test_a_body_that_is_not_json(server: LoopbackServer, client: ProbeClient) -> None:
    server.html("/health", status=200)  # a proxy's HTML page with a 200
    server.reply("/bytes", b"\xff\xfe not text", content_type="application/octet-stream")
    for path in ("/health", "/bytes"):
        result = await check(client, monitor(server.url_for(path), json_query="status", json_expect="ok"))
        assert reading(result) == (Status.MAJOR, "body is not JSON")
        assert result.reached


@pytest.mark.anyio
async def test_the_status_is_judged_first_and_the_body_is_capped(
    server: LoopbackServer, client: ProbeClient
) -> None:
    server.json("/down", {"status": "ok"}, status=503)
    assert reading(await check(client, monitor(server.url_for("/down"), json_query="status"))) == (
        Status.MAJOR, "HTTP 503")
    server.json("/big", {"status": "ok", "padding": "x" * 4096})
    result = await check(client, monitor(server.url_for("/big"), json_query="status", max_body_bytes=1024))
    assert reading(result) == (Status.MAJOR, "body larger than 1 KiB: not read as JSON")


@pytest.mark.anyio
async def test_keyword_and_json_together_read_the_body_once(server: LoopbackServer, client: ProbeClient) -> None:
    server.json("/health", HEALTH)
    url = server.url_for("/health")
    both = monitor(url, body_contains='"db"', json_query="status", json_expect="ok")
    assert reading(await check(client, both)) == (Status.OPERATIONAL, "HTTP 200")
    missing = monitor(url, body_contains="cache", json_query="status", json_expect="ok")
    assert reading(await check(client, missing)) == (Status.MAJOR, "keyword 'cache' not found")


def test_judge_precedence_with_json() -> None:
    mon = monitor("http://x", json_query="status", json_expect="ok", degraded_after_ms=100.0)
    assert judge(mon, Probe(200, body=b'{"status": "ok"}'), 150.0) == (Status.DEGRADED, "slow: 150 ms (limit 100 ms)")
    assert judge(mon, Probe(200, body=b'{"status": "no"}'), 150.0) == (
        Status.MAJOR, 'json_query \'status\' is "no", expected "ok"')
    assert judge(mon, Probe(500), 1.0) == (Status.MAJOR, "HTTP 500")
    assert json_problem(monitor("http://x"), b"{}", capped=False) is None  # no query: nothing to judge
    long = monitor("http://x", json_query="a", json_expect="x" * 80)
    detail = json_problem(long, b'{"a": "b"}', capped=False)
    assert detail is not None and detail.endswith("…") and len(detail) < 80
