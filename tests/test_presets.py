"""Presets in the config (`preset = "openai"`), `downwatch providers` and `downwatch discover` in-process.

Discovery is run against a real aiohttp server on 127.0.0.1 serving the real captures; the URL given to the
command is the server's own, so the real probe client (make_client) fetches every page.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.catalogue import SOURCE_TYPES, load, parse
from bot.checks import KINDS, SourceMonitor
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.config import ConfigError, parse_config
from tests.conftest import Ran
from tests.loopback import LoopbackServer, closed_port

DATA = Path(__file__).parent / "data"
Downwatch = Callable[..., Ran]
PAGE_HTML = b"<!DOCTYPE html><html><head><title>Acme Status</title></head><body>All good</body></html>"


def monitors(*tables: dict[str, object], **kwargs: object) -> tuple:
    return parse_config({"monitors": list(tables)}, path="dw.toml", env={}, platforms=(), **kwargs).monitors


def errors(*tables: dict[str, object], **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        monitors(*tables, **kwargs)
    return caught.value.errors


# ---------------------------------------------------------------- resolving a preset


def test_a_preset_fills_name_type_url_and_its_default_filter() -> None:
    openai, cloudflare, bedrock, openrouter = monitors(
        {"preset": "openai"}, {"preset": "CloudFlare"}, {"preset": "aws-bedrock"}, {"preset": "openrouter"})
    assert isinstance(openai, SourceMonitor)
    assert (openai.name, openai.kind, openai.url, openai.components) == (
        "OpenAI", "incidentio", "https://status.openai.com", ())
    assert (openai.preset, openai.page) == ("openai", "https://status.openai.com")
    assert isinstance(cloudflare, StatuspageMonitor) and cloudflare.components == ("Cloudflare Sites and Services",)
    assert isinstance(bedrock, SourceMonitor) and bedrock.kind == "aws"
    assert bedrock.components == ("bedrock-us-east-1", "bedrock-us-west-2")
    assert bedrock.page == "https://health.aws.amazon.com/health/status"  # the page a person opens
    assert isinstance(openrouter, HttpMonitor)  # a plain probe: no filter to fill


def test_an_alias_names_the_same_preset() -> None:
    (claude,) = monitors({"preset": "claude"})
    assert (claude.name, claude.preset, claude.kind) == ("Anthropic", "anthropic", "statuspage")


def test_what_the_block_sets_wins_over_the_preset() -> None:
    mirror, renamed, filtered, retyped = monitors(
        {"preset": "openai", "name": "OpenAI mirror", "url": "http://127.0.0.1:8080", "interval": 30},
        {"preset": "anthropic", "name": "Claude"},
        {"preset": "cloudflare", "components": ["Cloudflare Sites and Services / DNS", "Europe"]},
        {"preset": "openai", "name": "OpenAI (compat)", "type": "statuspage"},
    )
    assert (mirror.name, mirror.url, mirror.kind, mirror.interval) == (
        "OpenAI mirror", "http://127.0.0.1:8080", "incidentio", 30.0)
    assert mirror.page == "http://127.0.0.1:8080"  # a discover hint names the URL actually polled
    assert (renamed.name, renamed.url) == ("Claude", "https://status.claude.com")
    assert isinstance(filtered, StatuspageMonitor)
    assert filtered.components == ("Cloudflare Sites and Services / DNS", "Europe")
    assert isinstance(retyped, StatuspageMonitor) and retyped.url == "https://status.openai.com"


def test_a_cloud_filter_key_replaces_the_default_filter() -> None:
    (gemini,) = monitors({"preset": "gemini", "products": ["Vertex Gemini API"]})
    assert isinstance(gemini, SourceMonitor) and gemini.components == ("Vertex Gemini API",)
    (aws,) = monitors({"preset": "aws-bedrock", "regions": ["eu-west-1"], "services": ["bedrock"]})
    assert isinstance(aws, SourceMonitor) and aws.components == ("bedrock-eu-west-1",)


def test_two_monitors_from_one_preset_need_their_own_names() -> None:
    assert errors({"preset": "openai"}, {"preset": "openai"}) == [
        "dw.toml: monitors[1] (OpenAI).name: duplicate monitor name"]
    assert len(monitors({"preset": "openai"}, {"preset": "openai", "name": "OpenAI EU"})) == 2


def test_an_unknown_preset_names_the_closest_one() -> None:
    assert errors({"preset": "antropic"}, {"preset": "zzzzqqq", "name": "Z"}, {"preset": 7}) == [
        "dw.toml: monitors[0].preset: no provider 'antropic' in the catalogue (did you mean 'anthropic'?); "
        "`downwatch providers` lists them",
        "dw.toml: monitors[1] (Z).preset: no provider 'zzzzqqq' in the catalogue; `downwatch providers` lists them",
        "dw.toml: monitors[2].preset: must be a provider's key such as 'openai' (got 7)",
    ]


def test_a_preset_keys_errors_still_name_the_file_key_and_reason() -> None:
    assert errors({"preset": "openai", "components": "Codex"}, {"preset": "gemini", "regions": ["x"]}) == [
        "dw.toml: monitors[0] (OpenAI).components: must be a list of component names",
        "dw.toml: monitors[1] (Gemini API).regions: only applies to type = 'aws'",
    ]
    assert errors({"name": "X", "type": "incidentoi", "url": "https://x"})[0].endswith(
        "(got 'incidentoi'; did you mean 'incidentio'?)")


def test_the_catalogue_is_passed_in_like_the_kinds() -> None:
    small = parse('[providers.acme]\nname = "Acme"\ntype = "statuspage"\nurl = "https://status.acme.test"\n'
                  'verified = "2026-11"\ncomponents = ["API"]\n')
    (acme,) = monitors({"preset": "acme"}, catalogue=small)
    assert isinstance(acme, StatuspageMonitor) and (acme.name, acme.components) == ("Acme", ("API",))
    assert errors({"preset": "openai"}, catalogue=small) == [
        "dw.toml: monitors[0].preset: no provider 'openai' in the catalogue; `downwatch providers` lists them"]


def test_every_catalogue_source_type_is_a_registered_kind() -> None:
    types = {k.type for k in KINDS}
    assert SOURCE_TYPES <= types
    assert {p.type for p in load().providers} <= types
    for provider in load().providers:  # and every preset makes a valid monitor
        (made,) = monitors({"preset": provider.key})
        assert made.kind == provider.type and made.name == provider.name


def test_validate_reports_an_unknown_preset_exit_2(tmp_path: Path, downwatch: Downwatch) -> None:
    path = tmp_path / "dw.toml"
    path.write_text('[[monitors]]\npreset = "opnai"\n')
    ran = downwatch("validate", "--config", str(path))
    assert ran.code == 2 and ran.out == ""
    assert f"{path}: monitors[0].preset: no provider 'opnai' in the catalogue (did you mean 'openai'?)" in ran.err
    path.write_text('[[monitors]]\npreset = "openai"\n[[monitors]]\npreset = "gemini"\n')
    assert downwatch("validate", "--config", str(path)).code == 0


# ---------------------------------------------------------------- downwatch providers


def test_providers_lists_the_catalogue(downwatch: Downwatch) -> None:
    ran = downwatch("providers")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split() == ["KEY", "NAME", "TYPE", "PAGE", "VERIFIED"]
    catalogue = load()
    assert [line.split()[0] for line in lines[1: 1 + len(catalogue.providers)]] == [p.key for p in catalogue.providers]
    openai = next(line for line in lines if line.startswith("openai "))
    assert openai.split() == ["openai", "OpenAI", "incidentio", "https://status.openai.com", "2026-11"]
    assert "(believed)" in next(line for line in lines if line.startswith("mistral "))
    assert f"{len(catalogue.providers)} of {len(catalogue.providers)} providers" in ran.out


def test_providers_with_a_word_narrows_it(downwatch: Downwatch) -> None:
    ran = downwatch("providers", "betterstack")
    keys = [line.split()[0] for line in ran.out.splitlines()[1:] if line.strip()][:-1]
    assert ran.code == 0 and keys == ["together", "huggingface"]
    missing = downwatch("providers", "antrhopic")
    assert missing.code == 2 and missing.out == ""
    assert "no provider matches 'antrhopic' (did you mean 'anthropic'?)" in missing.err


# ---------------------------------------------------------------- downwatch discover




def block(out: str) -> dict[str, object]:
    """The [[monitors]] block `discover` printed, as TOML reads it."""
    text = out.split("Paste into the config:\n", 1)[1]
    (monitor,) = tomllib.loads(text)["monitors"]
    assert isinstance(monitor, dict)
    return monitor


def test_discover_a_statuspage_page_prints_groups_and_a_block(page_thread: LoopbackServer,
                                                              downwatch: Downwatch) -> None:
    page_thread.html("/", PAGE_HTML, status=200)
    page_thread.reply("/api/v2/summary.json", (DATA / "twilio_summary_2020-06-16_during_incident.json").read_bytes())
    ran = downwatch("discover", page_thread.url + "/")
    assert ran.code == 0, ran.err
    assert ran.out.startswith(f"Twilio: statuspage source at {page_thread.url}\n")
    assert "\n  (no group)\n" in ran.out or "components:" in ran.out
    assert block(ran.out) == {"name": "Twilio", "type": "statuspage", "url": page_thread.url}
    assert [r.method for r in page_thread.requests] == ["GET"] * len(page_thread.requests)
    assert all(r.headers.get("User-Agent") == "downwatch/0.1" for r in page_thread.requests)


def test_discover_an_incidentio_page_through_its_native_api(page_thread: LoopbackServer,
                                                            downwatch: Downwatch) -> None:
    page_thread.reply("/proxy/127.0.0.1",
                      (DATA / "openai_status_proxy_summary_codex_test_fixture_minimal.json").read_bytes())
    ran = downwatch("discover", page_thread.url)
    assert ran.code == 0, ran.err
    assert f"incidentio source at {page_thread.url}" in ran.out
    assert "    Codex\n" in ran.out
    assert "note: incident.io: the compatible incidents/unresolved.json answers 404" in ran.out
    assert block(ran.out)["type"] == "incidentio"


def test_discover_an_html_page_with_no_api_exits_2_with_the_reason(page_thread: LoopbackServer,
                                                                  downwatch: Downwatch) -> None:
    page_thread.html("/", PAGE_HTML, status=200)
    ran = downwatch("discover", page_thread.url)
    assert ran.code == 2 and ran.out == ""
    assert "downwatch: no status source found: 127.0.0.1 is an HTML page with no status API" in ran.err
    assert f"GET {page_thread.url}/api/v2/summary.json: 404" in ran.err  # what was tried, in order


def test_discover_404_everywhere_and_unreachable_exit_2(page_thread: LoopbackServer, downwatch: Downwatch) -> None:
    ran = downwatch("discover", page_thread.url)
    assert ran.code == 2 and "404 everywhere: 127.0.0.1 has none of the known status endpoints" in ran.err
    refused = downwatch("discover", f"http://127.0.0.1:{closed_port()}", "--timeout", "2")
    assert refused.code == 2 and "could not reach 127.0.0.1: connection refused" in refused.err
    assert downwatch("discover", "ftp://example.com").code == 2


def test_the_block_discover_prints_is_a_config_check_reads(tmp_path: Path, page_thread: LoopbackServer,
                                                           downwatch: Downwatch) -> None:
    page_thread.reply("/index.json", (DATA / "huggingface_betterstack_index_2026-07-19_downtime.json").read_bytes())
    found = downwatch("discover", page_thread.url)
    assert found.code == 0, found.err
    path = tmp_path / "dw.toml"
    path.write_text(found.out.split("Paste into the config:\n", 1)[1])
    ran = downwatch("check", "--config", str(path), "--json")
    assert ran.code == 1, ran.err  # Spaces Proxy is down in the capture
    rows = {r["component"]: r["status"] for r in json.loads(ran.out)}
    assert len(rows) == 8 and rows["Spaces Proxy"] == "major_outage"


def test_discover_names_the_preset_of_a_known_host() -> None:
    from bot.cli import _preset_for

    assert _preset_for(load(), "https://status.openai.com") == "openai"
    assert _preset_for(load(), "https://status.cloud.google.com/incidents.json") is None  # Gemini or Google Cloud
    assert _preset_for(load(), "http://127.0.0.1:8080") is None
