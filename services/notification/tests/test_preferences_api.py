"""Notification preferences and mutes over HTTP, against the running service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from notify_harness import Notify

from canopy_common.errors import PROBLEM_JSON
from canopy_notify.adapters import preferences as store
from canopy_notify.domain.model import Category, Channel
from canopy_notify.domain.pipeline import Mute
from canopy_testing.factories import new_tenant_id

pytestmark = pytest.mark.integration

PREFS = "/v1/notification-preferences"
TENANT_PREFS = "/v1/notification-preferences/tenant"
MUTES = "/v1/notification-mutes"
TENANT_ADMIN = ("admin", "tenant_admin")  # user, role


async def put(notify: Notify, path: str, tenant: str, user: str, *roles: str, **body: Any) -> Any:
    return await notify.client.put(path, headers=notify.headers(tenant, user, *roles), json=body)


async def put_ok(
    notify: Notify, path: str, tenant: str, user: str, *roles: str, **body: Any
) -> Any:
    response = await put(notify, path, tenant, user, *roles, **body)
    assert response.status_code == 200, response.text
    return response.json()


async def put_tenant_defaults(notify: Notify, tenant: str, **body: Any) -> Any:
    """What a tenant admin's successful PUT of the tenant's defaults answers."""
    return await put_ok(notify, TENANT_PREFS, tenant, *TENANT_ADMIN, **body)


async def prefs(notify: Notify, tenant: str, user: str) -> Any:
    response = await notify.get(PREFS, tenant, user)
    assert response.status_code == 200, response.text
    return response.json()


async def people_of(notify: Notify) -> str:
    """A new tenant whose ada, bob and admin are active people in notify's projection."""
    tenant = new_tenant_id()
    await notify.provision(tenant, "ada", "bob", TENANT_ADMIN[0])
    return tenant


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    detail = response.json()["detail"]
    assert all(word in detail for word in words), detail


# --- preferences ---------------------------------------------------------------------------


async def test_defaults_resolve_to_the_built_in_preferences(notify: Notify) -> None:
    body = await prefs(notify, await people_of(notify), "ada")

    assert body["digest"] == "off"
    assert set(body["categories"]) == {c.value for c in Category}
    assert body["categories"]["mention"] == {
        "in_app": {"enabled": True, "locked": False},
        "email": {"enabled": True, "locked": False},
        "push": {"enabled": True, "locked": False},
    }
    assert body["categories"]["reaction"]["email"] == {"enabled": False, "locked": False}


async def test_user_override_persists_and_is_stored_sparse(notify: Notify) -> None:
    tenant = await people_of(notify)

    answered = await put_ok(
        notify,
        PREFS,
        tenant,
        "ada",
        digest="daily",
        categories={"reaction": {"email": True}, "mention": {"push": False}},
    )

    assert answered == await prefs(notify, tenant, "ada")
    assert answered["digest"] == "daily"
    assert answered["categories"]["reaction"]["email"]["enabled"] is True
    assert answered["categories"]["mention"]["push"]["enabled"] is False
    stored = await notify.pool.fetch(
        "SELECT category, channel, enabled FROM user_preferences WHERE tenant_id = $1", tenant
    )
    assert {(r["category"], r["channel"], r["enabled"]) for r in stored} == {
        ("reaction", "email", True),
        ("mention", "push", False),
    }


async def test_null_removes_an_override_and_absent_keeps_it(notify: Notify) -> None:
    tenant = await people_of(notify)
    await put_ok(
        notify,
        PREFS,
        tenant,
        "ada",
        digest="weekly",
        categories={"reaction": {"email": True, "push": True}},
    )

    body = await put_ok(notify, PREFS, tenant, "ada", categories={"reaction": {"email": None}})

    assert body["digest"] == "weekly"
    assert body["categories"]["reaction"]["email"]["enabled"] is False  # built-in again
    assert body["categories"]["reaction"]["push"]["enabled"] is True


async def test_tenant_default_reaches_users_without_an_override_only(notify: Notify) -> None:
    tenant = await people_of(notify)
    await put_ok(notify, PREFS, tenant, "bob", categories={"share": {"email": False}})

    await put_tenant_defaults(notify, tenant, categories={"share": {"email": {"enabled": True}}})

    assert (await prefs(notify, tenant, "ada"))["categories"]["share"]["email"]["enabled"] is True
    assert (await prefs(notify, tenant, "bob"))["categories"]["share"]["email"]["enabled"] is False


