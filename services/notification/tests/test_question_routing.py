"""Questions still unanswered after the tenant's delay are routed to up to three of their
likely answerers (docs/architecture.md §17): the rankings come over the real broker as
analytics publishes them, the test drives the scheduler's step with its own clock (the
tenant's delay is an hour, so the service's own scheduler never reaches these questions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notify_harness import Notify

from canopy_common.events import StrictActivity
from canopy_common.question_experts import (
    Expert,
    QuestionExperts,
    encode_question_experts,
    record_key,
)
from canopy_notify.adapters.live import Live
from canopy_notify.domain.routing import MAX_ATTEMPTS, RETRY_S
from canopy_notify.handlers import Notifier
from canopy_notify.metrics import notify_metrics
from canopy_notify.workers import route_questions
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

TENANT_PREFS = "/v1/notification-preferences/tenant"
DELAY = timedelta(hours=1)
ADMIN = ("admin", "tenant_admin")


def uid(person: StrictActivity) -> str:
    return user_id_of_subject(person)


def notifier(notify: Notify) -> Notifier:
    return Notifier(notify.settings, notify_metrics(), Live(notify.redis, presence_ttl_s=30))


async def routing_tenant(notify: Notify, f: ActivityFactory) -> None:
    """``f``'s tenant, routing questions after an hour (set by its admin)."""
    await notify.provision(f.tenant_id, ADMIN[0])
    response = await notify.client.put(
        TENANT_PREFS,
        headers=notify.headers(f.tenant_id, *ADMIN),
        json={"question_routing_delay_s": int(DELAY.total_seconds())},
    )
    assert response.status_code == 200, response.text


async def rank(
    notify: Notify, asker: StrictActivity, question: StrictActivity, *people: StrictActivity
) -> None:
    """Publish analytics' ranking of ``question``'s likely answerers, best first, and wait
    until notify holds it."""
    tenant, question_id = question.tenant, subject_id(question)
    record = QuestionExperts(
        tenant=tenant,
        question_id=question_id,
        asker_id=uid(asker),
        computed_at=datetime.now(UTC),
        model="test-model",
        experts=[
            Expert(
                user_id=uid(person),
                score=1.0 - n / 10,
                reason=f"Answered a similar question: “{uid(person)} knows”",
                evidence=[],
            )
            for n, person in enumerate(people)
        ],
    )
    await notify.producer.send(
        notify.settings.kafka.topic_question_experts,
        encode_question_experts(record),
        key=record_key(tenant, question_id),
    )

    async def stored() -> bool:
        found = await notify.pool.fetchval(
            "SELECT computed_at FROM question_experts WHERE tenant_id = $1 AND question_id = $2",
            tenant,
            question_id,
        )
        return bool(found == record.computed_at)

    await eventually(stored, what="the ranking stored")


async def routed(notify: Notify, tenant: str, person: StrictActivity) -> list[dict[str, Any]]:
    response = await notify.get("/v1/notifications", tenant, uid(person))
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["type"] == "question_routed"]


