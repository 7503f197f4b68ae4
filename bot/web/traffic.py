"""What keeps a crowd of web clients from delaying the checks that share the event loop (issue 13: 200
concurrent clients, the checks' lag p99 ≤ 10 ms): requests start a few per turn of the loop, and a rendered
answer is compressed once, not once per client.
"""

from __future__ import annotations

import asyncio
import gzip
from collections import deque
from functools import partial

PER_TURN = 2  # requests started per turn of the event loop: a check due meanwhile waits for ~1 ms of answers
GZIP_LEVEL = 1  # 30× smaller on the page's repeated bars at a fifth of level 6's time
GZIP_FROM = 1024  # bytes: a smaller answer goes as it is
ASIDE = 64 * 1024  # bytes: a larger answer is compressed on another thread (zlib lets go of the GIL)


class Turns:
    """Admits at most `per_turn` requests per turn of the event loop; the others wait for later turns, in order.

    A burst of 200 requests read in one turn would otherwise all be answered in the next, one after the other,
    and a check due meanwhile waits for all of them (asyncio runs a turn's ready callbacks before the timers
    that fell due). Only the start is metered: a client that is slow to read holds no turn."""

    def __init__(self, per_turn: int = PER_TURN) -> None:
        self._per_turn = per_turn
        self._started = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turning = False

    async def admit(self) -> None:
        if self._started < self._per_turn and not self._waiting:
            self._started += 1
            self._next_turn()
            return
        waiting = asyncio.get_running_loop().create_future()
        self._waiting.append(waiting)
        self._next_turn()
        await waiting

    def _next_turn(self) -> None:
        if not self._turning:
            self._turning = True
            asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        self._turning = False
        self._started = 0
        while self._waiting and self._started < self._per_turn:
            waiting = self._waiting.popleft()
            if not waiting.done():  # its client went away meanwhile
                waiting.set_result(None)
                self._started += 1
        if self._waiting or self._started:
            self._next_turn()


class Compressed:
    """The gzip encoding of each kept answer, made when first asked for and kept while the answer is the same
    object (the caches hand out the same bytes until they render again). A large one is compressed on the
    loop's default executor, so that the checks on the loop do not wait for it (10,000 monitors' summary.json
    is 7 MB: 75 ms of zlib); the clients asking meanwhile wait for the same result."""

    def __init__(self, limit: int = 1000) -> None:
        self._kept: dict[str, tuple[bytes, asyncio.Future[bytes]]] = {}
        self._limit = limit

    async def __call__(self, key: str, body: bytes) -> bytes:
        kept = self._kept.get(key)
        if kept is None or kept[0] is not body:
            if len(self._kept) >= self._limit:  # keys include monitor names: bounded however many are asked for
                self._kept.clear()
            loop = asyncio.get_running_loop()
            encode = partial(gzip.compress, body, compresslevel=GZIP_LEVEL, mtime=0)
            if len(body) >= ASIDE:
                encoded = loop.run_in_executor(None, encode)
            else:
                encoded = loop.create_future()
                encoded.set_result(encode())
            kept = self._kept[key] = (body, encoded)
        return await asyncio.shield(kept[1])  # a client going away does not cancel the others' wait


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header accepts gzip (`gzip`, `gzip;q=0.5`, `*`; not `gzip;q=0`)."""
    found = False
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() not in ("gzip", "x-gzip", "*"):
            continue
        quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            if float(quality) <= 0:
                if name.strip() != "*":
                    return False
                continue
        except ValueError:
            continue
        found = True
    return found
