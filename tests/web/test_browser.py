"""The status page in a real browser: Debian's Chromium driven by Playwright (its own browser download
cannot be fetched here, so the system executable is used). Skipped, saying why, when either is missing.

Screenshots (desktop and phone width, light and dark) are saved under pytest's temporary directory, in
`web-screenshots/`; the path is printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.web.world import World, running

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"browser tests skipped: {CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.async_api", reason="browser tests skipped: playwright not installed")

pytestmark = pytest.mark.anyio
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
MAJOR_LIGHT = "rgb(215, 55, 63)"  # --major in the light theme




@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "web-screenshots"
    folder.mkdir(exist_ok=True)
    return folder


async def visit(browser: Any, url: str, size: str, *, scheme: str = "light") -> tuple[Any, list[str]]:
    page = await browser.new_page(viewport=SIZES[size], color_scheme=scheme)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    answer = await page.goto(url)
    assert answer is not None and answer.status == 200
    return page, problems


async def test_the_page_in_chromium_during_an_outage_and_after(world: World, shots: Path) -> None:
    world.outage()
    async with running(world) as url, playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for size in SIZES:
                page, problems = await visit(browser, url + "/", size)
                days = await page.eval_on_selector_all(
                    "svg.strip", "svgs => svgs.map(s => s.querySelectorAll('rect.day').length)")
                assert days == [90, 90, 90, 90]
                api = page.locator("li.component", has_text="API").locator(".state")
                assert "major outage" in await api.inner_text()
                assert await api.evaluate("e => getComputedStyle(e).color") == MAJOR_LIGHT
                today = page.locator("article.monitor").first.locator("rect.day").last
                assert "s-major" in (await today.get_attribute("class") or "")
                assert "major outage, down" in await today.locator("title").text_content()
                titles = await page.locator("article.incident .title").all_inner_texts()
                assert titles == ["<script>alert('x')</script> & friends"]  # shown as text
                assert await page.evaluate("() => document.scripts.length") == 0
                await page.screenshot(path=shots / f"outage-{size}.png", full_page=True)
                monitor, more = await visit(browser, url + "/monitors/Website", size, scheme="dark")
                assert await monitor.locator("svg.latency circle").count() >= 24
                await monitor.screenshot(path=shots / f"monitor-dark-{size}.png", full_page=True)
                assert problems + more == []

            for _ in range(2):
                world.all_well()
                world.clock.advance(60)
            for size in SIZES:
                page, problems = await visit(browser, url + "/", size)
                assert await page.locator("#overall").inner_text() == "All 4 monitors operational"
                assert await page.locator("article.incident").count() == 0
                await page.screenshot(path=shots / f"recovered-{size}.png", full_page=True)
                assert problems == []
        finally:
            await browser.close()
    print(f"screenshots: {shots}")
