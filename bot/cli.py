"""The `downwatch` command: run, check, status, incidents, validate, demo, providers, discover.

Exit codes: 0 fine, 1 something is not operational (check) or failed, 2 usage or config error.
`os.environ` and `.env` are read here and nowhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from adapters import PLATFORMS
from bot import runtime
from bot.config import Config, ConfigError, load_config
from bot.platform import unused_secrets
from bot.redact import Redact, hide_in_library_log

if TYPE_CHECKING:
    import httpx

    from bot.catalogue import Catalogue
    from bot.discover import Fetch
    from bot.maintenance import Window
    from bot.store import Store

SECRET_KEYS = tuple(secret for platform in PLATFORMS for secret in platform.secrets)  # redacted from every log


def environment(env: Mapping[str, str] | None = None, dotenv: str = ".env") -> dict[str, str]:
    """The process environment over the values of `.env` (the environment wins)."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(dotenv).items() if v is not None} if os.path.exists(dotenv) else {}
    values.update(env if env is not None else os.environ)
    return values


def setup_logging(env: Mapping[str, str], level: str = "INFO", *, secrets: Sequence[str] = ()) -> None:
    """Our stderr handler; `secrets`: values besides the platforms' (a config's expanded `${NAME}`s) that
    no line may show."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact([*(env.get(k, "") for k in SECRET_KEYS), *secrets]))
    handler.set_name("downwatch")
    root = logging.getLogger()
    # replace only our own handler (main may run more than once in a process: tests); keep the host's
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "downwatch"] + [handler]
    root.setLevel(env.get("DOWNWATCH_LOG_LEVEL", level).upper())
    for noisy in ("apscheduler", "httpx", "httpcore", "discord", "slack_bolt", "slack_sdk", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="downwatch", description="Outage alerts for the services you depend on.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("run", help="run the bot until SIGINT/SIGTERM")
    p.add_argument("--config", default="downwatch.toml")
    p.add_argument("--region", default=None, help="also probe HTTP/TCP monitors as this region (PostgreSQL only; "
                   "overrides `region` and DOWNWATCH_REGION)")
    p = sub.add_parser("check", help="run every monitor once and print one row per component")
    p.add_argument("--config", default="downwatch.toml")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p = sub.add_parser("status", help="what /status answers, from the SQLite history")
    p.add_argument("target", nargs="*", help="a monitor or component name")
    _history_args(p)
    p = sub.add_parser("incidents", help="the last incidents, from the SQLite history")
    p.add_argument("--limit", type=int, default=5)
    _history_args(p)
    p = sub.add_parser("digest", help="the weekly digest, from the SQLite history")
    p.add_argument("--until", default=None, metavar="DATE",
                   help="the week of the 7 days before DATE (YYYY-MM-DD; default: today, in [digest] timezone)")
    _history_args(p)
    _operation_parsers(sub)
    p = sub.add_parser("migrate", help="copy an SQLite history into the config's PostgreSQL database")
    p.add_argument("--from", dest="source", default=None, metavar="FILE",
                   help="the SQLite file (default: downwatch.db)")
    p.add_argument("--to", dest="target", default=None, metavar="URL",
                   help="the PostgreSQL URL (default: DOWNWATCH_DATABASE_URL, else the config's `database`)")
    p.add_argument("--config", default=None, help="read the PostgreSQL URL from this config")
    p = sub.add_parser("cluster", help="the processes sharing the PostgreSQL database: who leads, lease, backlog")
    p.add_argument("--config", default="downwatch.toml")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p = sub.add_parser("validate", help="check a config file and explain every error")
    p.add_argument("--config", default="downwatch.toml")
    sub.add_parser("demo", help="a scripted outage against a simulated status page (no tokens needed)")
    p = sub.add_parser("providers", help="list the provider catalogue (what `preset = \"…\"` accepts)")
    p.add_argument("word", nargs="?", default="", help="only providers whose key, name, type or URL contains it")
    p = sub.add_parser("discover", help="find out what source a status page is and print a [[monitors]] block")
    p.add_argument("url", help="the status page, e.g. https://status.example.com")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    return parser


def _history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="read the database path from this config")
    p.add_argument("--db", default=None, help="the SQLite file or PostgreSQL URL (default: the config's, else "
                   "downwatch.db)")


def _load(path: str, env: Mapping[str, str]) -> Config | None:
    try:
        return load_config(path, env, platforms=PLATFORMS)
    except ConfigError as exc:
        _config_errors(exc.errors)
        return None


def _config_errors(errors: Sequence[str]) -> None:
    from bot.wording import plural

    print(f"downwatch: {plural(len(errors), 'error')} in the configuration:", file=sys.stderr)
    for error in errors:
        print(f"  {error}", file=sys.stderr)


def is_postgres(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def _database_error(config: Config) -> bool:
    """Report a `database` SQLite cannot open as a config error (True), before anything is created. A
    PostgreSQL URL is checked by connecting (bot/app.py retries while it is unreachable)."""
    from bot.store import unusable

    if is_postgres(config.database):
        return False
    problem = unusable(config.database)
    if problem is not None:
        _config_errors([f"{config.path}: database: cannot use {config.database!r}: {problem}"])
    return problem is not None


def _open_store(database: str, *, existing: bool = True) -> Store | None:
    """The store in `database`, or None once it said why it cannot be used (an SQLite file that does not exist
    yet when `existing`, or is not usable; PostgreSQL refusing or not answering)."""
    from bot.store import Store, Unavailable, unusable

    if is_postgres(database):
        from bot.store.postgres import BadDatabase, redact

        try:
            return Store.open(database)
        except (BadDatabase, Unavailable) as exc:
            print(f"downwatch: {exc}", file=sys.stderr)
            return None
        except Exception as exc:  # anything else psycopg raises, said without the URL's password
            print(f"downwatch: cannot use {redact(database)}: {type(exc).__name__}", file=sys.stderr)
            return None
    if existing and not os.path.exists(database):
        print(f"downwatch: no history yet: {database} does not exist (run `downwatch run` first)", file=sys.stderr)
        return None
    problem = unusable(database)
    if problem is not None:
        print(f"downwatch: cannot use the database {database!r}: {problem}", file=sys.stderr)
        return None
    return Store.open(database)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """The command line; `env` stands for the process environment (tests pass their own)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    env = environment(env)
    if args.command == "demo":  # the console shows everything; only problems are logged
        setup_logging(env, level="WARNING")
        from bot.demo import demo

        return runtime.run(demo())
    setup_logging(env)
    if args.command == "providers":
        return _providers(args.word)
    if args.command == "discover":
        return runtime.run(_discover(args.url, timeout=args.timeout))
    if args.command in ("status", "incidents"):
        return _history(args, env)
    if args.command in ("mute", "unmute", "ack"):
        return _operate(args, env)
    if args.command == "digest":
        return _digest(args, env)
    if args.command == "migrate":
        return _migrate(args, env)
    if args.command == "cluster":
        return _cluster(args, env)
    if args.command == "run" and args.region:
        env = {**env, "DOWNWATCH_REGION": args.region}
    config = _load(args.config, env)
    if config is None or (args.command in ("validate", "run") and _database_error(config)):
        return 2
    if config.secrets:  # known only now: the values the config expanded from the environment
        setup_logging(env, secrets=config.secrets)
        hide_in_library_log("httpx", config.secrets)  # a redirected probe's URL is logged by httpx
    if args.command == "validate":
        from bot.wording import plural

        print(f"{args.config}: OK — {plural(len(config.monitors), 'monitor')}; alerts to "
              + (", ".join(config.platforms) or "nowhere"))
        for warning in unused_secrets(PLATFORMS, config.platforms, env):
            print(f"downwatch: warning: {warning}", file=sys.stderr)
        return 0
    if args.command == "check":
        return runtime.run(_check(config, as_json=args.json))
    for warning in unused_secrets(PLATFORMS, config.platforms, env):
        logging.getLogger("downwatch").warning(warning)
    return runtime.run(_run(config))


