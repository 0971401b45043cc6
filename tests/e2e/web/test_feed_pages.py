"""The feed pages in a real browser over the whole system (docs/architecture.md §18): compose
with @mention and #tag completion from the keyboard, refusals next to the form, the "new
posts" banner, a question's thread (answer, accept, reactions, bookmark, share, report),
bookmarks, and posts a reader may not see."""

from __future__ import annotations

from functools import partial

import pytest
from playwright.async_api import Browser, Page, expect

from canopy_testing.browser import assert_page_quality, screenshot, signed_in
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

HOSTILE = "<script>window.__pwned = 1</script> thanks"


async def _mentioned(canopy: SystemClient, tenant: str, user: str, post_id: str) -> bool:
    notices = await canopy.notifications(tenant, user)
    return any(
        n["type"] == "mention" and (n.get("object") or {}).get("id") == post_id for n in notices
    )


def _uuid(post_id: str) -> str:
    return post_id.removeprefix("urn:uuid:")


async def test_compose_completes_a_mention_and_a_tag_from_the_keyboard_and_posts_in_place(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "mateo")
    await canopy.call("ingestion", "PUT", "/v1/tag-follows/release", t, "nadia")
    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        await expect(page.locator("[data-empty-for=feed-list]")).to_be_visible()  # empty state
        text = page.get_by_label("What would you like to share?")
        await text.click()
        await page.keyboard.type("Shipping today, @ma")
        option = page.get_by_role("option", name="Mateo @mateo")
        await expect(option).to_have_attribute("aria-selected", "true")
        await expect(text).to_have_attribute("aria-activedescendant", "compose-suggestions-0")
        await assert_page_quality(page)  # the open listbox too
        await screenshot(page, "compose")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("listbox")).to_be_hidden()
        await page.keyboard.type("see #rel")
        await page.get_by_role("option", name="#release").wait_for()
        await page.keyboard.press("ArrowDown")  # one option: wraps around to it
        await page.keyboard.press("Escape")  # closes without taking it
        await expect(page.get_by_role("listbox")).to_be_hidden()
        await page.keyboard.type("e")
        await page.get_by_role("option", name="#release").wait_for()
        await page.keyboard.press("Tab")
        assert await text.input_value() == "Shipping today, @mateo see #release "
        await page.get_by_role("button", name="Post", exact=True).click()
        card = page.locator("#feed-list > li").first.locator("article.post")
        await expect(card.locator(".body")).to_have_text("Shipping today, @mateo see #release")
        await expect(text).to_have_value("")  # emptied for the next post
        await expect(page.locator("[data-empty-for=feed-list]")).to_be_hidden()
        post_id = await card.get_attribute("data-post-id")
        assert post_id
        assert post_id.startswith("urn:uuid:")
        await eventually(partial(_mentioned, canopy, t, "mateo", post_id), what="mateo told")
        await eventually(
            partial(canopy.feed_holds, "/v1/feeds/home", t, "nadia", post_id),
            what="the post in nadia's home feed",
        )

        # Refused by ingestion (blank content): the service's words next to the form, in place.
        await text.fill("   ")
        await page.get_by_role("button", name="Post", exact=True).click()
        error = page.locator("#compose-error")
        await expect(error).to_contain_text("Not posted:")
        await expect(text).to_have_value("   ")  # nothing lost
        # ... and without JS: the home page again, with the draft and the reason (422).
        token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
        plain = await page.request.post(
            f"{web_url}/posts", form={"csrf": token or "", "content": " ", "next": "/"}
        )
        assert plain.status == 422
        assert "Not posted:" in await plain.text()
        ok = await page.request.post(
            f"{web_url}/posts",
            form={"csrf": token or "", "content": "Without JS", "next": "/"},
            max_redirects=0,
        )
        assert ok.status == 303
        assert ok.headers["location"] == "/"

        # The feed, read again, holds the post; the live stream says there is a newer head.
        await page.goto(f"{web_url}/")
        feed_card = page.locator(f'article.post[data-post-id="{post_id}"]')
        await expect(feed_card).to_be_visible()
        banner = page.get_by_role("link", name="New posts — show them")
        newest = await page.locator("#new-posts").get_attribute("data-newest")
        await _live_feed(page, newest)
        await expect(banner).to_be_hidden()  # the head the page shows already
        await _live_feed(page, "urn:uuid:newer")
        await expect(banner).to_be_visible()
        await expect(page.locator("#new-posts")).to_have_attribute("role", "status")
        await banner.click()
        await page.wait_for_url(f"{web_url}/")
        await expect(banner).to_be_hidden()
        await assert_page_quality(page)


async def _live_feed(page: Page, newest: str | None) -> None:
    # What canopy.js re-dispatches from the /live stream (WEB-LAYOUT: live-updates contract).
    await page.evaluate(
        """newest => document.dispatchEvent(new CustomEvent("canopy:live",
               {detail: {type: "feed", data: {newest}}}))""",
        newest,
    )


