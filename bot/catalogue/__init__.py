"""The provider catalogue shipped with the package (providers.toml): what `preset = "<key>"` stands for.

Pure: `load()` reads the package data, validates every entry and returns frozen values; nothing is fetched.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from urllib.parse import urlsplit

DATA_FILE = "providers.toml"

# The source types of issue 11, plus the existing HTTP probe for providers with no readable status source.
SOURCE_TYPES = frozenset({
    "statuspage", "incidentio", "feed", "slack", "gcp", "aws", "betterstack", "instatus", "statusio", "heroku",
    "http",
})
REQUIRED = ("name", "type", "url", "verified")
LISTS = ("components", "groups", "products", "services", "regions", "alternatives", "aliases")
OPTIONAL_TEXT = ("page", "confidence", "note")
KNOWN_KEYS = frozenset(REQUIRED + LISTS + OPTIONAL_TEXT)
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
VERIFIED_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?\Z")


class Confidence(StrEnum):
    VERIFIED = "verified"  # seen in a recorded probe, capture or official doc
    BELIEVED = "believed"  # sources disagree or are old


class CatalogueError(ValueError):
    """The data file is invalid; the message lists every problem, one per line."""


@dataclass(frozen=True, kw_only=True)
class Provider:
    """One catalogue entry: a provider's status source and its default filter."""

    key: str
    name: str
    type: str
    url: str  # base URL (statuspage, incidentio, betterstack, instatus) or the exact endpoint (the others)
    verified: str  # "YYYY-MM" or "YYYY-MM-DD": when the entry was last checked against a real source
    page: str = ""  # the page a person opens, when it differs from `url`
    confidence: Confidence = Confidence.VERIFIED
    components: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    note: str = ""

    @property
    def human_url(self) -> str:
        return self.page or self.url

    def default_filter(self) -> tuple[str, ...]:
        """The preset's filter as one `components` list, the form every source's filter reads: names,
        groups and products as they are; AWS services and regions as AWS writes them together
        ("bedrock-us-east-1"), since a service alone or a region alone would widen the filter."""
        aws: tuple[str, ...]
        if self.services and self.regions:
            aws = tuple(f"{s}-{r}" for s in self.services for r in self.regions)
        else:
            aws = self.services or self.regions
        return tuple(dict.fromkeys((*self.components, *self.groups, *self.products, *aws)))

    def keeps(self, name: str, group: str | None = None) -> bool:
        """Whether the default filter keeps a component: by its name, its "Group / Name", or its group.

        Names compare case-insensitively, as the statuspage source's `components` filter does.
        """
        if not self.components and not self.groups:
            return True
        wanted = {c.casefold() for c in self.components}
        if name.casefold() in wanted:
            return True
        if group is None:
            return False
        return group.casefold() in {g.casefold() for g in self.groups} or (
            f"{group} / {name}".casefold() in wanted
        )


@dataclass(frozen=True)
class Catalogue:
    providers: tuple[Provider, ...]

    def find(self, key: str) -> Provider | None:
        """The provider with this key or alias (case-insensitive), or None."""
        wanted = key.strip().casefold()
        for provider in self.providers:
            if provider.key == wanted or wanted in provider.aliases:
                return provider
        return None

    def names(self) -> tuple[str, ...]:
        """Every key and alias: what `preset = "…"` accepts."""
        return tuple(n for p in self.providers for n in (p.key, *p.aliases))

    def closest(self, key: str) -> str | None:
        """The key or alias nearest to a mistyped one ("did you mean 'anthropic'?"), or None."""
        matches = difflib.get_close_matches(key.strip().casefold(), self.names(), n=1, cutoff=0.6)
        return matches[0] if matches else None

    def search(self, word: str) -> list[Provider]:
        """Providers whose key, alias, name, type or URL contains `word` (case-insensitive); all for ''."""
        needle = word.strip().casefold()
        return [
            p for p in self.providers
            if not needle
            or any(needle in field.casefold() for field in (p.key, p.name, p.type, p.url, p.page, *p.aliases))
        ]


def load() -> Catalogue:
    """The catalogue shipped with the package. Raises CatalogueError when the data file is invalid."""
    data = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse(data, source=DATA_FILE)


