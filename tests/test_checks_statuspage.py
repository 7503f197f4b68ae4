"""Statuspage v2 source: the pure parser on real captures, and the fetcher against real loopback servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checks import run_check
from bot.checks.payload import LastBody
from bot.checks.statuspage import MISSING_DETAIL, StatuspageMonitor, parse_statuspage
from bot.model import CheckResult, Status
from tests.loopback import LoopbackServer, closed_port

DATA = Path(__file__).parent / "data"
AT = datetime(2026, 9, 29, 18, 30, tzinfo=UTC)
LATER = datetime(2026, 9, 29, 18, 31, tzinfo=UTC)

OPENAI_OUTAGE = "openai_incidentio_compat_summary_2026-09-29_during_outage_sorted_keys.json"
OPENAI_CLEAR = "openai_incidentio_compat_summary_2026-07-09_all_operational_sorted_keys.json"
DISCORD_SUMMARY = "discord_summary_2019-06-24_during_incident.json"
DISCORD_UNRESOLVED = "discord_incidents-unresolved_2019-06-24_during_incident.json"
TWILIO = "twilio_summary_2020-06-16_during_incident.json"
CLOUDAMQP = "cloudamqp_summary_2020-07-16_during_maintenance.json"
CIRCLECI = "circleci_components_2025-10_trimmed_grouped.json"
DOCS_EXAMPLE = "statuspage_docs_example_summary_relabelled_github.json"
CLOUDFLARE = "cloudflare_statuspage_summary_2026-07-29_incident_and_maintenances.json"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def parse(summary: bytes, unresolved: bytes | None = None, components: tuple[str, ...] = ()) -> CheckResult:
    return parse_statuspage(
        monitor="page", summary=summary, unresolved=unresolved, components_filter=components, at=AT
    )


def statuses(result: CheckResult) -> dict[str, Status]:
    return {c.name: c.status for c in result.components}


# ---------------------------------------------------------------- parser, real captures


def test_openai_outage_summary_reads_22_of_25_degraded_and_two_open_incidents() -> None:
    result = parse(data(OPENAI_OUTAGE))
    assert result.readable and result.detail == "" and result.at == AT
    assert len(result.components) == 25
    counts = [c.status for c in result.components]
    assert counts.count(Status.DEGRADED) == 22
    assert counts.count(Status.OPERATIONAL) == 3
    assert statuses(result)["Chat Completions"] is Status.DEGRADED
    assert statuses(result)["Ads API"] is Status.OPERATIONAL
    assert all(c.group is None for c in result.components)  # OpenAI's compat JSON has no groups

    first, second = result.incidents
    assert first.id == "01M3Q4RK1SM4EMK445GGPG7C0N"
    assert first.title.startswith("Elevated errors across ChatGPT, Codex, and the API")
    assert (first.status, first.impact) == ("investigating", "minor")
    # the newest update (18:24) wins over the older one listed second
    assert first.latest_update.startswith(
        "We’re investigating elevated errors affecting ChatGPT, Codex, and the API including"
    )
    assert first.updated_at == datetime(2026, 9, 29, 18, 24, 17, tzinfo=UTC)
    assert first.url is None and first.components == ()  # no shortlink, no components in incident.io compat
    assert second.title == "Support chat unavailable" and second.impact == "none"
    assert second.latest_update.startswith("Our Help Center is available")


def test_openai_all_clear_summary_without_incidents_key() -> None:
    result = parse(data(OPENAI_CLEAR))
    assert result.readable and result.incidents == ()
    assert len(result.components) == 25
    assert {c.status for c in result.components} == {Status.OPERATIONAL}


def test_discord_open_incident_with_green_indicator_from_unresolved() -> None:
    result = parse(data(DISCORD_SUMMARY), data(DISCORD_UNRESOLVED))
    assert result.readable and result.detail == ""
    assert {c.status for c in result.components} == {Status.OPERATIONAL}
    # "Voice" is a group container: skipped; its 13 region children carry the group name
    assert "Voice" not in statuses(result)
    assert len(result.components) == 17
    regions = [c for c in result.components if c.group == "Voice"]
    assert len(regions) == 13
    (incident,) = result.incidents
    assert incident.title == "Global Unavailability"
    assert (incident.status, incident.impact) == ("investigating", "none")
    assert incident.latest_update == "We are working on resolving some internal technical problems now."
    assert incident.url == "http://stspg.io/15e073752"
    assert incident.components == ()  # components: [] and affected_components: null
    assert incident.updated_at == datetime(2019, 6, 24, 13, 7, 14, 465000, tzinfo=UTC)


def test_twilio_groups_skip_containers_and_keep_group_names() -> None:
    result = parse(data(TWILIO))
    degraded = {c.name: c.group for c in result.components if c.status is Status.DEGRADED}
    # 6 degraded rows on the page, 2 of which are group containers
    assert degraded == {
        "SMS Short Code, North America": "CARRIER NETWORK",
        "MMS Short Code, North America": "CARRIER NETWORK",
        "SMS, Middle East & Africa": "CARRIER NETWORK",
        "MMS": "PROGRAMMABLE MESSAGING",
    }
    assert "PROGRAMMABLE MESSAGING" not in statuses(result)
    assert len(result.components) == 73 - 8  # 8 group containers
    assert [i.status for i in result.incidents] == ["investigating", "monitoring"]
    sms_mea = result.incidents[0]
    assert sms_mea.components == ("SMS, Middle East & Africa",)
    assert sms_mea.url == "http://stspg.io/q363nfb5wg00"


def test_twilio_filter_by_group_path_and_drop_unrelated_incident() -> None:
    result = parse(data(TWILIO), components=("carrier network / sms, middle east & africa",))
    assert [(c.name, c.status) for c in result.components] == [("SMS, Middle East & Africa", Status.DEGRADED)]
    # the Sprint short-code incident names other components only: dropped
    assert [i.title for i in result.incidents] == ["SMS Delivery Delays to Mozambique Movitel"]


def test_cloudamqp_maintenance_is_a_component_status_not_an_incident() -> None:
    result = parse(data(CLOUDAMQP))
    assert statuses(result)["Shared servers"] is Status.MAINTENANCE
    assert [c.status for c in result.components].count(Status.MAINTENANCE) == 1
    assert result.incidents == ()  # the in-progress maintenance is not a ProviderIncident


def test_cloudamqp_in_progress_maintenance_is_read_by_its_own_name() -> None:
    (m,) = parse(data(CLOUDAMQP)).maintenances
    assert m.name == "Upgrade of shared servers “jellyfish”, “wildboar”, and “reindeer”"
    assert (m.id, m.status, m.in_progress) == ("qy6n39trpl7l", "in_progress", True)
    assert (m.starts_at, m.ends_at) == (datetime(2020, 7, 16, 21, tzinfo=UTC), datetime(2020, 7, 16, 23, tzinfo=UTC))
    assert m.components == ("Shared servers",) and m.url == "http://stspg.io/3crfld0dxr87"


def test_cloudflare_maintenances_planned_and_in_progress_beside_a_real_incident() -> None:
    result = parse(data(CLOUDFLARE))
    assert [i.title for i in result.incidents] == ["Cloudflare Workers — Errors Deploying Workers Scripts"]
    assert len(result.maintenances) == 16
    assert sum(m.in_progress for m in result.maintenances) == 4
    assert {m.status for m in result.maintenances} == {"scheduled", "in_progress"}
    iad = next(m for m in result.maintenances if m.name == "IAD (Ashburn) on 2026-07-29")
    assert iad.in_progress and iad.components == ("Ashburn, VA, United States - (IAD)",)
    assert (iad.starts_at, iad.ends_at) == (datetime(2026, 7, 29, 11, tzinfo=UTC), datetime(2026, 7, 30, 6, tzinfo=UTC))
    assert iad.url == "https://stspg.io/9vbpzrw8g3vv"
    # a components filter keeps the maintenances that name what it keeps (by name or by group)
    paris = parse(data(CLOUDFLARE), components=("Paris, France - (CDG)",))
    assert [m.name for m in paris.maintenances] == ["CDG (Paris) on 2026-07-29", "CDG (Paris) on 2026-07-30"]
    services = parse(data(CLOUDFLARE), components=("Cloudflare Sites and Services",))  # the preset's group
    assert [(m.name, m.components) for m in services.maintenances] == [
        ("DNS Record Management Maintenance", ("DNS Updates",))]  # the data centres' are left out


def test_twilio_scheduled_maintenances_with_offsets_read_in_utc() -> None:
    result = parse(data(TWILIO))
    assert len(result.maintenances) == 9 and not any(m.in_progress for m in result.maintenances)
    first = result.maintenances[0]
    assert first.starts_at == datetime(2020, 6, 16, 23, tzinfo=UTC)  # 16:00 -07:00
    assert first.ends_at == datetime(2020, 6, 17, 3, tzinfo=UTC)


def test_docs_example_maintenances_without_components_are_not_incidents() -> None:
    result = parse(data(DOCS_EXAMPLE))
    assert [(m.name, m.status, m.components) for m in result.maintenances] == [
        ("Network Maintenance (No Interruption Expected)", "scheduled", ()),
        ("Web Tier Recycle", "in_progress", ()),
    ]
    assert [i.status for i in result.incidents] == ["identified"]  # the minor in-progress one is no incident


def test_completed_and_strangely_shaped_maintenances_are_left_out() -> None:
    summary = summary_of(component("c1", "API"), scheduled_maintenances=[
        {"id": "m1", "name": "Done", "status": "completed", "components": [{"id": "c1"}]},
        "not an object",
        {"id": "m2", "name": "Soon", "status": "scheduled", "scheduled_for": "yesterday", "components": [{"id": "c1"}]},
    ])
    result = parse(summary)
    assert result.readable
    assert [(m.id, m.starts_at, m.components) for m in result.maintenances] == [("m2", None, ("API",))]
    assert parse(summary_of(component("c1", "API"), scheduled_maintenances={"x": 1})).maintenances == ()


def test_circleci_grouped_components() -> None:
    result = parse(data(CIRCLECI))
    groups = {c.name: c.group for c in result.components}
    assert "CircleCI Dependencies" not in groups and "Upstream Services" not in groups
    assert groups["AWS"] is not None and groups["Atlassian Bitbucket API"] is not None
    assert len(result.components) == 6


def test_docs_example_partial_and_major_and_critical_incident() -> None:
    result = parse(data(DOCS_EXAMPLE))
    assert statuses(result) == {"API": Status.PARTIAL, "Management Portal": Status.MAJOR}
    (incident,) = result.incidents
    assert (incident.status, incident.impact) == ("identified", "critical")


# ---------------------------------------------------------------- parser, edge cases


def component(cid: str, name: str, status: str = "operational", **extra: object) -> dict[str, object]:
    return {"id": cid, "name": name, "status": status, **extra}


def summary_of(*components: dict[str, object], **extra: object) -> bytes:
    return json.dumps({"components": list(components), **extra}).encode()


def test_status_vocabulary_including_incident_io_full_outage() -> None:
    result = parse(
        summary_of(
            component("1", "a", "operational"),
            component("2", "b", "degraded_performance"),
            component("3", "c", "partial_outage"),
            component("4", "d", "major_outage"),
            component("5", "e", "under_maintenance"),
            component("6", "f", "full_outage"),
            component("7", "g", "exploded"),
        )
    )
    assert list(statuses(result).values()) == [
        Status.OPERATIONAL,
        Status.DEGRADED,
        Status.PARTIAL,
        Status.MAJOR,
        Status.MAINTENANCE,
        Status.MAJOR,
        Status.UNKNOWN,
    ]
    assert result.components[-1].detail == "unrecognised status 'exploded'"


def test_duplicate_leaf_names_are_qualified_by_group() -> None:
    result = parse(
        summary_of(
            component("g1", "US", group=True, components=["a"]),
            component("g2", "EU", group=True, components=["b"]),
            component("a", "API", "major_outage", group_id="g1"),
            component("b", "API", group_id="g2"),
            component("c", "Web", group_id="g2"),
        )
    )
    assert statuses(result) == {
        "US / API": Status.MAJOR,
        "EU / API": Status.OPERATIONAL,
        "Web": Status.OPERATIONAL,
    }
    # the filter matches both the leaf name and the qualified name, case-insensitively
    page = summary_of(
        component("g1", "US", group=True),
        component("a", "API", "major_outage", group_id="g1"),
        component("b", "Web"),
    )
    assert statuses(parse(page, components=("us / api",))) == {"API": Status.MAJOR}
    assert statuses(parse(page, components=("WEB",))) == {"Web": Status.OPERATIONAL}


def test_filter_keeps_only_named_and_reports_missing_ones() -> None:
    result = parse(data(OPENAI_OUTAGE), components=("chat completions", "Whisper", "Login"))
    assert [(c.name, c.status, c.detail) for c in result.components] == [
        ("Chat Completions", Status.DEGRADED, ""),
        ("Login", Status.DEGRADED, ""),
        ("Whisper", Status.UNKNOWN, MISSING_DETAIL),
    ]
    # OpenAI's incidents name no components: a filter never drops them
    assert len(result.incidents) == 2


def incident(iid: str, status: str = "investigating", **extra: object) -> dict[str, object]:
    return {"id": iid, "name": f"incident {iid}", "status": status, "impact": "minor", **extra}


def test_incident_filtering_by_status_and_components() -> None:
    page = summary_of(component("a", "API", "major_outage"), component("b", "Web"))
    unresolved = json.dumps(
        {
            "incidents": [
                incident("open"),
                incident("done", "resolved"),
                incident("pm", "postmortem"),
                incident("maint", "in_progress", impact="maintenance"),
                incident("web-only", components=[{"id": "b", "name": "Web"}]),
                incident("api", components=[{"id": "a", "name": "API"}]),
                incident(
                    "placeholder",
                    incident_updates=[
                        {
                            "body": "x",
                            "created_at": "2026-01-01T00:00:00Z",
                            "affected_components": [{"name": "No components were affected by this update."}],
                        }
                    ],
                ),
                incident(
                    "affected-web",
                    incident_updates=[
                        {"body": "old", "created_at": "2026-01-01T00:00:00Z", "affected_components": None},
                        {
                            "body": "new",
                            "created_at": "2026-01-01T01:00:00Z",
                            "affected_components": [{"code": "b", "name": "Group - Web"}],
                        },
                    ],
                ),
            ]
        }
    ).encode()
    everything = parse(page, unresolved)
    by_id = {i.id: i for i in everything.incidents}
    assert list(by_id) == ["open", "web-only", "api", "placeholder", "affected-web"]
    assert by_id["placeholder"].components == ()
    assert by_id["affected-web"].components == ("Web",)  # the code maps back to the page's name
    assert by_id["affected-web"].latest_update == "new"

    only_api = parse(page, unresolved, components=("API",))
    assert [i.id for i in only_api.incidents] == ["open", "api", "placeholder"]


def test_latest_update_by_display_at_then_created_at_and_trimmed() -> None:
    long_body = "word " * 300
    unresolved = json.dumps(
        {
            "incidents": [
                incident(
                    "x",
                    updated_at="2026-09-29T10:00:00-07:00",
                    incident_updates=[
                        {
                            "body": "displayed latest",
                            "display_at": "2026-09-29T12:00:00Z",
                            "created_at": "2026-09-29T09:00:00Z",
                        },
                        {
                            "body": "created latest",
                            "display_at": "2026-09-29T11:00:00Z",
                            "created_at": "2026-09-29T11:30:00Z",
                        },
                    ],
                ),
                incident(
                    "y",
                    incident_updates=[
                        {
                            "body": "a",
                            "display_at": "2026-09-29T12:00:00Z",
                            "created_at": "2026-09-29T12:00:00Z",
                        },
                        {
                            "body": long_body,
                            "display_at": "2026-09-29T12:00:00Z",
                            "created_at": "2026-09-29T12:00:01Z",
                        },
                    ],
                ),
            ]
        }
    ).encode()
    x, y = parse(summary_of(), unresolved).incidents
    assert x.latest_update == "displayed latest"
    assert x.updated_at == datetime(2026, 9, 29, 17, 0, tzinfo=UTC)
    assert y.updated_at == datetime(2026, 9, 29, 12, 0, tzinfo=UTC)  # no updated_at: latest update time
    assert len(y.latest_update) <= 500 and y.latest_update.endswith("…")


def test_unresolved_unreadable_falls_back_to_summary_incidents_with_a_note() -> None:
    result = parse(data(DISCORD_SUMMARY), b'{"incidents": [')
    assert result.readable
    assert [i.title for i in result.incidents] == ["Global Unavailability"]
    assert "unresolved.json: invalid JSON" in result.detail


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (b'{"components": [{"id": "a", "name": "API", "sta', "invalid JSON"),
        (b"", "invalid JSON"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
        (b"[1, 2, 3]", "unexpected JSON shape: not an object"),
        (b'{"status": {"indicator": "none"}}', "unexpected JSON shape: no components list"),
        (b'{"components": {"a": 1}}', "unexpected JSON shape: no components list"),
        (b'{"components": [{"id": "a"}]}', "unexpected JSON shape: a component without a name"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML page, expected JSON"),
        (b"[" * 100_000, "invalid JSON"),
    ],
)
def test_unreadable_summaries(payload: bytes, detail: str) -> None:
    result = parse(payload)
    assert not result.readable
    assert result.detail == detail
    assert result.components == () and result.incidents == ()


# ---------------------------------------------------------------- the fetcher, over real HTTP


def monitor(
    url: str, *, timeout: float = 2.0, max_body_bytes: int = 2 * 1024 * 1024, components: tuple[str, ...] = ()
) -> StatuspageMonitor:
    return StatuspageMonitor(
        name="provider", url=url, timeout=timeout, max_body_bytes=max_body_bytes, components=components
    )


async def check(client: httpx.AsyncClient, mon: StatuspageMonitor) -> CheckResult:
    return await run_check(mon, client=client, now=lambda: AT)


SUMMARY = "/api/v2/summary.json"
UNRESOLVED = "/api/v2/incidents/unresolved.json"


@pytest.mark.anyio
async def test_fetches_both_documents_and_parses(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply(SUMMARY, data(DISCORD_SUMMARY))
    server.reply(UNRESOLVED, data(DISCORD_UNRESOLVED))
    result = await check(client, monitor(server.url + "/"))  # trailing slash is stripped
    assert result.readable and result.detail == "" and result.at == AT
    assert result.monitor == "provider"
    assert [i.title for i in result.incidents] == ["Global Unavailability"]
    assert result.latency_ms is not None and result.latency_ms >= 0
    assert server.hits(SUMMARY) == 1 and server.hits(UNRESOLVED) == 1
    seen = server.requests[0]
    assert seen.headers["User-Agent"] == "downwatch/0.1"


@pytest.mark.anyio
async def test_html_502_page_is_unreadable(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.html(SUMMARY, status=502)
    server.html(UNRESOLVED, status=502)
    result = await check(client, monitor(server.url))
    assert not result.readable
    assert result.detail == "HTTP 502 (HTML page)"


@pytest.mark.anyio
async def test_json_error_status_is_unreadable(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply(SUMMARY, b'{"error": "not found"}', status=404)
    result = await check(client, monitor(server.url))
    assert (result.readable, result.detail) == (False, "HTTP 404")


@pytest.mark.anyio
async def test_redirect_to_an_html_page_is_unreadable(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.redirect(SUMMARY, "/moved")
    server.redirect(UNRESOLVED, "/moved")
    server.html("/moved", b"<html><body>We have moved!</body></html>", status=200)
    result = await check(client, monitor(server.url))
    assert not result.readable
    assert result.detail == "HTTP 200 (HTML page, expected JSON) after a redirect"
    assert server.hits("/moved") == 2


@pytest.mark.anyio
async def test_redirect_to_json_is_followed(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.redirect(SUMMARY, "/v2/summary.json", status=301)
    server.reply("/v2/summary.json", data(OPENAI_CLEAR))
    server.json(UNRESOLVED, {"incidents": []})
    result = await check(client, monitor(server.url))
    assert result.readable and len(result.components) == 25


@pytest.mark.anyio
async def test_truncated_json_is_unreadable(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply(SUMMARY, data(OPENAI_OUTAGE)[:4000])
    result = await check(client, monitor(server.url))
    assert (result.readable, result.detail) == (False, "invalid JSON")


@pytest.mark.anyio
async def test_connection_cut_mid_body_is_unreadable(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    body = data(OPENAI_OUTAGE)
    server.cut(SUMMARY, body[:4000], declared_length=len(body))
    result = await check(client, monitor(server.url))
    assert not result.readable
    assert result.detail == "connection closed without a valid response"


@pytest.mark.anyio
async def test_wrong_shape_is_unreadable(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.json(SUMMARY, {"page": {"name": "x"}, "status": {"indicator": "none"}})
    result = await check(client, monitor(server.url))
    assert (result.readable, result.detail) == (False, "unexpected JSON shape: no components list")


@pytest.mark.anyio
async def test_oversized_body_is_unreadable(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply(SUMMARY, data(TWILIO))  # 66 KB against a 16 KiB cap
    server.json(UNRESOLVED, {"incidents": []})
    result = await check(client, monitor(server.url, max_body_bytes=16 * 1024))
    assert (result.readable, result.detail) == (False, "body over 16 KiB")


@pytest.mark.anyio
async def test_oversized_chunked_body_without_length_is_unreadable(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.drip(SUMMARY, interval=0.001, chunk=b" " * 4096)  # no Content-Length, never ends
    result = await check(client, monitor(server.url, max_body_bytes=64 * 1024))
    assert (result.readable, result.detail) == (False, "body over 64 KiB")


@pytest.mark.anyio
async def test_server_that_never_answers_times_out(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.hang(SUMMARY)
    server.hang(UNRESOLVED)
    result = await check(client, monitor(server.url, timeout=0.3))
    assert (result.readable, result.detail) == (False, "timed out after 0.3 s")


@pytest.mark.anyio
async def test_drip_past_the_deadline_times_out(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    # a byte every 50 ms resets any per-read timeout; only a total deadline stops it
    server.drip(SUMMARY, interval=0.05, chunk=b" ")
    server.json(UNRESOLVED, {"incidents": []})
    result = await check(client, monitor(server.url, timeout=0.3))
    assert (result.readable, result.detail) == (False, "timed out after 0.3 s")
    assert result.latency_ms is not None and result.latency_ms < 2000


@pytest.mark.anyio
async def test_connection_refused_is_unreadable(client: httpx.AsyncClient) -> None:
    result = await check(client, monitor(f"http://127.0.0.1:{closed_port()}"))
    assert (result.readable, result.detail) == (False, "connection refused")


@pytest.mark.anyio
async def test_tls_to_a_plain_http_server_is_unreadable(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    result = await check(client, monitor(f"https://127.0.0.1:{server.port}"))
    assert not result.readable
    assert result.detail.startswith("TLS error")


@pytest.mark.anyio
async def test_summary_ok_but_unresolved_failing_is_still_readable(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.reply(SUMMARY, data(OPENAI_OUTAGE))
    server.html(UNRESOLVED, status=503)
    result = await check(client, monitor(server.url))
    assert result.readable
    assert len(result.incidents) == 2  # from the summary's `incidents`
    assert result.detail == "unresolved.json: HTTP 503 (HTML page); incidents from summary.json"


@pytest.mark.anyio
async def test_unresolved_hanging_does_not_lose_the_summary(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    server.reply(SUMMARY, data(CLOUDAMQP))
    server.hang(UNRESOLVED)
    result = await check(client, monitor(server.url, timeout=0.3))
    assert result.readable
    assert statuses(result)["Shared servers"] is Status.MAINTENANCE
    assert result.detail == "unresolved.json: timed out after 0.3 s; incidents from summary.json"


@pytest.mark.anyio
async def test_filter_applies_over_http(server: LoopbackServer, client: httpx.AsyncClient) -> None:
    server.reply(SUMMARY, data(OPENAI_OUTAGE))
    server.json(UNRESOLVED, {"incidents": []})
    result = await check(client, monitor(server.url, components=("Embeddings", "Decisions")))
    assert statuses(result) == {"Embeddings": Status.DEGRADED, "Decisions": Status.OPERATIONAL}
    assert result.incidents == ()  # unresolved.json (empty) wins over the summary's list


@pytest.mark.anyio
async def test_the_same_bodies_again_give_the_same_readings_over_http(
    server: LoopbackServer, client: httpx.AsyncClient
) -> None:
    """The kind keeps the monitor's LastBody: unchanged bodies are not read again (engine.step then skips its
    walk over the components); a change in any of the three bodies is read."""
    server.reply(SUMMARY, data(OPENAI_OUTAGE))
    server.json(UNRESOLVED, {"incidents": []})
    mon = monitor(server.url)
    first = await check(client, mon)
    again = await run_check(mon, client=client, now=lambda: LATER)
    assert again.components is first.components and again.incidents is first.incidents
    assert again.at == LATER and again.readable
    server.json(UNRESOLVED, {"incidents": [{"id": "x", "name": "Elevated errors", "status": "investigating",
                                            "impact": "minor"}]})
    changed = await check(client, mon)
    assert changed.components == first.components and changed.components is not first.components
    assert [i.id for i in changed.incidents] == ["x"]


def test_a_last_body_gives_what_reading_anew_gives() -> None:
    last = LastBody()
    body = data(OPENAI_OUTAGE)
    for summary, filt in ((body, ()), (body, ("Embeddings",)), (b"<html>", ()), (body, ())):
        kept = parse_statuspage(monitor="OpenAI", summary=bytes(bytearray(summary)), unresolved=None,
                                components_filter=filt, at=AT, last=last)
        assert kept == parse_statuspage(monitor="OpenAI", summary=summary, unresolved=None,
                                        components_filter=filt, at=AT)


# ---------------------------------------------------------------- the parser never raises

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
    "id",
    "name",
    "status",
    "group",
    "group_id",
    "components",
    "incident_updates",
    "impact",
    "shortlink",
    "affected_components",
    "code",
    "body",
    "display_at",
    "created_at",
    "updated_at",
    "scheduled_for",
    "scheduled_until",
]
shaped = st.recursive(
    st.none()
    | st.booleans()
    | st.text(max_size=12)
    | st.sampled_from(["operational", "major_outage", "g1", "a", "in_progress", "2026-09-29T18:00:00Z"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS), children, max_size=6)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(
    summary=st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"components": shaped, "incidents": shaped, "scheduled_maintenances": shaped}).map(
            lambda v: json.dumps(v).encode()
        ),
    ),
    unresolved=st.none() | st.fixed_dictionaries({"incidents": shaped}).map(lambda v: json.dumps(v).encode()),
    components=st.lists(st.sampled_from(["a", "API", "g1 / a", "operational"]), max_size=3).map(tuple),
)
def test_parser_turns_any_payload_into_a_result(
    summary: bytes, unresolved: bytes | None, components: tuple[str, ...]
) -> None:
    result = parse(summary, unresolved, components)
    assert result.monitor == "page" and result.at == AT
    if not result.readable:
        assert result.detail and result.components == () and result.incidents == ()
    else:
        names = [c.name for c in result.components]
        assert all(isinstance(n, str) for n in names)
        for wanted in components:  # every filtered name gets a reading, found or not
            assert any(
                wanted.casefold() in (n.casefold(), f"{c.group} / {n}".casefold())
                for c in result.components
                for n in [c.name]
            )


def test_components_only_in_components_json_are_added() -> None:
    """incident.io's compat summary.json can omit a component that components.json lists (OpenAI's
    "Codex API", bentleypark/aiwatch#197). Built from the real all-clear capture: summary.json without
    Codex API, components.json with it (in an outage)."""
    full = json.loads(data(OPENAI_CLEAR))
    codex = next(c for c in full["components"] if c["id"] == "01KMP3KP5MGE23B80K1EK4S8PV")
    summary = {**full, "components": [c for c in full["components"] if c is not codex]}
    listed = {"page": full["page"], "components": [c if c is not codex else {**c, "status": "major_outage"}
                                                   for c in full["components"]]}
    result = parse_statuspage(monitor="OpenAI", summary=json.dumps(summary).encode(), unresolved=None,
                              components_filter=(), at=AT, components=json.dumps(listed).encode())
    assert len(result.components) == len(full["components"])
    assert statuses(result)["Codex API"] is Status.MAJOR
    # garbage in components.json changes nothing
    plain = parse_statuspage(monitor="OpenAI", summary=json.dumps(summary).encode(), unresolved=None,
                             components_filter=(), at=AT, components=b"<html>")
    assert len(plain.components) == len(full["components"]) - 1 and plain.readable
