"""Leavers keep their knowledge (docs/architecture.md §16): a tenant admin (or HR, upstream)
deactivates a person, who may no longer act and leaves people search, while their posts stay
readable and show them as a former colleague; reactivation restores it all; erasure stays
the separate DELETE."""

from __future__ import annotations

from typing import Any

import pytest
from ingestion_harness import Api
from upstream_harness import person_doc, published, send

from canopy_common.events import AS2Object, StrictActivity, decode_activity
from canopy_common.iris import user_iri
from canopy_common.kafka import Producer
from canopy_testing.factories import new_tenant_id
from canopy_testing.system import upstream_activity

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def company(api: Api, tenant: str, *people: str) -> None:
    """The tenant with its admin ``root`` and ``people``, provisioned over HTTP."""
    platform = api.headers(tenant, "platform", "platform_admin")
    made = await api.client.put(f"/v1/tenants/{tenant}", json={"name": "C"}, headers=platform)
    assert made.status_code == 201, made.text
    for user in ("root", *people):
        body = {"handle": user, "display_name": user.title()}
        created = await api.client.put(f"/v1/users/{user}", json=body, headers=admin(api, tenant))
        assert created.status_code == 201, created.text


def admin(api: Api, tenant: str) -> dict[str, str]:
    return api.headers(tenant, "root", "tenant_admin")


async def standing(api: Api, tenant: str, user: str, verb: str) -> Any:
    return await api.client.post(f"/v1/users/{user}/{verb}", headers=admin(api, tenant))


async def person_updates(api: Api, tenant: str, user: str) -> list[AS2Object]:
    """The Person of each Update published about ``user``, oldest first."""
    found = []
    for row in await api.outbox(tenant):
        activity: StrictActivity = decode_activity(row["payload"])
        obj = activity.object
        if isinstance(obj, AS2Object) and (activity.type, obj.id) == (
            "Update",
            user_iri(tenant, user),
        ):
            found.append(obj)
    return found


async def audited(api: Api, tenant: str, action: str) -> list[str]:
    rows = await api.pool.fetch(
        "SELECT target FROM audit_log WHERE tenant_id = $1 AND action = $2 ORDER BY seq",
        tenant,
        action,
    )
    return [row["target"] for row in rows]


async def test_a_deactivated_leaver_cannot_act_leaves_search_and_their_post_stays_theirs(
    api: Api, tenant: str
) -> None:
    await company(api, tenant, "mateo", "nadia")
    mateo, nadia = api.headers(tenant, "mateo"), api.headers(tenant, "nadia")
    answer = await api.client.post("/v1/posts", json={"content": "Use the v2 API"}, headers=mateo)
    assert answer.status_code == 201, answer.text

    first = await standing(api, tenant, "mateo", "deactivate")
    again = await standing(api, tenant, "mateo", "deactivate")

    assert (first.status_code, again.status_code) == (200, 200), first.text
    assert first.json()["active"] is False
    assert first.json()["handle"] == "mateo"
    [update] = await person_updates(api, tenant, "mateo")  # the second changed nothing
    assert update.active is False
    assert await audited(api, tenant, "user.deactivate") == ["mateo"]
    refused = await api.client.get("/v1/users/nadia", headers=mateo)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    read = await api.client.get(f"/v1/posts/{answer.json()['id']}", headers=nadia)
    assert read.status_code == 200, read.text
    assert read.json()["attributedTo"]["active"] is False  # a former colleague's answer
    found = await api.client.get("/v1/users", params={"q": "mat"}, headers=nadia)
    assert found.json()["items"] == []
    former = {"former": "true"}
    listed = await api.client.get("/v1/users", params=former, headers=admin(api, tenant))
    assert [p["id"] for p in listed.json()["items"]] == ["mateo"]  # to reactivate him
    refused = await api.client.get("/v1/users", params=former, headers=nadia)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    profile = await api.client.get("/v1/users/mateo", headers=nadia)
    assert (profile.status_code, profile.json()["active"]) == (200, False)
    mention = await api.client.post(
        "/v1/posts", json={"content": "Ask @mateo about it"}, headers=nadia
    )
    assert "tag" not in mention.json()  # nobody to mention, so nobody told
    follow = await api.client.put("/v1/follows/mateo", headers=nadia)
    assert follow.status_code == 404  # not someone to follow any more

    back = await standing(api, tenant, "mateo", "reactivate")

    assert (back.status_code, back.json()["active"]) == (200, True)
    assert [u.active for u in await person_updates(api, tenant, "mateo")] == [False, True]
    assert await audited(api, tenant, "user.reactivate") == ["mateo"]
    assert (await api.client.get("/v1/users/nadia", headers=mateo)).status_code == 200
    found = await api.client.get("/v1/users", params={"q": "mat"}, headers=nadia)
    assert [p["id"] for p in found.json()["items"]] == ["mateo"]
    listed = await api.client.get("/v1/users", params=former, headers=admin(api, tenant))
    assert listed.json()["items"] == []
    read = await api.client.get(f"/v1/posts/{answer.json()['id']}", headers=nadia)
    assert "active" not in read.json()["attributedTo"]


