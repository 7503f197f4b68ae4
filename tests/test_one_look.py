"""One look everywhere: every alert kind and every reply kind, rendered on Slack, Discord and the console,
says the same words, icons and numbers once markup, escaping and each platform's date syntax are stripped."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from adapters import console
from adapters.discord import render as discord_render
from adapters.slack import render as slack_render
from bot import wording
from bot.commands import USAGE
from bot.model import (
    Acknowledged,
    AffectedComponent,
    Alert,
    AlertKind,
    Alternative,
    AlternativesReport,
    Change,
    ChangedComponent,
    ChangeKind,
    ComponentView,
    IncidentList,
    IncidentView,
    Muted,
    Overview,
    ProbeStats,
    ProviderIncident,
    Reply,
    Status,
    TargetReport,
    TimelineEntry,
    Uptime,
    UptimeReport,
    Usage,
)

T0 = datetime(2026, 9, 29, 14, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1, minutes=12)
OK, DEG, PART, MAJ = Status.OPERATIONAL, Status.DEGRADED, Status.PARTIAL, Status.MAJOR
PROVIDER = ProviderIncident("p1", "Elevated errors across ChatGPT", "identified", "major",
                            "We found the cause and are deploying a fix.", T0 + timedelta(minutes=30),
                            url="https://status.openai.com/incidents/p1")


# ---------------------------------------------------------------- the cases


def alert(kind: AlertKind, *changes: Change, severity: Status = MAJ) -> Alert:
    resolved = kind is AlertKind.RESOLVED
    notice = kind in (AlertKind.SOURCE_UNREADABLE, AlertKind.SOURCE_READABLE, AlertKind.NETWORK_DOWN,
                      AlertKind.NETWORK_UP)
    components = () if notice else (
        AffectedComponent("API", severity, T0),
        AffectedComponent("ChatGPT", DEG, T0 + timedelta(minutes=5), flapping=True),
    )
    return Alert(
        kind=kind, incident_id="OpenAI@t0", monitor="downwatch" if "network" in kind.value else "OpenAI",
        severity=Status.UNKNOWN if notice else severity, at=NOW, started_at=T0, components=components,
        total_components=0 if notice else 25, provider_incidents=() if notice else (PROVIDER,),
        resolved_at=NOW if kind in (AlertKind.RESOLVED, AlertKind.SOURCE_READABLE, AlertKind.NETWORK_UP) else None,
        changes=changes, escalated=resolved,
    )


def joined(*names: str, status: Status = DEG) -> Change:
    return Change(ChangeKind.JOINED, components=tuple(ChangedComponent(n, status) for n in names), affected=2,
                  total=25)


UPDATES: dict[str, Change] = {
    "joined": joined("ChatGPT"),
    "joined many": joined(*(f"C{i}" for i in range(8))),
    "recovered": Change(ChangeKind.RECOVERED, components=(ChangedComponent("Codex", OK, PART),), affected=2,
                        total=25),
    "severity": Change(ChangeKind.SEVERITY, components=(ChangedComponent("API", MAJ, PART),), before=PART,
                       after=MAJ),
    "incident severity": Change(ChangeKind.INCIDENT_SEVERITY, before=PART, after=MAJ),
    "vanished": Change(ChangeKind.VANISHED, components=(ChangedComponent("Sora", Status.UNKNOWN, MAJ),),
                       affected=2, total=24),
    "flapping": Change(ChangeKind.FLAPPING, components=(ChangedComponent("ChatGPT", DEG),)),
    "settled": Change(ChangeKind.SETTLED, components=(ChangedComponent("ChatGPT", DEG),)),
    "provider opened": Change(ChangeKind.PROVIDER_OPENED, provider=PROVIDER),
    "provider updated": Change(ChangeKind.PROVIDER_UPDATED, provider=PROVIDER),
    "provider resolved": Change(ChangeKind.PROVIDER_RESOLVED, provider=PROVIDER),
    "old text": Change(ChangeKind.TEXT, detail="ChatGPT joined: degraded performance"),
}

ALERTS: dict[str, Alert] = {
    "opened": alert(AlertKind.OPENED, Change(ChangeKind.OPENED, components=(ChangedComponent("API", MAJ),),
                                             affected=1, total=25)),
    "opened by the provider": alert(AlertKind.OPENED, Change(ChangeKind.OPENED, provider=PROVIDER, total=25),
                                    severity=DEG),
    **{f"updated: {name}": alert(AlertKind.UPDATED, change) for name, change in UPDATES.items()},
    "updated: several": alert(AlertKind.UPDATED, *UPDATES.values()),
    "reminder": alert(AlertKind.REMINDER, Change(ChangeKind.REMINDER, duration=NOW - T0)),
    "resolved": alert(AlertKind.RESOLVED, Change(ChangeKind.RESOLVED, duration=NOW - T0)),
    "source unreadable": alert(AlertKind.SOURCE_UNREADABLE,
                               Change(ChangeKind.UNREADABLE, detail="HTTP 502 (HTML page)")),
    "source readable": alert(AlertKind.SOURCE_READABLE, Change(ChangeKind.READABLE, duration=NOW - T0)),
    "network down": alert(AlertKind.NETWORK_DOWN,
                          Change(ChangeKind.NETWORK_DOWN, detail="all 12 monitors fail to connect at once")),
    "network up": alert(AlertKind.NETWORK_UP,
                        Change(ChangeKind.NETWORK_UP, duration=NOW - T0, detail="the control target answers")),
}

ALTERNATIVES = (Alternative("Anthropic", OK), Alternative("Gemini", DEG), Alternative("Mistral", Status.UNKNOWN))
ALERTS["opened, with alternatives"] = replace(ALERTS["opened"], alternatives=ALTERNATIVES)
ALERTS["updated, with alternatives"] = replace(ALERTS["updated: joined"], alternatives=ALTERNATIVES[:1])
ALERTS["acknowledged and muted"] = replace(  # operations (issue 12): who acted, on the parent message
    ALERTS["opened"], acknowledged=Acknowledged("alice", T0 + timedelta(minutes=2)),
    muted=Muted("bob", T0 + timedelta(minutes=3), until=T0 + timedelta(hours=1, minutes=3),
                reason="deploying the fix <!channel> @everyone"))

OPEN = IncidentView("i2", "GitHub", PART, NOW - timedelta(minutes=42), None, ("Actions", "Pages"),
                    title="Actions are slow")
PAST = IncidentView("i1", "OpenAI", MAJ, T0 - timedelta(days=2), T0 - timedelta(days=2) + timedelta(minutes=45),
                    ("API",))
UPTIMES = (Uptime(timedelta(hours=24), 95.0, 1, timedelta(minutes=45)), Uptime(timedelta(days=7), 99.2857),
           Uptime(timedelta(days=30), None))

REPLIES: dict[str, Reply] = {
    "overview, all operational": Overview(now=NOW, monitors=7, problems=(), open_incidents=()),
    "overview, one monitor": Overview(now=NOW, monitors=1, problems=(), open_incidents=()),
    "overview with problems": Overview(
        now=NOW, monitors=3,
        problems=(ComponentView("GitHub", "Actions", PART, NOW - timedelta(minutes=42), "HTTP 503"),
                  ComponentView("OpenAI", "Fine-tuning", Status.MAINTENANCE, None)),
        open_incidents=(OPEN,), unreadable=("Twilio",)),
    "target report": TargetReport(
        now=NOW, name="OpenAI", monitor="OpenAI", is_monitor=True, status=PART, since=NOW - timedelta(minutes=42),
        uptime=UPTIMES, incidents=(OPEN, PAST),
        components=(ComponentView("OpenAI", "API", PART, NOW - timedelta(minutes=42)),),
        probes=ProbeStats(timedelta(hours=24), 1440, 1439, 120.4, 900.0),
        timeline=(TimelineEntry(T0, AlertKind.OPENED, ALERTS["opened"].changes),
                  TimelineEntry(T0 + timedelta(minutes=5), AlertKind.UPDATED, (UPDATES["joined"],)),
                  TimelineEntry(T0 + timedelta(minutes=9), AlertKind.UPDATED, (UPDATES["old text"],)))),
    "target report, a component": TargetReport(
        now=NOW, name="API", monitor="OpenAI", is_monitor=False, status=OK, since=None,
        uptime=(UPTIMES[0],), incidents=()),
    "incident list": IncidentList(now=NOW, incidents=(OPEN, PAST), target="OpenAI", since=T0 - timedelta(days=7)),
    "incident list, empty": IncidentList(now=NOW, incidents=(), target="GitHub"),
    "uptime report": UptimeReport(now=NOW, window=timedelta(days=7),
                                  rows=(("OpenAI", Uptime(timedelta(days=7), 99.9, 2, timedelta(minutes=12))),
                                        ("GitHub", Uptime(timedelta(days=7), 100.0)),
                                        ("Twilio", Uptime(timedelta(days=7), None)))),
    "uptime report, no monitors": UptimeReport(now=NOW, window=timedelta(hours=24)),
    "alternatives": AlternativesReport(now=NOW, monitor="OpenAI", status=MAJ, alternatives=ALTERNATIVES),
    "alternatives, none set": AlternativesReport(now=NOW, monitor="OpenAI", status=OK),
    "usage, help": Usage(USAGE),
    "usage, error": Usage("No monitor or component named “opnai”.", suggestions=("OpenAI", "OpenAI / API"),
                          is_error=True),
}


# ---------------------------------------------------------------- stripping each platform's markup


def _utc(epoch: str) -> str:
    return wording.utc(datetime.fromtimestamp(int(epoch), UTC))


def slack_words(blocks: list[dict[str, Any]]) -> str:
    texts = []
    for block in blocks:
        if block["type"] == "actions":  # the buttons are controls, not what the message says
            continue
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", ())]
    text = "\n".join(texts)
    text = re.sub(r"<!date\^(\d+)\^[^|>]*\|[^>]*>", lambda m: _utc(m.group(1)), text)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]*)>", r"\2", text)
    text = re.sub(r"```|(?<=\s)_|_(?=\s|$)|^_|\*", "", text, flags=re.M)
    text = re.sub(r"^>", "", text, flags=re.M)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def discord_words(embeds: list[discord.Embed] | str) -> str:
    if isinstance(embeds, str):
        texts = [embeds]
    else:
        texts = []
        for e in embeds:
            texts += [e.title or "", e.description or ""]
            for f in e.fields:
                texts += [f.name or "", f.value or ""]
            if e.footer.text:  # Discord prints the embed's timestamp after the footer
                texts.append(f"{e.footer.text} {wording.utc(e.timestamp)}" if e.timestamp else e.footer.text)
    text = "\n".join(t for t in texts if t != "\u200b")
    text = re.sub(r"<t:(\d+):\w>", lambda m: _utc(m.group(1)), text)
    text = re.sub(r"\[([^\]]*)\]\(https?://[^)]*\)", r"\1", text)
    text = re.sub(r"```|\*\*|(?<!\\)\*", "", text)
    text = re.sub(r"^> ", "", text, flags=re.M)
    return re.sub(r"\\(.)", r"\1", text)


def tokens(text: str) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(icons, numbers, words): what a reader takes from a message, whatever its layout."""
    icons: Counter[str] = Counter()
    for char in text:
        if unicodedata.category(char) == "So":
            icons[char] += 1
    numbers = Counter(re.findall(r"\d+(?:[.,:]\d+)*(?:%|ms|[smhd]\b)?", text))
    words = Counter(w.lower() for w in re.findall(r"[^\W\d_][\w'-]*", text))
    return icons, numbers, words


