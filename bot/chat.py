"""The small interface every chat platform lives behind (console, Slack, Discord, the generic webhook).

The outbox calls `post`, `edit` and `reply`; the adapter renders the Alert for its platform (pure
functions in its own module) and turns platform failures into `SendError` values: it never raises
for a platform that is down, rate-limited or refusing. Scheduling and retries are the outbox's job.
How a platform is configured and built is its `bot.platform.Platform`'s job.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from bot.model import Action, ActionResult, Alert, Command, Reply, SendResult

CommandHandler = Callable[[Command], Awaitable[Reply]]
ActionHandler = Callable[[Action], Awaitable[ActionResult]]  # a button click (issue 12: bot/operate.py)


class ChatAdapter(Protocol):
    """One chat platform. `name` keys its outbox rows; three capabilities tell the outbox what it can do."""

    name: str
    keeps_parent: bool  # one parent message per incident, which later rows edit or reply to
    can_edit: bool  # the parent can be rewritten (False: edit rows are skipped, the reply carries the change)
    can_thread: bool  # replies land in the parent's thread (False: they are channel messages)
    pace: float  # minimum seconds between two messages to the same channel

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        """Connect, and route the platform's status commands to `handler` and button clicks to `actions`.
        Without `actions` (or on a platform that cannot receive clicks) messages carry no buttons."""
        ...

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        """Post a new message for the alert; `Sent.ref` identifies it for later edits. `key` is the same on
        every try of one outbox message, for platforms that deduplicate (an Idempotency-Key)."""
        ...

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        """Rewrite the parent message `ref` to show the alert's current snapshot."""
        ...

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        """Post the alert's short change line in the thread of parent `ref` (with `mention` when given)."""
        ...

    async def stop(self) -> None:
        """Disconnect and release resources."""
        ...


@runtime_checkable
class Claiming(Protocol):
    """An adapter whose interactions every replica of a cluster receives (Discord's gateway): it answers one
    only after `claim(interaction id)` said this replica is the one (bot/cluster.py, a row per claim)."""

    def claim_with(self, claim: Callable[[str], Awaitable[bool]]) -> None: ...
