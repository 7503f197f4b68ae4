"""Secrets (issue 5, item 8): nothing the bot logged, stored or posted during the WHOLE suite holds a token
or signing secret the suite used.

The registry of secrets is read from the test sources themselves (every `xoxb-…`/`xapp-…` literal, every
string bound to a name or keyword that says token/secret/webhook, the env mappings) and from the signing
vector in tests/data, so a new test's secret is covered without registering it. tests/conftest.py records
the logs (root handler at DEBUG) and what the fakes received; the SQLite files are read from the session's
temporary directory. The scan runs after every other test (conftest orders it last).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.discord.platform import DiscordConfig, DiscordMode
from adapters.discord.webhook import DiscordWebhookAdapter
from adapters.slack.platform import SlackConfig, SlackMode
from adapters.slack.webhook import SlackWebhookAdapter
from bot.model import Alert, AlertKind, Sent, Status
from tests.conftest import Witness
from tests.loopback import LoopbackServer

TESTS = Path(__file__).parent
SQLITE_MAGIC = b"SQLite format 3\x00"
AT = datetime(2026, 9, 29, 15, 0, tzinfo=UTC)
ALERT = Alert(kind=AlertKind.OPENED, incident_id="i1", monitor="OpenAI", severity=Status.MAJOR, at=AT, started_at=AT)
# The fake platforms' own access logs record the URLs they were sent (a webhook URL holds its secret by
# design); the bot's only server (Slack HTTP mode) runs with access_log=None, so these are never the bot's.
FAKES_LOGGERS = ("aiohttp.access",)
MIN_SECRET = 8  # shorter literals are words, not secrets

_PATTERNS = (
    re.compile(r"\b(xox[abpr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)"),
    # NAME = "…", name: str = "…", name="…", "name": "…" where the name says token / secret / webhook
    re.compile(r"""(?i)\b\w*(?:token|secret|webhook_url)\w*"?\s*(?::\s*str\s*)?[=:]\s*f?"([^"{}\s]+)\""""),
    # env mappings: "SLACK_BOT_TOKEN": "…", "DISCORD_WEBHOOK_URL": "…"
    re.compile(r""""(?:SLACK|DISCORD|DOWNWATCH_WEBHOOK)_[A-Z_]+"\s*:\s*"([^"{}\s]+)\""""),
)
NOT_SECRETS = {"signing_secret", "bot_token", "app_token", "webhook_url"}  # key names caught by the patterns


def _is_secret(value: str) -> bool:
    # a URL ending in "/" is a prefix that a secret is appended to (the secret is registered on its own)
    return len(value) >= MIN_SECRET and value not in NOT_SECRETS and not value.endswith("/")


