"""Discovery: a loopback server serves the real captures at each platform's paths, and a small httpx fetch
(the shape the CLI will inject) reads them. Every host is routed to the loopback server, so the code sees the
real host names (incident.io's /proxy/<host>, *.statuspage.io) while nothing leaves the machine."""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.discover import (
    Component,
    Fetch,
    FetchFailed,
    Found,
    NotFound,
    Response,
    discover,
    monitor_block,
    toml_string,
)
from tests.loopback import LoopbackServer, closed_port

DATA = Path(__file__).parent / "data"

# Hand-written pages (no real capture of either was found): a status page's own HTML, and what an unclaimed
# *.statuspage.io address serves, Atlassian's marketing page for the product.
PAGE_HTML = b"<!DOCTYPE html><html><head><title>Acme Status</title></head><body>All good</body></html>"
PARKED_HTML = (
    b"<!DOCTYPE html><html lang='en'><head><title>Statuspage | Incident Communication Tool | Atlassian</title>"
    b"</head><body><h1>Statuspage</h1><p>Communicate real-time status to your users.</p>"
    b"<a href='https://www.atlassian.com/software/statuspage/try'>Get it free</a></body></html>"
)
PROBED_PATHS = [
    "/",
    "/api/v2/summary.json",
    "/proxy/status.acme.example",
    "/index.json",
    "/summary.json",
    "/history.rss",
    "/feed.rss",
    "/history.atom",
    "/feed.atom",
    "/feed.xml",
    "/feed",
]


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
async def http(anyio_backend: object) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=True, timeout=5.0) as client:
        yield client


def routed_fetch(client: httpx.AsyncClient, server_url: str) -> Fetch:
    """A fetch that sends every URL's path to `server_url`: the loopback server plays every host."""

    async def fetch(url: str) -> Response | FetchFailed:
        parts = urlsplit(url)
        target = server_url + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            answer = await client.get(target)
        except httpx.HTTPError as exc:
            return FetchFailed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return Response(answer.status_code, answer.headers.get("content-type", ""), answer.content, str(answer.url))

    return fetch


async def run(server: LoopbackServer, http: httpx.AsyncClient, url: str) -> Found | NotFound:
    return await discover(url, routed_fetch(http, server.url))


def parsed(found: Found) -> dict[str, object]:
    (monitor,) = tomllib.loads(found.toml)["monitors"]
    assert isinstance(monitor, dict)
    return monitor


# ---------------------------------------------------------------- Statuspage


