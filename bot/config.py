"""Configuration: read once from TOML (tomllib), validated eagerly, passed down frozen.

Secrets never come from the TOML file: they come from the environment mapping given to `load`.
Every error names the file, the key and the reason, and all errors are reported at once.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.catalogue import Catalogue, Provider
    from bot.checks.kind import CheckKind
    from bot.maintenance import Window
    from bot.platform import Platform


@dataclass(frozen=True)
class Policy:
    """Alert policy (Gatus-style thresholds, flap detection, reminders)."""

    failures_before_alert: int = 2
    successes_before_recovery: int = 2
    flap_threshold: int = 4  # more confirmed changes than this within flap_window = flapping
    flap_window: float = 1800.0  # seconds
    flap_settle: float = 600.0  # seconds stable before a flapping component is trusted again
    reminder_interval: float | None = None  # seconds; None = no reminders


@dataclass(frozen=True)
class Route:
    """Where one monitor's alerts go on one platform."""

    platform: str  # a Platform's name: "console", "slack", "discord", "webhook"…
    channel: str
    mention: str | None = None  # posted with major outages only


@dataclass(frozen=True, kw_only=True)
class Monitor:
    """What every monitor has. Each check kind subclasses it with its own keys, in its own module
    (bot/checks/http.py: HttpMonitor, statuspage.py: StatuspageMonitor, tcp.py: TcpMonitor)."""

    name: str
    url: str
    interval: float = 60.0
    timeout: float = 10.0
    policy: Policy = field(default_factory=Policy)
    routes: tuple[Route, ...] = ()
    kind: str = ""  # the `type` of the CheckKind that made it (each subclass sets its own default)
    alternatives: tuple[str, ...] = ()  # other monitors' names: their live state goes with this one's incidents
    preset: str = ""  # the catalogue key it was made from (`preset = "openai"`), if any
    page: str = ""  # the status page a person opens (a preset's), for `downwatch discover` hints
    watches: str = ""  # a probe's provider: the status-page monitor its failures are compared with (early warning)


@dataclass(frozen=True)
class Config:
    path: str
    database: str = "downwatch.db"
    monitors: tuple[Monitor, ...] = ()
    policy: Policy = field(default_factory=Policy)
    retention_days: int = 7
    rollup_days: int = 400
    control_url: str | None = None  # a reliable endpoint: when it and every check fail, the network is down
    # platform name → its parsed config (each platform's own frozen type), for the platforms that are on
    platforms: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    web: Web | None = None  # the [web] table: the status page, its JSON API, /metrics and /healthz
    digest: DigestConfig | None = None  # the [digest] table: the weekly digest (issue 12)
    maintenance: tuple[Window, ...] = ()  # [[maintenance]] windows: quiet, shown in /status (bot/maintenance.py)
    # values expanded from `${NAME}` (an HTTP probe's key): the composition root keeps them out of every log
    secrets: tuple[str, ...] = field(default=(), repr=False)
    cluster: Cluster = field(default_factory=lambda: Cluster())  # several processes on PostgreSQL (issue 14)


@dataclass(frozen=True)
class Cluster:
    """Several processes as one (issue 14): the leader's lease and this process's probe region."""

    ttl: float = 10.0    # seconds a lease lasts unrenewed: a follower takes over this long after the leader died
    renew: float = 2.0   # seconds between two renewals (and heartbeats of every member)
    region: str = ""     # `region = "eu-west"` (flag --region, env DOWNWATCH_REGION): also probe from this region
    regions: tuple[str, ...] = ()  # every region that probes: HTTP/TCP monitors are decided by their quorum
    confirm_regions: int | None = None  # regions that must see a failure (None: 2 when there are 2+, else 1)
    # The cluster's name: replicas with the same name are one cluster even while their monitors differ (a
    # rolling change of the config). Without one, a cluster is its set of monitors.
    name: str = ""


DATABASE_ENV = "DOWNWATCH_DATABASE_URL"  # the PostgreSQL URL with its password: never in the TOML


@dataclass(frozen=True)
class Web:
    """The [web] table: one read-only HTTP server in the bot process (bot/web)."""

    host: str = "127.0.0.1"  # loopback unless the operator chooses to expose it
    port: int = 8080
    public: bool = False  # True: hide HTTP monitors' URLs and probe details (a page shown outside the team)
    refresh: int = 30  # seconds between the page's reloads; not a TOML key (the demo's page moves faster)


# ---------------------------------------------------------------- loading and validation


