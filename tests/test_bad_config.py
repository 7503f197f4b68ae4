"""Bad config (issue 5, item 7): `downwatch validate` AND `downwatch run` (bot.cli.main in-process; test_cli.py
runs the real entry point) exit 2 listing every error with file, key and reason, before anything touches
the database.

"A channel that does not exist" is checked as far as it can be offline: its shape (Slack names/ids,
Discord snowflakes). Whether the bot may post there is known only when it tries (the outbox logs it once).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from tests.conftest import Ran

ROOT = Path(__file__).parent.parent

BAD = """
database = "{db}"
failures_before_alert = "two"
colour = "red"

[slack]
channel = "#Ops Alerts"
mode = "socket"
ephemral = false

[discord]
channel = "general"

[[monitors]]
name = "OpenAI"
type = "statuspage"
url = "https://status.openai.com"
interval = "often"
slack_channel = "ops alerts!"

[[monitors]]
name = "openai"
type = "http"
url = "https://api.example.com/health"
expect_status = [999]
timeout = -1
discord_channel = "not-an-id"
"""

# (key, reason) pairs the output must contain, each on its own line prefixed by the file name
EXPECTED = [
    ("failures_before_alert", "must be a whole number (got 'two')"),
    ("colour", "unknown key"),
    ("slack.ephemral", "unknown key (did you mean 'ephemeral'?)"),
    ("slack", "socket mode needs the environment variable SLACK_BOT_TOKEN"),
    ("slack", "socket mode needs the environment variable SLACK_APP_TOKEN"),
    ("slack.channel", "not a Slack channel name or id (got '#Ops Alerts')"),
    ("discord", "needs DISCORD_BOT_TOKEN (bot mode) or DISCORD_WEBHOOK_URL"),
    ("discord.channel", "must be a channel id (digits; got 'general')"),
    ("monitors[0] (OpenAI).interval", "must be a number (got 'often')"),
    ("monitors[0] (OpenAI).slack_channel", "not a Slack channel name or id (got 'ops alerts!')"),
    ("monitors[1] (openai).name", "duplicate monitor name"),
    ("monitors[1] (openai).expect_status", "must be a list of HTTP status codes (got [999])"),
    ("monitors[1] (openai).timeout", "must be greater than 0 (got -1)"),
]


def write(tmp_path: Path, text: str) -> tuple[Path, Path]:
    db = tmp_path / "dw.db"
    config = tmp_path / "downwatch.toml"
    config.write_text(text.format(db=db))
    return config, db


@pytest.mark.parametrize("command", ["validate", "run"])
def test_every_error_is_listed_and_the_database_is_never_touched(tmp_path: Path, command: str,
                                                                 downwatch: Callable[..., Ran]) -> None:
    config, db = write(tmp_path, BAD)
    done = downwatch(command, "--config", str(config))
    assert done.code == 2, done.err
    lines = done.err.splitlines()
    assert lines[0].startswith("downwatch: ") and " in the configuration:" in lines[0]
    for key, reason in EXPECTED:
        wanted = f"  {config}: {key}: {reason}"
        assert any(line.startswith(wanted) for line in lines), f"missing {wanted!r} in:\n{done.err}"
    assert lines[0].startswith(f"downwatch: {len(lines) - 1} error")
    assert "Traceback" not in done.err and done.out == ""
    assert not db.exists() and not any(tmp_path.glob("dw.db*")), "the database was touched"


def test_tokens_present_but_a_bad_channel_still_stops_run_before_the_database(
    tmp_path: Path, downwatch: Callable[..., Ran]
) -> None:
    config, db = write(tmp_path, """
database = "{db}"
[slack]
channel = "ops alerts"
[[monitors]]
name = "A"
type = "http"
url = "http://127.0.0.1:9/"
""")
    secret_env = {"SLACK_BOT_TOKEN": "xoxb-badconfig-SECRETtoken", "SLACK_APP_TOKEN": "xapp-badconfig-SECRETapp"}
    done = downwatch("run", "--config", str(config), env=secret_env)
    assert done.code == 2
    assert f"{config}: slack.channel: not a Slack channel name or id (got 'ops alerts')" in done.err
    assert not db.exists()
    assert all(value not in done.err + done.out for value in secret_env.values())


def slack_channel_config(channel: str, monitor_tail: str = "") -> str:
    """A config alerting Slack `channel`, with one HTTP monitor (`monitor_tail` continues its table)."""
    return f"""
[slack]
channel = "{channel}"
[[monitors]]
name = "A"
type = "http"
url = "http://127.0.0.1:9/"
{monitor_tail}"""


@pytest.mark.parametrize("channel", ["#ops-alerts", "ops_alerts", "C0123456789", "G01ABCDEF", "#a"])
def test_valid_slack_channel_shapes_are_accepted(tmp_path: Path, channel: str) -> None:
    config, _ = write(tmp_path, slack_channel_config(channel, f"""slack_channels = ["{channel}", "#second"]
discord_channels = ["123456789012345678"]
[discord]
channel = "123456789012345678"
"""))
    loaded = load_config(str(config), {"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y", "DISCORD_BOT_TOKEN": "z"})
    assert [r.channel for r in loaded.monitors[0].routes if r.platform == "slack"] == [channel, "#second"]


@pytest.mark.parametrize("channel", ["#Ops", "#with space", "#" + "a" * 81, "#ops!", "C01"])
def test_invalid_slack_channel_shapes_are_refused(tmp_path: Path, channel: str) -> None:
    config, _ = write(tmp_path, slack_channel_config(channel))
    with pytest.raises(ConfigError) as info:
        load_config(str(config), {"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y"})
    assert info.value.errors == [f"{config}: slack.channel: not a Slack channel name or id (got {channel!r}): "
                                 "names are lowercase letters, digits, '-' and '_' (e.g. #ops-alerts); "
                                 "ids look like C0123456789"]


def test_wrong_types_everywhere_never_crash_the_loader(tmp_path: Path) -> None:
    config, _ = write(tmp_path, """
monitors = "none"
slack = 3
discord = []
console = "yes"
retention_days = 1.5
""")
    with pytest.raises(ConfigError) as info:
        load_config(str(config), {})
    joined = "\n".join(info.value.errors)
    for key in ("monitors: must be an array of tables", "slack: must be a table", "discord: must be a table",
                "console: must be true or false", "retention_days: must be a whole number"):
        assert key in joined, joined
