"""Early warning: a probe of a provider's API (`watches = "<status-page monitor>"`) against that provider's page.

Pure decisions over engine states, called by bot.watch.Watcher: what the page said when the probe's incident
opened (`link`), and the step that records the page admitting it later, with the lead (`acknowledge`). The
watch rides on the probe's IncidentState, so it is persisted, survives a restart and reaches every later
alert of that incident (edits, reminders, the recovery) without a side table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from bot import engine
from bot.engine import MonitorState, Step
from bot.model import AlertKind, Change, ChangeKind, PageSaid, Status, Watch


def page_name(url: str, page: str = "") -> str:
    """'status.openai.com': the host people know the page by (its human page when the config names one)."""
    host = urlsplit(page or url).hostname
    return host or (page or url)


def page_says(provider: MonitorState | None) -> tuple[PageSaid, str, Status | None]:
    """What the watched monitor's page says now, from its last poll: CLEAR (no incident, every component
    operational), REPORTING with what (its incident's title; or its worst component's name and status), or
    UNKNOWN (never read, or unreadable). Raw observations count: the page said it, confirmed or not."""
    if provider is None or provider.checked_at is None or not provider.readable or provider.unreadable_notified:
        return PageSaid.UNKNOWN, "", None
    for incident in provider.incidents:
        if incident.impact != "maintenance":
            return PageSaid.REPORTING, incident.title, None
    worst: tuple[str, Status] | None = None
    for c in provider.components:
        status = max((c.status, c.observed), key=lambda s: s.rank)
        if status.is_outage and (worst is None or status.rank > worst[1].rank):
            worst = (c.name, status)
    if worst is not None:
        return PageSaid.REPORTING, worst[0], worst[1]
    return PageSaid.CLEAR, "", None


def link(step: Step, provider: MonitorState | None, *, name: str, page: str) -> Step:
    """On a probe's step: an incident that has no watch yet gets one (what the page says at this moment), and
    the step's alerts of that incident carry it. Any other step is returned as it is."""
    incident = step.state.incident
    if incident is None or incident.watch is not None:
        return step
    said, title, status = page_says(provider)
    watched = replace(incident, watch=Watch(provider=name, page=page, said=said, title=title, status=status))
    state = replace(step.state, incident=watched)
    alerts = tuple(replace(a, watch=watched.watch) if a.incident_id == watched.id else a for a in step.alerts)
    opened = watched if step.opened is not None and step.opened.id == watched.id else step.opened
    return replace(step, state=state, alerts=alerts, opened=opened)


def acknowledge(probe: MonitorState | None, provider: MonitorState | None, now: datetime) -> Step | None:
    """When the page now admits a problem while the probe's open incident waits for it: the probe's next
    step — its incident acknowledged (with the lead when the page was clear at the start) and, if the incident
    was announced, an UPDATED alert saying so. None when there is nothing to record."""
    incident = probe.incident if probe is not None else None
    if probe is None or incident is None or incident.watch is None or not incident.watch.pending:
        return None
    said, title, status = page_says(provider)
    if said is not PageSaid.REPORTING:
        return None
    lead = now - incident.started_at if incident.watch.said is PageSaid.CLEAR else None
    watch = replace(incident.watch, title=title, status=status, acknowledged_at=now, lead=lead)
    updated = replace(incident, watch=watch, last_notified=now if incident.announced else incident.last_notified)
    state = replace(probe, incident=updated)
    if not incident.announced:
        return Step(state=state)
    change = Change(ChangeKind.ACKNOWLEDGED, detail=title, after=status, duration=lead, monitor=watch.provider)
    return Step(state=state, alerts=(engine.snapshot(state, updated, AlertKind.UPDATED, now, (change,)),))

