"""How the process runs: which event loop, and how the garbage collector treats what lives for the whole run.

Both are measured choices (bench/README.md), applied by the CLI and by every bench worker so the figures are
the shipped process's:

- The event loop is uvloop's when it is installed (it is a dependency on Linux and macOS): the same asyncio
  API, implemented in C on libuv, so a probe spends less CPU in the loop and the SSL protocol than on asyncio's
  pure-Python ones. Without uvloop (Windows, or uninstalled) the standard loop runs the same code.
- Once everything long-lived is built (config, monitors, scheduler jobs, engine states), `settle()` moves it
  out of the collector's sight (gc.freeze), so a full collection no longer walks 10,000 monitors' worth of
  objects every few hundred probes; the first generation's threshold is raised from 700 to 7,000 objects.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from types import ModuleType
from typing import Any, TypeVar

T = TypeVar("T")
GC_THRESHOLDS = (7_000, 10, 10)  # CPython's default: (700, 10, 10)


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on uvloop when it is installed, on the standard loop otherwise."""
    gc.set_threshold(*GC_THRESHOLDS)
    uvloop = _uvloop()
    return asyncio.run(main) if uvloop is None else uvloop.run(main)


def loop_name() -> str:
    """'uvloop' or 'asyncio': what `run` uses here (the bench prints it beside its figures)."""
    return "asyncio" if _uvloop() is None else "uvloop"


def _uvloop() -> ModuleType | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop


def settle() -> None:
    """Everything alive now lives for the whole run: collect once, then leave it out of later collections.

    Frozen objects that later become cyclic garbage are never freed: here, at most the chat adapters' first
    connections, once, when a platform reconnects (a bounded one-time cost, not a leak per reconnect)."""
    gc.collect()
    gc.freeze()


def unsettle() -> None:
    """Undo `settle` when the run ends (tests run the bot many times in one process)."""
    gc.unfreeze()