def parse(text: str, *, source: str = DATA_FILE) -> Catalogue:
    """Pure: a catalogue from the TOML text, every problem reported at once."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{source}: {exc}") from None
    problems: list[str] = []
    extra = sorted(set(doc) - {"providers"})
    if extra:
        problems.append(f"{source}: unknown top-level key(s) {', '.join(extra)}; entries go in [providers.<key>]")
    table = doc.get("providers")
    if not isinstance(table, dict) or not table:
        raise CatalogueError("\n".join([*problems, f"{source}: no [providers.<key>] tables"]))
    providers = [p for key, entry in table.items() if (p := _entry(source, key, entry, problems)) is not None]
    problems.extend(_cross_check(source, providers))
    if problems:
        raise CatalogueError("\n".join(problems))
    return Catalogue(tuple(providers))


def _entry(source: str, key: str, entry: object, problems: list[str]) -> Provider | None:
    where = f"{source}: providers.{key}"
    if not KEY_PATTERN.match(key):
        problems.append(f"{where}: the key must be lower case letters, digits and '-'")
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a table")
        return None
    unknown = sorted(set(entry) - KNOWN_KEYS)
    for name in unknown:
        near = difflib.get_close_matches(name, sorted(KNOWN_KEYS), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        problems.append(f"{where}.{name}: unknown key{hint}")
    before = len(problems)  # an unknown key does not stop the values being checked
    for name in REQUIRED:
        if name not in entry:
            problems.append(f"{where}: missing required key '{name}'")
    for name in (*REQUIRED, *OPTIONAL_TEXT):
        value = entry.get(name)
        if value is not None and not (isinstance(value, str) and value.strip()):
            problems.append(f"{where}.{name}: must be a non-empty string")
    for name in LISTS:
        value = entry.get(name, [])
        if not (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)):
            problems.append(f"{where}.{name}: must be a list of non-empty strings")
    if len(problems) > before:
        return None

    kind = entry["type"]
    if kind not in SOURCE_TYPES:
        near = difflib.get_close_matches(kind, sorted(SOURCE_TYPES), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        problems.append(f"{where}.type: unknown source type '{kind}'{hint}; known: {', '.join(sorted(SOURCE_TYPES))}")
    for name in ("url", "page"):
        if name in entry and not _is_https(entry[name]):
            problems.append(f"{where}.{name}: must be an https:// URL with a host, not '{entry[name]}'")
    if not VERIFIED_PATTERN.match(entry["verified"]):
        problems.append(f"{where}.verified: must be a date, 'YYYY-MM' or 'YYYY-MM-DD', not '{entry['verified']}'")
    confidence = entry.get("confidence", Confidence.VERIFIED.value)
    if confidence not in {c.value for c in Confidence}:
        problems.append(f"{where}.confidence: must be 'verified' or 'believed', not '{confidence}'")
    for alias in entry.get("aliases", []):
        if not KEY_PATTERN.match(alias):
            problems.append(f"{where}.aliases: '{alias}' must be lower case letters, digits and '-'")
    if len(problems) > before or unknown:
        return None
    return Provider(
        key=key,
        name=entry["name"].strip(),
        type=kind,
        url=entry["url"],
        verified=entry["verified"],
        page=entry.get("page", ""),
        confidence=Confidence(confidence),
        note=entry.get("note", ""),
        **{name: tuple(entry.get(name, [])) for name in LISTS},
    )


def _cross_check(source: str, providers: Iterable[Provider]) -> list[str]:
    """Aliases are unique across keys and aliases; alternatives name other providers."""
    problems: list[str] = []
    listed = list(providers)
    owner: dict[str, str] = {p.key: p.key for p in listed}
    for p in listed:
        for alias in p.aliases:
            if alias in owner:
                problems.append(f"{source}: providers.{p.key}.aliases: '{alias}' is already used by '{owner[alias]}'")
            else:
                owner[alias] = p.key
    keys: Mapping[str, Provider] = {p.key: p for p in listed}
    for p in listed:
        for alt in p.alternatives:
            if alt == p.key:
                problems.append(f"{source}: providers.{p.key}.alternatives: a provider is not its own alternative")
            elif alt not in keys:
                problems.append(f"{source}: providers.{p.key}.alternatives: '{alt}' is not a provider key")
    return problems


def _is_https(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and " " not in value
