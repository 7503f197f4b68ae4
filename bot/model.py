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


@dataclass(frozen=True)
class ProviderMaintenance:
    """A maintenance the provider's status page announces (Statuspage `scheduled_maintenances`, incident.io's
    maintenances): shown by `/status` and `/status maintenance`, never an incident. `status` in Statuspage's
    words: scheduled, in_progress or verifying."""

    id: str
    name: str
    status: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # None: no announced end
    components: tuple[str, ...] = ()  # as the monitor's readings name them; empty: none named
    url: str | None = None

    @property
    def in_progress(self) -> bool:
        """The provider says it is under way (verifying is its last step), not only planned."""
        return self.status in ("in_progress", "verifying")


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
    # too few regions report for any outage to be confirmed (issue 14): affected = regions reporting, total =
    # regions expected, components = the regions not reporting (by name, status unknown)
    REGIONS_DEGRADED = "regions_degraded"
    REGIONS_RESTORED = "regions_restored"  # enough report again: affected/total, duration = how long it was not
    RESOLVED = "resolved"  # duration
    REMINDER = "reminder"  # still ongoing; duration
    ACKNOWLEDGED = "acknowledged"  # the watched provider's page admits it: detail = what it says, duration = lead
    TEXT = "text"  # a free line: rows queued by the previous version (Alert.change: str)
    # operations (issue 12): detail = who acted (Actor.name), duration = a mute's length (None: until resolved)
    ACKED = "acked"  # an operator acknowledged the incident (not the provider: that is ACKNOWLEDGED)
    MUTED = "muted"
    UNMUTED = "unmuted"
    MUTE_ENDED = "mute_ended"  # the mute ran out (or its incident resolved): what changed meanwhile comes with it
    MAINTENANCE_ENDED = "maintenance_ended"  # detail = the window's name: the incident outlasted it


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
    monitor: str = ""  # another monitor the change is about (ACKNOWLEDGED: the watched provider's)


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
    maintenances: tuple[ProviderMaintenance, ...] = ()  # the provider's announced ones, in progress or planned


# ---------------------------------------------------------------- operations (issue 12)
# Acting from chat and the CLI: acknowledge, mute, unmute (bot/operate.py), and what the answers carry.


class ActionKind(StrEnum):
    ACK = "ack"
    MUTE = "mute"
    UNMUTE = "unmute"


@dataclass(frozen=True)
class Actor:
    """Who acted: a chat user or the terminal."""

    id: str  # Slack user id "U123", Discord user id "1234", "terminal" for the CLI
    name: str  # what the message shows: "alice" (renderers add @ / <@id> as their platform wants)
    platform: str  # "slack", "discord", "cli"


@dataclass(frozen=True)
class Action:
    """One thing an operator asks for: by monitor name (commands, CLI) or by incident id (a button)."""

    kind: ActionKind
    actor: Actor
    target: str = ""  # a monitor name (commands, CLI)
    incident_id: str = ""  # a button: the incident its message is about (or the 16-hex sha1 prefix of its id)
    until: datetime | None = None  # MUTE: when it ends; None = until the incident resolves
    reason: str = ""


@dataclass(frozen=True)
class ActionResult:
    """What the one who acted is told (also a Reply)."""

    text: str
    changed: bool
    is_error: bool = False


@dataclass(frozen=True)
class Acknowledged:
    by: str  # Actor.name
    at: datetime


@dataclass(frozen=True)
class Muted:
    by: str  # Actor.name ("maintenance" for a maintenance window)
    at: datetime
    until: datetime | None  # None = until resolved
    reason: str = ""


@dataclass(frozen=True)
class MuteView:
    """One monitor's current mute, for `/status mutes`."""

    monitor: str
    muted: Muted
    incident_id: str = ""  # a mute until resolved: the incident whose recovery ends it


@dataclass(frozen=True)
class Held:
    """An alert kept back while its monitor is quiet (bot/quiet.py); `why`: '' for a mute, else the name of
    the maintenance window."""

    alert: Alert
    why: str = ""


