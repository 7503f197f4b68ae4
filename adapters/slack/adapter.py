"""Slack as a ChatAdapter in bot modes (Socket Mode or HTTP mode), on slack-bolt's AsyncApp.

Alerts go out through one AsyncWebClient (chat.postMessage / chat.update); /status comes in through Bolt,
acknowledged first and answered through the response_url. Failures come back as SendError values.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters import buttons, retry
from adapters.slack.errors import classify, hint
from adapters.slack.platform import SlackConfig, SlackMode
from adapters.slack.render import (
    ACTION_PREFIX,
    render_alert,
    render_apology,
    render_change,
    render_reply,
)
from bot import wording
from bot.chat import ActionHandler, CommandHandler
from bot.clock import Clock, SystemClock
from bot.commands import ACTING, parse_text
from bot.model import (
    ActionResult,
    Actor,
    Alert,
    Reply,
    SendError,
    SendResult,
    Sent,
    Usage,
)

EVENTS_PATH = "/slack/events"
OPERATOR_GROUPS_TTL = 60.0  # seconds a user group's members are trusted before usergroups.users.list again
REQUEST_TIMEOUT = 15  # seconds per Web API call; the outbox retries, so fail fast rather than hang


class SlackAdapter:
    """Posts alerts with the Web API and answers the slash command, in Socket Mode or HTTP mode."""

    name = "slack"
    keeps_parent = can_edit = can_thread = True
    pace = 1.0  # chat.postMessage: about one message per second per channel

    def __init__(
        self,
        *,
        config: SlackConfig,
        client: AsyncWebClient | None = None,
        log: logging.Logger | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._config = config
        self._clock = clock or SystemClock()  # "since 7d" is read against it
        self._log = log or logging.getLogger("downwatch.slack")
        self._owns_client = client is None
        # No retry handlers: slack_sdk's would sleep inside the call; the outbox owns retries and pacing.
        self.client = client or AsyncWebClient(
            token=config.bot_token,
            base_url=config.api_url,
            timeout=REQUEST_TIMEOUT,
            retry_handlers=[],
            logger=self._log.getChild("web"),
        )
        self.app = AsyncApp(
            name="downwatch",
            client=self.client,
            # Pass it explicitly (even empty): AsyncApp would otherwise read SLACK_SIGNING_SECRET itself.
            signing_secret=config.signing_secret or "",
            # Socket Mode requests are not signed; HTTP mode requests must be.
            request_verification_enabled=config.mode is SlackMode.HTTP,
            logger=self._log.getChild("bolt"),
        )
        self._handler: CommandHandler | None = None
        self._actions: ActionHandler | None = None
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}  # user group → (fetched at, its members)
        self._socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._mounted = False  # HTTP mode: /slack/events served by another server (mount), not by start()
        self.port: int | None = None  # HTTP mode: the port actually bound (useful with port 0)

    def __repr__(self) -> str:
        return f"SlackAdapter(mode={self._config.mode.value}, channel={self._config.channel!r})"

    # ------------------------------------------------------------ sending

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        """chat.postMessage of the alert's parent message; `Sent.ref` is its ts."""
        text, blocks = render_alert(self._shown(alert), mention=mention)
        return await self._call(
            "chat.postMessage", channel,
            self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False,
                                         unfurl_media=False),
        )

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        """chat.update of parent `ref` with the alert's current snapshot (no mention: it would not ping)."""
        text, blocks = render_alert(self._shown(alert))
        return await self._call(
            "chat.update", channel, self.client.chat_update(channel=channel, ts=ref, text=text, blocks=blocks),
            editing=True,
        )

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        """chat.postMessage in the thread of parent `ref`, carrying the alert's change line."""
        text, blocks = render_change(alert, mention=mention)
        return await self._call(
            "chat.postMessage", channel,
            self.client.chat_postMessage(channel=channel, thread_ts=ref, text=text, blocks=blocks,
                                         unfurl_links=False, unfurl_media=False),
        )

    def _shown(self, alert: Alert) -> Alert:
        """The alert as this adapter can show it: buttons only when their clicks reach an action handler."""
        return alert if self._actions is not None else replace(alert, buttons=False)

    async def _call(
        self, method: str, channel: str, call: Awaitable[Any], *, editing: bool = False
    ) -> SendResult:
        try:
            response = await call
        except SlackApiError as error:
            status, code, headers = _unpack(error.response)
            result = classify(status=status, error=code, headers=headers, editing=editing)
            self._report(method, channel, result, code)
            return result
        except (aiohttp.ClientError, TimeoutError, OSError, SlackClientError) as error:
            result = retry.unreachable("Slack", error)
            self._report(method, channel, result, None)
            return result
        ts = response.get("ts")
        if not isinstance(ts, str):
            result = SendError(f"{method} answered without a ts", retryable=False)
            self._report(method, channel, result, None)
            return result
        return Sent(ref=ts)

    def _report(self, method: str, channel: str, error: SendError, code: str | None) -> None:
        """One log line per refusal, naming the channel and what to do; never the token."""
        advice = hint(code, channel)
        suffix = f": {advice}" if advice else ""
        if error.retryable:
            wait = f", Slack asked to wait {error.retry_after:g}s" if error.retry_after is not None else ""
            self._log.warning("Slack %s to %s failed, will retry (%s%s)", method, channel, error.reason, wait)
        elif error.message_gone:
            self._log.warning("Slack %s in %s: %s; a fresh message will be posted", method, channel, error.reason)
        else:
            self._log.error("Slack %s to %s refused (%s)%s", method, channel, error.reason, suffix)

    # ------------------------------------------------------------ commands

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        """Register the slash command and the buttons, then connect (Socket Mode) or listen on host:port
        (HTTP mode, unless the bot's web server answers for it)."""
        self._handler = handler
        self._actions = actions
        self.app.command(self._config.command)(self._on_command)
        # block_actions of our buttons, signed like commands in HTTP mode (Bolt checks it: 401 otherwise)
        self.app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(self._on_click)
        if self._config.mode is SlackMode.HTTP and not self._mounted:
            await self._serve_http()
        elif self._config.mode is SlackMode.SOCKET:
            await self._connect_socket()

    async def _on_command(self, ack: Any, command: Mapping[str, Any], respond: Any) -> None:
        """Bolt listener: acknowledge first (Slack's 3 s limit), then answer via the response_url."""
        await ack()
        user = _actor(command.get("user_id"), command.get("user_name"))
        text, blocks = await self.answer(str(command.get("text") or ""), user=user)
        response_type = "ephemeral" if self._config.ephemeral else "in_channel"
        try:
            result = await respond(text=text, blocks=blocks, response_type=response_type)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
            self._log.warning("could not deliver the %s answer (%s)", self._config.command, type(error).__name__)
            return
        status = getattr(result, "status_code", 200)
        if status != 200:
            self._log.warning("Slack refused the %s answer (HTTP %s)", self._config.command, status)

    async def answer(self, text: str, *, user: Actor | None = None) -> tuple[str, list[dict[str, Any]]]:
        """Parse the command text, ask the handler, render the Reply; an exception becomes a short apology.
        `user` typed it: acting commands (ack, mute, unmute) carry it, and need an operator when
        [slack] operators is set."""
        parsed = parse_text(text, now=self._clock.now())
        if isinstance(parsed, Usage):
            return render_reply(parsed)
        if self._handler is None:
            return render_apology()
        if parsed.kind in ACTING:  # only operators act, and the action names who did it
            if user is None or not await self.is_operator(user.id):
                return render_reply(ActionResult(wording.NOT_OPERATOR, changed=False, is_error=True))
            parsed = replace(parsed, actor=user)
        try:
            reply: Reply = await self._handler(parsed)
            return render_reply(reply)
        except Exception:  # a bug in the handler: log it with its trace, show the user a short line
            self._log.exception("the %s command failed", self._config.command)
            return render_apology()

    # ------------------------------------------------------------ buttons (issue 12)

    async def _on_click(self, ack: Any, body: Mapping[str, Any], action: Mapping[str, Any], respond: Any) -> None:
        """Bolt listener for our buttons: acknowledge first, act, then tell the clicker privately."""
        await ack()
        result = await self.click(body, action)
        text, blocks = render_reply(result)
        try:
            if respond is not None and body.get("response_url"):
                await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            else:  # no response_url (not a message button): an ephemeral message in the channel instead
                channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
                user = (body.get("user") or {}).get("id")
                if channel and user:
                    await self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError, SlackClientError) as error:
            self._log.warning("could not tell the clicker what happened (%s)", type(error).__name__)

    async def click(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> ActionResult:
        """A block_actions button press → what it did (or why not), as the clicker should read it."""
        verb = buttons.verb_of(str(action.get("action_id") or "").removeprefix(ACTION_PREFIX))
        user = body.get("user") or {}
        actor = _actor(user.get("id"), user.get("username") or user.get("name"))
        incident = str(action.get("value") or "")
        if verb is None or not incident:
            return ActionResult(wording.UNKNOWN_BUTTON, changed=False, is_error=True)
        if self._actions is None:
            return ActionResult(wording.NO_HANDLER, changed=False, is_error=True)
        if actor is None or not await self.is_operator(actor.id):
            self._log.info("Slack: %s pressed %s but is not an operator", actor.id if actor else "someone", verb)
            return ActionResult(wording.NOT_OPERATOR, changed=False, is_error=True)
        try:
            return await self._actions(buttons.action(verb, incident=incident, actor=actor, now=self._clock.now()))
        except Exception:  # a bug in the handler: log it with its trace, show the clicker a short line
            self._log.exception("the %s button failed", verb)
            return ActionResult(wording.APOLOGY, changed=False, is_error=True)

    async def is_operator(self, user_id: str) -> bool:
        """Whether `user_id` may act: anyone when [slack] operators is unset; else a listed user, or a member
        of a listed user group (usergroups.users.list, kept OPERATOR_GROUPS_TTL seconds)."""
        operators = self._config.operators
        if not operators or user_id in operators:
            return True
        for group in operators:
            if group.startswith("S") and user_id in await self._members(group):
                return True
        return False

    async def _members(self, group: str) -> frozenset[str]:
        now = self._clock.now().timestamp()
        cached = self._groups.get(group)
        if cached is not None and now - cached[0] < OPERATOR_GROUPS_TTL:
            return cached[1]
        members: frozenset[str] = frozenset()
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
            members = frozenset(str(u) for u in response.get("users") or ())
        except SlackApiError as error:
            _, code, _ = _unpack(error.response)
            advice = "add the usergroups:read scope to the app" if code == "missing_scope" else "check the group id"
            self._log.error("Slack: cannot read the members of operator group %s (%s): %s; only the listed users "
                            "may act meanwhile", group, code, advice)
        except (aiohttp.ClientError, TimeoutError, OSError, SlackClientError) as error:
            self._log.warning("Slack: cannot reach Slack for operator group %s (%s)", group, type(error).__name__)
            if cached is not None:
                return cached[1]  # Slack unreachable: the last known members still count
        self._groups[group] = (now, members)
        return members

    def mount(self, app: web.Application) -> str | None:
        """HTTP mode: answer Slack's requests on `app` (the bot's web server, before it starts) instead of
        listening on [slack] host:port; returns the path served. Other modes: nothing to serve, None."""
        if self._config.mode is not SlackMode.HTTP:
            return None
        app.router.add_post(EVENTS_PATH, self._on_http)
        self._mounted = True
        return EVENTS_PATH

    async def _serve_http(self) -> None:
        """Serve /slack/events with Bolt's aiohttp adapter on the running loop, without blocking."""
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, self._on_http)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._config.host, self._config.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._config.port
        self._log.info("Slack HTTP mode: listening on %s:%s%s", self._config.host, self.port, EVENTS_PATH)

    async def _on_http(self, request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except ValueError:
            # Bolt parses the body before it checks the signature: a body starting with "{" that is not
            # JSON (or not UTF-8) raised here and became a 500 for anyone. Found by fuzzing the form parser.
            return web.Response(status=400, text="bad request")
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _connect_socket(self) -> None:
        """Open the Socket Mode websocket without blocking the caller.

        slack_sdk's connect() retries forever (sleeping) on any failure, a bad token included, so we first
        ask for the websocket URL ourselves: a refused token is logged with what to check and we give up;
        otherwise the connection (and the SDK's own reconnects) runs in a background task on this loop.
        """
        url: str | None = None
        try:
            opened = await self.client.apps_connections_open(app_token=self._config.app_token or "")
        except SlackApiError as error:
            status, code, _ = _unpack(error.response)
            if status == 429 or (status or 0) >= 500 or code in ("ratelimited", "service_unavailable"):
                self._log.warning("Slack Socket Mode: Slack is busy (%s); connecting in the background",
                                  code or f"HTTP {status}")
            else:
                self._log.error(
                    "Slack Socket Mode could not connect (%s): check SLACK_APP_TOKEN (an xapp- app-level token with "
                    "the connections:write scope, and Socket Mode enabled in the app); %s will not answer",
                    code or f"HTTP {status}", self._config.command,
                )
                return
        except (aiohttp.ClientError, TimeoutError, OSError, SlackClientError) as error:
            self._log.warning("Slack Socket Mode: cannot reach Slack (%s); connecting in the background",
                              type(error).__name__)
        else:
            url = opened.get("url") if isinstance(opened.get("url"), str) else None
        self._socket = AsyncSocketModeHandler(self.app, self._config.app_token or "",
                                              logger=self._log.getChild("socket"))
        if url:
            self._socket.client.wss_uri = url  # connect() uses it instead of asking again
        self._connecting = asyncio.create_task(self._socket.connect_async(), name="slack-socket-mode")
        self._connecting.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._log.error("Slack Socket Mode stopped (%s); %s will not answer",
                            type(task.exception()).__name__, self._config.command)

    async def stop(self) -> None:
        """Close the websocket or the HTTP listener, then the Web API client's session when we own it."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
            self._connecting = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        session = getattr(self.client, "session", None)
        if self._owns_client and session is not None and not session.closed:
            await session.close()


def _actor(user_id: object, name: object) -> Actor | None:
    """Who typed or clicked, from Slack's user id and name (None without an id)."""
    if not isinstance(user_id, str) or not user_id:
        return None
    return Actor(id=user_id, name=name if isinstance(name, str) and name else user_id, platform="slack")


def _unpack(response: Any) -> tuple[int | None, str | None, dict[str, str]]:
    """(HTTP status, Slack error code, headers) from a SlackApiError's response.

    Usually an AsyncSlackResponse; an aiohttp ClientResponse when the body claimed JSON but was not.
    """
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    headers: dict[str, str] = {}
    for key, value in (getattr(response, "headers", None) or {}).items():
        headers[str(key)] = value[0] if isinstance(value, list) and value else str(value)
    return (status if isinstance(status, int) else None), (code if isinstance(code, str) else None), headers
