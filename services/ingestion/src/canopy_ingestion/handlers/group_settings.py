"""Commands on a group itself: edit its name, description and join policy; archive and
unarchive it. Its admins and owners may, and tenant admins (audited when they are not its
admins); see :func:`~canopy_ingestion.domain.permissions.decide_group_admin`.

Each change emits an ``Update`` {actor: who, object: the whole Group as it now is} with the
group as ``target`` (as every group activity), so the other services' group projections follow;
an archived group carries ``status: archived``. A change that changes nothing emits nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from canopy_common.db import Connection
from canopy_common.errors import InvalidInput
from canopy_ingestion.adapters import audit, groups, outbox
from canopy_ingestion.domain.activities import group
from canopy_ingestion.domain.audit import AuditAction
from canopy_ingestion.domain.model import Group, JoinPolicy, User
from canopy_ingestion.domain.permissions import check_join_policy, decide_group_admin
from canopy_ingestion.domain.text import clean_block, clean_line
from canopy_ingestion.handlers.groups import (
    DESCRIPTION_MAX_LENGTH,
    GROUP_NAME_MAX_LENGTH,
    group_activity,
    visible_group,
)

# What a PATCH may change; everything else about a group is refused by the request model.
EDITABLE = ("name", "description", "join_policy")


@dataclass(frozen=True)
class GroupEdit:
    """What a PATCH gives; ``fields`` names the members present."""

    fields: frozenset[str]
    name: str | None = None
    description: str | None = None
    join_policy: JoinPolicy | None = None


async def edit_group(
    group_id: str, edit: GroupEdit, *, conn: Connection, actor: User, tenant_admin: bool
) -> None:
    """Change the group's name, description or join policy (a private group takes no join
    requests: 422)."""
    access = await visible_group(conn, actor, group_id)
    old = access.group
    as_tenant_admin = decide_group_admin(
        actor, old, actor_role=access.role, tenant_admin=tenant_admin
    )
    for field in EDITABLE:
        if field in edit.fields and getattr(edit, field) is None:
            raise InvalidInput(f"{field} cannot be removed", extra={"field": field})
    new = dataclasses.replace(
        old,
        name=clean_line(edit.name, field="name", max_length=GROUP_NAME_MAX_LENGTH)
        if edit.name is not None
        else old.name,
        description=clean_block(
            edit.description, field="description", max_length=DESCRIPTION_MAX_LENGTH
        )
        if edit.description is not None
        else old.description,
        join_policy=edit.join_policy or old.join_policy,
    )
    check_join_policy(new.visibility, new.join_policy)
    changed = [field for field in EDITABLE if getattr(new, field) != getattr(old, field)]
    if changed:
        await _store(conn, actor, new, AuditAction.GROUP_UPDATE, as_tenant_admin, changed)


async def set_archived(
    group_id: str, archived: bool, *, conn: Connection, actor: User, tenant_admin: bool
) -> None:
    """Archive the group (it takes no posts, members or pins; what is in it stays readable)
    or bring it back."""
    access = await visible_group(conn, actor, group_id)
    old = access.group
    as_tenant_admin = decide_group_admin(
        actor, old, actor_role=access.role, tenant_admin=tenant_admin
    )
    if old.archived == archived:
        return
    new = dataclasses.replace(old, archived_at=datetime.now(UTC) if archived else None)
    action = AuditAction.GROUP_ARCHIVE if archived else AuditAction.GROUP_UNARCHIVE
    await _store(conn, actor, new, action, as_tenant_admin, ["archived"])


async def _store(
    conn: Connection,
    actor: User,
    new: Group,
    action: AuditAction,
    as_tenant_admin: bool,
    changed: list[str],
) -> None:
    """Store the group, emit its ``Update`` and, for a tenant admin who is not its admin,
    audit it (field names only)."""
    await groups.update_group(conn, new)
    await outbox.append(conn, group_activity("Update", new, actor=actor, obj=group(new)))
    if as_tenant_admin:
        await audit.record(
            conn,
            tenant=new.tenant_id,
            actor=actor.id,
            action=action,
            target=new.id,
            details={"as": "tenant_admin", "fields": changed},
        )
