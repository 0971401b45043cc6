"""Groups and people in a real browser over the whole system: a group created, asked into,
approved, posted to, pinned in, invited to and given an admin; a private group hidden from
others; following someone from their profile; editing one's own profile; experts for a topic;
people suggested with why (docs/architecture.md §18)."""

from __future__ import annotations

from functools import partial

import pytest
from playwright.async_api import Browser, Page

from canopy_testing.browser import assert_page_quality, screenshot, signed_in
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e


def _uuid(group_id: str) -> str:
    return group_id.removeprefix("urn:uuid:")


async def _notice(page: Page) -> str:
    return await page.get_by_role("status").inner_text()


async def test_a_group_is_created_asked_into_approved_posted_to_pinned_and_invited_to(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "olga", "pete", "rita", "sam")
    async with (
        signed_in(browser, web_url, "olga", tenant=t) as olga,
        signed_in(browser, web_url, "pete", tenant=t) as pete,
    ):
        await olga.goto(f"{web_url}/groups")
        await olga.get_by_label("Name").fill("Platform <b>crew</b>")
        await olga.get_by_label("Description (markdown)").fill("Runtime and **tooling**")
        await olga.get_by_label("Members approved").check()
        await olga.get_by_role("button", name="Create the group").click()
        await olga.wait_for_url("**/groups/*?notice=created")
        group_url = olga.url.split("?", 1)[0]
        group_id = "urn:uuid:" + group_url.rsplit("/", 1)[1]
        assert await olga.get_by_role("heading", level=1).inner_text() == "Platform <b>crew</b>"
        assert await _notice(olga) == "Your group is ready. Invite people to it."
        assert await olga.locator(".group-head .body strong").inner_text() == "tooling"

        # Someone who sees it asks to join; the owner approves; he is a member.
        await pete.goto(group_url)
        await pete.get_by_role("button", name="Ask to join").click()
        await pete.wait_for_url("**?notice=requested")
        assert await pete.get_by_role("button", name="Withdraw my request").is_visible()
        await olga.goto(group_url)
        requests = olga.locator("#requests")
        assert "pete" in await requests.inner_text()
        await requests.get_by_role("button", name="Approve pete").click()
        await olga.wait_for_url("**?notice=approved#requests")
        members = olga.locator("section[aria-labelledby=members-heading]")
        assert "Pete" in await members.inner_text()
        assert "Members: 2" in await olga.locator(".group-head").inner_text()

        # A member posts through the group's form; the owner pins it from the feed.
        await pete.goto(group_url)
        await pete.get_by_label("Your post to Platform <b>crew</b>").fill(
            "Deploys freeze on Friday"
        )
        await pete.get_by_role("button", name="Post", exact=True).click()
        await pete.wait_for_url("**?notice=posted#feed-heading")
        post_id = await eventually(
            partial(_group_post, canopy, t, group_id, "Deploys freeze on Friday"),
            what="pete's post in the group feed",
        )
        await olga.goto(group_url)
        card = olga.locator(f'#main li:has(article[data-post-id="{post_id}"])')
        await card.get_by_role("button", name="Pin").click()
        await olga.wait_for_url("**?notice=pinned#pins-heading")
        pins = olga.locator("section[aria-labelledby=pins-heading]")
        assert "Deploys freeze on Friday" in await pins.inner_text()
        assert await pins.get_by_role("button", name="Unpin").is_visible()

        # An invitation, and an invitation to nobody answered next to the form.
        await olga.get_by_label("Their person id").fill("rita")
        await olga.get_by_role("button", name="Invite", exact=True).click()
        await olga.wait_for_url("**?notice=invited#invite")
        invited = await canopy.call("ingestion", "GET", f"/v1/groups/{group_id}", t, "rita")
        assert invited["invited"] is True
        await olga.get_by_label("Their person id").fill("nobody-here")
        await olga.get_by_role("button", name="Invite", exact=True).click()
        assert "The service said:" in await olga.locator("#invite .form-error").inner_text()
        await olga.goto(group_url)
        await assert_page_quality(olga)
        await screenshot(olga, "group")

        # The members page pages through them with their roles.
        await olga.goto(f"{group_url}/members")
        rows = olga.locator(".people-list li")
        assert await rows.count() == 2
        assert "Owner" in await rows.nth(0).inner_text()
        await rows.nth(1).get_by_role("button", name="Make admin Pete").click()
        await olga.wait_for_url("**/members?notice=updated")
        assert "Admin" in await rows.nth(1).inner_text()
        await assert_page_quality(olga)

        # The directory: hers, and found by name.
        await olga.goto(f"{web_url}/groups?mine=true")
        assert "Platform <b>crew</b>" in await olga.locator("#main").inner_text()
        await assert_page_quality(olga)

        # A private group: its page is the API's 404 to someone not in it.
        secret = await canopy.create_group(t, "olga", "Secret plans", "private")
        async with signed_in(browser, web_url, "sam", tenant=t) as sam:
            response = await sam.goto(f"{web_url}/groups/{_uuid(secret['id'])}")
            assert response is not None
            assert response.status == 404
            assert (
                await sam.get_by_role("heading", level=1).inner_text() == "There is nothing here."
            )
            await sam.goto(f"{web_url}/groups?q=secret")
            assert "Secret plans" not in await sam.locator("#main").inner_text()


