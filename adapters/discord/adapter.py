"""Discord bot mode: a discord.py client on the gateway for slash commands, REST for alerts and threads.

Shaped after discord.py's examples/advanced_startup.py: dependencies go to the client's constructor,
async set-up (gateway discovery, command sync) happens in `setup_hook`, the token is given to `start()`.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, Final, Optional, cast

import aiohttp
import discord
import yarl
from discord import app_commands

from adapters import buttons, retry
from adapters.discord.platform import DiscordConfig
from adapters.discord.render import (
    CUSTOM_ID_PREFIX,
    mention_for,
    parse_custom_id,
    render_alert,
    render_buttons,
    render_change,
    render_reply,
    thread_name,
)
from bot import wording
from bot.chat import ActionHandler, CommandHandler
from bot.clock import Clock
from bot.commands import (
    ACTING,
    COMMANDS,
    MAX_LIMIT,
    WINDOWS,
    ArgKind,
    Argument,
    CommandSpec,
    build,
    help_text,
    usage_error,
)
from bot.model import ActionResult, Actor, Alert, CommandKind, Reply, SendError, SendResult, Sent, Usage

Names = Callable[[], Awaitable[list[str]]]

READY_TIMEOUT = 30.0
MAX_RATELIMIT_WAIT = 30.0  # longer 429 waits come back as SendError(retry_after) for the outbox to schedule
AUTOCOMPLETE_MAX = 25  # https://discord.com/developers/docs/interactions/application-commands#autocomplete
CHOICE_NAME_MAX = 100
THREAD_ARCHIVE_MINUTES: Final = 1440  # one day

# JSON error codes: https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
THREAD_ALREADY_EXISTS = 160004
CANNOT_ACT_ON_CHANNEL_TYPE = 50024
UNKNOWN_MESSAGE = 10008

SEND_PERMISSIONS = "View Channel, Send Messages and Embed Links"
THREAD_PERMISSIONS = "Create Public Threads and Send Messages in Threads"


# ---------------------------------------------------------------- slash commands from the command table

HELP = Usage(help_text(slash=True))
Answer = Callable[[str, discord.Interaction, dict[str, object]], Awaitable[None]]
Complete = Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def _option_type(argument: Argument) -> object:
    """The option's type on Discord: a count is an integer Discord bounds itself; the rest are text."""
    if argument.kind is ArgKind.COUNT:
        return app_commands.Range[int, 1, MAX_LIMIT]
    return str


def slash_command(
    spec: CommandSpec, answer: Answer, complete: Complete | None
) -> app_commands.Command[Any, ..., None]:
    """One row of bot.commands.COMMANDS as a discord.py slash command: one optional option per argument.

    discord.py reads a command's options from its callback's signature, so the callback takes `**options`
    and carries a signature built from the row (inspect.signature honours `__signature__`).
    """

    async def callback(interaction: discord.Interaction, **options: object) -> None:
        await answer(spec.name, interaction, options)

    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    parameters += [
        inspect.Parameter(a.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Optional[_option_type(a)])  # noqa: UP045 (a runtime object, not a hint)
        for a in spec.arguments
    ]
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.name, description=spec.summary, callback=callback
    )
    app_commands.describe(**{a.name: a.summary for a in spec.arguments})(command)
    windows = [app_commands.Choice(name=w, value=w) for w in WINDOWS]
    app_commands.choices(**{a.name: windows for a in spec.arguments if a.kind is ArgKind.WINDOW})(command)
    for argument in spec.arguments:
        if argument.kind is ArgKind.TARGET and complete is not None:
            command.autocomplete(argument.name)(complete)
    return command


def matching_names(names: list[str], typed: str) -> list[str]:
    """Autocomplete: names containing what was typed (prefix matches first), at most 25."""
    wanted = typed.casefold().strip()
    hits = [n for n in names if wanted in n.casefold() and len(n) <= CHOICE_NAME_MAX]
    hits.sort(key=lambda n: (not n.casefold().startswith(wanted), n.casefold()))
    return hits[:AUTOCOMPLETE_MAX]


