"""Moderation over HTTP: one open report per person, the queue of cases, and decisions —
checked on the responses, the rows, the audit log and the activities in the outbox."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company, member

from canopy_common.iris import new_object_id, user_iri
from canopy_common.vocabulary.canonical import decode_canonical
from canopy_common.vocabulary.changes import change_of

pytestmark = pytest.mark.integration

MODERATOR = ("linus", "moderator")


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    found = await company(api, tenant)
    await api.seed_user(tenant, "mia")
    return found


async def flag(acme: Company, user: str, post_id: str, reason: str = "Rude") -> httpx.Response:
    return await acme.api.client.post(
        f"/v1/posts/{post_id}/flags", json={"reason": reason}, headers=acme.headers(user)
    )


async def queue(acme: Company, *roles: str, user: str = "linus", **params: Any) -> httpx.Response:
    return await acme.api.client.get(
        "/v1/moderation/flags", params=params, headers=acme.headers(user, *roles)
    )


async def resolve(
    acme: Company, case_id: str, action: str, note: str | None = None, *, user: str = "linus"
) -> httpx.Response:
    roles = ("moderator",) if user == "linus" else ()
    body = {"action": action} | ({"note": note} if note is not None else {})
    return await acme.api.client.post(
        f"/v1/moderation/flags/{case_id}/resolve", json=body, headers=acme.headers(user, *roles)
    )


async def reported(acme: Company, *reporters: str, content: str = "rude words") -> str:
    post_id = await acme.posted("ada", content=content)
    for reporter in reporters:
        assert (await flag(acme, reporter, post_id, f"{reporter} says no")).status_code == 201
    return post_id


async def test_a_person_reports_a_post_once_while_it_is_open(acme: Company) -> None:
    post_id = await reported(acme, "grace")

    again = await flag(acme, "grace", post_id, "still rude")

    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert len(await acme.published("Flag")) == 1
    [case] = (await queue(acme, "moderator")).json()["items"]
    assert (await resolve(acme, case["id"], "dismiss")).status_code == 200
    # after a decision the person may report the post again (it may have changed)
    assert (await flag(acme, "grace", post_id)).status_code == 201


async def test_the_queue_groups_open_flags_per_post_oldest_first(acme: Company) -> None:
    first = await reported(acme, "grace", "mia")
    second = await reported(acme, "grace")

    response = await queue(acme, "moderator")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["post"]["id"] for item in items] == [first, second]
    case = items[0]
    assert [(r["user"], r["reason"]) for r in case["reporters"]] == [
        ("grace", "grace says no"),
        ("mia", "mia says no"),
    ]
    assert case["post"] | {"group_id": None} == {
        "id": first,
        "content": "rude words",
        "author": "ada",
        "visibility": "internal",
        "group_id": None,
        "deleted": False,
    }
    assert (case["status"], case["resolution"], case["raised_by_policy"]) == ("open", None, False)
    [flag_row] = [f for f in await acme.published("Flag") if member(f, "object")["id"] == first][:1]
    assert case["id"] == flag_row.id  # the case is named by its first flag


async def test_the_queue_pages_with_a_cursor_and_a_link(acme: Company) -> None:
    posts = [await reported(acme, "grace") for _ in range(3)]

    first = await queue(acme, "moderator", limit=2)
    cursor = first.json()["next_cursor"]
    second = await queue(acme, "moderator", limit=2, cursor=cursor)

    assert [i["post"]["id"] for i in first.json()["items"]] == posts[:2]
    assert 'rel="next"' in first.headers["link"]
    assert "cursor=" in first.headers["link"]
    assert [i["post"]["id"] for i in second.json()["items"]] == posts[2:]
    assert second.json()["next_cursor"] is None
    assert "link" not in second.headers
    assert (await queue(acme, "moderator", cursor="nonsense")).status_code == 400


async def test_dismissing_resolves_every_open_flag_of_the_post(acme: Company) -> None:
    post_id = await reported(acme, "grace", "mia")
    [case] = (await queue(acme, "moderator")).json()["items"]

    response = await resolve(acme, case["id"], "dismiss", "Satire, allowed")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["resolution"]["action"]) == ("resolved", "dismiss")
    assert sorted(body["reporters"]) == ["grace", "mia"]
    assert (await queue(acme, "moderator")).json()["items"] == []
    [done] = (await queue(acme, "moderator", status="resolved")).json()["items"]
    assert (done["id"], done["status"], done["resolution"]["note"]) == (
        case["id"],
        "resolved",
        "Satire, allowed",
    )
    assert (await acme.get("grace", post_id)).status_code == 200  # the post stays
    [decision] = await acme.published("Update")
    assert member(decision, "object")["status"] == "dismissed"
    assert member(decision, "content") == "Satire, allowed"
    # the reporters are told; a dismissal does not trouble the author
    assert sorted(member(decision, "to")) == sorted(
        user_iri(acme.tenant, u) for u in ("grace", "mia")
    )


async def test_the_decision_is_canonical_and_no_feed_change(acme: Company) -> None:
    await reported(acme, "grace")
    [case] = (await queue(acme, "moderator")).json()["items"]
    await resolve(acme, case["id"], "warn")

    [row] = [r for r in await acme.api.outbox(acme.tenant) if b'"Update"' in r["payload"]]
    decision = decode_canonical(row["payload"])

    assert change_of(decision) is None  # fanout and analytics find nothing to apply


async def test_removing_deletes_the_post_through_the_ordinary_delete(acme: Company) -> None:
    post_id = await reported(acme, "grace")
    [case] = (await queue(acme, "moderator")).json()["items"]

    response = await resolve(acme, case["id"], "remove", "Customer data")

    assert response.status_code == 200
    assert response.json()["post_deleted"] is True
    assert (await acme.get("grace", post_id)).status_code == 404
    [delete] = await acme.published("Delete")
    assert member(delete, "object")["type"] == "Tombstone"
    assert member(delete, "object")["id"] == post_id
    [decision] = await acme.published("Update")
    assert member(decision, "object")["status"] == "removed"
    assert user_iri(acme.tenant, "ada") in member(decision, "to")
    [done] = (await queue(acme, "moderator", status="resolved")).json()["items"]
    assert done["post"]["deleted"] is True


async def test_warning_records_a_warning_for_the_author(acme: Company) -> None:
    post_id = await reported(acme, "grace")
    [case] = (await queue(acme, "moderator")).json()["items"]

    response = await resolve(acme, case["id"], "warn", "Mind the tone")

    assert response.status_code == 200
    rows = await acme.api.pool.fetch(
        "SELECT user_id, post_id, moderator_id, note, id FROM warnings WHERE tenant_id = $1",
        acme.tenant,
    )
    assert [tuple(r.values())[:4] for r in rows] == [("ada", post_id, "linus", "Mind the tone")]
    assert rows[0]["id"] == response.json()["decision_id"]
    assert (await acme.get("grace", post_id)).status_code == 200
    [decision] = await acme.published("Update")
    assert member(decision, "object")["status"] == "warned"


async def test_every_decision_is_in_the_audit_log(acme: Company) -> None:
    post_id = await reported(acme, "grace", "mia")
    [case] = (await queue(acme, "moderator")).json()["items"]

    decided = (await resolve(acme, case["id"], "remove", "Customer data")).json()

    rows = await acme.api.pool.fetch(
        "SELECT actor, action, target, details FROM audit_log WHERE tenant_id = $1 "
        "AND action = 'moderation.decision'",
        acme.tenant,
    )
    [entry] = rows
    details = entry["details"]
    details = orjson.loads(details) if isinstance(details, str) else details
    assert (entry["actor"], entry["target"]) == ("linus", post_id)
    assert details["action"] == "remove"
    assert details["case"] == case["id"]
    assert details["decision"] == decided["decision_id"]
    assert len(details["flags"]) == 2


async def test_a_resolved_case_is_a_conflict_and_nothing_more_is_published(acme: Company) -> None:
    await reported(acme, "grace")
    [case] = (await queue(acme, "moderator")).json()["items"]
    assert (await resolve(acme, case["id"], "dismiss")).status_code == 200

    again = await resolve(acme, case["id"], "remove")

    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert len(await acme.published("Update")) == 1
    assert await acme.published("Delete") == []


async def test_unknown_flags_and_other_tenants_flags_are_not_found(
    acme: Company, api: Api, tenant: str
) -> None:
    await reported(acme, "grace")
    [case] = (await queue(acme, "moderator")).json()["items"]
    other = await company(api, f"{tenant}-x")

    theirs = await other.api.client.post(
        f"/v1/moderation/flags/{case['id']}/resolve",
        json={"action": "dismiss"},
        headers=other.headers(*MODERATOR),
    )

    assert theirs.status_code == 404
    assert theirs.headers["content-type"] == PROBLEM
    assert (await resolve(acme, new_object_id(), "dismiss")).status_code == 404
    assert (await resolve(acme, "not-an-id", "dismiss")).status_code == 404
    assert (await queue(other, "moderator")).json()["items"] == []


async def test_only_moderators_see_the_queue_and_decide(acme: Company) -> None:
    await reported(acme, "grace")
    [case] = (await queue(acme, "moderator")).json()["items"]

    listed = await queue(acme, user="grace")
    decided = await resolve(acme, case["id"], "dismiss", user="grace")
    admin = await queue(acme, "tenant_admin", user="grace")

    assert (listed.status_code, decided.status_code, admin.status_code) == (403, 403, 403)
    assert decided.headers["content-type"] == PROBLEM
    assert (await queue(acme, "moderator")).json()["items"][0]["status"] == "open"


async def test_a_note_is_checked_text(acme: Company) -> None:
    await reported(acme, "grace")
    [case] = (await queue(acme, "moderator")).json()["items"]

    assert (await resolve(acme, case["id"], "dismiss", "x" * 1001)).status_code == 422
    assert (await resolve(acme, case["id"], "ban")).status_code == 422


async def test_a_policy_flag_is_a_case_without_reporters(acme: Company) -> None:
    await acme.posted("ada", content="the key AKIAIOSFODNN7EXAMPLE")

    [case] = (await queue(acme, "moderator")).json()["items"]
    response = await resolve(acme, case["id"], "warn")

    assert (case["raised_by_policy"], case["reporters"]) == (True, [])
    assert response.status_code == 200
    [decision] = await acme.published("Update")
    assert member(decision, "to") == [user_iri(acme.tenant, "ada")]
