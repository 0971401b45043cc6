"""Every ingestion route but the provisioning ones refuses a token whose person was never
provisioned, was erased or was deactivated (403 problem+json), and shows a person of another
tenant nothing of this tenant's (docs/architecture.md §8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ingestion_harness import Api

from canopy_ingestion.app import create_app
from canopy_testing.factories import new_tenant_id
from canopy_testing.route_outages import route_calls
from canopy_testing.route_refusals import Caller, figures, try_every_route

pytestmark = pytest.mark.integration


async def test_every_route_refuses_who_may_not_act(
    api: Api, record_property: Callable[[str, object], None]
) -> None:
    here, there = new_tenant_id(), new_tenant_id()
    for tenant, people in ((here, ("bob", "eve")), (there, ("ada",))):
        admin = api.headers(tenant, "root", "platform_admin", "tenant_admin")
        assert await api.client.put(f"/v1/tenants/{tenant}", json={"name": "C"}, headers=admin)
        for person in people:
            body = {"handle": person, "display_name": person.title()}
            created = await api.client.put(f"/v1/users/{person}", json=body, headers=admin)
            assert created.status_code == 201, created.text
    erased = await api.client.delete(
        "/v1/users/eve", headers=api.headers(here, "root", "tenant_admin")
    )
    assert erased.status_code == 204, erased.text
    # Deactivated without erasure: nothing does this yet but the standing allows for it.
    await api.seed_user(here, "dan", active=False)
    bob = api.headers(here, "bob")
    group = await api.client.post(
        "/v1/groups", json={"name": "Club", "visibility": "private"}, headers=bob
    )
    post = await api.client.post("/v1/posts", json={"content": "Quarterly numbers"}, headers=bob)
    assert group.status_code == post.status_code == 201, (group.text, post.text)
    group_id, post_id = group.json()["id"], post.json()["id"]
    calls = route_calls(
        create_app(api.settings),
        path_values={
            "tenant_id": here,
            "user_id": "bob",
            "group_id": group_id,
            "tag": "numbers",
            "post_id": post_id,
            "kind": "like",
            "flag_id": post_id,
        },
        bodies={
            "PUT /v1/tenants/{tenant_id}": {"name": "Acme"},
            "PUT /v1/users/{user_id}": {"handle": "bob", "display_name": "Bob"},
            "POST /v1/groups": {"name": "Ops", "visibility": "public"},
            "PUT /v1/groups/{group_id}/members/{user_id}": {},
            "POST /v1/groups/{group_id}/invites": {"user_id": "bob"},
            "POST /v1/posts": {"content": "Hello"},
            "PATCH /v1/posts/{post_id}": {"content": "Hello again"},
            "POST /v1/posts/{post_id}/accept": {"answer_id": post_id},
            "POST /v1/posts/{post_id}/flags": {"reason": "spam"},
            "POST /v1/moderation/flags/{flag_id}/resolve": {"action": "dismiss"},
        },
    )
    callers = [
        Caller("never provisioned", here, "nobody"),
        Caller("erased", here, "eve"),
        Caller("deactivated", here, "dan"),
        Caller("other tenant", there, "ada"),
    ]

    answers = await try_every_route(api.client, api.settings.auth, calls, callers)

    print(figures("ingestion", answers))
    record_property("refusal_figures", figures("ingestion", answers))
    assert len({a.route for a in answers}) == len(calls) - 3  # the provisioning routes
    for answer in answers:
        if answer.caller.kind != "other tenant":
            assert answer.refused_as_no_member(), answer
        elif answer.status < 300:  # acting in their own tenant: nothing of this one's
            for secret in (here, group_id, post_id, "Quarterly"):
                assert secret not in answer.text, answer
        else:
            assert answer.status in (403, 404), answer
            assert answer.problem, answer
