"""What the Store needs of a database: one small interface that SQLite and PostgreSQL each implement.

The Store's SQL is written once, in the subset both speak (`?` parameters, `ON CONFLICT … DO …`,
`RETURNING`, `NULLS FIRST`); the few words they spell differently are attributes of the backend.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator, Sequence

from bot.model import Status

# Probe rows store the status as a small integer: its index here. Append only: stored rows keep their codes.
STATUS_CODES: tuple[Status, ...] = (Status.OPERATIONAL, Status.DEGRADED, Status.PARTIAL, Status.MAJOR,
                                    Status.MAINTENANCE, Status.UNKNOWN)
CODE = {status: code for code, status in enumerate(STATUS_CODES)}


class Rows(typing.Protocol):
    """A statement's result: sqlite3's cursor, or the PostgreSQL backend's rows (read before the connection
    goes back to its pool)."""

    rowcount: int

    def fetchone(self) -> typing.Any: ...
    def fetchall(self) -> list[typing.Any]: ...
    def __iter__(self) -> Iterator[typing.Any]: ...


class Fenced(Exception):
    """A write refused because this process no longer holds the leader's lease at the epoch it wrote with:
    another process took over (bot/cluster.py). Nothing of the transaction was committed."""


class Unavailable(Exception):
    """The database could not be reached (its detail says why, without credentials)."""


class Backend(typing.Protocol):
    """A database connection as the Store uses it. `atomic(fenced=True)` wraps the writes only the leader may
    commit: state, incidents, the outbox and its deliveries (a no-op check on SQLite, a single process)."""

    name: str                    # "sqlite" | "postgresql"
    shared: bool                 # other processes write to it too (PostgreSQL): versions are read from it
    greatest: str                # the two-argument max/min: MAX/MIN in SQLite, GREATEST/LEAST in PostgreSQL
    least: str

    def execute(self, sql: str, args: Sequence[object] = ()) -> Rows: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...
    def atomic(self, *, fenced: bool = False) -> typing.ContextManager[object]: ...
    def nocase(self, expr: str) -> str: ...
    def serialize(self, key: int) -> None: ...  # inside atomic(): one such transaction at a time, cluster-wide
    def changes(self) -> int: ...
    def integrity(self) -> str: ...
    def tables(self) -> list[str]: ...
    def close(self) -> None: ...
    async def aclose(self) -> None: ...
    # moves committed pages out of a write-ahead log the process keeps (SQLite's WAL), off the event loop's
    # thread; the pages moved, 0 where the server does it itself (PostgreSQL)
    def checkpoint(self) -> int: ...
    # `ops` in one transaction (fenced as atomic(fenced=True); atomic=False: each statement on its own), awaited
    async def perform(self, ops: Ops[T], *, atomic: bool = True, fenced: bool = False) -> T: ...


class Write(typing.NamedTuple):
    """A statement of an `Ops` generator whose rows it does not read (PostgreSQL sends it with the next ones)."""

    sql: str
    args: Sequence[object] = ()


class Read(typing.NamedTuple):
    """A statement of an `Ops` generator that is sent its rows back (on PostgreSQL, a round trip of its own)."""

    sql: str
    args: Sequence[object] = ()


class Many(typing.NamedTuple):
    """One statement run for each of `rows` (executemany); it is sent None back."""

    sql: str
    rows: Sequence[Sequence[object]]


T = typing.TypeVar("T")
# A unit of the Store's work as a generator of statements: it yields each `Write`, `Read` or `Many` and is sent
# the rows of a `Read` back.
# Written once, it runs either way: `run` drives it with blocking calls, and a backend's `perform` drives it on
# the event loop without blocking it (PostgreSQL's async connection: the per-check path of a cluster's leader,
# where a blocking round trip holds up every other check).
Ops = typing.Generator[Write | Read | Many, typing.Any, T]


def statements(*fixed: Write | Many) -> Ops[None]:
    """Statements known in advance, as `Ops` (nothing read back)."""
    for op in fixed:  # noqa: UP028 — not `yield from`: a tuple's iterator cannot be sent the rows `drive` sends
        yield op


def drive(backend: Backend, ops: Ops[T]) -> T:
    """`ops` with the backend's blocking calls, in whatever transaction the caller holds."""
    try:
        op = next(ops)
        while True:
            if isinstance(op, Many):
                backend.executemany(op.sql, op.rows)
                op = ops.send(None)
            else:
                op = ops.send(backend.execute(op.sql, op.args))
    except StopIteration as done:
        return typing.cast(T, done.value)


def run(backend: Backend, ops: Ops[T], *, fenced: bool = False) -> T:
    """`ops` in one transaction of their own, with the backend's blocking calls."""
    with backend.atomic(fenced=fenced):
        return drive(backend, ops)
