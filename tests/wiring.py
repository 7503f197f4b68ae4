"""The store + watcher + sender wiring the composition root (bot/app.py) builds, for tests: one database (an
SQLite file or a PostgreSQL URL: tests/conftest.py `database` gives each), one fake clock, the real Watcher and
Sender. Tests that drive the pipeline build it here instead of by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.chat import ChatAdapter
from bot.checks.client import ProbeClient, make_client
from bot.clock import FakeClock
from bot.config import DATABASE_ENV, Monitor
from bot.maintenance import Window
from bot.operate import Operations, Snapshots
from bot.outbox import Sender
from bot.quiet import Quiet
from bot.reachability import Control, Reachability
from bot.store import Store
from bot.watch import NetworkNotices, Watcher


@dataclass
class Wired:
    clock: FakeClock
    store: Store
    watcher: Watcher
    sender: Sender
    ops: Operations  # what a button, an acting command or `downwatch mute` calls

    def parts(self) -> tuple[Store, Watcher, Sender]:
        return self.store, self.watcher, self.sender

    async def drain(self, platform: str, *, passes: int = 50) -> None:
        """Deliver until `platform`'s outbox is empty, moving the fake clock to each next due row (backoff,
        pacing, Retry-After) instead of waiting."""
        for _ in range(passes):
            wait = await self.sender.next_due(platform)
            if wait is None:
                return
            self.clock.advance(max(wait, 1.0))
            await self.sender.deliver_all()
        raise AssertionError(f"still pending on {platform}: {self.store.pending(platform)}")


def database_setting(database: str) -> tuple[str, dict[str, str]]:
    """How a config names `database`: (its TOML line, the environment). An SQLite file goes in the TOML; a
    PostgreSQL URL carries a password, which never does: it goes in DOWNWATCH_DATABASE_URL."""
    if database.startswith(("postgresql://", "postgres://")):
        return "", {DATABASE_ENV: database}
    return f'database = "{database}"\n', {}


def open_store(path: Path | str, monitors: Sequence[Monitor], clock: FakeClock) -> Store:
    """A store on a real SQLite file (or ":memory:", or a PostgreSQL URL) with these monitors registered, as
    `run` starts."""
    store = Store.open(str(path))
    store.sync_monitors([(m.name, str(m.kind)) for m in monitors], clock.now())
    return store


def wire(
    path: Path | str,
    monitors: Sequence[Monitor],
    *,
    client: ProbeClient | None = None,
    clock: FakeClock | None = None,
    adapters: Mapping[str, ChatAdapter] | None = None,
    control: Control | None = None,
    windows: Sequence[Window] = (),
    **watcher: Any,
) -> Wired:
    """Store, watcher, operations and sender over one database, as the composition root wires them.
    `control` is the control target's probe; `windows` the maintenance windows; `watcher` passes the Watcher's
    own options (check, gate, log). The sender's wake-up is left to the test, which calls `deliver_all` or
    `drain` when it wants delivery."""
    clock = clock or FakeClock()
    store = open_store(path, monitors, clock)
    sender = Sender(store=store, adapters=dict(adapters or {}), clock=clock)
    if control is not None:
        watcher["sight"] = Reachability(
            monitors=[m.name for m in monitors], clock=clock, control=control,
            notify=NetworkNotices(store=store, monitors=monitors, on_commit=lambda: None))
    snapshots = Snapshots(monitors=monitors, states=lambda: built.states)
    quiet = Quiet(store=store, monitors=monitors, windows=windows, snapshot=snapshots)
    built = Watcher(monitors=monitors, store=store, client=client or make_client(), clock=clock, quiet=quiet,
                    **watcher)
    ops = Operations(store=store, clock=clock, monitors=monitors, quiet=quiet, snapshot=snapshots)
    return Wired(clock=clock, store=store, sender=sender, watcher=built, ops=ops)