class ConfigError(Exception):
    """Every problem found in a config, each naming the file, the key and the reason."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


_POLICY_KEYS = {
    "failures_before_alert": int,
    "successes_before_recovery": int,
    "flap_threshold": int,
    "flap_window": float,
    "flap_settle": float,
    "reminder_interval": float,
}
_TOP_KEYS = {"database", "region", "regions", "confirm_regions", "cluster", "retention_days", "rollup_days", "control_url", "monitors", "web", "digest", "maintenance", *_POLICY_KEYS}  # + platforms
# The keys every monitor has; each check kind adds its own (CheckKind.keys), each platform its own
# (Platform.monitor_keys)
_MONITOR_KEYS = {"name", "type", "url", "interval", "timeout", "alternatives", "preset", "watches", *_POLICY_KEYS}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what `${NAME}` may name


class Checker:
    """Collects errors instead of stopping at the first. `env` is the environment mapping given to
    load_config: `expand` reads `${NAME}` values from it and records what it put in as `secrets`."""

    def __init__(self, path: str, env: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.errors: list[str] = []
        self.env: Mapping[str, str] = env or {}
        self.secrets: list[str] = []  # values expand() substituted: never logged, stored or shown

    def expand(self, key: str, value: str) -> str | None:
        """`value` with each `${NAME}` replaced by that environment variable, once, at load; None (with an
        error per problem) when one is not set or a `${` is not closed. An error never shows a value."""
        out: list[str] = []
        rest, ok = value, True
        while (start := rest.find("${")) >= 0:
            end = rest.find("}", start + 2)
            if end < 0:
                self.error(key, "unterminated '${': write ${NAME} to use the environment variable NAME")
                return None
            name = rest[start + 2:end]
            found = self.env.get(name)
            if not _ENV_NAME.fullmatch(name):
                self.error(key, f"'${{{name}}}' is not an environment variable name (letters, digits and _)")
                ok = False
            elif found is None:
                self.error(key, f"environment variable {name} is not set")
                ok = False
            elif not found:
                self.error(key, f"environment variable {name} is empty")
                ok = False
            else:
                self.secrets.append(found)
                out += [rest[:start], found]
            rest = rest[end + 1:]
        return "".join([*out, rest]) if ok else None

    def error(self, key: str, reason: str) -> None:
        self.errors.append(f"{self.path}: {key}: {reason}")

    def unknown(self, where: str, table: Mapping[str, object], allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.error(f"{where}{key}", f"unknown key{hint}")

    def number(self, key: str, value: object, *, kind: type = float, minimum: float = 0.0,
               exclusive: bool = True) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and isinstance(value, float)):
            self.error(key, f"must be {'a whole number' if kind is int else 'a number'} (got {value!r})")
            return None
        if value < minimum or (exclusive and value == minimum):
            self.error(key, f"must be {'greater than' if exclusive else 'at least'} {minimum:g} (got {value!r})")
            return None
        return value

    def text(self, key: str, value: object, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.error(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(key, f"must be a non-empty string (got {value!r})")
            return None
        return value

    def url(self, key: str, value: object) -> str | None:
        text = self.text(key, value, required=True)
        if text is not None and not text.startswith(("http://", "https://")):
            self.error(key, f"must be an http:// or https:// URL (got {text!r})")
            return None
        return text

    def channels(self, key: str, table: Mapping[str, object], single: str, plural: str) -> tuple[str, ...] | None:
        if single in table and plural in table:
            self.error(f"{key}{plural}", f"give either {single} or {plural}, not both")
        if single in table:
            one = self.text(f"{key}{single}", table[single])
            return (one,) if one else ()
        if plural in table:
            many = table[plural]
            if not isinstance(many, list) or not many or not all(isinstance(v, str) and v for v in many):
                self.error(f"{key}{plural}", "must be a non-empty list of channel names or ids")
                return ()
            return tuple(many)
        return None


def _policy(check: Checker, where: str, table: dict[str, object], base: Policy) -> Policy:
    values: dict[str, object] = {}
    for key, kind in _POLICY_KEYS.items():
        if key in table:
            minimum = 1 if kind is int else 0
            number = check.number(f"{where}{key}", table[key], kind=kind, minimum=minimum, exclusive=kind is not int)
            if number is not None:
                values[key] = kind(number)
    return replace(base, **values)  # type: ignore[arg-type]


def load_config(
    path: str, env: Mapping[str, str] | None = None, *, kinds: Sequence[CheckKind] | None = None,
    platforms: Sequence[Platform] | None = None, catalogue: Catalogue | None = None,
) -> Config:
    """Read and validate a TOML config; secrets come from `env`. Raises ConfigError listing every problem.
    `kinds`: the check kinds a monitor's `type` may name (None: bot.checks.KINDS). `platforms`: the chat
    platforms whose tables it may hold (the composition root passes adapters.PLATFORMS; None, for tests
    and scripts, means the same registry)."""
    env = env or {}
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    return parse_config(raw, path=path, env=env, kinds=kinds, platforms=platforms, catalogue=catalogue)


def parse_config(
    raw: dict[str, object], *, path: str, env: Mapping[str, str], kinds: Sequence[CheckKind] | None = None,
    platforms: Sequence[Platform] | None = None, catalogue: Catalogue | None = None,
) -> Config:
    """Validate an already-parsed TOML document (see load_config). `catalogue`: the providers `preset = "…"`
    may name (None: the catalogue shipped with the package, read only when a monitor names a preset)."""
    if kinds is None:
        # Imported here, not at the top: every kind module imports this one (Checker, Common, Monitor)
        from bot.checks import KINDS

        kinds = KINDS
    if platforms is None:  # only when no caller chose (tests, scripts): the core never needs adapters
        from adapters import PLATFORMS

        platforms = PLATFORMS
    check = Checker(path, env)
    check.unknown("", raw, _TOP_KEYS | {p.name for p in platforms})
    database = _database(check, raw.get("database", "downwatch.db"), env)
    cluster = _cluster(check, raw, env, database)
    policy = _policy(check, "", raw, Policy())
    retention = check.number("retention_days", raw.get("retention_days", 7), kind=int, minimum=1, exclusive=False)
    rollup = check.number("rollup_days", raw.get("rollup_days", 400), kind=int, minimum=1, exclusive=False)
    control = check.url("control_url", raw["control_url"]) if "control_url" in raw else None
    web = _web(check, raw["web"]) if "web" in raw else None
    configs: dict[str, object] = {}
    for platform in platforms:
        parsed = platform.parse(check, raw.get(platform.name), env)
        if parsed is not None:
            configs[platform.name] = parsed
    if catalogue is None and any(isinstance(m, dict) and "preset" in m for m in _as_list(raw.get("monitors"))):
        from bot.catalogue import load

        catalogue = load()  # package data, validated by its own tests: an error here is a packaging bug
    monitors = _monitors(check, raw.get("monitors"), policy, kinds, platforms=platforms, configs=configs,
                         catalogue=catalogue)
    digest = _digest(check, raw["digest"], platforms, configs) if "digest" in raw else None
    windows = _maintenance(check, raw["maintenance"], monitors) if "maintenance" in raw else ()
    if check.errors:
        raise ConfigError(check.errors)
    return Config(
        path=path, database=database, monitors=monitors, policy=policy, retention_days=int(retention or 7),
        rollup_days=int(rollup or 400), control_url=control, platforms=MappingProxyType(configs), web=web,
        digest=digest, maintenance=windows, secrets=tuple(dict.fromkeys(check.secrets)), cluster=cluster,
    )


def _database(check: Checker, raw: object, env: Mapping[str, str]) -> str:
    """An SQLite file path, or a PostgreSQL URL whose password comes from the environment: the whole URL from
    DOWNWATCH_DATABASE_URL (which wins over the TOML), `${NAME}` in the URL, or libpq's own PGPASSWORD/.pgpass."""
    if env.get(DATABASE_ENV):
        url = env[DATABASE_ENV]
        if not url.startswith(("postgresql://", "postgres://")):
            check.error(DATABASE_ENV, "must be a postgresql:// URL (an SQLite file goes in `database`)")
        password = re.match(r"^[a-z]+://[^/@:]*:([^/@]*)@", url)
        if password and password.group(1):
            check.secrets.append(password.group(1))  # kept out of every log, like an expanded ${NAME}
        return url
    text = check.text("database", raw) or "downwatch.db"
    if text.startswith(("postgresql://", "postgres://")):
        if re.match(r"^[a-z]+://[^/@]*:[^/@]*@", text) and "${" not in text.split("@", 1)[0]:
            check.error("database", f"the URL carries a password: put the whole URL in {DATABASE_ENV}, or "
                                    "${NAME} in place of the password, or use PGPASSWORD / ~/.pgpass")
            return text
        return check.expand("database", text) or text
    return text


