"""The source parsers of issue 11 on real captures (tests/data/README.md says where each file comes from)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from bot.checks import aws, betterstack, feed, gcp, heroku, incidentio, instatus, slackstatus, statusio
from bot.model import CheckResult, Status

DATA = Path(__file__).parent / "data"
AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
PARSERS: dict[str, ModuleType] = {
    "incidentio": incidentio,
    "feed": feed,
    "slack": slackstatus,
    "gcp": gcp,
    "aws": aws,
    "betterstack": betterstack,
    "instatus": instatus,
    "statusio": statusio,
    "heroku": heroku,
}


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def statuses(result: CheckResult) -> dict[str, Status]:
    return {c.name: c.status for c in result.components}


def parse(module: ModuleType, body: bytes, *, at: datetime = AT, only: tuple[str, ...] = ()) -> CheckResult:
    result = module.parse(body, monitor="m", at=at, only=only)
    assert isinstance(result, CheckResult)
    return result


def edited(name: str, change: Callable[[dict], None]) -> bytes:
    """A real capture with one documented edit (for states nobody captured, e.g. an all-clear)."""
    doc = json.loads(read(name))
    change(doc)
    return json.dumps(doc).encode()


# ---------------------------------------------------------------- incident.io


def test_incidentio_native_summary_reads_the_affected_component_status() -> None:
    result = parse(incidentio, read("openai_status_proxy_summary_codex_test_fixture_minimal.json"))
    assert result.readable
    assert statuses(result) == {"Codex": Status.MAJOR}
    assert result.incidents == ()


def test_incidentio_native_summary_groups_full_outage_incidents_and_maintenance() -> None:
    # No full native capture exists (realdata "Not found"): the real minimal body, extended with the fields
    # third-party collectors read (structure.items groups, ongoing_incidents, scheduled_maintenances).
    def extend(doc: dict) -> None:
        s = doc["summary"]
        s["public_url"] = "https://status.openai.com"
        s["components"] += [
            {"id": "cmp-2", "name": "Responses"},
            {"id": "cmp-3", "name": "Login"},
            {"id": "cmp-4", "name": "Files"},
        ]
        s["affected_components"] = [
            {"component_id": "cmp-1", "status": "full_outage"},
            {"component_id": "cmp-2", "status": "degraded_performance"},
            {"component_id": "cmp-4", "status": "exploded"},
        ]
        s["structure"] = {
            "items": [
                {
                    "group": {
                        "id": "g1",
                        "name": "APIs",
                        "components": [
                            {"component_id": "cmp-1", "name": "Codex"},
                            {"component_id": "cmp-2", "name": "Responses"},
                        ],
                    }
                },
                {
                    "group": {
                        "id": "g2",
                        "name": "ChatGPT",
                        "components": [{"component_id": "cmp-3", "name": "Login"}],
                    }
                },
                {"component": {"component_id": "cmp-4", "name": "Files"}},
            ]
        }
        s["ongoing_incidents"] = [
            {
                "id": "inc-1",
                "name": "Codex down",
                "status": "identified",
                "affected_components": [{"component_id": "cmp-1"}],
                "updates": [
                    {"published_at": "2026-11-30T11:00:00Z", "message_string": "old"},
                    {"published_at": "2026-11-30T11:30:00Z", "message_string": "<p>new</p>"},
                ],
            }
        ]
        s["scheduled_maintenances"] = [
            {
                "id": "m-1",
                "status": "maintenance_in_progress",
                "affected_components": [{"component_id": "cmp-3"}],
            },
            {  # the widget's names for the times (starts_at, ends_at); the native page's are not documented
                "id": "m-2",
                "name": "Files migration",
                "status": "maintenance_scheduled",
                "starts_at": "2026-12-01T02:00:00Z",
                "ends_at": "2026-12-01T03:00:00Z",
                "affected_components": [{"component_id": "cmp-4"}],
            },
            {"id": "m-3", "name": "Old", "status": "maintenance_complete", "affected_components": []},
        ]

    body = edited("openai_status_proxy_summary_codex_test_fixture_minimal.json", extend)
    result = parse(incidentio, body)
    assert [(c.name, c.group, c.status) for c in result.components] == [
        ("Codex", "APIs", Status.MAJOR),
        ("Responses", "APIs", Status.DEGRADED),
        ("Login", "ChatGPT", Status.MAINTENANCE),
        ("Files", None, Status.UNKNOWN),
    ]
    assert "exploded" in result.components[3].detail
    (incident,) = result.incidents
    assert (incident.id, incident.title, incident.status, incident.impact) == (
        "inc-1",
        "Codex down",
        "identified",
        "critical",
    )
    assert incident.components == ("Codex",)
    assert incident.latest_update == "new"
    assert incident.url == "https://status.openai.com/incidents/inc-1"
    # the maintenances are values of their own, never incidents; a completed one is gone
    assert [(m.id, m.status, m.components, m.starts_at) for m in result.maintenances] == [
        ("m-1", "in_progress", ("Login",), None),
        ("m-2", "scheduled", ("Files",), datetime(2026, 12, 1, 2, tzinfo=UTC)),
    ]
    assert result.maintenances[0].name == "(untitled maintenance)"

    chatgpt = parse(incidentio, body, only=("chatgpt",))
    assert statuses(chatgpt) == {"Login": Status.MAINTENANCE}
    assert chatgpt.incidents == ()  # its incident touches only Codex
    assert [m.id for m in chatgpt.maintenances] == ["m-1"]  # by the group the filter names
    assert statuses(parse(incidentio, body, only=("responses", "Gone"))) == {
        "Responses": Status.DEGRADED,
        "Gone": Status.UNKNOWN,
    }


def test_incidentio_widget_summary_during_an_incident() -> None:
    body = read("incidentio_widget_api_v1_summary_preview_sample_fitnudge_doc.json")
    result = parse(incidentio, body)
    assert result.readable and result.components == ()
    (incident,) = result.incidents
    assert (incident.title, incident.status, incident.impact) == (
        "Login failing for some users",
        "identified",
        "major",
    )
    assert incident.components == ("Login",)
    assert incident.updated_at == datetime(2026, 1, 26, 2, 11, 43, tzinfo=UTC)
    # The widget lists only what is affected: the filter's entries are the components, by name or group.
    assert statuses(parse(incidentio, body, only=("Authentication", "Billing"))) == {
        "Authentication": Status.PARTIAL,
        "Billing": Status.OPERATIONAL,
    }
    assert parse(incidentio, body, only=("Billing",)).incidents == ()


def test_incidentio_widget_maintenances_in_progress_and_scheduled() -> None:
    result = parse(incidentio, read("incidentio_widget_api_v1_summary_preview_sample_fitnudge_doc.json"))
    assert [(m.name, m.status, m.in_progress) for m in result.maintenances] == [
        ("Database upgrade", "in_progress", True),
        ("Essential maintenance", "scheduled", False),
    ]
    during, planned = result.maintenances
    moment = datetime(2026, 1, 26, 2, 11, 43, tzinfo=UTC)
    assert (during.starts_at, during.ends_at) == (moment, moment)  # started_at, scheduled_end_at
    assert (planned.starts_at, planned.ends_at) == (moment, moment)  # starts_at, ends_at
    assert planned.url == "https://status.fitnudge.app/incidents/01FCNDV6P870EA6S7TK1DSYD5H"
    assert all(i.id != during.id for i in result.incidents)


def test_incidentio_widget_all_clear() -> None:
    body = read("neon_incidentio_widget_api_v1_summary_docs_all_clear.json")
    result = parse(incidentio, body, only=("Postgres",))
    assert result.readable and result.incidents == ()
    assert statuses(result) == {"Postgres": Status.OPERATIONAL}


# ---------------------------------------------------------------- feeds


def test_feed_incidentio_item_open_until_resolved() -> None:
    body = read("openai_feed.rss_2026-04-30_excerpt_ids_anonymized.xml")
    at = datetime(2026, 4, 30, 5, tzinfo=UTC)
    result = parse(feed, body, at=at)
    assert result.readable
    (incident,) = result.incidents  # the second item says "Status: Resolved"
    assert incident.title == "Partial Disruption of ChatGPT Workspace Connector Write Actions"
    assert (incident.status, incident.impact) == ("identified", "minor")
    assert incident.components == ("Connectors/Apps",)
    assert incident.latest_update.startswith("We have identified an issue where write actions")
    assert incident.url == "https://status.openai.com/incidents/open-1"
    assert statuses(parse(feed, body, at=at, only=("connectors/apps", "Responses"))) == {
        "connectors/apps": Status.DEGRADED,
        "Responses": Status.OPERATIONAL,
    }
    assert parse(feed, body, at=at, only=("Responses",)).incidents == ()


def test_feed_component_listed_operational_in_an_open_incident_stays_operational() -> None:
    # The real open item, with a second affected component that has already recovered (as incident.io lists).
    body = read("openai_feed.rss_2026-04-30_excerpt_ids_anonymized.xml").replace(
        b"<li>Connectors/Apps (Degraded performance)</li>",
        b"<li>Connectors/Apps (Degraded performance)</li><li>Responses (Operational)</li>",
    )
    result = parse(feed, body, at=datetime(2026, 4, 30, 5, tzinfo=UTC), only=("Responses", "Connectors/Apps"))
    assert statuses(result) == {"Responses": Status.OPERATIONAL, "Connectors/Apps": Status.DEGRADED}
    assert result.incidents[0].components == ("Connectors/Apps", "Responses")


@pytest.mark.parametrize("name", ["github_2026-02-04-history.atom", "claude_2026-02-04-history.rss"])
def test_feed_statuspage_history_with_every_incident_resolved(name: str) -> None:
    result = parse(feed, read(name), at=datetime(2026, 2, 5, 6, tzinfo=UTC))
    assert result.readable and result.incidents == () and result.detail == ""


def test_feed_statuspage_item_whose_newest_update_is_investigating_is_open() -> None:
    # The real Claude feed with its newest item cut back to its first update (as it read at 16:39 UTC).
    text = read("claude_2026-02-04-history.rss").decode()
    start = text.index("<description>", text.index("<item>")) + len("<description>")
    first = text.index(
        "&lt;p&gt;&lt;small&gt;Feb &lt;var data-var=&apos;date&apos;&gt; 4&lt;/var&gt;, "
        "&lt;var data-var=&apos;time&apos;&gt;16:39"
    )
    body = (text[:start] + text[first:]).encode()
    result = parse(feed, body, at=datetime(2026, 2, 4, 16, 45, tzinfo=UTC))
    (incident,) = result.incidents
    assert (incident.title, incident.status) == ("Elevated errors on Claude models", "investigating")
    assert incident.latest_update.startswith("Feb 4, 16:39 UTC")


def test_feed_without_status_words_is_open_while_recent() -> None:
    body = read("azure_status_rss_2026-07-23_westus_incident_live.xml")
    during = datetime(2026, 7, 23, 18, 15, tzinfo=UTC)
    (incident,) = parse(feed, body, at=during).incidents
    assert incident.id == "issues-connecting-to-resources-in-west-us"
    assert incident.title == "Issues connecting to resources in West US"
    assert "App Service" in incident.components and "West US" in incident.components
    assert statuses(parse(feed, body, at=during, only=("app service", "Virtual Machines"))) == {
        "app service": Status.DEGRADED,
        "Virtual Machines": Status.OPERATIONAL,
    }
    assert parse(feed, body, at=during, only=("Virtual Machines",)).incidents == ()
    assert parse(feed, body, at=during + timedelta(days=30)).incidents == ()  # an old item, no status word
    assert parse(feed, body, at=during + timedelta(days=30), only=("App Service",)).components[0].status is (
        Status.OPERATIONAL
    )


def test_feed_empty_channel_is_all_clear() -> None:
    result = parse(
        feed, read("azure_status_rss_2026-08-01_all_clear_empty_channel.xml"), only=("App Service",)
    )
    assert result.readable and result.incidents == ()
    assert statuses(result) == {"App Service": Status.OPERATIONAL}


def test_feed_aws_rss_groups_updates_and_closes_on_resolved() -> None:
    body = read("aws_legacy_status_rss_all_2026-08-18_50_items.xml")
    result = parse(feed, body, at=datetime(2026, 8, 18, 6, tzinfo=UTC))
    # Direct Connect eu-central-1 has 31 "Service impact" items and then a [RESOLVED] one: closed.
    assert [(i.id, i.status, i.impact) for i in result.incidents] == [
        ("https://status.aws.amazon.com/#multipleservices-me-central-1", "disruption", "major"),
        ("https://status.aws.amazon.com/#multipleservices-me-south-1", "disruption", "major"),
    ]
    bahrain = parse(feed, body, at=AT, only=("multipleservices-me-south-1", "directconnect-eu-central-1"))
    assert statuses(bahrain) == {
        "multipleservices-me-south-1": Status.PARTIAL,
        "directconnect-eu-central-1": Status.OPERATIONAL,
    }


# ---------------------------------------------------------------- Slack


def test_slack_active_incidents_name_their_services() -> None:
    body = read("slack_current_v2_2020-07-30_two_active_incidents.json")
    result = parse(slackstatus, body)
    assert result.readable and result.components == ()
    assert [(i.id, i.status, i.impact, i.components) for i in result.incidents] == [
        ("878", "active", "minor", ("Notifications",)),
        ("879", "active", "minor", ("Apps/Integrations/APIs",)),
    ]
    assert result.incidents[0].url == "https://status.slack.com/2020-07/ea58a170d343b2ad"
    assert result.incidents[0].updated_at == datetime(2020, 7, 30, 22, 12, 34, tzinfo=UTC)
    filtered = parse(slackstatus, body, only=("notifications", "Messaging"))
    assert statuses(filtered) == {"notifications": Status.DEGRADED, "Messaging": Status.OPERATIONAL}
    assert [i.id for i in filtered.incidents] == ["878"]


def test_slack_outage_type_is_a_major_outage_and_unknown_types_unknown() -> None:
    def outage(doc: dict) -> None:
        doc["active_incidents"][0]["type"] = "outage"
        doc["active_incidents"][1]["type"] = "meteor"

    result = parse(
        slackstatus,
        edited("slack_current_v2_2020-07-30_two_active_incidents.json", outage),
        only=("Notifications", "Apps/Integrations/APIs"),
    )
    assert statuses(result) == {"Notifications": Status.MAJOR, "Apps/Integrations/APIs": Status.UNKNOWN}
    assert result.incidents[0].impact == "critical"


def test_slack_all_clear() -> None:
    result = parse(
        slackstatus, read("slack_status_current_v2_2026-08-13_all_clear.json"), only=("Messaging",)
    )
    assert result.readable and result.incidents == ()
    assert statuses(result) == {"Messaging": Status.OPERATIONAL}


# ---------------------------------------------------------------- Google Cloud


def test_gcp_open_incident_by_product() -> None:
    body = read("gcp_incidents_2026-06_one_open_one_resolved_author_trimmed.json")
    result = parse(gcp, body)
    (incident,) = result.incidents  # the Vertex Gemini API one has an `end`
    assert incident.id == "5fGQt4VbkDnr3Yp8PXPr"
    assert incident.title.startswith("Network traffic to Google Cloud originating from Delhi")
    # most_recent_update (SERVICE_DISRUPTION) wins over status_impact (SERVICE_OUTAGE): it is the current one.
    assert (incident.status, incident.impact) == ("service disruption", "major")
    assert incident.components == ("Hybrid Connectivity", "Virtual Private Cloud (VPC)")
    assert incident.url == "https://status.cloud.google.com/incidents/5fGQt4VbkDnr3Yp8PXPr"
    by_product = parse(
        gcp, body, only=("Vertex Gemini API", "virtual private cloud (vpc)", "BSGtCUnz6ZmyajsjgTKv")
    )
    assert statuses(by_product) == {
        "Vertex Gemini API": Status.OPERATIONAL,
        "virtual private cloud (vpc)": Status.PARTIAL,
        "BSGtCUnz6ZmyajsjgTKv": Status.PARTIAL,
    }
    assert parse(gcp, body, only=("Z0FZJAMvEB4j3NbCJs6B",)).incidents == ()
    assert statuses(parse(gcp, body, only=("asia-south2",))) == {"asia-south2": Status.PARTIAL}


def test_gcp_all_resolved() -> None:
    result = parse(
        gcp, read("gcp_incidents_2022-07-03_first21of157_resolved_compact.json"), only=("Google BigQuery",)
    )
    assert result.readable and result.incidents == ()
    assert statuses(result) == {"Google BigQuery": Status.OPERATIONAL}


# ---------------------------------------------------------------- AWS


def test_aws_utf16_events_filtered_by_service_and_region() -> None:
    body = read("aws_health_currentevents_2026-08-01_two_active_events_utf16be_bom.json")
    assert body[:2] == b"\xfe\xff"
    result = parse(aws, body)
    assert [(i.title, i.impact) for i in result.incidents] == [
        ("Increased Error Rates (UAE)", "critical"),
        ("Increased Error Rates (Bahrain)", "critical"),
    ]
    assert "Amazon Simple Storage Service" in result.incidents[1].components
    assert result.incidents[0].latest_update.startswith(
        "We are providing an update on the ongoing service disruption"
    )
    assert result.incidents[0].updated_at == datetime.fromtimestamp(1777533954, UTC)

    watched = parse(aws, body, only=("bedrock-us-east-1", "us-east-1", "rds-me-south-1", "S3", "Bahrain"))
    assert statuses(watched) == {
        "bedrock-us-east-1": Status.OPERATIONAL,
        "us-east-1": Status.OPERATIONAL,
        "rds-me-south-1": Status.MAJOR,
        "S3": Status.MAJOR,
        "Bahrain": Status.MAJOR,
    }
    assert parse(aws, body, only=("bedrock-us-east-1", "us-west-2")).incidents == ()
    (uae,) = parse(aws, body, only=("me-central-1",)).incidents
    assert uae.title == "Increased Error Rates (UAE)"


def test_aws_resolved_event_is_not_open() -> None:
    body = read("aws_health_currentevents_2023-03-13_resolved_event_from_stts_comment_utf8.json")
    result = parse(aws, body, only=("ec2-us-west-2",))
    assert result.readable and result.incidents == ()
    assert statuses(result) == {"ec2-us-west-2": Status.OPERATIONAL}
    assert parse(aws, b"\xff\xfe" + "[]".encode("utf-16-le")).readable  # "when all is good": []


# ---------------------------------------------------------------- Better Stack


def test_betterstack_downtime_by_resource_and_section() -> None:
    body = read("huggingface_betterstack_index_2026-07-19_downtime.json")
    result = parse(betterstack, body, at=datetime(2026, 7, 19, 14, tzinfo=UTC))
    assert len(result.components) == 8
    assert [(c.name, c.group, c.status) for c in result.components if c.status is not Status.OPERATIONAL] == [
        ("Spaces Proxy", "Spaces", Status.MAJOR)
    ]
    # Every manual report is resolved (some with ends_at null) and the maintenance is upcoming.
    assert result.incidents == ()
    assert statuses(parse(betterstack, body, only=("spaces", "Jobs", "Nope"))) == {
        "Spaces Proxy": Status.MAJOR,
        "Jobs": Status.OPERATIONAL,
        "Nope": Status.UNKNOWN,
    }


def test_betterstack_maintenance_report_planned_then_in_progress_then_gone() -> None:
    body = read("huggingface_betterstack_index_2026-07-19_downtime.json")
    (planned,) = parse(betterstack, body, at=datetime(2026, 7, 19, 14, tzinfo=UTC)).maintenances
    assert (planned.id, planned.name, planned.status) == (
        "961899", "Scheduled maintenance: Inference Endpoints", "scheduled")
    assert (planned.starts_at, planned.ends_at) == (datetime(2026, 7, 22, 7, tzinfo=UTC),
                                                    datetime(2026, 7, 22, 8, tzinfo=UTC))
    assert len(planned.components) == 2  # the resolved one of 07-08 is left out
    during = parse(betterstack, body, at=datetime(2026, 7, 22, 7, 30, tzinfo=UTC))
    assert [m.status for m in during.maintenances] == ["in_progress"] and during.incidents == ()
    assert parse(betterstack, body, at=datetime(2026, 7, 22, 8, tzinfo=UTC)).maintenances == ()
    assert parse(betterstack, body, at=datetime(2026, 7, 19, 14, tzinfo=UTC), only=("Jobs",)).maintenances == ()


def test_betterstack_open_report_and_all_clear() -> None:
    # No all-clear capture exists: the real one with every resource set operational, then with one report
    # re-opened as "downtime" (its last state before it resolved).
    def clear(doc: dict) -> None:
        for item in doc["included"]:
            if item["type"] == "status_page_resource":
                item["attributes"]["status"] = "operational"

    body = edited("huggingface_betterstack_index_2026-07-19_downtime.json", clear)
    result = parse(betterstack, body)
    assert {c.status for c in result.components} == {Status.OPERATIONAL} and result.incidents == ()

    def reopen(doc: dict) -> None:
        clear(doc)
        for item in doc["included"]:
            if item["id"] == "965809":
                item["attributes"]["aggregate_state"] = "downtime"

    (incident,) = parse(
        betterstack, edited("huggingface_betterstack_index_2026-07-19_downtime.json", reopen)
    ).incidents
    assert (incident.title, incident.status, incident.impact) == ("Hub unavailable", "downtime", "critical")
    assert incident.components == ("Huggingface Hub", "Git Hosting and Serving", "Inference Endpoints UI")
    assert incident.latest_update.startswith("Services are back to nominal operations.")


# ---------------------------------------------------------------- Instatus


def test_instatus_summary_during_a_major_outage() -> None:
    result = parse(instatus, read("perplexity_instatus_summary_2026-07-23_major_outage.json"))
    assert statuses(result) == {"Perplexity": Status.MAJOR}  # no components list: the page's own status
    (incident,) = result.incidents
    assert (incident.title, incident.status, incident.impact) == (
        "Computer sandbox issues",
        "monitoring",
        "critical",
    )
    assert incident.url == "https://status.perplexity.com/cmrxt1rlu000f0zlcv4dzmdlr"


def test_instatus_components_and_all_clear() -> None:
    # No Instatus components.json capture exists: a hand-written one in the shape Instatus parsers read.
    listed = json.dumps(
        {
            "components": [
                {"id": "a", "name": "API", "status": "MAJOROUTAGE", "group": {"name": "Platform"}},
                {"id": "b", "name": "Search", "status": "OPERATIONAL", "group": None},
                {"id": "c", "name": "Labs", "status": "SOMETHINGNEW"},
            ]
        }
    ).encode()
    body = read("perplexity_instatus_summary_2026-07-23_major_outage.json")
    result = instatus.parse(body, monitor="m", at=AT, components=listed)
    assert [(c.name, c.group, c.status) for c in result.components] == [
        ("API", "Platform", Status.MAJOR),
        ("Search", None, Status.OPERATIONAL),
        ("Labs", None, Status.UNKNOWN),
    ]
    assert statuses(instatus.parse(body, monitor="m", at=AT, components=listed, only=("platform",))) == {
        "API": Status.MAJOR
    }

    def clear(doc: dict) -> None:  # the real capture as it reads once the incident is over
        doc["page"]["status"] = "UP"
        doc["activeIncidents"] = []

    clear_result = parse(instatus, edited("perplexity_instatus_summary_2026-07-23_major_outage.json", clear))
    assert statuses(clear_result) == {"Perplexity": Status.OPERATIONAL} and clear_result.incidents == ()


# ---------------------------------------------------------------- Status.io


def test_statusio_partial_disruption() -> None:
    body = read("docker_statusio_status_2020-07-16_partial_service_disruption.json")
    result = parse(statusio, body)
    assert len(result.components) == 8
    assert [(c.name, c.status) for c in result.components if c.status is not Status.OPERATIONAL] == [
        ("Docker Hub Automated Builds", Status.PARTIAL)
    ]
    (incident,) = result.incidents
    assert (incident.title, incident.status, incident.impact) == (
        "Docker Hub automated builds issue",
        "investigating",
        "major",
    )
    assert incident.components == ("Docker Hub Automated Builds",)
    assert parse(statusio, body, only=("Docker Docs",)).incidents == ()


def test_statusio_security_issue_and_maintenance() -> None:
    security = parse(
        statusio, read("gitlab_statusio_status_2020-02-09_security_issue.json"), only=("API", "Pages")
    )
    assert statuses(security) == {"API": Status.DEGRADED, "Pages": Status.OPERATIONAL}
    assert security.components[0].detail == "Security Issue"
    maintenance = parse(statusio, read("gitlab_statusio_status_2020-09-05_planned_maintenance_active.json"))
    assert statuses(maintenance)["dashboards.gitlab.com"] is Status.MAINTENANCE
    assert statuses(maintenance)["Website"] is Status.OPERATIONAL
    assert [i.title for i in maintenance.incidents] == ["500 Error - User Notification Settings"]
    (planned,) = maintenance.maintenances  # `maintenance.active`: in progress, by its own name
    assert (planned.name, planned.status, planned.components) == (
        "Maintenance on dashboards.gitlab.com", "in_progress", ("dashboards.gitlab.com",))
    assert (planned.starts_at, planned.ends_at) == (datetime(2020, 9, 2, 17, 55, tzinfo=UTC),
                                                    datetime(2020, 9, 7, 17, 55, tzinfo=UTC))
    filtered = parse(statusio, read("gitlab_statusio_status_2020-09-05_planned_maintenance_active.json"),
                     only=("Website",))
    assert filtered.maintenances == ()


# ---------------------------------------------------------------- Heroku


def test_heroku_open_incident_all_yellow() -> None:
    body = read("heroku_status_v4_current-status_2019-10-24_open_incident_author_adjusted.json")
    result = parse(heroku, body)
    assert statuses(result) == {"Apps": Status.DEGRADED, "Data": Status.DEGRADED, "Tools": Status.DEGRADED}
    (incident,) = result.incidents
    assert (incident.id, incident.status, incident.impact) == ("1918", "issue", "minor")
    assert incident.title == "Connection timeouts to applications and Heroku Postgres"
    assert incident.url == "https://status.heroku.com/incidents/1918"
    assert statuses(parse(heroku, body, only=("apps",))) == {"Apps": Status.DEGRADED}


def test_heroku_maintenance_and_all_clear() -> None:
    body = read("heroku_status_v4_current-status_2020-11_maintenance_data_blue.json")
    result = parse(heroku, body)
    assert statuses(result) == {
        "Apps": Status.OPERATIONAL,
        "Data": Status.MAINTENANCE,
        "Tools": Status.OPERATIONAL,
    }
    assert result.incidents == ()  # the scheduled maintenance is resolved

    def green(doc: dict) -> None:  # no all-clear capture exists: the same page once Data turned green
        doc["status"][1]["status"] = "green"

    assert set(
        statuses(
            parse(heroku, edited("heroku_status_v4_current-status_2020-11_maintenance_data_blue.json", green))
        ).values()
    ) == {Status.OPERATIONAL}


# ---------------------------------------------------------------- garbage is unreadable, never an outage

HTML = b"<!DOCTYPE html><html><head><title>Status</title></head><body>We moved!</body></html>"
GOOD = {
    "incidentio": "incidentio_widget_api_v1_summary_preview_sample_fitnudge_doc.json",
    "slack": "slack_current_v2_2020-07-30_two_active_incidents.json",
    "gcp": "gcp_incidents_2026-06_one_open_one_resolved_author_trimmed.json",
    "aws": "aws_health_currentevents_2023-03-13_resolved_event_from_stts_comment_utf8.json",
    "betterstack": "huggingface_betterstack_index_2026-07-19_downtime.json",
    "instatus": "perplexity_instatus_summary_2026-07-23_major_outage.json",
    "statusio": "docker_statusio_status_2020-07-16_partial_service_disruption.json",
    "heroku": "heroku_status_v4_current-status_2019-10-24_open_incident_author_adjusted.json",
    "feed": "azure_status_rss_2026-07-23_westus_incident_live.xml",
}
WRONG_SHAPE = {  # real JSON of another kind: a list where an object is expected, and the reverse
    "incidentio": b"[]",
    "slack": read("slack_status_history_v2_2026-08-18_first5_one_active.json"),
    "gcp": read("slack_status_current_v2_2026-08-13_all_clear.json"),
    "aws": b'{"archive": [], "current": []}',
    "betterstack": read("slack_status_current_v2_2026-08-13_all_clear.json"),
    "instatus": read("gcp_incidents_2026-06_one_open_one_resolved_author_trimmed.json"),
    "statusio": read("heroku_status_v4_current-status_2020-11_maintenance_data_blue.json"),
    "heroku": read("huggingface_betterstack_index_2026-07-19_downtime.json"),
    "feed": read("slack_status_current_v2_2026-08-13_all_clear.json"),
}


def garbage(kind: str) -> dict[str, bytes]:
    good = read(GOOD[kind])
    return {
        "html": HTML,
        "empty": b"",
        "blank": b" \r\n\t",
        "truncated": good[: len(good) // 2],
        "wrong shape": WRONG_SHAPE[kind],
        "binary": bytes(range(256)) * 4,
        "scalar": b"42",
        "nested": b"[" * 100_000,
    }


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize(
    "case", ["html", "empty", "blank", "truncated", "wrong shape", "binary", "scalar", "nested"]
)
def test_garbage_is_unreadable_with_a_reason(kind: str, case: str) -> None:
    result = parse(PARSERS[kind], garbage(kind)[case])
    assert not result.readable, (kind, case, result)
    assert result.detail and result.components == () and result.incidents == ()


@pytest.mark.parametrize("kind", list(PARSERS))
def test_html_and_empty_say_so(kind: str) -> None:
    assert "HTML page" in parse(PARSERS[kind], HTML).detail
    assert "empty body" in parse(PARSERS[kind], b"").detail


def test_slack_docs_sample_as_printed_is_invalid_json() -> None:
    result = parse(slackstatus, read("slack_current_v2_docs_active_AS_FOUND_not_valid_json.txt"))
    assert (result.readable, result.detail) == (False, "invalid JSON")


def _paths(node: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*path, index))
    return out


def _replaced(node: object, path: tuple, value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _replaced(node[head], rest, value)}
    assert isinstance(node, list)
    return [_replaced(v, rest, value) if k == head else v for k, v in enumerate(node)]


ODD_VALUES = (None, 7, -1.5, True, "", "x", [], {}, [None, 3, "x", [1]], {"a": None})


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        *((k, GOOD[k]) for k in PARSERS if k != "feed"),
        ("incidentio", "openai_status_proxy_summary_codex_test_fixture_minimal.json"),
    ],
)
def test_any_one_value_replaced_never_raises(kind: str, name: str) -> None:
    """Every parser reads a real capture with any one value swapped for null, a number, a string, a list or
    an object (up to 80 places spread over the document): a result every time, never an exception."""
    doc = json.loads(read(name).decode("utf-8-sig"))
    paths = _paths(doc)
    for path in paths[:: max(1, len(paths) // 80)]:
        for value in ODD_VALUES:
            result = parse(
                PARSERS[kind], json.dumps(_replaced(doc, path, value)).encode(), only=("API", "Login")
            )
            assert isinstance(result.readable, bool), (path, value)


# ---------------------------------------------------------------- an unchanged body is not read again


@pytest.mark.parametrize("kind", list(PARSERS))
def test_last_body_gives_the_same_result_and_rereads_a_change(kind: str) -> None:
    from bot.checks.payload import LastBody

    last = LastBody()
    good, other = read(GOOD[kind]), garbage(kind)["truncated"]
    for at in (AT, AT + timedelta(minutes=1)):
        assert PARSERS[kind].parse(good, monitor="m", at=at, last=last) == parse(PARSERS[kind], good, at=at)
    assert PARSERS[kind].parse(other, monitor="m", at=AT, last=last) == parse(PARSERS[kind], other)
    assert PARSERS[kind].parse(other, monitor="m", at=AT, last=last) == parse(
        PARSERS[kind], other
    )  # kept error
    assert PARSERS[kind].parse(good, monitor="m", at=AT, last=last) == parse(PARSERS[kind], good)


def test_last_body_reads_once_per_distinct_body() -> None:
    from bot.checks.payload import LastBody

    calls: list[bytes] = []

    def reader(body: bytes) -> int:
        calls.append(body)
        return len(body)

    last = LastBody()
    assert [last.read(b, reader) for b in (b"ab", bytes(bytearray(b"ab")), b"ab", b"abc", b"abc")] == [
        2,
        2,
        2,
        3,
        3,
    ]
    assert calls == [b"ab", b"abc"]


def test_feed_with_last_body_still_ages_items_out() -> None:
    from bot.checks.payload import LastBody

    last = LastBody()
    body = read("azure_status_rss_2026-07-23_westus_incident_live.xml")
    during = datetime(2026, 7, 23, 18, 15, tzinfo=UTC)
    assert len(feed.parse(body, monitor="m", at=during, last=last).incidents) == 1
    assert feed.parse(body, monitor="m", at=during + timedelta(days=30), last=last).incidents == ()