def _open_history(database: str) -> Store | None:
    """The history in `database`, or None once it said why it cannot be read (no file yet, or not usable)."""
    return _open_store(database)


def _history(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from adapters.console import render_reply
    from bot import commands
    from bot.clock import SystemClock
    from bot.model import Command, CommandKind, Usage

    database = args.db
    alternatives: dict[str, tuple[str, ...]] = {}
    planned: tuple[Window, ...] = ()
    if database is None and args.config:
        config = _load(args.config, env)
        if config is None:
            return 2
        database = config.database
        alternatives = {m.name: m.alternatives for m in config.monitors}
        planned = config.maintenance
    database = database or "downwatch.db"
    if args.command == "incidents":
        if not 1 <= args.limit <= commands.MAX_LIMIT:
            print(f"downwatch: --limit must be between 1 and {commands.MAX_LIMIT}", file=sys.stderr)
            return 2
        command: Command | Usage = Command(CommandKind.INCIDENTS, limit=args.limit)
    else:
        command = commands.parse_text(" ".join(args.target), now=SystemClock().now())
    store = _open_history(database)
    if store is None:
        return 2
    try:
        reply = command if isinstance(command, Usage) else commands.handle(
            command, history=store, now=SystemClock().now(), alternatives=alternatives, planned=planned)
    finally:
        store.close()
    print(render_reply(reply))
    return 2 if isinstance(reply, Usage) and reply.is_error else 0


# ---------------------------------------------------------------- digest (issue 12)


def _digest(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`downwatch digest`: the weekly digest the bot posts, printed whole (every monitor)."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from adapters.console import render_digest
    from bot import digest
    from bot.clock import SystemClock

    database, zone = args.db, "UTC"
    windows: tuple[Window, ...] = ()  # maintenance, left out of uptime as `/uptime` does
    if args.config:
        config = _load(args.config, env)
        if config is None:
            return 2
        database = database or config.database
        zone = config.digest.timezone if config.digest is not None else zone
        windows = config.maintenance
    database = database or "downwatch.db"
    now = SystemClock().now()
    if args.until is not None:
        try:
            now = datetime.combine(date.fromisoformat(args.until), time(0), tzinfo=ZoneInfo(zone))
        except ValueError:
            print(f"downwatch: --until must be a date like 2026-11-30 (got {args.until!r})", file=sys.stderr)
            return 2
    store = _open_history(database)
    if store is None:
        return 2
    try:
        week = digest.read(store, now=now, timezone=zone, windows=windows)
    finally:
        store.close()
    print(render_digest(week, limit=None))
    return 0


async def _check(config: Config, *, as_json: bool) -> int:
    from bot.checks import run_check
    from bot.checks.client import make_client
    from bot.clock import SystemClock
    from bot.engine import provider_severity
    from bot.model import Status

    clock = SystemClock()
    async with make_client() as client:
        results = await asyncio.gather(*(run_check(m, client=client, now=clock.now) for m in config.monitors))
    rows: list[dict[str, str]] = []
    for result in results:
        if not result.readable:
            rows.append({"monitor": result.monitor, "component": "*", "status": Status.UNKNOWN.value,
                         "detail": f"source unreadable: {result.detail}"})
            continue
        titles: dict[str, list[str]] = {}
        for inc in result.incidents:
            for name in inc.components:
                titles.setdefault(name, []).append(inc.title)
        for c in result.components:
            detail = "; ".join([c.detail] * bool(c.detail) + [f"incident: {t}" for t in titles.get(c.name, [])])
            rows.append({"monitor": result.monitor, "component": c.name, "status": c.status.value, "detail": detail})
        for inc in result.incidents:
            rows.append({"monitor": result.monitor, "component": f"incident: {inc.title}",
                         "status": provider_severity(inc).value,
                         "detail": f"{inc.status}; impact {inc.impact}; {inc.latest_update[:200]}".strip("; ")})
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        width = max([len(r["monitor"]) for r in rows] + [7])
        cwidth = min(40, max([len(r["component"]) for r in rows] + [9]))
        print(f"{'MONITOR':<{width}}  {'COMPONENT':<{cwidth}}  {'STATUS':<20}  DETAIL")
        for r in rows:
            print(f"{r['monitor']:<{width}}  {r['component'][:cwidth]:<{cwidth}}  {r['status']:<20}  {r['detail']}")
    return 0 if all(r["status"] == Status.OPERATIONAL.value for r in rows) else 1


def _providers(word: str) -> int:
    """`downwatch providers [WORD]`: the catalogue as a table; 2 when nothing matches WORD."""
    from bot.catalogue import load

    catalogue = load()
    found = catalogue.search(word)
    if not found:
        close = catalogue.closest(word)
        hint = f" (did you mean '{close}'?)" if close else ""
        print(f"downwatch: no provider matches {word!r}{hint}", file=sys.stderr)
        return 2
    rows = [(p.key, p.name, p.type, p.human_url,
             p.verified + (" (believed)" if p.confidence.value == "believed" else "")) for p in found]
    header = ("KEY", "NAME", "TYPE", "PAGE", "VERIFIED")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])
    print(f"\n{len(found)} of {len(catalogue.providers)} providers. In a [[monitors]] block: preset = \"<KEY>\"")
    return 0


