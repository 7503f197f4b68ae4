"""Suite-wide witness for secrets (issue 5, item 8): keeps everything the bot logged and posted during the
whole session, so tests/test_secrets.py can scan it — together with every SQLite file the session wrote —
for the tokens and signing secrets the tests use.

Nothing here changes what a test does: a root log handler that only records, and the fakes' own recordings
copied out when each fake closes. The scan itself runs last (see pytest_collection_modifyitems).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.checks.client import make_client
from tests import pg
from tests.loopback import LoopbackServer, on_own_loop

SCAN_TEST = "tests/test_secrets.py::test_nothing_the_suite_logged_stored_or_posted_holds_a_secret"
# While the suite runs everything is logged at DEBUG: stricter than production (INFO, libraries at WARNING).
WITNESS_LEVEL = logging.DEBUG


@dataclass
class Witness:
    """What the suite produced that a secret must never reach: log lines and payloads sent to fakes."""

    logs: list[tuple[str, str]] = field(default_factory=list)  # (logger name, formatted line with trace)
    payloads: list[tuple[str, str]] = field(default_factory=list)  # (where, the body as text)
    tests_seen: int = 0


class _Keep(logging.Handler):
    def __init__(self, witness: Witness) -> None:
        super().__init__(level=logging.NOTSET)
        self._witness = witness
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._witness.logs.append((record.name, self.format(record)))
        except Exception:  # a record that cannot be formatted is the logging call's bug, not ours to hide
            self._witness.logs.append((record.name, f"{record.msg!r} {record.args!r}"))


WITNESS_KEY = pytest.StashKey[Witness]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[WITNESS_KEY] = Witness()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The scan must see the whole suite: run it after every other test."""
    last = [item for item in items if item.nodeid.endswith(SCAN_TEST.split("/", 1)[1])]
    if last:
        items[:] = [item for item in items if item not in last] + last


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[WITNESS_KEY].tests_seen += 1


@pytest.fixture(scope="session")
def witness(pytestconfig: pytest.Config) -> Witness:
    return pytestconfig.stash[WITNESS_KEY]


@pytest.fixture(scope="session", autouse=True)
def _witness_everything(pytestconfig: pytest.Config, witness: Witness) -> Iterator[None]:
    """Root handler at DEBUG + the fakes' recordings harvested when each fake closes."""
    root = logging.getLogger()
    handler = _Keep(witness)
    previous = root.level
    root.addHandler(handler)
    root.setLevel(WITNESS_LEVEL)
    patch = pytest.MonkeyPatch()
    _harvest_fakes(patch, witness)
    try:
        yield
    finally:
        patch.undo()
        root.removeHandler(handler)
        root.setLevel(previous)


def _harvest_fakes(patch: pytest.MonkeyPatch, witness: Witness) -> None:
    """Wrap each fake's __aexit__ so that what it recorded is copied into the witness when it closes."""
    from tests.fakes.discord_api import FakeDiscord
    from tests.fakes.slack_api import FakeSlack
    from tests.loopback import LoopbackServer

    def slack(fake: Any) -> list[tuple[str, str]]:
        # The Authorization header legitimately carries the token; what was *posted* is the params.
        return [(f"fake Slack {c.method}", repr(dict(c.params))) for c in fake.calls]

    def discord(fake: Any) -> list[tuple[str, str]]:
        return [(f"fake Discord {r.method} {r.path.split('/webhooks/')[0]}", repr((r.json, r.query)))
                for r in fake.requests]

    def loopback(server: Any) -> list[tuple[str, str]]:
        return [(f"loopback {r.method} {r.path}", repr((r.query, r.body))) for r in server.requests]

    for cls, take in ((FakeSlack, slack), (FakeDiscord, discord), (LoopbackServer, loopback)):
        original = cls.__aexit__

        async def aexit(self: Any, *exc: object, _original: Any = original, _take: Any = take) -> None:
            try:
                witness.payloads.extend(_take(self))
            finally:
                await _original(self, *exc)

        patch.setattr(cls, "__aexit__", aexit)


