"""Tenants and people in the ``ingestion`` schema (asyncpg; the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from canopy_common.db import Connection
from canopy_common.members import PersonDirectory, ProjectedPeople
from canopy_ingestion.adapters.keyed_fetch import fetch_by_keys
from canopy_ingestion.domain.model import Tenant, User, UserKind


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a request, and their tenant (its content policy)."""

    user: User
    tenant: Tenant


def user_from_row(row: asyncpg.Record | dict[str, Any]) -> User:
    return User(
        tenant_id=row["tenant_id"],
        id=row["id"],
        handle=row["handle"],
        display_name=row["display_name"],
        kind=UserKind(row["kind"]),
        title=row["title"],
        department=row["department"],
        location=row["location"],
        skills=tuple(row["skills"]),
        interests=tuple(row["interests"]),
        manager_id=row["manager_id"],
        email=row["email"],
        roles=tuple(row["roles"]),
        active=row["active"],
        summary=row["summary"],
        pronouns=row["pronouns"],
        erased=row["erased"],
    )


async def get_tenant(conn: Connection, tenant_id: str) -> Tenant | None:
    row = await conn.fetchrow(
        "SELECT id, name, content_policy FROM tenants WHERE id = $1", tenant_id
    )
    return Tenant(row["id"], row["name"], row["content_policy"]) if row else None


async def replace_content_policy(
    conn: Connection, tenant_id: str, policy: list[dict[str, str | None]] | None
) -> list[Any] | None:
    """Set the tenant's content rules (``None``: the defaults); returns the ones replaced.
    The row stays locked to the end of the transaction, so concurrent replacements queue and
    each audit entry names what it really replaced."""
    before = await conn.fetchval(
        "SELECT content_policy FROM tenants WHERE id = $1 FOR UPDATE", tenant_id
    )
    await conn.execute("UPDATE tenants SET content_policy = $2 WHERE id = $1", tenant_id, policy)
    replaced: list[Any] | None = before
    return replaced


# A person's standing (canopy_common.members): the write model is the source of every
# projection's; deactivation and erasure both leave the row with active = false.
STANDING = "SELECT active FROM users WHERE tenant_id = $1 AND id = $2"


def people(pool: asyncpg.Pool) -> PersonDirectory:
    """Who may act, from the write model (``ServiceDefinition.people``), read in a transaction
    of the caller's tenant: the users table has row-level security (docs/architecture.md §15)."""
    return ProjectedPeople(pool, STANDING, tenant_scoped=True)


async def get_caller(conn: Connection, tenant_id: str, user_id: str) -> Caller | None:
    """A person of the tenant, active or not, with their tenant (one query); None when there
    is no such person."""
    row = await conn.fetchrow(
        "SELECT u.*, t.name AS tenant_name, t.content_policy AS tenant_content_policy "
        "FROM users u JOIN tenants t ON t.id = u.tenant_id "
        "WHERE u.tenant_id = $1 AND u.id = $2",
        tenant_id,
        user_id,
    )
    if row is None:
        return None
    tenant = Tenant(row["tenant_id"], row["tenant_name"], row["tenant_content_policy"])
    return Caller(user_from_row(row), tenant)


async def get_user(conn: Connection, tenant_id: str, user_id: str) -> User | None:
    """A person of the tenant, active or not; None when there is no such person."""
    row = await conn.fetchrow(
        "SELECT * FROM users WHERE tenant_id = $1 AND id = $2", tenant_id, user_id
    )
    return user_from_row(row) if row else None


async def get_users(conn: Connection, tenant_id: str, user_ids: Iterable[str]) -> dict[str, User]:
    """The tenant's people among ``user_ids``, by id (one query)."""
    rows = await conn.fetch(
        "SELECT * FROM users WHERE tenant_id = $1 AND id = ANY($2::text[])",
        tenant_id,
        list(set(user_ids)),
    )
    return {row["id"]: user_from_row(row) for row in rows}


async def users_by_key(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], User]:
    """The people that exist among ``(tenant id, user id)`` keys, of any tenants (one query)."""
    rows = await fetch_by_keys(
        conn,
        "SELECT u.* FROM users u JOIN unnest($1::text[], $2::text[]) AS k (tenant_id, id) "
        "  ON u.tenant_id = k.tenant_id AND u.id = k.id",
        keys,
    )
    return {(row["tenant_id"], row["id"]): user_from_row(row) for row in rows}


