"""Pages in a real browser: Debian's Chromium (``/usr/bin/chromium``, installed by ``make
setup``) driven by Playwright, never a downloaded browser, with the checks every page passes —
axe-core finds no serious or critical violation, and nothing scrolls sideways at phone width.

Screenshots go to ``CANOPY_SCREENSHOTS`` when set (``make screenshots``: docs/screenshots),
else nowhere.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Headless on a closed network: no sandbox (root in CI), no GPU, and none of Chromium's own
# connections to Google (refused here, and they slow every start).
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
_REPO = Path(__file__).resolve().parents[4]
AXE_JS = _REPO / "services" / "web" / "node_modules" / "axe-core" / "axe.min.js"
PHONE_WIDTH = 390  # an iPhone 12-15 in CSS pixels
DESKTOP = ViewportSize(width=1280, height=900)
# The impacts that fail a page (axe-core: minor, moderate, serious, critical).
FAILING_IMPACTS = frozenset({"serious", "critical"})


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless; closed afterwards."""
    if not CHROMIUM.is_file():  # noqa: ASYNC240 - once per test session
        raise RuntimeError(f"{CHROMIUM} is missing: run `make setup` (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS), headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def signed_in(
    browser: Browser,
    web_url: str,
    user: str,
    *,
    tenant: str | None = None,
    viewport: ViewportSize | None = None,
    timezone_id: str = "Europe/Berlin",
) -> AsyncIterator[Page]:
    """A page of its own (own cookies) signed in as ``user`` through local sign-in."""
    context: BrowserContext = await browser.new_context(
        viewport=viewport or DESKTOP, timezone_id=timezone_id, locale="en-GB"
    )
    try:
        page = await context.new_page()
        query = f"user={quote(user)}" + (f"&tenant={quote(tenant)}" if tenant else "")
        response = await page.goto(f"{web_url}/auth/dev?{query}")
        assert response is not None, f"sign-in as {user} got no answer"
        assert response.ok, f"sign-in as {user} failed: {response.status}"
        yield page
    finally:
        await context.close()


def _axe_source() -> str:
    if not AXE_JS.is_file():
        raise RuntimeError(f"{AXE_JS} is missing: run `make setup` (npm ci in services/web)")
    return AXE_JS.read_text()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    # evaluate() runs outside the page's Content-Security-Policy, which allows only our scripts.
    await page.evaluate(_axe_source())
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in result if v.get("impact") in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation, with the first elements it names."""
    return "\n".join(
        f"{v['impact']}: {v['id']} — {v['help']} at "
        + ", ".join(str(n["target"]) for n in v.get("nodes", [])[:3])
        for v in violations
    )


async def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation."""
    violations = await axe_violations(page)
    assert not violations, f"{page.url}:\n{describe(violations)}"


async def assert_fits_phone(page: Page) -> None:
    """At 390 px wide, the page does not scroll sideways."""
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls {overflow}px sideways at {PHONE_WIDTH}px"


async def assert_page_quality(page: Page) -> None:
    """Both checks every page passes; the viewport is restored afterwards."""
    await assert_accessible(page)
    size = page.viewport_size
    await assert_fits_phone(page)
    if size:
        await page.set_viewport_size(size)


async def screenshot(page: Page, name: str) -> Path | None:
    """Save the page as ``<name>.png`` in ``CANOPY_SCREENSHOTS`` (when set)."""
    folder = os.environ.get("CANOPY_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), full_page=False)
    return path
