"""``web``: the home page in a real browser on the demo company, from navigation start to the
first feed item painted, and the bytes it took.

The whole system runs as ``make up`` runs it (:func:`bench.system.bench_system`: the four
services and the web client under supervisord), with the demo company (:mod:`canopy_dev.demo`)
seeded into a tenant of its own through the same APIs ``make up`` seeds through, and left to
finish what the seed set off (:func:`_quiet`: the services' CPU falls below a tenth of a core).
Debian's Chromium (:func:`canopy_testing.browser.chromium`) signs in as the demo's reader, then
loads ``/`` :data:`LOADS` times, each a fresh navigation:

- **cold**: a new browser context each time (an empty cache, as a first visit), signed in
  with the session's cookie;
- **warm**: one context, loaded once before measuring, then :data:`LOADS` navigations to ``/``
  (assets from the cache as a returning visitor has them; the page itself is never cached).

Per load: the time from navigation start (``performance.timeOrigin``) to the first feed item
on screen: the frame after an ``article.post`` is in the document (a MutationObserver set
before any of the page runs marks it, a ``requestAnimationFrame`` + task after it is that
frame), or the first contentful paint when that is later (nothing is on screen before it); and
the bytes transferred (``transferSize`` of the navigation and every resource, once ``load``
fired). The web process's CPU per load comes from ``/proc`` (:func:`bench.system.service_cpu_s`),
as does the four services' CPU for the API calls it made.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Final

from playwright.async_api import Browser, BrowserContext, Cookie, Page

from bench.figures import Figure, JSONScalar, percentile
from bench.harness import BenchContext, Benchmark
from bench.system import BenchSystem, bench_system, progress, service_cpu_s, started
from canopy_dev.demo.client import Api, Endpoints, http_client
from canopy_dev.demo.company import build_company
from canopy_dev.demo.seed import Seeder
from canopy_testing.browser import DESKTOP, chromium, signed_in
from canopy_testing.factories import new_tenant_id

SERVICES: Final = ("ingestion", "fanout", "notify", "analytics", "web")
LOADS: Final = 20
TARGET_MS: Final = 1_000  # docs: under one second to the first feed item
TARGET_KB: Final = 300
KB: Final = 1_000
FIRST_POST_TIMEOUT_MS: Final = 30_000
# After the seed the services keep working a while (analytics embeds the questions, notify
# routes them): measure once they use less than this share of a core, or after QUIET_WAIT_S.
QUIET_SHARE: Final = 0.1
QUIET_WAIT_S: Final = 120.0

# Runs in every document before its own scripts (Playwright injects it outside the page's
# Content-Security-Policy). `__canopyFirstPost`: ms since navigation start when the first
# feed item was painted.
_MARK_FIRST_POST = """
(() => {
  let seen = false;
  const observer = new MutationObserver(() => check());
  function check() {
    if (seen || !document.querySelector('article.post')) return;
    seen = true;
    observer.disconnect();
    // The next frame shows it; a task queued from that frame runs after it was painted.
    requestAnimationFrame(() => setTimeout(() => {
      window.__canopyFirstPost = performance.now();
    }, 0));
  }
  observer.observe(document, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', check);
})();
"""
_TRANSFERRED = """() => {
  const [nav] = performance.getEntriesByType('navigation');
  const resources = performance.getEntriesByType('resource');
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    navigation: nav.transferSize,
    resources: resources.reduce((sum, r) => sum + r.transferSize, 0),
    decoded: nav.decodedBodySize + resources.reduce((sum, r) => sum + r.decodedBodySize, 0),
    requests: 1 + resources.length,
    fcp: fcp ? fcp.startTime : null,
  };
}"""


@dataclass
class Loads:
    """What the loads of one kind (cold or warm) measured."""

    kind: str
    first_post_ms: list[float] = field(default_factory=list)
    fcp_ms: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    page_bytes: list[int] = field(default_factory=list)
    decoded_bytes: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    web_cpu_s: float = 0.0
    services_cpu_s: float = 0.0


async def run(ctx: BenchContext) -> list[Figure]:
    async with bench_system(ctx, SERVICES) as system:
        tenant = new_tenant_id()
        company = build_company(tenant)
        progress(f"web: seeding the demo company into {tenant}")
        began = time.monotonic()
        async with http_client() as client:
            api = Api(Endpoints.local(system.running.ports), tenant, client)
            report = await Seeder(company, api, system.kafka).run()
        seed_s = time.monotonic() - began
        progress(f"web: seeded in {seed_s:.0f} s (settled: {report.settled})")
        quiet_s = await _quiet(system)
        progress(f"web: services quiet after {quiet_s:.0f} s more")
        web_url = system.url("web")
        async with chromium() as browser:
            async with signed_in(browser, web_url, company.reader_id, tenant=tenant) as page:
                cookies = await page.context.cookies()
                # Signed in on the home page: the reader's feed is there to measure.
                await page.locator("article.post").first.wait_for(timeout=FIRST_POST_TIMEOUT_MS)
            cold = await _cold(system, browser, web_url, cookies)
            warm = await _warm(system, browser, web_url, cookies)
        params: dict[str, JSONScalar] = {
            **started(system),
            "reader": company.reader_id,
            "posts_seeded": len(company.posts),
            "seed_s": round(seed_s, 1),
            "quiet_wait_s": round(quiet_s, 1),
        }
        return _figures(cold, params) + _figures(warm, params)


async def _context(browser: Browser, url: str, cookies: list[Cookie]) -> BrowserContext:
    """A new context (empty cache) signed in with the session's cookie."""
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    await context.add_cookies(
        [{"name": c["name"], "value": c["value"], "url": url} for c in cookies]
    )
    await context.add_init_script(_MARK_FIRST_POST)
    return context