async def tenants_by_id(conn: Connection, tenant_ids: Iterable[str]) -> dict[str, Tenant]:
    """Those of ``tenant_ids`` that are provisioned (one query)."""
    rows = await conn.fetch(
        "SELECT id, name, content_policy FROM tenants WHERE id = ANY($1::text[])",
        list(tenant_ids),
    )
    return {row["id"]: Tenant(row["id"], row["name"], row["content_policy"]) for row in rows}


async def active_users_by_handle_key(
    conn: Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], User]:
    """Active people by ``(tenant id, lower-case handle)``, of any tenants (one query)."""
    rows = await fetch_by_keys(
        conn,
        "SELECT u.* FROM users u JOIN unnest($1::text[], $2::text[]) AS k (tenant_id, handle) "
        "  ON u.tenant_id = k.tenant_id AND lower(u.handle) = k.handle "
        "WHERE u.active",
        keys,
    )
    return {(row["tenant_id"], row["handle"].lower()): user_from_row(row) for row in rows}


async def active_users_by_handle(
    conn: Connection, tenant_id: str, handles: Iterable[str]
) -> dict[str, User]:
    """Active people by lower-cased handle, for resolving @mentions (one query)."""
    rows = await conn.fetch(
        "SELECT * FROM users WHERE tenant_id = $1 AND active AND lower(handle) = ANY($2::text[])",
        tenant_id,
        [handle.lower() for handle in set(handles)],
    )
    return {row["handle"].lower(): user_from_row(row) for row in rows}


# --- writes ---------------------------------------------------------------------------------

# What an erased person's profile keeps: the id (in every IRI already), the kind, inactive.
ERASED_DISPLAY_NAME = "Deleted user"


async def upsert_tenant(conn: Connection, tenant_id: str, name: str) -> bool | None:
    """Create or rename a tenant: True when created, False when renamed, None when unchanged."""
    row = await conn.fetchrow(
        "INSERT INTO tenants AS t (id, name) VALUES ($1, $2) "
        "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now() "
        "WHERE t.name IS DISTINCT FROM EXCLUDED.name "
        "RETURNING (xmax = 0) AS created",
        tenant_id,
        name,
    )
    return None if row is None else bool(row["created"])


async def lock_person(conn: Connection, tenant_id: str, user_id: str) -> None:
    """Serialise writes to one person (id not yet a row, so a row lock cannot do it)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"ingestion.users:{tenant_id}:{user_id}",  # unambiguous: tenant ids hold no ":"
    )


async def lock_people(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    """:func:`lock_person` for many ``(tenant id, user id)`` at once, in one order (so two
    transactions locking overlapping people queue instead of deadlocking)."""
    names = sorted(f"ingestion.users:{tenant}:{user}" for tenant, user in set(keys))
    if names:
        await conn.execute(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(name, 0))) "
            "FROM unnest($1::text[]) AS name",  # a function scan: in the array's order
            names,
        )


async def active_handle_owner(
    conn: Connection, tenant_id: str, handle: str, *, other_than: str
) -> str | None:
    """The id of the active person (other than ``other_than``) holding ``handle``, any case."""
    owner: str | None = await conn.fetchval(
        "SELECT id FROM users WHERE tenant_id = $1 AND active AND lower(handle) = lower($2) "
        "AND id <> $3",
        tenant_id,
        handle,
        other_than,
    )
    return owner


async def save_user(conn: Connection, user: User) -> None:
    """Insert the person, or overwrite their profile and standing (``user.active``; an erased
    person provisioned again is erased no more)."""
    await conn.execute(
        "INSERT INTO users (tenant_id, id, handle, display_name, title, department, location, "
        "skills, interests, kind, manager_id, email, roles, active) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
        "ON CONFLICT (tenant_id, id) DO UPDATE SET handle = EXCLUDED.handle, "
        "display_name = EXCLUDED.display_name, title = EXCLUDED.title, "
        "department = EXCLUDED.department, location = EXCLUDED.location, "
        "skills = EXCLUDED.skills, interests = EXCLUDED.interests, kind = EXCLUDED.kind, "
        "manager_id = EXCLUDED.manager_id, email = EXCLUDED.email, roles = EXCLUDED.roles, "
        "active = EXCLUDED.active, erased = false, updated_at = now()",
        user.tenant_id,
        user.id,
        user.handle,
        user.display_name,
        user.title,
        user.department,
        user.location,
        list(user.skills),
        list(user.interests),
        user.kind.value,
        user.manager_id,
        user.email,
        list(user.roles),
        user.active,
    )


# Every profile column of many people in one statement (what save_user writes for one).
_SAVE_USERS = """
INSERT INTO users (tenant_id, id, handle, display_name, title, department, location, skills,
                   interests, kind, manager_id, email, roles, active)