REGION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def _cluster(check: Checker, raw: Mapping[str, object], env: Mapping[str, str], database: str) -> Cluster:
    """`region`, `regions`, `confirm_regions` and the [cluster] table (name, ttl, renew)."""
    region = env.get("DOWNWATCH_REGION") or (check.text("region", raw["region"]) if "region" in raw else "") or ""
    if region and not REGION_NAME.fullmatch(region):
        check.error("region", f"{region!r} is not a region name (letters, digits, '-', '_' and '.', up to 40)")
    regions: list[str] = []
    if "regions" in raw:
        items = raw["regions"]
        if not isinstance(items, list) or not items or not all(isinstance(r, str) for r in items):
            check.error("regions", f"must be a list of region names, e.g. [\"eu-west\", \"us-east\"] (got {items!r})")
        else:
            regions = list(dict.fromkeys(items))
            for name in regions:
                if not REGION_NAME.fullmatch(name):
                    check.error("regions", f"{name!r} is not a region name (letters, digits, '-', '_' and '.')")
            if not database.startswith(("postgresql://", "postgres://")):
                check.error("regions", "regions need a PostgreSQL database: each region's process writes its results "
                                       "there (database = \"postgresql://…\" or DOWNWATCH_DATABASE_URL)")
    if region and regions and region not in regions:
        check.error("region", f"{region!r} is not one of regions {regions}")
    confirm = None
    if "confirm_regions" in raw:
        confirm = check.number("confirm_regions", raw["confirm_regions"], kind=int, minimum=1, exclusive=False)
        if not regions:
            check.error("confirm_regions", "needs `regions`, the list of the regions that probe")
        elif confirm is not None and confirm > len(regions):
            check.error("confirm_regions", f"{int(confirm)} is more than the {len(regions)} regions listed: no "
                                           "failure could ever be confirmed")
    table = raw.get("cluster", {})
    if not isinstance(table, dict):
        check.error("cluster", "must be a table: [cluster]")
        table = {}
    check.unknown("cluster", table, {"name", "ttl", "renew"})
    name = (check.text("cluster.name", table["name"]) or "") if "name" in table else ""
    if name and not REGION_NAME.fullmatch(name):
        check.error("cluster.name", f"{name!r} is not a cluster name (letters, digits, '-', '_' and '.', up to 40)")
    if name and not database.startswith(("postgresql://", "postgres://")):
        check.error("cluster.name", "a cluster needs a PostgreSQL database that its processes share "
                                    "(database = \"postgresql://…\" or DOWNWATCH_DATABASE_URL)")
    ttl = check.number("cluster.ttl", table.get("ttl", 10.0), minimum=1.0, exclusive=False)
    renew = check.number("cluster.renew", table.get("renew", 2.0), minimum=0.1, exclusive=False)
    if ttl is not None and renew is not None and renew * 2 > ttl:
        check.error("cluster.renew", f"{renew:g}s is more than half the lease's ttl ({ttl:g}s): a leader would "
                                     "lose its lease between two renewals")
    return Cluster(ttl=float(ttl or 10.0), renew=float(renew or 2.0), region=region, regions=tuple(regions), name=name,
                   confirm_regions=int(confirm) if confirm is not None else None)


