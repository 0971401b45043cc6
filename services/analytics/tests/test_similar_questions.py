"""Similar questions and the vectors behind them, against the running service with the real
embedding model (issue 18, docs/architecture.md §17): questions worded differently find each
other, answered and accepted ones say so; nobody finds what they may not see; an edit embeds
again, a delete and an erasure remove; a new question's likely answerers are published."""

from __future__ import annotations

from typing import Any

import pytest
from analytics_checks import assert_problem, ok, uid
from analytics_harness import Analytics

from canopy_common.events import StrictActivity
from canopy_common.question_experts import decode_question_experts
from canopy_testing.factories import ActivityFactory, subject_id
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

SIMILAR = "/v1/questions/similar"

VPN = "How do I renew the certificate for the VPN client?"
LEAVE = "What is the process to request parental leave?"
SALES = "Where can I find the quarterly sales figures?"
DECOYS = (
    "Which pizza place near the office delivers at lunch?",
    "How do I book a meeting room for ten people?",
    "Which laptop should a new developer order?",
)


async def similar(
    analytics: Analytics, tenant: str, caller: StrictActivity | str, text: str, **params: Any
) -> list[dict[str, Any]]:
    who = caller if isinstance(caller, str) else uid(caller)
    items: list[dict[str, Any]] = ok(
        await analytics.get(SIMILAR, tenant, who, "member", text=text, **params)
    )["items"]
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


