"""Discord embeds: within the documented limits, escaped, coloured by severity, notices never 'down'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.discord import render
from adapters.discord.adapter import matching_names
from bot.model import (
    AffectedComponent,
    Alert,
    AlertKind,
    Change,
    ChangeKind,
    ComponentView,
    IncidentList,
    IncidentView,
    Overview,
    ProviderIncident,
    Status,
    TargetReport,
    Uptime,
    UptimeReport,
    Usage,
)

T0 = datetime(2026, 9, 29, 14, 0, tzinfo=UTC)


def alert(kind: AlertKind = AlertKind.OPENED, *, severity: Status = Status.MAJOR, components: int = 3, **kw) -> Alert:
    comps = tuple(AffectedComponent(f"Component {i}", severity, T0) for i in range(components))
    defaults = dict(
        kind=kind, incident_id="inc-1", monitor="OpenAI", severity=severity, at=T0 + timedelta(minutes=90),
        started_at=T0, components=comps, total_components=max(components, 25),
        provider_incidents=(
            ProviderIncident("p1", "Elevated errors across ChatGPT", "investigating", "minor", "We are investigating."),
        ),
    )
    defaults.update(kw)
    return Alert(**defaults)  # type: ignore[arg-type]


def test_150_components_stay_within_every_limit_with_a_more_line() -> None:
    long = "x" * 300
    a = alert(components=150, provider_incidents=(ProviderIncident("p", long, long, "major", long * 20),))
    embed = render.render_alert(a)
    assert render.within_limits(embed) == []
    assert len(embed) <= render.TOTAL_MAX
    assert len(embed.fields) <= render.FIELDS_MAX
    shown = len(embed.fields) - 1
    assert embed.fields[-1].value == f"…and {150 - shown} more components"
    assert "150 of 150 components affected" in (embed.description or "")


def test_long_component_names_respect_the_6000_total() -> None:
    comps = tuple(AffectedComponent("n" * 400 + str(i), Status.PARTIAL, T0) for i in range(120))
    embed = render.render_alert(alert(components=0, severity=Status.PARTIAL).__class__(
        kind=AlertKind.UPDATED, incident_id="i", monitor="M" * 400, severity=Status.PARTIAL, at=T0, started_at=T0,
        components=comps, total_components=120,
    ))
    assert render.within_limits(embed) == []
    assert "more components" in embed.fields[-1].value


@pytest.mark.parametrize(
    ("severity", "kind", "colour"),
    [
        (Status.DEGRADED, AlertKind.OPENED, render.COLOUR_DEGRADED),
        (Status.PARTIAL, AlertKind.UPDATED, render.COLOUR_PARTIAL),
        (Status.MAJOR, AlertKind.REMINDER, render.COLOUR_MAJOR),
        (Status.MAJOR, AlertKind.RESOLVED, render.COLOUR_RESOLVED),
        (Status.UNKNOWN, AlertKind.SOURCE_UNREADABLE, render.COLOUR_NOTICE),
        (Status.MAJOR, AlertKind.NETWORK_DOWN, render.COLOUR_NOTICE),
    ],
)
def test_colour_by_severity(severity: Status, kind: AlertKind, colour: int) -> None:
    assert render.render_alert(alert(kind, severity=severity)).colour.value == colour


def test_resolved_shows_the_duration_once_and_green_title() -> None:
    a = alert(AlertKind.RESOLVED, resolved_at=T0 + timedelta(hours=1, minutes=23),
              changes=(Change(ChangeKind.RESOLVED, duration=timedelta(hours=1, minutes=23)),))
    embed = render.render_alert(a)
    assert embed.title == "✅ OpenAI — resolved after 1h 23m"
    assert "after 1h 23m" in (embed.description or "")
    assert f"<t:{int(T0.timestamp())}:f>" in (embed.description or "")
    line = render.render_change(a)
    assert line == "✅ Recovered after 1h 23m" and line.count("1h 23m") == 1


def test_open_alert_shows_start_time_provider_incident_and_components() -> None:
    embed = render.render_alert(alert())
    text = embed.description or ""
    assert embed.title == "🔴 OpenAI — major outage"
    assert f"Started <t:{int(T0.timestamp())}:f>, ongoing for 1h 30m" in text
    assert "**Elevated errors across ChatGPT** — *investigating, impact minor*" in text
    assert "> We are investigating." in text
    assert [f.name for f in embed.fields] == ["🔴 Component 0", "🔴 Component 1", "🔴 Component 2"]
    assert embed.fields[0].value.startswith("major outage")


@pytest.mark.parametrize("kind", [AlertKind.SOURCE_UNREADABLE, AlertKind.NETWORK_DOWN, AlertKind.NETWORK_UP])
def test_notices_are_informational_never_down(kind: AlertKind) -> None:
    embed = render.render_alert(alert(kind, severity=Status.MAJOR))
    words = f"{embed.title} {embed.description}".lower()
    assert "outage" not in words and "is down" not in words
    assert embed.title.startswith("ℹ️")
    assert not embed.fields


def test_injection_text_is_escaped_and_mentions_neutralised() -> None:
    evil = "@everyone **bold** <@&539082325061836999> @here [click](https://evil.example) `code`"
    a = alert(
        monitor=evil,
        components=0,
        provider_incidents=(ProviderIncident("p", evil, "investigating", "major", evil),),
        changes=(Change(ChangeKind.TEXT, detail=evil),),
    )
    embed = render.render_alert(a)
    rendered = "\n".join([embed.title or "", embed.description or "", render.render_change(a)])
    assert "@everyone" not in rendered and "@here" not in rendered
    assert "<@&539082325061836999>" not in rendered
    assert "**bold**" not in rendered and "\\*\\*bold\\*\\*" in rendered
    assert "\\[click]" in rendered  # an escaped bracket cannot open a masked link


def test_fit_never_exceeds_limit_even_when_escaping_grows_text() -> None:
    for limit in (1, 10, 99, 256):
        assert len(render.fit("*_" * 500, limit)) <= limit


def test_mention_for_role_and_none() -> None:
    assert render.mention_for("539082325061836999") == ("<@&539082325061836999>", {"parse": [], "roles": ["539082325061836999"]})
    assert render.mention_for("<@&42>")[0] == "<@&42>"
    assert render.mention_for(None) == (None, {"parse": []})


# ---------------------------------------------------------------- replies

VIEW = ComponentView("OpenAI", "Chat", Status.PARTIAL, T0)
INC = IncidentView("i1", "OpenAI", Status.MAJOR, T0, T0 + timedelta(minutes=45), ("Chat", "API"), "Elevated errors")


def test_replies_render_and_stay_within_limits() -> None:
    now = T0 + timedelta(days=1)
    many = tuple(ComponentView(f"Mon{i % 7}", f"Component {i}", Status.MAJOR, T0) for i in range(300))
    replies = [
        Overview(now=now, monitors=3, problems=(), open_incidents=()),
        Overview(now=now, monitors=7, problems=many, open_incidents=(INC,) * 40, unreadable=("Slack",)),
        TargetReport(now=now, name="OpenAI", monitor="OpenAI", is_monitor=True, status=Status.PARTIAL, since=T0,
                     uptime=(Uptime(timedelta(hours=24), 99.5, 1, timedelta(minutes=45)),), incidents=(INC,) * 30,
                     components=many),
        IncidentList(now=now, incidents=(INC,) * 25, target="OpenAI", since=T0),
        IncidentList(now=now, incidents=()),
        UptimeReport(now=now, window=timedelta(days=7), rows=tuple((f"m{i}", Uptime(timedelta(days=7), None)) for i in range(500))),
        Usage("No monitor or component named “@everyone”.", suggestions=("OpenAI",), is_error=True),
    ]
    for reply in replies:
        embeds = render.render_reply(reply)
        assert 1 <= len(embeds) <= render.EMBEDS_PER_MESSAGE
        for embed in embeds:
            assert render.within_limits(embed) == [], reply
    assert render.render_reply(replies[0])[0].title == "✅ All 3 monitors operational"
    busy = render.render_reply(replies[1])[0]
    assert "more lines" in (busy.description or "") and "more open incidents" in busy.fields[-1].value
    target = render.render_reply(replies[2])[0]
    assert "24h: 99.50% · 1 incident · MTTR 45m" in (target.description or "")
    listing = render.render_reply(replies[3])[0]
    assert listing.title == "Last 25 incidents for OpenAI since 2026-09-29"
    assert "lasted 45m" in listing.fields[0].value
    usage = render.render_reply(replies[6])[0]
    assert "@everyone" not in (usage.description or "") and "Did you mean: OpenAI?" in (usage.description or "")


# ---------------------------------------------------------------- autocomplete (options: tests/test_commands.py)


def test_autocomplete_matches_names_prefix_first() -> None:
    names = ["OpenAI", "Chat Completions", "openai-api", "Slack"] + [f"c{i}" for i in range(40)]
    assert matching_names(names, "open") == ["OpenAI", "openai-api"]
    assert matching_names(names, "ai")[:1] == ["OpenAI"] or "OpenAI" in matching_names(names, "ai")
    assert len(matching_names(names, "")) == 25
