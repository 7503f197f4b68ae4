"""The process runtime: uvloop under the bot when installed; long-lived objects frozen out of the collector."""

from __future__ import annotations

import asyncio
import gc

import pytest

from bot import runtime


def test_run_uses_uvloop_when_installed_and_raises_the_gc_threshold() -> None:
    uvloop = pytest.importorskip("uvloop")
    before = gc.get_threshold()
    try:
        async def loop_type() -> type:
            return type(asyncio.get_running_loop())

        assert runtime.run(loop_type()) is uvloop.Loop
        assert runtime.loop_name() == "uvloop"
        assert gc.get_threshold() == runtime.GC_THRESHOLDS
    finally:
        gc.set_threshold(*before)


def test_settle_freezes_what_is_alive_and_unsettle_gives_it_back() -> None:
    assert gc.get_freeze_count() == 0
    runtime.settle()
    try:
        assert gc.get_freeze_count() > 1000  # at least the modules' objects
    finally:
        runtime.unsettle()
    assert gc.get_freeze_count() == 0


@pytest.mark.anyio
async def test_async_tests_run_on_the_bots_loop() -> None:
    uvloop = pytest.importorskip("uvloop")
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
