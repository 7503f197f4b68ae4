"""The command table and the one grammar built from it: Slack's typed text and Discord's options give the
same Command; bad arguments are Usage errors carrying the help, never exceptions."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import commands
from bot.commands import COMMANDS, STATUS, ArgKind, build, form, help_text, parse_since, parse_text
from bot.model import Command, CommandKind, Usage

NOW = datetime(2026, 10, 1, tzinfo=UTC)
# https://discord.com/developers/docs/interactions/application-commands#application-command-object
DISCORD_NAME = re.compile(r"[-_a-z0-9]{1,32}")
DISCORD_DESCRIPTION_MAX = 100


# ---------------------------------------------------------------- the table


def test_the_table_fits_discord_and_names_each_command_and_argument_once() -> None:
    assert len({spec.name for spec in COMMANDS}) == len(COMMANDS)
    assert STATUS in COMMANDS
    for spec in COMMANDS:
        assert DISCORD_NAME.fullmatch(spec.name) and 1 <= len(spec.summary) <= DISCORD_DESCRIPTION_MAX
        assert len({a.name for a in spec.arguments}) == len(spec.arguments)
        for argument in spec.arguments:
            assert DISCORD_NAME.fullmatch(argument.name)
            assert 1 <= len(argument.summary) <= DISCORD_DESCRIPTION_MAX
    assert {a.kind for spec in COMMANDS for a in spec.arguments} == set(ArgKind)
    assert {spec.kind for spec in COMMANDS} | {CommandKind.OVERVIEW} == set(CommandKind)


def test_the_help_lists_every_command_form_and_argument_of_the_table() -> None:
    for slash in (False, True):
        text = help_text(slash=slash)
        assert text.startswith("Usage:\n")
        for spec in COMMANDS:
            assert re.search(rf"^  {re.escape(form(spec, slash=slash))}  +{re.escape(spec.summary)}$", text, re.M)
        for argument in commands.arguments():
            assert re.search(rf"^  {argument.name}  +{re.escape(argument.summary)}$", text, re.M)
    assert form(STATUS, slash=False) == "/status [target]"
    assert form(commands.BY_NAME["incidents"], slash=False) == "/status incidents [target] [limit] [since]"
    assert form(commands.BY_NAME["incidents"], slash=True) == "/incidents [target] [limit] [since]"
    assert commands.USAGE == help_text()


# ---------------------------------------------------------------- options by name (Discord, and Slack after splitting)


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("status", {}, Command(CommandKind.OVERVIEW)),
        ("status", {"target": "  OpenAI\x07 "}, Command(CommandKind.TARGET, target="OpenAI")),
        ("incidents", {"target": "OpenAI", "limit": 3, "since": "7d"},
         Command(CommandKind.INCIDENTS, target="OpenAI", limit=3, since=NOW - timedelta(days=7))),
        ("incidents", {"since": "2026-09-17"}, Command(CommandKind.INCIDENTS, since=datetime(2026, 9, 17, tzinfo=UTC))),
        ("incidents", {"limit": None, "target": ""}, Command(CommandKind.INCIDENTS)),
        ("uptime", {"window": "30d"}, Command(CommandKind.UPTIME, window=timedelta(days=30))),
        ("uptime", {"target": "Chat"}, Command(CommandKind.UPTIME, target="Chat")),
        ("help", {}, Command(CommandKind.HELP)),
    ],
)
def test_build(name: str, options: dict[str, object], expected: Command) -> None:
    assert build(name, options, now=NOW) == expected


@pytest.mark.parametrize(
    ("name", "options", "word"),
    [
        ("incidents", {"limit": 0}, "limit"),
        ("incidents", {"limit": 26}, "limit"),
        ("incidents", {"limit": "9" * 5000}, "limit"),
        ("incidents", {"since": "last tuesday"}, "since"),
        ("incidents", {"since": "2099-01-01"}, "since"),
        ("uptime", {"window": "1y"}, "window"),
        ("status", {"target": "x" * 300}, "too long"),
        ("nope", {}, "Unknown command"),
    ],
)
def test_bad_options_are_usage_errors(name: str, options: dict[str, object], word: str) -> None:
    result = build(name, options, now=NOW)
    assert isinstance(result, Usage) and result.is_error and word in result.message


def test_parse_since() -> None:
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)
    assert parse_since("2w", NOW) == NOW - timedelta(weeks=2)
    assert parse_since("2026-09-30T12:00:00+02:00", NOW) == datetime(2026, 9, 30, 10, tzinfo=UTC)
    assert parse_since("2026-09-30", NOW) == datetime(2026, 9, 30, tzinfo=UTC)
    assert parse_since("soon", NOW) is None
    assert parse_since("2026-10-02", NOW) is None  # the future


# ---------------------------------------------------------------- Slack's text grammar

WEEK = NOW - timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command(CommandKind.OVERVIEW)),
        ("  ", Command(CommandKind.OVERVIEW)),
        ("help", Command(CommandKind.HELP)),
        ("HELP", Command(CommandKind.HELP)),
        ("?", Command(CommandKind.HELP)),
        ("OpenAI", Command(CommandKind.TARGET, target="OpenAI")),
        ("OpenAI/API", Command(CommandKind.TARGET, target="OpenAI/API")),
        ("Node 3", Command(CommandKind.TARGET, target="Node 3")),  # numbers are arguments only after a subcommand
        ("Help Desk", Command(CommandKind.TARGET, target="Help Desk")),  # help takes nothing: this is a name
        ("incidents", Command(CommandKind.INCIDENTS)),
        ("incidents 3", Command(CommandKind.INCIDENTS, limit=3)),
        ("incidents 7d", Command(CommandKind.INCIDENTS, since=WEEK)),
        ("incidents 3 7d", Command(CommandKind.INCIDENTS, limit=3, since=WEEK)),
        ("incidents 7d 3", Command(CommandKind.INCIDENTS, limit=3, since=WEEK)),
        ("incidents 2026-09-17", Command(CommandKind.INCIDENTS, since=datetime(2026, 9, 17, tzinfo=UTC))),
        ("incidents Checkout API 3 7d", Command(CommandKind.INCIDENTS, target="Checkout API", limit=3, since=WEEK,
                                                fallback_target="incidents Checkout API 3 7d")),
        ('incidents "Node 3" 2', Command(CommandKind.INCIDENTS, target="Node 3", limit=2)),
        # each argument is taken once, from the end: what is left is the name
        ("incidents Node 3 2", Command(CommandKind.INCIDENTS, target="Node 3", limit=2,
                                       fallback_target="incidents Node 3 2")),
        ("incidents “Node 3”", Command(CommandKind.INCIDENTS, target="Node 3")),
        ("uptime", Command(CommandKind.UPTIME)),
        ("uptime 90d", Command(CommandKind.UPTIME, window=timedelta(days=90))),
        ("uptime OpenAI 30d", Command(CommandKind.UPTIME, target="OpenAI", window=timedelta(days=30),
                                      fallback_target="uptime OpenAI 30d")),
        ("uptime Node 3", Command(CommandKind.UPTIME, target="Node 3", fallback_target="uptime Node 3")),
        # a monitor called "Uptime Robot": read as uptime of "Robot", answered as the monitor when no "Robot"
        ("Uptime Robot", Command(CommandKind.UPTIME, target="Robot", fallback_target="Uptime Robot")),
        ('"Uptime Robot"', Command(CommandKind.TARGET, target="Uptime Robot")),
        ('"incidents"', Command(CommandKind.TARGET, target="incidents")),
        ('"', Command(CommandKind.OVERVIEW)),
    ],
)
def test_typed_text(text: str, expected: Command) -> None:
    assert parse_text(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("incidents 0", "`limit` must be a number from 1 to 25."),
        ("incidents 99", "`limit` must be"),
        ("incidents 1y", "`since` takes a span"),
        ("incidents 2099-01-01", "`since` takes a span"),
        ("uptime 1y", "`window` is one of 24h, 7d, 30d, 90d."),
        ('incidents "OpenAI" soon', "Unexpected “soon”."),
        ('"OpenAI" 3', "Unexpected “3”."),
        ("x" * 201, "That is too long (201 characters)."),
    ],
)
def test_bad_typed_arguments_answer_the_problem_and_the_help(text: str, problem: str) -> None:
    answer = parse_text(text, now=NOW)
    assert isinstance(answer, Usage) and answer.is_error
    assert answer.message.startswith(problem) and answer.message.endswith(help_text())


NAME = st.from_regex(r"[A-Z][a-z]{2,8}( [A-Z][a-z]{2,8}){0,2}", fullmatch=True).filter(
    lambda n: n.split()[0].casefold() not in {"incidents", "uptime", "help", "ack", "mute", "unmute", "mutes",
                                               "maintenance"})
VALUES = {
    ArgKind.TARGET: NAME,
    ArgKind.COUNT: st.integers(1, 25).map(str),
    ArgKind.SINCE: st.sampled_from(["24h", "7d", "2w", "30d", "2026-09-17", "2026-09-30T12:00:00"]),
    ArgKind.WINDOW: st.sampled_from(list(commands.WINDOWS)),
    ArgKind.DURATION: st.sampled_from(["30m", "2h", "1d", "1h30m", "until-resolved"]),
    ArgKind.REASON: st.from_regex(r"[a-z]{1,8}( [a-z0-9<@!>]{1,8}){0,3}", fullmatch=True),
}
# arguments an acting command cannot do without (operations, issue 12): its monitor, and a mute's duration
REQUIRED = {ArgKind.DURATION} | {ArgKind.TARGET}


@st.composite
def typed(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    spec = draw(st.sampled_from(COMMANDS))
    required = spec.kind in commands.ACTING
    options = {a.name: draw(VALUES[a.kind]) for a in spec.arguments
               if (required and a.kind in REQUIRED) or draw(st.booleans())}
    return spec.name, options


@given(typed())
def test_typing_the_arguments_in_order_means_what_choosing_them_by_name_means(case: tuple[str, dict[str, object]]) -> None:
    name, options = case
    spec = commands.BY_NAME[name]
    words = [] if spec is STATUS else [name]
    words += [str(options[a.name]) for a in spec.arguments if a.name in options]
    parsed = parse_text(" ".join(words), now=NOW)
    assert isinstance(parsed, Command)
    built = build(name, options, now=NOW)
    assert isinstance(built, Command)
    targeted = any(a.kind is ArgKind.TARGET and a.name in options for a in spec.arguments)
    fallback = " ".join(words) if spec is not STATUS and targeted else None
    assert parsed == replace(built, fallback_target=fallback)


@given(st.text(max_size=300))
def test_any_text_parses_to_a_command_or_a_usage_error(text: str) -> None:
    parsed = parse_text(text, now=NOW)
    assert isinstance(parsed, Command) or (isinstance(parsed, Usage) and parsed.is_error)
    if isinstance(parsed, Command) and parsed.target:
        assert parsed.target == parsed.target.strip() and not re.search(r"[\x00-\x1f\x7f]", parsed.target)


@given(st.sampled_from(COMMANDS), st.dictionaries(st.sampled_from(["target", "limit", "since", "window"]),
                                                  st.one_of(st.none(), st.text(max_size=40), st.integers())))
def test_any_options_build_a_command_or_a_usage_error(spec: commands.CommandSpec, options: dict[str, object]) -> None:
    built = build(spec.name, options, now=NOW)
    assert isinstance(built, Command) or (isinstance(built, Usage) and built.is_error)