def _web(check: Checker, table: object) -> Web | None:
    """The [web] table (core config, not a chat platform)."""
    if not isinstance(table, dict):
        check.error("web", "must be a table ([web])")
        return None
    check.unknown("web.", table, {"host", "port", "public"})
    host = check.text("web.host", table.get("host", Web.host))
    port = check.number("web.port", table.get("port", Web.port), kind=int, minimum=0, exclusive=False)
    if port is not None and port > 65535:
        check.error("web.port", f"must be at most 65535 (got {port!r})")
        port = None
    public = table.get("public", False)
    if not isinstance(public, bool):
        check.error("web.public", f"must be true or false (got {public!r})")
    if host is None or port is None or not isinstance(public, bool):
        return None
    return Web(host=host, port=int(port), public=public)


@dataclass(frozen=True)
class Common:
    """The keys every monitor has, already validated, given to the kind's `parse`: it builds its monitor with
    `TheirMonitor(**vars(common), …)`. `url` is only known to be a non-empty string: its form is the kind's."""

    name: str
    url: str
    interval: float
    timeout: float
    policy: Policy
    routes: tuple[Route, ...]


def _as_list(items: object) -> list[object]:
    return items if isinstance(items, list) else []


def _monitors(
    check: Checker, items: object, policy: Policy, kinds: Sequence[CheckKind], *,
    platforms: Sequence[Platform], configs: Mapping[str, object], catalogue: Catalogue | None = None,
) -> tuple[Monitor, ...]:
    if items is None:
        check.error("monitors", "no [[monitors]] defined: add at least one")
        return ()
    if not isinstance(items, list):
        check.error("monitors", "must be an array of tables ([[monitors]])")
        return ()
    out: list[Monitor] = []
    seen: set[str] = set()
    named: dict[str, str] = {}  # every monitor name (casefolded → as written), for `alternatives`
    alternatives: list[tuple[int, str, object]] = []  # (index in out, where, the raw value)
    watches: list[tuple[int, str, object]] = []  # the same, for `watches`
    core_keys = _MONITOR_KEYS | {key for platform in platforms for key in platform.monitor_keys}
    for index, table in enumerate(items):
        where = f"monitors[{index}]."
        if not isinstance(table, dict):
            check.error(f"monitors[{index}]", "must be a table")
            continue
        provider = None
        if "preset" in table:
            provider = _preset(check, where, table, catalogue, kinds)
            if provider is None:
                continue  # its error says which preset was meant; the keys it would fill would only add noise
            table = _with_preset(table, provider, kinds)
        name = check.text(f"{where}name", table.get("name"), required=True)
        if name:
            where = f"monitors[{index}] ({name})."
            if name.casefold() in seen:
                check.error(f"{where}name", "duplicate monitor name")
            seen.add(name.casefold())
            named.setdefault(name.casefold(), name)
        kind = _kind(check, where, table, kinds, core_keys)
        if kind is None:
            continue
        url = check.text(f"{where}url", table.get("url"), required=True)
        interval = check.number(f"{where}interval", table.get("interval", 60), minimum=1, exclusive=False)
        timeout = check.number(f"{where}timeout", table.get("timeout", 10))
        mine = _policy(check, where, table, policy)
        if interval and timeout and timeout >= interval:
            check.error(f"{where}timeout", f"must be shorter than interval ({timeout:g} ≥ {interval:g})")
        routes = _routes(check, where, table, platforms, configs)
        valid = bool(name and url and interval and timeout)
        common = Common(name=name or "", url=url or "", interval=float(interval or 60),
                        timeout=float(timeout or 10), policy=mine, routes=tuple(routes))
        monitor = kind.parse(check, where, table, common)  # its errors are reported even when `valid` is not
        if valid and monitor is not None and provider is not None:
            page = provider.human_url if table.get("url") == provider.url else str(table.get("url"))
            monitor = replace(monitor, preset=provider.key, page=page)
        if valid and monitor is not None:
            out.append(monitor)
            if "alternatives" in table:
                alternatives.append((len(out) - 1, where, table["alternatives"]))
            if "watches" in table:
                watches.append((len(out) - 1, where, table["watches"]))
    for index, where, raw in alternatives:  # after the loop: an alternative may be declared further down
        out[index] = replace(out[index], alternatives=_alternatives(check, where, raw, out[index].name, named))
    probes = frozenset(k.type for k in kinds if k.records_probes)
    by_name = {m.name: m for m in out}
    for index, where, raw in watches:
        out[index] = _watches(check, where, raw, out[index], named, by_name, probes)
    return tuple(out)