@dataclass(frozen=True)
class MaintenanceView:
    """One maintenance window occurrence (ours from the config, or a provider's announced one)."""

    name: str
    start: datetime
    end: datetime | None  # None: a provider's maintenance with no announced end
    monitors: tuple[str, ...] = ()  # empty: every monitor
    components: tuple[str, ...] = ()  # empty: the whole monitor
    provider: bool = False  # announced by the provider's status page, not configured here


@dataclass(frozen=True)
class MutesReport:
    """Answer to `/status mutes`: every monitor muted now."""

    now: datetime
    mutes: tuple[MuteView, ...] = ()


@dataclass(frozen=True)
class MaintenanceReport:
    """Answer to `/status maintenance`: the windows active now and the next upcoming ones."""

    now: datetime
    active: tuple[MaintenanceView, ...] = ()
    upcoming: tuple[MaintenanceView, ...] = ()


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
    DIGEST = "digest"  # the weekly digest (issue 12): one new message, `Alert.digest` carries it
    DATABASE_LOST = "database_lost"  # a replica cannot reach PostgreSQL (issue 14): sent straight, not queued
    REGIONS_DEGRADED = "regions_degraded"  # too few regions report to confirm any outage (bot/regions.py)
    REGIONS_RESTORED = "regions_restored"


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
    watch: Watch | None = None  # a probe's incident: what the status page it `watches` says (early warning)
    # operations (issue 12): who acknowledged or muted the incident; buttons=False on notices and resolved alerts
    acknowledged: Acknowledged | None = None
    muted: Muted | None = None
    buttons: bool = True
    digest: Digest | None = None  # kind DIGEST only (rows queued before this field existed decode with none)
    regions: Verdict | None = None  # a regional monitor's incident: how each region sees it (issue 14)

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
            AlertKind.DATABASE_LOST,
            AlertKind.REGIONS_DEGRADED,
            AlertKind.REGIONS_RESTORED,
        )


# ---------------------------------------------------------------- early warning (issue 15)


class PageSaid(StrEnum):
    """What a probe's watched status page said when the probe's incident opened."""

    CLEAR = "clear"  # no incident, every (filtered) component operational: downwatch is ahead of it
    REPORTING = "reporting"  # it already reported a problem: no lead to measure
    UNKNOWN = "unknown"  # it could not be read (or was never read): nothing claimed either way


@dataclass(frozen=True)
class Watch:
    """A probe's incident as seen against the status page of the provider monitor it `watches`."""

    provider: str  # the watched monitor's name ("OpenAI")
    page: str  # the page people know ("status.openai.com")
    said: PageSaid
    title: str = ""  # what the page says: its incident's title, or (with `status`) its worst component's name
    status: Status | None = None  # that component's status, when the page reports a component, not an incident
    acknowledged_at: datetime | None = None  # when downwatch saw the page admit it
    lead: timedelta | None = None  # acknowledged_at − the probe incident's start, when the page was CLEAR

    @property
    def pending(self) -> bool:
        """Still waiting for the page to admit what the probe sees."""
        return self.acknowledged_at is None and self.said is not PageSaid.REPORTING


@dataclass(frozen=True)
class LeadStats:
    """How far ahead of a status page a probe's incidents were over a window (`/status`, `/uptime`)."""

    provider: str
    window: timedelta
    leads: tuple[timedelta, ...] = ()  # incidents the page admitted later: how much later
    never: int = 0  # incidents the page never admitted before they recovered

    @property
    def median(self) -> timedelta | None:
        if not self.leads:
            return None
        ordered = sorted(self.leads)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2


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
    ACK = "ack"  # /status ack <target>, /ack  (operations, issue 12)
    MUTE = "mute"  # /status mute <target> <duration> [reason], /mute
    UNMUTE = "unmute"  # /status unmute <target>, /unmute
    MUTES = "mutes"  # /status mutes, /mutes
    MAINTENANCE = "maintenance"  # /status maintenance, /maintenance
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
    # operations (issue 12): who typed it (adapters fill it); MUTE: for how long (None = until resolved), why
    actor: Actor | None = None
    mute_for: timedelta | None = None
    reason: str = ""


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
    maintenance: tuple[MaintenanceView, ...] = ()  # operations (issue 12): configured windows in force now

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
    leads: tuple[LeadStats, ...] = ()  # early warning: its (or its watchers') lead over a status page, 30 days
    # operations (issue 12): the monitor's maintenance windows in force now, and its mute
    maintenance: tuple[MaintenanceView, ...] = ()
    muted: MuteView | None = None


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
    leads: tuple[LeadStats, ...] = ()  # early warning: per watched provider, its probes' lead over the window


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


