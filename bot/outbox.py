"""Delivery: which messages an alert needs (pure `plan`), and the Sender that drains the outbox.

The engine decides once; a failed delivery never undoes the decision. Rows stay pending until the
platform accepts them, in order per incident and channel (a parent before its thread replies), with
one worker per platform so a platform that is down never delays another.

Where a new message can be sent twice (edits are idempotent and never are): the platform created it but
downwatch never learned so — (1) the process died between the platform's answer and `mark_sent`'s commit
(a window of well under a millisecond locally, plus half a round trip to the platform), or (2) the
answer was lost on the way back (a client timeout or a reset mid-response), so the row is retried.
Discord bot mode closes both with a per-message nonce (enforce_nonce); the generic webhook sends an
Idempotency-Key (`delivery_key`) for its receiver to do the same; Slack's API offers no equivalent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.chat import ChatAdapter
from bot.clock import Clock
from bot.config import Route
from bot.model import Alert, AlertKind, Delivery, Op, OutboxRow, RowState, SendError, SendResult, Sent, Status
from bot.store import Fenced, Store, Unavailable

MAX_BACKOFF = 300.0  # seconds: the longest wait between two tries when the platform gives no hint
MAX_RETRY_AFTER = 3600.0
DATABASE_RETRY = 1.0  # seconds: the outbox could not be read or written (the database away); tried again this soon

_OPS = {
    AlertKind.OPENED: (Op.POST,),
    AlertKind.UPDATED: (Op.EDIT, Op.REPLY),
    AlertKind.REMINDER: (Op.REPLY,),
    AlertKind.RESOLVED: (Op.EDIT, Op.REPLY),
    AlertKind.SOURCE_UNREADABLE: (Op.POST,),
    AlertKind.SOURCE_READABLE: (Op.EDIT, Op.REPLY),
    AlertKind.NETWORK_DOWN: (Op.POST,),
    AlertKind.NETWORK_UP: (Op.EDIT, Op.REPLY),
    AlertKind.REGIONS_DEGRADED: (Op.POST,),
    AlertKind.REGIONS_RESTORED: (Op.EDIT, Op.REPLY),
    AlertKind.DIGEST: (Op.POST,),  # the weekly digest (bot/digest.py): a message of its own, never edited
    AlertKind.DATABASE_LOST: (Op.POST,),  # sent straight (send_direct): the outbox is in the database
}


def plan(alerts: Iterable[Alert], routes: Iterable[Route]) -> list[Delivery]:
    """The outbox rows for these alerts on these routes. Mentions go with major outages only: the
    opening post of one, or the thread line of the update that made it one."""
    routes = tuple(routes)
    out: list[Delivery] = []
    for alert in alerts:
        for route in routes:
            for op in _OPS[alert.kind]:
                major = (op is Op.POST and alert.severity is Status.MAJOR) or (op is Op.REPLY and alert.escalated)
                mention = route.mention if major else None
                out.append(Delivery(platform=route.platform, channel=route.channel, op=op, alert=alert,
                                    mention=mention))
    return out


def plan_edit(alert: Alert, routes: Iterable[Route]) -> list[Delivery]:
    """Rewrite an incident's parent message and nothing else (no thread line, no mention, never a new
    message of its own): for news that is not the incident's, such as an alternative's state moving."""
    return [Delivery(platform=route.platform, channel=route.channel, op=Op.EDIT, alert=alert) for route in routes]


def delivery_key(row: OutboxRow) -> str:
    """The same for every try of one outbox row, and never shared by two rows (ids are unique per
    database, the incident id tells two databases apart): what a platform deduplicates on."""
    return f"{row.incident_id}#{row.id}"


def heads(pending: Iterable[OutboxRow]) -> list[OutboxRow]:
    """The first pending row of each incident+channel, `pending` in outbox order: later rows wait for it (order
    per thread)."""
    first: dict[tuple[str, str], OutboxRow] = {}
    for row in pending:
        first.setdefault((row.incident_id, row.channel), row)
    return list(first.values())


def backoff(attempts: int) -> float:
    """Seconds to wait after `attempts` failed tries when the platform gave no Retry-After."""
    return min(MAX_BACKOFF, 2.0 ** max(0, attempts))


@dataclass
class _PlatformHealth:
    failing: bool = False
    hold_until: datetime | None = None


class DeliveryResult:
    """The outcome of one delivery attempt (the `result` label of downwatch_deliveries_total)."""

    SENT = "sent"
    RETRY = "retry"  # the platform was down, slow or rate-limiting: the row stays queued and is tried again
    FAILED = "failed"  # refused for good (a 4xx): kept until retention, never retried


class Sender:
    """Drains the outbox through the chat adapters, with retries, pacing and per-platform isolation."""

    def __init__(
        self,
        *,
        store: Store,
        adapters: Mapping[str, ChatAdapter],
        clock: Clock,
        log: logging.Logger | None = None,
        may_send: Callable[[], Awaitable[bool]] | None = None,
        active: Callable[[], bool] = lambda: True,
        on_result: Callable[[str, str], object] | None = None,
    ) -> None:
        """`may_send` is asked right before each send: in a cluster, whether this process still leads (a
        leader that froze and was replaced must not send what its successor sends). `active`, asked before
        each pass without a round trip: whether this process leads at all (by its last beat). `on_result` is
        told each attempt's platform and outcome: a DeliveryResult (/metrics)."""
        self._store = store
        self._may_send = may_send
        self._active = active
        self._adapters = dict(adapters)
        self._clock = clock
        self._log = log or logging.getLogger("downwatch.outbox")
        self._last_sent: dict[tuple[str, str], datetime] = {}
        self._health = {name: _PlatformHealth() for name in self._adapters}
        self._wake = {name: asyncio.Event() for name in self._adapters}
        self._on_result = on_result or (lambda platform, result: None)

    def wake(self) -> None:
        """New rows were committed: deliver them now rather than at the next tick."""
        for event in self._wake.values():
            event.set()

    async def deliver_all(self) -> int:
        """One pass over every platform (tests and the demo drive the sender this way)."""
        results = await asyncio.gather(*(self.deliver_due(p) for p in self._adapters))
        return sum(results)

    async def deliver_due(self, platform: str, *, max_passes: int = 20) -> int:
        """Deliver every due row of one platform, heads first, until nothing more can go now."""
        total = 0
        for _ in range(max_passes):
            settled = await self._pass(platform)
            total += settled
            if not settled:
                break
        return total

    async def _pass(self, platform: str) -> int:
        """One pass: deliver the head row of every incident+channel that is due. Returns rows settled."""
        adapter = self._adapters[platform]
        health = self._health[platform]
        later_edits: set[tuple[str, str]] = set()
        live: list[OutboxRow] = []  # one read of the outbox a pass: on PostgreSQL each is a round trip
        for row in reversed(await self._store.apending(platform)):
            key = (row.incident_id, row.channel)
            if row.op is Op.EDIT and key in later_edits:
                await self._store.mark_done(row, RowState.SUPERSEDED)  # a newer edit shows a newer snapshot
                continue
            if row.op is Op.EDIT:
                later_edits.add(key)
            live.append(row)
        settled = 0
        for row in heads(reversed(live)):
            now = self._clock.now()
            if health.hold_until and now < health.hold_until:
                break
            if row.next_at > now.timestamp():
                continue
            last = self._last_sent.get((platform, row.channel))
            if last is not None and (now - last).total_seconds() < adapter.pace:
                continue
            if self._may_send is not None and not await self._may_send():
                break
            if await self._deliver(adapter, row):
                settled += 1
        return settled

    async def next_due(self, platform: str) -> float | None:
        """Seconds until something of this platform may be due (None: nothing pending)."""
        rows = heads(await self._store.apending(platform))
        if not rows:
            return None
        now = self._clock.now()
        waits = [row.next_at - now.timestamp() for row in rows]
        hold = self._health[platform].hold_until
        if hold:
            waits.append((hold - now).total_seconds())
        return max(0.0, min(waits))

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: one worker per platform."""
        await asyncio.gather(*(self._worker(p, stop) for p in self._adapters))

    async def _worker(self, platform: str, stop: asyncio.Event) -> None:
        wake = self._wake[platform]
        while not stop.is_set():
            wait: float | None = None
            try:
                if self._active():  # a follower's sender never reads the outbox: the leader drains it
                    await self.deliver_due(platform)
                    wait = await self.next_due(platform)
            except (Unavailable, Fenced) as exc:  # the database, not a bug: the rows wait (and are retried)
                self._log.debug("outbox: %s waits: %s", platform, exc)
                wait = DATABASE_RETRY  # soon: a restarted database is back within a second, and its rows are due
            except Exception:  # a bug here must not stop delivery for good
                self._log.exception("outbox: %s worker error", platform)
            pace = self._adapters[platform].pace
            timeout = 5.0 if wait is None else min(5.0, max(wait, pace, 0.05))
            wake.clear()
            waiter = asyncio.ensure_future(wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()

    async def _deliver(self, adapter: ChatAdapter, row: OutboxRow) -> bool:
        """Try one row; True when it is settled (sent, failed for good, or skipped)."""
        store = self._store
        parent = await store.aparent_ref(row.incident_id, row.platform, row.channel)
        if not adapter.can_edit and row.op is Op.EDIT:
            await store.mark_done(row, RowState.SUPERSEDED, "platform cannot edit: the reply posts the change")
            return True
        result: SendResult
        new_parent: str | None = None
        if row.op is Op.POST or parent is None or not adapter.keeps_parent:
            # No parent kept: every row is a message of its own. (With a parent but no threads, `reply`
            # is still called: the adapter posts the line in the channel, e.g. the Discord webhook.)
            result = await adapter.post(row.channel, row.alert, mention=row.mention, key=delivery_key(row))
            if isinstance(result, Sent) and adapter.keeps_parent:
                new_parent = result.ref
        elif row.op is Op.EDIT:
            result = await adapter.edit(row.channel, parent, row.alert)
        else:
            result = await adapter.reply(row.channel, parent, row.alert, mention=row.mention)
        if isinstance(result, SendError) and result.message_gone:
            self._log.warning("%s: the message for %s in %s was deleted; posting it again",
                              row.platform, row.alert.monitor, row.channel)
            result = await adapter.post(row.channel, row.alert, mention=row.mention)
            if isinstance(result, Sent):
                new_parent = result.ref
        return await self._settle(adapter, row, result, new_parent)

    async def _settle(self, adapter: ChatAdapter, row: OutboxRow, result: SendResult, new_parent: str | None) -> bool:
        now = self._clock.now()
        health = self._health[row.platform]
        if isinstance(result, Sent):
            await self._store.mark_sent(row, ref=result.ref, parent=new_parent, now=now)
            self._on_result(row.platform, DeliveryResult.SENT)
            self._last_sent[(row.platform, row.channel)] = now
            if health.failing:
                health.failing = False
                self._log.info("%s: delivering again", row.platform)
            health.hold_until = None
            return True
        if result.retryable:
            wait = result.retry_after if result.retry_after is not None else backoff(row.attempts)
            wait = min(max(wait, 0.0), MAX_RETRY_AFTER)
            until = now + timedelta(seconds=wait)
            await self._store.mark_retry(row, next_at=until, error=result.reason)
            self._on_result(row.platform, DeliveryResult.RETRY)
            if result.rate_limited:
                health.hold_until = until
            if not health.failing:
                health.failing = True
                self._log.warning("%s: delivery failing (%s); alerts stay queued and are retried",
                                  row.platform, result.reason)
            return False
        await self._store.mark_done(row, RowState.FAILED, result.reason)
        self._on_result(row.platform, DeliveryResult.FAILED)
        self._log.error("%s: %s in channel %s was refused for good: %s", row.platform, row.op.value,
                        row.channel, result.reason)
        return True


async def send_direct(adapters: Mapping[str, ChatAdapter], alert: Alert, routes: Iterable[Route],
                      log: logging.Logger | None = None) -> int:
    """Post `alert` once to each distinct channel of `routes`, now, without the outbox (which lives in the
    database this is about). Returns the messages accepted; a refusal is logged, not retried."""
    log = log or logging.getLogger("downwatch.outbox")
    sent = 0
    for platform, channel in dict.fromkeys((r.platform, r.channel) for r in routes):
        adapter = adapters.get(platform)
        if adapter is None:
            continue
        try:
            result = await adapter.post(channel, alert)
        except Exception:  # a bug in one adapter must not keep the notice from the others
            log.exception("%s: direct notice failed", platform)
            continue
        if isinstance(result, Sent):
            sent += 1
        else:
            log.error("%s: the direct notice to %s was refused: %s", platform, channel, result.reason)
    return sent
