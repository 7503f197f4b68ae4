"""Slack's HTTP mode on the web server's port (issue 13, item 1): with [web] on, `downwatch run` answers
/slack/events on the one web server; the real slack-bolt app checks the signature and the real command handler
answers through the response_url on the fake Slack. Without [web], the adapter keeps its own listener
(tests/test_slack_commands.py)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapters.slack.adapter import EVENTS_PATH, SlackAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from bot import app
from bot.checks.statuspage import StatuspageMonitor
from bot.config import Config, Web
from tests.fakes.slack_api import FakeSlack
from tests.loopback import LoopbackServer
from tests.test_slack_commands import BOLT_SAMPLE, SECRET, TOKEN, sign, slash_body

pytestmark = pytest.mark.anyio



def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def bot_with_slack_http(tmp_path: Path, server: LoopbackServer, fake: FakeSlack,
                              slack_port: int) -> AsyncIterator[str]:
    """`downwatch run` with [web] on port 0 and Slack in HTTP mode on `slack_port`; yields the web server's URL
    once the first check has landed."""
    server.json("/api/v2/summary.json", {"page": {}, "components": [
        {"id": "c1", "name": "API", "status": "major_outage"}], "incidents": []})
    server.json("/api/v2/incidents/unresolved.json", {"incidents": []})
    server.json("/api/v2/components.json", {"components": []})
    monitor = StatuspageMonitor(name="Provider", url=server.url_for(""), interval=1.0, timeout=0.5)
    config = Config(path="(test)", database=str(tmp_path / "slack-web.db"), monitors=(monitor,),
                    web=Web(host="127.0.0.1", port=0))
    slack = SlackAdapter(config=SlackConfig(mode=SlackMode.HTTP, channel="C1", bot_token=TOKEN, signing_secret=SECRET,
                                            api_url=fake.api_url, host="127.0.0.1", port=slack_port),
                         log=logging.getLogger("downwatch.slack"))
    stop = asyncio.Event()
    urls: list[str] = []
    runner = asyncio.create_task(app.run(config, stop=stop, adapters={"slack": slack}, on_web=urls.append))
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(500):
                if urls and "API" in (await client.get(urls[0] + "/")).text:
                    break
                await asyncio.sleep(0.01)
        assert urls
        yield urls[0]
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)


async def test_a_signed_slash_command_on_the_web_port_gets_the_bots_answer(tmp_path: Path,
                                                                            server: LoopbackServer) -> None:
    slack_port = free_port()
    async with FakeSlack(token=TOKEN) as fake, bot_with_slack_http(tmp_path, server, fake, slack_port) as url, \
            httpx.AsyncClient(base_url=url) as client:
        body = slash_body(BOLT_SAMPLE, response_url=fake.response_url(), text="Provider", command="/status")
        acked = await client.post(EVENTS_PATH, content=body.encode(), headers=sign(body, timestamp=int(time.time())))
        assert (acked.status_code, acked.text) == (200, "")  # acknowledged first (Slack's 3 s)
        [answer] = await fake.wait_for("response_url")
        assert "Provider" in answer.params["text"] and "major outage" in answer.params["text"]
        assert answer.params["response_type"] == "ephemeral"

        unsigned = await client.post(EVENTS_PATH, content=body.encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert unsigned.status_code == 401
        stale = await client.post(EVENTS_PATH, content=body.encode(),
                                  headers=sign(body, timestamp=int(time.time()) - 6 * 60))
        assert stale.status_code == 401
        assert len(fake.called("response_url")) == 1  # neither reached the handler

        page = await client.get("/")  # the status page and the API on the same port
        assert page.status_code == 200 and "major outage" in page.text
        assert (await client.get("/api/v2/status.json")).json()["status"]["indicator"] == "critical"
        assert (await client.get("/healthz")).status_code == 200
        wrong = await client.get(EVENTS_PATH)
        assert wrong.status_code == 405 and wrong.headers["Allow"] == "OPTIONS, POST"
        options = await client.options(EVENTS_PATH)
        assert options.status_code == 204 and options.headers["Allow"] == "OPTIONS, POST"
        assert (await client.post("/", content=b"x")).status_code == 405  # the page's routes stay read-only

        with pytest.raises(httpx.ConnectError):  # nothing listens on [slack] port: one server, one port
            await client.get(f"http://127.0.0.1:{slack_port}{EVENTS_PATH}")


async def test_mount_serves_nothing_outside_http_mode() -> None:
    from aiohttp import web

    socket_mode = SlackAdapter(config=SlackConfig(mode=SlackMode.SOCKET, channel="C1", bot_token=TOKEN,
                                                  app_token="xapp-test"))
    application = web.Application()
    assert socket_mode.mount(application) is None
    assert len(application.router.routes()) == 0
    await socket_mode.stop()