Reply = (
    Overview | TargetReport | IncidentList | UptimeReport | AlternativesReport | Usage
    | ActionResult | MutesReport | MaintenanceReport
)


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


# ---------------------------------------------------------------- digest (issue 12)


@dataclass(frozen=True)
class DigestDay:
    """One day of a monitor in the weekly digest's strip, in the digest's time zone."""

    day: datetime  # the local midnight that starts it
    status: Status | None  # the worst incident severity that day; operational: none; None: not watched that day
    down: timedelta = timedelta(0)  # time in incidents that day


@dataclass(frozen=True)
class DigestComponent:
    """A component the monitor's incidents of the week named, and in how many of them."""

    name: str
    incidents: int


@dataclass(frozen=True)
class DigestRow:
    """One monitor's week."""

    monitor: str
    uptime: float | None  # percent of the watched time without an incident; None: not watched this week
    incidents: int  # incidents that started this week
    mttr: timedelta | None  # mean duration of the incidents that ended this week
    longest: timedelta | None  # the longest incident that overlapped the week (until its end, or the week's)
    down: timedelta  # time in incidents this week
    days: tuple[DigestDay, ...]  # the 7 days, oldest first
    components: tuple[DigestComponent, ...] = ()  # most affected first
    # early warning (issue 15), on a provider's row: how far ahead of its status page its probes were this week
    lead: LeadStats | None = None


@dataclass(frozen=True)
class Digest:
    """The weekly digest: every monitor's week, worst first."""

    start: datetime  # local midnight, in `timezone`, 7 days before `end`
    end: datetime  # local midnight that ends the week (exclusive)
    timezone: str  # an IANA name ("Europe/Berlin")
    rows: tuple[DigestRow, ...] = ()

    @property
    def incidents(self) -> int:
        return sum(row.incidents for row in self.rows)

    @property
    def quiet(self) -> bool:
        """No incident started or was still going this week."""
        return all(row.incidents == 0 and row.down <= timedelta(0) for row in self.rows)


# ---------------------------------------------------------------- regions (issue 14)
# HTTP and TCP monitors probed from several regions (bot/regions.py): each region's latest result, and the
# leader's quorum decision over them.


@dataclass(frozen=True)
class RegionReading:
    """One region's latest result for one HTTP/TCP monitor. `failures`/`successes` are that region's
    consecutive failing/succeeding checks (the region's agent counts them; an unknown result moves neither).
    `status` UNKNOWN: the region could not judge (its own network is down, or the probe's key was refused)."""

    region: str
    at: datetime  # when the check ran, on the region's clock
    status: Status
    failures: int
    successes: int
    detail: str = ""
    latency_ms: float | None = None


@dataclass(frozen=True)
class Verdict:
    """The quorum's decision on one monitor at one moment, and how each region stands (regions by name, in
    the configured order). `down`/`up`/`unknown`: fresh regions whose latest check failed / passed / could not
    judge; `stale`: no fresh result. `reporting`: fresh regions that vote (not unknown), of `expected`.
    `degraded`: fewer of them than the quorum needs, so no outage can be confirmed (status UNKNOWN)."""

    status: Status
    down: tuple[str, ...] = ()
    up: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    reporting: int = 0
    expected: int = 0
    degraded: bool = False
    latency_ms: float | None = None  # the median latency of the fresh regions that measured one
