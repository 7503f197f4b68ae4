"""HTTP health check: one request to a target; the target failing is an outage (a reading, never an exception).

Beyond the status code: a keyword in the body (`body_contains`), a JSON assertion (`json_query`, a JMESPath
expression, and `json_expect`), the latency (`degraded_after_ms`) and, for https targets, how soon the TLS
certificate expires (`tls_expiry_days`).

A probe may be authenticated: `headers`, and a request `body` or `json`, whose values (and the URL) may name
environment variables as `${NAME}`, expanded once at load. Expanded values are secrets: fields that hold
them are left out of the repr, and the probe's details never quote them. A 401/403 to a probe that sends
credentials means the key is wrong: the result is unknown (a configuration problem), not an outage.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import httpx
import jmespath
import jmespath.exceptions
import jmespath.parser

from bot.checks.client import REQUEST_FAILURES, ProbeClient, describe_failure, format_size, read_capped
from bot.config import Checker, Common, Monitor
from bot.model import CheckResult, ComponentReading, Status

MAX_BODY_BYTES = 2 * 1024 * 1024
TLS_EXPIRY_DAYS = 14
METHODS = ("GET", "HEAD", "POST")
REFUSED = (401, 403)  # what an API answers a key it does not accept
REFUSED_DETAIL = "the credentials were refused — check the key in the environment"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # a header name (RFC 9110, section 5.6.2)


@dataclass(frozen=True, kw_only=True)
class HttpMonitor(Monitor):
    method: str = "GET"
    expect_status: tuple[int, ...] = ()  # empty: any 2xx/3xx
    body_contains: str | None = None
    json_query: str | None = None  # a JMESPath expression, checked by the config
    # The expected JSON value (TOML has no null: None = only require that the query finds something). Not
    # hashed: it may be a list or a table.
    json_expect: object = field(default=None, hash=False)
    degraded_after_ms: float | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    tls_expiry_days: int = TLS_EXPIRY_DAYS  # 0: off; only https URLs have a certificate
    # What is sent, environment variables expanded: secrets, so never in the repr. `url` keeps the URL as
    # written (`${NAME}` unexpanded): it is what the web page, logs and commands may show.
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    body: bytes | None = field(default=None, repr=False)  # `body` as UTF-8, or `json` encoded
    expanded_url: str = field(default="", repr=False)  # "" when `url` names no environment variable
    credentials: bool = False  # sends headers or environment values: a 401/403 means they were refused
    kind: str = "http"

    @property
    def target(self) -> str:
        """The URL requested."""
        return self.expanded_url or self.url


@dataclass(frozen=True)
class Probe:
    """What the target answered: the final status code and, when asked for, what its body held."""

    status_code: int
    keyword_found: bool | None = None  # None: no keyword configured, or the status already failed
    body_capped: bool = False  # stopped reading at max_body_bytes (without finding the keyword)
    body: bytes | None = None  # read only for a json_query (and only when the status passed)


def status_ok(monitor: HttpMonitor, status_code: int) -> bool:
    """Expected statuses when configured, otherwise any 2xx/3xx."""
    if monitor.expect_status:
        return status_code in monitor.expect_status
    return 200 <= status_code < 400


def judge(
    monitor: HttpMonitor, probe: Probe, elapsed_ms: float, *, cert_expires: datetime | None = None,
    at: datetime | None = None,
) -> tuple[Status, str]:
    """Pure: the status and short detail for one answered probe; `cert_expires` is the https target's
    certificate notAfter when known (and wanted), `at` the time of the probe.

    Precedence: what the target said is wrong (status, keyword, JSON) is an outage and says so; then an
    expiring certificate (it needs someone to act, within days); then slowness (its figure is in the latency
    history anyway)."""
    if not status_ok(monitor, probe.status_code):
        return Status.MAJOR, f"HTTP {probe.status_code}"
    if monitor.body_contains is not None and not probe.keyword_found:
        keyword = _quote(monitor.body_contains)
        if probe.body_capped:
            return (
                Status.MAJOR,
                f"keyword {keyword} not found in the first {format_size(monitor.max_body_bytes)}",
            )
        return Status.MAJOR, f"keyword {keyword} not found"
    if monitor.json_query is not None:
        problem = json_problem(monitor, probe.body or b"", capped=probe.body_capped)
        if problem is not None:
            return Status.MAJOR, problem
    if cert_expires is not None and at is not None:
        expiring = certificate_problem(monitor, cert_expires, at)
        if expiring is not None:
            return expiring
    if monitor.degraded_after_ms is not None and elapsed_ms > monitor.degraded_after_ms:
        return Status.DEGRADED, f"slow: {elapsed_ms:.0f} ms (limit {monitor.degraded_after_ms:g} ms)"
    return Status.OPERATIONAL, f"HTTP {probe.status_code}"


async def check_http(
    monitor: HttpMonitor, *, client: ProbeClient, now: Callable[[], datetime]
) -> CheckResult:
    """Probe the target within `monitor.timeout` (a total deadline, not per read) and judge the answer."""
    at = now()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(monitor.timeout):
            probe = await _probe(monitor, client)
    except REQUEST_FAILURES as exc:
        detail = describe_failure(exc, timeout=monitor.timeout)
        return replace(_result(monitor, at, Status.MAJOR, detail, latency_ms=None), reached=False)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    if monitor.credentials and probe.status_code in REFUSED and not status_ok(monitor, probe.status_code):
        # the key is wrong, not the provider down: unknown, like a source that cannot be read
        return CheckResult(monitor=monitor.name, at=at, readable=False, latency_ms=elapsed_ms,
                           detail=f"HTTP {probe.status_code}: {REFUSED_DETAIL}")
    expires = None
    if monitor.tls_expiry_days and monitor.target.startswith("https://"):  # after the latency: not part of it
        expires = await client.certificate_expiry(monitor.target, timeout=monitor.timeout, at=at)
    status, detail = judge(monitor, probe, elapsed_ms, cert_expires=expires, at=at)
    return _result(monitor, at, status, detail, latency_ms=elapsed_ms)


async def _probe(monitor: HttpMonitor, client: ProbeClient) -> Probe:
    response = await client.probe(monitor.method, monitor.target, timeout=monitor.timeout,
                                  headers=monitor.headers, content=monitor.body)
    try:
        code = response.status_code
        keyword, query = monitor.body_contains, monitor.json_query
        if (keyword is None and query is None) or not status_ok(monitor, code):
            return Probe(status_code=code)  # the body is not needed: leave it unread
        if query is None and keyword is not None:  # stop reading as soon as the keyword shows
            found, capped = await _find(response, keyword.encode(), monitor.max_body_bytes)
            return Probe(status_code=code, keyword_found=found, body_capped=capped)
        body, capped = await _read(response, monitor.max_body_bytes)
        seen = None if keyword is None else keyword.encode() in body
        return Probe(status_code=code, keyword_found=seen, body_capped=capped, body=body)
    finally:
        await response.aclose()


async def _find(response: httpx.Response, keyword: bytes, cap: int) -> tuple[bool, bool]:
    """Stream the body looking for `keyword`; stop as soon as it is found or `cap` bytes were read."""
    seen = bytearray()
    async for chunk in read_capped(response, cap):
        room = cap - len(seen)
        start = max(0, len(seen) - len(keyword) + 1)  # the keyword may straddle two chunks
        seen += chunk[:room]
        if keyword in seen[start:]:
            return True, False
        if len(chunk) >= room:
            return False, len(chunk) > room or _more_expected(response, cap)
    return False, False


async def _read(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """The body, at most `cap` bytes of it, and whether there was more."""
    seen = bytearray()
    async for chunk in read_capped(response, cap):
        room = cap - len(seen)
        seen += chunk[:room]
        if len(chunk) >= room:
            return bytes(seen), len(chunk) > room or _more_expected(response, cap)
    return bytes(seen), False


def _more_expected(response: httpx.Response, cap: int) -> bool:
    length = response.headers.get("content-length", "")
    return not length.isdigit() or int(length) > cap


# ---------------------------------------------------------------- JSON assertions


@cache  # one compiled expression per configured query (bounded by the config)
def compile_query(expression: str) -> jmespath.parser.ParsedResult:
    return jmespath.compile(expression)


def json_problem(monitor: HttpMonitor, body: bytes, *, capped: bool) -> str | None:
    """Pure: why the body fails the monitor's json_query/json_expect, or None when it passes."""
    if monitor.json_query is None:
        return None
    if capped:
        return f"body larger than {format_size(monitor.max_body_bytes)}: not read as JSON"
    try:
        document = json.loads(body)
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError
        return "body is not JSON"
    found = compile_query(monitor.json_query).search(document)
    query = f"json_query {_quote(monitor.json_query)}"
    if found is None:
        return f"{query} found nothing"
    if monitor.json_expect is None:  # no expected value: anything but null and false passes
        return f"{query} is false" if found is False else None
    if _same_json(found, monitor.json_expect) or (
        isinstance(monitor.json_expect, str) and _as_text(found) == monitor.json_expect
    ):
        return None
    return f"{query} is {_show(found)}, expected {_show(monitor.json_expect)}"


