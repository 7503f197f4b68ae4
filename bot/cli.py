"""The `downwatch` command: run, check, status, incidents, validate, demo.

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

from adapters import PLATFORMS
from bot import runtime
from bot.config import Config, ConfigError, load_config
from bot.platform import unused_secrets
from bot.redact import Redact

SECRET_KEYS = tuple(secret for platform in PLATFORMS for secret in platform.secrets)  # redacted from every log


def environment(env: Mapping[str, str] | None = None, dotenv: str = ".env") -> dict[str, str]:
    """The process environment over the values of `.env` (the environment wins)."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(dotenv).items() if v is not None} if os.path.exists(dotenv) else {}
    values.update(env if env is not None else os.environ)
    return values


def setup_logging(env: Mapping[str, str], level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact([env.get(k, "") for k in SECRET_KEYS]))
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
    p = sub.add_parser("check", help="run every monitor once and print one row per component")
    p.add_argument("--config", default="downwatch.toml")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p = sub.add_parser("status", help="what /status answers, from the SQLite history")
    p.add_argument("target", nargs="*", help="a monitor or component name")
    _history_args(p)
    p = sub.add_parser("incidents", help="the last incidents, from the SQLite history")
    p.add_argument("--limit", type=int, default=5)
    _history_args(p)
    p = sub.add_parser("validate", help="check a config file and explain every error")
    p.add_argument("--config", default="downwatch.toml")
    sub.add_parser("demo", help="a scripted outage against a simulated status page (no tokens needed)")
    return parser


def _history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="read the database path from this config")
    p.add_argument("--db", default=None, help="the SQLite file (default: the config's, else downwatch.db)")


def _load(path: str, env: Mapping[str, str]) -> Config | None:
    try:
        return load_config(path, env, platforms=PLATFORMS)
    except ConfigError as exc:
        _config_errors(exc.errors)
        return None


def _config_errors(errors: Sequence[str]) -> None:
    print(f"downwatch: {len(errors)} error(s) in the configuration:", file=sys.stderr)
    for error in errors:
        print(f"  {error}", file=sys.stderr)


def _database_error(config: Config) -> bool:
    """Report a `database` SQLite cannot open as a config error (True), before anything is created."""
    from bot.store import unusable

    problem = unusable(config.database)
    if problem is not None:
        _config_errors([f"{config.path}: database: cannot use {config.database!r}: {problem}"])
    return problem is not None


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
    if args.command in ("status", "incidents"):
        return _history(args, env)
    config = _load(args.config, env)
    if config is None or (args.command in ("validate", "run") and _database_error(config)):
        return 2
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


def _history(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from adapters.console import render_reply
    from bot import commands
    from bot.clock import SystemClock
    from bot.model import Command, CommandKind, Usage
    from bot.store import Store, unusable

    database = args.db
    if database is None and args.config:
        config = _load(args.config, env)
        if config is None:
            return 2
        database = config.database
    database = database or "downwatch.db"
    if not os.path.exists(database):
        print(f"downwatch: no history yet: {database} does not exist (run `downwatch run` first)", file=sys.stderr)
        return 2
    problem = unusable(database)
    if problem is not None:
        print(f"downwatch: cannot use the database {database!r}: {problem}", file=sys.stderr)
        return 2
    if args.command == "incidents":
        if not 1 <= args.limit <= commands.MAX_LIMIT:
            print(f"downwatch: --limit must be between 1 and {commands.MAX_LIMIT}", file=sys.stderr)
            return 2
        command: Command | Usage = Command(CommandKind.INCIDENTS, limit=args.limit)
    else:
        command = commands.parse_text(" ".join(args.target), now=SystemClock().now())
    store = Store.open(database)
    try:
        reply = command if isinstance(command, Usage) else commands.handle(command, history=store,
                                                                             now=SystemClock().now())
    finally:
        store.close()
    print(render_reply(reply))
    return 2 if isinstance(reply, Usage) and reply.is_error else 0


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


async def _run(config: Config) -> int:
    from bot import app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.run(config, stop=stop, platforms=PLATFORMS)
    logging.getLogger("downwatch").info("stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