def secrets_used(root: Path = TESTS) -> dict[str, str]:
    """Every secret value the suite's sources use → where it is first written (file:line)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        if path.name == Path(__file__).name:
            continue  # this file names some of them to test the registry itself
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for pattern in _PATTERNS:
                for match in pattern.finditer(line):
                    value = match.group(1)
                    if _is_secret(value):
                        found.setdefault(value, f"{path.relative_to(root.parent)}:{number}")
    vector = json.loads((root / "data" / "slack_signing_docs_example_vector.json").read_text())
    found.setdefault(vector["signing_secret"], "tests/data/slack_signing_docs_example_vector.json")
    return found


@dataclass(frozen=True)
class Leak:
    secret: str  # where the secret is defined, never the secret itself
    where: str

    def __str__(self) -> str:
        return f"{self.where}: holds the secret defined at {self.secret}"


def sqlite_files(root: Path) -> list[Path]:
    """SQLite databases (by their header) under `root`, with their -wal and -journal companions."""
    out: list[Path] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name.endswith(("-wal", "-journal")):
            out.append(path)
            continue
        try:
            with path.open("rb") as handle:
                if handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
                    out.append(path)
        except FileNotFoundError:  # a -shm or journal removed as its connection closed
            continue
    return out


def scan(secrets: Mapping[str, str], witness: Witness, files: Iterable[Path]) -> list[Leak]:
    """Every place a secret appears: a log line, a payload a fake received, the bytes of a SQLite file."""
    leaks: list[Leak] = []
    for value, defined in secrets.items():
        for name, line in witness.logs:
            if value in line and not name.startswith(FAKES_LOGGERS):
                leaks.append(Leak(defined, f"log record from {name!r}: {line[:200].replace(value, '***')!r}"))
        for where, body in witness.payloads:
            if value in body:
                leaks.append(Leak(defined, f"payload posted to {where}"))
    encoded = {value.encode(): defined for value, defined in secrets.items()}
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        for value, defined in encoded.items():
            if value in data:
                leaks.append(Leak(defined, f"SQLite file {path}"))
    return leaks


# ---------------------------------------------------------------- the scanner itself can fail


def test_the_registry_finds_the_suites_secrets() -> None:
    found = secrets_used()
    for value in ("xoxb-commands-SECRETtoken", "test-signing-secret-0123456789", "xapp-SECRETapptoken",
                  "fake-bot-token-MTIzNDU2Nzg5MDEyMzQ1Njc4.secret", "B0001/WEBHOOKsecretPART",
                  "8f742231b10e8888abcd99yyyzzz85a5"):
        assert value in found, value
    assert not NOT_SECRETS & set(found)


def test_the_scan_finds_a_planted_leak_in_logs_payloads_and_sqlite(tmp_path: Path) -> None:
    planted = {"planted-SECRET-value-42": "tests/test_secrets.py:here"}  # not a suite secret: scanned apart
    witness = Witness(logs=[("downwatch.slack", "INFO downwatch.slack: token=planted-SECRET-value-42")],
                      payloads=[("fake Slack chat.postMessage", "{'text': 'x planted-SECRET-value-42'}")])
    db = tmp_path / "leaky.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (v text)")
        conn.execute("insert into t values (?)", ("planted-SECRET-value-42",))
    (tmp_path / "config.toml").write_text("planted-SECRET-value-42")  # not SQLite: not scanned
    leaks = scan(planted, witness, sqlite_files(tmp_path))
    where = [leak.where for leak in leaks]
    assert len(leaks) == 3
    assert where[0].startswith("log record from 'downwatch.slack'") and "planted-SECRET" not in where[0]
    assert where[1] == "payload posted to fake Slack chat.postMessage"
    assert where[2] == f"SQLite file {db}"
    assert "tests/test_secrets.py:here" in str(leaks[0])
    assert scan(planted, Witness(), []) == []


# ---------------------------------------------------------------- what the scan found, fixed


WEBHOOK_TOKEN = "wh-SECRET-token-from-test-secrets-0001"


def test_webhook_urls_are_masked_in_httpxs_own_request_log(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs every request URL at INFO; a webhook URL ends in its secret (found by the scan below)."""
    caplog.set_level(logging.INFO, logger="httpx")

    async def scenario() -> None:
        async with LoopbackServer() as server:
            server.json("/api/webhooks/42/" + WEBHOOK_TOKEN, {"id": "1001"})
            server.reply("/services/T1/B2/" + WEBHOOK_TOKEN, b"ok", content_type="text/plain")
            discord = DiscordWebhookAdapter(config=DiscordConfig(
                mode=DiscordMode.WEBHOOK, channel="", webhook_url=f"{server.url}/api/webhooks/42/{WEBHOOK_TOKEN}"))
            slack = SlackWebhookAdapter(config=SlackConfig(
                mode=SlackMode.WEBHOOK, channel="", webhook_url=f"{server.url}/services/T1/B2/{WEBHOOK_TOKEN}"))
            try:
                assert isinstance(await discord.post("c", ALERT), Sent)
                assert isinstance(await slack.post("c", ALERT), Sent)
            finally:
                await discord.stop()
                await slack.stop()

    asyncio.run(scenario())
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(lines) == 2 and "/api/webhooks/42/***?wait=true" in lines[0] and "/services/T1/B2/***" in lines[1]
    assert WEBHOOK_TOKEN not in caplog.text


# ---------------------------------------------------------------- the whole suite (runs last)


def test_nothing_the_suite_logged_stored_or_posted_holds_a_secret(
    witness: Witness, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secrets = secrets_used()
    assert len(secrets) >= 10, sorted(secrets.values())
    files = sqlite_files(tmp_path_factory.getbasetemp())
    leaks = scan(secrets, witness, files)
    summary = (f"{len(secrets)} secrets; {witness.tests_seen} tests; {len(witness.logs)} log records; "
               f"{len(witness.payloads)} payloads; {len(files)} SQLite files")
    print(summary)
    assert not leaks, "secrets leaked:\n  " + "\n  ".join(map(str, leaks)) + "\n" + summary
    assert witness.logs, "the witness handler recorded nothing: is tests/conftest.py installed?"