def _watches(check: Checker, where: str, raw: object, monitor: Monitor, named: Mapping[str, str],
             by_name: Mapping[str, Monitor], probes: frozenset[str]) -> Monitor:
    """A probe's `watches`: the status-page monitor of its provider (early warning). Without alternatives of
    its own, the probe's incidents name the provider monitor's."""
    key = f"{where}watches"
    if monitor.kind not in probes:
        check.error(key, f"only probes ({', '.join(sorted(probes))} monitors) can watch a status page; "
                         f"this is a {monitor.kind} monitor")
        return monitor
    if not isinstance(raw, str) or not raw.strip():
        check.error(key, f"must be the name of a status-page monitor (got {raw!r})")
        return monitor
    found = named.get(raw.strip().casefold())
    watched = by_name.get(found) if found else None
    if found is None:
        close = difflib.get_close_matches(raw.strip().casefold(), sorted(named), n=1, cutoff=0.6)
        check.error(key, f"no monitor named {raw!r}" + (f" (did you mean '{named[close[0]]}'?)" if close else ""))
        return monitor
    if watched is None:
        return monitor  # that monitor has errors of its own
    if watched.name == monitor.name:
        check.error(key, f"{raw!r} is this monitor itself: name the provider's status-page monitor")
        return monitor
    if watched.kind in probes:
        check.error(key, f"{watched.name!r} is a {watched.kind} monitor, not a status page: name the "
                         "provider's status-page monitor (statuspage, incidentio, a preset…)")
        return monitor
    alternatives = monitor.alternatives or tuple(a for a in watched.alternatives if a != monitor.name)
    return replace(monitor, watches=watched.name, alternatives=alternatives)


