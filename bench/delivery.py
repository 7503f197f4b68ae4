"""Detection to delivery (issue 6 item 7): source flips → alert accepted by the fake Slack Web API.

Runs the real composition root, bot.app.run, with the real SlackAdapter (Socket Mode) pointed at the tests'
FakeSlack, K "flip" monitors on a loopback server that start answering 500 at known moments, and optionally
`others` monitors at 60 s against the local target. The figure is flip → chat.postMessage arriving at the
fake (sampled every 5 ms), against the theoretical minimum interval × failures_before_alert.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile
from bot import runtime


async def run(args: dict[str, Any]) -> dict[str, Any]:
    from aiohttp import web

    from adapters.slack.adapter import SlackAdapter
    from adapters.slack.platform import SlackConfig, SlackMode
    from bot import app
    from bot.checks.http import HttpMonitor
    from bot.config import Config, Policy, Route
    from tests.fakes.slack_api import FakeSlack
    from tests.loopback import LoopbackServer

    flips, interval, others = int(args["flips"]), float(args["interval"]), int(args["others"])
    threshold = 2
    policy = Policy(failures_before_alert=threshold)
    flipped_at: dict[int, float] = {}
    token = "xoxb-bench-not-a-secret"
    async with FakeSlack(token=token, app_token="xapp-bench-not-a-secret") as slack, LoopbackServer() as server:
        def handler(i: int):  # type: ignore[no-untyped-def]
            async def answer(request: web.Request) -> web.Response:
                return web.Response(status=500 if i in flipped_at else 200, text="x")
            return answer

        for i in range(flips):
            server.route(f"/flip/{i}", handler(i))
        watched = [HttpMonitor(name=f"flip{i:03d}", url=server.url_for(f"/flip/{i}"), interval=interval,
                               timeout=5.0, policy=policy, routes=(Route(platform="slack", channel=f"C0BENCH{i}"),))
                   for i in range(flips)]  # a channel each: Slack's per-channel pacing is not what is measured
        background = [HttpMonitor(name=f"bg{i:05d}", url=f"{args['url']}?m={i}", interval=60.0, policy=policy)
                      for i in range(others)]
        tmp = tempfile.TemporaryDirectory(prefix="downwatch-deliv-")
        slack_config = SlackConfig(mode=SlackMode.SOCKET, channel="C0BENCH", bot_token=token,
                                   app_token="xapp-bench-not-a-secret", api_url=slack.api_url)
        config = Config(path="bench.toml", database=str(Path(tmp.name) / "d.db"), monitors=tuple(watched + background),
                        policy=policy, platforms={"slack": slack_config})
        adapter = SlackAdapter(config=slack_config)
        stop = asyncio.Event()
        bot = asyncio.create_task(app.run(config, stop=stop, adapters={"slack": adapter}))
        await asyncio.sleep(float(args["warmup"]))
        delays: dict[int, float] = {}
        seen = 0
        spacing = float(args["spacing"])
        next_flip, k = time.monotonic(), 0
        deadline = time.monotonic() + flips * spacing + interval * threshold + 30
        while len(delays) < flips and time.monotonic() < deadline:
            if k < flips and time.monotonic() >= next_flip:
                flipped_at[k] = time.monotonic()
                k += 1
                next_flip += spacing
            posts = [c for c in slack.calls if c.method == "chat.postMessage"]
            for call in posts[seen:]:
                text = json.dumps(dict(call.params))
                for i, t in flipped_at.items():
                    if f"flip{i:03d}" in text and i not in delays:
                        delays[i] = time.monotonic() - t
            seen = len(posts)
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(bot, 30)
        tmp.cleanup()
    values = list(delays.values())
    return {"flips": flips, "delivered": len(values), "others": others, "minimum_s": interval * threshold,
            "p50_s": percentile(values, 50), "p99_s": percentile(values, 99), "max_s": max(values, default=0.0)}


if __name__ == "__main__":
    print(json.dumps(runtime.run(run(json.loads(sys.argv[1])))))
