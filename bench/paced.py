"""Sustained throughput (issue 6 item 2): check_http through make_client() at a paced `rate` (new connection
each), not as fast as possible: the figures are the rate achieved, CPU share and event-loop lag p99."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import cpu_seconds, percentile
from bench.probes import ticker
from bot import runtime


async def run(args: dict[str, Any]) -> dict[str, Any]:
    from bot.checks.client import make_client
    from bot.checks.http import HttpMonitor, check_http

    rate, seconds = float(args["rate"]), float(args["seconds"])
    monitor = HttpMonitor(name="paced", url=args["url"])
    now = lambda: datetime.now(UTC)  # noqa: E731
    tasks: set[asyncio.Task[Any]] = set()
    done = 0
    async with make_client() as client:
        for _ in range(20):
            await check_http(monitor, client=client, now=now)

        async def one() -> None:
            nonlocal done
            await check_http(monitor, client=client, now=now)
            done += 1

        lags: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(lags, stop))
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        step = 0.01
        issued = 0
        while (elapsed := time.perf_counter() - t0) < seconds:
            due = int(elapsed * rate)
            for _ in range(due - issued):
                task = asyncio.create_task(one())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            issued = due
            await asyncio.sleep(step)
        await asyncio.gather(*tasks)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        stop.set()
        await tick
    return {"per_s": done / elapsed, "cpu_share": cpu / elapsed, "lag_p99_ms": percentile(lags, 99)}


if __name__ == "__main__":
    print(json.dumps(runtime.run(run(json.loads(sys.argv[1])))))
