"""Fixtures of the web tests: the asyncio loop (aiohttp's server and Playwright's client share it) and the
world of tests/web/world.py (100 days of history on a real SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.world import World, build_world


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path)
    yield built
    built.wired.store.close()
