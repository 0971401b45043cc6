"""The journey CI runs over the whole system in a real browser (issue 19): Nadia signs in, reads
her feed and asks a question mentioning Mateo; Mateo, whose notifications page is open, sees the
mention arrive without reloading and answers; Nadia accepts the answer; Zoe, the analyst, sees
the question counted on /analytics. Every page it passes through is checked for accessibility
and phone width, and screenshotted for the README."""

from __future__ import annotations

import re
from functools import partial

import pytest
from playwright.async_api import Browser, Page, expect

from canopy_testing.browser import assert_page_quality, screenshot, signed_in
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient
from canopy_web.strings import t as text

pytestmark = pytest.mark.e2e

# A live notification crosses the broker twice; well under a second when the machine is idle.
LIVE_TIMEOUT_MS = 30_000


async def asked_count(page: Page) -> int | None:
    """The "questions asked" figure of /analytics today, read afresh; None while it is 0."""
    await page.goto(page.url)
    shown = (await page.locator("#qa-asked").inner_text()).strip()
    return int(shown) if shown.isdigit() and int(shown) > 0 else None


async def test_nadia_asks_mateo_answers_live_nadia_accepts_and_zoe_counts_it(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "mateo", "zoe")
    profile = {"handle": "zoe", "display_name": "Zoe", "kind": "employee", "roles": ["analyst"]}
    await canopy.call("ingestion", "PUT", "/v1/users/zoe", t, "admin", "tenant_admin", json=profile)
    await canopy.follow(t, "nadia", "mateo")
    news = await canopy.post(t, "mateo", "The Falcon rollout starts on Monday. #release")
    await eventually(
        partial(canopy.feed_holds, "/v1/feeds/home", t, "nadia", news["id"]),
        what="Mateo's post in Nadia's home feed",
    )

    async with (
        signed_in(browser, web_url, "mateo", tenant=t) as mateo,
        signed_in(browser, web_url, "nadia", tenant=t) as nadia,
    ):
        # Mateo keeps his notifications open; its live stream is connected before Nadia asks.
        async with mateo.expect_response(re.compile(r"/live$")):
            await mateo.goto(f"{web_url}/notifications")

        # Nadia reads her feed...
        await expect(nadia.locator(f'article.post[data-post-id="{news["id"]}"]')).to_be_visible()
        await assert_page_quality(nadia)
        await screenshot(nadia, "home")

        # ...and asks a question that mentions Mateo.
        await nadia.goto(f"{web_url}/questions")
        await nadia.fill("#ask-name", "Where are the Falcon rollout dashboards?")
        await nadia.fill("#ask-content", "@mateo do you know where the rollout dashboards live?")
        await nadia.get_by_role("button", name=text("questions.ask_submit")).click()
        await nadia.wait_for_url(re.compile(r"/posts/[0-9a-f-]+$"))
        question_url = nadia.url

        # Mateo sees the mention arrive live, and his bell count rise, without reloading.
        arrived = mateo.locator("#notification-list li.notification.unread").first
        await expect(arrived).to_contain_text("Nadia", timeout=LIVE_TIMEOUT_MS)
        await expect(mateo.locator("#bell-count")).to_be_visible()
        await assert_page_quality(mateo)
        await screenshot(mateo, "journey-notifications")

        # He opens it and answers.
        await arrived.locator("a").first.click()
        await mateo.wait_for_url(question_url)
        await mateo.fill("#reply-content", "They are on the Platform wiki, under Rollouts.")
        await mateo.locator("#reply-content").press("Escape")  # close any completion list
        await mateo.get_by_role("button", name=text("compose.reply_submit")).click()
        answer = mateo.locator("#replies article.post", has_text="Platform wiki")
        await expect(answer).to_be_visible()

        # Nadia accepts it.
        await nadia.reload()
        await nadia.get_by_role("button", name=text("post.accept")).click()
        await expect(nadia.locator("#replies article.post.accepted")).to_contain_text(
            "Platform wiki"
        )
        await assert_page_quality(nadia)
        await screenshot(nadia, "journey-thread")

    # Zoe, the analyst, sees the question counted.
    async with signed_in(browser, web_url, "zoe", tenant=t) as zoe:
        await zoe.goto(f"{web_url}/analytics?period=1d")
        assert await eventually(partial(asked_count, zoe), what="the question counted") == 1
        await assert_page_quality(zoe)
        await screenshot(zoe, "journey-analytics")
