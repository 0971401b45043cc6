"""HTTP routes: the group directory, a group's page (its detail and members), and what its
admins change about it — name, description, join policy, archived (docs/architecture.md §16).

Every read answers only what the caller may see: a group they do not see (a private one they
are not in, an internal one for a guest, another tenant's) is 404, a tenant admin included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import CurrentPrincipal, Role
from canopy_common.db import Connection
from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, Page, next_link
from canopy_ingestion.adapters.group_directory import GroupStanding, Member
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.api.deps import (
    CurrentActor,
    CurrentRuntime,
    IdempotencyKey,
    once,
    transaction,
)
from canopy_ingestion.api.groups import GroupId
from canopy_ingestion.domain.model import GroupVisibility, JoinPolicy, MemberRole, UserKind
from canopy_ingestion.handlers import group_settings, group_views
from canopy_ingestion.handlers.group_settings import GroupEdit
from canopy_ingestion.handlers.groups import DESCRIPTION_MAX_LENGTH, GROUP_NAME_MAX_LENGTH

router = APIRouter(tags=["groups"])

# A directory search is a few words of a name; longer text matches nothing anyway.
QUERY_MAX_LENGTH = 100
GROUP_EXAMPLE: dict[str, Any] = {
    "id": "urn:uuid:0190f3c2-7b1e-7c3a-9f3e-5d2a8b1c4e6f",
    "name": "Platform",
    "description": "Runtime and tooling",
    "visibility": "internal",
    "join_policy": "open",
    "owner_id": "u-ada",
    "member_count": 42,
    "archived": False,
    "archived_at": None,
    "created_at": "2024-07-01T12:00:00Z",
    "membership": {"role": "member", "joined_at": "2024-07-02T09:30:00Z"},
    "join_request_pending": False,
    "invited": False,
}


class MyMembership(BaseModel):
    role: MemberRole
    joined_at: datetime


class GroupView(BaseModel):
    """A group as the caller meets it."""

    model_config = ConfigDict(json_schema_extra={"examples": [GROUP_EXAMPLE]})

    id: str
    name: str
    description: str
    visibility: GroupVisibility
    join_policy: JoinPolicy
    owner_id: str = Field(description="Who created it (its first owner)")
    member_count: int
    archived: bool = Field(description="Archived: no posts, joins or pins; content readable")
    archived_at: datetime | None = None
    created_at: datetime
    membership: MyMembership | None = Field(
        description="The caller's membership (role, since when); null when not a member"
    )
    join_request_pending: bool = Field(description="The caller has asked to join")
    invited: bool = Field(description="The caller holds an invite to it")

    @classmethod
    def of(cls, standing: GroupStanding) -> GroupView:
        found = standing.group
        mine = None
        if standing.role is not None and standing.joined_at is not None:
            mine = MyMembership(role=standing.role, joined_at=standing.joined_at)
        return cls(
            id=found.id,
            name=found.name,
            description=found.description,
            visibility=found.visibility,
            join_policy=found.join_policy,
            owner_id=found.owner_id,
            member_count=standing.member_count,
            archived=found.archived,
            archived_at=found.archived_at,
            created_at=standing.created_at,
            membership=mine,
            join_request_pending=standing.requested,
            invited=standing.invited,
        )


class GroupPatch(BaseModel):
    """The fields to change; absent ones stay. Anything else (visibility, owner, id...) is
    refused (422 naming it)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"description": "Runtime, tooling and on-call"}]},
    )

    name: str | None = Field(None, min_length=1, max_length=GROUP_NAME_MAX_LENGTH)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX_LENGTH)
    join_policy: JoinPolicy | None = Field(
        None, description="open or request (public and internal groups only)"
    )


class MemberView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "u-ada",
                    "display_name": "Ada Lovelace",
                    "handle": "ada",
                    "kind": "employee",
                    "role": "owner",
                    "joined_at": "2024-07-01T12:00:00Z",
                }
            ]
        }
    )

    user_id: str
    display_name: str
    handle: str
    kind: UserKind = Field(description="employee, guest or bot")
    role: MemberRole
    joined_at: datetime

    @classmethod
    def of(cls, member: Member) -> MemberView:
        user = member.user
        return cls(
            user_id=user.id,
            display_name=user.display_name,
            handle=user.handle,
            kind=user.kind,
            role=member.role,
            joined_at=member.joined_at,
        )


def _tenant_admin(principal: CurrentPrincipal) -> bool:
    return principal.has_role(Role.TENANT_ADMIN)


