"""The composition root: the one place that names concrete adapters and builds and closes everything."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack

import httpx

from adapters import PLATFORMS
from bot import commands, runtime
from bot.chat import ChatAdapter, CommandHandler
from bot.checks import KINDS, run_check
from bot.checks.client import make_client
from bot.checks.control import reachable
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.digest import DigestJob
from bot.maintenance import Window
from bot.model import Command, Reply
from bot.operate import Operations, Snapshots
from bot.outbox import Sender
from bot.platform import NamesFn, Platform
from bot.quiet import Quiet
from bot.reachability import Reachability
from bot.schedule import build_scheduler
from bot.store import Store
from bot.watch import NetworkNotices, Watcher
from bot.web.activity import Activity, Health
from bot.web.server import Mountable, StatusSite, serve
from bot.wording import plural

log = logging.getLogger("downwatch")
PRUNE_PAUSE = 0.01  # seconds between two retention transactions


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
        return commands.handle(command, history=store, now=clock.now(), alternatives=alternatives, planned=planned)

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
        store = Store.open(config.database)
        stack.callback(store.close)
        store.sync_monitors(((m.name, m.kind) for m in config.monitors), clock.now())
        client = await stack.enter_async_context(make_client(transport=transport))
        async def names() -> list[str]:  # autocomplete: monitors, then components
            return store.monitor_names() + sorted({v.name for v in store.component_views()})

        chat = (dict(adapters) if adapters is not None
                else build_adapters(config, platforms=platforms, clock=clock, names=names))
        sender = Sender(store=store, adapters=chat, clock=clock)
        control_url = config.control_url
        control = (lambda: reachable(client, control_url)) if control_url else None
        sight = Reachability(monitors=(m.name for m in config.monitors), clock=clock, control=control,
                             notify=NetworkNotices(store=store, monitors=config.monitors, on_commit=sender.wake))
        activity = Activity(clock=clock)
        snapshots = Snapshots(monitors=config.monitors, states=lambda: watcher.states)  # operations (issue 12)
        quiet = Quiet(store=store, monitors=config.monitors, windows=config.maintenance, snapshot=snapshots,
                      on_commit=sender.wake)
        watcher = Watcher(monitors=config.monitors, store=store, client=client, clock=clock, on_commit=sender.wake,
                          sight=sight, check=activity.wrap_check(run_check), quiet=quiet)
        operations = Operations(store=store, clock=clock, monitors=config.monitors, quiet=quiet, snapshot=snapshots,
                                on_commit=sender.wake)
        quiet.tick(clock.now())  # mutes and windows that ended while the bot was down: catch up now

        async def quiet_tick() -> None:
            quiet.tick(clock.now())

        handler = command_handler(store, clock, {m.name: m.alternatives for m in config.monitors},
                                  operations=operations, planned=config.maintenance)
        web_app = None
        shared: list[str] = []  # paths chat adapters answer on the web server (Slack's HTTP mode)
        if config.web is not None:  # built before the adapters start, so that they can answer on its port
            health = Health(store=store, clock=clock, activity=activity, monitors=config.monitors,
                            scheduler_running=lambda: bool(scheduler.running))  # asked once serving, below
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
            digest.start()
        scheduler = build_scheduler(monitors=config.monitors, poll=activity.wrap_poll(watcher.poll),
                                    housekeeping=housekeeping,
                                    start=clock.now(), digest=digest.tick if digest is not None else None,
                                    quiet=quiet_tick)
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
