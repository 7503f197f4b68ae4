"""Regions end to end (issue 14): three real `downwatch run` processes, one per region (DOWNWATCH_REGION), on one
PostgreSQL database, alerting the fake Slack (HTTP mode) about one HTTP monitor on loopback.

Each region reaches the target through a network path of its own: a TcpProxy (tests/tcpproxy.py) in front of
the one loopback server, which the region's monitor URL and control_url both go through (each process has
its own config file, as each machine would: the same monitors, its own control target). The target answers
each region on a path of its own, so a test can make it fail as one region sees it (503 on that path), while
cutting a region's proxy off is that region's own network failing (its control target fails too).

What must hold: a failure seen from one region is no alert; from two, exactly one, naming them ("down from
eu-west and us-east; up from ap-south"), and one recovery; a region whose own network is down reports
unknown, not down; two regions gone is one "monitoring degraded: only 1 of 3 regions reporting" notice,
restored once they are back. Nothing sleeps for time to pass: every step waits on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot import wording
from tests.fakes.botprocess import BotProcess, until
from tests.fakes.slack_api import Call, FakeSlack
from tests.loopback import LoopbackServer, closed_port
from tests.tcpproxy import HOST, TcpProxy

TOKEN = "xoxb-4242-REGIONSbottoken"
SIGNING_SECRET = "REGIONSsigningsecret0123"
CHANNEL = "C0REGIONS"
EU, US, AP = "eu-west", "us-east", "ap-south"
REGIONS = (EU, US, AP)
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "DOWNWATCH_", "PG"))}
INTERVAL = 1.0  # s between two checks of the monitor, in every region
TTL, RENEW = 2.0, 0.5


def config(region_port: int, region: str, slack_port: int) -> str:
    return f"""
console = false
failures_before_alert = 2
successes_before_recovery = 2
regions = ["{EU}", "{US}", "{AP}"]
control_url = "http://{HOST}:{region_port}/control"

[cluster]
ttl = {TTL:g}
renew = {RENEW:g}

[slack]
mode = "http"
channel = "{CHANNEL}"
host = "127.0.0.1"
port = {slack_port}

[[monitors]]
name = "API"
type = "http"
url = "http://{HOST}:{region_port}/health/{region}"
interval = {INTERVAL:g}
timeout = 0.5
"""


@dataclass
class Rig:
    target: LoopbackServer
    slack: FakeSlack
    proxies: dict[str, TcpProxy]
    bots: dict[str, BotProcess]
    db: psycopg.Connection[Any]

    def fail(self, region: str, failing: bool = True) -> None:
        """The target as `region` sees it: 503 or ok."""
        self.target.reply(f"/health/{region}", b"unavailable" if failing else b"ok", status=503 if failing else 200,
                          content_type="text/plain")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """A query's rows; none before the first process has created the schema."""
        try:
            return self.db.execute(sql).fetchall()
        except psycopg.errors.UndefinedTable:
            return []

    def readings(self) -> dict[str, tuple[str, int, int, str]]:
        """region → (status, failures, successes, detail) of the API monitor, as the agents wrote them."""
        rows = self.rows("SELECT region, status, failures, successes, detail FROM region_readings "
                         "WHERE monitor = 'API'")
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    def detail(self) -> str:
        """The API component's detail as the leader last decided it (the regions line)."""
        rows = self.rows("SELECT detail FROM components WHERE monitor = 'API'")
        return str(rows[0][0]) if rows else ""

    def leads(self) -> bool:
        return bool(self.rows("SELECT 1 FROM lease WHERE expires_at > now()"))

    # ---- what Slack received

    def posts(self, word: str) -> list[Call]:
        """New messages (not thread lines) whose text has `word`."""
        return [c for c in self.slack.called("chat.postMessage")
                if "thread_ts" not in c.params and word in text_of(c)]

    def replies(self, word: str) -> list[Call]:
        return [c for c in self.slack.called("chat.postMessage") if "thread_ts" in c.params and word in text_of(c)]

    def edits(self, word: str) -> list[Call]:
        return [c for c in self.slack.called("chat.update") if word in text_of(c)]


def text_of(call: Call) -> str:
    """A message's fallback text and its blocks, as one string to search."""
    blocks = call.params.get("blocks")
    return f"{call.params.get('text', '')}\n{blocks if isinstance(blocks, str) else json.dumps(blocks)}"


def dump_logs(bots: dict[str, BotProcess]) -> Iterator[str]:
    for region, bot in bots.items():
        if bot.log.exists():
            yield f"--- {region} ({bot.log}):\n" + bot.log.read_text(errors="replace")[-4000:]