async def test_paraphrased_questions_find_each_other_with_answered_and_accepted_marked(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann, bob, cid = f.user("ann"), f.user("bob"), f.user("cid")
    vpn = f.post(ann, VPN, kind="question")
    leave = f.post(bob, LEAVE, kind="question", name="Parental leave")
    sales = f.post(ann, SALES, kind="question")
    decoys = [f.post(bob, text, kind="question") for text in DECOYS]
    answer = f.answer(cid, vpn, "Open the self-service portal and request a new one.")
    other = f.answer(bob, leave, "Ask HR.")
    await analytics.send(ann, bob, cid)
    await analytics.send(vpn, leave, sales, *decoys, answer, other, f.accept(ann, vpn, answer))
    await analytics.settle_vectors(f.tenant_id)
    t = f.tenant_id

    # Worded differently, sharing (almost) no words: each finds its question first.
    for text, wanted in (
        ("My remote access connection says the security credential has expired", vpn),
        ("Can I take time off work after my baby is born?", leave),
        ("Looking for the revenue numbers of the last three months", sales),
    ):
        found = await similar(analytics, t, cid, text)
        assert ids(found)[:1] == [subject_id(wanted)], (text, found)
    found = await similar(analytics, t, cid, "VPN certificate renewal")
    first = found[0]
    assert (first["id"], first["answered"], first["accepted"]) == (subject_id(vpn), True, True)
    assert first["author"]["id"] == uid(ann)
    assert first["author"]["name"] == "Ann"
    assert 0 < first["score"] <= 1
    assert [i["score"] for i in found] == sorted((i["score"] for i in found), reverse=True)
    on_leave = (await similar(analytics, t, cid, "parental leave request"))[0]
    assert on_leave["title"] == "Parental leave"
    assert (on_leave["answered"], on_leave["accepted"]) == (True, False)
    assert on_leave["snippet"] == LEAVE
    assert len(await similar(analytics, t, cid, "renew VPN certificate", limit=1)) == 1

    # Deleting the accepted answer: still answered? No live answer is left.
    await analytics.send(f.delete(cid, answer))
    found = await similar(analytics, t, cid, "VPN certificate renewal")
    assert (found[0]["answered"], found[0]["accepted"]) == (False, False)


async def test_similar_questions_show_only_questions_the_caller_may_see(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann, bob, gus = f.user("ann"), f.user("bob"), f.user("gus", kind="guest")
    eve = f.user("eve")  # blocked by the caller
    lab = f.group("Lab", owner=ann, visibility="private")
    ops = f.group("Ops", owner=ann, visibility="public")
    in_lab = f.post(ann, VPN, kind="question", group=lab)
    internal = f.post(ann, VPN + " (internal)", kind="question")
    public = f.post(ann, VPN + " (public)", kind="question", group=ops, visibility="public")
    blocked = f.post(eve, VPN + " (from eve)", kind="question", group=ops, visibility="public")
    deleted = f.post(ann, VPN + " (deleted)", kind="question", group=ops, visibility="public")
    await analytics.send(ann, bob, gus, eve, lab, ops)
    await analytics.send(
        f.join(ann, lab, role="owner"),
        f.join(ann, ops, role="owner"),
        f.join(gus, ops),
        f.block(bob, eve),
    )
    await analytics.send(in_lab, internal, public, blocked, deleted, f.delete(ann, deleted))
    await analytics.settle_vectors(f.tenant_id)
    t, text = f.tenant_id, "renew VPN certificate"

    assert set(ids(await similar(analytics, t, ann, text))) == {
        subject_id(q) for q in (in_lab, internal, public, blocked)
    }
    # bob: not in the private group, blocked eve; gus, a guest: public only.
    assert set(ids(await similar(analytics, t, bob, text))) == {
        subject_id(internal),
        subject_id(public),
    }
    assert set(ids(await similar(analytics, t, gus, text))) == {
        subject_id(public),
        subject_id(blocked),
    }
    await analytics.provision("other-tenant", uid(ann))
    assert await similar(analytics, "other-tenant", uid(ann), text) == []


async def test_an_edit_embeds_again_and_a_delete_or_an_erasure_removes_the_vector(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann, bob = f.user("ann"), f.user("bob")
    question = f.post(ann, "Which pizza place near the office delivers at lunch?", kind="question")
    note = f.post(bob, "Notes on the VPN certificate renewal")
    await analytics.send(ann, bob, question, note)
    await analytics.settle_vectors(f.tenant_id)
    t = f.tenant_id

    async def stored(post: StrictActivity) -> tuple[int, bool] | None:
        row = await analytics.pool.fetchrow(
            "SELECT text_version, vector IS NOT NULL AS live FROM post_vectors "
            "WHERE tenant_id = $1 AND object_id = $2",
            t,
            subject_id(post),
        )
        return None if row is None else (row["text_version"], row["live"])

    assert await stored(question) == (1, True)
    assert await similar(analytics, t, bob, VPN) == []
    await analytics.send(f.edit(question, VPN))
    await analytics.settle_vectors(t)
    assert await stored(question) == (2, True)
    assert ids(await similar(analytics, t, bob, "renew VPN certificate")) == [subject_id(question)]

    await analytics.send(f.delete(ann, question), f.erase(bob))
    await analytics.settle_vectors(t)
    assert await stored(question) == (3, False)
    assert await stored(note) == (2, False)
    assert await similar(analytics, t, uid(ann), "renew VPN certificate") == []


async def test_a_new_question_publishes_its_likely_answerers_never_the_asker(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann, bob, cid, dan = f.user("ann"), f.user("bob"), f.user("cid"), f.user("dan")
    old = f.post(ann, "How do I renew the certificate of the VPN client?", kind="question")
    answer = f.answer(bob, old, "Request a new VPN certificate in the self-service portal.")
    dans = f.post(dan, "The best pizza near the office, ranked")
    await analytics.send(ann, bob, cid, dan)
    await analytics.send(old, answer, f.accept(ann, old, answer), dans)
    await analytics.settle_vectors(f.tenant_id)
    # ann asks again, in other words; her own earlier question must not make her an expert.
    new = f.post(
        ann, "My VPN client says its certificate expired: how do I get a new one?", kind="question"
    )
    await analytics.send(new)
    kafka = analytics.settings.kafka

    async def published() -> list[Any]:
        records = await read_topic(kafka, kafka.topic_question_experts)
        return [
            decode_question_experts(r.key, r.value)
            for r in records
            if r.key == f"{f.tenant_id}:{subject_id(new)}".encode()
        ]

    records = await eventually(published, what="the new question's likely answerers")
    assert len(records) == 1
    record = records[0]
    assert (record.asker_id, record.question_id) == (uid(ann), subject_id(new))
    experts = [e.user_id for e in record.experts]
    assert experts[:1] == [uid(bob)]
    assert uid(ann) not in experts
    assert uid(dan) not in experts
    assert record.experts[0].reason.startswith("Answer accepted on a similar question")
    assert subject_id(answer) in record.experts[0].evidence


async def test_bad_text_is_a_clear_422_and_odd_text_is_answered(analytics: Analytics) -> None:
    f = ActivityFactory()
    ann = f.user("ann")
    await analytics.send(ann)
    t, me = f.tenant_id, uid(ann)
    for text in ("", "   \t "):
        assert_problem(await analytics.get(SIMILAR, t, me, "member", text=text), 422, "text")
    assert_problem(await analytics.get(SIMILAR, t, me, "member", text="x" * 10_000), 422, "2000")
    assert_problem(await analytics.get(SIMILAR, t, me, "member", text="vpn", limit=21), 422)
    for text in ("'; DROP TABLE posts; --", '"quoted" OR 1=1 -minus', "ü" * 2000, "<b>x</b>"):
        assert ok(await analytics.get(SIMILAR, t, me, "member", text=text))["items"] == []
