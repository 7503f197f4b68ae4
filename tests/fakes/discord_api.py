"""A fake Discord (REST + gateway) on 127.0.0.1 that the real discord.py client talks to.

aiohttp.web serves both: `/api/v10/...` REST routes and a `/gateway` websocket speaking HELLO →
IDENTIFY → READY, acknowledging heartbeats. Every request is recorded; tests inject gateway dispatches
(e.g. INTERACTION_CREATE) and wait on recorded requests with `wait_for` (a condition, not a sleep).
Messages keep their components; `message_object(id)` is a message as Discord would put it in a component
interaction (buttons, issue 12), and an interaction callback answers with the dispatched interaction's type.
`intercept` (any async function of the request and its record) may answer a REST call instead of Discord.
A message created with a `nonce` and `enforce_nonce` is remembered for `NONCE_WINDOW` seconds: the same nonce
again returns that first message and creates none, as Discord documents for Create Message (`nonce_hits`
counts those answers).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "775799577604522054"
BOT_ID = "809850198683418695"
# "If true and nonce is present, it will be checked for uniqueness in the past few minutes. If another message
# was created by the same author with the same nonce, that message will be returned and no new message will
# be created." (discord.com/developers/docs/resources/message#create-message, `enforce_nonce`). "A few
# minutes" is not a published figure: two is the conservative reading.
NONCE_WINDOW = 120.0


def _json(data: Any, status: int = 200) -> web.Response:
    """A JSON response with exactly `application/json` (discord.py's json_or_text compares it verbatim)."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeDiscord:
    """Start with `async with FakeDiscord(token=...) as fake:`; `fake.api_url` is the REST base."""

    token: str = "fake-bot-token"
    heartbeat_ms: int = 45000
    requests: list[Recorded] = field(default_factory=list)
    identifies: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: int = 0
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # message id → last body
    threads: set[str] = field(default_factory=set)
    channels: dict[str, str] = field(default_factory=dict)  # message id → its channel id
    interaction_types: dict[str, int] = field(default_factory=dict)  # dispatched interaction id → its type
    # Scripted failures: (method, path prefix) → (status, json body), consumed once.
    failures: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    # Fault injection: answers instead of Discord when it returns a response (None: behave normally).
    intercept: Callable[[web.Request, Recorded], Awaitable[web.StreamResponse | None]] | None = None
    nonces: dict[str, tuple[str, float]] = field(default_factory=dict)  # enforced nonce → (message id, monotonic)
    nonce_hits: int = 0  # creates answered with the message an earlier one made (the same enforced nonce)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(2)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def new_id(self) -> str:
        return str(next(self._ids))

    def fail_next(self, method: str, path_prefix: str, status: int, body: dict[str, Any]) -> None:
        """Make the next request matching (method, path prefix) answer `status` with `body`."""
        self.failures.setdefault((method, path_prefix), []).append((status, body))

    # ------------------------------------------------------------ waiting

    async def _record(self, item: Recorded) -> None:
        async with self._changed:
            self.requests.append(item)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Recorded], bool], *, timeout: float = 10.0) -> Recorded:
        """The first recorded request matching `predicate`, waiting for it to arrive."""

        async def find() -> Recorded:
            async with self._changed:
                while True:
                    for item in self.requests:
                        if predicate(item):
                            return item
                    await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)

    def find(self, method: str, path_contains: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_contains in r.path]

    # ------------------------------------------------------------ gateway

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) event to every connected client."""
        if event == "INTERACTION_CREATE":
            self.interaction_types[str(data["id"])] = int(data["type"])
        payload = {"op": 0, "t": event, "s": next(self._seq), "d": data}
        for ws in list(self._sockets):
            await ws.send_str(json.dumps(payload))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}}))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:  # HEARTBEAT
                    self.heartbeats += 1
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:  # IDENTIFY
                    self.identifies.append(frame["d"])
                    if frame["d"].get("token") != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": 1, "d": self._ready()}))
        finally:
            self._sockets.remove(ws)
        return ws

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {"id": BOT_ID, "username": "downwatch", "discriminator": "0", "avatar": None, "bot": True},
            "guilds": [],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APP_ID, "flags": 0},
        }

    # ------------------------------------------------------------ REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        recorded = Recorded(request.method, path, dict(request.query), body, dict(request.headers))
        await self._record(recorded)
        if self.intercept is not None:
            intercepted = await self.intercept(request, recorded)
            if intercepted is not None:
                return intercepted

        if not (path.startswith("/interactions/") or path.startswith("/webhooks/")):
            if request.headers.get("Authorization") != f"Bot {self.token}":
                return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        for (method, prefix), queue in self.failures.items():
            if method == request.method and path.startswith(prefix) and queue:
                status, payload = queue.pop(0)
                return _json(payload, status=status)
        return await self._route(request.method, path, body)

    async def _route(self, method: str, path: str, body: Any) -> web.StreamResponse:
        parts = path.strip("/").split("/")
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
                }
            )
        if method == "GET" and path == "/users/@me":
            return _json(self._ready()["user"])
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": APP_ID, "name": "downwatch", "icon": None, "description": "", "bot_public": False,
                    "bot_require_code_grant": False, "verify_key": "00", "flags": 0,
                    "owner": {"id": "53908232506183680", "username": "owner", "discriminator": "0", "avatar": None},
                }
            )
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            return _json(
                [
                    {**cmd, "id": self.new_id(), "application_id": APP_ID, "version": "1", "default_member_permissions": None}
                    for cmd in body or []
                ]
            )
        if parts[0] == "channels" and len(parts) >= 3 and parts[2] == "messages":
            channel = parts[1]
            if method == "POST" and len(parts) == 3:
                return _json(self._create(channel, body))
            if method == "PATCH" and len(parts) == 4:
                if parts[3] not in self.messages:
                    return _json({"message": "Unknown Message", "code": 10008}, status=404)
                return _json(self._message(parts[3], channel, body))
            if method == "POST" and len(parts) == 5 and parts[4] == "threads":
                if parts[3] in self.threads:
                    return _json(
                        {"message": "A thread has already been created for this message", "code": 160004}, status=400
                    )
                self.threads.add(parts[3])
                return _json(
                    {"id": parts[3], "type": 11, "parent_id": channel, "name": body["name"], "guild_id": "290926798626357999"},
                    status=201,
                )
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return _json({"interaction": {"id": parts[1], "type": self.interaction_types.get(parts[1], 2)}},
                         status=200)
        if parts[0] == "webhooks" and method == "PATCH" and len(parts) == 5 and parts[4] in self.messages:
            return _json(self._message(parts[4], "645027906669510667", body, webhook_id=parts[1]))  # edit in place
        if parts[0] == "webhooks" and method in ("POST", "PATCH"):
            return _json(self._message(self.new_id(), "645027906669510667", body, webhook_id=parts[1]))
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _create(self, channel: str, body: Any) -> dict[str, Any]:
        """Create Message: a new message, or the one an enforced nonce already made within the window."""
        nonce = body.get("nonce") if isinstance(body, dict) and body.get("enforce_nonce") else None
        if nonce is not None:
            seen = self.nonces.get(str(nonce))
            if seen is not None and time.monotonic() - seen[1] < NONCE_WINDOW:
                self.nonce_hits += 1
                return self.message_object(seen[0])
        message = self._message(self.new_id(), channel, body)
        if nonce is not None:
            self.nonces[str(nonce)] = (message["id"], time.monotonic())
        return message

    def _message(self, message_id: str, channel: str, body: Any, *, webhook_id: str | None = None) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        previous = self.messages.get(message_id, {})
        merged = {**previous, **body}
        self.messages[message_id] = merged
        self.channels.setdefault(message_id, channel)
        return self.message_object(message_id, webhook_id=webhook_id)

    def message_object(self, message_id: str, *, webhook_id: str | None = None) -> dict[str, Any]:
        """Message `message_id` as Discord returns it (and puts it in a component interaction)."""
        merged = self.messages[message_id]
        channel = self.channels.get(message_id, "645027906669510667")
        message = {
            "id": message_id,
            "channel_id": channel,
            "type": 0,
            "content": merged.get("content") or "",
            "embeds": merged.get("embeds") or [],
            "components": merged.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": "2017-07-11T17:27:07.299000+00:00",
            "edited_timestamp": None,
            "author": {"id": BOT_ID, "username": "downwatch", "discriminator": "0", "avatar": None, "bot": True},
        }
        if merged.get("nonce") is not None:
            message["nonce"] = merged["nonce"]
        if webhook_id:
            message["webhook_id"] = webhook_id
        return message