def _same_json(a: object, b: object) -> bool:
    """Equal as JSON values: 1 == 1.0, but true is not 1 (as it would be in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _as_text(value: object) -> str:
    """A value as the text an expectation string may give: "200" for 200, "true" for true."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _show(value: object) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 40 else shown[:39] + "…"


# ---------------------------------------------------------------- TLS certificate expiry


def certificate_problem(monitor: HttpMonitor, expires: datetime, at: datetime) -> tuple[Status, str] | None:
    """Pure: degraded when the certificate expires within tls_expiry_days, an outage once it has expired (a
    handshake would fail on it, but a kept-alive connection made before it expired may still answer)."""
    left = expires - at
    date = expires.date().isoformat()
    if left <= timedelta(0):
        return Status.MAJOR, f"TLS certificate expired on {date}"
    if left <= timedelta(days=monitor.tls_expiry_days):
        days = left.days
        when = "less than a day" if days == 0 else "1 day" if days == 1 else f"{days} days"
        return Status.DEGRADED, f"TLS certificate expires in {when} ({date})"
    return None


# ---------------------------------------------------------------- the check kind (bot/checks/kind.py)


class _HttpKind:
    type = "http"
    keys = frozenset({"method", "headers", "body", "json", "expect_status", "body_contains", "json_query",
                      "json_expect", "degraded_after_ms", "max_body_bytes", "tls_expiry_days"})
    records_probes = True

    def parse(self, check: Checker, where: str, table: Mapping[str, object], common: Common) -> Monitor | None:
        errors = len(check.errors)
        used = len(check.secrets)
        url = self._url(check, where, common.url)
        https = url.startswith("https://")
        expect = table.get("expect_status", [])
        if not isinstance(expect, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in expect
        ):
            check.error(f"{where}expect_status", f"must be a list of HTTP status codes (got {expect!r})")
            expect = []
        body = table.get("body_contains")
        if body is not None and not isinstance(body, str):
            check.error(f"{where}body_contains", f"must be a string (got {body!r})")
            body = None
        slow = table.get("degraded_after_ms")
        if slow is not None:
            slow = check.number(f"{where}degraded_after_ms", slow)
        method = table.get("method", "GET")
        if method not in METHODS:
            check.error(f"{where}method", f"must be {', '.join(METHODS[:-1])} or {METHODS[-1]} (got {method!r})")
            method = "GET"
        cap = check.number(f"{where}max_body_bytes", table.get("max_body_bytes", MAX_BODY_BYTES), kind=int,
                           minimum=1024, exclusive=False)
        days = check.number(f"{where}tls_expiry_days", table.get("tls_expiry_days", TLS_EXPIRY_DAYS), kind=int,
                            minimum=0, exclusive=False)
        if days and "tls_expiry_days" in table and url and not https:
            check.error(f"{where}tls_expiry_days", "only applies to https:// URLs (set 0 or remove it)")
        query = self._query(check, where, table, method=str(method))
        headers = self._headers(check, where, table.get("headers", {}))
        content, content_type = self._content(check, where, table, method=str(method))
        if content_type and not any(name.lower() == "content-type" for name, _ in headers):
            headers += (("Content-Type", content_type),)
        if len(check.errors) > errors:
            return None
        return HttpMonitor(
            method=str(method), expect_status=tuple(expect), body_contains=body, json_query=query,
            json_expect=table.get("json_expect"), degraded_after_ms=slow, max_body_bytes=int(cap or MAX_BODY_BYTES),
            tls_expiry_days=int(days or 0), headers=headers, body=content,
            expanded_url=url if url != common.url else "",
            credentials=bool(table.get("headers")) or len(check.secrets) > used, **vars(common),
        )

    @staticmethod
    def _url(check: Checker, where: str, url: str) -> str:
        """The URL to request, `${NAME}` expanded ("" when it is missing or invalid: the error says why)."""
        if not url:
            return ""
        if "${" not in url:
            return check.url(f"{where}url", url) or ""
        expanded = check.expand(f"{where}url", url)
        if expanded is not None and not expanded.startswith(("http://", "https://")):
            check.error(f"{where}url", "must be an http:// or https:// URL once its environment variables are expanded")
            return ""
        return expanded or ""

    @staticmethod
    def _headers(check: Checker, where: str, table: object) -> tuple[tuple[str, str], ...]:
        """The `headers` table: names as written, values expanded. An error never quotes an expanded value."""
        if not isinstance(table, dict):
            check.error(f"{where}headers", f"must be a table of header names to strings (got {table!r})")
            return ()
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for name, raw in table.items():
            key = f"{where}headers.{name}"
            if not _TOKEN.fullmatch(name):
                check.error(key, "not a valid header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)")
                continue
            if name.lower() in seen:
                check.error(key, "set twice (header names are case-insensitive)")
                continue
            seen.add(name.lower())
            if not isinstance(raw, str):
                check.error(key, f"must be a string (got {raw!r})")
                continue
            if "\n" in raw or "\r" in raw:
                check.error(key, "contains a line break: a header value is one line")
                continue
            value = check.expand(key, raw)
            if value is None:
                continue
            if "\n" in value or "\r" in value:
                check.error(key, "contains a line break once its environment variables are expanded: a header "
                                 "value is one line (check the variable's value)")
                continue
            out.append((name, value))
        return tuple(out)

    @staticmethod
    def _content(
        check: Checker, where: str, table: Mapping[str, object], *, method: str
    ) -> tuple[bytes | None, str | None]:
        """The request body (`body` text or `json` table, expanded) and the Content-Type `json` implies."""
        if "body" in table and "json" in table:
            check.error(f"{where}json", "give either body (text) or json (a table), not both")
            return None, None
        key = "body" if "body" in table else "json" if "json" in table else None
        if key is None:
            return None, None
        if method != "POST":
            check.error(f"{where}{key}", f"needs method = \"POST\" (a {method} request carries no body)")
        raw = table[key]
        if key == "body":
            if not isinstance(raw, str):
                check.error(f"{where}body", f"must be a string (got {raw!r}); a table goes in json")
                return None, None
            text = check.expand(f"{where}body", raw)
            return (None, None) if text is None else (text.encode(), None)
        if not isinstance(raw, dict) or not _is_json(raw):
            check.error(f"{where}json", f"must be a table of JSON values (got {raw!r})")
            return None, None
        document = _expand_json(check, f"{where}json", raw)
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), "application/json"

    @staticmethod
    def _query(check: Checker, where: str, table: Mapping[str, object], *, method: str) -> str | None:
        query, expect = table.get("json_query"), table.get("json_expect")
        if expect is not None and not _is_json(expect):
            check.error(f"{where}json_expect", f"must be a string, number, boolean, array or table (got {expect!r})")
        if query is None:
            if expect is not None:
                check.error(f"{where}json_expect", "needs json_query (the JMESPath expression whose value it is)")
            return None
        if not isinstance(query, str) or not query.strip():
            check.error(f"{where}json_query", f"must be a JMESPath expression such as 'status' (got {query!r})")
            return None
        if method == "HEAD":
            check.error(f"{where}json_query", "needs a body: method HEAD gets none")
        try:
            compile_query(query)
        except jmespath.exceptions.JMESPathError as exc:
            check.error(f"{where}json_query", f"not a valid JMESPath expression: {_jmespath_reason(exc)}")
            return None
        return query

    async def run(self, monitor: Monitor, *, client: ProbeClient, now: Callable[[], datetime]) -> CheckResult:
        if not isinstance(monitor, HttpMonitor):
            raise TypeError(f"not an HTTP monitor: {monitor.name}")
        return await check_http(monitor, client=client, now=now)