@pytest.mark.anyio
async def test_a_statuspage_page_with_its_components_in_groups(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    server.html("/", PAGE_HTML, status=200)
    server.reply("/api/v2/summary.json", read("cloudflare_statuspage_summary_2026-07-29_incident_and_maintenances.json"))

    found = await run(server, http, "https://www.cloudflarestatus.com/")

    assert isinstance(found, Found)
    assert (found.type, found.url, found.title) == ("statuspage", "https://www.cloudflarestatus.com", "Cloudflare")
    assert len(found.components) == 462
    assert Counter(c.group for c in found.components)["Cloudflare Sites and Services"] == 125
    assert parsed(found) == {"name": "Cloudflare", "type": "statuspage", "url": "https://www.cloudflarestatus.com"}
    assert "# 462 components in 8 groups" in found.toml  # too many to list: summarised by group
    assert "#   Cloudflare Sites and Services: 125" in found.toml
    assert server.hits("/proxy/www.cloudflarestatus.com") == 0  # 12-character ids: Statuspage, decided


@pytest.mark.anyio
async def test_a_small_page_lists_its_components_ready_to_uncomment(
    server: LoopbackServer, http: httpx.AsyncClient
) -> None:
    body = read("claude_statuspage_summary_2026-07-29_during_outage.json")
    server.reply("/api/v2/summary.json", body)

    found = await run(server, http, "status.claude.com")

    assert isinstance(found, Found) and found.type == "statuspage"
    assert found.url == "https://status.claude.com"
    list_lines = ("# components = [", "#     ", "# ]")
    uncommented = "\n".join(line[2:] if line.startswith(list_lines) else line for line in found.toml.splitlines())
    (monitor,) = tomllib.loads(uncommented)["monitors"]
    assert monitor["components"] == [c.name for c in found.components]
    assert len(monitor["components"]) == 6


@pytest.mark.anyio
async def test_the_summary_url_itself_is_read_from_its_page(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    server.reply("/api/v2/summary.json", read("claude_statuspage_summary_2026-07-29_during_outage.json"))

    found = await run(server, http, "https://status.claude.com/api/v2/summary.json")

    assert isinstance(found, Found) and (found.type, found.url) == ("statuspage", "https://status.claude.com")


# ---------------------------------------------------------------- incident.io


@pytest.mark.anyio
async def test_an_incidentio_page_is_read_through_its_native_api(
    server: LoopbackServer, http: httpx.AsyncClient
) -> None:
    server.reply("/api/v2/summary.json", read("openai_incidentio_compat_summary_2026-07-09_all_operational_sorted_keys.json"))
    server.reply("/proxy/status.openai.com", read("openai_status_proxy_summary_codex_test_fixture_minimal.json"))
    # incidents/unresolved.json is not programmed: it answers 404, as incident.io's compatible API does

    found = await run(server, http, "https://status.openai.com")

    assert isinstance(found, Found)
    assert (found.type, found.url, found.title) == ("incidentio", "https://status.openai.com", "OpenAI")
    assert found.components == (Component("Codex"),)
    assert any("unresolved.json answers 404" in note for note in found.notes)
    assert parsed(found)["type"] == "incidentio"


@pytest.mark.anyio
async def test_native_groups_come_from_the_page_structure(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    server.json("/proxy/status.acme.example", {"summary": {
        "name": "Acme",
        "components": [{"id": "01K5H8S53SY1KMS4GQMNMQM1K5", "name": "Responses"}, {"id": "c2", "name": "Login"}],
        "affected_components": [],
        "structure": {"items": [{"group": {"id": "g1", "name": "APIs", "hidden": False,
                                           "components": [{"component_id": "01K5H8S53SY1KMS4GQMNMQM1K5"}]}}]},
    }})

    found = await run(server, http, "https://status.acme.example")

    assert isinstance(found, Found) and found.type == "incidentio"
    assert found.components == (Component("Responses", "APIs"), Component("Login"))


@pytest.mark.anyio
async def test_an_incidentio_page_without_its_native_api_falls_back_to_the_compatible_one(
    server: LoopbackServer, http: httpx.AsyncClient
) -> None:
    server.reply("/api/v2/summary.json", read("openai_incidentio_compat_summary_2026-09-29_during_outage_sorted_keys.json"))

    found = await run(server, http, "https://status.openai.com")

    assert isinstance(found, Found) and found.type == "statuspage"
    assert len(found.components) == 25
    assert any("look like incident.io's" in note for note in found.notes)


# ---------------------------------------------------------------- Better Stack, Instatus, Status.io


@pytest.mark.anyio
async def test_a_better_stack_page(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    server.html("/", PAGE_HTML, status=200)
    server.reply("/index.json", read("huggingface_betterstack_index_2026-07-19_downtime.json"))

    found = await run(server, http, "https://status.huggingface.co")

    assert isinstance(found, Found)
    assert (found.type, found.url) == ("betterstack", "https://status.huggingface.co")
    assert len(found.components) == 8
    assert Component("Spaces Proxy", "Spaces") in found.components
    assert Component("Huggingface Hub", "Current status by service") in found.components
    assert parsed(found)["type"] == "betterstack"


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/api/v2/summary.json", "/summary.json"])
async def test_an_instatus_page(server: LoopbackServer, http: httpx.AsyncClient, path: str) -> None:
    """The capture was served at /api/v2/summary.json; Instatus' own path is /summary.json."""
    server.reply(path, read("perplexity_instatus_summary_2026-07-23_major_outage.json"))

    found = await run(server, http, "https://status.perplexity.com")

    assert isinstance(found, Found)
    assert (found.type, found.url, found.title) == ("instatus", "https://status.perplexity.com", "Perplexity")


@pytest.mark.anyio
async def test_a_status_io_page_found_through_its_html(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    page = b"<html><script src='https://api.status.io/1.0/status/5b36dc6502d06804c08349f7'></script></html>"
    server.html("/", page, status=200)
    server.reply("/1.0/status/5b36dc6502d06804c08349f7", read("gitlab_statusio_status_2020-09-05_planned_maintenance_active.json"))

    found = await run(server, http, "https://status.gitlab.com")

    assert isinstance(found, Found) and found.type == "statusio"
    assert found.url == "https://api.status.io/1.0/status/5b36dc6502d06804c08349f7"
    assert len(found.components) == 15 and Component("Website") in found.components
    assert parsed(found)["name"] == "status.gitlab.com"


# ---------------------------------------------------------------- feeds


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "capture", "title"),
    [
        ("/history.rss", "claude_2026-02-04-history.rss", "Claude Status"),
        ("/feed.rss", "openai_feed.rss_2026-04-30_excerpt_ids_anonymized.xml", None),
        ("/history.atom", "github_2026-02-04-history.atom", "GitHub Status"),
    ],
)
async def test_a_page_with_only_a_feed(
    server: LoopbackServer, http: httpx.AsyncClient, path: str, capture: str, title: str | None
) -> None:
    server.html("/", PAGE_HTML, status=200)
    server.reply(path, read(capture), content_type="application/rss+xml")

    found = await run(server, http, "https://status.acme.example")

    assert isinstance(found, Found)
    assert (found.type, found.url, found.components) == ("feed", "https://status.acme.example" + path, ())
    if title is not None:
        assert found.title == title
    assert parsed(found)["url"] == "https://status.acme.example" + path


@pytest.mark.anyio
async def test_a_feed_announced_in_the_page_html_is_found(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/en-us/status/feed/"></head></html>'
    server.html("/", page, status=200)
    server.reply("/en-us/status/feed/", read("claude_2026-02-04-history.rss"), content_type="text/xml")

    found = await run(server, http, "https://azure.status.acme.example")

    assert isinstance(found, Found) and found.url == "https://azure.status.acme.example/en-us/status/feed/"


# ---------------------------------------------------------------- endpoints given directly


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "capture", "source_type", "components"),
    [
        ("https://slack-status.com/api/v2.0.0/current", "slack_status_current_v2_2026-08-13_all_clear.json", "slack", 0),
        ("https://status.heroku.com/api/v4/current-status", "heroku_status_v4_current-status_2020-11_maintenance_data_blue.json", "heroku", 3),
        ("https://status.cloud.google.com/incidents.json", "gcp_incidents_2026-06_one_open_one_resolved_author_trimmed.json", "gcp", 3),
        ("https://health.aws.amazon.com/public/currentevents", "aws_health_currentevents_2026-08-01_two_active_events_utf16be_bom.json", "aws", 0),
        ("https://api.status.io/1.0/status/5b36dc6502d06804c08349f7", "gitlab_statusio_status_2020-09-05_planned_maintenance_active.json", "statusio", 15),
    ],
)
async def test_an_endpoint_given_directly_is_classified_by_its_shape(
    server: LoopbackServer, http: httpx.AsyncClient, url: str, capture: str, source_type: str, components: int
) -> None:
    server.reply(urlsplit(url).path, read(capture))

    found = await run(server, http, url)

    assert isinstance(found, Found)
    assert (found.type, found.url, len(found.components)) == (source_type, url, components)
    assert parsed(found)["url"] == url
    assert server.hits("/api/v2/summary.json") == 0  # found at the first answer


@pytest.mark.anyio
async def test_aws_all_clear_is_an_empty_list(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    """No raw all-clear bytes were captured; AWS answers `[]` then (per stts), UTF-16 with a BOM as always."""
    server.reply("/public/currentevents", "[]".encode("utf-16"))

    found = await run(server, http, "https://health.aws.amazon.com/public/currentevents")

    assert isinstance(found, Found) and found.type == "aws"


# ---------------------------------------------------------------- nothing usable


@pytest.mark.anyio
async def test_an_html_page_with_no_api(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    """A single-page app answers 200 with its HTML on every path: HTML is never a source."""
    for path in PROBED_PATHS:
        server.html(path, PAGE_HTML, status=200)

    result = await run(server, http, "https://status.acme.example")

    assert isinstance(result, NotFound)
    assert "status.acme.example is an HTML page with no status API" in result.reason
    assert "GET https://status.acme.example/api/v2/summary.json: 200 (HTML, " in result.tried[1]


@pytest.mark.anyio
async def test_404_everywhere_after_trying_every_endpoint_in_order(
    server: LoopbackServer, http: httpx.AsyncClient
) -> None:
    result = await run(server, http, "https://status.acme.example")

    assert result == NotFound(
        "404 everywhere: status.acme.example has none of the known status endpoints",
        tuple(f"GET https://status.acme.example{'' if p == '/' else p}: 404 (text/plain, 19 bytes)" for p in PROBED_PATHS),
    )
    assert [r.path for r in server.requests] == PROBED_PATHS


@pytest.mark.anyio
async def test_a_parked_statuspage_io_page(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    server.html("/", PARKED_HTML, status=200)

    result = await run(server, http, "https://acme.statuspage.io")

    assert isinstance(result, NotFound)
    assert result.reason.startswith("acme.statuspage.io is a parked Statuspage page")


@pytest.mark.anyio
async def test_atlassian_marketing_html_is_parked_on_any_host(server: LoopbackServer, http: httpx.AsyncClient) -> None:
    server.redirect("/", "/software/statuspage")
    server.html("/software/statuspage", PARKED_HTML, status=200)

    result = await run(server, http, "https://status.acme.example")

    assert isinstance(result, NotFound) and "parked Statuspage page" in result.reason


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["status.acme.example", "acme.statuspage.io"])
async def test_a_host_that_cannot_be_reached(http: httpx.AsyncClient, host: str) -> None:
    result = await discover(f"https://{host}", routed_fetch(http, f"http://127.0.0.1:{closed_port()}"))

    assert isinstance(result, NotFound)
    assert result.reason.startswith(f"could not reach {host}: ConnectError")
    assert len(result.tried) == len(PROBED_PATHS)


@pytest.mark.anyio
async def test_not_a_url(http: httpx.AsyncClient) -> None:
    assert await discover("ftp://status.acme.example", routed_fetch(http, "http://127.0.0.1:9")) == NotFound(
        "'ftp://status.acme.example' is not an http(s) URL"
    )


# ---------------------------------------------------------------- the [[monitors]] block


@given(st.text())
def test_any_text_round_trips_through_a_toml_string(text: str) -> None:
    assert tomllib.loads(f"x = {toml_string(text)}")["x"] == text


@given(st.lists(st.tuples(st.text(min_size=1), st.one_of(st.none(), st.text())), max_size=70), st.text())
def test_any_page_gives_a_block_that_parses(names: list[tuple[str, str | None]], title: str) -> None:
    components = tuple(Component(name, group) for name, group in names)
    block = monitor_block(title, "statuspage", "https://status.acme.example", components)
    (monitor,) = tomllib.loads(block)["monitors"]
    assert monitor == {"name": title, "type": "statuspage", "url": "https://status.acme.example"}
