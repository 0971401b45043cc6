"""Row-level security, the backstop behind every query's tenant filter: on a connection as
the service's pool opens it (the app role), a transaction sees and writes only the tenant it
set, and nothing when it set none."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from ingestion_harness import Api

from canopy_common.db import close_pool, create_pool
from canopy_common.row_security import (
    APP_ROLE,
    assume_app_role,
    scope_to_tenant,
    span_all_tenants,
)

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def app_pool(api: Api) -> AsyncIterator[asyncpg.Pool]:
    """A pool opened as the service opens its own."""
    settings = api.settings
    pool = await create_pool(settings.postgres, schema=settings.db_schema, init=assume_app_role)
    try:
        yield pool
    finally:
        await close_pool(pool)


@pytest_asyncio.fixture
async def two_tenants(api: Api, tenant: str) -> tuple[str, str]:
    other = f"{tenant}-b"
    for t in (tenant, other):
        await api.seed_user(t, "ada")
        await api.seed_user(t, "grace")
    return tenant, other


async def test_the_service_runs_as_a_role_that_cannot_bypass_row_security(
    app_pool: asyncpg.Pool,
) -> None:
    row = await app_pool.fetchrow(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )

    assert row is not None
    assert tuple(row) == (APP_ROLE, False, False)


async def test_a_transaction_that_sets_no_tenant_sees_no_rows(
    app_pool: asyncpg.Pool, api: Api, two_tenants: tuple[str, str]
) -> None:
    async with app_pool.acquire() as conn, conn.transaction():
        seen = await conn.fetchval("SELECT count(*) FROM users")
        tenants = await conn.fetchval("SELECT count(*) FROM tenants")

    assert (seen, tenants) == (0, 0)
    assert await api.pool.fetchval("SELECT count(*) FROM users") >= 4  # the owner sees them


async def test_a_tenants_transaction_never_sees_another_tenants_rows(
    app_pool: asyncpg.Pool, two_tenants: tuple[str, str]
) -> None:
    mine, _ = two_tenants
    async with app_pool.acquire() as conn, conn.transaction():
        await scope_to_tenant(conn, mine)
        # No tenant in the WHERE clause: the policy alone keeps the other tenant out.
        rows = await conn.fetch("SELECT tenant_id, id FROM users ORDER BY id")
        tenants = await conn.fetch("SELECT id FROM tenants")

    assert [tuple(row) for row in rows] == [(mine, "ada"), (mine, "grace")]
    assert [row["id"] for row in tenants] == [mine]


async def as_tenant(pool: asyncpg.Pool, tenant: str, statement: str, *args: object) -> str:
    """Run one statement in a transaction scoped to ``tenant``; its status."""
    async with pool.acquire() as conn, conn.transaction():
        await scope_to_tenant(conn, tenant)
        status: str = await conn.execute(statement, *args)
        return status


async def test_writes_for_another_tenant_are_refused_or_miss(
    app_pool: asyncpg.Pool, api: Api, two_tenants: tuple[str, str]
) -> None:
    mine, theirs = two_tenants
    insert = (
        "INSERT INTO users (tenant_id, id, handle, display_name, kind) "
        "VALUES ($1, 'mallory', 'mallory', 'Mallory', 'employee')"
    )
    move = "UPDATE users SET tenant_id = $1 WHERE tenant_id = $2 AND id = 'ada'"

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await as_tenant(app_pool, mine, insert, theirs)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await as_tenant(app_pool, mine, move, theirs, mine)  # a row of mine into theirs
    updated = await as_tenant(
        app_pool, mine, "UPDATE users SET title = 'pwned' WHERE tenant_id = $1", theirs
    )

    assert updated == "UPDATE 0"
    assert [
        tuple(row)
        for row in await api.pool.fetch(
            "SELECT tenant_id, id, title FROM users "
            "WHERE tenant_id = ANY($1::text[]) ORDER BY 1, 2",
            [mine, theirs],
        )
    ] == [
        (mine, "ada", None),
        (mine, "grace", None),
        (theirs, "ada", None),
        (theirs, "grace", None),
    ]


async def test_work_spanning_tenants_says_so_and_sees_them_all(
    app_pool: asyncpg.Pool, two_tenants: tuple[str, str]
) -> None:
    async with app_pool.acquire() as conn, conn.transaction():
        await span_all_tenants(conn)
        tenants = await conn.fetchval(
            "SELECT count(DISTINCT tenant_id) FROM users WHERE tenant_id = ANY($1::text[])",
            list(two_tenants),
        )

    assert tenants == 2


async def test_the_tenant_ends_with_its_transaction(
    app_pool: asyncpg.Pool, two_tenants: tuple[str, str]
) -> None:
    async with app_pool.acquire() as conn:
        async with conn.transaction():
            await scope_to_tenant(conn, two_tenants[0])
        # The same pooled connection, next user: nothing carried over.
        assert await conn.fetchval("SELECT count(*) FROM users") == 0


async def test_the_app_role_may_not_change_the_audit_log_even_past_the_trigger(
    app_pool: asyncpg.Pool, tenant: str
) -> None:
    for statement in (
        "UPDATE audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await as_tenant(app_pool, tenant, statement)


@pytest.mark.parametrize("tenant", ["", "*"])
async def test_a_tenant_scope_needs_a_tenant_id(app_pool: asyncpg.Pool, tenant: str) -> None:
    async with app_pool.acquire() as conn, conn.transaction():
        with pytest.raises(ValueError, match="not a tenant id"):
            await scope_to_tenant(conn, tenant)