def _alternatives(check: Checker, where: str, raw: object, name: str, named: Mapping[str, str]) -> tuple[str, ...]:
    """Other monitors' names, as they are written in their own `name` (matched case-insensitively)."""
    key = f"{where}alternatives"
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        check.error(key, f"must be a list of other monitors' names (got {raw!r})")
        return ()
    out: list[str] = []
    for value in raw:
        found = named.get(value.strip().casefold())
        if found is None:
            others = {folded: n for folded, n in named.items() if folded != name.casefold()}
            close = difflib.get_close_matches(value.strip().casefold(), sorted(others), n=1, cutoff=0.6)
            hint = f" (did you mean '{others[close[0]]}'?)" if close else ""
            check.error(key, f"no monitor named {value!r}{hint}")
        elif found.casefold() == name.casefold():
            check.error(key, f"{value!r} is this monitor itself: name other monitors")
        elif found in out:
            check.error(key, f"{value!r} is listed twice")
        else:
            out.append(found)
    return tuple(out)


def _preset(
    check: Checker, where: str, table: Mapping[str, object], catalogue: Catalogue | None, kinds: Sequence[CheckKind]
) -> Provider | None:
    """The catalogue entry `preset` names, or None with the error and the closest name."""
    if isinstance(table.get("name"), str) and table["name"]:
        where = f"{where[:-1]} ({table['name']})."
    key = table["preset"]
    if not isinstance(key, str) or not key.strip():
        check.error(f"{where}preset", f"must be a provider's key such as 'openai' (got {key!r})")
        return None
    provider = catalogue.find(key) if catalogue is not None else None
    if provider is None:
        close = catalogue.closest(key) if catalogue is not None else None
        hint = f" (did you mean '{close}'?)" if close else ""
        check.error(f"{where}preset", f"no provider {key!r} in the catalogue{hint}; `downwatch providers` lists them")
        return None
    if not any(k.type == provider.type for k in kinds) and "type" not in table:
        check.error(f"{where}preset", f"{provider.name}'s source type {provider.type!r} is not a check kind here")
        return None
    return provider


def _with_preset(table: Mapping[str, object], provider: Provider, kinds: Sequence[CheckKind]) -> dict[str, object]:
    """The table with the preset's name, type, url and default filter under it: what the monitor sets wins."""
    filled: dict[str, object] = {"name": provider.name, "type": provider.type, "url": provider.url}
    kind = next((k for k in kinds if k.type == table.get("type", provider.type)), None)
    filters = {"components", "products", "services", "regions"}
    if kind is not None and "components" in kind.keys and not filters & set(table) and provider.default_filter():
        filled["components"] = list(provider.default_filter())
    return {**filled, **table}


def _kind(
    check: Checker, where: str, table: Mapping[str, object], kinds: Sequence[CheckKind], core_keys: set[str]
) -> CheckKind | None:
    """The kind the table's `type` names, after checking that every key is known to it (or to the core)."""
    type_ = table.get("type")
    kind = next((k for k in kinds if k.type == type_), None)
    if kind is None:
        names = ", ".join(repr(k.type) for k in kinds)
        close = difflib.get_close_matches(type_, [k.type for k in kinds], n=1) if isinstance(type_, str) else []
        hint = f"; did you mean '{close[0]}'?" if close else ""
        check.error(f"{where}type", f"must be one of {names} (got {type_!r}{hint})")
    allowed = core_keys | (kind.keys if kind is not None else {key for k in kinds for key in k.keys})
    unknown: dict[str, object] = {}
    for key, value in table.items():
        if key in allowed:
            continue
        owners = [repr(k.type) for k in kinds if key in k.keys]
        if owners and kind is not None and len(owners) > 2:  # a key most kinds share: say which one it is not for
            check.error(f"{where}{key}", f"does not apply to type = {kind.type!r}")
        elif owners:
            check.error(f"{where}{key}", f"only applies to type = {' or '.join(owners)}")
        else:
            unknown[key] = value
    check.unknown(where, unknown, allowed)
    return kind


