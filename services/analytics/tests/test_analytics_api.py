"""The analytics read API against the running service: figures, scopes, CSV (issue 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from analytics_checks import assert_csv_matches, assert_problem, get_csv, ok, uid
from analytics_harness import Analytics

from canopy_common.events import StrictActivity
from canopy_testing.factories import ActivityFactory, subject_id

pytestmark = pytest.mark.integration

SUMMARY = "/v1/analytics/summary"
TIMESERIES = "/v1/analytics/timeseries"
TRENDING = "/v1/analytics/trending"


async def impressions(
    analytics: Analytics, tenant: str, viewers: list[str], *posts: StrictActivity
) -> None:
    for viewer in viewers:
        await analytics.send_impressions(tenant, viewer, list(posts))


class Scenario:
    """Ada asks a #python question in the open, Bob answers it and Ada accepts; Bob posts
    into their internal group; Cy likes and shares the question and follows Ada; Dee only
    reads. Ada owns the group (and reads Bob's post there), Bob is a plain member, Cy is not
    in it."""

    def __init__(self) -> None:
        f = self.f = ActivityFactory()
        self.tenant = f.tenant_id
        self.ada, self.bob, self.cy, self.dee = (f.user(h) for h in ("ada", "bob", "cy", "dee"))
        self.team = f.group("Platform", owner=self.ada, visibility="internal")
        self.secret = f.group("Secret", owner=self.ada, visibility="private")
        self.question = f.post(
            self.ada, "How do we pin #python?", hashtags=["python"], kind="question"
        )
        self.answer = f.answer(self.bob, self.question, "With uv lock")
        self.note = f.post(self.bob, "Shipped", group=self.team)

    def activities(self) -> list[StrictActivity]:
        f = self.f
        return [
            self.ada,
            self.bob,
            self.cy,
            self.dee,
            self.team,
            f.join(self.ada, self.team, role="owner"),
            f.join(self.bob, self.team),
            self.secret,
            f.join(self.ada, self.secret, role="owner"),
            self.question,
            self.answer,
            f.accept(self.ada, self.question, self.answer),
            self.note,
            f.like(self.cy, self.question),
            f.share(self.cy, self.question),
            f.follow(self.cy, self.ada),
        ]


@pytest.fixture
async def scenario(analytics: Analytics) -> Scenario:
    s = Scenario()
    await analytics.send(*s.activities())
    await impressions(analytics, s.tenant, [uid(s.bob), uid(s.cy), uid(s.dee)], s.question)
    await impressions(analytics, s.tenant, [uid(s.ada)], s.note)  # active in the group
    # The analysts reading the figures are people of the tenant (and of the others tried);
    # being provisioned makes nobody active.
    for tenant in (s.tenant, "other-tenant", "acme"):
        await analytics.provision(tenant, "an", "analyst-1", "boss", "x")
    return s


async def test_summary_reports_people_content_participation_and_qa(
    analytics: Analytics, scenario: Scenario
) -> None:
    s = scenario
    body = ok(await analytics.get(SUMMARY, s.tenant, "analyst-1", "analyst", period="7d"))

    today = datetime.now(UTC).date()
    assert body["period"] == "7d"
    assert body["last_day"] == today.isoformat()
    assert body["first_day"] == (today - timedelta(days=6)).isoformat()
    # Active: everyone who did anything or viewed (HyperLogLog, exact at this size).
    assert (body["active_users"], body["engaged_users"]) == (4, 3)
    assert body["engagement_rate"] == 0.75
    assert (body["dau"], body["wau"], body["mau"]) == (4, 4, 4)
    assert (body["posts"], body["comments"], body["reactions"], body["shares"]) == (2, 1, 1, 1)
    assert (body["new_follows"], body["new_members"]) == (1, 3)
    assert body["content"] == {"answer": 1, "note": 1, "question": 1}
    assert body["participation"] == {"creators": 2, "contributors": 1, "lurkers": 1}
    qa = body["qa"]
    assert (qa["questions"], qa["answered"], qa["accepted"]) == (1, 1, 1)
    assert (qa["answered_share"], qa["accepted_share"]) == (1.0, 1.0)
    assert qa["median_first_answer_s"] is not None
    assert qa["median_first_answer_s"] >= 0


async def test_people_counts_survive_losing_redis(analytics: Analytics, scenario: Scenario) -> None:
    s = scenario
    before = ok(await analytics.get(SUMMARY, s.tenant, "an", "analyst", period="30d"))
    lost = [key async for key in analytics.redis.scan_iter(match=f"an:{{{s.tenant}}}:*")]
    assert lost
    await analytics.redis.delete(*lost)
    after = ok(await analytics.get(SUMMARY, s.tenant, "an", "analyst", period="30d"))
    assert after == before


async def test_summary_csv_parses_and_matches_the_json(
    analytics: Analytics, scenario: Scenario
) -> None:
    s = scenario
    body = ok(await analytics.get(SUMMARY, s.tenant, "boss", "tenant_admin", period="28d"))
    rows = await get_csv(analytics, SUMMARY, s.tenant, "boss", "tenant_admin", period="28d")
    assert_csv_matches(rows, [body])
    assert rows[0]["qa.accepted_share"] == "1.0"


async def test_timeseries_has_every_day_zeros_included_and_csv_matches(
    analytics: Analytics, scenario: Scenario
) -> None:
    s = scenario
    today = datetime.now(UTC).date().isoformat()
    params = {"metric": "posts", "period": "7d", "interval": "day"}
    body = ok(await analytics.get(TIMESERIES, s.tenant, "an", "analyst", **params))
    assert (body["metric"], body["period"], body["interval"]) == ("posts", "7d", "day")
    assert [p["value"] for p in body["points"]] == [0, 0, 0, 0, 0, 0, 2]
    assert body["points"][-1]["day"] == today
    rows = await get_csv(analytics, TIMESERIES, s.tenant, "an", "analyst", **params)
    assert_csv_matches(rows, body["points"])

    rate = ok(
        await analytics.get(
            TIMESERIES, s.tenant, "an", "analyst", metric="engagement_rate", period="1d"
        )
    )
    assert rate["points"] == [{"day": today, "value": 0.75}]
    weekly = ok(
        await analytics.get(
            TIMESERIES,
            s.tenant,
            "an",
            "analyst",
            metric="active_users",
            interval="week",
            period="30d",
        )
    )
    assert [p["value"] for p in weekly["points"]] == [0, 0, 0, 0, 4]


async def test_a_member_cannot_read_tenant_analytics(
    analytics: Analytics, scenario: Scenario
) -> None:
    s = scenario
    for path, params in ((SUMMARY, {}), (TIMESERIES, {"metric": "posts"})):
        response = await analytics.get(path, s.tenant, uid(s.ada), "member", **params)
        assert_problem(response, 403, "analyst")


@pytest.mark.parametrize(
    ("path", "params", "allowed"),
    [
        (SUMMARY, {"period": "2d"}, ["1d", "7d", "28d", "30d", "90d"]),
        (TIMESERIES, {"metric": "likes"}, ["active_users", "engagement_rate", "new_members"]),
        (TIMESERIES, {"metric": "posts", "interval": "month"}, ["day", "week"]),
        (TIMESERIES, {"metric": "posts", "period": "1y"}, ["90d"]),
    ],
)
async def test_a_bad_period_metric_or_interval_is_a_422_naming_the_allowed_values(
    analytics: Analytics, path: str, params: dict[str, str], allowed: list[str]
) -> None:
    response = await analytics.get(path, "acme", "an", "analyst", **params)
    assert_problem(response, 422, *allowed)


async def test_a_groups_report_is_for_analysts_and_its_admins_only(
    analytics: Analytics, scenario: Scenario
) -> None:
    s = scenario
    path = f"/v1/analytics/groups/{subject_id(s.team)}"
    body = ok(await analytics.get(path, s.tenant, uid(s.ada), "member", period="7d"))
    assert body["group_id"] == subject_id(s.team)
    assert (body["members"], body["active_members"], body["active_ratio"]) == (2, 2, 1.0)
    assert (body["posts"], body["posts_per_member"], body["new_members"]) == (1, 0.5, 2)
    assert body["content"] == {"note": 1}
    assert ok(await analytics.get(path, s.tenant, "an", "analyst")) == body
    rows = await get_csv(analytics, path, s.tenant, "an", "analyst")
    assert_csv_matches(rows, [body])

    # A plain member, a non-member of an internal group: they see it, may not analyse it.
    assert_problem(await analytics.get(path, s.tenant, uid(s.bob), "member"), 403)
    assert_problem(await analytics.get(path, s.tenant, uid(s.cy), "member"), 403)
    # A private group they are not in, an unknown group, another tenant's: not found.
    secret = f"/v1/analytics/groups/{subject_id(s.secret)}"
    assert_problem(await analytics.get(secret, s.tenant, uid(s.cy), "member"), 404)
    assert_problem(
        await analytics.get("/v1/analytics/groups/urn:uuid:nope", s.tenant, "an", "analyst"), 404
    )
    assert_problem(await analytics.get(path, "other-tenant", "an", "analyst"), 404)


async def test_a_posts_report_is_for_its_author_and_analysts(
    analytics: Analytics, scenario: Scenario
) -> None:
    s = scenario
    path = f"/v1/analytics/posts/{subject_id(s.question)}"
    body = ok(await analytics.get(path, s.tenant, uid(s.ada), "member"))
    assert body["author_id"] == uid(s.ada)
    assert body["kind"] == "question"
    assert (body["reach"], body["reactions"], body["comments"], body["shares"]) == (3, 1, 1, 1)
    assert body["engagement_rate"] == 1.0
    assert ok(await analytics.get(path, s.tenant, "an", "analyst")) == body
    assert_csv_matches(await get_csv(analytics, path, s.tenant, uid(s.ada), "member"), [body])

    assert_problem(await analytics.get(path, s.tenant, uid(s.cy), "member"), 403)
    assert_problem(await analytics.get(path, "other-tenant", "an", "analyst"), 404)
    unknown = "/v1/analytics/posts/urn:uuid:00000000-0000-7000-8000-000000000000"
    assert_problem(await analytics.get(unknown, s.tenant, "an", "analyst"), 404)
    # Bob's post into the group: nobody outside the group learns it exists.
    group_post = f"/v1/analytics/posts/{subject_id(s.note)}"
    assert_problem(await analytics.get(group_post, s.tenant, uid(s.cy), "member"), 404)


async def test_trending_ranks_open_hashtags_and_never_private_ones(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ada, bob, guest = f.user("ada"), f.user("bob"), f.user("gil", kind="guest")
    hideout = f.group("Hideout", owner=ada, visibility="private")
    await analytics.send(
        ada,
        bob,
        guest,
        hideout,
        f.join(ada, hideout, role="owner"),
        f.post(ada, "#python tips", hashtags=["python"]),
        f.post(bob, "#python and #rust", hashtags=["python", "rust"]),
        f.post(ada, "#codename", hashtags=["codename"], group=hideout),
    )
    body = ok(await analytics.get(TRENDING, f.tenant_id, uid(bob), "member", limit="5"))
    assert [(t["tag"], t["uses"]) for t in body["items"]] == [("python", 2), ("rust", 1)]
    assert body["items"][0]["score"] > body["items"][1]["score"] > 0
    assert (body["window_h"], body["half_life_h"]) == (24, 6.0)
    rows = await get_csv(analytics, TRENDING, f.tenant_id, uid(bob), "member", limit="5")
    assert_csv_matches(rows, body["items"])
    top = ok(await analytics.get(TRENDING, f.tenant_id, uid(bob), "member", limit="1"))
    assert [t["tag"] for t in top["items"]] == ["python"]

    assert_problem(await analytics.get(TRENDING, f.tenant_id, uid(guest), "guest"), 403)
    assert ok(await analytics.get(TRENDING, "other-tenant", "x", "analyst"))["items"] == []


async def test_trending_refuses_a_vanishing_half_life_and_decays_old_uses_to_nothing(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ada = f.user("ada")
    month_ago = datetime.now(UTC) - timedelta(hours=700)
    await analytics.send(
        ada,
        f.post(ada, "#legacy then", hashtags=["legacy"], published=month_ago),
        f.post(ada, "#python now", hashtags=["python"]),
    )
    # 5e-324 h divided every age into an overflow inside Postgres: 500 before.
    response = await analytics.get(TRENDING, f.tenant_id, uid(ada), "member", half_life_h="5e-324")
    assert_problem(response, 422, "half_life_h")
    # The shortest half-life allowed, a month back: 0.5^(700 / 0.01) would underflow float8.
    body = ok(
        await analytics.get(
            TRENDING, f.tenant_id, uid(ada), "member", window_h="720", half_life_h="0.01"
        )
    )
    assert {t["tag"] for t in body["items"]} == {"legacy", "python"}
    assert all(0 <= t["score"] <= t["uses"] for t in body["items"])