async def _group_post(canopy: SystemClient, t: str, group_id: str, text: str) -> str | None:
    page = await canopy.call("fanout", "GET", f"/v1/feeds/groups/{group_id}", t, "olga")
    for item in page["items"]:
        if item["object"]["content"] == text:
            return str(item["object"]["id"])
    return None


async def test_people_follow_from_a_profile_edit_their_own_find_experts_and_suggestions(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "nadia", "mateo", "lena")
    await canopy.post(t, "mateo", "How we run #kubernetes upgrades without downtime")
    await canopy.follow(t, "lena", "nadia")
    async with signed_in(browser, web_url, "nadia", tenant=t) as nadia:
        # Follow from the profile: the button flips and the follower count moves.
        await nadia.goto(f"{web_url}/people/mateo")
        count = nadia.locator("#followers-count")
        assert await count.inner_text() == "Followers: 0"
        async with nadia.expect_navigation():  # back to the same page, freshly drawn
            await nadia.get_by_role("button", name="Follow Mateo").click()
        assert nadia.url == f"{web_url}/people/mateo"
        assert await count.inner_text() == "Followers: 1"
        assert await nadia.get_by_role("button", name="Unfollow Mateo").is_visible()
        await assert_page_quality(nadia)
        await screenshot(nadia, "profile")
        await nadia.goto(f"{web_url}/people/mateo/followers")
        assert "Nadia" in await nadia.locator(".people-list").inner_text()

        # Her own profile: what she may change, and what HR keeps.
        await nadia.goto(f"{web_url}/people/nadia")
        await nadia.get_by_role("link", name="Edit my profile").click()
        assert "ask HR" in await nadia.locator("#main").inner_text()
        await assert_page_quality(nadia)
        await nadia.get_by_label("Pronouns").fill("she/her")
        await nadia.get_by_label("Skills").fill("Go, kubernetes, go")
        await nadia.get_by_label("About me").fill("Platform engineer.\nOn call on Tuesdays.")
        await nadia.get_by_role("button", name="Save my profile").click()
        await nadia.wait_for_url(f"{web_url}/people/nadia?saved=1")
        assert await _notice(nadia) == "Your profile is saved."
        about = await nadia.locator("section[aria-labelledby=about-heading]").inner_text()
        assert "On call on Tuesdays." in about
        assert "Go" in about
        assert "kubernetes" in about
        me = await canopy.call("ingestion", "GET", "/v1/users/me", t, "nadia")
        assert (me["pronouns"], me["skills"]) == ("she/her", ["Go", "kubernetes"])

        # Who knows about a topic: the person who wrote about it, with why.
        await eventually(partial(_expert, canopy, t, "kubernetes", "mateo"), what="mateo an expert")
        # Her profile change reaches analytics through the stream, a moment after it is saved.
        await eventually(partial(_expert, canopy, t, "kubernetes", "nadia"), what="nadia an expert")
        await nadia.goto(f"{web_url}/people?topic=%23Kubernetes")
        experts = nadia.locator("section[aria-labelledby=experts-heading]")
        mateo = experts.locator("li", has_text="Mateo")
        assert "1 posts" in await mateo.locator(".reason").inner_text()
        nadia_card = experts.locator("li", has_text="Nadia")  # her new skill counts too
        assert "lists it as a skill" in await nadia_card.locator(".reason").inner_text()
        await assert_page_quality(nadia)
        await screenshot(nadia, "people")

        # People she may know, with why; following one brings her back to the directory.
        await eventually(partial(_suggested, canopy, t, "lena"), what="lena suggested to nadia")
        await nadia.goto(f"{web_url}/people")
        lena = nadia.locator("section[aria-labelledby=suggested-heading] li", has_text="Lena")
        assert "follows you" in await lena.locator(".reason").inner_text()
        async with nadia.expect_navigation():
            await lena.get_by_role("button", name="Follow Lena").click()
        assert nadia.url == f"{web_url}/people"
        relations = await canopy.call(
            "ingestion", "GET", "/v1/relationships", t, "nadia", params={"id": "lena"}
        )
        assert relations[0]["following"] is True


async def _suggested(canopy: SystemClient, t: str, who: str) -> bool:
    found = await canopy.call("analytics", "GET", "/v1/people/suggestions", t, "nadia")
    return any(item["user_id"] == who for item in found["items"])


async def _expert(canopy: SystemClient, t: str, topic: str, who: str) -> bool:
    found = await canopy.call(
        "analytics", "GET", "/v1/people/experts", t, "nadia", params={"topic": topic}
    )
    return any(item["user_id"] == who for item in found["items"])
