"""A person's e-mail address and tenant roles over HTTP: provisioned by a tenant admin,
validated, kept or cleared, erased, and carried by the Person in every profile activity."""

from __future__ import annotations

from typing import Any

import pytest
from ingestion_harness import Api

from canopy_common.events import AS2Object, StrictActivity, decode_activity

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def activities(api: Api, tenant: str) -> list[StrictActivity]:
    return [decode_activity(row["payload"]) for row in await api.outbox(tenant)]


def person_of(activity: StrictActivity) -> dict[str, Any]:
    assert isinstance(activity.object, AS2Object)
    return activity.object.model_extra or {}


def profile(handle: str, **fields: Any) -> dict[str, Any]:
    return {"handle": handle, "display_name": handle.title(), **fields}


async def provision(api: Api, tenant: str, user: str, body: dict[str, Any]) -> Any:
    return await api.client.put(
        f"/v1/users/{user}", json=body, headers=api.headers(tenant, "hr-admin", "tenant_admin")
    )


async def test_a_person_is_provisioned_with_an_email_address_and_roles(
    api: Api, tenant: str
) -> None:
    await api.seed_tenant(tenant)
    body = profile(
        "mo", email=" Mo.Reyes@Example.COM ", roles=["moderator", "analyst", "moderator"]
    )

    response = await provision(api, tenant, "u-mo", body)
    shown = await api.client.get("/v1/users/u-mo", headers=api.headers(tenant, "u-mo"))

    assert response.status_code == 201
    assert (response.json()["email"], response.json()["roles"]) == (
        "Mo.Reyes@example.com",
        ["analyst", "moderator"],
    )
    assert shown.json() == response.json() | {"manager": None, "reports": [], "reports_total": 0}
    [create] = await activities(api, tenant)
    assert person_of(create)["email"] == "Mo.Reyes@example.com"
    assert person_of(create)["roles"] == ["analyst", "moderator"]
    assert create.actor == create.object  # the Person is the actor too


async def test_a_person_without_email_or_roles_publishes_neither(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)

    response = await provision(api, tenant, "u-ada", profile("ada"))

    assert (response.json()["email"], response.json()["roles"]) == (None, [])
    [create] = await activities(api, tenant)
    assert "email" not in person_of(create)
    assert "roles" not in person_of(create)


@pytest.mark.parametrize(
    "email", ["ada", "ada@example", "ada@exa mple.com", "ada@example.com\u202e", "@example.com"]
)
async def test_an_implausible_email_address_is_refused(api: Api, tenant: str, email: str) -> None:
    await api.seed_tenant(tenant)

    response = await provision(api, tenant, "u-ada", profile("ada", email=email))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "email"
    assert await api.outbox(tenant) == []


@pytest.mark.parametrize("role", ["platform_admin", "member", "guest", "overlord", "Moderator"])
async def test_a_role_a_person_may_not_hold_is_refused(api: Api, tenant: str, role: str) -> None:
    await api.seed_tenant(tenant)

    response = await provision(api, tenant, "u-ada", profile("ada", roles=["analyst", role]))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "roles"
    assert role in response.json()["detail"]
    assert await api.outbox(tenant) == []


async def test_a_guest_holds_no_tenant_roles(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)

    response = await provision(
        api, tenant, "u-gus", profile("gus", kind="guest", roles=["moderator"])
    )

    assert response.status_code == 422
    assert response.json()["field"] == "roles"


async def test_roles_left_out_are_kept_and_an_empty_list_clears_them(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "u-mo", profile("mo", roles=["moderator"]))

    kept = await provision(api, tenant, "u-mo", profile("mo", title="Editor"))
    unchanged = await provision(api, tenant, "u-mo", profile("mo", title="Editor"))
    cleared = await provision(api, tenant, "u-mo", profile("mo", title="Editor", roles=[]))

    assert kept.json()["roles"] == ["moderator"]
    assert unchanged.json()["roles"] == ["moderator"]
    assert cleared.json()["roles"] == []
    _, update, clear = await activities(api, tenant)  # unchanged emitted nothing
    assert person_of(update)["roles"] == ["moderator"]
    assert "roles" not in person_of(clear)


async def test_becoming_a_guest_drops_the_roles_left_out(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "u-mo", profile("mo", roles=["moderator"]))

    response = await provision(api, tenant, "u-mo", profile("mo", kind="guest"))

    assert response.status_code == 200
    assert response.json()["roles"] == []


async def test_a_changed_email_address_emits_an_update(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "u-ada", profile("ada", email="ada@old.example"))

    changed = await provision(api, tenant, "u-ada", profile("ada", email="ada@new.example"))
    removed = await provision(api, tenant, "u-ada", profile("ada"))

    assert changed.json()["email"] == "ada@new.example"
    assert removed.json()["email"] is None
    _, update, removal = await activities(api, tenant)
    assert (update.type, person_of(update)["email"]) == ("Update", "ada@new.example")
    assert "email" not in person_of(removal)


async def test_erasure_forgets_the_email_address_and_roles(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "u-mo", profile("mo", email="mo@example.com", roles=["moderator"]))

    erased = await api.client.delete(
        "/v1/users/u-mo", headers=api.headers(tenant, "hr-admin", "tenant_admin")
    )

    assert erased.status_code == 204
    row = await api.pool.fetchrow(
        "SELECT email, roles FROM users WHERE tenant_id = $1 AND id = 'u-mo'", tenant
    )
    assert row is not None
    assert (row["email"], row["roles"]) == (None, [])
    delete = (await activities(api, tenant))[-1]
    assert delete.type == "Delete"
    assert isinstance(delete.actor, AS2Object)
    assert "email" not in (delete.actor.model_extra or {})
    assert "roles" not in (delete.actor.model_extra or {})
