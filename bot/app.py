"""The composition root: the one place that names concrete adapters and builds and closes everything."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from functools import partial

import httpx

from adapters import PLATFORMS
from bot import commands, runtime, wording
from bot.chat import ChatAdapter, Claiming, CommandHandler
from bot.checks import KINDS, run_check
from bot.checks.client import make_client
from bot.checks.control import reachable
from bot.clock import Clock, SystemClock
from bot.cluster import ClusterConflict, Lease, Membership, Role, fingerprint, new_holder
from bot.config import Config, Monitor
from bot.digest import DigestJob
from bot.maintenance import Window
from bot.model import Alert, AlertKind, Change, ChangeKind, Command, Reply, Status
from bot.operate import Operations, Snapshots
from bot.outbox import Sender, send_direct
from bot.platform import NamesFn, Platform
from bot.quiet import Quiet
from bot.reachability import Reachability
from bot.regions import Quorum, RegionAgent, regional
from bot.schedule import build_scheduler
from bot.store import Store, Unavailable
from bot.store.postgres import BadDatabase, PostgresBackend
from bot.watch import NetworkNotices, Watcher
from bot.web.activity import Activity, Health
from bot.web.server import Mountable, StatusSite, serve
from bot.wording import plural

log = logging.getLogger("downwatch")
PRUNE_PAUSE = 0.01  # seconds between two retention transactions
REFUSED = (BadDatabase, ClusterConflict)  # what `run` raises when retrying cannot help: the CLI exits 2
LOST_AFTER = 120.0  # seconds without the database before each replica says so in chat (once)
RETRY_DATABASE = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds between tries while PostgreSQL does not answer at start


async def open_store(database: str, *, stop: asyncio.Event, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                     ) -> Store | None:
    """The store; while PostgreSQL does not answer, said once per try and tried again (None: stopped first).
    A wrong URL, credentials or schema raise BadDatabase (the CLI exits 2)."""
    tries = 0
    while True:
        try:
            return Store.open(database)
        except Unavailable as exc:
            wait = RETRY_DATABASE[min(tries, len(RETRY_DATABASE) - 1)]
            log.error("database: %s; trying again in %gs", exc, wait)
            tries += 1
        waiter = asyncio.ensure_future(sleep(wait))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        if stop.is_set():
            return None


async def _finish(task: asyncio.Future[None]) -> None:
    """Wait for a background task that ends with `stop` (cancel it if it does not)."""
    try:
        await asyncio.wait_for(task, timeout=5.0)
    except TimeoutError:
        task.cancel()


class Roles:
    """Whether this process runs the engine, the sender and the jobs now. A single process (SQLite) always
    does; in a cluster only the lease's holder (bot/cluster.py)."""

    def __init__(self, membership: Membership | None = None) -> None:
        self._membership = membership

    def leads(self) -> bool:
        return self._membership is None or self._membership.role is Role.LEADER

    def describe(self) -> str:
        """"leader", "follower" or "unknown" in a cluster, "" for a single process (/healthz, /metrics)."""
        return "" if self._membership is None else self._membership.role.value

    async def may_send(self) -> bool:
        """Right before a send: still the leader, by the database now (not only by our last beat)."""
        return self._membership is None or await self._membership.confirm()


def build_adapters(
    config: Config, *, platforms: Sequence[Platform], clock: Clock, names: NamesFn | None = None
) -> dict[str, ChatAdapter]:
    """The chat adapters of the platforms the config turns on (each imports its client library only here)."""
    return {p.name: p.build(config.platforms[p.name], clock=clock, names=names)
            for p in platforms if p.name in config.platforms}


def command_handler(
    store: Store, clock: Clock, alternatives: Mapping[str, Sequence[str]] = commands.NO_ALTERNATIVES,
    operations: Operations | None = None, planned: Sequence[Window] = (),
) -> CommandHandler:
    """The async handler every chat adapter calls with a parsed Command (`alternatives`: each monitor's, from
    the config). Commands that act (ack, mute, unmute) go to `operations`; the rest are answered from the
    history (`planned`: the config's maintenance windows)."""

    async def handle(command: Command) -> Reply:
        if operations is not None and command.kind in commands.ACTING:
            return operations.command(command)
        answer = partial(commands.handle, command, history=store, now=clock.now(), alternatives=alternatives,
                         planned=planned)
        if store.sql.shared:  # PostgreSQL: tens of ms of round trips, off the loop that keeps the checks' time
            return await asyncio.to_thread(answer)
        return answer()  # SQLite: a local file read in a ms or two, and its connection belongs to this thread

    return handle


