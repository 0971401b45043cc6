"""People discovery against the running service: experts on a topic, people you may know,
groups you may like — and never anyone or anything the caller may not see (issue 6)."""

from __future__ import annotations

import pytest
from analytics_checks import assert_csv_matches, assert_problem, get_csv, ok, uid
from analytics_harness import Analytics

from canopy_common.events import StrictActivity
from canopy_testing.factories import ActivityFactory, subject_id

pytestmark = pytest.mark.integration

EXPERTS = "/v1/people/experts"
PEOPLE = "/v1/people/suggestions"
GROUPS = "/v1/groups/suggestions"


def ids(body: dict[str, object], key: str = "user_id") -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [item[key] for item in items]


async def test_experts_come_out_in_the_order_their_contributions_imply(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    users = {
        h: f.user(h, skills=skills, title=f"{h} title", department="Platform")
        for h, skills in (
            ("ivy", []),
            ("ana", []),
            ("ben", []),
            ("cat", ["Kubernetes"]),  # a declared skill, never posted about it
            ("dan", []),
            ("gus", []),
            ("hal", ["kubernetes"]),  # blocked the caller
            ("eve", []),  # erased
            ("fay", []),  # only works in a private group
        )
    }
    u = users
    lab = f.group("Lab", owner=u["fay"], visibility="private")
    q1 = f.post(u["gus"], "#kubernetes upgrade?", hashtags=["kubernetes"], kind="question")
    q2 = f.post(u["gus"], "#kubernetes ingress?", hashtags=["kubernetes"], kind="question")
    a1, a2 = f.answer(u["ana"], q1), f.answer(u["ana"], q2)
    dans = f.post(u["dan"], "My #kubernetes notes", hashtags=["kubernetes"])
    activities: list[StrictActivity] = [
        *users.values(),
        lab,
        f.join(u["fay"], lab, role="owner"),
        *(
            f.post(u["fay"], "#kubernetes in the lab", hashtags=["kubernetes"], group=lab)
            for _ in range(5)
        ),
        q1,
        q2,
        a1,
        a2,
        f.accept(u["gus"], q1, a1),
        f.accept(u["gus"], q2, a2),
        *(f.post(u["ben"], f"#kubernetes tip {i}", hashtags=["kubernetes"]) for i in range(3)),
        dans,
        f.like(u["ben"], dans),
        f.like(u["gus"], dans),
        f.post(u["eve"], "#kubernetes for all", hashtags=["kubernetes"]),
        f.erase(u["eve"]),
        f.block(u["hal"], u["ivy"]),
    ]
    await analytics.send(*activities)

    caller = uid(u["ivy"])
    body = ok(await analytics.get(EXPERTS, f.tenant_id, caller, "member", topic="#Kubernetes"))
    # ana: 2 accepted answers (10); ben: 3 posts (6); gus: 2 questions (4);
    # dan: 1 post + 2 reactions (3), before cat: skill only (3), on more posts.
    assert body["topic"] == "kubernetes"
    assert ids(body) == [uid(u[h]) for h in ("ana", "ben", "gus", "dan", "cat")]
    first, dan, cat = body["items"][0], body["items"][3], body["items"][4]
    assert first["score"] == 10.0
    assert first["breakdown"] == {
        "posts": 0,
        "accepted_answers": 2,
        "reactions_received": 0,
        "skill_match": False,
        "answers": 0,  # counted for text= only
    }
    assert (first["name"], first["title"], first["department"]) == ("Ana", "ana title", "Platform")
    assert (dan["score"], dan["breakdown"]["reactions_received"]) == (3.0, 2)
    assert (cat["score"], cat["breakdown"]["skill_match"]) == (3.0, True)

    rows = await get_csv(analytics, EXPERTS, f.tenant_id, caller, "member", topic="kubernetes")
    assert_csv_matches(rows, body["items"])
    top = ok(
        await analytics.get(EXPERTS, f.tenant_id, caller, "member", topic="kubernetes", limit="2")
    )
    assert ids(top) == [uid(u["ana"]), uid(u["ben"])]
    assert_problem(await analytics.get(EXPERTS, f.tenant_id, caller, "member", topic="#"), 422)
    await analytics.provision("other-tenant", caller)  # a person there too, who sees nobody
    assert (
        ok(await analytics.get(EXPERTS, "other-tenant", caller, "member", topic="kubernetes"))[
            "items"
        ]
        == []
    )


async def test_a_guest_finds_only_experts_sharing_a_group_with_them(analytics: Analytics) -> None:
    f = ActivityFactory()
    ben, cat = f.user("ben"), f.user("cat", skills=["kubernetes"])
    jon = f.user("jon", kind="guest")
    partners = f.group("Partners", owner=ben, visibility="private")
    await analytics.send(
        ben,
        cat,
        jon,
        partners,
        f.join(ben, partners, role="owner"),
        f.add(ben, partners, jon),
        f.post(ben, "#kubernetes", hashtags=["kubernetes"]),
    )
    body = ok(await analytics.get(EXPERTS, f.tenant_id, uid(jon), "guest", topic="kubernetes"))
    assert ids(body) == [uid(ben)]
    member = ok(await analytics.get(EXPERTS, f.tenant_id, uid(cat), "member", topic="kubernetes"))
    assert ids(member) == [uid(cat), uid(ben)]  # a declared skill (3) over one post (2)


class Circle:
    """Me and the people around me: whom I follow, who follows me, my groups, my skills."""

    def __init__(self) -> None:
        f = self.f = ActivityFactory()
        self.tenant = f.tenant_id
        self.me = f.user("me", skills=["python"], interests=["chess"])
        self.a = f.user("a")  # I follow a
        self.b = f.user("b")  # a follows b: a friend of a friend
        self.c = f.user("c")  # in both my groups
        self.d = f.user("d", skills=["Python"])  # shares a skill
        self.e = f.user("e")  # blocked me
        self.x = f.user("x")  # I blocked x
        self.g = f.user("g")  # erased
        self.h = f.user("h")  # follows me
        self.k = f.user("k", kind="guest", skills=["python"])  # a guest in my group
        self.home = f.group("Home", owner=self.me, visibility="internal")
        self.inner = f.group("Inner", owner=self.me, visibility="private")
        self.pub = f.group("Open house", visibility="public")
        self.guild = f.group("Python guild", visibility="internal")
        self.hidden = f.group("Hidden", visibility="private")
        self.quiet = f.group("Quiet", visibility="internal")

    def activities(self) -> list[StrictActivity]:
        f = self.f
        people = [self.me, self.a, self.b, self.c, self.d, self.e, self.x, self.g, self.h, self.k]
        groups = [self.home, self.inner, self.pub, self.guild, self.hidden, self.quiet]
        return [
            *people,
            *groups,
            f.join(self.me, self.home, role="owner"),
            f.join(self.me, self.inner, role="owner"),
            *(f.join(p, self.home) for p in (self.a, self.c, self.e, self.x, self.g)),
            f.add(self.me, self.home, self.k),
            f.add(self.me, self.inner, self.c),
            f.join(self.a, self.pub),
            f.join(self.a, self.hidden),
            f.follow(self.me, self.a),
            f.follow(self.a, self.b),
            f.follow(self.h, self.me),
            f.follow(self.k, self.a),
            f.block(self.e, self.me),
            f.block(self.me, self.x),
            f.erase(self.g),
        ]


@pytest.fixture
async def circle(analytics: Analytics) -> Circle:
    c = Circle()
    await analytics.send(*c.activities())
    return c


async def test_people_suggestions_explain_themselves_and_leave_out_who_they_must(
    analytics: Analytics, circle: Circle
) -> None:
    c = circle
    body = ok(await analytics.get(PEOPLE, c.tenant, uid(c.me), "member"))
    # c: 2 shared groups (4) before h: follows me (4); b: a mutual follow (3) before k: the
    # guest in my group, sharing a skill (3); d: a shared skill (1). Never me, a (followed),
    # e and x (blocked either way) or g (erased).
    assert ids(body) == [uid(p) for p in (c.c, c.h, c.b, c.k, c.d)]
    reasons = {item["user_id"]: item["reasons"] for item in body["items"]}
    assert reasons[uid(c.c)] == ["2 shared groups"]
    assert reasons[uid(c.h)] == ["follows you"]
    assert reasons[uid(c.b)] == ["1 mutual follow"]
    assert reasons[uid(c.k)] == ["1 shared group", "shared skills: python"]
    assert reasons[uid(c.d)] == ["shared skills: python"]
    rows = await get_csv(analytics, PEOPLE, c.tenant, uid(c.me), "member")
    assert_csv_matches(rows, body["items"])
    assert rows[0]["reasons"] == "2 shared groups"


async def test_a_guest_is_suggested_only_people_sharing_a_group_with_them(
    analytics: Analytics, circle: Circle
) -> None:
    c = circle
    body = ok(await analytics.get(PEOPLE, c.tenant, uid(c.k), "guest"))
    # Everyone active in Home but a (followed already); not d, though d shares a skill.
    assert ids(body)[0] == uid(c.me)  # a shared group and a shared skill
    assert set(ids(body)) == {uid(c.me), uid(c.c), uid(c.e), uid(c.x)}


async def test_group_suggestions_never_offer_private_groups_or_groups_already_joined(
    analytics: Analytics, circle: Circle
) -> None:
    c = circle
    body = ok(await analytics.get(GROUPS, c.tenant, uid(c.me), "member"))
    assert ids(body, "group_id") == [subject_id(c.pub), subject_id(c.guild)]
    assert body["items"][0]["reasons"] == ["1 person you follow is a member"]
    assert body["items"][1]["reasons"] == ["about: python"]
    rows = await get_csv(analytics, GROUPS, c.tenant, uid(c.me), "member")
    assert_csv_matches(rows, body["items"])

    guest = ok(await analytics.get(GROUPS, c.tenant, uid(c.k), "guest"))
    assert ids(guest, "group_id") == [subject_id(c.pub)]  # never internal ones
