"""Tenants and people over HTTP: provisioning, erasure, profiles, people search."""

from __future__ import annotations

from typing import Any

import pytest
from ingestion_harness import Api
from join_requests_harness import activities

from canopy_common.events import AS2Object, StrictActivity, ref_id
from canopy_common.iris import user_iri

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def obj(activity: StrictActivity) -> AS2Object:
    assert isinstance(activity.object, AS2Object)
    return activity.object


def profile(handle: str, **fields: Any) -> dict[str, Any]:
    return {"handle": handle, "display_name": handle.title(), **fields}


async def provision(api: Api, tenant: str, user: str, body: dict[str, Any]) -> Any:
    return await api.client.put(
        f"/v1/users/{user}", json=body, headers=api.headers(tenant, "hr-admin", "tenant_admin")
    )


# --- tenants --------------------------------------------------------------------------------


async def test_a_platform_admin_creates_a_tenant_then_renames_it(api: Api, tenant: str) -> None:
    admin = api.headers("platform", "root", "platform_admin")

    created = await api.client.put(f"/v1/tenants/{tenant}", json={"name": "Acme"}, headers=admin)
    again = await api.client.put(f"/v1/tenants/{tenant}", json={"name": "Acme"}, headers=admin)
    renamed = await api.client.put(
        f"/v1/tenants/{tenant}", json={"name": " Acme Corp "}, headers=admin
    )

    assert (created.status_code, again.status_code, renamed.status_code) == (201, 200, 200)
    assert renamed.json() == {"id": tenant, "name": "Acme Corp"}
    assert await api.pool.fetchval("SELECT name FROM tenants WHERE id = $1", tenant) == "Acme Corp"


