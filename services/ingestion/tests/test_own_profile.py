"""A person's own profile over HTTP: what they edit themselves (PATCH /v1/users/me), what
stays HR's, and the org chart a profile shows (docs/architecture.md §16)."""

from __future__ import annotations

from typing import Any

import pytest
from ingestion_harness import Api
from join_requests_harness import activities

from canopy_common.events import AS2Object

pytestmark = pytest.mark.integration


async def edit(api: Api, tenant: str, user: str, body: dict[str, Any]) -> Any:
    return await api.client.patch("/v1/users/me", json=body, headers=api.headers(tenant, user))


async def provision(api: Api, tenant: str, user: str, **fields: Any) -> Any:
    response = await api.client.put(
        f"/v1/users/{user}",
        json={"handle": user, "display_name": user.title(), **fields},
        headers=api.headers(tenant, "hr", "tenant_admin"),
    )
    assert response.status_code in (200, 201), response.text
    return response


def person_of(activity: Any) -> AS2Object:
    assert isinstance(activity.object, AS2Object)
    return activity.object


async def test_an_edit_of_ones_own_profile_shows_on_it_and_is_emitted_as_an_update(
    api: Api, tenant: str
) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada", title="Engineer", skills=["python"])
    await provision(api, tenant, "bob")
    before = len(await activities(api, tenant))

    response = await edit(
        api,
        tenant,
        "ada",
        {
            "summary": "  Cafe\u0301 regular.\r\nWrites for engines.  ",
            "pronouns": "she/her",
            "skills": ["Python", "maths", "python"],
        },
    )
    shown = await api.client.get("/v1/users/ada", headers=api.headers(tenant, "bob"))
    mine = await api.client.get("/v1/users/me", headers=api.headers(tenant, "ada"))

    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["summary"] == "Caf\u00e9 regular.\nWrites for engines."  # NFC, one newline
    assert (edited["pronouns"], edited["skills"], edited["title"]) == (
        "she/her",
        ["Python", "maths"],
        "Engineer",
    )
    assert shown.json() == mine.json() == edited
    [update] = (await activities(api, tenant))[before:]
    assert update.type == "Update"
    person = person_of(update)
    assert (person.type, person.summary, person.term("pronouns"), person.skills) == (
        "Person",
        "Caf\u00e9 regular.\nWrites for engines.",
        "she/her",
        ["Python", "maths"],
    )
    assert person.title == "Engineer"


async def test_an_edit_sets_only_the_fields_given_and_null_clears(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada", location="London")
    await edit(api, tenant, "ada", {"summary": "Hello", "pronouns": "she/her"})

    response = await edit(api, tenant, "ada", {"pronouns": None, "location": ""})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["summary"], body["pronouns"], body["location"]) == ("Hello", None, None)


async def test_an_edit_that_changes_nothing_emits_nothing(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada")
    await edit(api, tenant, "ada", {"pronouns": "she/her"})
    before = len(await activities(api, tenant))

    again = await edit(api, tenant, "ada", {"pronouns": " she/her "})

    assert again.status_code == 200
    assert len(await activities(api, tenant)) == before


@pytest.mark.parametrize(
    "field",
    [
        "roles",
        "kind",
        "email",
        "tenant",
        "id",
        "handle",
        "display_name",
        "title",
        "department",
        "manager_id",
        "active",
        "nickname",
    ],
)
async def test_fields_a_person_may_not_set_are_refused_naming_the_field(
    api: Api, tenant: str, field: str
) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada")
    before = await api.pool.fetchrow("SELECT * FROM users WHERE tenant_id = $1", tenant)

    response = await edit(api, tenant, "ada", {"summary": "Hi", field: ["tenant_admin"]})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [f"body.{field}"]
    assert await api.pool.fetchrow("SELECT * FROM users WHERE tenant_id = $1", tenant) == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"pronouns": "she\u202eher"}, id="bidi control"),
        pytest.param({"location": "Lon\ndon"}, id="newline in a line"),
        pytest.param({"summary": "x" * 2001}, id="summary too long"),
        pytest.param({"skills": ["a\u0000b"]}, id="nul"),
    ],
)
async def test_text_the_policy_refuses_is_422(api: Api, tenant: str, body: dict[str, Any]) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada")

    response = await edit(api, tenant, "ada", body)

    assert response.status_code == 422, response.text


async def test_provisioning_keeps_what_the_person_wrote_and_erasure_clears_it(
    api: Api, tenant: str
) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada")
    await edit(api, tenant, "ada", {"summary": "Hi", "pronouns": "she/her", "skills": ["go"]})

    hr_update = await provision(api, tenant, "ada", title="Director")
    erased = await api.client.delete(
        "/v1/users/ada", headers=api.headers(tenant, "hr", "tenant_admin")
    )

    kept = hr_update.json()
    assert (kept["title"], kept["summary"], kept["pronouns"], kept["skills"]) == (
        "Director",
        "Hi",
        "she/her",
        ["go"],
    )
    update = (await activities(api, tenant))[-2]
    assert (update.type, person_of(update).summary) == ("Update", "Hi")
    assert erased.status_code == 204
    row = await api.pool.fetchrow(
        "SELECT summary, pronouns FROM users WHERE tenant_id = $1 AND id = 'ada'", tenant
    )
    assert row is not None
    assert tuple(row) == (None, None)


async def test_a_profile_shows_the_manager_and_active_direct_reports(api: Api, tenant: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "boss", title="Director")
    for report in ("zoe", "amy", "leaver"):
        await provision(api, tenant, report, manager_id="boss")
    await api.pool.execute(
        "UPDATE users SET active = false WHERE tenant_id = $1 AND id = 'leaver'", tenant
    )
    await api.seed_user(tenant, "gus", kind="guest")
    await api.seed_group(tenant, "g1", owner="boss", visibility="private")
    await api.seed_member(tenant, "g1", "gus")

    boss = await api.client.get("/v1/users/boss", headers=api.headers(tenant, "amy"))
    amy = await api.client.get("/v1/users/amy", headers=api.headers(tenant, "zoe"))
    to_guest = await api.client.get("/v1/users/boss", headers=api.headers(tenant, "gus"))

    assert [r["id"] for r in boss.json()["reports"]] == ["amy", "zoe"]
    assert (boss.json()["reports_total"], boss.json()["manager"]) == (2, None)
    assert amy.json()["manager"] == {
        "id": "boss",
        "handle": "boss",
        "display_name": "Boss",
        "title": "Director",
        "active": True,
    }
    assert amy.json()["reports"] == []
    assert to_guest.status_code == 200
    assert (to_guest.json()["manager"], to_guest.json()["reports"]) == (None, [])


@pytest.mark.parametrize("whom", ["another tenant's", "an erased", "an unknown"])
async def test_a_profile_the_caller_may_not_see_is_404(api: Api, tenant: str, whom: str) -> None:
    await api.seed_tenant(tenant)
    await provision(api, tenant, "ada")
    await api.seed_user(f"{tenant}-x", "zed")
    await api.seed_user(tenant, "gone", erased=True)
    target = {"another tenant's": "zed", "an erased": "gone", "an unknown": "nobody"}[whom]

    response = await api.client.get(f"/v1/users/{target}", headers=api.headers(tenant, "ada"))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
