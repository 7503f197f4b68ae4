"""The console as a platform plug-in: on unless the config says `console = false`; one "console" channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.chat import ChatAdapter
from bot.clock import Clock
from bot.config import Checker, Route
from bot.platform import NamesFn


@dataclass(frozen=True)
class ConsoleConfig:
    """Nothing to set: alerts go to standard output."""


class ConsolePlatform:
    name = "console"
    secrets: tuple[str, ...] = ()
    keys: frozenset[str] = frozenset()  # `console` is a switch, not a table
    monitor_keys: tuple[str, ...] = ()

    def parse(self, check: Checker, table: object, env: Mapping[str, str]) -> ConsoleConfig | None:
        """`console` is a top-level switch rather than a table; absent means on."""
        if table is None:
            return ConsoleConfig()
        if not isinstance(table, bool):
            check.error("console", f"must be true or false (got {table!r})")
            return ConsoleConfig()
        return ConsoleConfig() if table else None

    def routes(self, check: Checker, where: str, monitor: Mapping[str, object], config: object) -> tuple[Route, ...]:
        return (Route(self.name, "console"),)

    def build(self, config: object, *, clock: Clock, names: NamesFn | None) -> ChatAdapter:
        from adapters.console import ConsoleAdapter

        return ConsoleAdapter()


PLATFORM = ConsolePlatform()
