"""The web client's /metrics over the whole system: pages by route template and status, the
API calls made for them by service and outcome, and sign-ins by method (docs/architecture.md
§18). Plain HTTP, no browser: what Prometheus scrapes is what is checked."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: httpx.AsyncClient, web_url: str) -> Samples:
    response = await http.get(f"{web_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def grown(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_pages_api_calls_and_sign_ins_are_counted_with_bounded_labels(
    canopy: SystemClient, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia")
    async with httpx.AsyncClient(timeout=30.0) as browser, httpx.AsyncClient() as prometheus:
        before = await scrape(prometheus, web_url)
        home = await browser.get(
            f"{web_url}/auth/dev", params={"user": "nadia", "tenant": t}, follow_redirects=True
        )
        stranger = await browser.get(
            f"{web_url}/auth/dev", params={"user": "nobody-here", "tenant": t}
        )
        missing = await browser.get(f"{web_url}/no/such/page/{t}")
        after = await scrape(prometheus, web_url)

    assert (home.status_code, stranger.status_code, missing.status_code) == (200, 403, 404)
    pages = "canopy_web_http_request_duration_seconds_count"
    assert grown(before, after, pages, route="/auth/dev", method="GET", status="303") == 1
    assert grown(before, after, pages, route="/auth/dev", method="GET", status="403") == 1
    assert grown(before, after, pages, route="/", method="GET", status="200") == 1
    assert grown(before, after, pages, route="unmatched", method="GET", status="404") == 1
    calls = "canopy_web_api_calls_total"
    assert grown(before, after, calls, service="fanout", outcome="ok") >= 1  # the home feed
    assert grown(before, after, calls, service="ingestion", outcome="ok") >= 1  # who nadia is
    # The stranger's lookup is refused by ingestion (403/404, or 401 for an unknown person).
    refused = sum(
        grown(before, after, calls, service="ingestion", outcome=outcome)
        for outcome in ("refused", "signed_out")
    )
    assert refused >= 1
    assert grown(before, after, "canopy_web_sign_ins_total", method="dev") == 1
    assert grown(before, after, "canopy_web_api_call_duration_seconds_count", service="fanout") >= 1
    # No label carries a tenant, a person or a raw path.
    leaked = [key for key in after if any(t in value for _, value in key[1])]
    assert leaked == []
