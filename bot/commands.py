"""Status commands: one table declares them; parse what a user typed into a Command; answer it as a Reply.

Every platform is built from COMMANDS: Slack's `/status <subcommand> …` text grammar (parse_text), Discord's
slash commands (adapters/discord/adapter.py), the help text and the README's command table (checked by
tests/test_docs.py). The same `handle` answers the CLI, Slack and Discord; each adapter only renders.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from bot import wording
from bot.model import (
    Alternative,
    AlternativesReport,
    Command,
    CommandKind,
    ComponentView,
    IncidentList,
    IncidentView,
    LeadStats,
    MaintenanceReport,
    MaintenanceView,
    MutesReport,
    MuteView,
    Overview,
    ProbeStats,
    ProviderMaintenance,
    Reply,
    Status,
    TargetReport,
    TimelineEntry,
    Uptime,
    UptimeReport,
    Usage,
    summary,
    worst,
)

if TYPE_CHECKING:
    from bot.maintenance import Window

MAX_TEXT = 200  # longer command text is refused, not parsed
MAX_LIMIT = 25
DEFAULT_LIMIT = 5
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90)}
REPORT_WINDOWS = (WINDOWS["24h"], WINDOWS["7d"], WINDOWS["30d"])
SLACK_COMMAND = "/status"  # the help names Slack's command by its default name ([slack] command)


# ---------------------------------------------------------------- the table


class ArgKind(StrEnum):
    """What an argument holds; it decides how it is read, checked and offered on each platform."""

    TARGET = "target"  # a monitor or component name
    COUNT = "count"  # how many (N)
    WINDOW = "window"  # one of WINDOWS
    SINCE = "since"  # a span back from now ("7d") or a past date
    DURATION = "duration"  # how long a mute lasts: 30m, 2h, 1d or until-resolved (operations, issue 12)
    REASON = "reason"  # free text, the rest of the line (operations, issue 12)


@dataclass(frozen=True)
class Argument:
    name: str  # the Discord option name and the help's placeholder: `[name]`
    kind: ArgKind
    summary: str  # one line; Discord shows it as the option's description (at most 100 characters)


@dataclass(frozen=True)
class CommandSpec:
    name: str  # the Slack subcommand word and the Discord slash command name
    kind: CommandKind  # what it asks `handle` for (status without a target asks for the overview)
    arguments: tuple[Argument, ...]  # optional, in this order when typed positionally (Slack)
    summary: str  # one line; Discord shows it as the command's description (at most 100 characters)
    aliases: tuple[str, ...] = ()  # other words Slack accepts for it


TARGET = Argument("target", ArgKind.TARGET, "A monitor or component name (Monitor/Component for one component)")
LIMIT = Argument("limit", ArgKind.COUNT, f"How many, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})")
SINCE = Argument("since", ArgKind.SINCE, "Only those since then: a span like 24h, 7d, 2w, or a date like 2026-09-17")
WINDOW = Argument("window", ArgKind.WINDOW, f"Over how long: {', '.join(WINDOWS)} (default 24h for all monitors)")
MONITOR = Argument("monitor", ArgKind.TARGET, "A monitor name")
DURATION = Argument("duration", ArgKind.DURATION, "How long: 30m, 2h, 1d (at most 30d), or until-resolved")
REASON = Argument("reason", ArgKind.REASON, "Why, in a few words (shown with the mute; mentions ping nobody)")

STATUS = CommandSpec("status", CommandKind.TARGET, (TARGET,),
                     "Overall state, or one monitor or component: state, uptime, last incidents")
COMMANDS: tuple[CommandSpec, ...] = (
    STATUS,
    CommandSpec("incidents", CommandKind.INCIDENTS, (TARGET, LIMIT, SINCE),
                "Recent incidents with start, duration and components"),
    CommandSpec("uptime", CommandKind.UPTIME, (TARGET, WINDOW),
                "Uptime % and mean time to recovery, per monitor or for one target"),
    CommandSpec("alternatives", CommandKind.ALTERNATIVES, (MONITOR,),
                "The live state of a monitor's alternatives: which of them is healthy right now"),
    # operations (issue 12): these act (bot/operate.py answers them, with the one who typed them) or list
    CommandSpec("ack", CommandKind.ACK, (MONITOR,),
                "Acknowledge a monitor's open incident: you are on it, its reminders stop"),
    CommandSpec("mute", CommandKind.MUTE, (MONITOR, DURATION, REASON),
                "Mute a monitor: checks go on and are recorded, nothing is posted until the mute ends"),
    CommandSpec("unmute", CommandKind.UNMUTE, (MONITOR,), "End a monitor's mute now; what changed meanwhile is posted"),
    CommandSpec("mutes", CommandKind.MUTES, (), "The monitors muted now: by whom, until when, why"),
    CommandSpec("maintenance", CommandKind.MAINTENANCE, (),
                "Maintenance windows in force now and the next ones, ours and the providers'"),
    CommandSpec("help", CommandKind.HELP, (), "This help", aliases=("-h", "--help", "?")),
)
BY_NAME = {spec.name: spec for spec in COMMANDS}


# ---------------------------------------------------------------- help, built from the table


def form(spec: CommandSpec, *, slash: bool) -> str:
    """How a command is typed: '/status incidents [target] [limit] [since]' (Slack: STATUS is the bare
    command, the others its subcommands) or '/incidents [target] [limit] [since]' (Discord: one each)."""
    if slash:
        head = f"/{spec.name}"
    else:
        head = SLACK_COMMAND if spec is STATUS else f"{SLACK_COMMAND} {spec.name}"
    return " ".join([head, *(f"[{a.name}]" for a in spec.arguments)])


def arguments() -> tuple[Argument, ...]:
    """Every argument the table uses, once, in the order they first appear."""
    seen: dict[str, Argument] = {}
    for spec in COMMANDS:
        for argument in spec.arguments:
            seen.setdefault(argument.name, argument)
    return tuple(seen.values())


def help_text(*, slash: bool = False) -> str:
    """The help: every command's form and summary, then every argument's; Slack's says how to quote a name."""
    return wording.help_text(
        [(form(spec, slash=slash), spec.summary) for spec in COMMANDS],
        [(a.name, a.summary) for a in arguments()],
        hint="" if slash else wording.QUOTE_HINT,
    )