def same(rendered: dict[str, str]) -> None:
    """The three renderings carry the same icons, numbers and words (order and layout aside)."""
    (first, text), *rest = rendered.items()
    want = tokens(text)
    for platform, other in rest:
        got = tokens(other)
        for what, a, b in zip(("icons", "numbers", "words"), want, got, strict=True):
            assert a == b, (f"{what} differ between {first} and {platform}: only in {first} {a - b}, "
                            f"only in {platform} {b - a}\n--- {first}\n{text}\n--- {platform}\n{other}")


# ---------------------------------------------------------------- the table


@pytest.mark.parametrize("name", list(ALERTS))
def test_an_alert_reads_the_same_on_every_platform(name: str) -> None:
    a = ALERTS[name]
    same({"console": console.render_alert(a),
          "slack": slack_words(slack_render.render_alert(a)[1]),
          "discord": discord_words([discord_render.render_alert(a)])})


@pytest.mark.parametrize("name", list(ALERTS))
def test_a_thread_line_reads_the_same_on_every_platform(name: str) -> None:
    a = ALERTS[name]
    line = f"{wording.line_icon(a)} {wording.change_line(a)}"
    rendered = {"console": console.render_change(a),
                "slack": slack_words(slack_render.render_change(a)[1]),
                "discord": discord_words(discord_render.render_change(a))}
    assert set(rendered.values()) == {line}  # one line, word for word