SELECT tenant_id, id, handle, display_name, title, department, location, skills, interests,
       kind, manager_id, email, roles, active
FROM jsonb_to_recordset($1::jsonb) AS saved (
    tenant_id text, id text, handle text, display_name text, title text, department text,
    location text, skills text[], interests text[], kind text, manager_id text, email text,
    roles text[], active boolean)
ON CONFLICT (tenant_id, id) DO UPDATE SET handle = EXCLUDED.handle,
    display_name = EXCLUDED.display_name, title = EXCLUDED.title,
    department = EXCLUDED.department, location = EXCLUDED.location, skills = EXCLUDED.skills,
    interests = EXCLUDED.interests, kind = EXCLUDED.kind, manager_id = EXCLUDED.manager_id,
    email = EXCLUDED.email, roles = EXCLUDED.roles, active = EXCLUDED.active, erased = false,
    updated_at = now()
"""


async def save_users(conn: Connection, users: Iterable[User]) -> None:
    """:func:`save_user` for many people (distinct ones) in one statement."""
    rows = [
        {
            "tenant_id": user.tenant_id,
            "id": user.id,
            "handle": user.handle,
            "display_name": user.display_name,
            "title": user.title,
            "department": user.department,
            "location": user.location,
            "skills": user.skills,
            "interests": user.interests,
            "kind": user.kind.value,
            "manager_id": user.manager_id,
            "email": user.email,
            "roles": user.roles,
            "active": user.active,
        }
        for user in users
    ]
    if rows:
        await conn.execute(_SAVE_USERS, rows)


async def save_own_profile(conn: Connection, user: User) -> None:
    """Store the fields a person edits themselves (handlers.profiles)."""
    await conn.execute(
        "UPDATE users SET summary = $3, pronouns = $4, location = $5, skills = $6, "
        "interests = $7, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        user.tenant_id,
        user.id,
        user.summary,
        user.pronouns,
        user.location,
        list(user.skills),
        list(user.interests),
    )


async def erase_user(conn: Connection, tenant_id: str, user_id: str) -> User:
    """Deactivate a person and anonymise their profile (GDPR erasure); returns what is left."""
    row = await conn.fetchrow(
        "UPDATE users SET active = false, erased = true, handle = id, display_name = $3, "
        "title = NULL, "
        "department = NULL, location = NULL, skills = '{}', interests = '{}', "
        "manager_id = NULL, email = NULL, roles = '{}', summary = NULL, pronouns = NULL, "
        "updated_at = now() "
        "WHERE tenant_id = $1 AND id = $2 RETURNING *",
        tenant_id,
        user_id,
        ERASED_DISPLAY_NAME,
    )
    assert row is not None, "erase_user needs an existing person"
    return user_from_row(row)


async def set_active(conn: Connection, tenant_id: str, user_id: str, active: bool) -> User:
    """Deactivate (``active`` False) or reactivate a person who is not erased; profile and
    relations stay as they are. Returns them as they now are."""
    row = await conn.fetchrow(
        "UPDATE users SET active = $3, updated_at = now() "
        "WHERE tenant_id = $1 AND id = $2 AND NOT erased RETURNING *",
        tenant_id,
        user_id,
        active,
    )
    assert row is not None, "set_active needs a person who is not erased"
    return user_from_row(row)


async def clear_manager(conn: Connection, tenant_id: str, manager_id: str) -> list[User]:
    """Unset ``manager_id`` wherever it is someone's manager; returns those people, updated."""
    rows = await conn.fetch(
        "UPDATE users SET manager_id = NULL, updated_at = now() "
        "WHERE tenant_id = $1 AND manager_id = $2 RETURNING *",
        tenant_id,
        manager_id,
    )
    return [user_from_row(row) for row in rows]


