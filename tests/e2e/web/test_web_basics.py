"""The web client's foundations in a real browser over the whole system: local sign-in, the
home feed, user content shown as text, an ended session back to sign-in, CSRF refusals and
error pages that say what happened (docs/architecture.md §18)."""

from __future__ import annotations

from functools import partial

import httpx
import pytest
from playwright.async_api import Browser

from canopy_testing.browser import assert_page_quality, signed_in
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> **bold**'


async def test_home_feed_shows_a_followed_post_and_user_markup_only_as_text(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "mateo")
    await canopy.follow(t, "nadia", "mateo")
    post = await canopy.post(t, "mateo", HOSTILE)
    await eventually(
        partial(canopy.feed_holds, "/v1/feeds/home", t, "nadia", post["id"]),
        what="the post in nadia's home feed",
    )
    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        assert page.url == f"{web_url}/"
        card = page.locator(f'article.post[data-post-id="{post["id"]}"]')
        await card.wait_for()
        body = card.locator(".body")
        assert "<script>window.__pwned = 1</script>" in await body.inner_text()
        assert await body.locator("strong").inner_text() == "bold"  # markdown still works
        assert await body.locator("script, img").count() == 0
        assert await page.evaluate("window.__pwned") is None
        assert await page.locator("time").first.inner_text() != post["published"]  # localised
        await assert_page_quality(page)


async def test_without_a_session_every_page_goes_to_sign_in_and_back_after(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia")
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(f"{web_url}/?cursor=abc")
        assert page.url.startswith(f"{web_url}/auth/signin")
        await assert_page_quality(page)
        await page.fill("#user", "nadia")
        # The form signs in to the client's own tenant; this test's tenant goes by URL.
        await page.goto(f"{web_url}/auth/dev?user=nadia&tenant={t}&next=/%3Fx%3D1")
        assert page.url == f"{web_url}/?x=1"
        # The session ends on the server (sign-out elsewhere, expiry): the next page asks again.
        await context.clear_cookies()
        await context.add_cookies([{"name": "canopy_session", "value": "ended", "url": web_url}])
        await page.goto(f"{web_url}/")
        assert "/auth/signin" in page.url
        assert "expired=1" in page.url
        assert (
            await page.get_by_role("status").inner_text()
            == "Your session has ended. Sign in again."
        )
    finally:
        await context.close()


async def test_sign_out_ends_the_session_for_every_copy_of_its_cookie(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia")
    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        cookies = await page.context.cookies()
        session = next(c for c in cookies if c["name"] == "canopy_session")
        assert session["httpOnly"]
        assert session["sameSite"] == "Lax"
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_url("**/auth/signin?signed_out=1")
    async with httpx.AsyncClient(
        base_url=web_url, cookies={"canopy_session": session["value"]}
    ) as http:
        replayed = await http.get("/")
        assert replayed.status_code == 303
        assert replayed.headers["location"].startswith("/auth/signin")


async def test_mutating_requests_without_the_csrf_token_or_from_elsewhere_are_refused(
    canopy: SystemClient, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia")
    async with httpx.AsyncClient(base_url=web_url) as http:
        signed = await http.get("/auth/dev", params={"user": "nadia", "tenant": t})
        assert signed.status_code == 303
        page = (await http.get("/")).text
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        missing = await http.post("/auth/signout")
        assert missing.status_code == 403
        assert "did not come from Canopy" in missing.text
        wrong = await http.post("/auth/signout", data={"csrf": "forged"})
        assert wrong.status_code == 403
        elsewhere = await http.post(
            "/auth/signout", data={"csrf": token}, headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403
        assert (await http.get("/")).status_code == 200  # none of them signed her out
        ok = await http.post("/auth/signout", data={"csrf": token})
        assert ok.status_code == 303


async def test_unknown_people_and_pages_get_pages_saying_so(
    canopy: SystemClient, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia")
    async with httpx.AsyncClient(base_url=web_url) as http:
        stranger = await http.get("/auth/dev", params={"user": "nobody", "tenant": t})
        assert stranger.status_code == 403
        assert f"nobody is not an active person of {t}" in stranger.text
        await http.get("/auth/dev", params={"user": "nadia", "tenant": t})
        missing = await http.get("/no/such/page")
        assert missing.status_code == 404
        assert "There is nothing here." in missing.text
        assert "Traceback" not in missing.text
        bad = await http.get("/", params={"cursor": "x" * 600})
        assert bad.status_code == 400