async def test_locked_setting_shows_locked_and_cannot_be_turned_off(notify: Notify) -> None:
    tenant = await people_of(notify)
    await put_tenant_defaults(
        notify, tenant, categories={"announcement": {"in_app": {"enabled": True, "locked": True}}}
    )

    refused = await put(
        notify, PREFS, tenant, "ada", categories={"announcement": {"in_app": False}}
    )
    same = await put(notify, PREFS, tenant, "ada", categories={"announcement": {"in_app": True}})

    assert_problem(refused, 422, "locked by the tenant", "announcement.in_app")
    assert refused.json()["locked"] == ["announcement.in_app"]
    assert same.status_code == 200, same.text
    shown = (await prefs(notify, tenant, "ada"))["categories"]["announcement"]["in_app"]
    assert shown == {"enabled": True, "locked": True}


async def test_unknown_category_or_channel_is_refused_by_name(notify: Notify) -> None:
    tenant = await people_of(notify)

    category = await put(notify, PREFS, tenant, "ada", categories={"gossip": {"email": True}})
    channel = await put(notify, PREFS, tenant, "ada", categories={"mention": {"pigeon": True}})
    not_bool = await put(notify, PREFS, tenant, "ada", categories={"mention": {"email": "yes"}})
    digest = await put(notify, PREFS, tenant, "ada", digest="monthly")

    assert_problem(category, 422, "gossip")
    assert_problem(channel, 422, "pigeon")
    assert_problem(not_bool, 422)
    assert_problem(digest, 422, "digest")


async def test_only_tenant_admins_see_and_set_tenant_defaults(notify: Notify) -> None:
    tenant = await people_of(notify)
    change = {"categories": {"reaction": {"email": {"enabled": True}}}}

    put_refused = await put(notify, TENANT_PREFS, tenant, "ada", "member", "moderator", **change)
    get_refused = await notify.get(TENANT_PREFS, tenant, "ada", "member")

    assert_problem(put_refused, 403, "tenant_admin")
    assert_problem(get_refused, 403, "tenant_admin")
    assert (await prefs(notify, tenant, "ada"))["categories"]["reaction"]["email"][
        "enabled"
    ] is False


async def test_tenant_view_is_sparse_and_null_removes_a_default(notify: Notify) -> None:
    tenant = await people_of(notify)
    locked = {"enabled": True, "locked": True}
    await put_tenant_defaults(
        notify,
        tenant,
        categories={"announcement": {"in_app": locked}, "reaction": {"email": {"enabled": True}}},
    )

    body = await put_tenant_defaults(notify, tenant, categories={"reaction": {"email": None}})

    assert body["categories"] == {"announcement": {"in_app": locked}}
    assert body["reminder_leads_s"] == notify.settings.reminder_leads_s


async def test_reminder_lead_times_are_bounded_and_null_restores_the_default(
    notify: Notify,
) -> None:
    tenant = await people_of(notify)
    admin = TENANT_ADMIN

    set_ = await put_tenant_defaults(notify, tenant, reminder_leads_s=[600, 7200, 600])
    too_soon = await put(notify, TENANT_PREFS, tenant, *admin, reminder_leads_s=[59])
    too_far = await put(notify, TENANT_PREFS, tenant, *admin, reminder_leads_s=[31 * 86_400])
    too_many = await put(
        notify, TENANT_PREFS, tenant, *admin, reminder_leads_s=[60, 61, 62, 63, 64, 65]
    )
    kept = await notify.get(TENANT_PREFS, tenant, *admin)
    reset = await put_tenant_defaults(notify, tenant, reminder_leads_s=None)

    assert set_["reminder_leads_s"] == [7200, 600]
    for refused in (too_soon, too_far, too_many):
        assert_problem(refused, 422, "reminder_leads_s")
    assert kept.json()["reminder_leads_s"] == [7200, 600]
    assert reset["reminder_leads_s"] == notify.settings.reminder_leads_s
    async with notify.pool.acquire() as conn:
        assert await store.reminder_leads(conn, tenant, [1]) == [1]


async def test_another_tenants_preferences_are_never_visible(notify: Notify) -> None:
    ours, theirs = await people_of(notify), await people_of(notify)
    await put_ok(
        notify, PREFS, theirs, "ada", digest="hourly", categories={"reaction": {"push": True}}
    )
    await put_tenant_defaults(
        notify,
        theirs,
        categories={"mention": {"email": {"enabled": False, "locked": True}}},
        reminder_leads_s=[120],
        question_routing_delay_s=0,
    )
    await put_ok(notify, MUTES + "/thread/urn:uuid:t1", theirs, "ada")

    mine = await prefs(notify, ours, "ada")
    tenant_view = await notify.get(TENANT_PREFS, ours, *TENANT_ADMIN)
    mutes = await notify.get(MUTES, ours, "ada")
    unmute = await notify.client.delete(
        MUTES + "/thread/urn:uuid:t1", headers=notify.headers(ours, "ada")
    )

    assert mine == await prefs(notify, await people_of(notify), "ada")  # as if nobody set anything
    assert tenant_view.json() == {
        "categories": {},
        "reminder_leads_s": notify.settings.reminder_leads_s,
        "question_routing_delay_s": notify.settings.question_routing_delay_s,
    }
    assert mutes.json() == {"items": []}
    assert_problem(unmute, 404)
    assert (await notify.get(MUTES, theirs, "ada")).json()["items"] != []


