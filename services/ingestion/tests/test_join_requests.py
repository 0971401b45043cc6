"""Join requests over HTTP, the asking side: a group whose ``join_policy`` is ``request`` is
joined by asking (a pending Join, nobody a member yet) and an admin's Add approves; invitees
still join at once; a private group takes no requests."""

from __future__ import annotations

import pytest
from ingestion_harness import Api
from join_requests_harness import (
    PROBLEM,
    activities,
    ask,
    create_group,
    group_object,
    member_role,
    pending,
    person,
    put_member,
    wire,
)
from upstream_harness import send

from canopy_common.events import StrictActivity, decode_activity, ref_id
from canopy_common.iris import user_iri
from canopy_common.kafka import Producer
from canopy_testing.factories import ActivityFactory
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually
from canopy_testing.system import upstream_activity

pytestmark = pytest.mark.integration


@pytest.fixture
async def people(api: Api, tenant: str) -> None:
    """Employees ada (who owns the groups), bob and cy; guest gus."""
    for user in ("ada", "bob", "cy"):
        await api.seed_user(tenant, user)
    await api.seed_user(tenant, "gus", kind="guest")


# --- the policy -----------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_a_group_is_open_unless_created_to_take_requests(api: Api, tenant: str) -> None:
    open_group = await api.client.post(
        "/v1/groups",
        json={"name": "Open", "visibility": "public"},
        headers=api.headers(tenant, "ada"),
    )
    guild = await create_group(api, tenant, "ada", "internal", "request")

    assert open_group.json()["join_policy"] == "open"
    stored = await api.pool.fetchval(
        "SELECT join_policy FROM groups WHERE tenant_id = $1 AND id = $2", tenant, guild
    )
    assert stored == "request"
    joined = await ask(api, tenant, "bob", open_group.json()["id"])
    assert joined.status_code == 201  # an open group is joined at once, as ever