USAGE = help_text()  # what `help` answers in Slack and the CLI


def usage_error(problem: str, *, slash: bool = False) -> Usage:
    """A bad command: what is wrong, then the help."""
    return Usage(wording.with_help(problem, help_text(slash=slash)), is_error=True)


# ---------------------------------------------------------------- reading arguments

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPAN = re.compile(r"(\d{1,4})([hdw])", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_SPAN_LIKE = re.compile(r"[0-9]+[a-z]{1,3}", re.ASCII | re.IGNORECASE)
_DATE_LIKE = re.compile(r"[0-9]{4}-[0-9]", re.ASCII)
_OPEN_QUOTES = '"“”„'
_CLOSE_QUOTES = '"”“'


def clean(text: str) -> str:
    """Strip control characters and surrounding space from user text."""
    return _CONTROL.sub(" ", text).strip()


def parse_window(text: str) -> timedelta | None:
    """'24h', '7d', '30d', '90d' → a window; anything else → None."""
    return WINDOWS.get(text.strip().lower())


def parse_since(text: str, now: datetime) -> datetime | None:
    """'24h' / '7d' / '2w' → that long before `now`; 'YYYY-MM-DD' or an ISO time → that instant (UTC if naive)."""
    text = clean(text).lower()
    match = _SPAN.fullmatch(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        span = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]
        return now - span
    try:
        at = datetime.fromisoformat(text.upper() if "t" in text else text)
    except ValueError:
        return None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at if at <= now else None


def _error(argument: Argument) -> Usage:
    """What is wrong with a value of `argument`, in one line."""
    if argument.kind is ArgKind.COUNT:
        return Usage(wording.bad_count(argument.name, MAX_LIMIT), is_error=True)
    if argument.kind is ArgKind.WINDOW:
        return Usage(wording.bad_window(argument.name, list(WINDOWS)), is_error=True)
    return Usage(wording.bad_since(argument.name), is_error=True)


def build(name: str, options: Mapping[str, object], *, now: datetime) -> Command | Usage:
    """A command's arguments by name, as typed (Slack) or chosen (Discord) → a Command, or a short Usage
    error (without the help: the caller adds its platform's). The one place arguments are checked."""
    spec = BY_NAME.get(name)
    if spec is None:
        return Usage(wording.unknown_command(name), is_error=True)
    target: str | None = None
    limit = DEFAULT_LIMIT
    window: timedelta | None = None
    since: datetime | None = None
    mute_for: timedelta | None = None
    reason = ""
    if spec.kind in ACTING and not clean(str(options.get(MONITOR.name) or "")):
        return Usage(wording.name_the_monitor(spec.name), is_error=True)
    if spec.kind is CommandKind.MUTE and not clean(str(options.get(DURATION.name) or "")):
        return Usage(wording.bad_duration(""), is_error=True)
    for argument in spec.arguments:
        raw = options.get(argument.name)
        text = clean(str(raw)) if raw is not None else ""
        if not text:
            continue
        if argument.kind is ArgKind.TARGET:
            if len(text) > MAX_TEXT:
                return Usage(wording.too_long(len(text), argument.name), is_error=True)
            target = text
        elif argument.kind is ArgKind.COUNT:
            if not _DIGITS.fullmatch(text) or len(text) > 9 or not 1 <= int(text) <= MAX_LIMIT:
                return _error(argument)
            limit = int(text)
        elif argument.kind is ArgKind.WINDOW:
            window = parse_window(text)
            if window is None:
                return _error(argument)
        elif argument.kind is ArgKind.DURATION:
            span = parse_mute_for(text)
            if isinstance(span, str):
                return Usage(span, is_error=True)
            mute_for = span
        elif argument.kind is ArgKind.REASON:
            if len(text) > MAX_REASON:
                return Usage(wording.reason_too_long(len(text), MAX_REASON), is_error=True)
            reason = text
        else:
            since = parse_since(text, now)
            if since is None:
                return _error(argument)
    kind = CommandKind.OVERVIEW if spec.kind is CommandKind.TARGET and target is None else spec.kind
    return Command(kind, target=target, limit=limit, window=window, since=since, mute_for=mute_for, reason=reason)


# ---------------------------------------------------------------- Slack's text grammar

_WORDS = {word: spec for spec in COMMANDS if spec is not STATUS for word in (spec.name, *spec.aliases)}


def _looks_like(kind: ArgKind, word: str) -> bool:
    """Whether a trailing word is meant as this argument (then a bad value is an error, not a name)."""
    if kind is ArgKind.COUNT:
        return bool(_DIGITS.fullmatch(word))
    if kind is ArgKind.WINDOW:
        return bool(_SPAN_LIKE.fullmatch(word))
    if kind is ArgKind.SINCE:
        return bool(_SPAN_LIKE.fullmatch(word) or _DATE_LIKE.match(word))
    return False


def _positional(spec: CommandSpec, rest: str) -> tuple[dict[str, str], bool] | Usage:
    """A subcommand's words → its arguments by name, and whether the target was quoted.

    An optional "quoted" target comes first; the other arguments are taken from the end, in any order,
    each recognised by its shape (a number, a span, a date); the words left are the target.
    """
    options: dict[str, str] = {}
    targets = [a for a in spec.arguments if a.kind is ArgKind.TARGET]
    quoted = False
    words = rest.split()
    if targets and rest[:1] in _OPEN_QUOTES:
        end = next((i for i, c in enumerate(rest[1:], 1) if c in _CLOSE_QUOTES), len(rest))
        options[targets[0].name] = rest[1:end]
        words = rest[end + 1:].split()
        quoted = True
    others = [a for a in spec.arguments if a.kind is not ArgKind.TARGET]
    while words:
        argument = next((a for a in others if a.name not in options and _looks_like(a.kind, words[-1])), None)
        if argument is None:
            break
        options[argument.name] = words.pop()
    if words:
        if quoted or not targets:
            return Usage(wording.unexpected(" ".join(words)), is_error=True)
        options[targets[0].name] = " ".join(words)
    return options, quoted


def parse_text(text: str, *, now: datetime) -> Command | Usage:
    """The text after `/status` (Slack, the CLI) → a Command, or a Usage error that carries the help.

    A first word naming a subcommand (`incidents`, `uptime`, `help`) picks it; anything else is a target,
    so `/status <name>` works for any name. Text that starts with a subcommand word but has a target
    ("Uptime Robot") keeps the whole text as `fallback_target`: `handle` answers it as a target when
    the subcommand's target names nothing. Quotes force a name.
    """
    if len(text) > MAX_TEXT:
        return usage_error(wording.too_long(len(text)))
    typed = " ".join(clean(text).split())
    if not typed:
        return Command(CommandKind.OVERVIEW)
    head, _, rest = typed.partition(" ")
    spec = _WORDS.get(head.casefold())
    if spec is None or (rest and not spec.arguments):  # "Help Desk" is a name, not help
        spec, rest = STATUS, typed
    parsed = _mute_words(rest) if spec.kind is CommandKind.MUTE else _positional(spec, rest)
    if isinstance(parsed, Usage):
        return usage_error(parsed.message)
    options, quoted = parsed
    built = build(spec.name, options, now=now)
    if isinstance(built, Usage):
        return usage_error(built.message)
    if spec is not STATUS and built.target and not quoted:
        return replace(built, fallback_target=typed)
    return built


# ---------------------------------------------------------------- answering


class History(Protocol):
    """The store reads that commands need (bot.store.Store implements it)."""

    def monitor_names(self) -> list[str]: ...
    def component_views(self, monitor: str | None = None, *, status: Status | None = None) -> list[ComponentView]: ...
    def unreadable_monitors(self) -> list[str]: ...
    def find_component(self, name: str, monitor: str | None = None) -> tuple[str, str] | None: ...
    def open_incidents(self) -> list[IncidentView]: ...
    def recent_incidents(
        self, *, limit: int, monitor: str | None = None, component: str | None = None,
        since: datetime | None = None,
    ) -> list[IncidentView]: ...
    def uptime(
        self, *, monitor: str, component: str | None, window: timedelta, now: datetime,
        excluded: Sequence[tuple[datetime, datetime]] = (),
    ) -> Uptime: ...
    def probe_stats(self, *, monitor: str, window: timedelta, now: datetime) -> ProbeStats | None: ...
    def timeline(self, incident_id: str, limit: int = 20) -> tuple[TimelineEntry, ...]: ...
    def mutes(self) -> list[MuteView]: ...
    def provider_maintenances(self, now: datetime, monitor: str | None = None) -> list[tuple[str, ProviderMaintenance]]: ...
    def leads(self, *, window: timedelta, now: datetime, monitor: str | None = None) -> tuple[LeadStats, ...]: ...


def _resolve(history: History, target: str) -> tuple[str, str | None] | Usage:
    """Find a monitor or a component by name (case-insensitive); 'did you mean' when not found."""
    wanted = target.casefold()
    monitors = history.monitor_names()
    for name in monitors:
        if name.casefold() == wanted:
            return name, None
    found = history.find_component(target)
    if found is None and "/" in target:  # "Monitor/Component"
        head, _, tail = target.partition("/")
        found = history.find_component(tail.strip(), head.strip())
    if found is not None:
        return found
    components = history.component_views()  # the slow path: non-ASCII case, or a typo to suggest for
    for view in components:
        if view.name.casefold() == wanted or f"{view.monitor}/{view.name}".casefold() == wanted:
            return view.monitor, view.name
    names = sorted(set(monitors) | {v.name for v in components})
    by_fold = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(wanted, list(by_fold), n=5, cutoff=0.5)
    close += [f for f in by_fold if wanted in f and f not in close][: 5 - len(close)]
    return Usage(
        wording.not_found(target),
        suggestions=tuple(by_fold[c] for c in close),
        is_error=True,
    )


def _notable(status: Status) -> bool:
    """Worth showing in an overview: an outage, a maintenance, or a component the source no longer describes."""
    return status.is_outage or status in (Status.MAINTENANCE, Status.UNKNOWN)


NO_ALTERNATIVES: Mapping[str, Sequence[str]] = MappingProxyType({})


def live_status(history: History, monitor: str) -> Status:
    """A monitor's live state from the history, as the watcher sums it up from memory (bot.model.summary):
    its components' statuses and its open incident's severity; unknown while its source cannot be read."""
    statuses = [v.status for v in history.component_views(monitor)]
    statuses += [i.severity for i in history.open_incidents() if i.monitor == monitor]
    return summary(statuses, readable=monitor not in history.unreadable_monitors())


def handle(
    command: Command, *, history: History, now: datetime,
    alternatives: Mapping[str, Sequence[str]] = NO_ALTERNATIVES, planned: Sequence[Window] = (),
) -> Reply:
    """Answer a command from the history. Never raises for bad input: it answers with Usage. `alternatives`:
    each monitor's `alternatives` from the config (what `/status alternatives` answers about); `planned`: the
    config's maintenance windows."""
    if command.kind is CommandKind.HELP:
        return Usage(USAGE)
    if command.kind is CommandKind.MUTES:
        return MutesReport(now=now, mutes=active_mutes(history, now))
    if command.kind is CommandKind.MAINTENANCE:
        return maintenance_report(history, planned, now)
    if command.kind in ACTING:  # they change things: the bot's handler gives them to bot/operate.py
        return Usage(wording.acting_needs_the_bot(command.kind.value), is_error=True)
    if command.kind is CommandKind.OVERVIEW:
        problems = tuple(v for v in history.component_views() if _notable(v.status))
        return Overview(
            now=now,
            monitors=len(history.monitor_names()),
            problems=problems,
            open_incidents=tuple(history.open_incidents()),
            unreadable=tuple(history.unreadable_monitors()),
            maintenance=_maintenance_now(planned, now) + _provider_now(history.provider_maintenances(now), now),
        )
    monitor: str | None = None
    component: str | None = None
    if command.target:
        found = _resolve(history, command.target)
        if isinstance(found, Usage) and command.fallback_target:
            if not isinstance(_resolve(history, command.fallback_target), Usage):
                return handle(Command(CommandKind.TARGET, target=command.fallback_target), history=history, now=now,
                              alternatives=alternatives)
        if isinstance(found, Usage):
            return found
        monitor, component = found
    if command.kind is CommandKind.ALTERNATIVES:
        if monitor is None:
            listed = tuple(name for name in history.monitor_names() if alternatives.get(name))
            return Usage(wording.name_a_monitor(listed), is_error=True)
        return AlternativesReport(
            now=now, monitor=monitor, status=live_status(history, monitor),
            alternatives=tuple(Alternative(name, live_status(history, name)) for name in alternatives.get(monitor, ())),
        )
    limit = max(1, min(command.limit, MAX_LIMIT))
    if command.kind is CommandKind.INCIDENTS:
        items = history.recent_incidents(limit=limit, monitor=monitor, component=component, since=command.since)
        return IncidentList(now=now, incidents=tuple(items), target=command.target and (component or monitor), since=command.since)
    if command.kind is CommandKind.UPTIME and monitor is None:
        window = command.window or WINDOWS["24h"]
        rows = tuple(
            (name, history.uptime(monitor=name, component=None, window=window, now=now,
                                  excluded=_maintenance_spans(planned, name, now - window, now)))
            for name in history.monitor_names()
        )
        return UptimeReport(now=now, window=window, rows=rows, leads=history.leads(window=window, now=now))
    assert monitor is not None
    windows = (command.window,) if command.window else REPORT_WINDOWS
    views = history.component_views(monitor)
    if component is not None:
        mine = [v for v in views if v.name == component]
        status = mine[0].status if mine else None
        since = mine[0].since if mine else None
        shown: tuple[ComponentView, ...] = ()
    else:
        status = worst([v.status for v in views]) if views else None
        since = min((v.since for v in views if v.status == status and v.since), default=None)
        shown = tuple(v for v in views if _notable(v.status))
    if monitor in history.unreadable_monitors() and (status is None or not status.is_outage):
        status = Status.UNKNOWN
    incidents = tuple(history.recent_incidents(limit=limit, monitor=monitor, component=component))
    ongoing = next((i.id for i in incidents if i.resolved_at is None), None)  # a monitor has one open at most
    timeline = history.timeline(ongoing) if ongoing and component is None and command.kind is CommandKind.TARGET else ()

    return TargetReport(
        now=now,
        name=component or monitor,
        monitor=monitor,
        is_monitor=component is None,
        status=status or Status.UNKNOWN,
        since=since,
        uptime=tuple(history.uptime(monitor=monitor, component=component, window=w, now=now,
                                    excluded=_maintenance_spans(planned, monitor, now - w, now)) for w in windows),
        incidents=incidents,
        components=shown,
        probes=history.probe_stats(monitor=monitor, window=WINDOWS["24h"], now=now),
        timeline=timeline,
        maintenance=(_maintenance_now(planned, now, monitor)
                     + _provider_now(history.provider_maintenances(now, monitor), now)),
        muted=next((m for m in active_mutes(history, now) if m.monitor == monitor), None),
        leads=history.leads(window=max(windows), now=now, monitor=monitor) if component is None else (),
    )


# ---------------------------------------------------------------- operations (issue 12): mute's arguments, lists

MAX_REASON = 300  # characters: a longer reason is refused (it is shown on the message and in the thread line)
MAX_MUTE = timedelta(days=30)
UNTIL_RESOLVED = "until-resolved"
ACTING = frozenset({CommandKind.ACK, CommandKind.MUTE, CommandKind.UNMUTE})  # bot/operate.py answers these
_MUTE_SPAN = re.compile(r"(\d{1,5}[smhdw])+", re.ASCII)


def parse_mute_for(text: str) -> timedelta | None | str:
    """'30m', '2h', '1d', '1h30m' → that span (at most MAX_MUTE); 'until-resolved' → None; anything else →
    why it is refused (a str)."""
    word = text.strip().lower()
    if word in (UNTIL_RESOLVED, "until_resolved"):
        return None
    span = timedelta(0)
    if _MUTE_SPAN.fullmatch(word):
        units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
        span = sum((timedelta(seconds=int(n) * units[u]) for n, u in re.findall(r"(\d+)([smhdw])", word)),
                   timedelta(0))
    if not timedelta(0) < span <= MAX_MUTE:
        return wording.bad_duration(text)
    return span


def _mute_words(rest: str) -> tuple[dict[str, str], bool] | Usage:
    """`mute <monitor> <duration> [reason]`: the monitor (quoted, or the words before the first duration),
    the duration, and the rest of the line as the reason."""
    quoted = rest[:1] in _OPEN_QUOTES
    if quoted:
        end = next((i for i, c in enumerate(rest[1:], 1) if c in _CLOSE_QUOTES), len(rest))
        name, words = rest[1:end], rest[end + 1:].split()
        at = 0 if words and not isinstance(parse_mute_for(words[0]), str) else -1
    else:
        words = rest.split()
        at = next((i for i, w in enumerate(words) if i and not isinstance(parse_mute_for(w), str)), -1)
        name = " ".join(words[:at]) if at > 0 else " ".join(words)
    if at < 0:
        return Usage(wording.bad_duration(" ".join(words[1:2]) if not quoted else " ".join(words[:1])),
                     is_error=True)
    options = {MONITOR.name: name, DURATION.name: words[at], REASON.name: " ".join(words[at + 1:])}
    return options, quoted


def active_mutes(history: History, now: datetime) -> tuple[MuteView, ...]:
    """The stored mutes that still hold at `now` (a timed one that ran out is ended by the bot's next tick)."""
    return tuple(m for m in history.mutes() if m.muted.until is None or m.muted.until > now)


def maintenance_report(history: History, windows: Sequence[Window], now: datetime) -> MaintenanceReport:
    """Our windows in force and upcoming, and the providers' own: the maintenances their pages announce (in
    progress, and planned within maintenance.HORIZON), then any component under maintenance that no announced
    one in progress names (a page may set the status without announcing anything)."""
    from bot import maintenance

    announced = history.provider_maintenances(now)
    covered = {(monitor, name) for monitor, m in announced if m.in_progress for name in m.components}
    bare = tuple(
        MaintenanceView(name=view.name, start=view.since or now, end=None, monitors=(view.monitor,),
                        components=(view.name,), provider=True)
        for view in history.component_views(status=Status.MAINTENANCE)
        if (view.monitor, view.name) not in covered
    )
    planned = tuple(_provider_view(monitor, m, now) for monitor, m in announced
                    if not m.in_progress and (m.starts_at is None or m.starts_at <= now + maintenance.HORIZON))
    return MaintenanceReport(
        now=now, active=maintenance.active(windows, now) + _provider_now(announced, now) + bare,
        upcoming=tuple(sorted(maintenance.upcoming(windows, now) + planned, key=lambda view: view.start)),
    )


def _provider_view(monitor: str, found: ProviderMaintenance, now: datetime) -> MaintenanceView:
    return MaintenanceView(name=found.name, start=found.starts_at or now, end=found.ends_at, monitors=(monitor,),
                           components=found.components, provider=True)


def _provider_now(announced: Sequence[tuple[str, ProviderMaintenance]], now: datetime) -> tuple[MaintenanceView, ...]:
    """Of the providers' announced maintenances (History.provider_maintenances), those their pages say are in
    progress, as our windows show."""
    return tuple(_provider_view(name, m, now) for name, m in announced if m.in_progress)


def _maintenance_now(windows: Sequence[Window], now: datetime, monitor: str | None = None) -> tuple[MaintenanceView, ...]:
    if not windows:
        return ()
    from bot import maintenance

    return maintenance.active(windows, now, monitor)


def _maintenance_spans(planned: Sequence[Window], monitor: str, start: datetime,
                       end: datetime) -> tuple[tuple[datetime, datetime], ...]:
    if not planned:
        return ()
    from bot import maintenance

    return maintenance.spans(planned, monitor, start, end)
