"""`downwatch demo`: the real pipeline against a simulated OpenAI-like status page on 127.0.0.1.

No tokens, no config: a temporary SQLite file, console output. The provider's API starts failing while its
page still says operational (a probe that `watches` the page says so, then how much earlier it knew); the
page goes degraded, the outage spreads and worsens, then it recovers; then the demo prints what /status
would answer.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from typing import TextIO

from adapters.console import ConsoleAdapter, render_reply
from bot import app, commands
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.clock import SystemClock
from bot.config import Config, Policy, Route, Web
from bot.model import Command, CommandKind
from bot.simulator import Phase, SimulatedProvider
from bot.store import Store

MONITOR = "OpenAI (simulated)"
PROBE = "OpenAI API (simulated, from here)"
SCRIPT = (  # (phase of the page, is the API failing, seconds it lasts)
    (Phase.OPERATIONAL, False, 4.0),
    (Phase.OPERATIONAL, True, 4.0),
    (Phase.DEGRADED, True, 6.0),
    (Phase.MAJOR, True, 6.0),
    (Phase.RECOVERED, False, 5.0),
)


async def demo(*, stream: TextIO | None = None, interval: float = 1.0, speed: float = 1.0) -> int:
    """Run the scripted outage; returns the process exit code."""
    out = stream or sys.stdout
    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="downwatch-demo-") as folder:
        database = os.path.join(folder, "demo.db")
        async with SimulatedProvider() as sim:
            policy = Policy(failures_before_alert=2, successes_before_recovery=2)
            timeout = min(0.8, interval * 0.8)
            monitor = StatuspageMonitor(name=MONITOR, url=sim.url, interval=interval, timeout=timeout, policy=policy,
                                        routes=(Route("console", "console"),))
            probe = HttpMonitor(name=PROBE, url=f"{sim.url}/v1/models", interval=interval, timeout=timeout,
                                policy=policy, routes=(Route("console", "console"),), watches=MONITOR)
            # The status page on a free port, reloading every 2 s so the outage is seen moving
            config = Config(path="(demo)", database=database, monitors=(monitor, probe),
                            web=Web(host="127.0.0.1", port=0, refresh=2))
            print(f"downwatch demo: watching a simulated status page at {sim.url} and its API every {interval:g} s "
                  f"(alert after 2 bad polls, recover after 2 good ones)\n", file=out, flush=True)
            stop = asyncio.Event()
            runner = asyncio.create_task(
                app.run(config, stop=stop, clock=clock, adapters={"console": ConsoleAdapter(stream=out)},
                        on_web=lambda url: print(f"status page: {url}/ (open it now: it follows the outage)",
                                                 file=out, flush=True))
            )
            for phase, failing, seconds in SCRIPT:
                sim.set_phase(phase)
                sim.fail_api(failing)
                api = "failing" if failing else "answering"
                print(f"\n--- provider's page now: {phase.value}; its API: {api} ---", file=out, flush=True)
                await asyncio.sleep(seconds / speed)
            stop.set()
            await runner
        store = Store.open(database)
        try:
            now = clock.now()
            print("\n--- /status ---", file=out)
            print(render_reply(commands.handle(Command(CommandKind.OVERVIEW), history=store, now=now)), file=out)
            print(f"\n--- /status {MONITOR} ---", file=out)
            print(render_reply(commands.handle(Command(CommandKind.TARGET, target=MONITOR), history=store,
                                               now=now)), file=out)
            print("\n--- /status incidents ---", file=out)
            print(render_reply(commands.handle(Command(CommandKind.INCIDENTS), history=store, now=now)), file=out)
            opened = [r for r in store.outbox_rows() if r["state"] == "sent"]
        finally:
            store.close()
    return 0 if opened else 1