async def test_a_question_thread_answer_accept_react_bookmark_share_and_report(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "mateo")
    question = await canopy.post(t, "nadia", "How do we rotate the API keys?", kind="question")
    thread_url = f"{web_url}/posts/{_uuid(question['id'])}"
    async with signed_in(browser, web_url, "mateo", tenant=t) as page:
        await page.goto(f"{web_url}/bookmarks")
        await expect(page.locator(".empty")).to_contain_text("No bookmarks yet")
        await page.goto(thread_url)
        await expect(page.get_by_text("No answers yet.")).to_be_visible()
        await page.get_by_label("Your answer or comment").fill("Run `make rotate-keys`. " + HOSTILE)
        await page.get_by_role("button", name="Send").click()
        answer = page.locator("#replies article.post").first
        await expect(answer.locator(".badge")).to_have_text("Answer")
        body = answer.locator(".body")
        await expect(body).to_contain_text("<script>window.__pwned = 1</script>")
        assert await body.locator("script").count() == 0
        assert await page.evaluate("window.__pwned") is None
        await expect(page.get_by_text("No answers yet.")).to_be_hidden()

        asked = page.locator(f'article.post[data-post-id="{question["id"]}"]')
        insightful = asked.get_by_role("button", name="Insightful")
        await expect(insightful).to_have_attribute("aria-pressed", "false")
        await insightful.click()
        await expect(insightful).to_have_attribute("aria-pressed", "true")
        await expect(insightful.locator(".count")).to_have_text("1")
        await asked.get_by_role("button", name="Bookmark").click()
        await expect(asked.get_by_role("button", name="Bookmark")).to_have_attribute(
            "aria-pressed", "true"
        )
        await asked.get_by_role("button", name="Share").click()
        await expect(asked.get_by_role("status")).to_have_text("Shared with your followers.")
        await asked.get_by_text("Report", exact=True).click()
        await asked.get_by_label("Why should moderators look at it?").fill("Spam, I think")
        await asked.get_by_role("button", name="Send the report").click()
        await expect(asked.get_by_role("status")).to_have_text(
            "Reported. Moderators will look at it."
        )
        # A second report while the first is open: the API's 409, said on the card.
        await asked.get_by_text("Report", exact=True).click()
        await asked.get_by_label("Why should moderators look at it?").fill("Again")
        await asked.get_by_role("button", name="Send the report").click()
        await expect(asked.get_by_role("status")).to_contain_text("Not done:")

        reactors = await canopy.call(
            "ingestion", "GET", f"/v1/posts/{question['id']}/reactions", t, "nadia"
        )
        assert [(r["user_id"], r["kind"]) for r in reactors["items"]] == [("mateo", "insightful")]
        await page.goto(f"{web_url}/bookmarks")
        await expect(page.locator(f'article.post[data-post-id="{question["id"]}"]')).to_be_visible()
        await assert_page_quality(page)

    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        await page.goto(thread_url)
        answer = page.locator("#replies article.post").first
        answer_id = await answer.get_attribute("data-post-id")
        assert answer_id is not None
        await answer.get_by_role("button", name="Accept this answer").click()
        await page.wait_for_url(thread_url)
        answer = page.locator(f'article.post[data-post-id="{answer_id}"]')
        await expect(answer.get_by_text("Accepted answer")).to_be_visible()
        await expect(answer.get_by_role("button", name="Accept this answer")).to_have_count(0)
        await expect(page.locator("article.post").first.get_by_text("Answered")).to_be_visible()
        await assert_page_quality(page)
        await screenshot(page, "thread")
    accepted = await canopy.call("ingestion", "GET", f"/v1/posts/{question['id']}", t, "nadia")
    assert accepted["acceptedAnswer"] == answer_id


async def test_a_post_the_reader_may_not_see_or_that_does_not_exist_is_a_page_saying_so(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", "omar")
    group = await canopy.create_group(t, "ada", "Acquisition", "private")
    secret = await canopy.post(t, "ada", "The deal closes Friday", group_id=group["id"])
    async with signed_in(browser, web_url, "omar", tenant=t) as page:
        for path, status in [
            (f"/posts/{_uuid(secret['id'])}", 404),
            ("/posts/01968a4e-3b5c-7d2e-9f10-2a3b4c5d6e7f", 404),
            ("/posts/not-a-post", 404),
        ]:
            response = await page.goto(web_url + path)
            assert response is not None
            assert response.status == status, path
            await expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert "The deal closes Friday" not in await page.content()
            assert "Traceback" not in await page.content()
        token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
        refused = await page.request.post(
            f"{web_url}/posts/{_uuid(secret['id'])}/react",
            form={"csrf": token or "", "kind": "like", "on": "1"},
            max_redirects=0,
        )
        assert refused.status == 404