async def run(
    config: Config,
    *,
    stop: asyncio.Event,
    clock: Clock | None = None,
    adapters: Mapping[str, ChatAdapter] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    platforms: Sequence[Platform] = PLATFORMS,
    on_web: Callable[[str], None] | None = None,
) -> None:
    """Run the bot until `stop` is set, then close everything in reverse order. `on_web` is told the web
    server's URL once it listens (the [web] table turns it on)."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        opened = await open_store(config.database, stop=stop)
        if opened is None:
            return
        store = opened
        stack.push_async_callback(store.aclose)
        lease: Lease | None = None
        if isinstance(store.sql, PostgresBackend):  # several processes as one: who leads (bot/cluster.py)
            host, pid = socket.gethostname(), os.getpid()
            lease = Lease(config.database, holder=new_holder(host, pid),
                          cluster=fingerprint((m.name, m.kind) for m in config.monitors), host=host, pid=pid,
                          region=config.cluster.region, name=config.cluster.name, ttl=config.cluster.ttl)
            stack.callback(lease.close)
            lease.check_cluster()  # ClusterConflict: another configuration already runs on this database
        watched = [(m.name, m.kind) for m in config.monitors]
        if lease is None:
            store.sync_monitors(watched, clock.now())
        else:  # in a cluster the leader's config says which monitors are watched (`on_role`)
            store.add_monitors(watched, clock.now())
        client = await stack.enter_async_context(make_client(transport=transport))
        async def names() -> list[str]:  # autocomplete: monitors, then components
            return store.monitor_names() + sorted({v.name for v in store.component_views()})

        chat = (dict(adapters) if adapters is not None
                else build_adapters(config, platforms=platforms, clock=clock, names=names))
        membership: Membership | None = None
        if lease is not None:
            membership = Membership(lease=lease, clock=clock, on_change=lambda role, view: on_role(role),
                                    on_lost=lambda: on_lost(), on_found=lambda: log.info("database: reachable again"),
                                    renew=config.cluster.renew, lost_after=LOST_AFTER)
            store.sql.fence = membership.term  # type: ignore[attr-defined]  # (a PostgresBackend: checked above)
            for adapter in chat.values():
                if isinstance(adapter, Claiming):  # one replica answers an interaction every replica received
                    adapter.claim_with(lambda key: asyncio.to_thread(lease.claim, key))  # type: ignore[union-attr]
        roles = Roles(membership)
        activity = Activity(clock=clock)
        sender = Sender(store=store, adapters=chat, clock=clock, may_send=roles.may_send, active=roles.leads,
                        on_result=activity.delivered)
        control_url = config.control_url
        control = (lambda: reachable(client, control_url)) if control_url else None
        sight = Reachability(monitors=(m.name for m in config.monitors), clock=clock, control=control,
                             notify=NetworkNotices(store=store, monitors=config.monitors, on_commit=sender.wake))
        # operations (issue 12): the leader's states in memory; a follower's as the leader last wrote them
        snapshots = Snapshots(monitors=config.monitors,
                              states=lambda: watcher.states if roles.leads() else store.load_states(),
                              regions=lambda name: watcher.verdict(name) if roles.leads() else None)
        quiet = Quiet(store=store, monitors=config.monitors, windows=config.maintenance, snapshot=snapshots,
                      on_commit=sender.wake)
        quorum = None
        if config.cluster.regions:  # HTTP/TCP monitors are decided by the regions' quorum (bot/regions.py)
            quorum = Quorum(regions=config.cluster.regions, confirm=config.cluster.confirm_regions)
        watcher = Watcher(monitors=config.monitors, store=store, client=client, clock=clock, on_commit=sender.wake,
                          sight=sight, check=activity.wrap_check(run_check), quiet=quiet, leads=roles.leads,
                          quorum=quorum)
        poll: Callable[[Monitor], Awaitable[object]] = watcher.poll
        if config.cluster.region:  # this process also probes as its region; the leader decides from all of them
            agent = RegionAgent(region=config.cluster.region, monitors=[m for m in config.monitors if regional(m)],
                                readings=store, client=client, clock=clock, check=activity.wrap_check(run_check),
                                sight=Reachability(monitors=(m.name for m in config.monitors), clock=clock,
                                                   control=control, notify=lambda alert: None))

            async def probe_and_decide(monitor: Monitor) -> object:
                if regional(monitor):
                    await agent.poll(monitor)
                return await watcher.poll(monitor)

            poll = probe_and_decide

        operations = Operations(store=store, clock=clock, monitors=config.monitors, quiet=quiet, snapshot=snapshots,
                                on_commit=sender.wake)
        if roles.leads():
            quiet.tick(clock.now())  # mutes and windows that ended while the bot was down: catch up now

        async def quiet_tick() -> None:
            if roles.leads():
                quiet.tick(clock.now())

        handler = command_handler(store, clock, {m.name: m.alternatives for m in config.monitors},
                                  operations=operations, planned=config.maintenance)
        web_app = None
        shared: list[str] = []  # paths chat adapters answer on the web server (Slack's HTTP mode)
        if config.web is not None:  # built before the adapters start, so that they can answer on its port
            health = Health(store=store, clock=clock, activity=activity, monitors=config.monitors,
                            scheduler_running=lambda: bool(scheduler.running),  # asked once serving, below
                            role=roles.describe)
            site = StatusSite(store=store, clock=clock, monitors=config.monitors, public=config.web.public,
                              activity=activity, health=health,
                              probe_kinds=frozenset(k.type for k in KINDS if k.records_probes),
                              refresh=config.web.refresh, planned=config.maintenance)
            web_app = site.application()
            shared = [path for adapter in chat.values() if isinstance(adapter, Mountable)
                      and (path := adapter.mount(web_app)) is not None]
        for name, adapter in chat.items():
            try:
                await adapter.start(handler, operations)
            except Exception as exc:  # one platform failing to connect never blocks the others
                log.error("%s: could not start (%s); its alerts stay queued", name, type(exc).__name__)
            stack.push_async_callback(adapter.stop)

        async def housekeeping() -> None:
            if not roles.leads():
                return
            if lease is not None:  # claims answered long ago, members gone for a day
                await asyncio.to_thread(lease.prune_claims)
                await asyncio.to_thread(lease.prune_members)
            deleted = 0
            for rows in store.prune_steps(clock.now(), retention_days=config.retention_days,
                                          rollup_days=config.rollup_days):
                deleted += rows
                await asyncio.sleep(PRUNE_PAUSE)  # let checks commit between retention steps
            if deleted:
                log.info("retention: deleted %d old rows", deleted)

        digest = None
        if config.digest is not None:  # the weekly digest (issue 12): one missed while down is queued first
            digest = DigestJob(config=config.digest, store=store, clock=clock, windows=config.maintenance,
                               on_commit=sender.wake)
            if roles.leads():
                digest.start()

        async def digest_tick() -> None:
            if digest is not None and roles.leads():
                await digest.tick()

        async def on_role(role: Role) -> None:
            """This process became the leader (a new term: the previous leader moved the state on) or stopped
            being it (the engine, the jobs and the sender pause by themselves: `roles.leads()`)."""
            if role is not Role.LEADER:
                return
            if store.active_monitors() != set(watched):  # a changed config rolling out: this one's monitors now
                store.sync_monitors(watched, clock.now())
                log.info("cluster: now watching this process's %s", plural(len(watched), "monitor"))
            watcher.reload()
            quiet.tick(clock.now())
            if digest is not None:
                digest.start()
            sender.wake()

        async def on_lost() -> None:
            """No answer from the database for 2 minutes: said once, straight to the channels (the outbox is in
            the database). Every replica says it: each one is blind in its own way."""
            assert lease is not None
            now = clock.now()
            alert = Alert(kind=AlertKind.DATABASE_LOST, incident_id=f"database-lost:{lease.holder}:{int(now.timestamp())}",
                          monitor="downwatch", severity=Status.UNKNOWN, at=now, started_at=now,
                          changes=(Change(ChangeKind.TEXT, detail=wording.database_lost_detail(
                              holder=lease.holder, silent=timedelta(seconds=LOST_AFTER))),))
            await send_direct(chat, alert, [r for m in config.monitors for r in m.routes])

        scheduler = build_scheduler(monitors=config.monitors, poll=activity.wrap_poll(poll),
                                    housekeeping=housekeeping,
                                    start=clock.now(), digest=digest_tick if digest is not None else None,
                                    quiet=quiet_tick, on_lag=activity.late, checkpoint=store.checkpoint)
        if membership is not None and lease is not None:
            beating = asyncio.ensure_future(membership.run(stop))
            stack.callback(lease.release)  # after the engine and the sender stopped: a follower takes over now
            stack.push_async_callback(_finish, beating)
        runtime.settle()  # everything built so far lives for the whole run
        stack.callback(runtime.unsettle)
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)
        if config.web is not None and web_app is not None:  # after the scheduler: closed before it, the store
            url = await stack.enter_async_context(serve(web_app, host=config.web.host, port=config.web.port))
            log.info("web: status page at %s", url)
            for path in shared:
                log.info("web: chat requests answered at %s%s", url, path)
            if on_web is not None:
                on_web(url)
        log.info("watching %s; alerts to %s", plural(len(config.monitors), "monitor"), ", ".join(chat) or "nowhere")
        await sender.run(stop)
        await stop.wait()  # with no platform the sender returns at once: the bot still watches (and serves)
