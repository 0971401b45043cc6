"""The analytics, moderation and admin pages in a real browser over the whole system: an
analyst's charts, tables and CSV; a moderator's decision on a flag; a tenant admin's roles,
deactivation and content policy; everyone else refused (docs/architecture.md §18)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from canopy_testing.browser import assert_page_quality, screenshot, signed_in
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e


async def give_roles(canopy: SystemClient, t: str, user: str, *roles: str) -> None:
    """The directory gives ``user`` these tenant roles (as HR's provisioning would)."""
    profile = {"handle": user, "display_name": user.title(), "roles": list(roles)}
    await canopy.call(
        "ingestion", "PUT", f"/v1/users/{user}", t, "admin", "tenant_admin", json=profile
    )


async def refused(page: Page, url: str) -> None:
    response = await page.goto(url)
    assert response is not None
    assert response.status == 403, f"{url}: {response.status}"
    assert await page.get_by_role("heading", level=1).inner_text() == "You may not see this."


async def test_an_analyst_sees_figures_charts_and_tables_and_downloads_csv_others_are_refused(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "zoe", "nadia", "mateo")
    await give_roles(canopy, t, "zoe", "analyst")
    await canopy.post(t, "nadia", "How do we rotate the #release keys?", kind="question")
    await canopy.post(t, "mateo", "Shipping the #release today")
    group = await canopy.create_group(t, "mateo", "Platform", "public")

    async def counted() -> bool:
        summary = await canopy.call(
            "analytics", "GET", "/v1/analytics/summary", t, "zoe", "analyst",
            params={"period": "7d"},
        )  # fmt: skip
        report = await canopy.request(
            "analytics", "GET", f"/v1/analytics/groups/{group['id']}", t, "zoe", "analyst"
        )
        return summary["qa"]["questions"] == 1 and summary["posts"] == 2 and report.is_success

    await eventually(counted, what="the question and the post counted by analytics")
    async with signed_in(browser, web_url, "zoe", tenant=t) as page:
        await page.get_by_role("link", name="Analytics").click()
        await page.wait_for_url(f"{web_url}/analytics")
        assert await page.locator("#qa-asked").inner_text() == "1"
        assert await page.get_by_role("img", name="Active people").count() == 1
        assert await page.locator("svg.chart[role=img]").count() >= 8
        posts = page.locator("li.panel", has=page.get_by_role("heading", name="Posts"))
        await posts.locator("summary").click()
        rows = posts.locator("tbody tr")
        assert await rows.count() == 7  # a point a day, zeros included
        assert await rows.last.locator("td").inner_text() == "2"
        assert "#release" in (await page.locator("#chart-trending").text_content() or "")
        # Another period: the picker keeps its choice.
        await page.select_option("#period", "30d")
        await page.get_by_role("button", name="Show").first.click()
        await page.wait_for_url("**/analytics?period=30d")
        assert await posts.locator("tbody tr").count() == 30
        await page.select_option("#group", group["id"])
        await page.locator("form", has=page.locator("#group")).get_by_role("button").click()
        await expect(page.get_by_role("heading", name="Platform")).to_be_visible()
        assert "period=30d" in page.url
        figures = page.locator("section", has=page.get_by_role("heading", name="A group"))
        await expect(figures.locator(".figure").first).to_contain_text("Members1")
        await assert_page_quality(page)
        await screenshot(page, "analytics")
        link = page.get_by_role("link", name="Download Posts as CSV")
        href = await link.get_attribute("href")
        assert href is not None
        csv = await page.request.get(f"{web_url}{href}")
        assert csv.ok
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.headers["content-disposition"].startswith("attachment")
        lines = (await csv.text()).splitlines()
        assert lines[0] == "day,value"
        assert lines[-1].endswith(",2")
        async with page.expect_download() as download:
            await page.get_by_role("link", name="Download the summary as CSV").click()
        saved = await (await download.value).path()
        header = saved.read_text().splitlines()[0].split(",")
        assert {"dau", "wau", "mau", "qa.questions"} <= set(header)
    async with signed_in(browser, web_url, "nadia", tenant=t) as page:
        assert await page.get_by_role("link", name="Analytics").count() == 0
        for path in ("/analytics", "/moderation", "/admin", "/admin/policy"):
            await refused(page, f"{web_url}{path}")
        await assert_page_quality(page)


async def test_a_moderator_removes_a_flagged_post_from_the_queue(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "mateo", "nadia", "zoe")
    await give_roles(canopy, t, "mateo", "moderator")
    post = await canopy.post(t, "nadia", "Customer list: <b>ACME</b> 555-0100")
    await canopy.call(
        "ingestion", "POST", f"/v1/posts/{post['id']}/flags", t, "zoe",
        json={"reason": "Shares a customer's data"},
    )  # fmt: skip
    async with signed_in(browser, web_url, "mateo", tenant=t) as page:
        await page.get_by_role("link", name="Moderation").click()
        case = page.locator("li.case", has=page.locator(f'[data-post-id="{post["id"]}"]'))
        await expect(case).to_have_count(1)
        assert "<b>ACME</b>" in await case.locator(".body").inner_text()  # shown as text
        assert "zoe" in await case.locator(".reports").inner_text()
        assert "Shares a customer's data" in await case.inner_text()
        await assert_page_quality(page)
        await screenshot(page, "moderation")
        await case.get_by_label("Remove the post").check()
        await case.get_by_label("Note to the reporters and author (optional)").fill("Not here")
        await case.get_by_role("button", name="Decide").click()
        await page.wait_for_url("**/moderation?done=remove")
        await expect(page.get_by_role("status")).to_contain_text("Removed")
        assert await page.locator(f'[data-post-id="{post["id"]}"]').count() == 0
        await page.get_by_role("link", name="Resolved").click()
        decided = page.locator("li.case", has=page.locator(f'[data-post-id="{post["id"]}"]'))
        await expect(decided).to_contain_text("Removed by mateo")
        await expect(decided).to_contain_text("Not here")
    gone = await canopy.request("ingestion", "GET", f"/v1/posts/{post['id']}", t, "zoe")
    assert gone.status_code in (404, 410)


async def test_a_tenant_admin_gives_roles_deactivates_a_person_and_sets_the_content_policy(
    canopy: SystemClient, browser: Browser, web_url: str, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", "mateo", "nadia")
    await give_roles(canopy, t, "ada", "tenant_admin")
    async with (
        signed_in(browser, web_url, "nadia", tenant=t) as leaver,
        signed_in(browser, web_url, "ada", tenant=t) as page,
    ):
        await page.get_by_role("link", name="Admin").click()
        people = page.locator("table tbody tr")
        await expect(people).to_have_count(3)
        await assert_page_quality(page)
        await screenshot(page, "admin")
        await page.get_by_label("Find people").fill("mate")
        await page.get_by_role("button", name="Find").click()
        await page.get_by_role("link", name="Mateo").click()
        await assert_page_quality(page)
        await page.get_by_label("Moderator: decides flagged posts").check()
        await page.get_by_role("button", name="Save roles").click()
        await expect(page.get_by_role("status")).to_have_text("Roles saved.")
        await expect(page.get_by_label("Moderator: decides flagged posts")).to_be_checked()
        mateo = await canopy.call("ingestion", "GET", "/v1/users/mateo", t, "ada")
        assert mateo["roles"] == ["moderator"]
        assert mateo["handle"] == "mateo"  # the rest kept
        assert mateo["display_name"] == "Mateo"

        await page.goto(f"{web_url}/admin/people/nadia")
        await page.get_by_role("link", name="Deactivate…").click()
        await expect(page.get_by_role("heading", name="Deactivate Nadia?")).to_be_visible()
        await assert_page_quality(page)
        await page.get_by_role("button", name="Yes, deactivate").click()
        await expect(page.get_by_role("status")).to_have_text("Nadia is deactivated.")
        await expect(page.locator("#standing")).to_contain_text("Deactivated")

        async def signed_out() -> bool:
            await leaver.goto(f"{web_url}/")
            return "/auth/signin" in leaver.url

        await eventually(signed_out, what="nadia's next page asking her to sign in again")
        assert "expired=1" in leaver.url

        sections = page.get_by_role("navigation", name="Admin sections")
        await sections.get_by_role("link", name="People").click()
        await page.get_by_label("Former colleagues (deactivated)").check()
        await page.get_by_role("button", name="Find").click()
        await expect(page.locator("table tbody tr")).to_have_count(1)
        await page.get_by_role("link", name="Nadia").click()
        await page.get_by_role("link", name="Reactivate…").click()
        await page.get_by_role("button", name="Yes, reactivate").click()
        await expect(page.get_by_role("status")).to_have_text("Nadia is active again.")

        await page.get_by_role("link", name="Content policy").click()
        await expect(page.get_by_text("The built-in rules are in force.")).to_be_visible()
        blank = await page.locator('input[name="name"][value=""]').first.get_attribute("id")
        assert blank is not None
        row = blank.removeprefix("rule-name-")
        await page.locator(f"#rule-name-{row}").fill("codename")
        await page.locator(f"#rule-pattern-{row}").fill("(?i)bluebird")
        await page.get_by_role("button", name="Save rules").click()
        await expect(page.get_by_role("status")).to_have_text("Rules saved.")
        await expect(page.get_by_text("Your own rules are in force.")).to_be_visible()
        policy = await canopy.call(
            "ingestion", "GET", "/v1/tenant/content-policy", t, "ada", "tenant_admin"
        )
        assert {"name": "codename", "pattern": "(?i)bluebird"} in policy["rules"]
        assert policy["defaults"] is False
        await page.get_by_label("Text", exact=True).fill("Project <Bluebird> ships")
        await page.get_by_role("button", name="Check").click()
        result = page.locator("#policy-result")
        await expect(result.locator("mark")).to_contain_text("Bluebird")
        await expect(result).to_contain_text("Matched by codename")
        await assert_page_quality(page)
        # A bad rule is refused with the service's reason, next to the form.
        await page.locator("#rule-pattern-1").fill("(unclosed")
        await page.get_by_role("button", name="Save rules").click()
        await expect(page.locator(".problem")).to_contain_text("The service said")

        await page.get_by_role("link", name="Audit log").click()

        async def audited() -> bool:
            await page.goto(f"{web_url}/admin/audit")
            text = await page.locator("main").inner_text()
            return all(a in text for a in ("user.roles", "user.deactivate", "policy.update"))

        await eventually(audited, what="the admin's changes in the audit log")
        await assert_page_quality(page)
