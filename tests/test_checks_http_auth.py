"""Authenticated probes (issue 15, item 1): an HTTP monitor sends headers and a body whose values name
environment variables as `${NAME}`, against a fake provider API on 127.0.0.1 that checks the key.

The right key is operational; a refused key (401/403) is a configuration problem — the result is unknown
with a detail that says so, logged once, never an incident. The key is a secret: it appears in no log
record, no byte of the SQLite file, no `check --json` or `validate` output and no repr.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.checks import run_check
from bot.checks.client import make_client
from bot.checks.http import HttpMonitor
from bot.cli import setup_logging
from bot.clock import FakeClock
from bot.config import Config, ConfigError, load_config
from bot.model import Status
from tests.conftest import Ran
from tests.loopback import LoopbackServer, on_own_loop
from tests.wiring import wire

# Named so that tests/test_secrets.py registers them: the whole-suite scan proves they leak nowhere either
OPENAI_SECRET_KEY = "sk-downwatch-SECRET-right-key-0001"
WRONG_SECRET_KEY = "sk-downwatch-SECRET-wrong-key-0002"
Downwatch = Callable[..., Ran]


def provider_api(server: LoopbackServer) -> None:
    """OpenAI's GET /v1/models as far as a probe sees it: 200 with the right bearer key, else 401."""

    async def models(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {OPENAI_SECRET_KEY}":
            error = {"error": {"message": "Incorrect API key provided.", "code": "invalid_api_key"}}
            return web.json_response(error, status=401)
        return web.json_response({"object": "list", "data": [{"id": "gpt-test", "object": "model"}]})

    async def echo(request: web.Request) -> web.StreamResponse:
        return web.json_response({"received": await request.json(), "type": request.content_type})

    server.route("/v1/models", models)
    server.route("/v1/echo", echo)


@pytest.fixture
async def api(anyio_backend: str) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer() as server:
        provider_api(server)
        yield server


@pytest.fixture
def api_thread() -> Iterator[LoopbackServer]:
    """The fake API on its own thread's loop, for in-process commands (main runs its own loop)."""
    with on_own_loop(provider_api) as server:
        yield server


def probe_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "downwatch.toml"
    path.write_text(f"""
database = "{tmp_path / 'dw.db'}"
[[monitors]]
name = "OpenAI API (from here)"
type = "http"
url = "{url}"
headers = {{ Authorization = "Bearer ${{OPENAI_API_KEY}}" }}
timeout = 5
interval = 30
{extra}
""")
    return path


def load(path: Path, key: str) -> Config:
    return load_config(str(path), {"OPENAI_API_KEY": key})


# ---------------------------------------------------------------- the probe


@pytest.mark.anyio
async def test_the_right_key_from_the_environment_is_operational(tmp_path: Path, api: LoopbackServer) -> None:
    config = load(probe_config(tmp_path, api.url_for("/v1/models")), OPENAI_SECRET_KEY)
    (probe,) = config.monitors
    assert isinstance(probe, HttpMonitor) and probe.credentials
    assert probe.url == api.url_for("/v1/models")
    async with make_client() as client:
        result = await run_check(probe, client=client, now=FakeClock().now)
    assert result.readable and [(c.status, c.detail) for c in result.components] == [(Status.OPERATIONAL, "HTTP 200")]
    assert api.requests[0].headers["Authorization"] == f"Bearer {OPENAI_SECRET_KEY}"
    assert api.requests[0].headers["User-Agent"] == "downwatch/0.1"  # the client's own headers are kept
    assert OPENAI_SECRET_KEY in config.secrets
    assert OPENAI_SECRET_KEY not in repr(probe) and OPENAI_SECRET_KEY not in repr(config)


@pytest.mark.anyio
async def test_a_refused_key_is_unknown_logged_once_and_never_an_incident(
    tmp_path: Path, api: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = load(probe_config(tmp_path, api.url_for("/v1/models")), WRONG_SECRET_KEY)
    (probe,) = config.monitors
    async with make_client() as client:
        wired = wire(tmp_path / "dw.db", config.monitors, client=client)
        alerts = []
        for _ in range(4):  # past failures_before_alert: an outage would have opened an incident by now
            step = await wired.watcher.poll(probe)
            assert step is not None and not step.state.readable and step.state.incident is None
            alerts += step.alerts
            wired.clock.advance(30)
        # a refused key measured nothing about the provider: no probe row, no downtime in /uptime
        assert wired.store.probe_stats(monitor=probe.name, window=timedelta(days=1), now=wired.clock.now()) is None
        wired.store.close()
    assert step.state.source_detail == "HTTP 401: the credentials were refused — check the key in the environment"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["OpenAI API (from here): source unreadable: HTTP 401: the credentials were refused — "
                        "check the key in the environment"]  # edge-triggered: once, not every poll
    assert [a.kind.value for a in alerts] == ["source_unreadable"]  # a configuration notice, said once
    assert len(api.requests) == 4 and all(r.headers["Authorization"].endswith(WRONG_SECRET_KEY)
                                          for r in api.requests)
    assert WRONG_SECRET_KEY not in caplog.text
    for path in tmp_path.iterdir():  # the database and its -wal/-shm companions
        if path.name.startswith("dw.db"):
            assert WRONG_SECRET_KEY.encode() not in path.read_bytes(), path


@pytest.mark.anyio
async def test_a_403_is_refused_too_but_not_when_expected_or_without_credentials(api: LoopbackServer) -> None:
    api.json("/forbidden", {"error": "forbidden"}, status=403)
    url = api.url_for("/forbidden")
    async with make_client() as client:
        refused = await run_check(HttpMonitor(name="p", url=url, credentials=True), client=client,
                                  now=FakeClock().now)
        expected = await run_check(HttpMonitor(name="p", url=url, credentials=True, expect_status=(403,)),
                                   client=client, now=FakeClock().now)
        anonymous = await run_check(HttpMonitor(name="p", url=url), client=client, now=FakeClock().now)
    assert not refused.readable and refused.detail.startswith("HTTP 403: the credentials were refused")
    assert expected.readable and expected.components[0].status is Status.OPERATIONAL
    assert anonymous.readable and (anonymous.components[0].status, anonymous.components[0].detail) == (
        Status.MAJOR, "HTTP 403")  # nothing was sent to refuse: the target answering 403 is an outage


@pytest.mark.anyio
async def test_post_with_a_json_table_reaches_the_server_as_json(tmp_path: Path, api: LoopbackServer) -> None:
    path = tmp_path / "downwatch.toml"
    path.write_text(f"""
[[monitors]]
name = "Echo"
type = "http"
method = "POST"
url = "{api.url_for('/v1/echo')}"
json = {{ model = "${{MODEL}}", max_tokens = 1, stream = false, messages = [{{ role = "user", content = "ping" }}] }}
json_query = "received.model"
json_expect = "gpt-test"
""")
    (probe,) = load_config(str(path), {"MODEL": "gpt-test"}).monitors
    async with make_client() as client:
        result = await run_check(probe, client=client, now=FakeClock().now)
    assert result.components[0].status is Status.OPERATIONAL, result.components[0].detail
    seen = api.requests[0]
    assert seen.method == "POST" and seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {"model": "gpt-test", "max_tokens": 1, "stream": False,
                                     "messages": [{"role": "user", "content": "ping"}]}


@pytest.mark.anyio
async def test_post_with_a_text_body(tmp_path: Path, api: LoopbackServer) -> None:
    api.reply("/v1/text", b"ok", content_type="text/plain")
    path = tmp_path / "downwatch.toml"
    path.write_text(f"""
[[monitors]]
name = "Text"
type = "http"
method = "POST"
url = "{api.url_for('/v1/text')}"
headers = {{ Content-Type = "text/plain" }}
body = "hello ${{WHO}}"
""")
    (probe,) = load_config(str(path), {"WHO": "world"}).monitors
    async with make_client() as client:
        result = await run_check(probe, client=client, now=FakeClock().now)
    assert result.components[0].status is Status.OPERATIONAL
    assert api.requests[0].body == b"hello world" and api.requests[0].headers["Content-Type"] == "text/plain"


# ---------------------------------------------------------------- the commands


def test_check_json_and_validate_never_show_the_key(tmp_path: Path, api_thread: LoopbackServer,
                                                    downwatch: Downwatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = str(probe_config(tmp_path, api_thread.url_for("/v1/models")))
    right = downwatch("check", "--config", path, "--json", env={"OPENAI_API_KEY": OPENAI_SECRET_KEY})
    assert right.code == 0, right.err
    assert json.loads(right.out) == [{"monitor": "OpenAI API (from here)", "component": "OpenAI API (from here)",
                                      "status": "operational", "detail": "HTTP 200"}]
    wrong = downwatch("check", "--config", path, "--json", env={"OPENAI_API_KEY": WRONG_SECRET_KEY})
    assert wrong.code == 1
    assert json.loads(wrong.out) == [{
        "monitor": "OpenAI API (from here)", "component": "*", "status": "unknown",
        "detail": "source unreadable: HTTP 401: the credentials were refused — check the key in the environment"}]
    valid = downwatch("validate", "--config", path, env={"OPENAI_API_KEY": OPENAI_SECRET_KEY})
    assert valid.code == 0 and "OK — 1 monitor" in valid.out
    for ran in (right, wrong, valid):
        for key in (OPENAI_SECRET_KEY, WRONG_SECRET_KEY):
            assert key not in ran.out and key not in ran.err
    assert OPENAI_SECRET_KEY not in caplog.text and WRONG_SECRET_KEY not in caplog.text


def test_our_log_handler_redacts_the_expanded_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a line ever hold one (a library's message), the handler the composition root sets up hides it."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", root.handlers[:])
    monkeypatch.setattr(root, "level", root.level)
    setup_logging({}, secrets=(OPENAI_SECRET_KEY,))
    (ours,) = [h for h in root.handlers if h.get_name() == "downwatch"]
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %s", (f"Bearer {OPENAI_SECRET_KEY}",), None)
    assert ours.filter(record) and record.getMessage() == "sent Bearer ***"


# ---------------------------------------------------------------- bad input: config errors, exit 2


BAD = [
    ('headers = { Authorization = "Bearer ${UNSET_KEY}" }', {},
     "monitors[0] (Probe).headers.Authorization: environment variable UNSET_KEY is not set"),
    ('url = "https://api.example.com/v1/models?key=${OPENAI_API_KEY}"', {},
     "monitors[0] (Probe).url: environment variable OPENAI_API_KEY is not set"),
    ('headers = { Authorization = "Bearer ${OPENAI_API_KEY" }', {"OPENAI_API_KEY": OPENAI_SECRET_KEY},
     "monitors[0] (Probe).headers.Authorization: unterminated '${': write ${NAME} to use the environment "
     "variable NAME"),
    ('headers = { Authorization = "Bearer ${}" }', {},
     "monitors[0] (Probe).headers.Authorization: '${}' is not an environment variable name"),
    ('headers = { Authorization = "Bearer ${OPENAI_API_KEY}" }', {"OPENAI_API_KEY": ""},
     "monitors[0] (Probe).headers.Authorization: environment variable OPENAI_API_KEY is empty"),
    ('headers = { X-Note = "one\\ntwo" }', {},
     "monitors[0] (Probe).headers.X-Note: contains a line break: a header value is one line"),
    ('headers = { Authorization = "Bearer ${OPENAI_API_KEY}" }', {"OPENAI_API_KEY": OPENAI_SECRET_KEY + "\nX: y"},
     "monitors[0] (Probe).headers.Authorization: contains a line break once its environment variables are "
     "expanded"),
    ('headers = { "Bad Name" = "x" }', {}, "monitors[0] (Probe).headers.Bad Name: not a valid header name"),
    ('headers = { Authorization = 5 }', {}, "monitors[0] (Probe).headers.Authorization: must be a string (got 5)"),
    ('headers = "Authorization: x"', {}, "monitors[0] (Probe).headers: must be a table"),
    ('method = "POST"\nbody = "x"\njson = { a = 1 }', {},
     "monitors[0] (Probe).json: give either body (text) or json (a table), not both"),
    ('body = "x"', {}, 'monitors[0] (Probe).body: needs method = "POST" (a GET request carries no body)'),
    ('method = "POST"\njson = { key = "${NOPE}" }', {}, "monitors[0] (Probe).json.key: environment variable NOPE "
     "is not set"),
    ('method = "POST"\njson = [1, 2]', {}, "monitors[0] (Probe).json: must be a table of JSON values"),
    ('url = "${BASE_URL}/v1/models"', {"BASE_URL": "ftp.example.com"},
     "monitors[0] (Probe).url: must be an http:// or https:// URL once its environment variables are expanded"),
]


@pytest.mark.parametrize(("lines", "env", "error"), BAD, ids=[
    "unset", "unset-in-url", "unterminated", "empty-name", "empty-value", "newline", "newline-expanded",
    "header-name", "header-not-string", "headers-not-table", "body-and-json", "body-on-get", "unset-in-json",
    "json-not-table", "url-not-http",
])
def test_bad_input_is_a_config_error_and_validate_exits_2(tmp_path: Path, downwatch: Downwatch, lines: str,
                                                         env: dict[str, str], error: str) -> None:
    path = tmp_path / "downwatch.toml"
    url = "" if lines.startswith("url") else 'url = "https://api.example.com/v1/models"\n'
    path.write_text(f'[[monitors]]\nname = "Probe"\ntype = "http"\n{url}{lines}\n')
    with pytest.raises(ConfigError) as info:
        load_config(str(path), env)
    assert any(e.startswith(f"{path}: {error}") for e in info.value.errors), info.value.errors
    ran = downwatch("validate", "--config", str(path), env=env)
    assert ran.code == 2 and f"{path}: {error}" in ran.err and ran.out == ""
    assert OPENAI_SECRET_KEY not in ran.err
