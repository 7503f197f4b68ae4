"""Check kinds are plug-ins: the registry, config validation of each kind's keys, and a kind added by a test.

The `FILE` kind below lives only in this file: it is parsed, run, stored and rejected exactly like the
shipped ones, through the same registry (bot.checks.KINDS plus one entry), without a change to core code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.checks import KINDS, CheckKind, kind_of, run_check
from bot.checks.client import ProbeClient
from bot.checks.http import HttpMonitor
from bot.checks.tcp import TcpMonitor
from bot.clock import FakeClock
from bot.config import Checker, Common, ConfigError, Monitor, parse_config
from bot.model import CheckResult, ComponentReading, Status
from tests.wiring import wire

# ---------------------------------------------------------------- a kind that exists only in this test


@dataclass(frozen=True, kw_only=True)
class FileMonitor(Monitor):
    min_bytes: int = 1
    kind: str = "file"


class _FileKind:
    """Is a local file there, and at least `min_bytes` long? (`url = "file:///path"`)"""

    type = "file"
    keys = frozenset({"min_bytes"})
    records_probes = True

    def parse(self, check: Checker, where: str, table: Mapping[str, object], common: Common) -> Monitor | None:
        if common.url and not common.url.startswith("file:///"):
            check.error(f"{where}url", f"must be a file:/// URL (got {common.url!r})")
            return None
        size = check.number(f"{where}min_bytes", table.get("min_bytes", 1), kind=int, minimum=0, exclusive=False)
        return None if size is None else FileMonitor(min_bytes=int(size), **vars(common))

    async def run(self, monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime]) -> CheckResult:
        assert isinstance(monitor, FileMonitor)
        try:
            size = os.stat(urlsplit(monitor.url).path).st_size
        except FileNotFoundError:
            status, detail = Status.MAJOR, "no such file"
        else:
            status, detail = (Status.OPERATIONAL if size >= monitor.min_bytes else Status.MAJOR), f"{size} bytes"
        reading = ComponentReading(name=monitor.name, status=status, detail=detail)
        return CheckResult(monitor=monitor.name, at=now(), readable=True, components=(reading,), latency_ms=0.1)


FILE = _FileKind()
WITH_FILE: tuple[CheckKind, ...] = (*KINDS, FILE)


def config(text: str, kinds: tuple[CheckKind, ...] = KINDS) -> tuple[Monitor, ...]:
    import tomllib

    return parse_config(tomllib.loads(text), path="dw.toml", env={}, kinds=kinds, platforms=()).monitors


def errors(text: str, kinds: tuple[CheckKind, ...] = KINDS) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config(text, kinds)
    return caught.value.errors


# ---------------------------------------------------------------- the registry


def test_the_registry_is_a_plain_tuple_of_distinct_kinds() -> None:
    sources = ["incidentio", "feed", "slack", "gcp", "aws", "betterstack", "instatus", "statusio", "heroku"]
    assert [k.type for k in KINDS] == ["http", "statuspage", "tcp", *sources]
    assert {k.type: k.records_probes for k in KINDS} == {"http": True, "statuspage": False, "tcp": True,
                                                         **dict.fromkeys(sources, False)}
    assert kind_of(TcpMonitor(name="db", url="tcp://db:5432")).type == "tcp"
    with pytest.raises(LookupError, match="no check kind 'file'"):
        kind_of(FileMonitor(name="f", url="file:///x"))


def test_an_unknown_type_lists_the_registered_ones() -> None:
    text = '[[monitors]]\nname = "F"\ntype = "file"\nurl = "file:///etc/hostname"\nmin_bytes = 1\n'
    names = ", ".join(repr(k.type) for k in KINDS)
    assert errors(text) == [f"dw.toml: monitors[0] (F).type: must be one of {names} (got 'file')",
                            "dw.toml: monitors[0] (F).min_bytes: unknown key (did you mean 'max_body_bytes'?)"]
    assert "'file'" in errors('[[monitors]]\nname = "X"\ntype = "ping"\nurl = "x"\n', WITH_FILE)[0]


@pytest.mark.anyio
async def test_a_kind_added_through_the_registry_is_parsed_run_and_stored(tmp_path: Path) -> None:
    there = tmp_path / "heartbeat"
    there.write_text("alive")
    (monitor,) = config(f'[[monitors]]\nname = "Heartbeat"\ntype = "file"\nurl = "file://{there}"\n'
                        "min_bytes = 3\ntimeout = 1\n", WITH_FILE)
    assert isinstance(monitor, FileMonitor) and monitor.min_bytes == 3 and monitor.kind == "file"
    assert errors('[[monitors]]\nname = "H"\ntype = "file"\nurl = "/tmp/x"\nmin_bytes = -1\n', WITH_FILE) == [
        "dw.toml: monitors[0] (H).url: must be a file:/// URL (got '/tmp/x')"]
    assert errors('[[monitors]]\nname = "H"\ntype = "file"\nurl = "file:///x"\nmin_byte = 2\n', WITH_FILE) == [
        "dw.toml: monitors[0] (H).min_byte: unknown key (did you mean 'min_bytes'?)"]
    assert errors('[[monitors]]\nname = "H"\ntype = "http"\nurl = "http://x"\nmin_bytes = 2\n', WITH_FILE) == [
        "dw.toml: monitors[0] (H).min_bytes: only applies to type = 'file'"]

    clock = FakeClock()
    wired = wire(tmp_path / "dw.db", [monitor], clock=clock, check=partial(run_check, kinds=WITH_FILE),
                 kinds=WITH_FILE)
    step = await wired.watcher.poll(monitor)
    assert step is not None and step.state.component("Heartbeat").observed is Status.OPERATIONAL  # type: ignore[union-attr]
    there.unlink()
    for _ in range(2):
        clock.advance(60)
        await wired.watcher.poll(monitor)
    gone = wired.watcher.states["Heartbeat"].component("Heartbeat")
    assert gone is not None and gone.status is Status.MAJOR and gone.detail == "no such file"
    assert wired.store.sql.execute("SELECT COUNT(*) FROM probes").fetchone()[0] == 3  # records_probes: one probe row per poll, as for http and tcp
    assert wired.store.sql.execute("SELECT kind FROM monitors WHERE name = 'Heartbeat'").fetchone() == ("file",)
    wired.store.close()


# ---------------------------------------------------------------- config errors for the kinds' keys


def test_tcp_config() -> None:
    (db,) = config('[[monitors]]\nname = "DB"\ntype = "tcp"\nurl = "tcp://db.internal:5432"\n'
                   "degraded_after_ms = 200\n")
    assert isinstance(db, TcpMonitor) and db.degraded_after_ms == 200 and db.kind == "tcp"
    assert errors('[[monitors]]\nname = "DB"\ntype = "tcp"\nurl = "https://db.internal:5432"\n'
                  'body_contains = "x"\nmax_body_bytes = 4096\ndegraded_after_ms = 0\n') == [
        "dw.toml: monitors[0] (DB).body_contains: only applies to type = 'http'",
        "dw.toml: monitors[0] (DB).max_body_bytes: does not apply to type = 'tcp'",
        "dw.toml: monitors[0] (DB).url: must look like tcp://host:port, e.g. tcp://db.internal:5432 "
        "(got 'https://db.internal:5432')",
        "dw.toml: monitors[0] (DB).degraded_after_ms: must be greater than 0 (got 0)",
    ]
    assert errors('[[monitors]]\nname = "DB"\ntype = "tcp"\nurl = "tcp://db:70000"\n') == [
        "dw.toml: monitors[0] (DB).url: the port must be a number from 1 to 65535 (got 'tcp://db:70000')"]
    assert errors('[[monitors]]\nname = "DB"\ntype = "tcp"\n') == ["dw.toml: monitors[0] (DB).url: is required"]


def test_statuspage_keys_stay_its_own() -> None:
    assert errors('[[monitors]]\nname = "P"\ntype = "statuspage"\nurl = "https://status.x"\n'
                  "degraded_after_ms = 5\ntls_expiry_days = 3\n") == [
        "dw.toml: monitors[0] (P).degraded_after_ms: only applies to type = 'http' or 'tcp'",
        "dw.toml: monitors[0] (P).tls_expiry_days: only applies to type = 'http'",
    ]


def test_tls_expiry_days_config() -> None:
    (default, off) = config('[[monitors]]\nname = "A"\ntype = "http"\nurl = "https://a"\n'
                            '[[monitors]]\nname = "B"\ntype = "http"\nurl = "https://b"\ntls_expiry_days = 0\n')
    assert isinstance(default, HttpMonitor) and default.tls_expiry_days == 14
    assert isinstance(off, HttpMonitor) and off.tls_expiry_days == 0
    assert errors('[[monitors]]\nname = "A"\ntype = "http"\nurl = "https://a"\ntls_expiry_days = -1\n'
                  '[[monitors]]\nname = "B"\ntype = "http"\nurl = "https://b"\ntls_expiry_days = 2.5\n'
                  '[[monitors]]\nname = "C"\ntype = "http"\nurl = "http://c"\ntls_expiry_days = 30\n') == [
        "dw.toml: monitors[0] (A).tls_expiry_days: must be at least 0 (got -1)",
        "dw.toml: monitors[1] (B).tls_expiry_days: must be a whole number (got 2.5)",
        "dw.toml: monitors[2] (C).tls_expiry_days: only applies to https:// URLs (set 0 or remove it)",
    ]


def test_json_config() -> None:
    (mon,) = config('[[monitors]]\nname = "A"\ntype = "http"\nurl = "https://a"\njson_query = "checks.db"\n'
                    'json_expect = { status = "up", replicas = [1, 2] }\n')
    assert isinstance(mon, HttpMonitor) and mon.json_query == "checks.db"
    assert mon.json_expect == {"status": "up", "replicas": [1, 2]}
    hash(mon)  # a table as the expectation does not make the monitor unhashable
    assert errors('[[monitors]]\nname = "A"\ntype = "http"\nurl = "https://a"\njson_query = "status["\n'
                  '[[monitors]]\nname = "B"\ntype = "http"\nurl = "https://b"\njson_query = "a.$b"\n'
                  '[[monitors]]\nname = "C"\ntype = "http"\nurl = "https://c"\njson_expect = "ok"\n'
                  '[[monitors]]\nname = "D"\ntype = "http"\nurl = "https://d"\njson_query = "s"\n'
                  "json_expect = 2026-01-01\n"
                  '[[monitors]]\nname = "E"\ntype = "http"\nurl = "https://e"\njson_query = ""\n'
                  '[[monitors]]\nname = "F"\ntype = "http"\nurl = "https://f"\nmethod = "HEAD"\n'
                  'json_query = "status"\n'
                  '[[monitors]]\nname = "G"\ntype = "http"\nurl = "https://g"\njson_querry = "status"\n') == [
        "dw.toml: monitors[0] (A).json_query: not a valid JMESPath expression: incomplete expression at character 8",
        "dw.toml: monitors[1] (B).json_query: not a valid JMESPath expression: unknown token $ at character 3",
        "dw.toml: monitors[2] (C).json_expect: needs json_query (the JMESPath expression whose value it is)",
        "dw.toml: monitors[3] (D).json_expect: must be a string, number, boolean, array or table "
        "(got datetime.date(2026, 1, 1))",
        "dw.toml: monitors[4] (E).json_query: must be a JMESPath expression such as 'status' (got '')",
        "dw.toml: monitors[5] (F).json_query: needs a body: method HEAD gets none",
        "dw.toml: monitors[6] (G).json_querry: unknown key (did you mean 'json_query'?)",
    ]
