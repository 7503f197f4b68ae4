"""Config: every error names the file, the key and the reason; all errors at once; secrets only from env."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack.platform import SlackConfig, SlackMode
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.config import ConfigError, load_config

ROOT = Path(__file__).parent.parent
ENV = {"SLACK_BOT_TOKEN": "xoxb-test-secret-1", "SLACK_APP_TOKEN": "xapp-test-secret-2",
       "DISCORD_BOT_TOKEN": "discord-test-secret-3"}


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "downwatch.toml"
    path.write_text(text)
    return str(path)


def errors(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env if env is not None else ENV)
    return info.value.errors


def test_the_shipped_example_is_valid_and_documents_every_key() -> None:
    config = load_config(str(ROOT / "downwatch.example.toml"), ENV)
    llm = ["OpenAI", "Anthropic", "Gemini API", "Mistral", "Cohere", "Groq"]  # the "LLM providers" presets
    assert [m.name for m in config.monitors] == [*llm, "GitHub", "Checkout API"]
    openai, github, checkout = config.monitors[0], config.monitors[-2], config.monitors[-1]
    assert [m.kind for m in config.monitors[:6]] == ["incidentio", "statuspage", "gcp", "feed", "incidentio",
                                                     "incidentio"]
    assert openai.preset == "openai" and openai.alternatives == ("Anthropic", "Gemini API", "Mistral")
    assert isinstance(github, StatuspageMonitor) and github.components == ("Git Operations", "Actions",
                                                                            "Pull Requests")
    assert isinstance(checkout, HttpMonitor) and checkout.expect_status == (200,)
    assert checkout.policy.failures_before_alert == 3 and openai.policy.failures_before_alert == 2
    assert {r.platform for r in openai.routes} == {"console", "slack", "discord"}
    slack = config.platforms["slack"]
    assert isinstance(slack, SlackConfig) and slack.mode is SlackMode.SOCKET
    text = (ROOT / "downwatch.example.toml").read_text()
    from adapters import PLATFORMS
    from bot import config as module
    from bot.checks import KINDS

    platform_keys = {key for p in PLATFORMS for key in (p.name, *p.keys, *p.monitor_keys)}
    kind_keys = {key for k in KINDS for key in (k.type, *k.keys)}
    for key in module._TOP_KEYS | module._MONITOR_KEYS | platform_keys | kind_keys:
        assert key in text, f"{key} is not documented in downwatch.example.toml"


def test_minimum_contract_from_the_issue(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
database = "x.db"
[[monitors]]
name = "OpenAI"
type = "statuspage"
url = "https://status.openai.com"
interval = 60
"""), {})
    assert config.database == "x.db" and config.monitors[0].interval == 60.0
    assert [r.platform for r in config.monitors[0].routes] == ["console"]


def test_every_error_is_listed_with_file_key_and_reason(tmp_path: Path) -> None:
    found = errors(tmp_path, """
databse = "x.db"
failures_before_alert = 0
[[monitors]]
name = "A"
type = "http"
url = "ftp://nope"
interval = "often"
expect_status = [999]
[[monitors]]
name = "a"
type = "statuspage"
url = "https://x"
body_contains = "ok"
timeout = 90
[[monitors]]
type = "ping"
""")
    path = str(tmp_path / "downwatch.toml")
    assert all(e.startswith(path + ": ") for e in found)
    joined = "\n".join(found)
    assert "databse: unknown key (did you mean 'database'?)" in joined
    assert "failures_before_alert: must be at least 1" in joined
    assert "monitors[0] (A).url: must be an http:// or https:// URL" in joined
    assert "monitors[0] (A).interval: must be a number (got 'often')" in joined
    assert "expect_status: must be a list of HTTP status codes" in joined
    assert "monitors[1] (a).name: duplicate monitor name" in joined
    assert "monitors[1] (a).body_contains: only applies to type = 'http'" in joined
    assert "monitors[1] (a).timeout: must be shorter than interval" in joined
    assert "monitors[2].name: is required" in joined
    assert "monitors[2].type: must be one of 'http', 'statuspage', 'tcp', 'incidentio', " in joined
    assert "'heroku' (got 'ping')" in joined


def test_missing_tokens_for_an_enabled_adapter(tmp_path: Path) -> None:
    found = errors(tmp_path, """
[slack]
channel = "#ops"
[discord]
channel = "general"
[[monitors]]
name = "A"
type = "http"
url = "http://127.0.0.1/"
""", env={})
    joined = "\n".join(found)
    assert "slack: socket mode needs the environment variable SLACK_BOT_TOKEN" in joined
    assert "SLACK_APP_TOKEN" in joined
    assert "discord: needs DISCORD_BOT_TOKEN" in joined
    assert "discord.channel: must be a channel id" in joined


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    assert "not valid TOML" in errors(tmp_path, "[[monitors]\nname=")[0]
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path / "nope.toml"), {})
    assert info.value.errors == [f"{tmp_path / 'nope.toml'}: file not found"]


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[slack]
channel = "#ops"
[[monitors]]
name = "A"
type = "http"
url = "http://127.0.0.1/"
"""), ENV)
    slack = config.platforms["slack"]
    assert isinstance(slack, SlackConfig) and slack.bot_token == ENV["SLACK_BOT_TOKEN"]
    assert ENV["SLACK_BOT_TOKEN"] not in repr(config) and ENV["SLACK_APP_TOKEN"] not in repr(config)


def test_webhook_mode_is_inferred_from_the_environment(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[slack]
[discord]
[[monitors]]
name = "A"
type = "http"
url = "http://127.0.0.1/"
slack_channels = ["#a", "#b"]
"""), {"SLACK_WEBHOOK_URL": "https://hooks.example/T/B/x", "DISCORD_WEBHOOK_URL": "https://d.example/api/webhooks/1/t"})
    slack = config.platforms["slack"]
    assert isinstance(slack, SlackConfig) and slack.mode is SlackMode.WEBHOOK
    assert [r.channel for r in config.monitors[0].routes if r.platform == "slack"] == ["#a", "#b"]
