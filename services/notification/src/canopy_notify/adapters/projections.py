"""The notification service's view of people, groups and the graph, built from activities
(docs/architecture.md §1: event-carried state transfer), and what the recipient pipeline reads from
it.
Repositories never commit: the consumer's transaction holds every change to one activity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from canopy_common.activities import Membership, as_object, user_id
from canopy_common.audience import Item
from canopy_common.db import Connection
from canopy_common.events import AS2Object, StrictActivity, ref_id
from canopy_common.group_rows import apply_membership_row, upsert_group_row
from canopy_common.members import PersonDirectory, ProjectedPeople
from canopy_common.visibility import Reader, Ties, group_visibility_of

_ADMIN_ROLES = ("owner", "admin")


# A person's standing (canopy_common.members): rows are made by a person's Create only.
STANDING = "SELECT active FROM people WHERE tenant_id = $1 AND user_id = $2"


def people(pool: asyncpg.Pool) -> PersonDirectory:
    """Who may act, from this projection (``ServiceDefinition.people``)."""
    return ProjectedPeople(pool, STANDING)


async def upsert_person(conn: Connection, tenant: str, person: AS2Object) -> None:
    """A person's Create or Update: kind, names, email, tenant roles and standing (a
    deactivated person, ``active: false``, is told nothing until reactivated)."""
    uid = user_id(tenant, person.id)
    if uid is None:
        return
    await conn.execute(
        "INSERT INTO people (tenant_id, user_id, kind, handle, name, email, roles, active) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
        "ON CONFLICT (tenant_id, user_id) DO UPDATE SET kind = EXCLUDED.kind, "
        "handle = EXCLUDED.handle, name = EXCLUDED.name, email = EXCLUDED.email, "
        "roles = EXCLUDED.roles, active = EXCLUDED.active",
        tenant,
        uid,
        person.kind or "employee",
        person.preferred_username,
        person.name,
        person.email,
        person.roles or [],
        person.active is not False,
    )


async def erase_person(conn: Connection, tenant: str, uid: str) -> None:
    """A person's erasure: they are told nothing more, and what they were told is purged."""
    await conn.execute(
        "UPDATE people SET active = false, email = NULL, name = NULL, handle = NULL "
        "WHERE tenant_id = $1 AND user_id = $2",
        tenant,
        uid,
    )
    for table in ("notifications", "user_preferences", "user_settings", "mutes"):
        column = "recipient" if table == "notifications" else "user_id"
        await conn.execute(
            f"DELETE FROM {table} WHERE tenant_id = $1 AND {column} = $2", tenant, uid
        )
    await conn.execute(
        "DELETE FROM notification_actors WHERE actor_id = $2 AND notification_id IN "
        "(SELECT id FROM notifications WHERE tenant_id = $1)",
        tenant,
        uid,
    )


async def upsert_group(conn: Connection, tenant: str, group: AS2Object) -> None:
    if not group.id:
        return
    await upsert_group_row(
        conn,
        tenant,
        group.id,
        name=group.name,
        # AS2's spelling: private is "group"
        visibility=group_visibility_of(group.visibility).as2.value,
    )


async def apply_membership(conn: Connection, tenant: str, change: Membership) -> None:
    """Someone joins, is added, leaves or is removed."""
    if change.group is not None and change.group.visibility is not None:
        await upsert_group(conn, tenant, change.group)
    await apply_membership_row(conn, tenant, change)


async def change_role(conn: Connection, activity: StrictActivity) -> None:
    relationship = as_object(activity.object)
    if relationship is None:
        return
    member = user_id(activity.tenant, relationship.subject_id)
    group_id = ref_id(activity.target)
    if member is not None and group_id is not None:
        await conn.execute(
            "UPDATE memberships SET role = $4 WHERE tenant_id = $1 AND group_id = $2 "
            "AND user_id = $3",
            activity.tenant,
            group_id,
            member,
            activity.role or "member",
        )


