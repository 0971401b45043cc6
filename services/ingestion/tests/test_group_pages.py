"""The groups' read side over HTTP: the directory, a group's page and members, editing and
archiving a group (docs/architecture.md §16)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company

from canopy_common.activities import as_object
from canopy_common.iris import new_object_id
from canopy_common.vocabulary.canonical import check_canonical

pytestmark = pytest.mark.integration


async def get(c: Company, user: str, path: str, *roles: str, **params: Any) -> httpx.Response:
    return await c.api.client.get(path, params=params, headers=c.headers(user, *roles))


def problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    for word in words:
        assert word in response.json()["detail"]


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def named(c: Company, owner: str, visibility: str, name: str, *members: str) -> str:
    group_id = await c.group(owner, visibility, *members)
    await c.api.pool.execute(
        "UPDATE groups SET name = $3, description = $4 WHERE tenant_id = $1 AND id = $2",
        c.tenant,
        group_id,
        name,
        f"About {name.lower()}",
    )
    return group_id


async def test_the_directory_shows_what_each_caller_may_see_by_name_and_pages(
    api: Api, tenant: str
) -> None:
    c = await company(api, tenant)
    await named(c, "ada", "public", "beta Guild")
    await named(c, "ada", "internal", "Alpha team")
    await named(c, "ada", "private", "Cabal", "grace")
    invited = await named(c, "ada", "private", "Delta")
    await api.pool.execute(
        "INSERT INTO invites (tenant_id, group_id, invitee_id, inviter_id, activity_id) "
        "VALUES ($1, $2, 'gus', 'ada', 'urn:uuid:x')",
        tenant,
        invited,
    )
    elsewhere = Company(api, f"{tenant}x")
    await api.seed_user(elsewhere.tenant, "ada")
    await named(elsewhere, "ada", "public", "Another tenant's")

    assert names(await get(c, "grace", "/v1/groups")) == ["Alpha team", "beta Guild", "Cabal"]
    assert names(await get(c, "linus", "/v1/groups")) == ["Alpha team", "beta Guild"]
    assert names(await get(c, "gus", "/v1/groups")) == ["beta Guild", "Delta"]  # a guest
    assert names(await get(c, "grace", "/v1/groups", mine="true")) == ["Cabal"]
    assert names(await get(c, "grace", "/v1/groups", q="ALPHA")) == ["Alpha team"]
    assert names(await get(c, "grace", "/v1/groups", q="about c")) == ["Cabal"]  # description
    first = await get(c, "grace", "/v1/groups", limit=2)
    assert names(first) == ["Alpha team", "beta Guild"]
    assert 'rel="next"' in first.headers["link"]
    cursor = first.json()["next_cursor"]
    rest = await get(c, "grace", "/v1/groups", limit=2, cursor=cursor)
    assert names(rest) == ["Cabal"]
    assert rest.json()["next_cursor"] is None
    assert "link" not in rest.headers
    problem(await get(c, "grace", "/v1/groups", cursor="bm90IG91cnM"), 400, "cursor")


async def test_a_group_page_tells_the_caller_where_they_stand_and_hides_what_they_may_not_see(
    api: Api, tenant: str
) -> None:
    c = await company(api, tenant)
    guild = await c.group("ada", "public", "grace", admins=("linus",))
    internal = await c.group("ada", "internal")
    private = await c.group("ada", "private", "grace")
    await api.seed_user(f"{tenant}x", "eve")

    page = await get(c, "grace", f"/v1/groups/{guild}")
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["member_count"] == 3
    assert body["membership"]["role"] == "member"
    assert (body["archived"], body["join_request_pending"], body["invited"]) == (
        False,
        False,
        False,
    )
    stranger = (await get(c, "gus", f"/v1/groups/{guild}")).json()
    assert stranger["membership"] is None
    assert stranger["visibility"] == "public"
    assert (await get(c, "grace", f"/v1/groups/{private}")).status_code == 200
    for user, group_id, roles in (
        ("linus", private, ()),  # not a member of a private group
        ("linus", private, ("tenant_admin",)),  # a tenant admin neither
        ("gus", internal, ()),  # a guest, an internal group
        ("grace", new_object_id(), ()),  # no such group
    ):
        problem(await get(c, user, f"/v1/groups/{group_id}", *roles), 404)
        problem(await get(c, user, f"/v1/groups/{group_id}/members", *roles), 404)
    other = await api.client.get(f"/v1/groups/{guild}", headers=api.headers(f"{tenant}x", "eve"))
    problem(other, 404)


async def test_members_are_listed_owners_and_admins_first_then_by_name(
    api: Api, tenant: str
) -> None:
    c = await company(api, tenant)
    guild = await c.group("linus", "public", "grace", "ada", "gus", admins=())
    await api.seed_member(tenant, guild, "olga")  # inactive: not listed
    await api.pool.execute(
        "UPDATE memberships SET role = 'admin' WHERE tenant_id = $1 AND user_id = 'grace'",
        tenant,
    )
    path = f"/v1/groups/{guild}/members"

    listed = await get(c, "ada", path)
    assert listed.status_code == 200, listed.text
    rows = [(m["user_id"], m["role"]) for m in listed.json()["items"]]
    assert rows == [("linus", "owner"), ("grace", "admin"), ("ada", "member"), ("gus", "member")]
    assert listed.json()["items"][3]["kind"] == "guest"
    admins = await get(c, "ada", path, role="admin")
    assert [m["user_id"] for m in admins.json()["items"]] == ["grace"]
    first = await get(c, "ada", path, limit=3)
    rest = await get(c, "ada", path, limit=3, cursor=first.json()["next_cursor"])
    assert [m["user_id"] for m in rest.json()["items"]] == ["gus"]
    problem(await get(c, "ada", path, cursor="W10"), 400)


async def test_admins_edit_a_group_members_may_not_and_other_fields_are_refused(
    api: Api, tenant: str
) -> None:
    c = await company(api, tenant)
    guild = await c.group("ada", "public", "grace", admins=("linus",))
    path = f"/v1/groups/{guild}"

    async def patch(user: str, body: dict[str, Any], *roles: str) -> httpx.Response:
        return await api.client.patch(path, json=body, headers=c.headers(user, *roles))

    edited = await patch("linus", {"name": " Guild ", "join_policy": "request"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["name"], edited.json()["join_policy"]) == ("Guild", "request")
    [update] = await c.published("Update")
    group = as_object(update.object)
    assert group is not None
    assert (group.type, group.name) == ("Group", "Guild")
    check_canonical(update)  # what fanout, notify and analytics accept
    unchanged = await patch("linus", {"name": "Guild"})
    assert unchanged.status_code == 200
    assert len(await c.published("Update")) == 1  # nothing changed, nothing emitted
    problem(await patch("grace", {"name": "Mine now"}), 403, "admins and owners")
    for field, value in (("visibility", "private"), ("owner_id", "grace"), ("id", "x")):
        refused = await patch("linus", {field: value})
        problem(refused, 422, field)
    problem(await patch("linus", {"name": None}), 422, "name")
    # A tenant admin who is no admin of it may, and it is audited.
    by_admin = await patch("grace", {"description": "Run by HR"}, "tenant_admin")
    assert by_admin.status_code == 200, by_admin.text
    action = await api.pool.fetchval(
        "SELECT action FROM audit_log WHERE tenant_id = $1 AND target = $2", tenant, guild
    )
    assert action == "group.update"


async def test_an_archived_group_takes_no_posts_or_members_and_stays_readable(
    api: Api, tenant: str
) -> None:
    c = await company(api, tenant)
    guild = await c.group("ada", "public", "grace")
    before = await c.posted("grace", content="Before the archive", group_id=guild)

    retry_safe = c.headers("ada", **{"Idempotency-Key": "archive-1"})
    archived = await api.client.post(f"/v1/groups/{guild}/archive", headers=retry_safe)
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True
    retried = await api.client.post(f"/v1/groups/{guild}/archive", headers=retry_safe)
    assert retried.headers["idempotent-replayed"] == "true"
    [update] = await c.published("Update")
    group = as_object(update.object)
    assert group is not None
    assert group.status == "archived"

    problem(await c.post("grace", content="After", group_id=guild), 409, "archived")
    problem(await c.post("grace", content="A reply", in_reply_to=before), 409, "archived")
    joined = await api.client.put(f"/v1/groups/{guild}/members/linus", headers=c.headers("linus"))
    problem(joined, 409, "archived")
    assert (await c.get("grace", before)).status_code == 200  # content stays readable
    problem(await api.client.post(f"/v1/groups/{guild}/archive", headers=c.headers("grace")), 403)

    back = await api.client.post(f"/v1/groups/{guild}/unarchive", headers=c.headers("ada"))
    assert back.json()["archived"] is False
    assert (await c.post("grace", content="We are back", group_id=guild)).status_code == 201