@pytest.mark.parametrize("name", list(REPLIES))
def test_a_reply_reads_the_same_on_every_platform(name: str) -> None:
    reply = REPLIES[name]
    same({"console": console.render_reply(reply),
          "slack": slack_words(slack_render.render_reply(reply)[1]),
          "discord": discord_words(discord_render.render_reply(reply))})


# ---------------------------------------------------------------- what the words are


def test_the_resolved_line_says_the_duration_once() -> None:
    line = wording.change_line(ALERTS["resolved"])
    assert line == "Recovered after 1h 12m"
    assert discord_render.render_change(ALERTS["resolved"]) == "✅ Recovered after 1h 12m"


def test_one_icon_set_and_two_decimals() -> None:
    assert [wording.icon(s) for s in (MAJ, PART, DEG, Status.MAINTENANCE, Status.UNKNOWN, OK)] == [
        "🔴", "🟠", "🟡", "🔧", "❔", "✅"]
    assert [wording.percent(p) for p in (99.95, 95.0, 100.0, 99.2857, None)] == [
        "99.95%", "95.00%", "100.00%", "99.29%", "no data"]
    assert [wording.window_label(timedelta(hours=h)) for h in (1, 24, 48, 24 * 7, 24 * 90)] == [
        "1h", "24h", "2d", "7d", "90d"]


