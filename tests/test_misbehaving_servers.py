"""Servers that break HTTP (issue 11, "Defects found while testing as a new user would").

1. A page that redirects is fetched again with a plain GET: no body, no Transfer-Encoding, no Content-Type
   (httpx-aiohttp used to send the redirected GET as an empty chunked upload, which servers answer with 400).
2. Any failure while reading any status-page source is `unknown` with a detail: never a crash, never an
   outage, in `downwatch check --json` and in `run` (the Watcher over a real SQLite store). An HTTP probe's
   own target misbehaving is its outage, as before, and never a crash either.

The servers are raw sockets on 127.0.0.1 (tests/fakes/badserver.py). Every source kind registered in
bot.checks.KINDS that reads a status page is covered by parametrizing over KINDS. Nothing sleeps to wait for
time: the never-answering ways end at the monitors' own short timeout.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import tracemalloc
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx
import pytest
import trustme

from adapters import PLATFORMS
from bot.checks import KINDS, run_check
from bot.checks.client import make_client, read_capped
from bot.checks.http import HttpMonitor
from bot.checks.statuspage import StatuspageMonitor
from bot.config import Policy, load_config
from bot.model import CheckResult, Status
from tests.conftest import Ran
from tests.fakes.badserver import BOMB_BYTES, NEVER_ANSWER, BadServer, MovedPage, Way, gzip_bomb, in_thread
from tests.wiring import wire

TIMEOUT = 0.3
NAME = "Provider"
SOURCE_TYPES = [kind.type for kind in KINDS if not kind.records_probes]  # every kind that reads a page
SUMMARY = json.dumps({"components": [{"id": "a", "name": "API", "status": "operational"}]}).encode()
MiB = 1 << 20

# What a status page reads as, for each way (its detail starts with this; kinds of their own word may differ).
STATUSPAGE_DETAIL = {
    Way.BAD_STATUS_LINE: "invalid HTTP response (bad status line)",
    Way.TRUNCATED_HEADERS: "connection closed without a valid response",
    Way.RESET_MID_BODY: "connection",  # "… closed without a valid response" or "… reset", by timing
    Way.SHORT_BODY: "connection closed without a valid response",
    Way.BAD_CHUNKED: "invalid HTTP response (invalid character in chunk size)",
    Way.GZIP_BOMB: "body over 2 MiB",
    Way.ENDLESS_BODY: f"timed out after {TIMEOUT:g} s",
    Way.SILENT: f"timed out after {TIMEOUT:g} s",
    Way.TLS_GARBAGE: "TLS error: ",
    Way.REDIRECT_LOOP: "too many redirects",
    Way.EMPTY_200: "invalid JSON",
    Way.REDIRECT_REFUSED: "connection refused",
}
# A plain HTTP probe reads no body: a 200 status line with a broken body behind it is up, as it always was.
HTTP_UP = frozenset({Way.RESET_MID_BODY, Way.SHORT_BODY, Way.GZIP_BOMB, Way.ENDLESS_BODY, Way.EMPTY_200})


@pytest.fixture(scope="module", autouse=True)
def _bomb() -> None:
    gzip_bomb()  # built once, before any timed check


def config(tmp_path: Path, kind: str, url: str, extra: str = "") -> Path:
    path = tmp_path / "downwatch.toml"
    path.write_text(f"""
