"""The audit log: privileged actions recorded with their action, read by tenant admins
(filters, pages, CSV), and refused any change by the database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from ingestion_harness import Api
from posts_harness import company
from upstream_harness import person_doc, send

from canopy_common.kafka import Producer
from canopy_testing.system import upstream_activity

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def admin(api: Api, tenant: str, user: str = "hr-admin") -> dict[str, str]:
    return api.headers(tenant, user, "tenant_admin")


async def provision(api: Api, tenant: str, user: str, **fields: Any) -> httpx.Response:
    await reader(api, tenant)
    body = {"handle": user, "display_name": user.title(), **fields}
    return await api.client.put(f"/v1/users/{user}", json=body, headers=admin(api, tenant))


async def reader(api: Api, tenant: str, user: str = "hr-admin") -> None:
    """The admin reading the log: an active person of the tenant (every route takes one),
    seeded straight into the table so that seeding leaves no entry of its own."""
    await api.seed_tenant(tenant)
    await api.pool.execute(
        "INSERT INTO users (tenant_id, id, handle, display_name, kind) "
        "VALUES ($1, $2, $2, $2, 'employee') ON CONFLICT DO NOTHING",
        tenant,
        user,
    )


async def entries(api: Api, tenant: str, **params: Any) -> list[dict[str, Any]]:
    await reader(api, tenant)
    response = await api.client.get("/v1/audit", params=params, headers=admin(api, tenant))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def summary(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(item["actor"], item["action"], item["target"]) for item in items]


async def test_provisioning_roles_and_erasure_are_recorded_newest_first(
    api: Api, tenant: str
) -> None:
    assert (await provision(api, tenant, "ada")).status_code == 201
    assert (await provision(api, tenant, "ada", title="CTO")).status_code == 200
    assert (await provision(api, tenant, "ada", title="CTO")).status_code == 200  # unchanged
    roles = await provision(api, tenant, "ada", title="CTO", roles=["moderator"])
    assert roles.status_code == 200
    erased = await api.client.delete("/v1/users/ada", headers=admin(api, tenant))
    assert erased.status_code == 204

    items = await entries(api, tenant)

    assert summary(items) == [
        ("hr-admin", "user.erase", "ada"),
        ("hr-admin", "user.roles", "ada"),
        ("hr-admin", "user.update", "ada"),
        ("hr-admin", "user.create", "ada"),
    ]
    assert items[1]["details"] == {"from": [], "to": ["moderator"]}
    assert items[2]["details"] == {"fields": ["title"]}
    # Field names only: the erased person's profile does not survive in the log.
    assert "CTO" not in str(items)


async def test_a_refused_action_leaves_no_entry(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "grace")
    taken = await provision(api, tenant, "ada", handle="grace")

    assert taken.status_code == 409
    assert await entries(api, tenant) == []


async def test_a_platform_admin_provisioning_a_tenant_is_recorded_in_that_tenant(
    api: Api, tenant: str
) -> None:
    root = api.headers("platform", "root", "platform_admin")
    await api.client.put(f"/v1/tenants/{tenant}", json={"name": "Acme"}, headers=root)
    await api.client.put(f"/v1/tenants/{tenant}", json={"name": "Acme Corp"}, headers=root)

    items = await entries(api, tenant)

    assert summary(items) == [
        ("platform:root", "tenant.rename", tenant),
        ("platform:root", "tenant.create", tenant),
    ]
    assert items[0]["details"] == {"name": "Acme Corp"}


async def test_admin_deletions_of_posts_are_recorded_and_an_authors_own_are_not(
    api: Api, tenant: str
) -> None:
    acme = await company(api, tenant)
    own = await acme.posted("grace", content="mine")
    other = await acme.posted("grace", content="theirs")
    for post_id, user, roles in ((own, "grace", ()), (other, "linus", ("moderator",))):
        deleted = await api.client.delete(
            f"/v1/posts/{post_id}", headers=acme.headers(user, *roles)
        )
        assert deleted.status_code == 204

    items = await entries(api, tenant, action="post.delete")

    assert summary(items) == [("linus", "post.delete", other)]
    assert items[0]["details"] == {"author": "grace", "as": "moderator", "group": None}


async def test_hr_provisioning_through_upstream_is_recorded_with_the_bot_as_actor(
    api: Api, upstream: Producer, tenant: str, hr: str
) -> None:
    joiner = person_doc(tenant, "mo", "mo", roles=["moderator"])

    await send(upstream, api, tenant, upstream_activity(tenant, hr, "Create", joiner))

    assert summary(await entries(api, tenant)) == [
        (hr, "user.roles", "mo"),
        (hr, "user.create", "mo"),
    ]


async def test_filters_pages_and_link_header(api: Api, tenant: str) -> None:
    for user in ("u1", "u2", "u3"):
        await provision(api, tenant, user)
    await api.client.delete("/v1/users/u2", headers=admin(api, tenant))

    first = await api.client.get(
        "/v1/audit", params={"action": "user.create", "limit": 2}, headers=admin(api, tenant)
    )
    body = first.json()
    assert [item["target"] for item in body["items"]] == ["u3", "u2"]
    link = first.headers["link"]
    assert link.endswith('>; rel="next"')
    assert f"cursor={body['next_cursor']}" in link
    second = await api.client.get(link[1 : link.index(">")], headers=admin(api, tenant))
    assert [item["target"] for item in second.json()["items"]] == ["u1"]
    assert second.json()["next_cursor"] is None
    assert "link" not in second.headers

    assert summary(await entries(api, tenant, actor="hr-admin", action="user.erase")) == [
        ("hr-admin", "user.erase", "u2")
    ]
    assert await entries(api, tenant, actor="someone-else") == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert await entries(api, tenant, since=future) == []
    assert len(await entries(api, tenant, since=past, until=future)) == 4
    assert await entries(api, tenant, until=past) == []


async def test_the_whole_filtered_log_as_csv_by_accept_or_format(api: Api, tenant: str) -> None:
    await provision(api, tenant, "ada")
    await provision(api, tenant, "grace", roles=["analyst"])

    by_accept = await api.client.get(
        "/v1/audit", params={"limit": 1}, headers={**admin(api, tenant), "Accept": "text/csv"}
    )
    by_format = await api.client.get(
        "/v1/audit", params={"format": "csv", "action": "user.roles"}, headers=admin(api, tenant)
    )

    assert by_accept.status_code == 200
    assert by_accept.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(by_accept.text)))
    assert rows[0] == ["at", "actor", "action", "target", "details"]
    # CSV is the whole log (limit is for pages).
    assert [row[2:4] for row in rows[1:]] == [
        ["user.roles", "grace"],
        ["user.create", "grace"],
        ["user.create", "ada"],
    ]
    assert list(csv.reader(io.StringIO(by_format.text)))[1][2:] == [
        "user.roles",
        "grace",
        '{"from":[],"to":["analyst"]}',
    ]


async def test_only_tenant_admins_read_it_and_never_another_tenants(api: Api, tenant: str) -> None:
    await provision(api, tenant, "ada")
    other = f"{tenant}-other"

    member = await api.client.get("/v1/audit", headers=api.headers(tenant, "ada", "member"))
    await reader(api, other, "boss")
    elsewhere = await api.client.get("/v1/audit", headers=admin(api, other, "boss"))

    assert member.status_code == 403
    assert member.headers["content-type"] == PROBLEM
    assert elsewhere.status_code == 200
    assert elsewhere.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "field", "status"),
    [
        ({"action": "user.delete"}, "action", 422),
        ({"since": "2026-01-01T00:00:00"}, "since", 422),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since", 422),
        ({"cursor": "not-a-cursor"}, "cursor", 400),
    ],
)
async def test_bad_filters_are_refused_naming_the_field(
    api: Api, tenant: str, params: dict[str, str], field: str, status: int
) -> None:
    await reader(api, tenant)
    response = await api.client.get("/v1/audit", params=params, headers=admin(api, tenant))

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'nobody' WHERE tenant_id = $1",
        "DELETE FROM audit_log WHERE tenant_id = $1",
        "TRUNCATE audit_log",
    ],
)
async def test_the_database_refuses_to_change_or_remove_entries(
    api: Api, tenant: str, statement: str
) -> None:
    await provision(api, tenant, "ada")
    args = [tenant] if "$1" in statement else []

    # The test pool is the schema's owner (a superuser): the trigger refuses even it.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await api.pool.execute(statement, *args)

    assert summary(await entries(api, tenant)) == [("hr-admin", "user.create", "ada")]
