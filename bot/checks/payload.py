"""What every source parser shares: reading a body into JSON, the components filter, and short plain text.

A body that cannot be read raises `Unreadable` inside a parser, which turns it into `readable=False` with the
reason as detail: never an exception out of `parse`, never an outage.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.model import CheckResult, ComponentReading, Status

MISSING_DETAIL = "not on the page (renamed or removed?)"
# A provider incident's impact in Statuspage's words, which engine.provider_severity ranks.
IMPACT_OF: dict[Status, str] = {Status.DEGRADED: "minor", Status.PARTIAL: "major", Status.MAJOR: "critical"}
UPDATE_MAX_CHARS = 500
TITLE_MAX_CHARS = 200

# The byte-order marks we decode by, longest first (UTF-32's LE mark starts with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)


class Unreadable(Exception):
    """The payload is not the source we expect; its message is the detail the user reads."""


def unreadable(monitor: str, at: datetime, detail: str) -> CheckResult:
    return CheckResult(monitor=monitor, at=at, readable=False, detail=detail)


T = TypeVar("T")


class LastBody:
    """One monitor's last body and what reading it gave. Most polls serve the same bytes again, and reading
    them (json.loads, feedparser) is most of a poll's cost; comparing bytes is not. One body per monitor."""

    __slots__ = ("_body", "_read", "_value", "_error")

    def __init__(self) -> None:
        self._body: bytes | None = None
        self._read: Callable[[bytes], Any] | None = None
        self._value: Any = None
        self._error: Unreadable | None = None

    def read(self, body: bytes, read: Callable[[bytes], T]) -> T:
        """`read(body)`, or what it gave last time when the body and the reader are the same."""
        if body != self._body or read is not self._read:
            self._body, self._read, self._value, self._error = body, read, None, None
            try:
                self._value = read(body)
            except Unreadable as exc:
                self._error = exc
        if self._error is not None:
            raise Unreadable(str(self._error))
        return self._value  # type: ignore[no-any-return]


def read_with(last: LastBody | None, body: bytes, read: Callable[[bytes], T]) -> T:
    return last.read(body, read) if last is not None else read(body)


def decode(body: bytes) -> str:
    """Text by its byte-order mark (AWS serves UTF-16 with one), else UTF-8."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if body.startswith(bom):
            encoding = name
            break
    try:
        return body.decode(encoding)
    except UnicodeDecodeError:
        raise Unreadable(f"not valid {encoding.removesuffix('-sig').upper()} text") from None


def load_json(body: bytes) -> Any:
    """The parsed JSON of a body, or Unreadable saying why (empty, an HTML page, invalid or cut short)."""
    text = decode(body).strip()
    if not text:
        raise Unreadable("empty body, expected JSON")
    if text[0] == "<":
        raise Unreadable("HTML page, expected JSON")
    try:
        return json.loads(text)
    except RecursionError:
        raise Unreadable("invalid JSON (nested too deeply)") from None
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated string")
        raise Unreadable("invalid JSON (cut short?)" if cut else "invalid JSON") from None


def load_object(body: bytes) -> dict[str, Any]:
    doc = load_json(body)
    if not isinstance(doc, dict):
        raise Unreadable(f"unexpected JSON shape: {_kind(doc)} where an object was expected")
    return doc


def load_list(body: bytes) -> list[Any]:
    doc = load_json(body)
    if not isinstance(doc, list):
        raise Unreadable(f"unexpected JSON shape: {_kind(doc)} where a list was expected")
    return doc


def _kind(doc: Any) -> str:
    if isinstance(doc, dict):
        return "an object"
    if isinstance(doc, list):
        return "a list"
    return "a string" if isinstance(doc, str) else "a number or literal"


def need_list(doc: dict[str, Any], key: str, *, optional: bool = False) -> list[Any]:
    """`doc[key]` as a list; a missing key is an empty list only when `optional`."""
    value = doc.get(key)
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise Unreadable(f"unexpected JSON shape: no '{key}' list")
    return value


def objects(items: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list; anything else (null, a number, an object) has none."""
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def strings(items: Any) -> list[str]:
    """The non-empty strings (numbers written as strings) of a JSON list."""
    if not isinstance(items, list):
        return []
    return [text for text in (text_of(i) for i in items if isinstance(i, str | int | float)) if text]


def text_of(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value).strip()


# ---------------------------------------------------------------- the components filter


def wanted(only: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name.strip().casefold() for name in only if name.strip())


def passes(want: frozenset[str], *names: str | None) -> bool:
    """True when no filter is set or one of `names` (a name, a group, an id) is in it, case-insensitively."""
    return not want or any(name is not None and name.casefold() in want for name in names)


def filtered(readings: list[ComponentReading], only: tuple[str, ...]) -> tuple[ComponentReading, ...]:
    """Readings on the page that pass the filter (by name or group), then one `unknown` reading per filter
    entry that matched nothing: a renamed component must not look operational."""
    want = wanted(only)
    if not want:
        return tuple(readings)
    kept = [r for r in readings if passes(want, r.name, r.group)]
    seen = {key.casefold() for r in kept for key in (r.name, r.group) if key}
    out = list(kept)
    for name in dict.fromkeys(n.strip() for n in only if n.strip()):
        if name.casefold() not in seen:
            out.append(ComponentReading(name=name, status=Status.UNKNOWN, detail=MISSING_DETAIL))
            seen.add(name.casefold())
    return tuple(out)


def per_entry(only: tuple[str, ...], statuses: dict[str, Status]) -> tuple[ComponentReading, ...]:
    """For sources that only list what is broken (cloud incident lists, Slack): one reading per filter entry,
    operational unless an open incident names it. The set stays the same from poll to poll, so a recovered
    product reads operational instead of vanishing from the page."""
    out = []
    for name in dict.fromkeys(n.strip() for n in only if n.strip()):
        out.append(ComponentReading(name=name, status=statuses.get(name.casefold(), Status.OPERATIONAL)))
    return tuple(out)


def unknown_word(word: Any) -> str:
    return f"unrecognised status '{short(text_of(word), 40)}'"


# ---------------------------------------------------------------- text and time


_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|p|/p|li|/li|ul|/ul|div|/div|h\d|/h\d)(\s[^>]*)?\s*/?\s*>", re.IGNORECASE)
_BLANKS = re.compile(r"\n\s*\n\s*\n+")
_SPACES = re.compile(r"[ \t\xa0]+")


def plain(text: str) -> str:
    """HTML or Markdown-ish text as plain text: tags dropped, entities decoded, blank runs collapsed."""
    if "<" in text:
        text = _TAG.sub("", _BREAK.sub("\n", text))
    text = html.unescape(text).replace("\r\n", "\n")
    text = _SPACES.sub(" ", text)
    return _BLANKS.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def update_text(text: Any) -> str:
    # Only the start is kept: cut long bodies (a feed item holds every update) before the regex work.
    return short(plain(text_of(text)[: 8 * UPDATE_MAX_CHARS]), UPDATE_MAX_CHARS)


def title_text(text: Any, fallback: str = "(untitled incident)") -> str:
    return short(plain(text_of(text)) or fallback, TITLE_MAX_CHARS)


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 string, or epoch seconds / milliseconds (a number or a digit string), as aware UTC."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000.0 if value > 10**11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
