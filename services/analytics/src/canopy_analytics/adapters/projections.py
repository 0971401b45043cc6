"""The analytics service's view of people, groups and the graph, built from activities
(docs/architecture.md §1: event-carried state transfer) for people discovery and the API's scopes.
Repositories never commit: the stream's transaction holds every change of a batch."""

from __future__ import annotations

import asyncpg

from canopy_analytics.domain.facts import former_type
from canopy_analytics.domain.post_text import strip_html
from canopy_common.activities import Membership, activity_type, as_object, membership_of, user_id
from canopy_common.db import Connection
from canopy_common.events import AS2Object, StrictActivity, ref_id
from canopy_common.group_rows import apply_membership_row, upsert_group_row
from canopy_common.members import PersonDirectory, ProjectedPeople
from canopy_common.visibility import group_visibility_of


def _words(values: list[str] | None) -> list[str]:
    """Skills and interests, lower-cased (topics and hashtags are)."""
    return sorted({v.strip().lower() for v in values or () if v.strip()})


# A person's standing (canopy_common.members): rows are made by a person's Create only.
STANDING = "SELECT active FROM people WHERE tenant_id = $1 AND user_id = $2"


def people(pool: asyncpg.Pool) -> PersonDirectory:
    """Who may act, from this projection (``ServiceDefinition.people``)."""
    return ProjectedPeople(pool, STANDING)


async def project(conn: Connection, activity: StrictActivity) -> None:
    """Keep people, groups, memberships, follows and blocks up to date with ``activity``."""
    tenant = activity.tenant
    kind = activity_type(activity)
    obj = as_object(activity.object)
    obj_type = former_type(obj) if obj is not None else ""
    actor = user_id(tenant, activity.actor)
    match kind:
        case "Create" | "Update" if obj_type == "Person" and obj is not None:
            await _upsert_person(conn, tenant, obj)
        case "Delete" if obj_type == "Person":
            erased = user_id(tenant, activity.object)
            if erased is not None:
                await _erase_person(conn, tenant, erased)
        case "Create" | "Update" if obj_type == "Group" and obj is not None:
            await _upsert_group(conn, tenant, obj)
            await conn.execute(  # the whole group: its description is its summary
                "UPDATE groups SET description = $3 WHERE tenant_id = $1 AND group_id = $2",
                tenant,
                obj.id,
                strip_html(obj.summary) if obj.summary else None,
            )
        case "Delete" if obj_type == "Group":
            await conn.execute(
                "UPDATE groups SET deleted = true WHERE tenant_id = $1 AND group_id = $2",
                tenant,
                ref_id(activity.object),
            )
        case "Join" | "Add" | "Leave" | "Remove":
            # None for a request to join: nobody is a member until an admin adds them.
            if (change := membership_of(activity)) is not None:
                await _membership(conn, tenant, change)
        case "Update" if obj_type == "Relationship" and obj is not None:
            member = user_id(tenant, obj.subject_id)
            await conn.execute(
                "UPDATE memberships SET role = $4 WHERE tenant_id = $1 AND group_id = $2 "
                "AND user_id = $3",
                tenant,
                ref_id(activity.target),
                member,
                obj.role or activity.role or "member",
            )
        case "Follow" | "Block" if actor is not None and obj_type == "Person" and obj is not None:
            await _relation(conn, kind, tenant, actor, user_id(tenant, obj.id), on=True)
        case "Undo" if actor is not None and obj is not None:
            undone = activity_type(obj)
            target = as_object(obj.object)
            person = target is not None and activity_type(target) == "Person"
            if undone in ("Follow", "Block") and person and target is not None:
                other = user_id(tenant, target.id)
                await _relation(conn, undone, tenant, actor, other, on=False)


async def _upsert_person(conn: Connection, tenant: str, person: AS2Object) -> None:
    uid = user_id(tenant, person.id)
    if uid is None:
        return
    await conn.execute(
        "INSERT INTO people (tenant_id, user_id, name, kind, title, department, location, "
        "skills, interests, active, handle) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11) ON CONFLICT (tenant_id, user_id) DO UPDATE SET name = EXCLUDED.name, "
        "handle = EXCLUDED.handle, "
        "kind = EXCLUDED.kind, title = EXCLUDED.title, department = EXCLUDED.department, "
        "location = EXCLUDED.location, skills = EXCLUDED.skills, "
        "interests = EXCLUDED.interests, active = EXCLUDED.active",
        tenant,
        uid,
        person.name,
        person.kind or "employee",
        person.title,
        person.department,
        person.location_name,
        _words(person.skills),
        _words(person.interests),
        # A deactivated person (``active: false``) leaves discovery until reactivated; their
        # contributions stay (docs/architecture.md §16).
        person.active is not False,
        person.preferred_username,
    )


async def _erase_person(conn: Connection, tenant: str, uid: str) -> None:
    """Erasure: the profile is emptied and the person leaves the graph and discovery. Daily
    activity keeps its (opaque) id so earlier days' figures do not change."""
    await conn.execute(
        "UPDATE people SET active = false, name = NULL, handle = NULL, title = NULL, "
        "department = NULL, location = NULL, skills = '{}', interests = '{}' "
        "WHERE tenant_id = $1 AND user_id = $2",
        tenant,
        uid,
    )
    # What they wrote leaves search (and whatever is derived from its text): docs §17.
    await conn.execute(
        "UPDATE posts SET title = NULL, text = '', text_version = text_version + 1 "
        "WHERE tenant_id = $1 AND author_id = $2 AND text <> ''",
        tenant,
        uid,
    )
    for table, columns in (
        ("memberships", ("user_id",)),
        ("follows", ("follower_id", "followee_id")),
        ("blocks", ("blocker_id", "blocked_id")),
        ("topic_contributions", ("user_id",)),
        ("post_viewers", ("viewer_id",)),
    ):
        where = " OR ".join(f"{c} = $2" for c in columns)
        await conn.execute(f"DELETE FROM {table} WHERE tenant_id = $1 AND ({where})", tenant, uid)


async def _upsert_group(conn: Connection, tenant: str, group: AS2Object) -> None:
    if group.id is None:
        return
    await upsert_group_row(
        conn,
        tenant,
        group.id,
        name=group.name,
        visibility=group_visibility_of(group.visibility).value,  # Canopy's spelling: "private"
    )


async def _membership(conn: Connection, tenant: str, change: Membership) -> None:
    if change.group is not None and change.group.visibility is not None:
        await _upsert_group(conn, tenant, change.group)
    await apply_membership_row(conn, tenant, change)


async def _relation(
    conn: Connection, kind: str, tenant: str, actor: str, other: str | None, *, on: bool
) -> None:
    if other is None:
        return
    table, a, b = (
        ("follows", "follower_id", "followee_id")
        if kind == "Follow"
        else ("blocks", "blocker_id", "blocked_id")
    )
    if on:
        await conn.execute(
            f"INSERT INTO {table} (tenant_id, {a}, {b}) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            tenant,
            actor,
            other,
        )
    else:
        await conn.execute(
            f"DELETE FROM {table} WHERE tenant_id = $1 AND {a} = $2 AND {b} = $3",
            tenant,
            actor,
            other,
        )