HTTP = _HttpKind()


def _is_json(value: Any) -> bool:
    """TOML values that JSON has too (TOML's dates and times it has not)."""
    if isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(_is_json(v) for v in value.values())
    return False


def _expand_json(check: Checker, key: str, value: object) -> object:
    """`value` with `${NAME}` expanded in every string inside it (the error names the key path)."""
    if isinstance(value, str):
        return check.expand(key, value) if "${" in value else value
    if isinstance(value, list):
        return [_expand_json(check, f"{key}[{i}]", v) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _expand_json(check, f"{key}.{k}", v) for k, v in value.items()}
    return value


def _jmespath_reason(exc: jmespath.exceptions.JMESPathError) -> str:
    """'unknown token $ at character 2' from jmespath's multi-line 'Bad jmespath expression: Unknown …'."""
    line = str(exc).splitlines()[0].rstrip(": ")
    reason = line.split(": ", 1)[1] if ": " in line else line
    position = getattr(exc, "lex_position", None)
    where = f" at character {position + 1}" if isinstance(position, int) else ""
    return f"{reason[:1].lower()}{reason[1:]}{where}"


def _quote(text: str) -> str:
    shown = text if len(text) <= 40 else text[:39] + "…"
    return f"'{shown}'"


def _result(
    monitor: HttpMonitor, at: datetime, status: Status, detail: str, *, latency_ms: float | None
) -> CheckResult:
    reading = ComponentReading(name=monitor.name, status=status, detail=detail)
    return CheckResult(
        monitor=monitor.name, at=at, readable=True, components=(reading,), latency_ms=latency_ms
    )
