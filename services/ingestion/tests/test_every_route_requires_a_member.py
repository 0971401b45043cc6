"""Every ingestion route but the provisioning ones refuses a token whose person was never
provisioned, was erased or was deactivated (403 problem+json), and shows a person of another
tenant nothing of this tenant's (docs/architecture.md §8)."""

from __future__ import annotations

import pytest
from ingestion_harness import Api, route_bodies

from canopy_ingestion.app import create_app
from canopy_testing.factories import new_tenant_id
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import route_calls
from canopy_testing.route_refusals import try_every_route, who_may_not_act

pytestmark = pytest.mark.integration


async def test_every_route_refuses_who_may_not_act(api: Api, report_figures: ReportFigures) -> None:
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
    await api.seed_user(here, "dan")
    deactivated = await api.client.post(
        "/v1/users/dan/deactivate", headers=api.headers(here, "bob", "tenant_admin")
    )
    assert deactivated.status_code == 200, deactivated.text
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
            "thread_id": post_id,
        },
        query_values={"id": "bob"},
        bodies=route_bodies(answer_id=post_id),
    )
    callers = who_may_not_act(
        here, erased="eve", deactivated="dan", other_tenant=there, other="ada"
    )

    tried = await try_every_route(api.client, api.settings.auth, calls, callers)

    report_figures("refusal_figures", tried.figures("ingestion"))
    assert len(tried.routes) == len(calls) - 3  # the provisioning routes
    assert not tried.let_through(), tried.let_through()
    for answer in tried.of_other_tenant():
        if answer.status < 300:  # acting in their own tenant: nothing of this one's
            for secret in (here, group_id, post_id, "Quarterly"):
                assert secret not in answer.text, answer
        else:
            assert answer.status in (403, 404), answer
            assert answer.problem, answer