database = "{tmp_path / 'dw.db'}"
[[monitors]]
name = "{NAME}"
type = "{kind}"
url = "{url}"
timeout = {TIMEOUT}
{extra}
""")
    return path


def rows_of(ran: Ran) -> list[dict[str, str]]:
    assert "Traceback" not in ran.err, ran.err
    assert ran.out.strip(), f"nothing on stdout; exit {ran.code}; stderr:\n{ran.err}"
    rows: list[dict[str, str]] = json.loads(ran.out)
    return rows


# ---------------------------------------------------------------- 1. a redirect is a plain GET


def _requests(received: list[bytearray]) -> list[bytes]:
    """Every request head each connection sent, and anything sent after a head (a body would show here)."""
    return [part + b"\r\n\r\n" for seen in received for part in bytes(seen).split(b"\r\n\r\n") if part]


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.mark.anyio
@pytest.mark.parametrize("move", ["relative", "other-host", "to-https"])
async def test_a_redirected_get_carries_no_body(move: str, authority: trustme.CA) -> None:
    trusted = ssl.create_default_context()
    authority.configure_trust(trusted)
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(serving)
    target = {"relative": MovedPage(SUMMARY), "other-host": MovedPage(SUMMARY, host="127.0.0.2"),
              "to-https": MovedPage(SUMMARY, tls=serving)}[move]
    async with target:
        location = "/moved" if move == "relative" else f"{target.url}/moved"
        async with MovedPage(SUMMARY, location=location) as page:
            client = make_client(ssl_context=trusted)
            async with client:
                result = await run_check(
                    StatuspageMonitor(name=NAME, url=page.url, timeout=5.0, interval=60.0, policy=Policy()),
                    client=client, now=lambda: datetime.now(UTC))
            await asyncio.wait_for(page.hung_up(), 5)
            await asyncio.wait_for(target.hung_up(), 5)
            sent = _requests(page.received) + ([] if target is page else _requests(target.received))
    assert result.readable, result.detail
    assert [c.name for c in result.components] == ["API"]
    moved = [r for r in sent if r.startswith(b"GET /moved ")]
    assert moved, sent
    for request in sent:
        assert request.startswith(b"GET /"), f"bytes after a request head (a body?): {request!r}"
        head = request.lower()
        for header in (b"transfer-encoding:", b"content-type:", b"content-length:"):
            assert header not in head, request


# ---------------------------------------------------------------- 2. every way, every source kind, in `check`


@pytest.mark.parametrize("way", list(Way))
@pytest.mark.parametrize("kind", SOURCE_TYPES)
def test_check_reads_a_misbehaving_source_as_unknown(
    kind: str, way: Way, tmp_path: Path, downwatch: Callable[..., Ran]
) -> None:
    with in_thread(lambda: BadServer(way)) as server:
        ran = downwatch("check", "--config", str(config(tmp_path, kind, server.url)), "--json")
    rows = rows_of(ran)
    assert ran.code == 1, ran
    assert [(r["monitor"], r["component"], r["status"]) for r in rows] == [(NAME, "*", "unknown")], rows
    detail = rows[0]["detail"]
    assert detail.startswith("source unreadable: ") and len(detail) > len("source unreadable: "), detail
    if kind == "statuspage":
        assert detail.removeprefix("source unreadable: ").startswith(STATUSPAGE_DETAIL[way]), detail


@pytest.mark.parametrize("way", list(Way))
def test_check_reads_a_misbehaving_http_target_as_down_or_up_never_a_crash(
    way: Way, tmp_path: Path, downwatch: Callable[..., Ran]
) -> None:
    with in_thread(lambda: BadServer(way)) as server:
        ran = downwatch("check", "--config", str(config(tmp_path, "http", server.url, "tls_expiry_days = 0")),
                        "--json")
    rows = rows_of(ran)
    expected = Status.OPERATIONAL if way in HTTP_UP else Status.MAJOR
    assert [(r["monitor"], r["status"]) for r in rows] == [(NAME, expected.value)], rows
    assert ran.code == (0 if expected is Status.OPERATIONAL else 1)


@pytest.mark.parametrize("way", sorted(set(Way) - HTTP_UP - NEVER_ANSWER))
def test_an_http_probe_that_reads_the_body_is_down_never_a_crash(
    way: Way, tmp_path: Path, downwatch: Callable[..., Ran]
) -> None:
    with in_thread(lambda: BadServer(way)) as server:
        ran = downwatch("check", "--config", str(config(tmp_path, "http", server.url, 'body_contains = "ok"\n'
                                                        "tls_expiry_days = 0")), "--json")
    assert [r["status"] for r in rows_of(ran)] == [Status.MAJOR.value] and ran.code == 1


# ---------------------------------------------------------------- 2. every way, every source kind, in `run`


@pytest.mark.anyio
@pytest.mark.parametrize("way", list(Way))
@pytest.mark.parametrize("kind", SOURCE_TYPES)
async def test_run_reads_a_misbehaving_source_as_unknown_and_opens_nothing(
    kind: str, way: Way, tmp_path: Path
) -> None:
    async with BadServer(way) as server:
        monitor = load_config(str(config(tmp_path, kind, server.url)), {}, platforms=PLATFORMS).monitors[0]
        async with make_client() as client:
            wired = wire(tmp_path / "dw.db", [monitor], client=client)
            try:
                results: list[CheckResult] = []

                async def check(m: object, **kw: object) -> CheckResult:
                    results.append(await run_check(m, **kw))  # type: ignore[arg-type]
                    return results[-1]

                wired.watcher._check = check  # the real check, its results kept to look at
                for _ in range(monitor.policy.failures_before_alert):
                    assert await wired.watcher.poll(monitor) is not None
                    wired.clock.advance(60)
                state = wired.watcher.states[NAME]
                assert all(not r.readable and r.detail for r in results), results
                assert not state.readable and state.incident is None
                assert wired.store.open_incidents() == []
                assert wired.store.unreadable_monitors() == [NAME]
            finally:
                wired.store.close()


# ---------------------------------------------------------------- a gzip bomb is capped, not expanded


@pytest.mark.anyio
@pytest.mark.parametrize("reader", ["statuspage", "http-keyword", "http-json"])
async def test_a_gzip_bomb_is_read_only_up_to_the_cap(reader: str) -> None:
    async with BadServer(Way.GZIP_BOMB) as server, make_client() as client:
        common = {"name": NAME, "url": server.url, "timeout": 5.0, "interval": 60.0, "policy": Policy()}
        monitor = (StatuspageMonitor(**common) if reader == "statuspage"  # type: ignore[arg-type]
                   else HttpMonitor(body_contains="ok", **common) if reader == "http-keyword"  # type: ignore[arg-type]
                   else HttpMonitor(json_query="status", **common))  # type: ignore[arg-type]
        tracemalloc.start()
        try:
            result = await run_check(monitor, client=client, now=lambda: datetime.now(UTC))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # a status page fetches three documents at once, each read up to its 2 MiB cap; the bomb is 64 MiB
    assert peak < BOMB_BYTES // 4, f"{peak / MiB:.1f} MiB"
    if reader == "statuspage":
        assert not result.readable and result.detail == "body over 2 MiB"
    else:
        assert result.components[0].status is Status.MAJOR
        assert "2 MiB" in result.components[0].detail, result.components[0].detail


def _mock(body: bytes, encoding: str) -> httpx.AsyncClient:
    headers = {"Content-Encoding": encoding} if encoding else {}
    # stream=, not content=: a response built with content is read already, as no transport's is
    return httpx.AsyncClient(transport=httpx.MockTransport(
        lambda _: httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))))


async def _read(body: bytes, encoding: str, cap: int) -> bytes:
    async with _mock(body, encoding) as client, client.stream("GET", "http://page.test/") as response:
        return b"".join([chunk async for chunk in read_capped(response, cap)])


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.anyio
@pytest.mark.parametrize("encoding,pack", [
    ("", lambda d: d), ("identity", lambda d: d), ("gzip", gzip.compress), ("x-gzip", gzip.compress),
    ("deflate", zlib.compress), ("deflate", _raw_deflate), ("br", lambda d: d),
])
async def test_read_capped_decodes_what_a_server_sends(encoding: str, pack: Callable[[bytes], bytes]) -> None:
    assert await _read(pack(SUMMARY * 100), encoding, MiB) == SUMMARY * 100
    if encoding in ("gzip", "x-gzip", "deflate"):  # a body not decoded here comes as the transport gives it
        assert len(await _read(pack(SUMMARY * 100), encoding, 100)) == 101


@pytest.mark.anyio
async def test_read_capped_stops_just_past_the_cap() -> None:
    assert len(await _read(gzip_bomb(), "gzip", MiB)) == MiB + 1


@pytest.mark.anyio
@pytest.mark.parametrize("body,encoding", [
    (b"not gzip at all", "gzip"), (gzip.compress(SUMMARY)[:10] + b"\xff" * 20, "gzip"),
    (gzip.compress(gzip.compress(SUMMARY)), "gzip, gzip"),
], ids=["not-gzip", "bad-block", "twice"])
async def test_read_capped_refuses_what_does_not_decode(body: bytes, encoding: str) -> None:
    with pytest.raises(httpx.DecodingError):
        await _read(body, encoding, MiB)


# ---------------------------------------------------------------- the last line of defence


class _LeakyKind:
    """A kind whose fetch lets an aiohttp error through (as a new kind might)."""

    type = "statuspage"
    keys: frozenset[str] = frozenset()
    records_probes = False

    def parse(self, *args: object) -> None:
        return None

    async def run(self, monitor: object, **kw: object) -> CheckResult:
        raise aiohttp.ServerDisconnectedError()


@pytest.mark.anyio
async def test_run_check_turns_a_request_failure_a_kind_let_through_into_unknown() -> None:
    monitor = StatuspageMonitor(name=NAME, url="http://127.0.0.1:9", timeout=1.0, interval=60.0, policy=Policy())
    async with make_client() as client:
        result = await run_check(monitor, client=client, now=lambda: datetime.now(UTC),
                                 kinds=(_LeakyKind(),))  # type: ignore[arg-type]
    assert not result.readable and not result.reached
    assert result.detail == "connection closed without a valid response"
