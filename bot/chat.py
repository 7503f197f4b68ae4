"""The small interface every chat platform lives behind (console, Slack, Discord).

The outbox calls `post`, `edit` and `reply`; the adapter renders the Alert for its platform (pure
functions in its own module) and turns platform failures into `SendError` values: it never raises
for a platform that is down, rate-limited or refusing. Scheduling and retries are the outbox's job.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.model import Alert, Command, Reply, SendResult

CommandHandler = Callable[[Command], Awaitable[Reply]]


class ChatAdapter(Protocol):
    """One chat platform. `name` keys its outbox rows; `threads` is False for webhook-only modes."""

    name: str
    threads: bool
    pace: float  # minimum seconds between two messages to the same channel

    async def start(self, handler: CommandHandler) -> None:
        """Connect, and route the platform's status commands to `handler`."""
        ...

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        """Post a new parent message for the alert; `Sent.ref` identifies it for later edits."""
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
