"""Discovery by meaning against the running service with the real embedding model (issue 18,
docs/architecture.md §17): experts for a text, and people and groups suggested for writing
about what the caller writes about — counting only what every employee may see, never
showing anyone the caller may not see."""

from __future__ import annotations

import pytest
from analytics_checks import assert_csv_matches, assert_problem, get_csv, ok, uid
from analytics_harness import Analytics

from canopy_testing.factories import ActivityFactory, subject_id

pytestmark = pytest.mark.integration

EXPERTS = "/v1/people/experts"
PEOPLE = "/v1/people/suggestions"
GROUPS = "/v1/groups/suggestions"
VPN = "VPN client certificate expired: how to renew it?"


async def test_experts_for_a_text_rank_open_answers_first_and_show_only_visible_people(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ivy, ana, ben, dan = f.user("ivy"), f.user("ana"), f.user("ben"), f.user("dan")
    fay, hal, eve = f.user("fay"), f.user("hal"), f.user("eve")
    gus = f.user("gus", kind="guest")
    lab = f.group("Lab", owner=fay, visibility="private")
    question = f.post(dan, "How do I renew the certificate of the VPN client?", kind="question")
    answer = f.answer(ana, question, "Request a new VPN certificate in the self-service portal.")
    await analytics.send(ivy, ana, ben, dan, fay, hal, eve, gus, lab, f.join(fay, lab))
    await analytics.send(
        question,
        answer,
        f.accept(dan, question, answer),
        f.post(ben, "Notes: renewing the VPN certificate when it expires"),
        f.post(dan, "The best pizza near the office, ranked"),
        f.post(fay, "Renewing VPN certificates in the lab", group=lab),  # private work
        f.post(hal, "How I renewed my VPN certificate"),
        f.block(hal, ivy),
        f.post(eve, "VPN certificate renewal, step by step"),
        f.erase(eve),
    )
    await analytics.settle_vectors(f.tenant_id)
    t = f.tenant_id

    body = ok(await analytics.get(EXPERTS, t, uid(ivy), "member", text=VPN))
    assert body["text"] == VPN
    assert body["topic"] is None
    people = [item["user_id"] for item in body["items"]]
    assert people[:2] == [uid(ana), uid(ben)]
    assert not {uid(fay), uid(hal), uid(eve)} & set(people)
    top = body["items"][0]
    assert top["reason"].startswith("Answer accepted on a similar question: “How do I")
    assert top["evidence"][0] == subject_id(answer)
    assert top["breakdown"]["accepted_answers"] == 1
    assert body["items"][1]["reason"].startswith("Writes about this: “Notes: renewing")
    rows = await get_csv(analytics, EXPERTS, t, uid(ivy), "member", text=VPN)
    assert_csv_matches(rows, body["items"])
    # A guest sees only people sharing a group with them: nobody here.
    assert ok(await analytics.get(EXPERTS, t, uid(gus), "member", text=VPN))["items"] == []

    for params in ({}, {"topic": "vpn", "text": VPN}):
        assert_problem(await analytics.get(EXPERTS, t, uid(ivy), "member", **params), 422)
    assert_problem(await analytics.get(EXPERTS, t, uid(ivy), "member", text=" "), 422, "text")
    assert_problem(await analytics.get(EXPERTS, t, uid(ivy), "member", text="v" * 10_000), 422)


async def test_people_and_groups_writing_about_what_you_write_about_are_suggested_with_reason(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ivy, ben, dan, fay = f.user("ivy"), f.user("ben"), f.user("dan"), f.user("fay")
    net = f.group("Network", owner=ben, visibility="public")
    food = f.group("Food", owner=dan, visibility="public")
    lab = f.group("Lab", owner=fay, visibility="private")
    await analytics.send(ivy, ben, dan, fay, net, food, lab)
    await analytics.send(
        f.join(ben, net, role="owner"),
        f.join(dan, food, role="owner"),
        f.join(fay, lab, role="owner"),
    )
    await analytics.send(
        f.post(ivy, "Our VPN certificates expire next week: renew them in the portal"),
        f.post(ben, "How to renew the VPN client certificate", group=net, visibility="public"),
        f.post(dan, "Pizza or pasta for Friday lunch?", group=food, visibility="public"),
        f.post(fay, "Renewing VPN certificates for the lab", group=lab),
    )
    await analytics.settle_vectors(f.tenant_id)
    t = f.tenant_id

    people = ok(await analytics.get(PEOPLE, t, uid(ivy), "member"))["items"]
    by_id = {p["user_id"]: p for p in people}
    assert "writes about what you write about" in by_id[uid(ben)]["reasons"]
    assert by_id[uid(ben)]["signals"]["writes_alike"] > 0
    assert uid(dan) not in by_id  # nothing in common
    assert uid(fay) not in by_id  # wrote alike, but only in a private group
    groups = ok(await analytics.get(GROUPS, t, uid(ivy), "member"))["items"]
    by_group = {g["group_id"]: g for g in groups}
    assert "its posts are close to what you write about" in by_group[subject_id(net)]["reasons"]
    assert (
        by_group.get(subject_id(food), {"signals": {"writes_alike": 0}})["signals"]["writes_alike"]
        == 0
    )
    assert subject_id(lab) not in by_group