async def _cold(system: BenchSystem, browser: Browser, url: str, cookies: list[Cookie]) -> Loads:
    progress(f"web: {LOADS} cold loads (a new browser context each)")
    loads = Loads("cold")
    web, everything = _cpu(system)
    for _ in range(LOADS):
        context = await _context(browser, url, cookies)
        try:
            page = await context.new_page()
            await _measure(page, f"{url}/", loads)
        finally:
            await context.close()
    _cpu_since(system, loads, web, everything)
    return loads


async def _warm(system: BenchSystem, browser: Browser, url: str, cookies: list[Cookie]) -> Loads:
    progress(f"web: {LOADS} warm loads (one context, its cache filled by a first load)")
    loads = Loads("warm")
    context = await _context(browser, url, cookies)
    try:
        page = await context.new_page()
        await _first_post_ms(page, f"{url}/")
        web, everything = _cpu(system)
        for _ in range(LOADS):
            await _measure(page, f"{url}/", loads)
        _cpu_since(system, loads, web, everything)
    finally:
        await context.close()
    return loads


async def _quiet(system: BenchSystem) -> float:
    """Wait until the services' CPU over a second is below :data:`QUIET_SHARE` of a core (or
    :data:`QUIET_WAIT_S` passed); the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < QUIET_WAIT_S:
        before = service_cpu_s(system)
        await asyncio.sleep(1.0)
        if service_cpu_s(system) - before < QUIET_SHARE:
            break
    return time.monotonic() - began


def _cpu(system: BenchSystem) -> tuple[float, float]:
    return service_cpu_s(system, "canopy_web"), service_cpu_s(system)


def _cpu_since(system: BenchSystem, loads: Loads, web: float, everything: float) -> None:
    web_now, everything_now = _cpu(system)
    loads.web_cpu_s = web_now - web
    loads.services_cpu_s = (everything_now - everything) - loads.web_cpu_s


async def _first_post_ms(page: Page, url: str) -> float:
    response = await page.goto(url, wait_until="load")
    if response is None or response.status != 200 or not page.url.startswith(url):
        status = response.status if response else None
        raise RuntimeError(f"{url} answered {status} at {page.url}: not the signed-in home page")
    handle = await page.wait_for_function(
        "() => window.__canopyFirstPost", timeout=FIRST_POST_TIMEOUT_MS
    )
    return float(await handle.json_value())


async def _measure(page: Page, url: str, loads: Loads) -> None:
    marked = await _first_post_ms(page, url)
    sizes: dict[str, Any] = await page.evaluate(_TRANSFERRED)
    # A frame's callbacks run before Chromium presents it: nothing shows before the first
    # contentful paint, so the item is on screen at the later of the two.
    loads.first_post_ms.append(max(marked, float(sizes["fcp"] or 0.0)))
    loads.bytes.append(int(sizes["navigation"]) + int(sizes["resources"]))
    loads.page_bytes.append(int(sizes["navigation"]))
    loads.decoded_bytes.append(int(sizes["decoded"]))
    loads.requests.append(int(sizes["requests"]))
    if sizes["fcp"] is not None:
        loads.fcp_ms.append(float(sizes["fcp"]))


def _figures(loads: Loads, common: dict[str, JSONScalar]) -> list[Figure]:
    name = f"web.home.{loads.kind}"
    ms = sorted(loads.first_post_ms)
    n = len(ms)
    params: dict[str, JSONScalar] = {
        **common,
        "fcp_p50_ms": round(statistics.median(loads.fcp_ms), 1) if loads.fcp_ms else None,
        "requests": round(statistics.median(loads.requests)),
        "page_kb": round(statistics.median(loads.page_bytes) / KB, 1),
        "decoded_kb": round(statistics.median(loads.decoded_bytes) / KB, 1),
    }
    return [
        Figure(f"{name}.first_post_p50_ms", statistics.median(ms), "ms", n, params),
        Figure(f"{name}.first_post_p95_ms", percentile(ms, 0.95), "ms", n, params),
        Figure(f"{name}.kb_transferred", statistics.median(loads.bytes) / KB, "KB", n, params),
        Figure(f"{name}.web_cpu_ms_per_load", loads.web_cpu_s * 1000 / n, "ms", n, params),
        Figure(
            f"{name}.services_cpu_ms_per_load", loads.services_cpu_s * 1000 / n, "ms", n, params
        ),
    ]


BENCHMARK = Benchmark(
    "web",
    f"the home page in Chromium on the demo company: navigation -> first feed item painted "
    f"and bytes, {LOADS} cold and {LOADS} warm loads",
    run,
)