def _routes(
    check: Checker, where: str, table: Mapping[str, object], platforms: Sequence[Platform],
    configs: Mapping[str, object],
) -> tuple[Route, ...]:
    """Where a monitor's alerts go: each enabled platform's routes, in registry order."""
    routes: list[Route] = []
    for platform in platforms:
        config = configs.get(platform.name)
        if config is not None:
            routes.extend(platform.routes(check, where, table, config))
            continue
        for key in platform.monitor_keys:
            if key in table:
                check.error(f"{where}{key}", f"set, but there is no [{platform.name}] section")
    return tuple(routes)


# ---------------------------------------------------------------- digest (issue 12)

DIGEST_CRON = "0 9 * * MON"  # Monday 09:00
DIGEST_TIMEZONE = "UTC"


@dataclass(frozen=True)
class DigestConfig:
    """The [digest] table: when the weekly digest is posted (cron, in `timezone`) and where (`routes`: each
    platform's default channel, or the channels named with the keys a monitor uses, e.g. slack_channel)."""

    cron: str = DIGEST_CRON
    timezone: str = DIGEST_TIMEZONE
    routes: tuple[Route, ...] = ()


def cron_error(expression: str) -> str | None:
    """Why `expression` is not a 5-field cron expression ('0 9 * * MON'); None when it is."""
    from croniter import croniter

    if len(expression.split()) != 5:
        return f"must be a cron expression of 5 fields, minute hour day month weekday (got {expression!r})"
    if not croniter.is_valid(expression):
        return f"is not a valid cron expression (got {expression!r}); e.g. \"0 9 * * MON\" is Monday 09:00"
    return None