async def _discover(url: str, *, timeout: float) -> int:
    """`downwatch discover URL`: what the page is, its components by group, and a block to paste; 0 found,
    2 with the reason when no source downwatch reads was found."""
    from bot.catalogue import load
    from bot.checks.client import make_client
    from bot.discover import NotFound, discover

    async with make_client() as client:
        found = await discover(url, _page_fetch(client, timeout=timeout))
    if isinstance(found, NotFound):
        print(f"downwatch: no status source found: {found.reason}", file=sys.stderr)
        for line in found.tried:
            print(f"  {line}", file=sys.stderr)
        return 2
    print(f"{found.title or url}: {found.type} source at {found.url}")
    if found.components:
        groups: dict[str | None, list[str]] = {}
        for component in found.components:
            groups.setdefault(component.group, []).append(component.name)
        print(f"\n{len(found.components)} components:")
        for group, names in groups.items():
            print(f"  {group}" if group else "  (no group)")
            for name in names:
                print(f"    {name}")
    for note in found.notes:
        print(f"\nnote: {note}")
    preset = _preset_for(load(), found.url)
    if preset:
        print(f"\nIn the catalogue: preset = \"{preset}\" (`downwatch providers {preset}`)")
    print("\nPaste into the config:\n")
    print(found.toml, end="")
    return 0


