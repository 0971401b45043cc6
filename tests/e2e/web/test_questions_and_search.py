"""Questions and search in a real browser over the whole system: asking a question while the
questions already answered in other words show under the text box, the lists of questions by
where they stand, and search over posts, people and groups with only its <mark> highlights as
markup (docs/architecture.md §18)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from canopy_testing.browser import assert_page_quality, screenshot, signed_in
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

TWIN = "How do I get access to the staging Kubernetes cluster?"
ASKED_AGAIN = "Who can give me credentials for the pre-production container platform?"


async def test_asking_shows_similar_answered_questions_and_lands_on_the_new_thread(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "bo", "cy")
    twin = await canopy.post(t, "bo", TWIN, kind="question", name="Staging cluster access")
    answer = await canopy.post(
        t, "cy", "Request the staging-dev group in Okta.", kind="answer", in_reply_to=twin["id"]
    )
    await canopy.call(
        "ingestion", "POST", f"/v1/posts/{twin['id']}/accept", t, "bo",
        json={"answer_id": answer["id"]},
    )  # fmt: skip
    await canopy.post(t, "cy", "Where is the **parking** map?", kind="question")

    async def embedded() -> bool:
        page = await canopy.call(
            "analytics", "GET", "/v1/questions/similar", t, "nadia", params={"text": ASKED_AGAIN}
        )
        return any(q["id"] == twin["id"] and q["accepted"] for q in page["items"])

    await eventually(embedded, what="the answered twin embedded by analytics")

    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        await page.goto(f"{web_url}/questions")
        # Unanswered first: the open question is listed, the accepted one is not.
        listed = page.locator("ol.questions article.post")
        await expect(listed.filter(has_text="parking")).to_have_count(1)
        await expect(listed.filter(has_text=TWIN)).to_have_count(0)
        await page.get_by_role("link", name="Accepted", exact=True).click()
        await page.wait_for_url("**/questions?tab=accepted")
        await expect(listed.filter(has_text=TWIN)).to_have_count(1)
        await expect(page.locator("ol.questions .badge.done")).to_have_count(1)
        await expect(page.locator("ol.questions .question-state")).to_have_count(0)

        # Typing a paraphrase: the twin shows under the box, in a polite live region.
        region = page.locator("#similar")
        assert await region.get_attribute("aria-live") == "polite"
        await page.get_by_label("Your question").press_sequentially(ASKED_AGAIN[:40])
        await page.get_by_label("Your question").press_sequentially(ASKED_AGAIN[40:])
        offered = region.get_by_role("link", name="Staging cluster access")
        await expect(offered).to_be_visible()
        assert await offered.get_attribute("href") == "/posts/" + twin["id"].removeprefix(
            "urn:uuid:"
        )
        await expect(region.locator(".badge.accepted")).to_have_count(1)
        await assert_page_quality(page)
        await screenshot(page, "questions")
        # Blank text: the list goes, without an error.
        await page.get_by_label("Your question").fill("   ")
        await page.get_by_label("Your question").press("Space")
        await expect(region.locator("li")).to_have_count(0)
        await expect(page.locator("#flash")).to_be_hidden()

        # Asking (a mention as plain text): the new thread, and it is in "Mine".
        await page.get_by_label("Title (optional)").fill("Pre-prod credentials")
        await page.get_by_label("Your question").fill(ASKED_AGAIN + " @c")
        await page.get_by_label("Your question").press_sequentially("y")
        # @-completion as in the compose form: Cy is offered.
        await expect(page.locator("#ask-suggestions")).to_contain_text("Cy")
        await page.get_by_label("Your question").press("Escape")
        await page.get_by_role("button", name="Ask", exact=True).click()
        await page.wait_for_url("**/posts/*")
        asked_path = page.url.removeprefix(web_url)
        await page.goto(f"{web_url}/questions?tab=mine")
        mine = page.locator("ol.questions article.post")
        await expect(mine).to_have_count(1)
        await expect(mine.get_by_text("Pre-prod credentials")).to_be_visible()
        assert await mine.locator(f'a[href="{asked_path}"]').count() >= 1
        await expect(mine.filter(has_text="parking")).to_have_count(0)  # cy's, not hers

        # Without JS the form still posts; a refusal (no text) shows next to the form.
        ask_form = page.locator("#ask-form")
        await page.get_by_label("Your question").evaluate("el => el.removeAttribute('required')")
        await ask_form.get_by_role("button", name="Ask", exact=True).click()
        error = page.locator("#ask-error")
        await expect(error).to_contain_text("Your question was not posted")
        await expect(ask_form).to_have_attribute("aria-describedby", "ask-error")


async def test_search_marks_stemmed_matches_shows_markup_as_text_and_finds_people_and_groups(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "mateo")
    await canopy.post(t, "mateo", "Deploying the billing service needs two approvals.")
    await canopy.post(
        t, "mateo", "Deployment steps: go when 1 < 2 & 3 > 2 hold.",
        kind="question", name="<script>window.__pwned = 1</script> <b>Deployment</b> runbook",
    )  # fmt: skip
    group = await canopy.create_group(t, "mateo", "Deployment guild", "internal")

    async def found(type_: str, count: int) -> list[dict[str, Any]]:
        page = await canopy.call(
            "analytics", "GET", "/v1/search", t, "nadia", params={"q": "deploy", "type": type_}
        )
        items: list[dict[str, Any]] = page["items"]
        return items if len(items) >= count else []

    await eventually(lambda: found("posts", 2), what="both posts indexed")
    await eventually(lambda: found("groups", 1), what="the group indexed")

    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        # The header's search form: the query stays in the box.
        await page.get_by_role("searchbox", name="Search Canopy").fill("deploy")
        await page.get_by_role("searchbox", name="Search Canopy").press("Enter")
        await page.wait_for_url("**/search?q=deploy")
        assert await page.get_by_role("searchbox", name="Search Canopy").input_value() == "deploy"
        results = page.locator("ol.results")
        await expect(results.locator("article")).to_have_count(2)
        await expect(page.get_by_role("status")).to_have_text("2 found")
        marks = results.locator("mark")
        assert {(await m.inner_text()).lower() for m in await marks.all()} >= {
            "deploying",
            "deployment",
        }
        hostile = results.locator("article", has_text="runbook")
        # Analytics indexes posts without their markup; whatever it sends, none becomes markup.
        await expect(hostile.get_by_role("heading")).to_contain_text("Deployment")
        # The snippet's escaped text is shown once as text: neither markup nor "&lt;".
        assert "1 < 2 & 3 > 2" in await hostile.locator(".snippet").inner_text()
        assert await results.locator("script, b, img").count() == 0
        assert await page.evaluate("window.__pwned") is None
        assert await results.locator(".snippet *:not(mark)").count() == 0
        await assert_page_quality(page)
        await screenshot(page, "search")

        # Narrowed to questions: the filters form keeps the query.
        await page.get_by_text("Narrow posts").click()
        await page.get_by_label("Kind").select_option("question")
        await page.get_by_role("button", name="Apply").click()
        await page.wait_for_url("**kind=question**")
        await expect(results.locator("article")).to_have_count(1)
        await expect(results.locator("article")).to_contain_text("runbook")

        # People and groups: tabs are links, reachable by keyboard.
        tabs = page.get_by_role("navigation", name="What to find")
        await tabs.get_by_role("link", name="Groups", exact=True).focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/search?q=deploy&type=groups")
        link = results.get_by_role("link", name="Deployment guild")
        assert await link.get_attribute("href") == "/groups/" + group["id"].removeprefix(
            "urn:uuid:"
        )
        await page.goto(f"{web_url}/search?q=mateo&type=people")
        person = page.locator("ol.results").get_by_role("link", name="Mateo")
        assert await person.get_attribute("href") == "/people/mateo"

        # Nothing found, and no query at all.
        await page.goto(f"{web_url}/search?q=zebra")
        await expect(page.get_by_text("No results for zebra.")).to_be_visible()
        await page.goto(f"{web_url}/search?q=")
        await expect(page.locator(".notice")).to_contain_text("Type words in the search box")
        await assert_page_quality(page)
