"""The README is the operator's manual: a command or variable missing from it is a failing test."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_every_cli_command_is_documented() -> None:
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert f"downwatch {name}" in README, f"`downwatch {name}` is not in README.md"


def test_every_environment_variable_is_documented() -> None:
    for name in (*cli.SECRET_KEYS, "SLACK_API_URL", "DISCORD_API_URL", "DOWNWATCH_LOG_LEVEL"):
        assert f"`{name}`" in README, f"{name} is not in README.md"
        assert name in (ROOT / ".env.example").read_text(), f"{name} is not in .env.example"


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


def test_chat_commands_are_documented() -> None:
    for command in ("/status", "/status incidents", "/status help", "/incidents", "/uptime"):
        assert f"`{command}" in README, command


def test_the_discord_invite_asks_for_exactly_the_documented_permissions() -> None:
    # View Channel, Send Messages, Embed Links, Read Message History, Create Public Threads,
    # Send Messages in Threads (https://discord.com/developers/docs/topics/permissions)
    bits = (10, 11, 14, 16, 35, 38)
    assert f"permissions={sum(1 << b for b in bits)}" in README