def _preset_for(catalogue: Catalogue, url: str) -> str | None:
    """The catalogue key whose page or endpoint is on the same host as `url`, if exactly one is."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname
    keys = [p.key for p in catalogue.providers if host in {urlsplit(p.url).hostname, urlsplit(p.human_url).hostname}]
    return keys[0] if len(keys) == 1 else None


def _page_fetch(client: httpx.AsyncClient, *, timeout: float, max_bytes: int = 8 * 1024 * 1024) -> Fetch:
    """bot.discover's `fetch` on the probe client: every answer as it came (status, type, body, final URL),
    every failure a FetchFailed with a readable reason, and at most `max_bytes` of a body."""
    from bot.checks.client import REQUEST_FAILURES, describe_failure, format_size, read_capped
    from bot.discover import FetchFailed, Response

    async def fetch(url: str) -> Response | FetchFailed:
        try:
            async with asyncio.timeout(timeout), client.stream("GET", url, timeout=timeout) as response:
                body = bytearray()
                async for chunk in read_capped(response, max_bytes):
                    body += chunk
                    if len(body) > max_bytes:
                        return FetchFailed(f"body over {format_size(max_bytes)}")
                return Response(response.status_code, response.headers.get("content-type", ""), bytes(body),
                                str(response.url))
        except REQUEST_FAILURES as exc:
            return FetchFailed(describe_failure(exc, timeout=timeout))

    return fetch


async def _run(config: Config) -> int:
    from bot import app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await app.run(config, stop=stop, platforms=PLATFORMS)
    except app.REFUSED as exc:  # a wrong URL, credentials or schema; another cluster on the database
        logging.getLogger("downwatch").error("%s", exc)
        print(f"downwatch: {exc}", file=sys.stderr)
        return 2
    logging.getLogger("downwatch").info("stopped cleanly")
    return 0


# ---------------------------------------------------------------- PostgreSQL (issue 14): migrate, cluster


def _migrate(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`downwatch migrate`: copy an SQLite history into an empty PostgreSQL database. 0 copied, 2 bad input
    (no such file, not a PostgreSQL URL, refused, not empty)."""
    import time

    from bot.config import DATABASE_ENV
    from bot.store.migrate import NotEmpty, copy_history
    from bot.store.postgres import redact

    target = args.target or env.get(DATABASE_ENV)
    if target is None and args.config:
        config = _load(args.config, env)
        if config is None:
            return 2
        target = config.database
    if not target or not is_postgres(target):
        print(f"downwatch: migrate needs a PostgreSQL URL: --to, {DATABASE_ENV} or a config whose `database` is "
              f"one (got {redact(target) if target else 'none'})", file=sys.stderr)
        return 2
    source_path = args.source or "downwatch.db"
    source = _open_store(source_path)
    if source is None:
        return 2
    try:
        destination = _open_store(target)
        if destination is None:
            return 2
        try:
            started = time.monotonic()
            copied = copy_history(source, destination)
        except NotEmpty as exc:
            print(f"downwatch: {redact(target)}: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # PostgreSQL refused a row (or went away): the one transaction rolled back
            print(f"downwatch: the copy into {redact(target)} failed ({type(exc).__name__}: "
                  f"{str(exc).splitlines()[0] if str(exc) else ''}); nothing was copied", file=sys.stderr)
            return 2
        finally:
            destination.close()
    finally:
        source.close()
    from bot.wording import plural

    for table, rows in copied.items():
        print(f"  {table:<20} {plural(rows, 'row'):>16}")
    print(f"copied {plural(sum(copied.values()), 'row')} from {source_path} to {redact(target)} in "
          f"{time.monotonic() - started:.1f}s")
    return 0


def _cluster(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`downwatch cluster`: the processes, their regions, the leader, its epoch and lease age, the outbox
    backlog. 0 a leader holds the lease, 1 none does, 2 bad input (no PostgreSQL, refused)."""
    from bot.cluster import read_cluster, render_cluster
    from bot.store import Unavailable
    from bot.store.postgres import BadDatabase

    config = _load(args.config, env)
    if config is None:
        return 2
    if not is_postgres(config.database):
        print(f"downwatch: {config.path}: database is an SQLite file: a cluster needs PostgreSQL "
              f"(`database = \"postgresql://…\"` or DOWNWATCH_DATABASE_URL)", file=sys.stderr)
        return 2
    try:
        view = read_cluster(config.database)
    except (BadDatabase, Unavailable) as exc:
        print(f"downwatch: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(view.as_json(), indent=2) if args.json else render_cluster(view))
    return 0 if view.leader else 1


# ---------------------------------------------------------------- operations (issue 12): mute, unmute, ack


def _operation_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("mute", help="mute a monitor: checks go on and are recorded, nothing is posted until it ends")
    p.add_argument("target", help="a monitor name (quote it when it has spaces)")
    p.add_argument("duration", help="30m, 2h, 1d (at most 30d) or until-resolved")
    p.add_argument("--reason", default="", help="why (shown with the mute)")
    _operation_args(p)
    p = sub.add_parser("unmute", help="end a monitor's mute now; what changed meanwhile is posted")
    p.add_argument("target", help="a monitor name")
    _operation_args(p)
    p = sub.add_parser("ack", help="acknowledge a monitor's open incident: its reminders stop")
    p.add_argument("target", help="a monitor name")
    _operation_args(p)


def _operation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="downwatch.toml", help="the config: monitors and where their alerts go")
    p.add_argument("--db", default=None, help="the SQLite file or PostgreSQL URL (default: the config's)")


def _operate(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`downwatch mute|unmute|ack`: the same as the buttons and commands, written to the SQLite file the
    running bot reads (it posts the edit and the thread line). 0 done, 1 nothing to do, 2 bad input."""
    from adapters.console import render_reply
    from bot import commands
    from bot.clock import SystemClock
    from bot.model import Action, ActionKind, Usage
    from bot.operate import TERMINAL, Operations
    from bot.quiet import Quiet

    config = _load(args.config, env)
    if config is None:
        return 2
    database = args.db or config.database
    clock = SystemClock()
    until = None
    if args.command == "mute":
        span = commands.parse_mute_for(args.duration)
        if isinstance(span, str):
            print(render_reply(Usage(span, is_error=True)), file=sys.stderr)
            return 2
        until = clock.now() + span if span is not None else None
    kind = {"mute": ActionKind.MUTE, "unmute": ActionKind.UNMUTE, "ack": ActionKind.ACK}[args.command]
    store = _open_store(database)
    if store is None:
        return 2
    try:
        quiet = Quiet(store=store, monitors=config.monitors, windows=config.maintenance)
        operations = Operations(store=store, clock=clock, monitors=config.monitors, quiet=quiet)
        result = operations.act(Action(kind=kind, actor=TERMINAL, target=args.target, until=until,
                                       reason=getattr(args, "reason", "")))
    finally:
        store.close()
    print(render_reply(result), file=sys.stderr if result.is_error else sys.stdout)
    return 0 if result.changed else 2 if result.is_error else 1


if __name__ == "__main__":
    sys.exit(main())