async def set_relation(
    conn: Connection, table: str, tenant: str, first: str, second: str, *, on: bool
) -> None:
    """A follow (follower, followee) or block (blocker, blocked) made or undone."""
    columns = {"follows": ("follower_id", "followee_id"), "blocks": ("user_id", "other_id")}
    a, b = columns[table]
    if on:
        sql = (
            f"INSERT INTO {table} (tenant_id, {a}, {b}) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
    else:
        sql = f"DELETE FROM {table} WHERE tenant_id = $1 AND {a} = $2 AND {b} = $3"
    await conn.execute(sql, tenant, first, second)


async def add_participant(conn: Connection, tenant: str, thread: str, uid: str) -> None:
    await conn.execute(
        "INSERT INTO thread_participants (tenant_id, thread_id, user_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        tenant,
        thread,
        uid,
    )


# --- what the pipeline reads ------------------------------------------------------------------


async def thread_participants(conn: Connection, tenant: str, thread: str) -> frozenset[str]:
    rows = await conn.fetch(
        "SELECT user_id FROM thread_participants WHERE tenant_id = $1 AND thread_id = $2",
        tenant,
        thread,
    )
    return frozenset(r["user_id"] for r in rows)


async def group_members(conn: Connection, tenant: str, group_id: str) -> frozenset[str]:
    rows = await conn.fetch(
        "SELECT user_id FROM memberships WHERE tenant_id = $1 AND group_id = $2", tenant, group_id
    )
    return frozenset(r["user_id"] for r in rows)


async def group_admins(conn: Connection, tenant: str, group_id: str) -> frozenset[str]:
    rows = await conn.fetch(
        "SELECT user_id FROM memberships WHERE tenant_id = $1 AND group_id = $2 "
        "AND role = ANY($3::text[])",
        tenant,
        group_id,
        list(_ADMIN_ROLES),
    )
    return frozenset(r["user_id"] for r in rows)


async def moderators(conn: Connection, tenant: str) -> frozenset[str]:
    rows = await conn.fetch(
        "SELECT user_id FROM people WHERE tenant_id = $1 AND active AND roles @> '{moderator}'",
        tenant,
    )
    return frozenset(r["user_id"] for r in rows)


async def readers(
    conn: Connection, tenant: str, users: Sequence[str], item: Item | None, actor: str
) -> dict[str, tuple[Reader, Ties, bool]]:
    """Each user as a reader, their ties to ``item``'s people and group, and whether a block
    stands between them and ``actor``: four queries, whatever the number of users.

    Someone never heard of counts as an active guest (fail closed: public items only)."""
    people = {
        r["user_id"]: r
        for r in await conn.fetch(
            "SELECT user_id, kind, active FROM people WHERE tenant_id = $1 "
            "AND user_id = ANY($2::text[])",
            tenant,
            list(users),
        )
    }
    around = sorted({actor, *(item.people if item is not None else ())})
    follows: dict[str, set[str]] = {}
    for r in await conn.fetch(
        "SELECT follower_id, followee_id FROM follows WHERE tenant_id = $1 "
        "AND follower_id = ANY($2::text[]) AND followee_id = ANY($3::text[])",
        tenant,
        list(users),
        around,
    ):
        follows.setdefault(r["follower_id"], set()).add(r["followee_id"])
    blocked: dict[str, set[str]] = {}
    for r in await conn.fetch(
        "SELECT user_id AS a, other_id AS b FROM blocks WHERE tenant_id = $1 "
        "AND user_id = ANY($2::text[]) AND other_id = ANY($3::text[]) "
        "UNION SELECT other_id, user_id FROM blocks WHERE tenant_id = $1 "
        "AND other_id = ANY($2::text[]) AND user_id = ANY($3::text[])",
        tenant,
        list(users),
        around,
    ):
        blocked.setdefault(r["a"], set()).add(r["b"])
    members: set[str] = set()
    if item is not None and item.group_id is not None:
        members = set(await group_members(conn, tenant, item.group_id)) & set(users)
    found: dict[str, tuple[Reader, Ties, bool]] = {}
    for uid in users:
        row = people.get(uid)
        reader = Reader(
            uid,
            guest=row is None or row["kind"] in (None, "guest"),
            active=row is None or bool(row["active"]),
        )
        theirs = blocked.get(uid, set())
        people_of_item = item.people if item is not None else frozenset()
        ties = Ties(
            follows=frozenset(follows.get(uid, set())),
            member=uid in members,
            blocked=not theirs.isdisjoint(people_of_item),
        )
        found[uid] = (reader, ties, actor in theirs)
    return found


async def contacts(
    conn: Connection, tenant: str, users: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Name, handle and email of each user (for notifications' actors and emails)."""
    rows = await conn.fetch(
        "SELECT user_id, handle, name, email FROM people WHERE tenant_id = $1 "
        "AND user_id = ANY($2::text[])",
        tenant,
        list(set(users)),
    )
    return {r["user_id"]: dict(r) for r in rows}