# ---------------------------------------------------------------- the discord.py client


class _Tree(app_commands.CommandTree):
    """Command tree whose errors (an option discord.py itself rejected) get the short usage, privately."""

    def __init__(self, client: discord.Client, *, log: logging.Logger) -> None:
        super().__init__(client)
        self._log = log

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        self._log.info("discord: command error: %s", type(error).__name__)
        if not interaction.response.is_done():
            embeds = render_reply(usage_error(wording.OPTION_NOT_VALID, slash=True))
            await interaction.response.send_message(embeds=embeds, ephemeral=True)


class _Client(discord.Client):
    """discord.Client with our slash commands; dependencies come through the constructor."""

    def __init__(
        self,
        *,
        answer: Callable[[str, discord.Interaction, dict[str, object]], Awaitable[None]],
        click: Callable[[discord.Interaction], Awaitable[None]],
        names: Names | None,
        guild_id: int | None,
        discover_gateway: bool,
        log: logging.Logger,
    ) -> None:
        # Only the (unprivileged) guilds intent, which discord.py's state expects: slash commands
        # arrive as INTERACTION_CREATE whatever the intents, and alerts go through REST.
        # guild_ready_timeout=0: discord.py otherwise holds `ready` back 2 s waiting for GUILD_CREATEs to
        # fill its guild cache, which this bot never reads (it sends through channel ids over REST).
        super().__init__(
            intents=discord.Intents(guilds=True),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            guild_ready_timeout=0.0,
        )
        self.tree = _Tree(self, log=log)
        self._answer = answer
        self._click = click
        self._names = names
        self._guild_id = guild_id
        self._discover_gateway = discover_gateway
        self._log = log
        self.gateway_url: yarl.URL | None = None

    async def setup_hook(self) -> None:
        if self._discover_gateway:
            _shards, url, _limits = await self.http.get_bot_gateway()
            self.gateway_url = yarl.URL(url)
            # discord.py connects to the class attribute DiscordWebSocket.DEFAULT_GATEWAY (and falls back to
            # it when a session is invalidated); only AutoShardedClient asks /gateway/bot. Setting it is
            # the one hook that covers first connect and re-identify; resumes use READY's
            # resume_gateway_url. The adapter sets it only when DISCORD_API_URL is configured and restores
            # it on stop.
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self.gateway_url
        for command in self._commands():
            self.tree.add_command(command)
        guild = discord.Object(id=self._guild_id) if self._guild_id else None
        if guild:
            self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
            self._log.info("discord: %d slash commands synced %s", len(synced), f"to guild {guild.id}" if guild else "globally")
        except discord.Forbidden:
            self._log.error(
                "discord: cannot register slash commands: invite the bot with the applications.commands scope"
            )
        except discord.HTTPException as exc:
            self._log.error("discord: slash command sync failed (%s %s); alerts still work", exc.status, exc.text[:200])

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Our buttons' clicks (component interactions). Read from the custom_id alone, not from a view kept
        in memory, so a button on a message posted before a restart still works."""
        if interaction.type is not discord.InteractionType.component:
            return
        if custom_id(interaction).startswith(CUSTOM_ID_PREFIX + ":"):
            await self._click(interaction)

    def _commands(self) -> list[app_commands.Command[Any, ..., None]]:
        complete = self._complete if self._names is not None else None
        return [slash_command(spec, self._answer, complete) for spec in COMMANDS]

    async def _complete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        assert self._names is not None
        try:
            names = await self._names()
        except Exception:
            self._log.exception("discord: autocomplete names failed")
            return []
        return [app_commands.Choice(name=n, value=n) for n in matching_names(names, current)]


# ---------------------------------------------------------------- the adapter


# discord.py's HTTP session has no request timeout and retries 5xx with its own sleeps: bound every call,
# so a hung Discord only holds the Discord worker this long before the outbox retries.
CALL_TIMEOUT = 30.0


def nonce(alert: Alert, purpose: str) -> str:
    """The same message always gets the same nonce; with enforce_nonce (discord.py sets it with a nonce)
    Discord returns the first message instead of creating a second when a retry follows a lost answer
    or a crash between "sent" and "recorded" (within Discord's dedup window of a few minutes)."""
    key = f"{alert.incident_id}|{alert.kind.value}|{alert.at.isoformat()}|{purpose}"
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()  # 24 chars: Discord allows 25

class DiscordAdapter:
    """ChatAdapter for a Discord bot: alerts as embeds edited in place, changes in a thread, slash commands."""

    name = "discord"
    keeps_parent = can_edit = can_thread = True
    # Discord allows 5 messages per 5 s per channel; 0.5 s keeps a burst (post + thread + reply) quick
    # while discord.py's bucket handling absorbs the rest.
    pace = 0.5

    def __init__(
        self,
        *,
        config: DiscordConfig,
        clock: Clock,
        log: logging.Logger | None = None,
        names: Names | None = None,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        if not config.bot_token:
            raise ValueError("DiscordAdapter needs config.bot_token")
        self._config = config
        self._log = log or logging.getLogger("downwatch.discord")
        self._names = names
        self._clock = clock
        self._ready_timeout = ready_timeout
        self._handler: CommandHandler | None = None
        self._actions: ActionHandler | None = None
        self._client: _Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._saved: tuple[str, yarl.URL] | None = None
        self._threads: dict[str, str] = {}  # parent ref → thread id, known to exist
        self._no_threads: set[str] = set()  # channels where threads cannot be used
        self._logged: set[tuple[str, str]] = set()  # (channel, problem) already logged once
        self._claim: Callable[[str], Awaitable[bool]] | None = None  # a cluster's (bot/chat.py Claiming)

    def claim_with(self, claim: Callable[[str], Awaitable[bool]]) -> None:
        """Answer an interaction only when `claim(its id)` says this replica is the one: every replica's
        gateway session receives it."""
        self._claim = claim

    async def _claimed(self, interaction: discord.Interaction) -> bool:
        if self._claim is None or await self._claim(f"discord:{interaction.id}"):
            return True
        self._log.debug("discord: interaction %s answered by another replica", interaction.id)
        return False

    def __repr__(self) -> str:
        return f"DiscordAdapter(guild_id={self._config.guild_id!r}, api_url={self._config.api_url!r})"

    @property
    def client(self) -> discord.Client | None:
        """The underlying discord.py client once started (tests and diagnostics)."""
        return self._client

    # ------------------------------------------------------------ lifecycle

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        """Log in, sync the slash commands and connect to the gateway in the background; wait until ready.
        Button clicks go to `actions` (without it, alerts carry no buttons)."""
        self._handler = handler
        self._actions = actions
        if self._config.api_url:
            # discord.py builds every REST URL (bot and interaction webhooks alike) from the class
            # attribute Route.BASE; there is no per-client setting. Only set when DISCORD_API_URL is
            # configured (proxies, the local fake in tests), restored by stop().
            self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
            discord.http.Route.BASE = self._config.api_url.rstrip("/")
        self._client = _Client(
            answer=self._answer,
            click=self._on_click,
            names=self._names,
            guild_id=self._config.guild_id,
            discover_gateway=bool(self._config.api_url),
            log=self._log,
        )
        token = self._config.bot_token
        assert token is not None
        self._task = asyncio.create_task(self._client.start(token), name="discord-gateway")
        ready = asyncio.create_task(self._client.wait_until_ready())
        done, _ = await asyncio.wait({self._task, ready}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            user = self._client.user
            self._log.info("discord: connected as %s (%s)", user, user.id if user else "?")
            return
        ready.cancel()
        if self._task in done:
            exc = self._task.exception()
            if isinstance(exc, discord.LoginFailure):
                self._log.error("discord: login failed: check DISCORD_BOT_TOKEN")
            else:
                self._log.error("discord: the client stopped while connecting: %r", exc)
        else:
            self._log.warning("discord: gateway not ready after %.0fs; still trying in the background", self._ready_timeout)

    async def stop(self) -> None:
        """Close the gateway cleanly and undo the API URL override."""
        if self._client is not None:
            await self._client.close()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                pass
            except Exception as exc:  # the client already failed at start; it was logged then
                self._log.debug("discord: client task ended with %s", type(exc).__name__)
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    # ------------------------------------------------------------ slash commands

    async def _answer(self, name: str, interaction: discord.Interaction, options: dict[str, object]) -> None:
        """Validate options (usage reply, private), then defer and follow up with the handler's answer.

        Bad options and /help are answered here, at once and privately, with the slash-command help.
        """
        if not await self._claimed(interaction):
            return
        command = build(name, options, now=self._clock.now())
        if isinstance(command, Usage) or command.kind is CommandKind.HELP:
            usage = usage_error(command.message, slash=True) if isinstance(command, Usage) else HELP
            await interaction.response.send_message(embeds=render_reply(usage), ephemeral=True)
            return
        acting = command.kind in ACTING
        if acting:
            if not self.is_operator(interaction.user):
                result = ActionResult(wording.NOT_OPERATOR, changed=False, is_error=True)
                await interaction.response.send_message(embeds=render_reply(result), ephemeral=True)
                return
            command = replace(command, actor=_actor(interaction.user))
        # Always defer: answers read SQLite and can take longer than Discord's 3 s window; one
        # extra request is cheaper than a failed interaction. The one who acted is answered privately:
        # the alert's edit and thread line tell everyone else.
        await interaction.response.defer(thinking=True, ephemeral=acting)
        reply: Reply
        try:
            assert self._handler is not None
            reply = await self._handler(command)
        except Exception:
            self._log.exception("discord: /%s failed", name)
            reply = Usage(wording.APOLOGY, is_error=True)
        await interaction.followup.send(embeds=render_reply(reply), allowed_mentions=discord.AllowedMentions.none(),
                                        ephemeral=acting)

    # ------------------------------------------------------------ buttons (issue 12)

    async def _on_click(self, interaction: discord.Interaction) -> None:
        """A click on one of our buttons: a deferred update at once (Discord's 3 s), then the outcome privately.
        The message itself is edited through the outbox, like every other change to an alert."""
        if not await self._claimed(interaction):
            return
        try:
            await interaction.response.defer()  # DEFERRED_UPDATE_MESSAGE: no "thinking…", no new message
        except discord.HTTPException as exc:  # the interaction expired or was answered elsewhere
            self._log.warning("discord: could not acknowledge a button click (%s)", exc.status)
            return
        result = await self.click(interaction)
        try:
            await interaction.followup.send(embeds=render_reply(result), ephemeral=True,
                                            allowed_mentions=discord.AllowedMentions.none())
        except self._NETWORK as exc:
            self._log.warning("discord: could not tell the clicker what happened (%s)", type(exc).__name__)

    async def click(self, interaction: discord.Interaction) -> ActionResult:
        """What a click did (or why it did nothing), as the clicker should read it."""
        parsed = parse_custom_id(custom_id(interaction))
        if parsed is None:
            return ActionResult(wording.UNKNOWN_BUTTON, changed=False, is_error=True)
        if self._actions is None:
            return ActionResult(wording.NO_HANDLER, changed=False, is_error=True)
        verb, incident = parsed
        if not self.is_operator(interaction.user):
            self._log.info("discord: %s pressed %s but has no operator role", interaction.user.id, verb)
            return ActionResult(wording.NOT_OPERATOR, changed=False, is_error=True)
        action = buttons.action(verb, incident=incident, actor=_actor(interaction.user), now=self._clock.now())
        try:
            return await self._actions(action)
        except Exception:  # a bug in the handler: log it with its trace, show the clicker a short line
            self._log.exception("discord: the %s button failed", verb)
            return ActionResult(wording.APOLOGY, changed=False, is_error=True)

    def is_operator(self, user: discord.User | discord.Member) -> bool:
        """Anyone when [discord] operator_roles is unset; else a server member holding one of those roles."""
        roles = self._config.operator_roles
        if not roles:
            return True
        # The member's role ids as the interaction carries them (Member.roles needs the guild cache, which
        # this bot does not keep: it asks for no privileged intents).
        return isinstance(user, discord.Member) and any(user._roles.has(role) for role in roles)

    # ------------------------------------------------------------ alerts

    def _channel(self, channel: str | int) -> discord.PartialMessageable:
        assert self._client is not None
        return self._client.get_partial_messageable(int(channel))

    def _once(self, channel: str, problem: str, message: str, *args: object) -> None:
        if (channel, problem) not in self._logged:
            self._logged.add((channel, problem))
            self._log.error(message, *args)

    def _failure(self, exc: Exception, *, channel: str, action: str, editing: bool = False) -> SendError:
        """Map a discord.py or network failure to a SendError with the shared retry rule (never the token)."""
        if isinstance(exc, discord.RateLimited):
            # discord.py's own verdict, not an answer: the bucket's wait exceeded MAX_RATELIMIT_WAIT.
            result = SendError("rate limited", retryable=True, retry_after=exc.retry_after, rate_limited=True)
        elif isinstance(exc, discord.HTTPException):
            headers = dict(getattr(exc.response, "headers", None) or {})
            detail = f" ({exc.code}) {exc.text[:100]}".rstrip()
            result = retry.classify(exc.status, service="Discord", headers=headers, detail=detail,
                                    gone=editing or exc.code == UNKNOWN_MESSAGE) or SendError(
                f"HTTP {exc.status}{detail}", retryable=False)
            if isinstance(exc, discord.NotFound) and not result.message_gone:
                self._once(channel, "notfound", "discord: channel %s not found (wrong id, or the bot cannot see it)",
                           channel)
            elif isinstance(exc, discord.Forbidden):
                self._once(
                    channel, "forbidden",
                    "discord: missing permissions in channel %s (%s); grant the bot %s there",
                    channel, exc.text[:100], SEND_PERMISSIONS,
                )
        else:
            result = retry.unreachable("Discord", exc)
        return replace(result, reason=f"{action}: {result.reason}")

    _NETWORK = (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError)

    def _connected(self) -> SendError | None:
        if self._client is None or self._client.is_closed() or self._client.user is None:
            return SendError(reason="discord client not connected", retryable=True)
        return None

    @staticmethod
    def _mentions(mention: str | None) -> tuple[str | None, discord.AllowedMentions]:
        """The content that pings `mention` and the allowed_mentions that let only it ping."""
        content, allowed = mention_for(mention)
        if allowed.get("roles"):
            roles = [discord.Object(int(allowed["roles"][0]))]
            return content, discord.AllowedMentions(everyone=False, users=False, roles=roles)
        if allowed.get("parse"):
            return content, discord.AllowedMentions(everyone=True, users=False, roles=False)
        return None, discord.AllowedMentions.none()

    def _buttons(self, alert: Alert) -> discord.ui.View | None:
        """The alert's buttons, only when their clicks reach an action handler."""
        return render_buttons(alert) if self._actions is not None else None

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        if (error := self._connected()) is not None:
            return error
        content, allowed_mentions = self._mentions(mention)
        view = self._buttons(alert)
        try:
            message = await asyncio.wait_for(self._channel(channel).send(
                content=content, embed=render_alert(alert), allowed_mentions=allowed_mentions,
                nonce=nonce(alert, "post"), view=cast(discord.ui.View, view),  # None (its default): no buttons
            ), CALL_TIMEOUT)
        except self._NETWORK as exc:
            return self._failure(exc, channel=channel, action="post")
        return Sent(ref=str(message.id))

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        if (error := self._connected()) is not None:
            return error
        if not ref.isdigit():
            return SendError(reason="invalid message ref", retryable=False, message_gone=True)
        try:
            # view=None removes the buttons (resolved, or nothing can handle them)
            await asyncio.wait_for(self._channel(channel).get_partial_message(int(ref)).edit(
                embed=render_alert(alert), allowed_mentions=discord.AllowedMentions.none(),
                view=self._buttons(alert),
            ), CALL_TIMEOUT)
        except self._NETWORK as exc:
            return self._failure(exc, channel=channel, action="edit", editing=True)
        return Sent(ref=ref, thread_ref=self._threads.get(ref))

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        if (error := self._connected()) is not None:
            return error
        if not ref.isdigit():
            return SendError(reason="invalid message ref", retryable=False, message_gone=True)
        ping, mentions = self._mentions(mention)
        text = (f"{ping} " if ping else "") + render_change(alert)
        if channel not in self._no_threads:
            thread = await self._thread(channel, ref, alert)
            if isinstance(thread, SendError):
                return thread
            if thread is not None:
                try:
                    message = await asyncio.wait_for(self._channel(thread).send(
                        content=text, allowed_mentions=mentions, nonce=nonce(alert, "reply"),
                    ), CALL_TIMEOUT)
                    return Sent(ref=str(message.id), thread_ref=thread)
                except discord.Forbidden:
                    self._threads_unavailable(channel, "cannot send in the thread")
                except self._NETWORK as exc:
                    return self._failure(exc, channel=channel, action="thread reply")
        try:
            reference = discord.MessageReference(message_id=int(ref), channel_id=int(channel), fail_if_not_exists=False)
            message = await asyncio.wait_for(self._channel(channel).send(
                content=text, reference=reference, allowed_mentions=mentions,
                nonce=nonce(alert, "reply"),
            ), CALL_TIMEOUT)
        except self._NETWORK as exc:
            return self._failure(exc, channel=channel, action="reply")
        return Sent(ref=str(message.id))

    async def _thread(self, channel: str, ref: str, alert: Alert) -> str | SendError | None:
        """The thread started from parent `ref` (created when missing); None when threads are unavailable."""
        if ref in self._threads:
            return self._threads[ref]
        assert self._client is not None
        try:
            data = await asyncio.wait_for(self._client.http.start_thread_with_message(
                int(channel), int(ref), name=thread_name(alert), auto_archive_duration=THREAD_ARCHIVE_MINUTES
            ), CALL_TIMEOUT)
            thread = str(data["id"])
        except discord.HTTPException as exc:
            if exc.code == THREAD_ALREADY_EXISTS:
                thread = ref  # a thread started from a message has the message's id
            elif isinstance(exc, discord.Forbidden) or exc.code == CANNOT_ACT_ON_CHANNEL_TYPE:
                self._threads_unavailable(channel, exc.text[:100])
                return None
            else:
                return self._failure(exc, channel=channel, action="create thread")
        except self._NETWORK as exc:
            return self._failure(exc, channel=channel, action="create thread")
        self._threads[ref] = thread
        return thread

    def _threads_unavailable(self, channel: str, why: str) -> None:
        self._no_threads.add(channel)
        self._once(
            channel, "threads",
            "discord: cannot use threads in channel %s (%s); grant the bot %s. Replying in the channel meanwhile.",
            channel, why, THREAD_PERMISSIONS,
        )


def custom_id(interaction: discord.Interaction) -> str:
    """A component interaction's custom_id ('' for other interactions)."""
    data: Mapping[str, object] = cast(Mapping[str, object], interaction.data or {})
    value = data.get("custom_id")
    return value if isinstance(value, str) else ""


def _actor(user: discord.User | discord.Member) -> Actor:
    """Who clicked or typed: the Discord user id and user name (the alert shows "@name")."""
    return Actor(id=str(user.id), name=user.name, platform="discord")