# --- mutes ---------------------------------------------------------------------------------


async def test_mutes_are_put_listed_and_deleted(notify: Notify) -> None:
    tenant = await people_of(notify)
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)

    group = await put_ok(
        notify, MUTES + "/group/urn:uuid:g1", tenant, "ada", until=until.isoformat()
    )
    actor = await notify.client.put(MUTES + "/actor/bob", headers=notify.headers(tenant, "ada"))
    listed = await notify.get(MUTES, tenant, "ada")
    deleted = await notify.client.delete(
        MUTES + "/group/urn:uuid:g1", headers=notify.headers(tenant, "ada")
    )
    again = await notify.client.delete(
        MUTES + "/group/urn:uuid:g1", headers=notify.headers(tenant, "ada")
    )

    assert (group["kind"], group["id"]) == ("group", "urn:uuid:g1")
    assert datetime.fromisoformat(group["until"]) == until
    assert actor.status_code == 200, actor.text
    assert actor.json() == {"kind": "actor", "id": "bob", "until": None}
    assert [(m["kind"], m["id"]) for m in listed.json()["items"]] == [
        ("actor", "bob"),
        ("group", "urn:uuid:g1"),
    ]
    assert deleted.status_code == 204
    assert_problem(again, 404)
    assert [m["id"] for m in (await notify.get(MUTES, tenant, "ada")).json()["items"]] == ["bob"]


async def test_bad_mute_kind_or_past_until_is_refused(notify: Notify) -> None:
    tenant = await people_of(notify)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()

    kind = await put(notify, MUTES + "/hashtag/x", tenant, "ada")
    expired = await put(notify, MUTES + "/thread/urn:uuid:t1", tenant, "ada", until=past)
    naive = await put(
        notify, MUTES + "/thread/urn:uuid:t1", tenant, "ada", until="2999-01-01T00:00:00"
    )
    delete_kind = await notify.client.delete(
        MUTES + "/hashtag/x", headers=notify.headers(tenant, "ada")
    )

    assert_problem(kind, 422, "kind")
    assert_problem(expired, 422, "until")
    assert_problem(naive, 422, "until")
    assert_problem(delete_kind, 422, "kind")
    assert (await notify.get(MUTES, tenant, "ada")).json() == {"items": []}


async def test_expired_mutes_are_neither_active_nor_listed(notify: Notify) -> None:
    tenant = await people_of(notify)
    now = datetime.now(UTC)
    soon = now + timedelta(minutes=5)
    async with notify.pool.acquire() as conn:
        await store.set_mute(conn, tenant, "ada", "thread", "urn:uuid:t1", soon)
        await store.set_mute(conn, tenant, "ada", "actor", "bob", None)
        await store.set_mute(conn, tenant, "cy", "group", "urn:uuid:g1", soon)

        before = await store.active_mutes(conn, tenant, ["ada", "cy", "dan"], now)
        after = await store.active_mutes(conn, tenant, ["ada", "cy", "dan"], soon)
        listed_after = await store.list_mutes(conn, tenant, "ada", soon + timedelta(seconds=1))
        gone = await store.delete_mute(conn, tenant, "cy", "group", "urn:uuid:g1", soon)

    assert before == {
        "ada": (Mute("actor", "bob"), Mute("thread", "urn:uuid:t1", soon)),
        "cy": (Mute("group", "urn:uuid:g1", soon),),
        "dan": (),
    }
    assert after == {"ada": (Mute("actor", "bob"),), "cy": (), "dan": ()}
    assert listed_after == [Mute("actor", "bob")]
    assert gone is False  # it had ended: nothing to unmute


async def test_preferences_resolve_for_many_users_at_once(notify: Notify) -> None:
    tenant = await people_of(notify)
    await put_ok(notify, PREFS, tenant, "ada", categories={"reaction": {"push": True}})
    await put_ok(notify, PREFS, tenant, "bob", digest="daily")
    reaction_push = (Category.REACTION, Channel.PUSH)

    async with notify.pool.acquire() as conn:
        resolved = await store.resolved_for(conn, tenant, ["ada", "bob", "ada"])
        digests = await store.digest_of(conn, tenant, ["ada", "bob"])

    assert set(resolved) == {"ada", "bob"}
    assert resolved["ada"][reaction_push].enabled is True
    assert resolved["bob"][reaction_push].enabled is False
    assert digests == {"ada": "off", "bob": "daily"}
