"""Search against the running service (issue 18, docs/architecture.md §17): posts by meaning of
their words (stemming, web search syntax), ranked and highlighted, paged and filtered; people
and groups by name; never anything the caller may not see; the tenant's search language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics_checks import assert_problem, ok, uid
from analytics_harness import Analytics

from canopy_common.activities import as_object
from canopy_common.audit_events import OutsideAction, decode_audit_event
from canopy_common.events import StrictActivity, Visibility
from canopy_testing.factories import ActivityFactory, subject_id
from canopy_testing.kafka import read_topic

pytestmark = pytest.mark.integration

SEARCH = "/v1/search"
SETTINGS = "/v1/search/settings"


async def found(
    analytics: Analytics, tenant: str, caller: StrictActivity | str, q: str, **params: Any
) -> list[str]:
    """The ids of every hit, following the cursor to the last page."""
    who = caller if isinstance(caller, str) else uid(caller)
    hits: list[str] = []
    cursor = None
    while True:
        more: dict[str, str] = {"cursor": cursor} if cursor else {}
        body = ok(await analytics.get(SEARCH, tenant, who, "member", q=q, **params, **more))
        key = {"posts": "id", "people": "user_id", "groups": "group_id"}
        hits += [item[key[params.get("type", "posts")]] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return hits


def ids(*subjects: StrictActivity) -> list[str]:
    return [subject_id(s) for s in subjects]


async def test_posts_are_found_by_stem_phrase_or_and_minus_ranked_highlighted_and_paged(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann, bob = f.user("ann"), f.user("bob")
    ops = f.group("Ops", owner=ann, visibility="internal")
    now = datetime.now(UTC)
    train = f.post(ann, "We are deploying the new release train today", hashtags=["ops"])
    checklist = f.post(
        bob,
        "How do we do a deployment to staging?",
        kind="question",
        name="Deployment checklist",
        group=ops,
        published=now - timedelta(days=60),
    )
    answer = f.answer(
        ann, checklist, "Board the release train & <b>relax</b> (a < b) and enjoy the ride"
    )
    loud = f.post(bob, "Deploy, deploy, deploy: deployments all day", kind="article", name="Deploy")
    pasta = f.post(bob, "Cooking pasta with sauce")
    fresh = f.post(ann, "kubernetes upgrade notes")
    stale = f.post(ann, "kubernetes upgrade notes", published=now - timedelta(days=90))
    await analytics.send(ann, bob, ops, f.join(ann, ops, role="owner"))
    await analytics.send(train, checklist, answer, loud, pasta, fresh, stale)
    t = f.tenant_id

    # Stemming: "deployment" finds deploying, deploy, deployments; more matches first, even
    # in an older post (the checklist names it twice, the train once).
    assert await found(analytics, t, ann, "deployment") == ids(loud, checklist, train)
    assert await found(analytics, t, ann, '"release train"') in (
        ids(answer, train),
        ids(train, answer),
    )
    assert set(await found(analytics, t, ann, "pasta OR kubernetes")) == set(
        ids(pasta, fresh, stale)
    )
    assert set(await found(analytics, t, ann, "deploy -staging")) == set(ids(loud, train))
    # Equal relevance: the newer first.
    assert await found(analytics, t, ann, "kubernetes upgrade") == ids(fresh, stale)

    body = ok(await analytics.get(SEARCH, t, uid(ann), "member", q="relax train"))
    snippet = next(i["snippet"] for i in body["items"] if i["id"] == subject_id(answer))
    assert snippet == (
        "Board the release <mark>train</mark> &amp; <mark>relax</mark> (a &lt; b) "
        "and enjoy the ride"
    )
    question = next(
        i for i in ok(await analytics.get(SEARCH, t, uid(ann), "member", q="checklist"))["items"]
    )
    assert (question["kind"], question["title"], question["group_id"]) == (
        "question",
        "Deployment checklist",
        subject_id(ops),
    )

    # Pages of one: the same order, each hit once, a Link to the next page.
    first = await analytics.get(SEARCH, t, uid(ann), "member", q="deployment", limit="1")
    assert 'rel="next"' in first.headers["link"]
    assert await found(analytics, t, ann, "deployment", limit="1") == ids(loud, checklist, train)

    # Filters.
    def only(**params: str) -> Any:
        return found(analytics, t, ann, "deployment", **params)

    assert await only(group_id=subject_id(ops)) == ids(checklist)
    assert await only(author=uid(ann)) == ids(train)
    assert await only(tag="#OPS") == ids(train)
    assert await only(kind="question") == ids(checklist)
    assert await only(since=(now - timedelta(days=1)).isoformat()) == ids(loud, train)
    assert await only(until=(now - timedelta(days=1)).isoformat()) == ids(checklist)


async def test_a_post_is_found_only_by_whom_the_visibility_rule_lets_see_it(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann, mem, emp, fol, gus, blk = (
        f.user("ann"),
        f.user("mem"),
        f.user("emp"),
        f.user("fol"),
        f.user("gus", kind="guest"),
        f.user("blk"),
    )
    lab = f.group("Lab", owner=ann, visibility="private")
    hall = f.group("Hall", owner=ann, visibility="internal")
    secret = f.post(ann, "zebra in the lab", group=lab)
    internal = f.post(ann, "zebra for employees")
    public = f.post(ann, "zebra for everyone", visibility="public")
    followers = f.post(ann, "zebra for followers", visibility="followers")
    direct = f.post(ann, "zebra for you", to=[mem], mentions=[fol])
    gone = f.post(ann, "zebra deleted")
    hall_post = f.post(ann, "zebra in the hall", group=hall, visibility="internal")
    await analytics.send(ann, mem, emp, fol, gus, blk, lab, hall)
    await analytics.send(
        f.join(ann, lab, role="owner"),
        f.join(ann, hall, role="owner"),
        f.add(ann, lab, mem),
        f.follow(fol, ann),
        f.block(ann, blk),
        secret,
        internal,
        public,
        followers,
        direct,
        gone,
        hall_post,
    )
    await analytics.send(f.delete(ann, gone))
    t = f.tenant_id

    async def sees(who: StrictActivity) -> set[str]:
        return set(await found(analytics, t, who, "zebra"))

    everyone = {subject_id(p) for p in (internal, public, hall_post)}
    assert await sees(ann) == everyone | set(ids(secret, followers, direct))
    assert await sees(mem) == everyone | set(ids(secret, direct))
    assert await sees(fol) == everyone | set(ids(followers, direct))
    assert await sees(emp) == everyone
    assert await sees(gus) == set(ids(public))
    assert await sees(blk) == set()
    await analytics.provision("other-" + t, uid(ann))  # the same id in another tenant
    assert await found(analytics, "other-" + t, ann, "zebra") == []
    missing = await analytics.get(
        SEARCH, t, uid(emp), "member", q="zebra", group_id=subject_id(lab)
    )
    assert_problem(missing, 404)

    # Changes reach the index: a member leaves, a post turns public, an edit, a group opens.
    hall_doc = as_object(hall.object)
    assert hall_doc is not None
    opened = f.update_group(ann, hall, name="Hall")
    opened = opened.model_copy(
        update={"object": hall_doc.model_copy(update={"visibility": Visibility.PUBLIC})}
    )
    await analytics.send(
        f.remove(ann, lab, mem),
        f.edit(internal, visibility="public"),
        f.edit(direct, "okapi for you"),
        opened,
    )
    assert await sees(mem) == everyone
    assert await sees(fol) == everyone | set(ids(followers))
    assert await sees(gus) == set(ids(public, internal))
    assert ids(direct) == await found(analytics, t, mem, "okapi")
    await analytics.send(f.profile_update(gus, kind="employee"))
    hall_hits = await found(analytics, t, gus, "hall")
    assert hall_hits == ids(hall_post)
    await analytics.send(f.erase(ann))
    assert await sees(emp) == set()


async def test_people_and_groups_are_found_by_name_only_when_visible(analytics: Analytics) -> None:
    f = ActivityFactory()
    me, will = f.user("me"), f.user("will", display_name="Will Smith")
    maria = f.user("mgarcia", display_name="Maria Garcia", title="SRE", skills=["Kubernetes"])
    marta = f.user("marta", display_name="Marta Gardner", department="Finance")
    left = f.user("mariaold", display_name="Maria Left")
    erased = f.user("mariax", display_name="Maria Erased")
    blocker = f.user("mariab", display_name="Maria Blocker")
    gus = f.user("gus", kind="guest")
    club = f.group("Kubernetes club", owner=maria, visibility="internal", description="k8s talk")
    lab = f.group("Kubernetes lab", owner=maria, visibility="private")
    partners = f.group("Partners", owner=marta, visibility="public")
    await analytics.send(me, will, maria, marta, left, erased, blocker, gus, club, lab, partners)
    await analytics.send(
        f.join(maria, club, role="owner"),
        f.join(maria, lab, role="owner"),
        f.join(marta, partners, role="owner"),
        f.add(marta, partners, gus),
        f.profile_update(left, active=False),
        f.erase(erased),
        f.block(blocker, me),
    )
    t = f.tenant_id

    def people(who: StrictActivity, q: str) -> Any:
        return found(analytics, t, who, q, type="people")

    def groups(who: StrictActivity, q: str) -> Any:
        return found(analytics, t, who, q, type="groups")

    assert await people(me, "maria") == [uid(maria)]
    assert await people(me, "Maria Garsia") == [uid(maria)]  # a typo: trigrams
    assert await people(me, "mgarcia") == [uid(maria)]  # the handle
    assert await people(me, "will") == [uid(will)]  # a stop word, but a name
    assert set(await people(me, "kubernetes OR finance")) == {uid(maria), uid(marta)}
    assert await people(gus, "maria") == []  # a guest: only people sharing a group
    assert await people(gus, "marta") == [uid(marta)]
    await analytics.provision("x" + t, uid(me))  # the same id in another tenant
    assert await found(analytics, "x" + t, me, "maria", type="people") == []

    assert await groups(me, "kubernetes") == [subject_id(club)]
    assert await groups(maria, "kubernetes") in (ids(club, lab), ids(lab, club))
    assert await groups(me, "k8s") == [subject_id(club)]  # the description
    assert await groups(gus, "kubernetes") == []
    assert await groups(gus, "partner") == [subject_id(partners)]
    assert await groups(me, "kubernets") == [subject_id(club)]


async def test_the_tenant_language_decides_stemming_and_is_set_by_tenant_admins(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann = f.user("ann")
    post = f.post(ann, "We are deploying today")
    await analytics.send(ann, post)
    t, me = f.tenant_id, uid(ann)
    assert ok(await analytics.get(SETTINGS, t, me, "member"))["language"] == "english"

    def put(body: dict[str, Any], *roles: str) -> Any:
        return analytics.client.put(SETTINGS, json=body, headers=analytics.headers(t, me, *roles))

    assert_problem(await put({"language": "simple"}, "member"), 403)
    assert_problem(await put({"language": "klingon"}, "tenant_admin"), 422, "klingon", "simple")
    assert_problem(await put({"language": "simple", "x": 1}, "tenant_admin"), 422)
    changed = ok(await put({"language": "simple"}, "tenant_admin"))
    assert (changed["language"], changed["updated_by"]) == ("simple", me)
    assert await found(analytics, t, ann, "deployment") == []  # no stemming in simple
    assert await found(analytics, t, ann, "deploying") == ids(post)
    later = f.post(ann, "Deploying tomorrow")  # indexed with the tenant's language
    await analytics.send(later)
    assert await found(analytics, t, ann, "deploying") in (ids(post, later), ids(later, post))

    ok(await put({"language": "english"}, "tenant_admin"))
    assert set(await found(analytics, t, ann, "deployment")) == set(ids(post, later))
    kafka = analytics.settings.kafka
    entries = [
        decode_audit_event(r.value)
        for r in await read_topic(kafka, kafka.topic_audit)
        if r.key == t.encode()
    ]
    assert [(e.action, e.details["language"]) for e in entries] == [
        (OutsideAction.SEARCH_SETTINGS, "simple"),
        (OutsideAction.SEARCH_SETTINGS, "english"),
    ]


async def test_any_query_is_answered_without_a_server_error(analytics: Analytics) -> None:
    f = ActivityFactory()
    ann = f.user("ann")
    await analytics.send(ann, f.post(ann, "Robert'); DROP TABLE posts; -- was here"))
    t, me = f.tenant_id, uid(ann)

    async def get(**params: str) -> Any:
        return await analytics.get(SEARCH, t, me, "member", **params)

    for q in ("", "   ", "x" * 10_000, "a\x00b"):
        assert_problem(await get(q=q), 422)
    assert ok(await get(q="the and of"))["items"] == []  # stop words only
    for q in ("'); DROP TABLE posts; --", '"unclosed OR -', "!!:* & | <-> ()", "\u202e\x01ok"):
        assert ok(await get(q=q))["items"] is not None
    assert len(ok(await get(q="DROP TABLE posts"))["items"]) == 1
    assert_problem(await get(q="x", type="files"), 422)
    assert_problem(await get(q="x", kind="memo"), 422)
    assert_problem(await get(q="x", type="people", tag="ops"), 422, "tag")
    assert_problem(await get(q="x", cursor="bm90IGEgY3Vyc29y"), 400)