@pytest.mark.usefixtures("people")
async def test_a_private_group_cannot_take_join_requests(api: Api, tenant: str) -> None:
    response = await api.client.post(
        "/v1/groups",
        json={"name": "Secret", "visibility": "private", "join_policy": "request"},
        headers=api.headers(tenant, "ada"),
    )
    unknown = await api.client.post(
        "/v1/groups",
        json={"name": "Odd", "visibility": "public", "join_policy": "knock"},
        headers=api.headers(tenant, "ada"),
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "join_policy"
    assert "private" in response.json()["detail"]
    assert unknown.status_code == 422
    assert await api.outbox(tenant) == []


# --- asking ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_asking_to_join_is_accepted_as_pending_and_makes_nobody_a_member(
    api: Api, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada")

    response = await ask(api, tenant, "bob", group)

    assert response.status_code == 202
    body = response.json()
    assert body | {"requested_at": None} == {
        "group_id": group,
        "user_id": "bob",
        "status": "pending",
        "requested_at": None,
    }
    assert await member_role(api, tenant, group, "bob") is None
    assert await pending(api, tenant, group) == ["bob"]


@pytest.mark.usefixtures("people")
async def test_the_request_is_a_join_with_status_pending(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada")

    await ask(api, tenant, "bob", group)

    created = await activities(api, tenant)
    assert [a.type for a in created] == ["Create", "Join", "Join"]
    sent = created[-1]
    f = ActivityFactory(tenant)
    assert wire(sent) == wire(f.join_request(person(f, "bob"), group_object(created)))
    assert (sent.model_extra or {})["status"] == "pending"
    assert sent.visibility == "internal"  # as the group's other activities
    [row] = [r for r in await api.outbox(tenant) if r["activity_id"] == sent.id]
    assert row["key"] == f"{tenant}:bob"
    stored = await api.pool.fetchrow(
        "SELECT activity_id, created_at FROM join_requests WHERE tenant_id = $1", tenant
    )
    assert stored is not None
    assert (stored["activity_id"], stored["created_at"]) == (sent.id, sent.published)


@pytest.mark.usefixtures("people")
async def test_asking_again_while_pending_returns_the_same_request_and_emits_nothing(
    api: Api, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada")

    first = await ask(api, tenant, "bob", group)
    again = await ask(api, tenant, "bob", group)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == first.json()
    assert [a.type for a in await activities(api, tenant)] == ["Create", "Join", "Join"]


@pytest.mark.usefixtures("people")
async def test_a_retried_request_with_the_same_idempotency_key_is_replayed(
    api: Api, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada")

    first = await ask(api, tenant, "bob", group, **{"Idempotency-Key": "ask-1"})
    retry = await ask(api, tenant, "bob", group, **{"Idempotency-Key": "ask-1"})

    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert len(await activities(api, tenant)) == 3


@pytest.mark.usefixtures("people")
async def test_one_asks_only_to_be_a_member(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada")

    response = await api.client.put(
        f"/v1/groups/{group}/members/bob",
        json={"role": "admin"},
        headers=api.headers(tenant, "bob"),
    )

    assert response.status_code == 403
    assert await pending(api, tenant, group) == []


@pytest.mark.usefixtures("people")
async def test_guests_ask_to_join_public_groups_only(api: Api, tenant: str) -> None:
    public = await create_group(api, tenant, "ada", "public")
    internal = await create_group(api, tenant, "ada", "internal")

    into_public = await ask(api, tenant, "gus", public)
    into_internal = await ask(api, tenant, "gus", internal)

    assert (into_public.status_code, into_internal.status_code) == (202, 404)


# --- approving ------------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_an_admin_approves_a_request_by_adding_the_person(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada")
    await api.seed_member(tenant, group, "cy", role="admin")
    await ask(api, tenant, "bob", group)

    added = await put_member(api, tenant, "cy", group, "bob")
    then = await ask(api, tenant, "bob", group)

    assert added.status_code == 201
    assert added.json() == {"group_id": group, "user_id": "bob", "role": "member"}
    assert await pending(api, tenant, group) == []
    assert await member_role(api, tenant, group, "bob") == "member"
    assert then.status_code == 200  # a member now: nothing left to ask
    assert then.json()["role"] == "member"
    created = await activities(api, tenant)
    assert [a.type for a in created] == ["Create", "Join", "Join", "Add"]
    f = ActivityFactory(tenant)
    expected = f.add(person(f, "cy"), group_object(created), person(f, "bob"))
    assert wire(created[-1]) == wire(expected)


@pytest.mark.usefixtures("people")
async def test_a_plain_member_cannot_approve_a_request(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada")
    await api.seed_member(tenant, group, "cy")
    await ask(api, tenant, "bob", group)

    response = await put_member(api, tenant, "cy", group, "bob")

    assert response.status_code == 403
    assert await pending(api, tenant, group) == ["bob"]


# --- invites win ----------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_an_invitee_joins_a_request_group_at_once(api: Api, tenant: str) -> None:
    group = await create_group(api, tenant, "ada")
    await ask(api, tenant, "cy", group)  # cy asked first; the invite lets cy in all the same
    for invitee in ("bob", "cy"):
        invited = await api.client.post(
            f"/v1/groups/{group}/invites",
            json={"user_id": invitee},
            headers=api.headers(tenant, "ada"),
        )
        assert invited.status_code == 201

    joined = [await ask(api, tenant, user, group) for user in ("bob", "cy")]

    assert [r.status_code for r in joined] == [201, 201]
    assert await pending(api, tenant, group) == []
    joins = [a for a in await activities(api, tenant) if a.type == "Join"][-2:]
    assert [(a.model_extra or {}).get("status") for a in joins] == [None, None]
    assert [ref_id(a.actor) for a in joins] == [user_iri(tenant, "bob"), user_iri(tenant, "cy")]


# --- relayed --------------------------------------------------------------------------------


@pytest.mark.usefixtures("people")
async def test_the_pending_join_reaches_the_activities_topic(
    api: Api, upstream: Producer, tenant: str
) -> None:
    # ``upstream`` runs the worker, whose outbox relay publishes to the activities topic.
    group = await create_group(api, tenant, "ada")

    response = await ask(api, tenant, "bob", group)

    assert response.status_code == 202
    sent = (await activities(api, tenant))[-1]
    kafka = api.settings.kafka

    async def on_topic() -> StrictActivity | None:
        records = await read_topic(kafka, kafka.topic_activities)
        mine = [r for r in records if r.key == f"{tenant}:bob".encode()]
        return next((a for r in mine if (a := decode_activity(r.value)).id == sent.id), None)

    published = await eventually(on_topic, what="the pending Join on the activities topic")
    assert published == sent
    assert (published.model_extra or {})["status"] == "pending"


@pytest.mark.usefixtures("people")
async def test_an_upstream_join_of_a_request_group_is_a_request_too(
    api: Api, upstream: Producer, tenant: str
) -> None:
    group = await create_group(api, tenant, "ada")

    await send(upstream, api, tenant, upstream_activity(tenant, "bob", "Join", group))

    assert await pending(api, tenant, group) == ["bob"]
    assert await member_role(api, tenant, group, "bob") is None
    sent = (await activities(api, tenant))[-1]
    assert (sent.type, (sent.model_extra or {})["status"]) == ("Join", "pending")
    assert sent.source == "workday"
