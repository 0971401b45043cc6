"""Row-level security: Postgres's backstop for tenant isolation (docs/architecture.md §15).

Every query filters on the tenant (§8); the backstop makes a query that forgets to see
nothing. A service that opts in (``ServiceDefinition.row_level_security``):

- runs its pooled connections as :data:`APP_ROLE`, a NOLOGIN role that owns nothing and is
  no superuser (both bypass row-level security), granted what the service's tables need
  (:func:`grant_app_role`, after every migration run: migrations keep running as the DSN
  user, the owner);
- enables row-level security on its tenant-owned tables with a policy comparing
  ``tenant_id`` to the setting :data:`TENANT_SETTING` (a migration of the service);
- sets that setting at the start of every transaction: :func:`scope_to_tenant` for work of
  one tenant, :func:`span_all_tenants` — the one, visible, way out — for work that
  legitimately spans tenants (the outbox relay, a consumer batch holding many tenants'
  records, retention sweeps).

The setting is transaction-local (``set_config(..., true)``): it ends with the transaction,
so nothing of one request reaches the next user of a pooled connection, and a transaction
that sets nothing sees no row.
"""

from __future__ import annotations

import asyncpg

from canopy_common.db import Connection, quote_schema

# The role every opted-in service's queries run as (one for the cluster: grants are per
# schema, so services and test schemas side by side share it).
APP_ROLE = "canopy_app"
# The transaction-local setting the policies compare each row's tenant with.
TENANT_SETTING = "canopy.tenant"
# What span_all_tenants sets; no tenant id can be it (tenant ids start with a letter or digit).
ALL_TENANTS = "*"
# The trigger that makes a table append-only (ingestion's audit log): the app role gets no
# UPDATE or DELETE on a table carrying it.
APPEND_ONLY_TRIGGER = "refuse_changes"


async def scope_to_tenant(conn: Connection, tenant: str) -> None:
    """Let the current transaction see and write ``tenant``'s rows only.

    Call it first in the transaction; outside one it lasts a single statement. Raises
    :class:`ValueError` for an empty tenant or :data:`ALL_TENANTS` (use
    :func:`span_all_tenants`, which says so).
    """
    if not tenant or tenant == ALL_TENANTS:
        raise ValueError(f"not a tenant id: {tenant!r}")
    await conn.execute("SELECT set_config($1, $2, true)", TENANT_SETTING, tenant)


async def span_all_tenants(conn: Connection) -> None:
    """Let the current transaction see and write every tenant's rows: only for work that
    spans tenants by nature (relaying the outbox, applying a consumer batch of many tenants'
    records, sweeping old rows). Call it first in the transaction."""
    await conn.execute("SELECT set_config($1, $2, true)", TENANT_SETTING, ALL_TENANTS)


async def assume_app_role(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Switch a new pooled connection to :data:`APP_ROLE` (the pool's ``init``): from then on
    the connection is subject to row-level security. The DSN user must be a member of the
    role (:func:`grant_app_role` makes it one)."""
    await conn.execute(f"SET ROLE {APP_ROLE}")


async def grant_app_role(conn: Connection, schema: str) -> None:
    """Create :data:`APP_ROLE` if missing (NOLOGIN, idempotent even when services start
    together), make the DSN user a member, and grant it what a service needs in ``schema``:
    usage, reading and writing every table, its sequences; no UPDATE, DELETE or TRUNCATE on
    the tables carrying the :data:`APPEND_ONLY_TRIGGER`. Run after the migrations (as the
    owner), so new tables are covered.

    The DSN user needs CREATEROLE the first time (a superuser has it), or an operator creates
    the role and grants it to that user beforehand.
    """
    quoted = quote_schema(schema)
    await conn.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION
            -- Another service created it in between.
            WHEN duplicate_object OR unique_violation THEN NULL;
        END
        $$
        """
    )
    if not await conn.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", APP_ROLE):
        await conn.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")
    async with conn.transaction():
        await conn.execute(
            f"GRANT USAGE ON SCHEMA {quoted} TO {APP_ROLE};"
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quoted} TO {APP_ROLE};"
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quoted} TO {APP_ROLE};"
        )
        append_only = await conn.fetch(
            "SELECT DISTINCT c.relname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND t.tgname = $2",
            schema,
            APPEND_ONLY_TRIGGER,
        )
        for row in append_only:
            table = f'{quoted}."{row["relname"]}"'
            await conn.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")
