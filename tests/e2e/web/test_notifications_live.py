"""Notifications in the browser, live: the one stream per page (``/live``), the bell on every
page, and ``/notifications`` with marks, preferences and mutes (docs/architecture.md §18)."""

from __future__ import annotations

import re
from functools import partial

import httpx
import pytest
from httpx_sse import aconnect_sse
from playwright.async_api import Browser, expect

from canopy_testing.browser import assert_page_quality, screenshot, signed_in
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

# Every canopy:live event the page dispatches, collected before the page's own scripts run.
COLLECT_LIVE = (
    "window.__live = [];"
    "document.addEventListener('canopy:live', (e) => window.__live.push(e.detail));"
)
LIVE_WAIT_MS = 30_000  # notify's pipeline behind Kafka, on a busy 2-core machine


async def test_a_mention_arrives_live_on_the_open_page_and_the_bell_follows_marks(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "mateo")
    await canopy.follow(t, "mateo", "nadia")
    async with signed_in(browser, web_url, "mateo", tenant=t) as page:
        await page.add_init_script(COLLECT_LIVE)
        await page.goto(f"{web_url}/notifications")
        await expect(page.locator("#notifications-empty")).to_be_visible()
        await expect(page.locator("#bell-count")).to_be_hidden()
        # The stream stands once it has told the page the count.
        await page.wait_for_function("() => window.__live.some((e) => e.type === 'unread')")

        post = await canopy.post(t, "nadia", "Lunch at noon, @mateo? Bring the roadmap.")

        # No reload: the notification joins the list, the bell counts it, a screen reader hears.
        item = page.locator("#notification-list li.notification.unread")
        await expect(item).to_have_count(1, timeout=LIVE_WAIT_MS)
        await expect(item).to_contain_text("Nadia mentioned you in")
        link = item.locator(".text a")
        await expect(link).to_have_attribute("href", "/posts/" + post["id"].split(":")[-1])
        await expect(page.locator("#bell-count")).to_have_text("1")
        await expect(page.locator("#bell")).to_have_attribute(
            "aria-label", "Notifications, 1 unread"
        )
        await expect(page.locator("#notifications-live")).to_contain_text(
            "New notification: Nadia mentioned you in"
        )
        await expect(page.locator("#notifications-empty")).to_be_hidden()
        assert await page.evaluate("window.__pwned") is None
        await assert_page_quality(page)
        await screenshot(page, "notifications")

        # Her post reaches his home feed too: the page hears of a newer feed head.
        await eventually(
            partial(canopy.feed_holds, "/v1/feeds/home", t, "mateo", post["id"]),
            what="the post in mateo's home feed",
        )
        head = (await canopy.feed("/v1/feeds/home", t, "mateo"))[0]["id"]
        await page.wait_for_function(
            "(head) => window.__live.some((e) => e.type === 'feed' && e.data.newest === head)",
            arg=head,
            timeout=LIVE_WAIT_MS,
        )

        # Mark all read: in place, and the bell clears on this page without a reload.
        await page.get_by_role("button", name="Mark all as read").click()
        await expect(page.locator("#notification-list li.notification.unread")).to_have_count(0)
        await expect(page.locator("#bell-count")).to_be_hidden()
        await expect(page.locator("#bell")).to_have_attribute(
            "aria-label", "Notifications, none unread"
        )
        assert await canopy.notifications(t, "mateo", unread_only=True) == []
        [told] = await canopy.notifications(t, "mateo")
        assert told["thread_id"] == post["id"]  # what "Mute this thread" names

        # Mute her from the notification, then unmute her on the settings page.
        await page.locator("details.mute summary").first.click()
        await page.get_by_role("button", name="Mute Nadia").click()
        await page.wait_for_url(re.compile(r"/notifications/settings\?saved=muted#mutes$"))
        await expect(page.get_by_role("status")).to_contain_text("Muted")
        mutes = await canopy.call("notify", "GET", "/v1/notification-mutes", t, "mateo")
        assert [(m["kind"], m["id"]) for m in mutes["items"]] == [("actor", "nadia")]
        await expect(page.locator("#mutes li")).to_contain_text("nadia")
        await page.locator("#mutes").get_by_role("button", name="Unmute").click()
        await expect(page.get_by_role("status").filter(has_text="Unmuted.")).to_be_visible()
        await expect(page.locator("#mutes .empty")).to_be_visible()
        mutes = await canopy.call("notify", "GET", "/v1/notification-mutes", t, "mateo")
        assert mutes["items"] == []

        # A preference changed in the form is saved, and only that one (sparse).
        box = page.get_by_label("Mentions: Email")
        await expect(box).to_be_checked()
        await box.uncheck()
        await page.get_by_label("Email digest").select_option("daily")
        await page.get_by_role("button", name="Save preferences").click()
        await expect(page.get_by_text("Your preferences are saved.")).to_be_visible()
        await expect(page.get_by_label("Mentions: Email")).not_to_be_checked()
        await expect(page.get_by_label("Mentions: In Canopy")).to_be_checked()
        prefs = await canopy.call("notify", "GET", "/v1/notification-preferences", t, "mateo")
        assert prefs["categories"]["mention"]["email"]["enabled"] is False
        assert prefs["categories"]["mention"]["in_app"]["enabled"] is True
        assert prefs["digest"] == "daily"
        await assert_page_quality(page)
        await screenshot(page, "notification-settings")


async def test_live_is_no_stream_without_a_session_and_ends_with_the_session(
    canopy: SystemClient, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia")
    async with httpx.AsyncClient(base_url=web_url, timeout=30.0) as http:
        anonymous = await http.get("/live", headers={"Accept": "text/event-stream"})
        assert anonymous.status_code == 401
        assert not anonymous.headers["content-type"].startswith("text/event-stream")

        await http.get("/auth/dev", params={"user": "nadia", "tenant": t})
        token = (await http.get("/")).text.split('name="csrf-token" content="', 1)[1]
        token = token.split('"', 1)[0]
        seen = []
        async with aconnect_sse(http, "GET", "/live") as source:
            assert source.response.status_code == 200
            async for sse in source.aiter_sse():
                seen.append(sse.event)
                if sse.event == "unread":
                    assert sse.json() == {"count": 0}
                    assert "/" in sse.id  # where a reconnect resumes: "<seq>/<feed head>"
                    # Signing out (here, as from another tab) ends the open stream.
                    signed_out = await http.post("/auth/signout", data={"csrf": token})
                    assert signed_out.status_code == 303
        assert "unread" in seen  # and the loop ended: the server closed the stream
        again = await http.get("/live")
        assert again.status_code == 401


async def _notify_streams(canopy: SystemClient) -> float:
    metrics = (await canopy.http.get(canopy.system.url("notify", "/metrics"))).text
    found = re.search(r"^canopy_notify_stream_connections (\S+)$", metrics, re.M)
    assert found is not None, "notify no longer reports its open streams"
    return float(found.group(1))


async def test_pages_left_behind_leave_no_stream_open_at_notify(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia")
    before = await _notify_streams(canopy)
    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        # More pages than notify lets one person hold streams (10): each page's stream must
        # end with its page, or the bell of the twelfth would get a 429 and stop.
        for _ in range(12):
            async with page.expect_response(re.compile(r"/live$")):
                await page.goto(f"{web_url}/notifications")

        async def only_this_page() -> bool:
            return await _notify_streams(canopy) <= before + 1

        await eventually(only_this_page, what="the streams of the pages left ended at notify")

    async def none_left() -> bool:
        return await _notify_streams(canopy) <= before

    await eventually(none_left, what="the last page's stream ended at notify with its page")