def test_plurals_and_more() -> None:
    assert wording.plural(1, "monitor") == "1 monitor" and wording.plural(2, "monitor") == "2 monitors"
    assert wording.all_operational(1) == "The monitor is operational"
    assert wording.all_operational(7) == "All 7 monitors operational"
    assert wording.more(3, "components") == "…and 3 more components"
    assert wording.names(["a", "b", "c"], 2) == "a, b and 1 more"
    assert wording.affected_count(1, 1) == "1 of 1 component affected"


def test_every_change_kind_has_words() -> None:
    for kind in ChangeKind:
        text = wording.changes_line((Change(kind, detail="why" if kind is ChangeKind.TEXT else ""),))
        assert text, kind


def test_change_lines() -> None:
    cases = {
        "joined": "ChatGPT (degraded performance) joined; 2 of 25 components affected",
        "joined many": "C0 (degraded performance), C1 (degraded performance), C2 (degraded performance), "
                       "C3 (degraded performance), C4 (degraded performance) and 3 more joined; "
                       "2 of 25 components affected",
        "recovered": "Codex recovered; 2 of 25 components affected",
        "severity": "API: partial outage → major outage",
        "incident severity": "severity partial outage → major outage",
        "vanished": "Sora no longer on the page; 2 of 24 components affected",
        "flapping": "ChatGPT flapping (changing state repeatedly; updates paused)",
        "settled": "ChatGPT stable again",
        "provider opened": "provider incident: Elevated errors across ChatGPT (identified)",
        "provider updated": "provider update: Elevated errors across ChatGPT — identified",
        "provider resolved": "provider incident resolved: Elevated errors across ChatGPT",
        "old text": "ChatGPT joined: degraded performance",
    }
    assert {name: wording.changes_line((UPDATES[name],)) for name in cases} == cases
    moves = tuple(Change(ChangeKind.SEVERITY, components=(ChangedComponent(f"C{i}", MAJ, PART),), before=PART,
                         after=MAJ) for i in range(7))
    assert wording.changes_line(moves).endswith("C4: partial outage → major outage; 2 more changed status")
    assert wording.change_line(ALERTS["source readable"]) == "status source readable again (unreadable for 1h 12m)"


def test_the_alternatives_line() -> None:
    line = "Alternatives: ✅ Anthropic operational · 🟡 Gemini degraded performance"
    assert wording.alternatives_line(ALTERNATIVES[:2]) == line
    assert wording.alternatives_line(()) == ""
    opened = ALERTS["opened, with alternatives"]
    assert line in console.render_alert(opened)
    assert line in slack_words(slack_render.render_alert(opened)[1])
    assert line in discord_words([discord_render.render_alert(opened)])
    assert line in slack_render.render_alert(opened)[0]  # the notification text says it too
    assert "Alternatives" not in wording.change_line(opened)  # the parent carries it, never the thread line
    answer = console.render_reply(REPLIES["alternatives"])
    assert answer.splitlines() == ["🔴 OpenAI — major outage", line + " · ❔ Mistral unknown"]
