"""A fake Slack on 127.0.0.1 (real HTTP, aiohttp): the Web API, response_urls, incoming webhooks, Socket Mode.

    async with FakeSlack(token="xoxb-test") as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        slack.fail("chat.postMessage", rate_limited(retry_after=3))   # the next call gets this, then normal
        ...
        assert [c.method for c in slack.calls] == ["chat.postMessage"]

Every request is recorded in `slack.calls` (method, params, headers) in arrival order. Programmed answers
(`Canned`) are consumed one per call, so "three 503s then success" is `fail(m, server_error(), …×3)`.
Messages are kept per (channel, ts): chat.update of an unknown ts answers `message_not_found`, as Slack does.
Socket Mode: `apps.connections.open` hands out a websocket URL on this server; `send_envelope` pushes a
Slack envelope to the connected client and `acks` records what the client acknowledged.
Buttons: a block_actions `response_url` (`action_response_url`) records like a command's ("response_url");
`usergroups.users.list` answers from `usergroups` (group id → user ids; an unknown group is `no_such_subteam`)
and `chat.postEphemeral` is recorded and accepted.
Nothing here sleeps: waiting is on events set by arriving requests.
Fault injection beyond the queue: `intercept` (any async function of the request and its Call) may answer
instead of Slack; `answered` runs after a normal answer has been written to the socket (crash tests kill
the bot there, between "sent" and "recorded as sent").
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web


@dataclass(frozen=True)
class Canned:
    """One programmed answer: HTTP status, headers, and a JSON (dict) or raw (str) body."""

    status: int = 200
    body: Mapping[str, Any] | str = field(default_factory=lambda: {"ok": True})
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    disconnect: bool = False  # drop the connection without answering


def rate_limited(retry_after: float | None = None) -> Canned:
    """HTTP 429 `{"ok":false,"error":"ratelimited"}`, with or without a Retry-After header."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Canned(429, {"ok": False, "error": "ratelimited"}, headers)


def server_error(status: int = 503, html: bool = True) -> Canned:
    """A 5xx from a proxy in front of Slack (HTML), or Slack's own JSON one."""
    if html:
        return Canned(status, f"<html><body><h1>{status}</h1></body></html>", content_type="text/html")
    return Canned(status, {"ok": False, "error": "service_unavailable"})


def slack_error(code: str, **extra: Any) -> Canned:
    """HTTP 200 with `{"ok": false, "error": code}`: how the Web API refuses (channel_not_found, …)."""
    return Canned(200, {"ok": False, "error": code, **extra})


def disconnect() -> Canned:
    """Close the connection without answering (the client sees a server disconnect)."""
    return Canned(disconnect=True)


@dataclass(frozen=True)
class Call:
    """One recorded request. `method` is the Web API method, or "response_url" / "webhook"."""

    method: str
    path: str
    params: Mapping[str, Any]
    headers: Mapping[str, str]


