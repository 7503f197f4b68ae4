"""A simulated OpenAI-like Statuspage v2 provider on 127.0.0.1, for `downwatch demo` and tests.

It serves /api/v2/summary.json, /api/v2/incidents/unresolved.json, /api/v2/components.json and
/api/v2/status.json in the real shape (fields modelled on OpenAI's incident.io-served page, plus
Atlassian's group rows so the "APIs" / "ChatGPT" groups show). The scripted outage moves through
`Phase`s when the caller says so; the documents themselves are built by the pure `documents()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aiohttp import web

from bot.clock import SystemClock

PAGE_ID = "01SIMULATEDPAGE0000000000"
PAGE_NAME = "OpenAI (simulated)"
INCIDENT_TITLE = "Elevated errors across ChatGPT and the API"

GROUPS: tuple[tuple[str, str], ...] = (  # (id, name)
    ("01SIMGROUP000000000000APIS", "APIs"),
    ("01SIMGROUP00000000000CHATG", "ChatGPT"),
)
COMPONENTS: tuple[tuple[str, str, str], ...] = (  # (id, name, group id)
    ("01SIMCOMP0000000000000CHAT", "Chat Completions", GROUPS[0][0]),
    ("01SIMCOMP0000000000000RESP", "Responses", GROUPS[0][0]),
    ("01SIMCOMP0000000000000REAL", "Realtime", GROUPS[0][0]),
    ("01SIMCOMP0000000000000FINE", "Fine-tuning", GROUPS[0][0]),
    ("01SIMCOMP0000000000000EMBD", "Embeddings", GROUPS[0][0]),
    ("01SIMCOMP0000000000000LOGN", "Login", GROUPS[1][0]),
    ("01SIMCOMP0000000000000CGPT", "ChatGPT", GROUPS[1][0]),
    ("01SIMCOMP0000000000000CODX", "Codex", GROUPS[1][0]),
)

DEGRADED_BODY = (
    "We are investigating elevated error rates affecting ChatGPT and the API (Chat Completions and "
    "Responses). Some requests may fail or be slower than usual. We will share updates as we learn more."
)
IDENTIFIED_BODY = (
    "We have identified the cause: a failing dependency in our inference fleet. Chat Completions is "
    "currently unavailable for most requests and Fine-tuning jobs are delayed. We are rolling out a fix."
)


class Phase(StrEnum):
    """The scripted outage, in order."""

    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    MAJOR = "major"
    RECOVERED = "recovered"


# component name → status, per phase (unlisted names are operational)
PHASE_STATUSES: dict[Phase, dict[str, str]] = {
    Phase.OPERATIONAL: {},
    Phase.DEGRADED: {
        "Chat Completions": "degraded_performance",
        "Responses": "degraded_performance",
        "ChatGPT": "degraded_performance",
    },
    Phase.MAJOR: {
        "Chat Completions": "major_outage",
        "Responses": "degraded_performance",
        "ChatGPT": "degraded_performance",
        "Fine-tuning": "degraded_performance",
    },
    Phase.RECOVERED: {},
}


@dataclass(frozen=True)
class Update:
    id: str
    status: str  # investigating / identified
    body: str
    at: datetime


@dataclass(frozen=True)
class SimIncident:
    id: str
    created_at: datetime
    updates: tuple[Update, ...]  # oldest first

    @property
    def status(self) -> str:
        return self.updates[-1].status


@dataclass(frozen=True)
class SimState:
    """Everything the documents depend on."""

    phase: Phase
    changed_at: datetime  # when the current phase began
    incident: SimIncident | None = None
    incidents_opened: int = 0  # numbers incident ids, so a second outage gets a new one


def advance(state: SimState, phase: Phase, at: datetime) -> SimState:
    """Pure: the state after the provider moves to `phase` at `at`."""
    if phase == state.phase:
        return state
    incident = state.incident
    opened = state.incidents_opened
    if phase in (Phase.DEGRADED, Phase.MAJOR) and incident is None:
        opened += 1
        incident_id = f"01SIMINCIDENT{opened:013d}"
        first = Update(id=f"{incident_id}U1", status="investigating", body=DEGRADED_BODY, at=at)
        incident = SimIncident(id=incident_id, created_at=at, updates=(first,))
    if phase is Phase.MAJOR and incident is not None and incident.status != "identified":
        newer = Update(
            id=f"{incident.id}U{len(incident.updates) + 1}", status="identified", body=IDENTIFIED_BODY, at=at
        )
        incident = SimIncident(
            id=incident.id, created_at=incident.created_at, updates=(*incident.updates, newer)
        )
    if phase in (Phase.OPERATIONAL, Phase.RECOVERED):
        incident = None  # resolved: it leaves summary.json and unresolved.json
    return SimState(phase=phase, changed_at=at, incident=incident, incidents_opened=opened)


def documents(state: SimState, *, base_url: str) -> dict[str, Any]:
    """Pure: path → JSON document for the state (summary, unresolved, components, status)."""
    page = {
        "id": PAGE_ID,
        "name": PAGE_NAME,
        "url": base_url + "/",
        "updated_at": _iso(state.changed_at),
    }
    statuses = PHASE_STATUSES[state.phase]
    leaves = [
        {
            "created_at": "2025-02-25T01:32:55Z",
            "group": False,
            "group_id": group_id,
            "id": cid,
            "name": name,
            "page_id": PAGE_ID,
            "position": position,
            "status": statuses.get(name, "operational"),
            "updated_at": _iso(state.changed_at),
        }
        for position, (cid, name, group_id) in enumerate(COMPONENTS)
    ]
    groups = [
        {
            "components": [leaf["id"] for leaf in leaves if leaf["group_id"] == gid],
            "created_at": "2025-02-25T01:31:15Z",
            "group": True,
            "group_id": None,
            "id": gid,
            "name": gname,
            "page_id": PAGE_ID,
            "position": len(COMPONENTS) + position,
            "status": _worst([str(leaf["status"]) for leaf in leaves if leaf["group_id"] == gid]),
            "updated_at": _iso(state.changed_at),
        }
        for position, (gid, gname) in enumerate(GROUPS)
    ]
    components = [*leaves, *groups]
    incidents = [] if state.incident is None else [_incident(state.incident, leaves, base_url)]
    status = _indicator(state)
    return {
        "/api/v2/summary.json": {
            "components": components,
            "incidents": incidents,
            "page": page,
            "scheduled_maintenances": [],
            "status": status,
        },
        "/api/v2/incidents/unresolved.json": {"incidents": incidents, "page": page},
        "/api/v2/components.json": {"components": components, "page": page},
        "/api/v2/status.json": {"page": page, "status": status},
    }


def _incident(incident: SimIncident, leaves: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    affected = [leaf for leaf in leaves if leaf["status"] != "operational"]
    latest = incident.updates[-1]
    return {
        "components": affected,
        "created_at": _iso(incident.created_at),
        "id": incident.id,
        "impact": "major" if latest.status == "identified" else "minor",
        "incident_updates": [
            {
                "affected_components": [
                    {
                        "code": leaf["id"],
                        "name": leaf["name"],
                        "new_status": leaf["status"],
                        "old_status": "operational",
                    }
                    for leaf in affected
                ],
                "body": update.body,
                "created_at": _iso(update.at),
                "display_at": _iso(update.at),
                "id": update.id,
                "incident_id": incident.id,
                "status": update.status,
                "updated_at": _iso(update.at),
            }
            for update in reversed(incident.updates)  # newest first, as Statuspage lists them
        ],
        "name": INCIDENT_TITLE,
        "page_id": PAGE_ID,
        "shortlink": f"{base_url}/incidents/{incident.id}",
        "status": latest.status,
        "updated_at": _iso(latest.at),
    }


def _indicator(state: SimState) -> dict[str, str]:
    if state.phase is Phase.MAJOR:
        return {"description": "Partial System Outage", "indicator": "major"}
    if state.phase is Phase.DEGRADED:
        return {"description": "Partial System Degradation", "indicator": "minor"}
    return {"description": "All Systems Operational", "indicator": "none"}


_ORDER = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")


def _worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: _ORDER.index(s) if s in _ORDER else -1, default="operational")


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at.utcoffset() is not None else at.isoformat()


class SimulatedProvider:
    """`async with SimulatedProvider() as sim:` serves the page at `sim.url` until the block ends."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        phase: Phase = Phase.OPERATIONAL,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._now = now or SystemClock().now
        self._state = SimState(phase=phase, changed_at=self._now())
        self._runner: web.AppRunner | None = None
        self.requests = 0
        self.api_failing = False

    @property
    def url(self) -> str:
        """The page's base URL, e.g. http://127.0.0.1:41234 (no trailing slash)."""
        if self._runner is None:
            raise RuntimeError("SimulatedProvider is not running: use `async with`")
        return f"http://{self._host}:{self._port}"

    @property
    def phase(self) -> Phase:
        return self._state.phase

    def set_phase(self, phase: Phase) -> None:
        """Move the scripted outage on; the next request sees the new phase."""
        self._state = advance(self._state, phase, self._now())

    async def __aenter__(self) -> SimulatedProvider:
        app = web.Application()
        app.router.add_get("/api/v2/{document:.+}.json", self._serve)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def fail_api(self, failing: bool) -> None:
        """The provider's own API (GET /v1/models) fails with 500s, or answers again: it may fail while the
        page still says operational, as OpenAI's did (what a probe that `watches` the page is for)."""
        self.api_failing = failing

    async def _models(self, request: web.Request) -> web.StreamResponse:
        if self.api_failing:
            return web.json_response({"error": {"message": "The server had an error processing your request."}},
                                     status=500)
        return web.json_response({"object": "list", "data": [{"id": "gpt-simulated", "object": "model"}]})

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        doc = documents(self._state, base_url=self.url).get(request.path)
        if doc is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.Response(body=json.dumps(doc, indent=2).encode(), content_type="application/json")
