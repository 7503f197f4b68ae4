"""The README is the operator's manual: a command or variable missing from it is a failing test."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bot import cli, commands

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


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _table_cells(text: str) -> list[list[str]]:
    """The body rows of every Markdown table in `text` (not the header, the line above `|---|`), as cells."""
    lines = text.splitlines()
    body = [line for i, line in enumerate(lines) if line.startswith("| ")
            and not (i + 1 < len(lines) and lines[i + 1].startswith("|---"))]
    return [[cell.strip().strip("`") for cell in line.strip().strip("|").split(" | ")] for line in body]


def test_the_readme_command_table_lists_exactly_the_command_table() -> None:
    cells = _table_cells(_section("Commands and what they answer"))
    typed = {(row[0], row[1]) for row in cells if row[0].startswith("/")}
    assert typed == {(commands.form(spec, slash=False), commands.form(spec, slash=True)) for spec in commands.COMMANDS}
    arguments = {row[0] for row in cells if not row[0].startswith("/")}
    assert arguments == {argument.name for argument in commands.arguments()}


def test_the_help_lists_exactly_the_command_table() -> None:
    for slash in (False, True):
        lines = [line.strip() for line in commands.help_text(slash=slash).splitlines()[1:]]
        forms = {re.split(r"\s{2,}", line)[0] for line in lines if line.startswith("/")}
        assert forms == {commands.form(spec, slash=slash) for spec in commands.COMMANDS}
        names = {re.split(r"\s{2,}", line)[0] for line in lines if not line.startswith("/") and "  " in line}
        assert names == {argument.name for argument in commands.arguments()}


def test_the_discord_invite_asks_for_exactly_the_documented_permissions() -> None:
    # View Channel, Send Messages, Embed Links, Read Message History, Create Public Threads,
    # Send Messages in Threads (https://discord.com/developers/docs/topics/permissions)
    bits = (10, 11, 14, 16, 35, 38)
    assert f"permissions={sum(1 << b for b in bits)}" in README


def test_the_slack_manifest_hints_every_command() -> None:
    manifest = (ROOT / "adapters" / "slack" / "manifest.yaml").read_text()
    hint = re.search(r'usage_hint: "(.*)"', manifest)
    assert hint is not None
    forms = [commands.form(spec, slash=False).removeprefix(commands.SLACK_COMMAND).strip() for spec in commands.COMMANDS]
    assert hint.group(1) == " | ".join(forms)


def test_extending_section_names_real_files_and_registries() -> None:
    """Every concrete path the "Extending downwatch" section names exists, and the registries it points at
    are plain tuples that hold what the package ships (a newcomer follows it to the right files)."""
    import adapters
    from bot.checks import KINDS

    text = _section("Extending downwatch")
    paths = {p for p in re.findall(r"`([\w./-]+\.(?:py|toml))`", text) if "<" not in p}
    assert {"bot/checks/kind.py", "bot/platform.py", "adapters/retry.py", "bot/commands.py",
            "bot/wording.py", "bot/checks/__init__.py", "adapters/__init__.py"} <= paths
    for path in paths:
        assert (ROOT / path).exists(), f"README 'Extending downwatch' names {path}, which does not exist"
    assert isinstance(KINDS, tuple) and isinstance(adapters.PLATFORMS, tuple)
    assert {"tcp"} <= {kind.type for kind in KINDS} and "webhook" in {p.name for p in adapters.PLATFORMS}
    for kind in KINDS:  # each kind lives in its own module of bot/checks/, as the section says
        module = type(kind).__module__
        assert module.startswith("bot.checks.") and (ROOT / (module.replace(".", "/") + ".py")).exists()
    for platform in adapters.PLATFORMS:
        assert type(platform).__module__.startswith("adapters.")