class FakeSlack:
    def __init__(self, *, token: str = "xoxb-test-token", app_token: str = "xapp-test-token") -> None:
        self.token = token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.acks: list[dict[str, Any]] = []
        self.usergroups: dict[str, list[str]] = {}
        self._faults: dict[str, deque[Canned]] = defaultdict(deque)
        self._ts = 1_700_000_000_000100
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Optional fault hooks (see the module docstring); None = behave like Slack.
        self.intercept: Callable[[web.Request, Call], Awaitable[web.StreamResponse | None]] | None = None
        self.answered: Callable[[Call], Awaitable[None]] | None = None

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads some methods with GET (usergroups.*)
        app.router.add_post("/commands/{tail:.*}", self._response_url)
        app.router.add_post("/actions/{tail:.*}", self._response_url)
        app.router.add_post("/services/{tail:.*}", self._webhook)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL / AsyncWebClient(base_url=...) should be."""
        return f"{self.url}/api/"

    def response_url(self, name: str = "1234/5678") -> str:
        return f"{self.url}/commands/T0001/{name}"

    def action_response_url(self, name: str = "1234/5678") -> str:
        """A block_actions response_url, shaped like Slack's (https://hooks.slack.com/actions/T…/…/…)."""
        return f"{self.url}/actions/T0001/{name}"

    def webhook_url(self, secret: str = "B0001/XXXXsecretXXXX") -> str:
        return f"{self.url}/services/T0001/{secret}"

    # ------------------------------------------------------------ programming and inspecting

    def fail(self, method: str, *answers: Canned) -> None:
        """Queue answers for the next calls of `method` ("chat.postMessage", "webhook", "response_url")."""
        self._faults[method].extend(answers)

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `count` calls of `method` arrived (for work Slack's client does in the background)."""
        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.called(method)) >= count)

        await asyncio.wait_for(enough(), timeout)
        return self.called(method)

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        async def acked() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: any(a.get("envelope_id") == envelope_id for a in self.acks))

        await asyncio.wait_for(acked(), timeout)
        return next(a for a in self.acks if a.get("envelope_id") == envelope_id)

    async def wait_for_socket(self, timeout: float = 5.0) -> None:
        async def connected() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._sockets))

        await asyncio.wait_for(connected(), timeout)

    async def send_envelope(self, envelope_type: str, payload: Mapping[str, Any]) -> str:
        """Push a Socket Mode envelope (e.g. "slash_commands") to the connected client; returns its id."""
        envelope_id = str(uuid.uuid4())
        message = {"envelope_id": envelope_id, "type": envelope_type, "payload": dict(payload),
                   "accepts_response_payload": envelope_type == "slash_commands", "retry_attempt": 0}
        await self._sockets[-1].send_str(json.dumps(message))
        return envelope_id

    # ------------------------------------------------------------ handlers

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query)
        raw = await request.text()
        if request.content_type == "application/json":
            return json.loads(raw or "{}")
        return dict(parse_qsl(raw, keep_blank_values=True))

    def _canned(self, method: str) -> Canned | None:
        queue = self._faults.get(method)
        return queue.popleft() if queue else None

    async def _answer(self, request: web.Request, canned: Canned) -> web.StreamResponse:
        if canned.disconnect:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)  # never reaches the client
        if isinstance(canned.body, str):
            return web.Response(status=canned.status, text=canned.body, headers=dict(canned.headers),
                                content_type=canned.content_type)
        return web.json_response(dict(canned.body), status=canned.status, headers=dict(canned.headers))

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, request.path, params, dict(request.headers))
        await self._record(call)
        if self.intercept is not None:
            intercepted = await self.intercept(request, call)
            if intercepted is not None:
                return intercepted
        response = await self._api_answer(request, method, params)
        if self.answered is not None:
            await response.prepare(request)
            await response.write_eof()  # the client has the whole answer before the hook runs
            await self.answered(call)
        return response

    async def _api_answer(self, request: web.Request, method: str, params: Mapping[str, Any]) -> web.StreamResponse:
        canned = self._canned(method)
        if canned is not None:
            return await self._answer(request, canned)
        expected = self.app_token if method == "apps.connections.open" else self.token
        if request.headers.get("Authorization") != f"Bearer {expected}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://example.slack.com/", "team": "Example",
                                      "user": "downwatch", "team_id": "T0001", "user_id": "U0BOT",
                                      "bot_id": "B0BOT", "is_enterprise_install": False})
        if method == "chat.postMessage":
            return web.json_response(self._post(params))
        if method == "chat.update":
            key = (str(params.get("channel")), str(params.get("ts")))
            if key not in self.messages:
                return web.json_response({"ok": False, "error": "message_not_found"})
            self.messages[key] = {**self.messages[key], "text": params.get("text"), "blocks": params.get("blocks")}
            return web.json_response({"ok": True, "channel": key[0], "ts": key[1], "text": params.get("text"),
                                      "message": {"text": params.get("text"), "user": "U0BOT"}})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        if method == "usergroups.users.list":
            group = str(params.get("usergroup"))
            if group not in self.usergroups:
                return web.json_response({"ok": False, "error": "no_such_subteam"})
            return web.json_response({"ok": True, "users": self.usergroups[group]})
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": "1700000000.000001"})
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    def _post(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """chat.postMessage, shaped like the documented success (tests/data/slack_chat.postMessage_ok_docs.json)."""
        channel = str(params.get("channel"))
        thread = params.get("thread_ts")
        self._ts += 1
        ts = f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
        message = {"type": "message", "subtype": "bot_message", "bot_id": "B0BOT", "ts": ts,
                   "text": params.get("text"), "blocks": params.get("blocks")}
        if thread is not None:
            message["thread_ts"] = thread
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        await self._record(Call("response_url", request.path, await self._params(request), dict(request.headers)))
        canned = self._canned("response_url")
        return await self._answer(request, canned or Canned(200, "ok", content_type="text/plain"))

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        await self._record(Call("webhook", request.path, await self._params(request), dict(request.headers)))
        canned = self._canned("webhook")
        return await self._answer(request, canned or Canned(200, "ok", content_type="text/plain"))

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with self._changed:
            self._sockets.append(ws)
            self._changed.notify_all()
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "connection_info": {"app_id": "A0001"}}))
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    async with self._changed:
                        self.acks.append(json.loads(message.data))
                        self._changed.notify_all()
        finally:
            self._sockets.remove(ws)
        return ws
