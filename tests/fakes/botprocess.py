"""The bot as a real process (`python -m bot.cli run`), a status page it watches, and conditions to wait on.

    page = Page()                                   # a Statuspage v2 on loopback whose phase the test moves
    async with LoopbackServer() as server:
        page.mount(server)
        bot = BotProcess(config=path, env=env, cwd=tmp_path)
        await bot.start()
        bot.kill()                                  # SIGKILL, by pid
        await until(lambda: ..., what="...")        # a condition with a deadline: never a sleep to let time pass

The page's documents are the simulator's pure `documents()`; `page.on_poll` runs when summary.json is
asked for (a crash test kills the bot there, in the middle of a check).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bot.simulator import Phase, SimState, advance, documents
from tests.loopback import LoopbackServer

POLL = 0.02  # seconds between two looks at a condition


async def until(predicate: Callable[[], bool], *, timeout: float = 15.0, what: str = "condition") -> None:
    """Wait until `predicate()` holds, at most `timeout` seconds (then fail, saying what was awaited)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(POLL)


class Page:
    """A simulated provider's status page served from a LoopbackServer; counts the polls it answers."""

    def __init__(self) -> None:
        self.state = SimState(phase=Phase.OPERATIONAL, changed_at=datetime.now(UTC))
        self.polls = 0
        self.on_poll: Callable[[], None] | None = None
        self._base = ""

    def mount(self, server: LoopbackServer) -> None:
        self._base = server.url
        for path in documents(self.state, base_url=server.url):
            server.route(path, self._serve)

    def set_phase(self, phase: Phase) -> None:
        self.state = advance(self.state, phase, datetime.now(UTC))

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/summary.json"):
            self.polls += 1
            if self.on_poll is not None:
                self.on_poll()
        doc = documents(self.state, base_url=self._base)[request.path]
        return web.Response(body=json.dumps(doc).encode(), content_type="application/json")


class BotProcess:
    """`downwatch run` in a subprocess, restartable; its stderr is appended to one log file."""

    def __init__(self, *, config: Path, env: Mapping[str, str], cwd: Path) -> None:
        self._config = config
        self._env = dict(env)
        self._cwd = cwd
        self.log = cwd / "bot.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", "--config", str(self._config),
                cwd=self._cwd, env=self._env, stdout=asyncio.subprocess.DEVNULL, stderr=err,
            )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL now (no clean-up runs in the bot); a second call is harmless."""
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
            self.kills += 1

    async def dead(self, timeout: float = 10.0) -> None:
        assert self.proc is not None
        await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait: a clean stop."""
        assert self.proc is not None
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)


def query(database: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Read the bot's SQLite file from outside (WAL: readers never block the bot's writer)."""
    if not database.exists():
        return []
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # not created or not migrated yet
            return []