@asynccontextmanager
async def rig(tmp_path: Path, pg_url: str) -> AsyncIterator[Rig]:
    async with LoopbackServer() as target, FakeSlack(token=TOKEN) as slack:
        target.reply("/control", b"ok", content_type="text/plain")
        proxies = {region: TcpProxy(target.port) for region in REGIONS}
        bots: dict[str, BotProcess] = {}
        try:
            for region, proxy in proxies.items():
                port = proxy.start()
                folder = tmp_path / region
                folder.mkdir()
                (folder / "downwatch.toml").write_text(config(port, region, closed_port()))
                env = {**ENV, "DOWNWATCH_DATABASE_URL": pg_url, "DOWNWATCH_REGION": region,
                       "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                       "SLACK_API_URL": slack.api_url}
                bots[region] = BotProcess(config=folder / "downwatch.toml", env=env, cwd=folder)
            with psycopg.connect(pg_url, autocommit=True) as db:
                r = Rig(target, slack, proxies, bots, db)
                for region in REGIONS:
                    r.fail(region, False)
                try:
                    yield r
                except BaseException:
                    for text in dump_logs(bots):
                        print(text)
                    raise
        finally:
            for bot in bots.values():
                bot.kill()
                if bot.proc is not None:
                    await bot.dead()
            for proxy in proxies.values():
                proxy.stop()


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_three_regions_one_failing_is_no_alert_two_is_one_alert_naming_them(
        tmp_path: Path, pg_url: str) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with rig(tmp_path, pg_url) as r:
        await asyncio.gather(*(bot.start() for bot in r.bots.values()))
        await until(lambda: r.leads() and r.detail() == "up from eu-west, us-east and ap-south"
                    and all(s == "operational" and ok >= 2 for s, _, ok, _ in r.readings().values())
                    and len(r.readings()) == 3, timeout=30, what="three regions up, a leader deciding from them")

        # 1. the target fails as eu-west sees it: no alert, however long
        r.fail(EU)
        await until(lambda: r.readings()[EU][1] >= 5 and r.detail() == "down from eu-west; up from us-east and ap-south",
                    what="eu-west failing five times over, the leader deciding on it")
        assert r.posts("API") == []

        # 2. and as us-east sees it: one alert, naming them
        r.fail(US)
        failed_at = loop.time()
        await until(lambda: bool(r.posts("API")), what="the alert")
        delay = loop.time() - failed_at
        (alert,) = r.posts("API")
        assert "down from eu-west and us-east; up from ap-south" in text_of(alert)
        assert r.detail() == "down from eu-west and us-east; up from ap-south"

        # 3. both see it recover: one recovery, under the one alert
        r.fail(EU, False)
        r.fail(US, False)
        await until(lambda: bool(r.replies("Recovered after")), what="the recovery")
        assert len(r.posts("API")) == 1 and len(r.replies("Recovered after")) == 1
        (parent,) = [ts for (_, ts), m in r.slack.messages.items() if "thread_ts" not in m and "API" in str(m["text"])]
        assert r.replies("Recovered after")[0].params["thread_ts"] == parent
        assert str(r.slack.messages[(CHANNEL, parent)]["text"]).startswith("✅ API — resolved after")

        # 4. ap-south's own network goes down (its control target too) while eu-west sees the target fail:
        # ap-south reports unknown, not down, so one region down is still no outage
        r.proxies[AP].target = ("127.0.0.1", closed_port())
        r.proxies[AP].cut()
        r.fail(EU)
        await until(lambda: r.readings()[AP][0] == "unknown" and r.readings()[AP][3] == wording.REGION_BLIND
                    and r.readings()[EU][1] >= 4
                    and r.detail() == "down from eu-west; up from us-east; unknown from ap-south",
                    what="ap-south blind, eu-west failing, the leader deciding on both")
        assert len(r.posts("API")) == 1
        r.proxies[AP].target = ("127.0.0.1", r.target.port)
        r.fail(EU, False)
        await until(lambda: r.detail() == "up from eu-west, us-east and ap-south", what="all three up again")

        # 5. us-east and ap-south stop: one "monitoring degraded" notice, never an outage; restored once back
        notices = len(r.posts("Monitoring degraded"))  # (a replica slower to start than the hold is said too)
        stopped_at = loop.time()
        await asyncio.gather(r.bots[US].stop(), r.bots[AP].stop())
        await until(lambda: len(r.posts("Monitoring degraded")) > notices, what="the degraded notice")
        noticed = loop.time() - stopped_at
        (notice,) = r.posts("Monitoring degraded")[notices:]
        assert "only 1 of 3 regions reporting" in text_of(notice)
        await asyncio.gather(r.bots[US].start(), r.bots[AP].start())
        await until(lambda: len(r.replies("monitoring restored")) > notices, what="the restore")
        assert len(r.posts("Monitoring degraded")) == notices + 1
        assert len(r.posts("API")) == 1  # still the one alert
    print(f"\nregions e2e: alert {delay:.2f}s after the second region saw the failure; degraded notice "
          f"{noticed:.2f}s after two regions were stopped (SIGTERM); {notices} notice(s) at start; "
          f"{loop.time() - began:.1f}s in all")