async def test_only_tenant_admins_deactivate_and_erasure_stays_separate_and_final(
    api: Api, tenant: str
) -> None:
    other = new_tenant_id()
    await company(api, tenant, "mateo", "nadia", "eve")
    await company(api, other, "olga")

    member = await api.client.post(
        "/v1/users/mateo/deactivate", headers=api.headers(tenant, "nadia")
    )
    unknown = await standing(api, tenant, "nobody", "deactivate")
    elsewhere = await standing(api, tenant, "olga", "reactivate")

    assert member.status_code == 403
    assert unknown.status_code == elsewhere.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    erased = await api.client.delete("/v1/users/eve", headers=admin(api, tenant))
    assert erased.status_code == 204
    assert (await standing(api, tenant, "eve", "deactivate")).status_code == 404
    reactivated = await standing(api, tenant, "eve", "reactivate")
    assert reactivated.status_code == 409
    assert "erased" in reactivated.json()["detail"]
    assert (await standing(api, tenant, "mateo", "deactivate")).status_code == 200
    assert (
        await api.client.delete("/v1/users/mateo", headers=admin(api, tenant))
    ).status_code == 204
    row = await api.pool.fetchrow(
        "SELECT active, erased, display_name FROM users WHERE tenant_id = $1 AND id = 'mateo'",
        tenant,
    )
    assert row is not None
    assert (row["active"], row["erased"], row["display_name"]) == (False, True, "Deleted user")


async def test_hr_deactivates_with_active_false_keeps_it_through_changes_and_reactivates(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    await api.seed_user(tenant, "mateo", handle="mateo")

    def update(**profile: Any) -> dict[str, Any]:
        return upstream_activity(
            tenant, hr, "Update", person_doc(tenant, "mateo", "mateo", **profile)
        )

    await send(upstream, api, tenant, update(active=False))
    await send(upstream, api, tenant, update(department="Alumni"))  # says nothing of standing
    left = await api.pool.fetchrow(
        "SELECT active, erased, department FROM users WHERE tenant_id = $1 AND id = 'mateo'",
        tenant,
    )
    await send(upstream, api, tenant, update(active=True))

    assert left is not None
    assert (left["active"], left["erased"], left["department"]) == (False, False, "Alumni")
    back = await api.pool.fetchval(
        "SELECT active FROM users WHERE tenant_id = $1 AND id = 'mateo'", tenant
    )
    assert back is True
    people = [a.object for a in await published(api, tenant)]
    assert [(p.active, p.department) for p in people] == [
        (False, None),
        (False, "Alumni"),
        (True, None),  # HR sends the whole profile: this one has no department
    ]
    assert await audited(api, tenant, "user.deactivate") == ["mateo"]
    assert await audited(api, tenant, "user.reactivate") == ["mateo"]