@router.get(
    "/v1/groups",
    summary="The group directory",
    description="The groups the caller may see: public ones, internal ones (not for guests), "
    "and those they belong to or are invited to (private ones only then), by name (any case) "
    "then id. `q` keeps those whose name or description contains it (any case); "
    "`mine=true` only the caller's groups. Paged: `limit`, `cursor`, a `Link` header.",
    response_model=Page[GroupView],
    responses=problems(400),
)
async def list_groups(
    request: Request,
    response: Response,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=QUERY_MAX_LENGTH,
            description="Text in the name or description",
            examples=["platform"],
        ),
    ] = None,
    mine: Annotated[bool, Query(description="Only the groups the caller belongs to")] = False,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> Page[GroupView]:
    async with transaction(runtime, actor.tenant_id) as conn:
        page = await group_views.list_groups(
            conn, actor, text=q, mine=mine, limit=limit, cursor=cursor
        )
    response.headers.update(next_link(request, page.next_cursor, limit))
    return Page(items=[GroupView.of(s) for s in page.items], next_cursor=page.next_cursor)


@router.get(
    "/v1/groups/{group_id}",
    summary="A group's page",
    description="Name, description, visibility, join policy, member count, archived state, "
    "and the caller's membership (role), pending join request and invite. A group the caller "
    "may not see → 404 (a private one they are not in, a tenant admin included).",
    response_model=GroupView,
    responses=problems(404),
)
async def read_group(group_id: GroupId, actor: CurrentActor, runtime: CurrentRuntime) -> GroupView:
    async with transaction(runtime, actor.tenant_id) as conn:
        return GroupView.of(await group_views.read_group(conn, actor, group_id))


@router.patch(
    "/v1/groups/{group_id}",
    summary="Edit a group",
    description="Its admins and owners, or a tenant admin (audited as `group.update` when "
    "not its admin): `name`, `description`, `join_policy` (`request` needs a public or "
    "internal group). Other fields (visibility, owner, id...) → 422 naming the field. Emits "
    "an Update of the Group when something changed. Others who see it → 403; a group the "
    "caller may not see → 404.",
    response_model=GroupView,
    responses=problems(403, 404),
)
async def edit_group(
    group_id: GroupId,
    body: GroupPatch,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
) -> GroupView:
    edit = GroupEdit(
        fields=frozenset(body.model_fields_set),
        name=body.name,
        description=body.description,
        join_policy=body.join_policy,
    )
    async with transaction(runtime, actor.tenant_id) as conn:
        await group_settings.edit_group(
            group_id, edit, conn=conn, actor=actor, tenant_admin=_tenant_admin(principal)
        )
        return GroupView.of(await group_views.read_group(conn, actor, group_id))


@router.post(
    "/v1/groups/{group_id}/archive",
    summary="Archive a group",
    description="Its admins and owners, or a tenant admin (audited as `group.archive`). An "
    "archived group takes no posts, replies, joins, invites or pins (409 `group-archived`); "
    "what is in it stays readable, and people may still leave. Emits an Update of the Group "
    "with `status: archived`; archiving an archived group changes nothing. Answers the group. "
    "Retry-safe with `Idempotency-Key`.",
    response_model=GroupView,
    responses=problems(403, 404),
)
async def archive_group(
    group_id: GroupId,
    request: Request,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    key: IdempotencyKey = None,
) -> Response:
    return await _set_archived(group_id, True, request, actor, runtime, principal, key)


@router.post(
    "/v1/groups/{group_id}/unarchive",
    summary="Bring an archived group back",
    description="Its admins and owners, or a tenant admin (audited as `group.unarchive`). "
    "Emits an Update of the Group without `status`; an active group changes nothing. Answers "
    "the group. Retry-safe with `Idempotency-Key`.",
    response_model=GroupView,
    responses=problems(403, 404),
)
async def unarchive_group(
    group_id: GroupId,
    request: Request,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    key: IdempotencyKey = None,
) -> Response:
    return await _set_archived(group_id, False, request, actor, runtime, principal, key)


async def _set_archived(
    group_id: str,
    archived: bool,
    request: Request,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    principal: CurrentPrincipal,
    key: str | None,
) -> Response:
    admin = _tenant_admin(principal)

    async def change(conn: Connection) -> Reply:
        await group_settings.set_archived(
            group_id, archived, conn=conn, actor=actor, tenant_admin=admin
        )
        view = GroupView.of(await group_views.read_group(conn, actor, group_id))
        return Reply(200, view.model_dump(mode="json"))

    return await once(request, runtime, actor, key, None, change)


@router.get(
    "/v1/groups/{group_id}/members",
    summary="A group's members",
    description="Owners first, then admins, then members, each by name. `role` keeps one "
    "role. A guest sees the members they may see (the people they share a group with). A "
    "group the caller may not see → 404. Paged: `limit`, `cursor`, a `Link` header.",
    response_model=Page[MemberView],
    responses=problems(400, 404),
)
async def list_members(
    group_id: GroupId,
    request: Request,
    response: Response,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    role: Annotated[MemberRole | None, Query(description="Only members with this role")] = None,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> Page[MemberView]:
    async with transaction(runtime, actor.tenant_id) as conn:
        page = await group_views.list_members(
            conn, actor, group_id, role=role, limit=limit, cursor=cursor
        )
    response.headers.update(next_link(request, page.next_cursor, limit))
    return Page(items=[MemberView.of(m) for m in page.items], next_cursor=page.next_cursor)
