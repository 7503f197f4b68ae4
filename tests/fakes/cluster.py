"""Several `downwatch run` processes on one PostgreSQL, for the chaos tests (tests/test_chaos.py, issue 14).

    async with Cluster(tmp_path, url, replicas=3) as c:   # the provider page, fake Slack and Discord, configs
        await c.start_all()                               # the first replica leads, the others follow
        c.change(1, Phase.DEGRADED)                       # the provider moves (outage 1); the time is kept
        await c.settled(1, Phase.DEGRADED)                # decided and delivered on both platforms
        c.leader()                                        # (holder, epoch, pid) of the live lease
        figures = c.verify(Figures("kill"), cycles=1)     # lost, duplicates, stale commits and sends, delays
        print(figures.line())

The replicas run the same monitors (one cluster) with their own config files (Slack in HTTP mode needs a port
of its own) and logs, in one folder each. The database URL, password included, reaches them through
DOWNWATCH_DATABASE_URL, as the README says to. Every message a fake platform receives is kept as a
`Sighting`, with the process that sent it (by the socket's owner, read from /proc): what tells a stale
leader's send from its successor's.

Stale commits are read from an audit the harness adds to the database (not downwatch's schema): a trigger
on the tables only the leader writes records each row written with the epoch the writing transaction was
fenced on and that transaction's start (`now()`, PostgreSQL's clock). A fenced transaction checks that its
lease has not expired at that same `now()`, and a successor's term begins (lease_log.acquired_at) only once
it has, so any row written at or after the successor's acquired_at with the older epoch is a stale commit.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import web

from adapters.discord.adapter import nonce
from adapters.discord.render import alert_title
from adapters.slack.render import render_change
from bot.model import Alert, AlertKind
from bot.simulator import Phase, SimulatedProvider
from bot.store import queued_alert
from bot.store.postgres import PostgresBackend
from tests.fakes.botprocess import BotProcess, until
from tests.fakes.discord_api import FakeDiscord, Recorded
from tests.fakes.slack_api import Call, FakeSlack
from tests.loopback import closed_port

SLACK_TOKEN = "xoxb-4242-CHAOSbottoken"
SLACK_SECRET = "CHAOSsigningsecret0123"
SLACK_CHANNEL = "C0ALERTS"
DISCORD_TOKEN = "CHAOS.discord.bot.token"
DISCORD_CHANNEL = "645027906669510667"
MONITOR = "OpenAI"
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DOWNWATCH_", "PG"))}
PACE = {"slack": 1.0, "discord": 0.5}  # the adapters' pacing per channel: a thread line follows its edit by this

# What each phase of the provider must become: the alert's kind (one incident per outage).
KIND = {Phase.DEGRADED: AlertKind.OPENED, Phase.MAJOR: AlertKind.UPDATED, Phase.RECOVERED: AlertKind.RESOLVED}
CYCLE = (Phase.DEGRADED, Phase.MAJOR, Phase.RECOVERED)

# The audit (see the module docstring). Deletes are not audited: retention deletes without a fence, by design.
AUDITED = {"outbox": "INSERT OR UPDATE", "incidents": "INSERT OR UPDATE", "messages": "INSERT OR UPDATE",
           "timeline": "INSERT OR UPDATE", "monitors": "UPDATE OF state"}
AUDIT = [
    """CREATE TABLE chaos_writes (id BIGSERIAL PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL, epoch BIGINT,
         at TIMESTAMPTZ NOT NULL DEFAULT now(), clock TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
         backend INTEGER NOT NULL DEFAULT pg_backend_pid())""",
    """CREATE FUNCTION chaos_audit() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO chaos_writes (tbl, op, epoch)
         VALUES (TG_TABLE_NAME, TG_OP, NULLIF(current_setting('downwatch.epoch', true), '')::BIGINT);
         RETURN NULL;
       END $$""",
    *(f"CREATE TRIGGER chaos_audit AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION chaos_audit()"
      for table, events in AUDITED.items()),
]


# ---------------------------------------------------------------- the database, from outside


class Database:
    """The test's own connection to the cluster's database. `rows` answers [] while the database cannot be
    reached (a condition polled during a restart is simply not true yet); `strict` raises."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None

    def strict(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows; a connection broken meanwhile (a restarted server) is replaced once."""
        for attempt in (1, 2):
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
            try:
                return self._conn.execute(sql.encode(), args).fetchall()  # type: ignore[arg-type]
            except psycopg.OperationalError:
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def rows(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.strict(sql, args)
        except psycopg.OperationalError:
            return []

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except psycopg.Error:
                pass


def prepare(url: str) -> None:
    """Migrate the database as downwatch does, then add the audit, before any replica writes."""
    backend = PostgresBackend.open(url)
    backend.close()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in AUDIT:
            conn.execute(statement.encode())


@dataclass(frozen=True)
class Lead:
    """The live lease: its holder, its epoch, and the pid in the holder's name."""

    holder: str
    epoch: int
    pid: int


def pid_of(holder: str) -> int:
    """The pid in a holder name (`host:pid:suffix`, bot/cluster.py new_holder)."""
    return int(holder.rsplit(":", 2)[1])


# ---------------------------------------------------------------- who sent a request


def socket_owner(peer: tuple[str, int] | None, server_port: int, pids: Sequence[int]) -> int | None:
    """The process among `pids` whose TCP socket is `peer` (a client of the local server on `server_port`):
    its inode from /proc/net/tcp, then the process holding that inode among its file descriptors."""
    if peer is None:
        return None
    port = peer[1]
    inode = None
    try:
        with open("/proc/net/tcp") as table:
            next(table)
            for line in table:
                fields = line.split()
                local, remote = fields[1], fields[2]
                if int(local.rsplit(":", 1)[1], 16) == port and int(remote.rsplit(":", 1)[1], 16) == server_port:
                    inode = fields[9]
                    break
    except OSError:
        return None
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == wanted:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class Sighting:
    """A message request a fake platform received: when (time.time()), from which process, and what."""

    at: float
    platform: str  # "slack" | "discord"
    op: str  # "post" | "reply" | "edit"
    pid: int | None
    target: str | None  # the parent (Slack thread_ts / the ts edited; Discord the thread or message id)


# ---------------------------------------------------------------- figures


@dataclass
class Figures:
    """What a chaos run measured (printed on one line, asserted by the test)."""

    scenario: str
    faults: str = ""
    incidents: int = 0
    epochs: int = 0  # terms begun (lease_log rows)
    failovers: list[float] = field(default_factory=list)  # seconds from each fault to the successor's term
    lost: int = 0
    lost_detail: list[str] = field(default_factory=list)
    slack_duplicates: int = 0
    discord_duplicates: int = 0
    nonce_resends: int = 0  # Discord creates answered with the first message (a resend the nonce absorbed)
    stale_commits: int = 0
    stale_by_writer_clock: int = 0  # outbox rows whose created_at (the writer's clock) is past the successor's start
    unfenced: int = 0
    stale_sends: int = 0
    stale_detail: list[str] = field(default_factory=list)
    delay_first: dict[str, float] = field(default_factory=dict)  # platform → longest phase change → first message
    delay_line: dict[str, float] = field(default_factory=dict)  # platform → longest phase change → notifying line
    delay_worst: dict[str, str] = field(default_factory=dict)  # platform → the phase change of its longest delay
    seconds: float = 0.0

    def line(self) -> str:
        def sec(values: Sequence[float]) -> str:
            return f"max {max(values):.2f}s, mean {sum(values) / len(values):.2f}s" if values else "none"

        def per(delays: dict[str, float], worst: dict[str, str] | None = None) -> str:
            return ", ".join(f"{p} {d:.2f}s" + (f" ({worst[p]})" if worst and p in worst else "")
                             for p, d in sorted(delays.items()))

        return (f"chaos {self.scenario}: {self.faults}; {self.incidents} incidents, {self.epochs} terms; "
                f"failover {sec(self.failovers)}; lost {self.lost}; duplicates slack {self.slack_duplicates} "
                f"discord {self.discord_duplicates} (nonce resends {self.nonce_resends}); stale commits "
                f"{self.stale_commits} (by the writer's clock {self.stale_by_writer_clock}, unfenced "
                f"{self.unfenced}); stale sends {self.stale_sends}; longest delay to the first message "
                f"{per(self.delay_first, self.delay_worst)}, to the thread line {per(self.delay_line)}; "
                f"{self.seconds:.0f}s")


# ---------------------------------------------------------------- the cluster


@dataclass(frozen=True)
class Change:
    cycle: int
    phase: Phase
    at: float  # time.time()


class Cluster:
    """N replicas of `downwatch run` on `url`, the provider page, and fake Slack and Discord (see the module
    docstring). `urls[i]`, when given, is replica i's own database URL (through a TcpProxy)."""

    def __init__(self, tmp: Path, url: str, *, replicas: int, urls: Sequence[str] | None = None,
                 ttl: float = 2.0, renew: float = 0.5, interval: float = 1.0) -> None:
        self.tmp = tmp
        self.url = url
        self.ttl, self.renew, self.interval = ttl, renew, interval
        self._urls = list(urls) if urls is not None else [url] * replicas
        self._count = replicas
        self.db = Database(url)
        self.provider = SimulatedProvider()
        self.slack = FakeSlack(token=SLACK_TOKEN)
        self.discord = FakeDiscord(token=DISCORD_TOKEN)
        self.replicas: list[BotProcess] = []
        self.changes: list[Change] = []
        self.sightings: list[Sighting] = []
        self.on_send: Callable[[Sighting], None] | None = None  # a fault to inject as a message arrives
        self.events: list[tuple[float, str]] = []  # faults, as the test notes them (for `timeline`)
        self.started = time.time()

    async def __aenter__(self) -> Cluster:
        await self.provider.__aenter__()
        await self.slack.__aenter__()
        await self.discord.__aenter__()
        self.slack.intercept = self._slack_seen
        self.discord.intercept = self._discord_seen
        prepare(self.url)
        for index in range(self._count):
            folder = self.tmp / f"replica{index}"
            folder.mkdir()
            config = folder / "downwatch.toml"
            config.write_text(self._config())
            env = {**ENV, "DOWNWATCH_DATABASE_URL": self._urls[index],
                   "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SLACK_SECRET,
                   "SLACK_API_URL": self.slack.api_url,
                   "DISCORD_BOT_TOKEN": DISCORD_TOKEN, "DISCORD_API_URL": self.discord.api_url}
            self.replicas.append(BotProcess(config=config, env=env, cwd=folder))
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            for bot in self.replicas:
                if bot.proc is not None and bot.alive:
                    os.kill(bot.pid, signal.SIGCONT)
                    bot.kill()
            for bot in self.replicas:
                if bot.proc is not None:
                    await bot.dead()
        finally:
            self.db.close()
            await self.discord.__aexit__(*exc)
            await self.slack.__aexit__(*exc)
            await self.provider.__aexit__(*exc)

    def _config(self) -> str:
        return f"""
console = false
failures_before_alert = 1
successes_before_recovery = 1
flap_threshold = 1000  # outages here come and go every few seconds, on purpose

[cluster]
ttl = {self.ttl:g}
renew = {self.renew:g}

[slack]
mode = "http"
channel = "{SLACK_CHANNEL}"
host = "127.0.0.1"
port = {closed_port()}

[discord]
channel = "{DISCORD_CHANNEL}"

[[monitors]]
name = "{MONITOR}"
type = "statuspage"
url = "{self.provider.url}"
interval = {self.interval:g}
timeout = {self.interval / 2:g}
"""

    # ------------------------------------------------------------ the platforms' side

    def _pids(self) -> list[int]:
        return [bot.pid for bot in self.replicas if bot.proc is not None and bot.alive]

    def _seen(self, request: web.Request, platform: str, op: str, target: str | None, port: int) -> None:
        pid = socket_owner(request.transport.get_extra_info("peername") if request.transport else None, port,
                           self._pids())
        sighting = Sighting(at=time.time(), platform=platform, op=op, pid=pid, target=target)
        self.sightings.append(sighting)
        if self.on_send is not None:
            self.on_send(sighting)

    async def _slack_seen(self, request: web.Request, call: Call) -> web.StreamResponse | None:
        if call.method == "chat.postMessage":
            thread = call.params.get("thread_ts")
            self._seen(request, "slack", "reply" if thread else "post", thread, self.slack.port)
        elif call.method == "chat.update":
            self._seen(request, "slack", "edit", call.params.get("ts"), self.slack.port)
        return None

    async def _discord_seen(self, request: web.Request, recorded: Recorded) -> web.StreamResponse | None:
        parts = recorded.path.strip("/").split("/")
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "messages" and recorded.method == "POST":
            thread = None if parts[1] == DISCORD_CHANNEL else parts[1]
            self._seen(request, "discord", "reply" if thread else "post", thread, self.discord.port)
        elif parts[0] == "channels" and len(parts) == 4 and parts[2] == "messages" and recorded.method == "PATCH":
            self._seen(request, "discord", "edit", parts[3], self.discord.port)
        return None

    # ------------------------------------------------------------ the replicas

    async def start(self, index: int) -> None:
        await self.replicas[index].start()

    async def start_all(self, *, first_leads: bool = True) -> None:
        """Start every replica; with `first_leads`, replica 0 takes the lease before the others start."""
        await self.start(0)
        if first_leads:
            await until(lambda: (lead := self.leader()) is not None and lead.pid == self.replicas[0].pid,
                        timeout=30, what="replica 0 to lead")
        for index in range(1, self._count):
            await self.start(index)
        await until(lambda: self.members_alive() >= self._count, timeout=30, what="every replica to beat")
        await until(lambda: bool(self.db.rows("SELECT 1 FROM monitors WHERE state IS NOT NULL")),
                    timeout=15, what="the first poll")

    def members_alive(self) -> int:
        pids = set(self._pids())
        rows = self.db.rows("SELECT holder FROM members WHERE seen_at > now() - make_interval(secs => %s)",
                            [self.ttl])
        return sum(1 for (holder,) in rows if pid_of(holder) in pids)

    def seen_at(self, pid: int) -> datetime | None:
        """When the process `pid` last beat (PostgreSQL's clock)."""
        rows = self.db.rows("SELECT max(seen_at) FROM members WHERE pid = %s", [pid])
        return rows[0][0] if rows else None

    async def beats_again(self, pid: int, *, after: float, timeout: float = 20.0) -> None:
        """Wait until process `pid` has beaten a renewal after `after` (time.time()): woken, or its path healed."""
        await until(lambda: (seen := self.seen_at(pid)) is not None and seen.timestamp() > after + self.renew,
                    timeout=timeout, what=f"process {pid} to beat again")

    def leader(self) -> Lead | None:
        """The live lease's holder, when it is one of our running replicas."""
        rows = self.db.rows("SELECT holder, epoch FROM lease WHERE name = 'leader' AND expires_at > now()")
        if not rows:
            return None
        holder, epoch = rows[0]
        pid = pid_of(holder)
        return Lead(holder, int(epoch), pid) if pid in self._pids() else None

    def replica(self, pid: int) -> BotProcess:
        return next(bot for bot in self.replicas if bot.proc is not None and bot.pid == pid)

    def epoch(self) -> int:
        rows = self.db.rows("SELECT coalesce(max(epoch), 0) FROM lease_log")
        return int(rows[0][0]) if rows else 0

    def acquired_after(self, epoch: int) -> tuple[int, float] | None:
        """The first term after `epoch`: its epoch and when it began (time.time() scale), None while none."""
        rows = self.db.rows("SELECT epoch, extract(epoch FROM acquired_at) FROM lease_log WHERE epoch > %s "
                            "ORDER BY epoch LIMIT 1", [epoch])
        return (int(rows[0][0]), float(rows[0][1])) if rows else None

    async def failover(self, epoch: int, since: float, *, timeout: float = 30.0) -> float:
        """Wait for a term after `epoch`; seconds from `since` (time.time()) to its start."""
        await until(lambda: self.acquired_after(epoch) is not None, timeout=timeout,
                    what=f"a term after epoch {epoch}")
        found = self.acquired_after(epoch)
        assert found is not None
        return found[1] - since

    # ------------------------------------------------------------ the provider

    def note(self, what: str) -> None:
        self.events.append((time.time(), what))

    def change(self, cycle: int, phase: Phase) -> None:
        self.provider.set_phase(phase)
        self.changes.append(Change(cycle, phase, time.time()))

    def pending(self) -> int:
        rows = self.db.rows("SELECT count(*) FROM outbox WHERE state = 'pending'")
        return int(rows[0][0]) if rows else -1

    def crashed(self) -> list[str]:
        """Replicas that ended by themselves: neither killed (-9) nor stopped cleanly (0)."""
        return [f"{bot.log.parent.name} exited with {bot.proc.returncode}" for bot in self.replicas
                if bot.proc is not None and bot.proc.returncode not in (None, 0, -signal.SIGKILL)]

    def _decided(self, cycle: int, phase: Phase) -> bool:
        assert not self.crashed(), self.crashed()
        incidents = self.db.rows("SELECT id, resolved_at FROM incidents ORDER BY started_at")
        assert len(incidents) <= cycle, f"outage {cycle} became incident {len(incidents)}: announced twice"
        if len(incidents) != cycle:
            return False
        latest, resolved = incidents[-1]
        if (resolved is not None) != (phase is Phase.RECOVERED):
            return False
        return bool(self.db.rows("SELECT 1 FROM outbox WHERE incident_id = %s AND alert::json->>'kind' = %s",
                                 [latest, KIND[phase].value]))

    async def settled(self, cycle: int, phase: Phase, *, timeout: float = 30.0) -> None:
        """The cluster has seen the provider's current phase, decided it and delivered everything."""
        await until(lambda: self._decided(cycle, phase) and self.pending() == 0, timeout=timeout,
                    what=f"outage {cycle} {phase.value}: decided and delivered")

    # ------------------------------------------------------------ counting

    def verify(self, figures: Figures, *, cycles: int) -> Figures:
        """Count what the run lost, doubled and wrote or sent stale (see the module docstring)."""
        db = self.db
        figures.seconds = time.time() - self.started
        terms = db.strict("SELECT epoch, holder, extract(epoch FROM acquired_at) FROM lease_log ORDER BY epoch")
        figures.epochs = len(terms)
        incidents = [i for (i,) in db.strict("SELECT id FROM incidents ORDER BY started_at")]
        figures.incidents = len(incidents)
        rows = db.strict("SELECT id, incident_id, platform, op, alert, mention, state FROM outbox ORDER BY id")
        states = Counter(state for *_, state in rows)
        unsettled = {s: n for s, n in states.items() if s not in ("sent", "superseded")}
        if unsettled:
            figures.lost += sum(unsettled.values())
            figures.lost_detail.append(f"outbox rows not delivered: {unsettled}")

        # each phase change became its alert, in its incident, in order
        alerts: dict[str, list[Alert]] = {}
        for _, incident, platform, _, text, _, _ in rows:
            if platform == "slack":  # one alert is one row per op and platform: take each once
                alert = queued_alert(text)
                if not alerts.setdefault(incident, []) or alerts[incident][-1] != alert:
                    alerts[incident].append(alert)
        if len(incidents) != cycles:
            figures.lost_detail.append(f"{len(incidents)} incidents for {cycles} outages")
        decided: dict[tuple[int, Phase], Alert] = {}
        for change in self.changes:
            if change.cycle > len(incidents):
                figures.lost += 2
                figures.lost_detail.append(f"outage {change.cycle} {change.phase.value}: no incident")
                continue
            found = [a for a in alerts.get(incidents[change.cycle - 1], [])
                     if a.kind is KIND[change.phase] and a.at.timestamp() >= change.at - 0.05]
            if not found:
                figures.lost += 2  # on both platforms
                figures.lost_detail.append(f"outage {change.cycle} {change.phase.value}: never decided")
                continue
            decided[(change.cycle, change.phase)] = found[0]
        for incident, kinds in ((i, [a.kind for a in alerts.get(i, [])]) for i in incidents):
            if not kinds or kinds[0] is not AlertKind.OPENED or kinds[-1] is not AlertKind.RESOLVED:
                figures.lost_detail.append(f"incident {incident}: alerts out of order {kinds}")
                figures.lost += 1

        refs = {(incident, platform): ref for incident, platform, ref in
                db.strict("SELECT incident_id, platform, ref FROM messages")}
        self._count_slack(figures, incidents, rows, refs, alerts)
        self._count_discord(figures, incidents, rows, refs, alerts)
        self._count_stale(figures, terms)
        self._delays(figures, decided, incidents, refs)
        return figures

    def _count_slack(self, figures: Figures, incidents: list[str], rows: list[tuple[Any, ...]],
                     refs: dict[tuple[str, str], str], alerts: dict[str, list[Alert]]) -> None:
        messages = self.slack.messages
        parents = [ts for (_, ts), m in messages.items() if "thread_ts" not in m]
        ours = {refs.get((i, "slack")) for i in incidents}
        orphans = [ts for ts in parents if ts not in ours]
        figures.slack_duplicates += len(orphans)
        for ts in orphans:
            if any(m.get("thread_ts") == ts for m in messages.values()):
                figures.lost_detail.append(f"slack: a thread line under a duplicate parent {ts}")
                figures.lost += 1
        for incident in incidents:
            parent = refs.get((incident, "slack"))
            if parent is None or (SLACK_CHANNEL, parent) not in messages:
                figures.lost += 1
                figures.lost_detail.append(f"slack: incident {incident} has no message")
                continue
            if not str(messages[(SLACK_CHANNEL, parent)]["text"]).startswith(f"✅ {MONITOR} — resolved"):
                figures.lost += 1
                figures.lost_detail.append(f"slack: incident {incident}'s message does not show its recovery")
            expected = [render_change(queued_alert(text), mention=mention)[0]
                        for _, i, platform, op, text, mention, _ in rows
                        if i == incident and platform == "slack" and op == "reply"]
            actual = [str(m["text"]) for (_, ts), m in sorted(messages.items(), key=lambda kv: float(kv[0][1]))
                      if m.get("thread_ts") == parent]
            self._compare(figures, "slack", incident, expected, actual)

    def _count_discord(self, figures: Figures, incidents: list[str], rows: list[tuple[Any, ...]],
                       refs: dict[tuple[str, str], str], alerts: dict[str, list[Alert]]) -> None:
        fake = self.discord
        figures.nonce_resends += fake.nonce_hits
        created = Counter(str(m.get("nonce")) for m in fake.messages.values() if m.get("nonce") is not None)
        figures.discord_duplicates += sum(n - 1 for n in created.values())
        parents = [mid for mid in fake.messages if fake.channels.get(mid) == DISCORD_CHANNEL]
        ours = {refs.get((i, "discord")) for i in incidents}
        orphans = [mid for mid in parents if mid not in ours]
        figures.discord_duplicates += len(orphans)
        for incident in incidents:
            parent = refs.get((incident, "discord"))
            if parent is None or parent not in fake.messages:
                figures.lost += 1
                figures.lost_detail.append(f"discord: incident {incident} has no message")
                continue
            resolved = next((a for a in reversed(alerts.get(incident, [])) if a.kind is AlertKind.RESOLVED), None)
            embeds = fake.messages[parent].get("embeds") or [{}]
            if resolved is None or embeds[0].get("title") != alert_title(resolved):
                figures.lost += 1
                figures.lost_detail.append(f"discord: incident {incident}'s message does not show its recovery")
            expected = [nonce(queued_alert(text), "reply") for _, i, platform, op, text, _, _ in rows
                        if i == incident and platform == "discord" and op == "reply"]
            actual = [str(fake.messages[mid].get("nonce")) for mid in sorted(fake.messages, key=int)
                      if fake.channels.get(mid) == parent]
            self._compare(figures, "discord", incident, expected, actual)

    @staticmethod
    def _compare(figures: Figures, platform: str, incident: str, expected: list[str], actual: list[str]) -> None:
        """A thread's lines against the outbox's: the missing ones are lost, the extra ones duplicates; what
        arrived, each line once, must be in the outbox's order."""
        missing = Counter(expected) - Counter(actual)
        extra = Counter(actual) - Counter(expected)
        if missing:
            figures.lost += sum(missing.values())
            figures.lost_detail.append(f"{platform}: incident {incident} misses thread lines {list(missing)}")
        if platform == "slack":
            figures.slack_duplicates += sum(extra.values())
        else:
            figures.discord_duplicates += sum(extra.values())
        once = list(dict.fromkeys(actual))
        if [line for line in once if line in expected] != [line for line in dict.fromkeys(expected) if line in once]:
            figures.lost += 1
            figures.lost_detail.append(f"{platform}: incident {incident}'s thread is out of order")

    def _count_stale(self, figures: Figures, terms: list[tuple[Any, ...]]) -> None:
        db = self.db
        stale = db.strict(
            "SELECT w.tbl, w.op, w.epoch, w.at, n.acquired_at FROM chaos_writes w JOIN lease_log n "
            "ON n.epoch = w.epoch + 1 WHERE w.at >= n.acquired_at ORDER BY w.id")
        figures.stale_commits += len(stale)
        figures.stale_detail += [f"{t} {op} with epoch {e} at {at:%H:%M:%S.%f} (epoch {e + 1} from "
                                 f"{begun:%H:%M:%S.%f})" for t, op, e, at, begun in stale[:5]]
        unfenced = db.strict("SELECT tbl, op, count(*) FROM chaos_writes WHERE epoch IS NULL GROUP BY tbl, op")
        figures.unfenced += sum(int(n) for *_, n in unfenced)
        if unfenced:
            figures.stale_detail.append(f"unfenced writes: {unfenced}")
        figures.stale_by_writer_clock += int(db.strict(
            "SELECT count(*) FROM outbox o JOIN lease_log n ON n.epoch = o.epoch + 1 "
            "WHERE o.created_at >= extract(epoch FROM n.acquired_at)")[0][0])
        # a send is stale when it reached the platform after a term its sender does not hold had begun
        starts = [(float(at), pid_of(holder)) for _, holder, at in terms]
        for s in self.sightings:
            current = [pid for at, pid in starts if at <= s.at]
            if current and s.pid is not None and s.pid != current[-1]:
                figures.stale_sends += 1
                figures.stale_detail.append(f"{s.platform} {s.op} from pid {s.pid} at {s.at:.3f}, "
                                            f"after pid {current[-1]}'s term began")
            elif s.pid is None:
                figures.stale_detail.append(f"{s.platform} {s.op} at {s.at:.3f} from an unknown process")

    def timeline(self) -> str:
        """The phase changes and the messages seen, in time order (for a failing run's output)."""
        events = [(c.at, f"provider {c.cycle} {c.phase.value}") for c in self.changes] + self.events
        events += [(s.at, f"{s.platform} {s.op} from {s.pid}") for s in self.sightings]
        return "\n".join(f"{at - self.started:8.3f} {what}" for at, what in sorted(events))

    def _delays(self, figures: Figures, decided: dict[tuple[int, Phase], Alert], incidents: list[str],
                refs: dict[tuple[str, str], str]) -> None:
        """Per platform, the longest time from a phase change to its alert's first message (the post or the
        parent's edit) and to the line that notifies (the post, or the thread line)."""
        changes = sorted(self.changes, key=lambda c: c.at)
        for platform in ("slack", "discord"):
            seen = [s for s in self.sightings if s.platform == platform]
            for index, change in enumerate(changes):
                if (change.cycle, change.phase) not in decided:
                    continue
                end = changes[index + 1].at if index + 1 < len(changes) else float("inf")
                window = [s for s in seen if change.at <= s.at < end]
                notify = "post" if change.phase is Phase.DEGRADED else "reply"
                first = [s.at for s in window if s.op in ("post", "edit")]
                line = [s.at for s in window if s.op == notify]
                if not first or not line:
                    continue  # counted as lost above
                if first[0] - change.at > figures.delay_first.get(platform, 0.0):
                    figures.delay_first[platform] = first[0] - change.at
                    figures.delay_worst[platform] = f"outage {change.cycle} {change.phase.value}"
                figures.delay_line[platform] = max(figures.delay_line.get(platform, 0.0), line[0] - change.at)


def bound(cluster: Cluster) -> float:
    """The longest an alert may take: the lease's TTL, a renewal, one poll interval (README), plus a second of
    scheduling on a busy machine."""
    return cluster.ttl + cluster.renew + cluster.interval + 1.0
