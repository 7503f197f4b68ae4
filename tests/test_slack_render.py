"""Pure Block Kit rendering: wording, escaping, and Slack's documented limits with very large incidents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.render import (
    BLOCKS_TEXT_BUDGET,
    CONTEXT_ELEMENTS_LIMIT,
    HEADER_TEXT_LIMIT,
    MAX_BLOCKS,
    MESSAGE_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    escape,
    render_alert,
    render_change,
    render_reply,
    slack_date,
    truncate,
)
from bot.commands import USAGE
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
from bot.wording import format_duration

T0 = datetime(2026, 9, 29, 14, 0, tzinfo=UTC)
INJECTION = "<!channel> <!here|here> <@U123> <https://evil.example|click> & more"


def make_alert(
    kind: AlertKind = AlertKind.OPENED,
    *,
    components: int = 3,
    name: str = "Component",
    title: str = "Elevated errors across ChatGPT",
    update: str = "We are investigating.",
    minutes: int = 72,
    severity: Status = Status.MAJOR,
    incidents: int = 1,
) -> Alert:
    resolved = kind is AlertKind.RESOLVED
    return Alert(
        kind=kind,
        incident_id="inc-1",
        monitor="OpenAI",
        severity=severity,
        at=T0 + timedelta(minutes=minutes),
        started_at=T0,
        components=tuple(AffectedComponent(f"{name} {i}", severity, T0, flapping=i == 0) for i in range(components)),
        total_components=max(25, components),
        provider_incidents=tuple(
            ProviderIncident(f"p{i}", title, "investigating", "major", update, T0, url="https://status.openai.com/i/1")
            for i in range(incidents)
        ),
        resolved_at=T0 + timedelta(minutes=minutes) if resolved else None,
    )


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        if "text" in block and block["text"]["type"] == "mrkdwn":
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", ()) if e.get("type") == "mrkdwn"]
    return texts


def assert_within_limits(text: str, blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(text) <= MESSAGE_TEXT_LIMIT
    assert 0 < len(blocks) <= MAX_BLOCKS
    total = 0
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= HEADER_TEXT_LIMIT
        elif block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= SECTION_TEXT_LIMIT
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= CONTEXT_ELEMENTS_LIMIT
        elif block["type"] == "actions":  # the buttons (issue 12): tests/test_slack_buttons.py
            assert block is blocks[-1] and 0 < len(block["elements"]) <= 25
        else:
            raise AssertionError(f"unexpected block {block['type']}")
        total += len(json.dumps(block, ensure_ascii=False))
    assert sum(len(t) for t in mrkdwn_texts(blocks)) <= BLOCKS_TEXT_BUDGET + 200


# ---------------------------------------------------------------- alert wording


def test_opened_alert_header_summary_components_and_provider_incident() -> None:
    text, blocks = render_alert(make_alert())
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "🔴 OpenAI — major outage",
                                                    "emoji": True}}
    summary = blocks[1]["text"]["text"]
    assert "*3 of 25 components affected*" in summary
    assert f"Started <!date^{int(T0.timestamp())}^" in summary and "|2026-09-29 14:00 UTC>" in summary
    assert "ongoing for 1h 12m" in summary
    components = blocks[2]["text"]["text"]
    assert "🔴 *Component 0* — major outage, flapping · since <!date^" in components and "*Component 2*" in components
    incident = blocks[3]["text"]["text"]
    assert incident.startswith("*<https://status.openai.com/i/1|Elevated errors across ChatGPT>* — "
                               "_investigating, impact major_")
    assert ">We are investigating." in incident
    assert [b["type"] for b in blocks[-2:]] == ["context", "actions"]  # the footer, then the buttons
    assert text.startswith("🔴 OpenAI — major outage\n3 of 25 components affected: Component 0, Component 1")


def test_resolved_alert_says_resolved_after_the_duration_and_never_pings() -> None:
    text, blocks = render_alert(make_alert(AlertKind.RESOLVED), mention="<!here>")
    assert blocks[0]["text"]["text"] == "✅ OpenAI — resolved after 1h 12m"
    assert "*Was: major outage*" in blocks[1]["text"]["text"]
    assert ", resolved <!date^" in blocks[1]["text"]["text"] and "after 1h 12m" in blocks[1]["text"]["text"]
    assert "<!here>" not in text and "<!here>" not in json.dumps(blocks)
    assert "✅ *Component 1* — recovered" in blocks[2]["text"]["text"]


def test_severities_have_their_emoji() -> None:
    assert render_alert(make_alert(severity=Status.PARTIAL))[1][0]["text"]["text"] == "🟠 OpenAI — partial outage"
    assert render_alert(make_alert(severity=Status.DEGRADED))[1][0]["text"]["text"] == "🟡 OpenAI — degraded performance"


def test_configured_mention_pings_and_anything_else_is_escaped() -> None:
    text, blocks = render_alert(make_alert(), mention="<!subteam^S0123ABC>")
    assert text.startswith("<!subteam^S0123ABC> 🔴 OpenAI")
    assert blocks[0]["text"]["text"] == "<!subteam^S0123ABC>"
    text, _ = render_alert(make_alert(), mention="<!channel|x> <!everyone>")
    assert text.startswith("&lt;!channel|x&gt; &lt;!everyone&gt;")


def test_notices_are_informational_not_outages() -> None:
    for kind in (AlertKind.SOURCE_UNREADABLE, AlertKind.SOURCE_READABLE, AlertKind.NETWORK_DOWN, AlertKind.NETWORK_UP):
        alert = make_alert(kind, severity=Status.UNKNOWN, components=0)
        text, blocks = render_alert(alert, mention="<!here>")
        rendered = text + json.dumps(blocks, ensure_ascii=False)
        assert text.startswith("ℹ️ ")
        assert "down" not in rendered.replace("downwatch", "") and "outage" not in rendered
        assert "<!here>" not in rendered and not any(b["type"] == "header" for b in blocks)
    assert "Cannot read the status source of OpenAI" in render_alert(make_alert(AlertKind.SOURCE_UNREADABLE))[0]


def test_thread_replies() -> None:
    assert render_change(make_alert(AlertKind.RESOLVED, minutes=42))[0] == "✅ Recovered after 42m"
    assert render_change(make_alert(AlertKind.REMINDER, minutes=120))[0] == "⏳ Still ongoing after 2h"
    line = Change(ChangeKind.TEXT, detail="API joined: <!channel> outage")  # a row queued by the old version
    changed = Alert(**{**make_alert(AlertKind.UPDATED).__dict__, "changes": (line,)})
    text, blocks = render_change(changed)
    assert text == "🔴 API joined: &lt;!channel&gt; outage" and blocks[0]["text"]["text"] == text
    pinged, _ = render_change(changed, mention="<!subteam^S0123ABC>")
    assert pinged == "<!subteam^S0123ABC> 🔴 API joined: &lt;!channel&gt; outage"
    assert render_change(changed, mention="<!channel> and more")[0].startswith("&lt;!channel&gt; and more ")


# ---------------------------------------------------------------- limits


def test_150_components_stay_within_every_limit_and_say_how_many_more() -> None:
    text, blocks = render_alert(make_alert(components=150, incidents=5, update="word " * 2000), mention="<!here>")
    assert_within_limits(text, blocks)
    rendered = json.dumps(blocks, ensure_ascii=False)
    assert "150 of 150 components affected" in rendered
    assert "…and 110 more" in rendered
    assert "…and 2 more provider incidents" in rendered
    assert "and 140 more" in text


def test_huge_names_and_titles_are_cut_not_refused() -> None:
    alert = make_alert(components=120, name="N" * 2500, title="T" * 5000, update="U" * 5000, incidents=3)
    text, blocks = render_alert(alert)
    assert_within_limits(text, blocks)
    header_alert = Alert(**{**alert.__dict__, "monitor": "M" * 400})
    assert_within_limits(*render_alert(header_alert))


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(min_size=0, max_size=300), min_size=0, max_size=160),
    title=st.text(max_size=400),
    update=st.text(max_size=4000),
)
def test_any_provider_text_stays_within_limits_and_cannot_ping(names: list[str], title: str, update: str) -> None:
    alert = Alert(
        kind=AlertKind.UPDATED, incident_id="i", monitor="OpenAI", severity=Status.PARTIAL, at=T0, started_at=T0,
        components=tuple(AffectedComponent(n, Status.PARTIAL, T0) for n in names), total_components=len(names),
        provider_incidents=(ProviderIncident("p", title, "identified", "minor", update),),
    )
    text, blocks = render_alert(alert)
    assert_within_limits(text, blocks)
    for chunk in [text, *mrkdwn_texts(blocks)]:
        # the only Slack control sequences left are the ones we wrote: dates and the status-page link
        leftover = chunk
        for token in ("<!date^", "<https://"):
            leftover = leftover.replace(token, "")
        assert "<!" not in leftover and "<@" not in leftover and "<#" not in leftover


def test_mention_injection_in_incident_title_update_and_component_is_escaped() -> None:
    alert = make_alert(name=INJECTION, title=INJECTION, update=INJECTION)
    text, blocks = render_alert(alert)
    for chunk in [text, *mrkdwn_texts(blocks)]:
        assert "<!channel>" not in chunk and "<!here" not in chunk and "<@U123>" not in chunk
        assert "<https://evil" not in chunk
    assert "&lt;!channel&gt; &lt;!here|here&gt; &lt;@U123&gt;" in blocks[3]["text"]["text"]
    assert "&amp; more" in blocks[2]["text"]["text"]


# ---------------------------------------------------------------- command replies


NOW = T0 + timedelta(hours=5)
INCIDENT = IncidentView("i1", "OpenAI", Status.MAJOR, T0, T0 + timedelta(hours=1, minutes=12), ("API", "ChatGPT"),
                        title="Elevated errors")
OPEN = IncidentView("i2", "GitHub", Status.PARTIAL, NOW - timedelta(minutes=42), None, ("Actions",))


def test_overview_all_fine_is_one_line() -> None:
    text, blocks = render_reply(Overview(now=NOW, monitors=7, problems=(), open_incidents=()))
    assert text == "✅ All 7 monitors operational"
    assert blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "✅ All 7 monitors operational"}}]


def test_overview_with_problems_groups_by_monitor() -> None:
    reply = Overview(
        now=NOW, monitors=3,
        problems=(ComponentView("GitHub", "Actions", Status.PARTIAL, NOW - timedelta(minutes=42)),
                  ComponentView("GitHub", "Pages", Status.DEGRADED, None),
                  ComponentView("OpenAI", "<!channel>", Status.MAINTENANCE, None)),
        open_incidents=(OPEN,), unreadable=("Twilio",),
    )
    text, blocks = render_reply(reply)
    assert text.splitlines()[0] == ("🟠 *3 monitors · 3 components not operational · 1 open incident · "
                                    "1 source unreadable*")
    assert "🟠 *GitHub — partial outage* · started <!date^" in text and "ongoing for 42m · Actions" in text
    assert "  🟠 GitHub / Actions — partial outage for 42m\n  🟡 GitHub / Pages — degraded performance" in text
    assert "🔧 OpenAI / &lt;!channel&gt; — under maintenance" in text
    assert "❔ Cannot read: Twilio" in text
    assert_within_limits(text, blocks)


def test_target_report_has_uptime_and_last_incidents_with_durations() -> None:
    reply = TargetReport(
        now=NOW, name="OpenAI", monitor="OpenAI", is_monitor=True, status=Status.OPERATIONAL,
        since=NOW - timedelta(hours=3, minutes=48),
        uptime=(Uptime(timedelta(hours=24), 95.0, 1, timedelta(hours=1, minutes=12)),
                Uptime(timedelta(days=7), 99.2857), Uptime(timedelta(days=30), None)),
        incidents=(INCIDENT,),
    )
    text, _ = render_reply(reply)
    assert text.splitlines()[0] == "✅ *OpenAI — operational for 3h 48m* (monitor)"
    assert "*Uptime*\n  24h: 95.00% · 1 incident · MTTR 1h 12m\n  7d: 99.29%\n  30d: no data" in text
    assert "lasted 1h 12m · API, ChatGPT" in text and "_Elevated errors_" in text


def test_incident_list_and_empty_list() -> None:
    text, blocks = render_reply(IncidentList(now=NOW, incidents=(OPEN, INCIDENT)))
    assert text.startswith("*Last 2 incidents*\n🟠 *GitHub — partial outage* · started <!date^")
    assert "✅ *OpenAI — major outage*" in text
    assert render_reply(IncidentList(now=NOW, incidents=(), target="OpenAI"))[0] == "No incidents recorded for OpenAI."


def test_many_incidents_stay_within_limits() -> None:
    many = tuple(IncidentView(f"i{i}", "M" * 100, Status.MAJOR, T0, None, tuple(f"c{j}" for j in range(30)),
                              title="T" * 300) for i in range(200))
    text, blocks = render_reply(IncidentList(now=NOW, incidents=many))
    assert_within_limits(text, blocks)
    assert "more" in json.dumps(blocks)


def test_uptime_report() -> None:
    reply = UptimeReport(now=NOW, window=timedelta(days=7),
                         rows=(("OpenAI", Uptime(timedelta(days=7), 99.9, 2, timedelta(minutes=12))),))
    assert render_reply(reply)[0] == "*Uptime over the last 7d*\n  OpenAI — 99.90% · 2 incidents · MTTR 12m"


def test_usage_shows_message_and_did_you_mean() -> None:
    text, blocks = render_reply(Usage("No monitor or component named “opnai”.", suggestions=("OpenAI", "<!here>"),
                                      is_error=True))
    assert text == "⚠️ No monitor or component named “opnai”.\nDid you mean: OpenAI, &lt;!here&gt;?"
    assert len(blocks) == 2
    help_text, _ = render_reply(Usage(USAGE))
    assert help_text.startswith("```Usage:\n  /status ") and help_text == f"```{escape(USAGE)}```"


# ---------------------------------------------------------------- helpers


def test_helpers() -> None:
    assert escape("a & <b> <!channel>") == "a &amp; &lt;b&gt; &lt;!channel&gt;"
    assert [format_duration(timedelta(seconds=s)) for s in (-5, 45, 42 * 60, 4320, 7200, 93600)] == [
        "0s", "45s", "42m", "1h 12m", "2h", "1d 2h"]
    assert truncate("abcdef", 4) == "abc…" and truncate("abc", 4) == "abc"
    assert truncate("ab &amp; cd", 6) == "ab …"
    assert slack_date(T0) == f"<!date^{int(T0.timestamp())}^{{date_short_pretty}} {{time}}|2026-09-29 14:00 UTC>"
