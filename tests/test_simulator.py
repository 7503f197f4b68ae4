"""The demo's simulated provider, read by the real Statuspage check over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from bot.checks.statuspage import StatuspageMonitor, check_statuspage
from bot.clock import FakeClock
from bot.model import CheckResult, Status
from bot.simulator import INCIDENT_TITLE, Phase, SimState, SimulatedProvider, advance, documents

START = datetime(2026, 9, 29, 17, 50, tzinfo=UTC)


async def read(sim: SimulatedProvider, client: httpx.AsyncClient, clock: FakeClock) -> CheckResult:
    monitor = StatuspageMonitor(name="OpenAI (simulated)", url=sim.url, timeout=2.0)
    return await check_statuspage(monitor, client=client, now=clock.now)


def not_operational(result: CheckResult) -> dict[str, Status]:
    return {c.name: c.status for c in result.components if c.status is not Status.OPERATIONAL}


@pytest.mark.anyio
async def test_phases_parse_as_expected(client: httpx.AsyncClient) -> None:
    clock = FakeClock(START)
    async with SimulatedProvider(now=clock.now) as sim:
        assert sim.url.startswith("http://127.0.0.1:") and not sim.url.endswith("/")

        operational = await read(sim, client, clock)
        assert operational.readable and operational.detail == ""
        assert [c.name for c in operational.components] == [
            "Chat Completions",
            "Responses",
            "Realtime",
            "Fine-tuning",
            "Embeddings",
            "Login",
            "ChatGPT",
            "Codex",
        ]  # group rows "APIs" / "ChatGPT" are skipped
        assert {c.group for c in operational.components} == {"APIs", "ChatGPT"}
        assert not_operational(operational) == {} and operational.incidents == ()

        clock.advance(60)
        sim.set_phase(Phase.DEGRADED)
        degraded = await read(sim, client, clock)
        assert not_operational(degraded) == {
            "Chat Completions": Status.DEGRADED,
            "Responses": Status.DEGRADED,
            "ChatGPT": Status.DEGRADED,
        }
        (incident,) = degraded.incidents
        assert (incident.title, incident.status, incident.impact) == (
            INCIDENT_TITLE,
            "investigating",
            "minor",
        )
        assert incident.latest_update.startswith("We are investigating elevated error rates")
        assert incident.updated_at == datetime(2026, 9, 29, 17, 51, tzinfo=UTC)
        assert set(incident.components) == {"Chat Completions", "Responses", "ChatGPT"}
        assert incident.url is not None and incident.url.startswith(sim.url)

        clock.advance(300)
        sim.set_phase(Phase.MAJOR)
        major = await read(sim, client, clock)
        assert not_operational(major) == {
            "Chat Completions": Status.MAJOR,
            "Responses": Status.DEGRADED,
            "ChatGPT": Status.DEGRADED,
            "Fine-tuning": Status.DEGRADED,
        }
        (worse,) = major.incidents
        assert worse.id == incident.id  # the same incident, with a newer update
        assert (worse.status, worse.impact) == ("identified", "major")
        assert worse.latest_update.startswith("We have identified the cause")
        assert worse.updated_at == datetime(2026, 9, 29, 17, 56, tzinfo=UTC)
        assert "Fine-tuning" in worse.components

        clock.advance(600)
        sim.set_phase(Phase.RECOVERED)
        recovered = await read(sim, client, clock)
        assert recovered.readable and not_operational(recovered) == {} and recovered.incidents == ()
        assert sim.phase is Phase.RECOVERED
        assert sim.requests == 12  # summary + unresolved + components per read


def test_a_second_outage_opens_a_new_incident() -> None:
    state = SimState(phase=Phase.OPERATIONAL, changed_at=START)
    first = advance(state, Phase.DEGRADED, START)
    assert first.incident is not None
    again = advance(advance(first, Phase.RECOVERED, START), Phase.MAJOR, START)
    assert again.incident is not None and again.incident.id != first.incident.id
    # straight to MAJOR: opened and identified at once, two updates
    assert [u.status for u in again.incident.updates] == ["investigating", "identified"]
    assert advance(first, Phase.DEGRADED, START) is first  # same phase: nothing changes


def test_documents_have_the_statuspage_shape() -> None:
    state = advance(SimState(phase=Phase.OPERATIONAL, changed_at=START), Phase.MAJOR, START)
    docs = documents(state, base_url="http://127.0.0.1:1")
    summary = docs["/api/v2/summary.json"]
    assert set(summary) == {"components", "incidents", "page", "scheduled_maintenances", "status"}
    assert summary["status"]["indicator"] == "major"
    groups = {c["name"]: c for c in summary["components"] if c["group"]}
    assert (
        groups["APIs"]["status"] == "major_outage" and groups["ChatGPT"]["status"] == "degraded_performance"
    )
    assert docs["/api/v2/incidents/unresolved.json"]["incidents"] == summary["incidents"]
    updates = summary["incidents"][0]["incident_updates"]
    assert [u["status"] for u in updates] == ["identified", "investigating"]  # newest first


@pytest.mark.anyio
async def test_unknown_document_is_404(client: httpx.AsyncClient) -> None:
    async with SimulatedProvider(now=FakeClock(START).now) as sim:
        response = await client.get(sim.url + "/api/v2/nope.json")
        assert response.status_code == 404