# ---------------------------------------------------------------- shared fixtures


@pytest.fixture
def anyio_backend() -> object:
    """Async tests (anyio's pytest plugin, `@pytest.mark.anyio`) run on the loop the bot runs on: uvloop
    (bot/runtime.py). The HTTP-check and bad-source modules also run on the standard loop (BOTH_LOOPS)."""
    return ("asyncio", {"use_uvloop": True})



@pytest.fixture
async def client(anyio_backend: object) -> AsyncIterator[httpx.AsyncClient]:
    """The checks' own HTTP client, as the composition root builds it."""
    async with make_client() as c:
        yield c


@pytest.fixture
async def server(anyio_backend: str) -> AsyncIterator[LoopbackServer]:
    """A loopback HTTP server that the test programs route by route."""
    async with LoopbackServer() as srv:
        yield srv


@dataclass(frozen=True)
class Ran:
    """What `downwatch …` did when run in-process: its exit code and what it printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def downwatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
              ) -> Iterator[Callable[..., Ran]]:
    """Run `bot.cli.main(argv)` in this process from `tmp_path` (where `.env` would be read), with an empty
    environment unless the test passes one; logging is put back as it was afterwards."""
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def run(*argv: str, env: Mapping[str, str] | None = None) -> Ran:
        capsys.readouterr()
        code = main(list(argv), env=dict(env or {}))
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    try:
        yield run
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def page_thread() -> Iterator[LoopbackServer]:
    """A loopback status page on its own thread's loop, for in-process commands (main runs its own loop)."""
    with on_own_loop() as server:
        yield server


# ---- postgresql (issue 14)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """One throwaway PostgreSQL server for the session (tests/pg.py), stopped and removed at the end.
    Where none can run the tests using it are skipped with the reason, except on CI (`CI` set), where
    `make test` installs Debian's package first and a missing server is a failure, not a quiet skip."""
    reason = pg.missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required on CI: {reason}")
        pytest.skip(reason)
    server = pg.PgServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: pg.PgServer) -> Iterator[str]:
    """A fresh, empty database of its own for this test: its URL (TCP, the superuser and its password).
    Dropped afterwards, connections still open to it included."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture(scope="session")
def pg_schema(pg_server: pg.PgServer) -> str:
    """A database collated as production ones are (en-US, not the test server's C locale) with downwatch's
    schema, made once by `Store.open`: what `database` copies for each test, instead of migrating again."""
    from bot.store import Store

    url = pg_server.create_database(collation="en-US")
    Store.open(url).close()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Where a store-exercising test keeps its history, once per backend: an SQLite file under `tmp_path`,
    then a fresh PostgreSQL database (a copy of `pg_schema`: en-US collation, so that an ORDER BY or a
    case-insensitive match leaning on byte order shows). What the test opened on PostgreSQL and left open is
    closed before the database is dropped: no pool outlives its test."""
    if request.param == "sqlite":
        yield str(tmp_path / "dw.db")
        return
    server: pg.PgServer = request.getfixturevalue("pg_server")
    schema: str = request.getfixturevalue("pg_schema")
    from bot.store.postgres import PostgresBackend

    opened: list[PostgresBackend] = []
    original = PostgresBackend.open.__func__  # type: ignore[attr-defined]

    def open_and_keep(cls: type[PostgresBackend], url: str, **kwargs: Any) -> PostgresBackend:
        backend: PostgresBackend = original(cls, url, **kwargs)
        opened.append(backend)
        return backend

    monkeypatch.setattr(PostgresBackend, "open", classmethod(open_and_keep))
    url = server.create_database(like=schema)
    try:
        yield url
    finally:
        for backend in opened:
            backend.close()
        server.drop_database(url)