async def test_only_platform_admins_provision_tenants(api: Api, tenant: str) -> None:
    response = await api.client.put(
        f"/v1/tenants/{tenant}",
        json={"name": "Acme"},
        headers=api.headers(tenant, "boss", "tenant_admin"),
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


async def test_a_tenant_id_that_cannot_be_a_token_claim_is_refused(api: Api) -> None:
    response = await api.client.put(
        "/v1/tenants/-bad id",
        json={"name": "Acme"},
        headers=api.headers("platform", "root", "platform_admin"),
    )

    assert response.status_code == 422


async def test_calls_without_a_token_are_unauthorized(api: Api, tenant: str) -> None:
    response = await api.client.put(f"/v1/tenants/{tenant}", json={"name": "Acme"})

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


# --- provisioning ---------------------------------------------------------------------------


async def test_provisioning_a_person_creates_them_and_emits_a_create_of_the_person(
    api: Api, tenant: str
) -> None:
    await api.seed_user(tenant, "boss")
    body = profile(
        "ada",
        title="Engineer",
        skills=["Python", "python", "SQL"],
        interests=["poetry"],
        manager_id="boss",
    )

    response = await provision(api, tenant, "u-ada", body)

    assert response.status_code == 201
    assert response.json() == {
        "id": "u-ada",
        "handle": "ada",
        "display_name": "Ada",
        "title": "Engineer",
        "department": None,
        "location": None,
        "skills": ["Python", "SQL"],
        "interests": ["poetry"],
        "kind": "employee",
        "manager_id": "boss",
        "email": None,
        "roles": [],
        "summary": None,
        "pronouns": None,
        "active": True,
    }
    [create] = await activities(api, tenant)
    assert create.type == "Create"
    assert create.visibility == "public"
    assert ref_id(create.actor) == user_iri(tenant, "u-ada")
    assert obj(create).type == "Person"
    assert obj(create).preferred_username == "ada"
    assert (obj(create).model_extra or {})["manager"] == user_iri(tenant, "boss")
    assert create.attributed_to == user_iri(tenant, "hr-admin")
    [row] = await api.outbox(tenant)
    assert row["key"] == f"{tenant}:u-ada"


async def test_provisioning_the_same_profile_again_changes_nothing(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "u-ada", profile("ada"))

    again = await provision(api, tenant, "u-ada", profile("ada"))

    assert again.status_code == 200
    assert len(await api.outbox(tenant)) == 1


async def test_a_changed_profile_is_updated_and_emits_an_update(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "u-ada", profile("ada"))

    changed = await provision(api, tenant, "u-ada", profile("ada", department="R&D", kind="guest"))

    assert changed.status_code == 200
    assert changed.json()["department"] == "R&D"
    _, update = await activities(api, tenant)
    assert update.type == "Update"
    assert (obj(update).model_extra or {})["department"] == "R&D"
    assert (obj(update).model_extra or {})["kind"] == "guest"


async def test_people_cannot_be_provisioned_in_a_tenant_that_does_not_exist(
    api: Api, tenant: str
) -> None:
    response = await provision(api, tenant, "u-ada", profile("ada"))

    assert response.status_code == 409
    assert "not provisioned" in response.json()["detail"]


async def test_only_tenant_admins_provision_people(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")

    response = await api.client.put(
        "/v1/users/u-bob", json=profile("bob"), headers=api.headers(tenant, "ada", "member")
    )

    assert response.status_code == 403


async def test_a_handle_is_unique_in_the_tenant_ignoring_case(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada", handle="Ada")

    response = await provision(api, tenant, "u-other", profile("ADA"))

    assert response.status_code == 409
    assert "@ADA is taken" in response.json()["detail"]


async def test_the_same_handle_is_free_in_another_tenant(
    api: Api, tenant: str, tenant_id: str
) -> None:
    other = f"{tenant}x"
    await api.seed_user(other, "ada", handle="ada")
    await api.seed_tenant(tenant)

    response = await provision(api, tenant, "ada", profile("ada"))

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("handle", "reason"),
    [("ad\u202ea", "bidirectional control"), ("ada lovelace", "only letters"), ("", "empty")],
)
async def test_a_bad_handle_is_refused_naming_the_field(
    api: Api, tenant: str, handle: str, reason: str
) -> None:
    await api.seed_tenant(tenant)

    response = await provision(api, tenant, "u-ada", profile(handle))

    assert response.status_code == 422
    assert response.json()["field"] == "handle"
    assert reason in response.json()["detail"]
    assert await api.outbox(tenant) == []


async def test_a_manager_must_be_an_active_person_of_the_tenant(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "gone", active=False)

    unknown = await provision(api, tenant, "u-ada", profile("ada", manager_id="nobody"))
    inactive = await provision(api, tenant, "u-ada", profile("ada", manager_id="gone"))
    themselves = await provision(api, tenant, "u-ada", profile("ada", manager_id="u-ada"))

    assert [unknown.status_code, inactive.status_code, themselves.status_code] == [422] * 3


async def test_an_unknown_kind_is_refused(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)

    response = await provision(api, tenant, "u-ada", profile("ada", kind="robot"))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


# --- erasure --------------------------------------------------------------------------------


async def test_deleting_a_person_erases_them_their_relations_and_emits_a_delete(
    api: Api, tenant: str
) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada", profile("ada", title="Engineer", skills=["python"]))
    await provision(api, tenant, "bob", profile("bob", manager_id="ada"))
    await api.seed_group(tenant, "g1", owner="bob")
    await api.seed_member(tenant, "g1", "ada")
    for table, columns in [
        ("follows", "follower_id, followee_id"),
        ("blocks", "blocker_id, blocked_id"),
        ("mutes", "user_id, muted_id"),
    ]:
        await api.pool.execute(
            f"INSERT INTO {table} (tenant_id, {columns}) "
            "VALUES ($1, 'ada', 'bob'), ($1, 'bob', 'ada')",
            tenant,
        )
    await api.pool.execute(
        "INSERT INTO tag_follows (tenant_id, user_id, tag) VALUES ($1, 'ada', 'python')", tenant
    )

    response = await api.client.delete(
        "/v1/users/ada", headers=api.headers(tenant, "hr-admin", "tenant_admin")
    )

    assert response.status_code == 204
    row = await api.pool.fetchrow("SELECT * FROM users WHERE tenant_id = $1 AND id = 'ada'", tenant)
    assert row is not None
    assert (row["active"], row["display_name"], row["title"], row["skills"]) == (
        False,
        "Deleted user",
        None,
        [],
    )
    for table in ("memberships", "follows", "blocks", "mutes", "tag_follows"):
        left = await api.pool.fetch(f"SELECT * FROM {table} WHERE tenant_id = $1", tenant)
        assert [r for r in left if "ada" in dict(r).values()] == [], table
    *_, delete, report_update = await activities(api, tenant)
    assert delete.type == "Delete"
    assert ref_id(delete.actor) == user_iri(tenant, "ada")
    assert (obj(delete).type, obj(delete).id) == ("Tombstone", user_iri(tenant, "ada"))
    assert (obj(delete).model_extra or {})["formerType"] == "Person"
    assert b"Engineer" not in (await api.outbox(tenant))[-2]["payload"]
    assert report_update.type == "Update"
    assert ref_id(report_update.actor) == user_iri(tenant, "bob")
    assert "manager" not in (obj(report_update).model_extra or {})


async def test_deleting_an_erased_or_unknown_person_is_not_found(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")
    admin = api.headers(tenant, "hr-admin", "tenant_admin")
    await api.client.delete("/v1/users/ada", headers=admin)

    again = await api.client.delete("/v1/users/ada", headers=admin)
    unknown = await api.client.delete("/v1/users/nobody", headers=admin)

    assert (again.status_code, unknown.status_code) == (404, 404)
    assert len(await api.outbox(tenant)) == 1


async def test_only_tenant_admins_delete_people(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")
    await api.seed_user(tenant, "bob")

    response = await api.client.delete("/v1/users/bob", headers=api.headers(tenant, "ada"))

    assert response.status_code == 403


async def test_an_erased_person_provisioned_again_is_created_anew(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")
    await api.client.delete("/v1/users/ada", headers=api.headers(tenant, "hr", "tenant_admin"))

    again = await provision(api, tenant, "ada", profile("ada"))

    assert again.status_code == 201
    assert [a.type for a in await activities(api, tenant)] == ["Delete", "Create"]


async def test_an_erased_person_can_no_longer_act(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")
    await api.client.delete("/v1/users/ada", headers=api.headers(tenant, "hr", "tenant_admin"))

    response = await api.client.get("/v1/users/ada", headers=api.headers(tenant, "ada"))

    assert response.status_code == 403


# --- profiles -------------------------------------------------------------------------------


async def test_any_person_of_the_tenant_reads_a_profile(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada", skills=["python"])
    await api.seed_user(tenant, "bob")

    response = await api.client.get("/v1/users/ada", headers=api.headers(tenant, "bob"))

    assert response.status_code == 200
    assert response.json()["skills"] == ["python"]


async def test_another_tenants_person_is_not_found(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "bob")
    await api.seed_user(f"{tenant}x", "eve")

    response = await api.client.get("/v1/users/eve", headers=api.headers(tenant, "bob"))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


async def test_a_caller_who_is_not_a_provisioned_person_is_forbidden(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada")

    response = await api.client.get("/v1/users/ada", headers=api.headers(tenant, "stranger"))

    assert response.status_code == 403


async def test_a_guest_sees_only_people_they_share_a_group_with(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "gus", kind="guest")
    await api.seed_user(tenant, "ada")
    await api.seed_user(tenant, "bob")
    await api.seed_group(tenant, "g1", owner="ada", visibility="private")
    await api.seed_member(tenant, "g1", "gus")
    guest = api.headers(tenant, "gus", "guest")

    shared = await api.client.get("/v1/users/ada", headers=guest)
    stranger = await api.client.get("/v1/users/bob", headers=guest)
    themselves = await api.client.get("/v1/users/gus", headers=guest)

    assert (shared.status_code, stranger.status_code, themselves.status_code) == (200, 404, 200)


# --- search ---------------------------------------------------------------------------------


async def seed_people(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    for user, body in {
        "ada": profile("ada", display_name="Ada Lovelace", skills=["Python"], department="R&D"),
        "bob": profile("bob", display_name="Bob Babbage", skills=["python", "go"]),
        "cy": profile("cy", display_name="Cy Engine", title="Engineer"),
        "dee": profile("dee", display_name="Dee 100%_done", skills=["rust"]),
    }.items():
        assert (await provision(api, tenant, user, body)).status_code == 201


async def search(api: Api, tenant: str, user: str = "ada", **params: Any) -> Any:
    response = await api.client.get("/v1/users", params=params, headers=api.headers(tenant, user))
    assert response.status_code == 200, response.text
    return response.json()


async def test_people_search_matches_skill_exactly_ignoring_case(api: Api, tenant: str) -> None:
    await seed_people(api, tenant)

    found = await search(api, tenant, skill="PYTHON")

    assert [p["id"] for p in found["items"]] == ["ada", "bob"]


async def test_people_search_matches_text_in_handle_name_title_and_department(
    api: Api, tenant: str
) -> None:
    await seed_people(api, tenant)

    assert [p["id"] for p in (await search(api, tenant, q="ENGINE"))["items"]] == ["cy"]
    assert [p["id"] for p in (await search(api, tenant, q="r&d"))["items"]] == ["ada"]
    assert [p["id"] for p in (await search(api, tenant, q="bab"))["items"]] == ["bob"]
    assert [p["id"] for p in (await search(api, tenant, q="0%_"))["items"]] == ["dee"]
    assert [p["id"] for p in (await search(api, tenant, q="%"))["items"]] == ["dee"]


async def test_people_search_pages_with_a_cursor(api: Api, tenant: str) -> None:
    await seed_people(api, tenant)

    first = await search(api, tenant, limit=3)
    second = await search(api, tenant, limit=3, cursor=first["next_cursor"])

    assert [p["id"] for p in first["items"]] == ["ada", "bob", "cy"]
    assert [p["id"] for p in second["items"]] == ["dee"]
    assert second["next_cursor"] is None


async def test_people_search_leaves_out_inactive_people_and_other_tenants(
    api: Api, tenant: str
) -> None:
    await seed_people(api, tenant)
    await api.seed_user(tenant, "gone", active=False, skills=["python"])
    await api.seed_user(f"{tenant}x", "eve", skills=["python"])

    found = await search(api, tenant, skill="python")

    assert [p["id"] for p in found["items"]] == ["ada", "bob"]


async def test_a_guest_finds_only_people_they_share_a_group_with(api: Api, tenant: str) -> None:
    await seed_people(api, tenant)
    await api.seed_user(tenant, "gus", kind="guest", skills=["python"])
    await api.seed_group(tenant, "g1", owner="bob")
    await api.seed_member(tenant, "g1", "gus")

    found = await search(api, tenant, user="gus", skill="python")

    assert [p["id"] for p in found["items"]] == ["bob", "gus"]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": "101"}, 422), ({"limit": "0"}, 422), ({"cursor": "nonsense!"}, 400)],
)
async def test_people_search_refuses_a_bad_limit_or_cursor(
    api: Api, tenant: str, params: dict[str, str], status: int
) -> None:
    await api.seed_user(tenant, "ada")

    response = await api.client.get("/v1/users", params=params, headers=api.headers(tenant, "ada"))

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
