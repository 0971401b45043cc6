"""Join requests over HTTP, the answering side: a group's admins list pending requests and
decline them (a Reject), the requester withdraws theirs (an Undo); nothing crosses tenants."""

from __future__ import annotations

import pytest
from ingestion_harness import Api
from join_requests_harness import (
    PROBLEM,
    activities,
    ask,
    create_group,
    end_request,
    group_object,
    list_requests,
    member_role,
    pending,
    person,
    put_member,
    wire,
)

from canopy_testing.factories import ActivityFactory, new_tenant_id

pytestmark = pytest.mark.integration


@pytest.fixture
async def guild(api: Api, tenant: str) -> str:
    """An internal group owned by ada, admin al, member mo, and bob's pending request (cy,
    another employee, is neither member nor requester; gus is a guest)."""
    for user in ("ada", "al", "mo", "bob", "cy"):
        await api.seed_user(tenant, user)
    await api.seed_user(tenant, "gus", kind="guest")
    group = await create_group(api, tenant, "ada")
    await api.seed_member(tenant, group, "al", role="admin")
    await api.seed_member(tenant, group, "mo")
    assert (await ask(api, tenant, "bob", group)).status_code == 202
    return group


# --- listing --------------------------------------------------------------------------------


async def test_admins_and_owners_list_pending_requests(api: Api, tenant: str, guild: str) -> None:
    by_owner = await list_requests(api, tenant, "ada", guild)
    by_admin = await list_requests(api, tenant, "al", guild)

    assert by_owner.status_code == by_admin.status_code == 200
    assert by_owner.json() == by_admin.json()
    [item] = by_owner.json()["items"]
    assert item | {"requested_at": None} == {
        "group_id": guild,
        "user_id": "bob",
        "status": "pending",
        "requested_at": None,
    }
    assert by_owner.json()["next_cursor"] is None


async def test_nobody_else_lists_a_groups_requests(api: Api, tenant: str, guild: str) -> None:
    statuses = [
        (await list_requests(api, tenant, user, guild)).status_code
        for user in ("mo", "bob", "cy", "gus")
    ]

    # Those who see the group are refused; a guest does not see an internal group at all.
    assert statuses == [403, 403, 403, 404]
    refused = await list_requests(api, tenant, "mo", guild)
    assert refused.headers["content-type"] == PROBLEM


async def test_requests_page_oldest_first(api: Api, tenant: str, guild: str) -> None:
    assert (await ask(api, tenant, "cy", guild)).status_code == 202

    first = await list_requests(api, tenant, "ada", guild, limit=1)
    cursor = first.json()["next_cursor"]
    second = await list_requests(api, tenant, "ada", guild, limit=1, cursor=cursor)
    bad = await list_requests(api, tenant, "ada", guild, cursor="nonsense")

    assert [i["user_id"] for i in first.json()["items"]] == ["bob"]
    assert [i["user_id"] for i in second.json()["items"]] == ["cy"]
    assert second.json()["next_cursor"] is None
    assert bad.status_code == 400


# --- declining ------------------------------------------------------------------------------


async def test_an_admin_declines_a_request_with_a_reject(api: Api, tenant: str, guild: str) -> None:
    response = await end_request(api, tenant, "al", guild, "bob")

    assert response.status_code == 204
    assert await pending(api, tenant, guild) == []
    assert await member_role(api, tenant, guild, "bob") is None
    created = await activities(api, tenant)
    asked, rejected = created[-2:]
    assert (asked.type, rejected.type) == ("Join", "Reject")
    f = ActivityFactory(tenant)
    expected = f.reject_join(person(f, "al"), group_object(created), asked)
    assert wire(rejected) == wire(expected)
    assert rejected.object == asked.id
    [row] = [r for r in await api.outbox(tenant) if r["activity_id"] == rejected.id]
    assert row["key"] == f"{tenant}:al"


async def test_after_a_decline_one_may_ask_again(api: Api, tenant: str, guild: str) -> None:
    await end_request(api, tenant, "ada", guild, "bob")

    again = await ask(api, tenant, "bob", guild)

    assert again.status_code == 202
    assert await pending(api, tenant, guild) == ["bob"]


async def test_a_plain_member_cannot_decline_a_request(api: Api, tenant: str, guild: str) -> None:
    by_member = await end_request(api, tenant, "mo", guild, "bob")
    by_stranger = await end_request(api, tenant, "cy", guild, "bob")

    assert (by_member.status_code, by_stranger.status_code) == (403, 403)
    assert await pending(api, tenant, guild) == ["bob"]


async def test_declining_a_request_nobody_made_is_not_found(
    api: Api, tenant: str, guild: str
) -> None:
    no_request = await end_request(api, tenant, "ada", guild, "cy")
    nobody = await end_request(api, tenant, "ada", guild, "nobody")
    first = await end_request(api, tenant, "ada", guild, "bob")
    again = await end_request(api, tenant, "ada", guild, "bob")

    assert (no_request.status_code, nobody.status_code) == (404, 404)
    assert no_request.headers["content-type"] == PROBLEM
    assert (first.status_code, again.status_code) == (204, 404)
    assert [a.type for a in await activities(api, tenant)][-1] == "Reject"  # just one


# --- withdrawing ----------------------------------------------------------------------------


async def test_the_requester_withdraws_their_request_with_an_undo(
    api: Api, tenant: str, guild: str
) -> None:
    response = await end_request(api, tenant, "bob", guild, "bob")

    assert response.status_code == 204
    assert await pending(api, tenant, guild) == []
    created = await activities(api, tenant)
    asked, undone = created[-2:]
    assert (asked.type, undone.type) == ("Join", "Undo")
    f = ActivityFactory(tenant)
    assert wire(undone) == wire(f.undo(asked))
    listed = await list_requests(api, tenant, "ada", guild)
    assert listed.json()["items"] == []


async def test_approving_after_a_withdrawal_is_an_ordinary_add(
    api: Api, tenant: str, guild: str
) -> None:
    await end_request(api, tenant, "bob", guild, "bob")

    added = await put_member(api, tenant, "ada", guild, "bob")

    assert added.status_code == 201
    assert [a.type for a in await activities(api, tenant)][-2:] == ["Undo", "Add"]


# --- tenants and erasure --------------------------------------------------------------------


async def test_another_tenant_sees_nothing_of_a_groups_requests(
    api: Api, tenant: str, guild: str
) -> None:
    other = new_tenant_id()
    await api.seed_user(other, "ada")  # the same user id, another company
    await api.seed_user(other, "bob")

    listed = await list_requests(api, other, "ada", guild)
    declined = await end_request(api, other, "ada", guild, "bob")
    asked = await ask(api, other, "bob", guild)
    added = await put_member(api, other, "ada", guild, "bob")

    codes = [r.status_code for r in (listed, declined, asked, added)]
    assert codes == [404, 404, 404, 404]
    assert await pending(api, tenant, guild) == ["bob"]
    assert await pending(api, other, guild) == []
    assert await api.outbox(other) == []


async def test_erasing_a_person_drops_their_join_requests(
    api: Api, tenant: str, guild: str
) -> None:
    erased = await api.client.delete(
        "/v1/users/bob", headers=api.headers(tenant, "hr-admin", "tenant_admin")
    )

    assert erased.status_code == 204
    assert await pending(api, tenant, guild) == []
