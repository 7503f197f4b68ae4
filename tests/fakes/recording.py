"""A chat adapter that records what the outbox asked of it and fails on demand (a fake, not a mock)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.chat import ActionHandler, CommandHandler
from bot.model import Alert, AlertKind, SendError, SendResult, Sent


@dataclass
class Call:
    op: str
    channel: str
    ref: str | None
    kind: AlertKind
    alert: Alert
    mention: str | None = None


@dataclass
class RecordingAdapter:
    name: str = "chat"
    keeps_parent: bool = True
    can_edit: bool = True
    can_thread: bool = True
    pace: float = 0.0
    calls: list[Call] = field(default_factory=list)
    failures: list[SendError] = field(default_factory=list)  # returned (in order) before succeeding
    gate: asyncio.Event | None = None  # when set up, every call waits for it (a platform that hangs)
    next_id: int = 0

    async def start(self, handler: CommandHandler, actions: ActionHandler | None = None) -> None:
        self.handler = handler
        self.actions = actions

    async def _answer(self, op: str, channel: str, ref: str | None, alert: Alert, mention: str | None) -> SendResult:
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            return self.failures.pop(0)
        self.calls.append(Call(op, channel, ref, alert.kind, alert, mention))
        if op == "post":
            self.next_id += 1
            return Sent(ref=f"m{self.next_id}")
        return Sent(ref=ref or "")

    async def post(self, channel: str, alert: Alert, *, mention: str | None = None, key: str = "") -> SendResult:
        return await self._answer("post", channel, None, alert, mention)

    async def edit(self, channel: str, ref: str, alert: Alert) -> SendResult:
        return await self._answer("edit", channel, ref, alert, None)

    async def reply(self, channel: str, ref: str, alert: Alert, *, mention: str | None = None) -> SendResult:
        return await self._answer("reply", channel, ref, alert, mention)

    async def stop(self) -> None:
        return None

    def sequence(self) -> list[tuple[str, str | None, str]]:
        return [(c.op, c.ref, c.kind.value) for c in self.calls]
