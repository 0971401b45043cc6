"""Knowledge found again, across the whole system, through HTTP only: a question asked in other
words finds its answered twin (analytics' vectors), a word finds its stemmed forms (analytics'
full-text index), and the new question, left unanswered for the tenant's delay, reaches the
person who answered its twin (analytics ranks, notify tells them why) — never the asker, never
someone whose words are about something else.

The tenant's delay is the least notify allows (60 s): the test waits that minute, with the
system started exactly as ``make up`` starts it (no setting changed).
"""

from __future__ import annotations

from typing import Any

import pytest

from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

DELAY_S = 60  # the shortest routing delay a tenant may set (notify's MIN_DELAY_S)
TWIN = "How do I get access to the staging Kubernetes cluster?"
ASKED_AGAIN = "Who can give me credentials for the pre-production container platform?"


async def test_a_reworded_question_finds_its_twin_and_reaches_who_answered_it(
    canopy: SystemClient, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", "bo", "cy", "di")
    delay = await canopy.call(
        "notify",
        "PUT",
        "/v1/notification-preferences/tenant",
        t,
        "ada",
        "tenant_admin",
        json={"question_routing_delay_s": DELAY_S},
    )
    assert delay["question_routing_delay_s"] == DELAY_S

    # Bo asked before; Cy answered and Bo accepted it. Di writes about something else.
    twin = await canopy.post(t, "bo", TWIN, kind="question")
    answer = await canopy.post(
        t,
        "cy",
        "Request the staging-dev group in Okta, then run make kubeconfig in the infra repo.",
        kind="answer",
        in_reply_to=twin["id"],
    )
    await canopy.call(
        "ingestion",
        "POST",
        f"/v1/posts/{twin['id']}/accept",
        t,
        "bo",
        json={"answer_id": answer["id"]},
    )
    await canopy.post(t, "di", "Our team lunch moves to the rooftop terrace on Friday.")
    await canopy.post(t, "di", "Deploying the billing service needs two approvals from now on.")

    async def similar() -> list[dict[str, Any]]:
        page = await canopy.call(
            "analytics", "GET", "/v1/questions/similar", t, "ada", params={"text": ASKED_AGAIN}
        )
        items: list[dict[str, Any]] = page["items"]
        return items if items and items[0]["accepted"] else []

    # While Ada types, the answered twin is offered, though the two share no content word.
    [first, *_] = await eventually(similar, what="the twin among similar questions")
    assert (first["id"], first["answered"], first["accepted"]) == (twin["id"], True, True)

    async def deployment() -> list[dict[str, Any]]:
        page = await canopy.call(
            "analytics", "GET", "/v1/search", t, "ada", params={"q": "deployment approval"}
        )
        return list(page["items"])

    [found] = await eventually(deployment, what="the stemmed search")
    assert "<mark>Deploying</mark>" in found["snippet"]

    # Ada asks anyway; nobody answers within the tenant's delay.
    asked = await canopy.post(t, "ada", ASKED_AGAIN, kind="question")

    async def routed(user: str) -> list[dict[str, Any]]:
        return [
            n
            for n in await canopy.notifications(t, user)
            if n["type"] == "question_routed" and n["object"]["id"] == asked["id"]
        ]

    [told] = await eventually(
        lambda: routed("cy"), what="the routed question", timeout_s=DELAY_S + 30
    )
    assert "Why you:" in told["text"]
    # Why Cy: the question their answer was accepted on, though the answer shares no word.
    assert told["object"]["reason"] == f"Answer accepted on a similar question: “{TWIN}”"
    for not_told in ("ada", "di"):  # the asker; someone who writes about other things
        assert await routed(not_told) == []