async def remove_relations(conn: Connection, tenant_id: str, user_id: str) -> None:
    """Drop every membership, pending invite and join request, follow, tag follow, block,
    mute and bookmark of a person, both ways (invites they sent stay: the group, not the
    inviter, grants them), and how far they read their conversations."""
    statements = (
        "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM invites WHERE tenant_id = $1 AND invitee_id = $2",
        "DELETE FROM join_requests WHERE tenant_id = $1 AND requester_id = $2",
        "DELETE FROM follows WHERE tenant_id = $1 AND (follower_id = $2 OR followee_id = $2)",
        "DELETE FROM tag_follows WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM blocks WHERE tenant_id = $1 AND (blocker_id = $2 OR blocked_id = $2)",
        "DELETE FROM mutes WHERE tenant_id = $1 AND (user_id = $2 OR muted_id = $2)",
        "DELETE FROM bookmarks WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM conversation_reads WHERE tenant_id = $1 AND user_id = $2",
    )
    for statement in statements:
        await conn.execute(statement, tenant_id, user_id)


async def shares_group(conn: Connection, tenant_id: str, user_id: str, other_id: str) -> bool:
    """Whether two people are members of at least one common group."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM memberships a JOIN memberships b "
        "ON b.tenant_id = a.tenant_id AND b.group_id = a.group_id "
        "WHERE a.tenant_id = $1 AND a.user_id = $2 AND b.user_id = $3)",
        tenant_id,
        user_id,
        other_id,
    )
    return found


def seen_by_guest(person: str, guest: str) -> str:
    """SQL: the person ``person`` (a column) is the guest ``guest`` (a parameter) or shares a
    group with them — whom a guest sees (``domain.permissions.can_see_person``), in a query
    whose ``$1`` is the tenant."""
    return (
        f"({person} = {guest} OR EXISTS (SELECT 1 FROM memberships a JOIN memberships b "
        "ON b.tenant_id = a.tenant_id AND b.group_id = a.group_id "
        f"WHERE a.tenant_id = $1 AND a.user_id = {guest} AND b.user_id = {person}))"
    )


async def direct_reports(
    conn: Connection, tenant_id: str, manager_id: str, *, limit: int
) -> tuple[list[User], int]:
    """The first ``limit`` active people ``manager_id`` manages, by name, and how many there
    are (one query)."""
    rows = await conn.fetch(
        "SELECT u.*, count(*) OVER () AS total FROM users u "
        "WHERE u.tenant_id = $1 AND u.manager_id = $2 AND u.active "
        "ORDER BY lower(u.display_name), u.id LIMIT $3",
        tenant_id,
        manager_id,
        limit,
    )
    return [user_from_row(row) for row in rows], rows[0]["total"] if rows else 0


async def search_users(
    conn: Connection,
    tenant_id: str,
    *,
    text: str | None,
    skill: str | None,
    limit: int,
    after: tuple[str, str] | None,
    guest_id: str | None,
    former: bool = False,
) -> list[tuple[User, tuple[str, str]]]:
    """Active people (``former``: deactivated ones, never erased) matching ``text`` (handle,
    name, title, department; any case) and
    ``skill`` (exact, any case), by name then id, after the ``after`` sort key.

    ``guest_id``: the searcher is this guest, who finds themselves and the people they share
    a group with. Returns each person with their sort key (for the next page's cursor).
    """
    standing = "NOT u.active AND NOT u.erased" if former else "u.active"
    conditions = ["u.tenant_id = $1", standing]
    args: list[Any] = [tenant_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if text:
        pattern = arg("%" + _escape_like(text) + "%")
        conditions.append(
            "("
            + " OR ".join(
                f"u.{column} ILIKE {pattern}"
                for column in ("handle", "display_name", "title", "department")
            )
            + ")"
        )
    if skill:
        conditions.append(
            f"EXISTS (SELECT 1 FROM unnest(u.skills) s WHERE lower(s) = lower({arg(skill)}))"
        )
    if guest_id is not None:
        conditions.append(seen_by_guest("u.id", arg(guest_id)))
    if after is not None:
        conditions.append(f"(lower(u.display_name), u.id) > ({arg(after[0])}, {arg(after[1])})")
    rows = await conn.fetch(
        "SELECT u.*, lower(u.display_name) AS sort_name FROM users u "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY lower(u.display_name), u.id LIMIT {arg(limit)}",
        *args,
    )
    return [(user_from_row(row), (row["sort_name"], row["id"])) for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