def timezone_error(name: str) -> str | None:
    """Why `name` is not an IANA time zone ('Europe/Berlin'); None when it is."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"is not a time zone (got {name!r}); use an IANA name such as \"UTC\" or \"Europe/Berlin\""
    return None


def _digest(check: Checker, table: object, platforms: Sequence[Platform],
            configs: Mapping[str, object]) -> DigestConfig | None:
    """The [digest] table: `cron`, `timezone` and the channel keys of every platform (as a monitor has)."""
    if not isinstance(table, dict):
        check.error("digest", "must be a table ([digest])")
        return None
    check.unknown("digest.", table, {"cron", "timezone"} | {k for p in platforms for k in p.monitor_keys})
    cron = check.text("digest.cron", table.get("cron", DIGEST_CRON))
    if cron is not None and (problem := cron_error(cron)) is not None:
        check.error("digest.cron", problem)
        cron = None
    zone = check.text("digest.timezone", table.get("timezone", DIGEST_TIMEZONE))
    if zone is not None and (problem := timezone_error(zone)) is not None:
        check.error("digest.timezone", problem)
        zone = None
    # the digest never pings anyone: a monitor's mention is for major outages
    routes = tuple(replace(r, mention=None) for r in _routes(check, "digest.", table, platforms, configs))
    if cron is None or zone is None:
        return None
    return DigestConfig(cron=cron, timezone=zone, routes=routes)


# ---------------------------------------------------------------- operations (issue 12): [[maintenance]]

_MAINTENANCE_KEYS = {"name", "monitors", "components", "start", "end", "cron", "duration", "timezone"}


def _maintenance(check: Checker, items: object, monitors: Sequence[Monitor]) -> tuple[Window, ...]:
    """`[[maintenance]]` windows: a one-off one (start, and end or duration, RFC 3339 with an offset) or a
    recurring one (cron, duration, timezone); the monitors and components they name must exist."""
    if not isinstance(items, list):
        check.error("maintenance", "must be an array of tables ([[maintenance]])")
        return ()
    named = {m.name.casefold(): m for m in monitors}
    out: list[Window] = []
    for index, table in enumerate(items):
        where = f"maintenance[{index}]."
        if not isinstance(table, dict):
            check.error(f"maintenance[{index}]", "must be a table")
            continue
        name = check.text(f"{where}name", table.get("name"), required=True)
        if name:
            where = f"maintenance[{index}] ({name})."
        check.unknown(where, table, _MAINTENANCE_KEYS)
        chosen = _window_monitors(check, where, table.get("monitors"), named)
        components = _window_components(check, where, table.get("components"),
                                        chosen if chosen else tuple(named.values()))
        window = _window_times(check, where, table)
        if name and chosen is not None and components is not None and window is not None:
            out.append(replace(window, name=name, monitors=tuple(m.name for m in chosen), components=components))
    return tuple(out)


def _window_monitors(check: Checker, where: str, raw: object,
                     named: Mapping[str, Monitor]) -> tuple[Monitor, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) and v.strip() for v in raw):
        check.error(f"{where}monitors", f"must be a non-empty list of monitor names (got {raw!r})")
        return None
    out: list[Monitor] = []
    for value in raw:
        monitor = named.get(value.strip().casefold())
        if monitor is None:
            close = difflib.get_close_matches(value.strip().casefold(), sorted(named), n=1, cutoff=0.6)
            hint = f" (did you mean '{named[close[0]].name}'?)" if close else ""
            check.error(f"{where}monitors", f"no monitor named {value!r}{hint}")
        elif monitor not in out:
            out.append(monitor)
    return tuple(out) if len(out) == len(set(v.strip().casefold() for v in raw)) else None


def _window_components(check: Checker, where: str, raw: object,
                       monitors: Sequence[Monitor]) -> tuple[str, ...] | None:
    """Component names; when every monitor the window covers lists its components in the config, each must be
    one of them (a page's components are otherwise only known once it is read)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) and v.strip() for v in raw):
        check.error(f"{where}components", f"must be a non-empty list of component names (got {raw!r})")
        return None
    known = [str(c) for m in monitors for c in getattr(m, "components", ()) or ()]
    listed = bool(monitors) and all(getattr(m, "components", ()) for m in monitors)
    ok = True
    for value in raw:
        if listed and value.strip().casefold() not in {k.casefold() for k in known}:
            close = difflib.get_close_matches(value.strip(), known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            check.error(f"{where}components", f"no component {value!r} in those monitors' components{hint}")
            ok = False
    return tuple(v.strip() for v in raw) if ok else None


def _window_times(check: Checker, where: str, table: Mapping[str, object]) -> Window | None:
    """start/end (or start/duration), or cron/duration/timezone: the window's times (named by the caller)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from bot.maintenance import MAX_DURATION, Window, parse_duration, valid_cron

    duration = None
    if "duration" in table:
        raw = table["duration"]
        duration = parse_duration(raw) if isinstance(raw, str) else None
        if duration is None:
            check.error(f"{where}duration", f"must be a span like '30m', '2h' or '1d' (got {raw!r})")
            return None
        if duration > MAX_DURATION:
            check.error(f"{where}duration", f"must be at most 7d (got {raw!r})")
            return None
    if "cron" in table:
        if "start" in table or "end" in table:
            check.error(f"{where}cron", "give either cron (a recurring window) or start and end (a one-off), not both")
            return None
        cron = table["cron"]
        if not isinstance(cron, str) or not valid_cron(cron):
            check.error(f"{where}cron", f"must be a cron expression of 5 fields like '0 3 * * SUN' (got {cron!r})")
            return None
        if duration is None:
            check.error(f"{where}duration", "is required with cron: how long each window lasts ('2h')")
            return None
        zone = table.get("timezone", "UTC")
        try:
            if not isinstance(zone, str) or not zone:
                raise ValueError
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            check.error(f"{where}timezone", f"must be an IANA time zone like 'Europe/Berlin' or 'UTC' (got {zone!r})")
            return None
        return Window(name="", cron=" ".join(cron.split()), duration=duration, timezone=zone)
    if "timezone" in table:
        check.error(f"{where}timezone", "only applies with cron (start and end carry their own offset)")
        return None
    start = _moment(check, f"{where}start", table.get("start"), required=True)
    if "end" in table and duration is not None:
        check.error(f"{where}end", "give either end or duration, not both")
        return None
    if "end" not in table and duration is None:
        check.error(f"{where}end", "is required (or duration, or a recurring window with cron)")
        return None
    end = _moment(check, f"{where}end", table["end"], required=True) if "end" in table else None
    if start is None or ("end" in table and end is None):
        return None
    end = end if end is not None else start + (duration or timedelta(0))
    if end <= start:
        check.error(f"{where}end", f"must be after start ({end.isoformat()} is not after {start.isoformat()})")
        return None
    return Window(name="", start=start, end=end)


def _moment(check: Checker, key: str, raw: object, *, required: bool) -> datetime | None:
    """An RFC 3339 time with an offset: a TOML offset date-time, or a string."""
    if raw is None:
        if required:
            check.error(key, "is required")
        return None
    value = raw
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip().replace("z", "Z"))
        except ValueError:
            check.error(key, f"must be an RFC 3339 time like '2026-12-06T02:00:00Z' (got {raw!r})")
            return None
    if not isinstance(value, datetime):
        check.error(key, f"must be an RFC 3339 time like '2026-12-06T02:00:00Z' (got {raw!r})")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        check.error(key, f"needs a time zone offset, 'Z' or '+01:00' (got {raw!r})")
        return None
    return value.astimezone(UTC)
