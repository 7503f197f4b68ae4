"""The provider catalogue: the shipped data file loads and validates, lookups, and the presets' filters."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.catalogue import SOURCE_TYPES, Catalogue, CatalogueError, Confidence, Provider, load, parse

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent

# Every row of the research notes (PROVIDERS.md, 2026-11): the catalogue key, the source type and the host
# polled. A row that names two products has two entries (Gemini / Google Cloud, AWS / Bedrock).
PROVIDERS_MD = [
    ("openai", "incidentio", "status.openai.com"),
    ("anthropic", "statuspage", "status.claude.com"),
    ("gemini", "gcp", "status.cloud.google.com"),
    ("google-cloud", "gcp", "status.cloud.google.com"),
    ("google-workspace", "gcp", "www.google.com"),
    ("mistral", "feed", "status.mistral.ai"),
    ("cohere", "incidentio", "status.cohere.com"),
    ("groq", "incidentio", "groqstatus.com"),
    ("together", "betterstack", "status.together.ai"),
    ("fireworks", "incidentio", "status.fireworks.ai"),
    ("perplexity", "incidentio", "status.perplexity.com"),
    ("openrouter", "http", "status.openrouter.ai"),
    ("deepseek", "feed", "status.deepseek.com"),
    ("huggingface", "betterstack", "status.huggingface.co"),
    ("replicate", "incidentio", "www.replicatestatus.com"),
    ("elevenlabs", "incidentio", "status.elevenlabs.io"),
    ("azure", "feed", "rssfeed.azure.status.microsoft"),
    ("aws", "aws", "health.aws.amazon.com"),
    ("aws-bedrock", "aws", "health.aws.amazon.com"),
    ("github", "statuspage", "www.githubstatus.com"),
    ("gitlab", "statusio", "api.status.io"),
    ("bitbucket", "statuspage", "bitbucket.status.atlassian.com"),
    ("atlassian", "statuspage", "status.atlassian.com"),
    ("cloudflare", "statuspage", "www.cloudflarestatus.com"),
    ("vercel", "statuspage", "www.vercel-status.com"),
    ("netlify", "statuspage", "www.netlifystatus.com"),
    ("flyio", "statuspage", "status.flyio.net"),
    ("render", "statuspage", "status.render.com"),
    ("heroku", "heroku", "status.heroku.com"),
    ("digitalocean", "statuspage", "status.digitalocean.com"),
    ("supabase", "statuspage", "status.supabase.com"),
    ("datadog", "statuspage", "status.datadoghq.com"),
    ("sentry", "statuspage", "status.sentry.io"),
    ("pagerduty", "http", "status.pagerduty.com"),
    ("npm", "statuspage", "status.npmjs.org"),
    ("pypi", "statuspage", "status.python.org"),
    ("docker", "statuspage", "www.dockerstatus.com"),
    ("circleci", "statuspage", "status.circleci.com"),
    ("twilio", "statuspage", "status.twilio.com"),
    ("stripe", "statuspage", "www.stripestatus.com"),
    ("slack", "slack", "slack-status.com"),
    ("discord", "statuspage", "discordstatus.com"),
    ("zoom", "statuspage", "www.zoomstatus.com"),
    ("notion", "incidentio", "www.notion-status.com"),
    ("linear", "incidentio", "linearstatus.com"),
    ("figma", "statuspage", "status.figma.com"),
    ("dropbox", "statuspage", "status.dropbox.com"),
]
LLM_PROVIDERS = ("openai", "anthropic", "gemini", "mistral", "cohere", "groq")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load()


# ---------------------------------------------------------------- the shipped data file


def test_the_shipped_catalogue_loads_with_at_least_40_providers(catalogue: Catalogue) -> None:
    assert len(catalogue.providers) >= 40
    keys = [p.key for p in catalogue.providers]
    assert len(keys) == len(set(keys))
    assert all(p.type in SOURCE_TYPES for p in catalogue.providers)
    assert all(urlsplit(p.url).scheme == "https" for p in catalogue.providers)
    assert all(p.verified for p in catalogue.providers)


@pytest.mark.parametrize(("key", "source_type", "host"), PROVIDERS_MD, ids=[row[0] for row in PROVIDERS_MD])
def test_every_row_of_the_research_notes_is_in_the_catalogue(
    catalogue: Catalogue, key: str, source_type: str, host: str
) -> None:
    provider = catalogue.find(key)
    assert provider is not None
    assert (provider.type, urlsplit(provider.url).hostname) == (source_type, host)
    assert provider.verified == "2026-11"


def test_the_llm_providers_name_their_alternatives(catalogue: Catalogue) -> None:
    for key in LLM_PROVIDERS:
        provider = catalogue.find(key)
        assert provider is not None and provider.alternatives, key
        others = [catalogue.find(alt) for alt in provider.alternatives]
        assert all(other is not None and other.key != key for other in others)


def test_entries_with_weak_sources_say_so(catalogue: Catalogue) -> None:
    believed = {p.key for p in catalogue.providers if p.confidence is Confidence.BELIEVED}
    assert {"pagerduty", "stripe", "notion", "linear", "mistral"} <= believed
    assert all(p.note for p in catalogue.providers if p.confidence is Confidence.BELIEVED)


def test_the_package_ships_the_data_file() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "providers.toml" in pyproject["tool"]["setuptools"]["package-data"]["bot.catalogue"]


# ---------------------------------------------------------------- lookups


def test_find_by_key_or_alias_in_any_case(catalogue: Catalogue) -> None:
    assert _key(catalogue.find("OpenAI")) == "openai"
    assert _key(catalogue.find(" claude ")) == "anthropic"
    assert _key(catalogue.find("bedrock")) == "aws-bedrock"
    assert catalogue.find("no-such-provider") is None


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("antropic", "anthropic"), ("openia", "openai"), ("cloudfare", "cloudflare"), ("Gitlab", "gitlab")],
)
def test_closest_names_the_provider_that_was_meant(catalogue: Catalogue, typed: str, meant: str) -> None:
    assert catalogue.closest(typed) == meant


def test_closest_is_none_when_nothing_is_near(catalogue: Catalogue) -> None:
    assert catalogue.closest("qqqqqqqq") is None


def test_search_matches_name_key_type_and_url(catalogue: Catalogue) -> None:
    assert {p.key for p in catalogue.search("betterstack")} == {"together", "huggingface"}
    assert [p.key for p in catalogue.search("api.status.io")] == ["gitlab"]
    assert "anthropic" in {p.key for p in catalogue.search("claude")}
    assert "google-workspace" in {p.key for p in catalogue.search("Google")}
    assert catalogue.search("") == list(catalogue.providers)
    assert catalogue.search("zzzz-nothing") == []


# ---------------------------------------------------------------- default filters on real captures


def test_the_cloudflare_preset_keeps_the_services_and_drops_the_data_centres(catalogue: Catalogue) -> None:
    """The real capture of 2026-07-29: 470 components, 26 data centres in partial outage and 20 in
    maintenance that day, while the services group had one component down."""
    cloudflare = catalogue.find("cloudflare")
    assert cloudflare is not None
    doc = json.loads((DATA / "cloudflare_statuspage_summary_2026-07-29_incident_and_maintenances.json").read_bytes())
    groups = {c["id"]: c["name"] for c in doc["components"] if c["group"]}
    leaves = [(c["name"], groups.get(c["group_id"]), c["status"]) for c in doc["components"] if not c["group"]]
    assert len(leaves) == 462

    kept = [leaf for leaf in leaves if cloudflare.keeps(leaf[0], leaf[1])]
    dropped = [leaf for leaf in leaves if not cloudflare.keeps(leaf[0], leaf[1])]

    assert Counter(group for _, group, _ in kept) == {"Cloudflare Sites and Services": 125}
    assert Counter(group for _, group, _ in dropped) == {
        "Asia": 95, "North America": 59, "Europe": 58, "Latin America & the Caribbean": 57,
        "Africa": 33, "Middle East": 21, "Oceania": 14,
    }
    assert Counter(status for _, _, status in kept) == {"operational": 124, "major_outage": 1}
    assert Counter(status for _, _, status in dropped) == {
        "operational": 291, "partial_outage": 26, "under_maintenance": 20,
    }


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("cloudflare", ("Cloudflare Sites and Services",)),
        ("gemini", ("Z0FZJAMvEB4j3NbCJs6B",)),
        ("aws", ("us-east-1",)),
        ("aws-bedrock", ("bedrock-us-east-1", "bedrock-us-west-2")),
        ("github", ()),
    ],
)
def test_the_default_filter_is_one_components_list(catalogue: Catalogue, key: str, expected: tuple[str, ...]) -> None:
    provider = catalogue.find(key)
    assert provider is not None and provider.default_filter() == expected


def test_the_aws_presets_keep_months_old_events_in_far_regions_out(catalogue: Catalogue) -> None:
    """The capture of 2026-08-01: two Middle East events open since 2026-03, read by the aws source."""
    from bot.checks import aws

    body = (DATA / "aws_health_currentevents_2026-08-01_two_active_events_utf16be_bom.json").read_bytes()
    at = datetime(2026, 8, 1, tzinfo=UTC)
    assert len(aws.parse(body, monitor="AWS", at=at).incidents) == 2
    for key in ("aws", "aws-bedrock"):
        provider = catalogue.find(key)
        assert provider is not None
        assert aws.parse(body, monitor=key, at=at, only=provider.default_filter()).incidents == ()


def test_the_gemini_preset_keeps_only_the_gemini_api(catalogue: Catalogue) -> None:
    """The GCP capture holds an open network incident and a resolved Vertex Gemini API one."""
    from bot.checks import gcp

    gemini = catalogue.find("gemini")
    assert gemini is not None
    body = (DATA / "gcp_incidents_2026-06_one_open_one_resolved_author_trimmed.json").read_bytes()
    at = datetime(2026, 6, 30, tzinfo=UTC)
    assert len(gcp.parse(body, monitor="Google Cloud", at=at).incidents) == 1
    result = gcp.parse(body, monitor="Gemini", at=at, only=gemini.default_filter())
    assert result.readable and result.incidents == ()
    assert [c.name for c in result.components] == ["Z0FZJAMvEB4j3NbCJs6B"]  # by id: titles get renamed


def test_a_preset_without_a_filter_keeps_everything(catalogue: Catalogue) -> None:
    github = catalogue.find("github")
    assert github is not None and github.keeps("Git Operations") and github.keeps("API Requests", "Any group")


def test_a_component_filter_matches_the_name_or_group_slash_name() -> None:
    provider = _provider(components=("Workers", "Europe / Paris"))
    assert provider.keeps("workers", "Cloudflare Sites and Services")
    assert provider.keeps("Paris", "Europe")
    assert not provider.keeps("Paris", "North America")
    assert not provider.keeps("Paris")


# ---------------------------------------------------------------- validation of the data file


GOOD = """
[providers.acme]
name = "Acme"
type = "statuspage"
url = "https://status.acme.example"
verified = "2026-11"
"""


def test_a_minimal_entry_parses() -> None:
    (acme,) = parse(GOOD).providers
    assert acme == Provider(key="acme", name="Acme", type="statuspage", url="https://status.acme.example",
                            verified="2026-11")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace('name = "Acme"\n', ""), "providers.acme: missing required key 'name'"),
        (GOOD.replace('verified = "2026-11"\n', ""), "providers.acme: missing required key 'verified'"),
        (GOOD.replace('"statuspage"', '"statuspag"'), "unknown source type 'statuspag' (did you mean 'statuspage'?)"),
        (GOOD.replace("https://", "http://"), "providers.acme.url: must be an https:// URL"),
        (GOOD.replace('"https://status.acme.example"', '"https://"'), "providers.acme.url: must be an https:// URL"),
        (GOOD.replace('"2026-11"', '"November"'), "providers.acme.verified: must be a date"),
        (GOOD.replace('"2026-11"', '"2026-13"'), "providers.acme.verified: must be a date"),
        (GOOD + 'componets = ["API"]\n', "providers.acme.componets: unknown key (did you mean 'components'?)"),
        (GOOD + 'components = "API"\n', "providers.acme.components: must be a list of non-empty strings"),
        (GOOD + 'confidence = "sure"\n', "providers.acme.confidence: must be 'verified' or 'believed'"),
        (GOOD + 'alternatives = ["nobody"]\n', "providers.acme.alternatives: 'nobody' is not a provider key"),
        (GOOD + 'alternatives = ["acme"]\n', "a provider is not its own alternative"),
        (GOOD.replace("[providers.acme]", "[providers.Acme]"), "providers.Acme: the key must be lower case"),
        (GOOD + "[providers.other]\nname = 'O'\ntype = 'feed'\nurl = 'https://o.example/feed'\n"
         "verified = '2026-11'\naliases = ['acme']\n", "'acme' is already used by 'acme'"),
        ("version = 1\n" + GOOD, "unknown top-level key(s) version"),
        ("", "no [providers.<key>] tables"),
        (GOOD + GOOD, "providers.toml:"),  # a table defined twice is a TOML error
    ],
)
def test_an_invalid_data_file_is_refused_with_the_key_and_reason(text: str, message: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        parse(text)
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("https://", "http://").replace('"2026-11"', '"soon"') + 'color = "red"\n'
    with pytest.raises(CatalogueError) as caught:
        parse(text)
    assert len(str(caught.value).splitlines()) == 3


def _key(provider: Provider | None) -> str | None:
    return provider.key if provider is not None else None


def _provider(*, components: tuple[str, ...]) -> Provider:
    return Provider(key="x", name="X", type="statuspage", url="https://x.example", verified="2026-11",
                    components=components)
