"""Group invites over HTTP: who may invite whom, the Invite activity, and an invitee joining a
private group by themselves (which consumes the invite)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from ingestion_harness import Api

from canopy_common.events import AS2Object, StrictActivity, decode_activity, encode
from canopy_common.iris import user_iri
from canopy_common.kafka import Producer
from canopy_testing.factories import ActivityFactory
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def activities(api: Api, tenant: str) -> list[StrictActivity]:
    return [decode_activity(row["payload"]) for row in await api.outbox(tenant)]


async def create_group(api: Api, tenant: str, owner: str, visibility: str) -> str:
    """A group made over HTTP (so its Create and the owner's Join are published)."""
    response = await api.client.post(
        "/v1/groups",
        json={"name": "Launch", "visibility": visibility},
        headers=api.headers(tenant, owner),
    )
    assert response.status_code == 201, response.text
    group_id: str = response.json()["id"]
    return group_id


async def invite(api: Api, tenant: str, inviter: str, group: str, invitee: str) -> Any:
    return await api.client.post(
        f"/v1/groups/{group}/invites",
        json={"user_id": invitee},
        headers=api.headers(tenant, inviter),
    )


async def join(api: Api, tenant: str, user: str, group: str) -> Any:
    return await api.client.put(
        f"/v1/groups/{group}/members/{user}", headers=api.headers(tenant, user)
    )


async def pending_invites(api: Api, tenant: str, group: str) -> list[str]:
    rows = await api.pool.fetch(
        "SELECT invitee_id FROM invites WHERE tenant_id = $1 AND group_id = $2", tenant, group
    )
    return [row["invitee_id"] for row in rows]


def wire(activity: StrictActivity) -> dict[str, Any]:
    """The activity as consumers read it, less what differs between any two activities."""
    doc: dict[str, Any] = orjson.loads(encode(activity))
    for member in ("id", "published", "traceparent"):
        doc.pop(member, None)
    return doc


@pytest.fixture
async def people(api: Api, tenant: str) -> None:
    """Employees ada (who owns the groups), bob and cy; guest gus."""
    for user in ("ada", "bob", "cy"):
        await api.seed_user(tenant, user)
    await api.seed_user(tenant, "gus", kind="guest")


# --- who may invite -------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_any_member_invites_into_an_internal_group(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "internal")
    await api.seed_member(tenant, group, "bob")

    response = await invite(api, tenant, "bob", group, "cy")

    assert response.status_code == 201
    body = response.json()
    assert body | {"invited_at": None} == {
        "group_id": group,
        "user_id": "cy",
        "invited_by": "bob",
        "invited_at": None,
    }
    assert await pending_invites(api, tenant, group) == ["cy"]


@pytest.mark.usefixtures("people")
async def test_only_admins_and_owners_invite_into_a_private_group(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await api.seed_member(tenant, group, "bob")

    by_member = await invite(api, tenant, "bob", group, "cy")
    by_owner = await invite(api, tenant, "ada", group, "cy")

    assert by_member.status_code == 403
    assert by_member.headers["content-type"] == PROBLEM
    assert by_owner.status_code == 201


@pytest.mark.usefixtures("people")
async def test_someone_outside_a_group_cannot_invite_into_it(api: Api, tenant: str) -> None:
    public = await create_group(api, tenant, "ada", "public")
    private = await create_group(api, tenant, "ada", "private")

    into_public = await invite(api, tenant, "bob", public, "cy")
    into_private = await invite(api, tenant, "bob", private, "cy")

    assert into_public.status_code == 403
    assert into_private.status_code == 404  # its existence is not disclosed
    assert await pending_invites(api, tenant, private) == []


@pytest.mark.usefixtures("people")
async def test_inviting_a_member_is_a_conflict(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "internal")
    await api.seed_member(tenant, group, "bob")

    response = await invite(api, tenant, "ada", group, "bob")

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert "member" in response.json()["detail"]


@pytest.mark.usefixtures("people")
async def test_the_invitee_must_be_someone_the_inviter_can_see(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "public")
    await api.seed_member(tenant, group, "gus")
    await api.seed_user(tenant, "olga", active=False)

    unknown = await invite(api, tenant, "ada", group, "nobody")
    erased = await invite(api, tenant, "ada", group, "olga")
    unseen = await invite(api, tenant, "gus", group, "cy")  # a guest sees only group mates

    assert (unknown.status_code, erased.status_code, unseen.status_code) == (404, 404, 404)


@pytest.mark.usefixtures("people")
async def test_only_admins_invite_a_guest_into_a_group_that_is_not_public(
    api: Api, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada", "internal")
    await api.seed_member(tenant, group, "bob")

    by_member = await invite(api, tenant, "bob", group, "gus")
    by_owner = await invite(api, tenant, "ada", group, "gus")
    joined = await join(api, tenant, "gus", group)

    assert (by_member.status_code, by_owner.status_code) == (403, 201)
    assert joined.status_code == 201  # the invite lets the guest into an internal group


@pytest.mark.usefixtures("people")
async def test_inviting_again_returns_the_pending_invite_and_emits_nothing(
    api: Api, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await api.seed_member(tenant, group, "bob", role="admin")

    first = await invite(api, tenant, "ada", group, "cy")
    again = await invite(api, tenant, "bob", group, "cy")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()  # still ada's invite
    assert [a.type for a in await activities(api, tenant)] == ["Create", "Join", "Invite"]


@pytest.mark.usefixtures("people")
async def test_a_retried_invite_with_the_same_idempotency_key_is_replayed(
    api: Api, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada", "internal")
    headers = api.headers(tenant, "ada", **{"Idempotency-Key": "invite-cy-1"})
    path = f"/v1/groups/{group}/invites"

    first = await api.client.post(path, json={"user_id": "cy"}, headers=headers)
    retry = await api.client.post(path, json={"user_id": "cy"}, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()


# --- the Invite activity --------------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_the_invite_addresses_the_invitee_and_carries_them_and_the_group(
    api: Api, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada", "private")

    await invite(api, tenant, "ada", group, "cy")

    create, _, sent = await activities(api, tenant)
    assert isinstance(create.object, AS2Object)
    f = ActivityFactory(tenant)
    ada = f.user("ada", user_id="ada", display_name="Ada")
    cy = f.user("cy", user_id="cy", display_name="Cy")
    expected = f.invite(ada, create.object, cy)
    assert wire(sent) == wire(expected)
    assert sent.type == "Invite"
    assert sent.to == [user_iri(tenant, "cy")]
    assert sent.visibility == "group"  # as every activity of a private group
    assert isinstance(sent.target, AS2Object)
    assert sent.target.id == group
    [row] = [r for r in await api.outbox(tenant) if r["activity_id"] == sent.id]
    assert row["key"] == f"{tenant}:ada"  # in order with the inviter's other activities
    invite_row = await api.pool.fetchrow(
        "SELECT activity_id FROM invites WHERE tenant_id = $1 AND group_id = $2", tenant, group
    )
    assert invite_row is not None
    assert invite_row["activity_id"] == sent.id


@pytest.mark.usefixtures("people")
async def test_the_invite_reaches_the_activities_topic(
    api: Api, upstream: Producer, tenant: str
) -> None:
    # ``upstream`` runs the worker, whose outbox relay publishes to the activities topic.
    group = await create_group(api, tenant, "ada", "internal")

    response = await invite(api, tenant, "ada", group, "bob")

    assert response.status_code == 201
    [sent] = [a for a in await activities(api, tenant) if a.type == "Invite"]
    kafka = api.settings.kafka

    async def relayed() -> bool:
        return all(row["sent_at"] is not None for row in await api.outbox(tenant))

    async def invite_on_topic() -> StrictActivity | None:
        records = await read_topic(kafka, kafka.topic_activities)
        mine = [r for r in records if r.key == f"{tenant}:ada".encode()]
        return next((a for r in mine if (a := decode_activity(r.value)).id == sent.id), None)

    await eventually(relayed, what="the relay to publish the tenant's activities")
    published = await eventually(invite_on_topic, what="the Invite on the activities topic")
    assert published == sent


# --- joining with an invite -----------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_an_invitee_joins_a_private_group_by_themselves_once(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await invite(api, tenant, "ada", group, "cy")

    joined = await join(api, tenant, "cy", group)
    left = await api.client.delete(
        f"/v1/groups/{group}/members/cy", headers=api.headers(tenant, "cy")
    )
    rejoined = await join(api, tenant, "cy", group)

    assert joined.status_code == 201
    assert joined.json() == {"group_id": group, "user_id": "cy", "role": "member"}
    assert left.status_code == 204
    assert rejoined.status_code == 404  # the invite was consumed: invisible again
    assert await pending_invites(api, tenant, group) == []
    types = [a.type for a in await activities(api, tenant)]
    assert types == ["Create", "Join", "Invite", "Join", "Leave"]
    join_activity = (await activities(api, tenant))[3]
    assert isinstance(join_activity.actor, AS2Object)
    assert join_activity.actor.id == user_iri(tenant, "cy")


@pytest.mark.usefixtures("people")
async def test_a_private_group_stays_hidden_from_people_not_invited(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await invite(api, tenant, "ada", group, "cy")

    stranger = await join(api, tenant, "bob", group)
    stranger_invites = await invite(api, tenant, "bob", group, "bob")

    assert (stranger.status_code, stranger_invites.status_code) == (404, 404)
    assert stranger.headers["content-type"] == PROBLEM


@pytest.mark.usefixtures("people")
async def test_an_invitee_sees_the_group_but_may_not_invite_others(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await invite(api, tenant, "ada", group, "cy")

    response = await invite(api, tenant, "cy", group, "bob")

    assert response.status_code == 403  # not 404: the invitee knows the group exists


@pytest.mark.usefixtures("people")
async def test_an_invitee_joins_only_as_a_member(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await invite(api, tenant, "ada", group, "cy")

    response = await api.client.put(
        f"/v1/groups/{group}/members/cy",
        json={"role": "admin"},
        headers=api.headers(tenant, "cy"),
    )

    assert response.status_code == 403
    assert await pending_invites(api, tenant, group) == ["cy"]


@pytest.mark.usefixtures("people")
async def test_being_added_by_an_admin_consumes_the_invite(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await invite(api, tenant, "ada", group, "cy")

    added = await api.client.put(
        f"/v1/groups/{group}/members/cy", headers=api.headers(tenant, "ada")
    )

    assert added.status_code == 201
    assert await pending_invites(api, tenant, group) == []


@pytest.mark.usefixtures("people")
async def test_erasing_a_person_drops_their_pending_invites(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada", "private")
    await invite(api, tenant, "ada", group, "cy")

    erased = await api.client.delete(
        "/v1/users/cy", headers=api.headers(tenant, "hr-admin", "tenant_admin")
    )

    assert erased.status_code == 204
    assert await pending_invites(api, tenant, group) == []