async def test_an_unanswered_question_tells_the_first_three_who_may_see_it_and_why(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    await routing_tenant(notify, f)
    ada, bob, cy, dee, eve = (f.user(n) for n in ("ada", "bob", "cy", "dee", "eve"))
    outsider, mia, max_ = f.user("outsider"), f.user("mia"), f.user("max")
    guest, gina = f.user("guest", kind="guest"), f.user("gina", kind="guest")
    team = f.group("Platform", owner=ada, visibility="private")
    members = (bob, cy, dee, eve, mia, max_, guest, gina)
    await notify.send(ada, outsider, *members)
    await notify.send(team, f.join(ada, team, role="owner"), *(f.join(m, team) for m in members))
    tenant, team_id = f.tenant_id, subject_id(team)
    for person, path, body in (
        (mia, f"/v1/notification-mutes/group/{team_id}", None),
        (max_, f"/v1/notification-mutes/actor/{uid(ada)}", None),
        (gina, "/v1/notification-preferences", {"categories": {"question": {"in_app": True}}}),
    ):
        done = await notify.client.put(path, headers=notify.headers(tenant, uid(person)), json=body)
        assert done.status_code == 200, done.text
    asked = datetime.now(UTC)
    question = f.post(
        ada, "How do I renew the VPN certificate?", group=team, kind="question", published=asked
    )
    await notify.send(question)
    # Best first: the asker, someone who cannot see it, a guest who did not opt in, two who
    # muted the group or the asker — then an opted-in guest and three colleagues.
    await rank(notify, ada, question, ada, outsider, guest, mia, max_, gina, bob, cy, dee)
    who = notifier(notify)

    await route_questions(notify.pool, asked + DELAY / 2, notifier=who)
    assert await routed(notify, tenant, bob) == []  # not yet
    await route_questions(notify.pool, asked + DELAY, notifier=who)
    await route_questions(notify.pool, asked + 2 * DELAY, notifier=who)  # told once only

    for person in (gina, bob, cy):
        [told] = await routed(notify, tenant, person)
        assert told["category"] == "question"
        assert told["object"]["id"] == subject_id(question)
        assert told["object"]["reason"] == f"Answered a similar question: “{uid(person)} knows”"
        assert told["text"] == (
            "Ada asked a question you may be able to answer: “How do I renew the VPN "
            f"certificate?”. Why you: Answered a similar question: “{uid(person)} knows”"
        )
    for person in (ada, outsider, guest, mia, max_, dee):  # dee: fourth who passed
        assert await routed(notify, tenant, person) == []
    guests_view = (await notify.get("/v1/notification-preferences", tenant, uid(guest))).json()
    bobs_view = (await notify.get("/v1/notification-preferences", tenant, uid(bob))).json()
    assert guests_view["categories"]["question"]["in_app"]["enabled"] is False
    assert bobs_view["categories"]["question"]["in_app"]["enabled"] is True
    unread = await notify.get("/v1/notifications/unread_count", tenant, uid(bob))
    assert unread.json() == {"count": 1}


async def test_a_question_answered_or_deleted_in_time_tells_nobody(notify: Notify) -> None:
    f = ActivityFactory()
    await routing_tenant(notify, f)
    ada, bob, cy = f.user("ada"), f.user("bob"), f.user("cy")
    asked = datetime.now(UTC)
    answered, deleted, reopened = (
        f.post(ada, f"Question {n}?", kind="question", published=asked) for n in range(3)
    )
    withdrawn = f.answer(bob, reopened, "Try turning it off and on")
    await notify.send(ada, bob, cy)
    await notify.send(answered, deleted, reopened)
    for question in (answered, deleted, reopened):
        await rank(notify, ada, question, cy)
    await notify.send(f.answer(bob, answered, "Here is how"), f.delete(ada, deleted), withdrawn)
    await notify.send(f.delete(bob, withdrawn))  # no live answer left

    await route_questions(notify.pool, asked + DELAY, notifier=notifier(notify))

    told = await routed(notify, f.tenant_id, cy)
    assert [n["object"]["id"] for n in told] == [subject_id(reopened)]


async def test_late_candidates_are_waited_for_and_routing_gives_up_after_ten_tries(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    await routing_tenant(notify, f)
    ada, bob = f.user("ada"), f.user("bob")
    asked = datetime.now(UTC)
    late = f.post(ada, "Who owns the billing service?", kind="question", published=asked)
    never = f.post(ada, "Where are the runbooks?", kind="question", published=asked)
    await notify.send(ada, bob, late, never)
    who, due = notifier(notify), asked + DELAY

    await route_questions(notify.pool, due, notifier=who)  # both re-armed
    assert await routed(notify, f.tenant_id, bob) == []
    await rank(notify, ada, late, bob)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await route_questions(notify.pool, due + attempt * timedelta(seconds=RETRY_S), notifier=who)

    [told] = await routed(notify, f.tenant_id, bob)
    assert told["object"]["id"] == subject_id(late)
    outcomes = await notify.pool.fetch(
        "SELECT question_id, outcome, attempts FROM routed_questions WHERE tenant_id = $1",
        f.tenant_id,
    )
    assert {(r["question_id"], r["outcome"], r["attempts"]) for r in outcomes} == {
        (subject_id(late), "routed", 1),
        (subject_id(never), "no_candidates", MAX_ATTEMPTS),
    }


async def test_the_delay_is_the_tenants_and_zero_routes_nothing(notify: Notify) -> None:
    f = ActivityFactory()
    await notify.provision(f.tenant_id, ADMIN[0])
    headers = notify.headers(f.tenant_id, *ADMIN)
    default = await notify.client.get(TENANT_PREFS, headers=headers)
    refusals = [
        await notify.client.put(TENANT_PREFS, headers=headers, json={"question_routing_delay_s": v})
        for v in (30, -1, 31 * 86_400, "soon")
    ]
    off = await notify.client.put(
        TENANT_PREFS, headers=headers, json={"question_routing_delay_s": 0}
    )
    ada, bob = f.user("ada"), f.user("bob")
    question = f.post(ada, "Anyone?", kind="question")
    await notify.send(ada, bob, question)

    assert default.json()["question_routing_delay_s"] == notify.settings.question_routing_delay_s
    for refused in refusals:
        assert refused.status_code == 422, refused.text
        assert "question_routing_delay_s" in refused.text
    assert off.json()["question_routing_delay_s"] == 0
    outcome = await notify.pool.fetchval(
        "SELECT outcome FROM routed_questions WHERE tenant_id = $1", f.tenant_id
    )
    assert outcome == "off"


async def test_a_record_that_is_no_ranking_is_dead_lettered_and_the_next_is_kept(
    notify: Notify,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    question = f.post(ada, "Is the VPN down?", kind="question")
    await notify.send(ada, bob, question)
    key = record_key(f.tenant_id, subject_id(question))
    topic = notify.settings.kafka.topic_question_experts

    await notify.producer.send(topic, b'{"tenant": "' + f.tenant_id.encode() + b'"}', key=key)
    await rank(notify, ada, question, bob)  # the same partition keeps flowing

    [letter] = await notify.dead_letters(key, at_least=1)
    headers = dict(letter.headers)
    assert headers["dlq.original.topic"] == topic.encode()
    assert headers["dlq.error.class"].endswith(b"InvalidQuestionExperts")
    assert b"question_id: Field required" in headers["dlq.error.message"]
