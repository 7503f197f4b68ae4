"""Domain values shared by every layer: statuses, check results, alerts, commands and replies.

Everything here is a frozen dataclass or an enum; no dicts cross module boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    """One vocabulary for every source (Atlassian Statuspage's, plus `unknown`)."""

    OPERATIONAL = "operational"
    DEGRADED = "degraded_performance"
    PARTIAL = "partial_outage"
    MAJOR = "major_outage"
    MAINTENANCE = "under_maintenance"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Severity order used to pick the worst status: unknown < operational < maintenance < … < major."""
        return _RANK[self]

    @property
    def is_outage(self) -> bool:
        """True for the statuses that open an incident (maintenance and unknown do not)."""
        return self in (Status.DEGRADED, Status.PARTIAL, Status.MAJOR)


_RANK = {
    Status.UNKNOWN: -1,
    Status.OPERATIONAL: 0,
    Status.MAINTENANCE: 1,
    Status.DEGRADED: 2,
    Status.PARTIAL: 3,
    Status.MAJOR: 4,
}


def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """The most severe status of a collection (operational when empty)."""
    return max(statuses, key=lambda s: s.rank, default=Status.OPERATIONAL)


def summary(statuses: Iterable[Status], *, readable: bool = True) -> Status:
    """A monitor at a glance (its live state as another monitor's alternative): the worst of its components'
    confirmed statuses and its open incident's severity; unknown while its source cannot be read or before
    anything is known of it."""
    seen = tuple(statuses)
    return worst(seen) if readable and seen else Status.UNKNOWN


# ---------------------------------------------------------------- checks


@dataclass(frozen=True)
class ComponentReading:
    """What one check saw of one component."""

    name: str
    status: Status
    detail: str = ""
    group: str | None = None


@dataclass(frozen=True)
class ProviderIncident:
    """An unresolved incident as the provider's status page reports it."""

    id: str
    title: str
    status: str  # investigating / identified / monitoring / ...
    impact: str  # none / minor / major / critical / maintenance
    latest_update: str = ""
    updated_at: datetime | None = None
    url: str | None = None
    components: tuple[str, ...] = ()


# ---------------------------------------------------------------- changes


class ChangeKind(StrEnum):
    """What changed, as a value: the engine says what, bot.wording says how it reads."""

    OPENED = "opened"  # incident opened: components = the affected ones, affected/total set
    JOINED = "joined"  # components joined the incident (with their status)
    RECOVERED = "recovered"  # components recovered
    SEVERITY = "severity"  # one component's status moved: components=(that one,), before/after
    INCIDENT_SEVERITY = "incident_severity"  # the incident's overall severity moved (before/after)
    VANISHED = "vanished"  # components no longer on the page
    FLAPPING = "flapping"  # components started flapping
    SETTLED = "settled"  # components stopped flapping
    PROVIDER_OPENED = "provider_opened"  # provider = the ProviderIncident
    PROVIDER_UPDATED = "provider_updated"
    PROVIDER_RESOLVED = "provider_resolved"
    UNREADABLE = "unreadable"  # source cannot be read; detail = why
    READABLE = "readable"  # readable again; duration = how long it was not
    NETWORK_DOWN = "network_down"  # detail = reason
    NETWORK_UP = "network_up"  # duration
    RESOLVED = "resolved"  # duration
    REMINDER = "reminder"  # still ongoing; duration
    TEXT = "text"  # a free line: rows queued by the previous version (Alert.change: str)


@dataclass(frozen=True)
class ChangedComponent:
    name: str
    status: Status
    before: Status | None = None


@dataclass(frozen=True)
class Change:
    """One thing that changed in an incident (or a notice), with its data; never a sentence."""

    kind: ChangeKind
    components: tuple[ChangedComponent, ...] = ()
    provider: ProviderIncident | None = None
    before: Status | None = None
    after: Status | None = None
    duration: timedelta | None = None
    affected: int = 0  # components affected after this change (0 when not relevant)
    total: int = 0  # components on the monitor
    detail: str = ""  # a reason from outside (a check's error), never a sentence of ours


@dataclass(frozen=True)
class CheckResult:
    """One poll of one monitor. `readable=False` means the source could not be read: status unknown."""

    monitor: str
    at: datetime
    readable: bool
    components: tuple[ComponentReading, ...] = ()
    incidents: tuple[ProviderIncident, ...] = ()
    detail: str = ""
    latency_ms: float | None = None
    reached: bool = True  # False when no HTTP answer came back at all (DNS, refused, timeout, TLS)


# ---------------------------------------------------------------- alerts


class AlertKind(StrEnum):
    OPENED = "opened"  # an incident opened: post a new parent message
    UPDATED = "updated"  # components joined/recovered, severity or provider incident changed
    REMINDER = "reminder"  # still open after the reminder interval
    RESOLVED = "resolved"  # every component operational and no provider incident
    SOURCE_UNREADABLE = "source_unreadable"  # the monitor's source cannot be read (not an outage)
    SOURCE_READABLE = "source_readable"  # it can be read again
    NETWORK_DOWN = "network_down"  # the bot itself cannot reach the network
    NETWORK_UP = "network_up"


@dataclass(frozen=True)
class AffectedComponent:
    name: str
    status: Status
    since: datetime
    flapping: bool = False


@dataclass(frozen=True)
class Alternative:
    """Another monitor a monitor names in `alternatives`, with its live state (bot.model.summary)."""

    name: str
    status: Status


@dataclass(frozen=True)
class Alert:
    """A snapshot of an incident (or a notice) at the moment something changed; adapters render it."""

    kind: AlertKind
    incident_id: str
    monitor: str
    severity: Status
    at: datetime
    started_at: datetime
    components: tuple[AffectedComponent, ...] = ()
    total_components: int = 0
    provider_incidents: tuple[ProviderIncident, ...] = ()
    resolved_at: datetime | None = None
    changes: tuple[Change, ...] = ()  # what changed since the last report (bot.wording words it)
    escalated: bool = False  # this update made it a major outage: worth the configured mention
    # the monitor's alternatives as they stand, while its incident is open (outbox rows queued before this
    # field existed decode with none)
    alternatives: tuple[Alternative, ...] = ()

    @property
    def duration(self) -> timedelta:
        """How long the incident lasted (or has lasted, at `at`)."""
        return (self.resolved_at or self.at) - self.started_at

    @property
    def is_notice(self) -> bool:
        """Notices are about the bot's ability to see, not about the monitored service."""
        return self.kind in (
            AlertKind.SOURCE_UNREADABLE,
            AlertKind.SOURCE_READABLE,
            AlertKind.NETWORK_DOWN,
            AlertKind.NETWORK_UP,
        )


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class Sent:
    """The platform accepted the message; `ref` is its id (Slack ts, Discord message id)."""

    ref: str
    thread_ref: str | None = None  # Discord: the thread created from the message, when known


@dataclass(frozen=True)
class SendError:
    """The platform refused or could not be reached; the outbox decides what to do with it."""

    reason: str
    retryable: bool
    retry_after: float | None = None  # seconds, when the platform said
    message_gone: bool = False  # the parent was deleted: re-post it fresh
    rate_limited: bool = False  # a 429: the whole platform waits, not just this message


SendResult = Sent | SendError


class Op(StrEnum):
    """What an outbox row does on its platform."""

    POST = "post"  # a new parent message
    EDIT = "edit"  # rewrite the parent
    REPLY = "reply"  # a line in the parent's thread


class RowState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Delivery:
    """One message to deliver: written to the outbox with the state change that caused it."""

    platform: str
    channel: str
    op: Op
    alert: Alert
    mention: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    """A pending outbox row as the sender reads it back."""

    id: int
    incident_id: str
    platform: str
    channel: str
    op: Op
    alert: Alert
    mention: str | None
    attempts: int
    next_at: float


# ---------------------------------------------------------------- commands


class CommandKind(StrEnum):
    OVERVIEW = "overview"  # /status
    TARGET = "target"  # /status <monitor or component>
    INCIDENTS = "incidents"  # /status incidents …, /incidents …
    UPTIME = "uptime"  # /status uptime …, /uptime …
    ALTERNATIVES = "alternatives"  # /status alternatives <monitor>, /alternatives <monitor>
    HELP = "help"


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    target: str | None = None
    limit: int = 5
    window: timedelta | None = None
    since: datetime | None = None
    # Typed text that starts with a command word ("Uptime Robot") is read as that command first; when its
    # target names nothing, the whole text is answered as a target instead (bot.commands.parse_text).
    fallback_target: str | None = None


@dataclass(frozen=True)
class ComponentView:
    monitor: str
    name: str
    status: Status
    since: datetime | None
    detail: str = ""


@dataclass(frozen=True)
class IncidentView:
    id: str
    monitor: str
    severity: Status
    started_at: datetime
    resolved_at: datetime | None
    components: tuple[str, ...]
    title: str = ""  # the provider's incident title, when there was one

    def duration(self, now: datetime) -> timedelta:
        return (self.resolved_at or now) - self.started_at


@dataclass(frozen=True)
class Uptime:
    window: timedelta
    percent: float | None  # None: no data in the window
    incidents: int = 0
    mttr: timedelta | None = None  # mean time to recovery of incidents resolved in the window


@dataclass(frozen=True)
class ProbeStats:
    """An HTTP monitor's own probes over a window, from the hourly rollups."""

    window: timedelta
    probes: int
    ok: int
    avg_ms: float
    max_ms: float


@dataclass(frozen=True)
class TimelineEntry:
    """One alert of an incident as the timeline table keeps it."""

    at: datetime
    kind: AlertKind
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Overview:
    """Answer to `/status`."""

    now: datetime
    monitors: int
    problems: tuple[ComponentView, ...]  # every non-operational component, grouped by monitor
    open_incidents: tuple[IncidentView, ...]
    unreadable: tuple[str, ...] = ()  # monitors whose source cannot be read

    @property
    def all_operational(self) -> bool:
        return not self.problems and not self.open_incidents and not self.unreadable


@dataclass(frozen=True)
class TargetReport:
    """Answer to `/status <monitor or component>` and `/uptime <target>`."""

    now: datetime
    name: str
    monitor: str
    is_monitor: bool
    status: Status
    since: datetime | None
    uptime: tuple[Uptime, ...]
    incidents: tuple[IncidentView, ...]
    components: tuple[ComponentView, ...] = ()  # for a monitor: its non-operational components
    probes: ProbeStats | None = None  # HTTP monitors: probe counts and latency over 24 h
    timeline: tuple[TimelineEntry, ...] = ()  # a monitor's open incident, oldest first (at most 20)


@dataclass(frozen=True)
class IncidentList:
    """Answer to `/status incidents [N]` and `/incidents`."""

    now: datetime
    incidents: tuple[IncidentView, ...]
    target: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class UptimeReport:
    """Answer to `/uptime` without a target: every monitor over one window."""

    now: datetime
    window: timedelta
    rows: tuple[tuple[str, Uptime], ...] = ()


@dataclass(frozen=True)
class Usage:
    """Help text, or a short error with suggestions ('did you mean')."""

    message: str
    suggestions: tuple[str, ...] = field(default_factory=tuple)
    is_error: bool = False


@dataclass(frozen=True)
class AlternativesReport:
    """Answer to `/status alternatives <monitor>`: the monitor's live state and each alternative's."""

    now: datetime
    monitor: str
    status: Status
    alternatives: tuple[Alternative, ...] = ()


Reply = Overview | TargetReport | IncidentList | UptimeReport | AlternativesReport | Usage


# ---------------------------------------------------------------- web (bot/web reads these from the store)


@dataclass(frozen=True)
class DayRecord:
    """One UTC day of a monitor (or component) for the status page's 90-day strip."""

    day: datetime  # midnight UTC
    status: Status | None  # the worst incident severity that day; operational; None = not watched that day
    percent: float | None = None  # share of the watched time without an incident
    down: timedelta = timedelta(0)  # time in incidents that day
    watched: timedelta = timedelta(0)  # time the monitor was watched that day (a whole day, or less)


@dataclass(frozen=True)
class ProbeHour:
    """One hour of an HTTP monitor's probes (the latency chart)."""

    hour: datetime
    probes: int
    ok: int
    avg_ms: float
    max_ms: float


@dataclass(frozen=True)
class OutboxHealth:
    """One platform's outbox as /metrics and /healthz see it."""

    platform: str
    pending: int = 0
    retrying: int = 0  # pending rows that failed at least once
    failed: int = 0  # rows the platform refused for good (kept until retention)
    oldest_due: float | None = None  # next_at (epoch seconds) of the oldest pending row
