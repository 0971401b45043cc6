"""HTTP routes: groups, their members and invites."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.db import Connection
from canopy_common.openapi import problems
from canopy_ingestion.adapters.idempotency import Reply
from canopy_ingestion.api.deps import (
    ID_MAX_LENGTH,
    CurrentActor,
    CurrentRuntime,
    IdempotencyKey,
    once,
    transaction,
)
from canopy_ingestion.api.join_requests import JoinRequestOut
from canopy_ingestion.domain.model import (
    Group,
    GroupInvite,
    GroupVisibility,
    JoinPolicy,
    MemberRole,
)
from canopy_ingestion.domain.permissions import MembershipChange
from canopy_ingestion.handlers.groups import (
    DESCRIPTION_MAX_LENGTH,
    GROUP_NAME_MAX_LENGTH,
    CreateGroup,
    EndMembership,
    InviteToGroup,
    SetMembership,
    handle_create_group,
    handle_end_membership,
    handle_invite,
    handle_set_membership,
)

router = APIRouter(tags=["groups"])

GroupId = Annotated[
    str,
    Path(max_length=ID_MAX_LENGTH, description="The group's id", examples=["urn:uuid:0190..."]),
]
MemberId = Annotated[
    str, Path(max_length=ID_MAX_LENGTH, description="The member's user id", examples=["u-ada"])
]


class GroupIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Platform", "description": "Runtime and tooling", "visibility": "internal"}
            ]
        },
    )

    name: str = Field(max_length=GROUP_NAME_MAX_LENGTH, description="1 to 100 characters")
    description: str = Field(
        "", max_length=DESCRIPTION_MAX_LENGTH, description="Markdown, at most 2000 characters"
    )
    visibility: GroupVisibility = Field(
        description="public: everyone, guests too; internal: employees; private: members only"
    )
    join_policy: JoinPolicy = Field(
        JoinPolicy.OPEN,
        description="open: who sees it joins; request: who sees it asks, and an admin or "
        "owner approves (public and internal groups only: 422 for a private one)",
    )


class GroupOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "urn:uuid:0190f3c2-7b1e-7c3a-9f3e-5d2a8b1c4e6f",
                    "name": "Platform",
                    "description": "Runtime and tooling",
                    "visibility": "internal",
                    "owner_id": "u-ada",
                    "join_policy": "open",
                }
            ]
        }
    )

    id: str
    name: str
    description: str
    visibility: GroupVisibility
    owner_id: str = Field(description="Who created it (its first owner)")
    join_policy: JoinPolicy

    @classmethod
    def of(cls, value: Group) -> GroupOut:
        return cls(
            id=value.id,
            name=value.name,
            description=value.description,
            visibility=value.visibility,
            owner_id=value.owner_id,
            join_policy=value.join_policy,
        )


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "member"}]})

    role: MemberRole = MemberRole.MEMBER


class MembershipOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"group_id": "urn:uuid:0190...", "user_id": "u-ada", "role": "member"}]
        }
    )

    group_id: str
    user_id: str
    role: MemberRole


class InviteIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"user_id": "u-bob"}]}
    )

    user_id: str = Field(min_length=1, max_length=ID_MAX_LENGTH, description="Who is invited")


class InviteOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_id": "urn:uuid:0190...",
                    "user_id": "u-bob",
                    "invited_by": "u-ada",
                    "invited_at": "2024-07-01T12:00:00Z",
                }
            ]
        }
    )

    group_id: str
    user_id: str = Field(description="The invitee")
    invited_by: str
    invited_at: datetime

    @classmethod
    def of(cls, invite: GroupInvite) -> InviteOut:
        return cls(
            group_id=invite.group_id,
            user_id=invite.invitee_id,
            invited_by=invite.inviter_id,
            invited_at=invite.created_at,
        )


@router.post(
    "/v1/groups",
    summary="Create a group",
    description="The caller becomes its owner (emits a Create of the Group and the owner's "
    "Join). Guests may not create groups. Retry-safe with `Idempotency-Key`.",
    status_code=status.HTTP_201_CREATED,
    response_model=GroupOut,
    responses=problems(403, 422),
)
async def create_group(
    body: GroupIn,
    request: Request,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    key: IdempotencyKey = None,
) -> Response:
    command = CreateGroup(
        name=body.name,
        description=body.description,
        visibility=body.visibility,
        join_policy=body.join_policy,
    )

    async def create(conn: Connection) -> Reply:
        created = await handle_create_group(command, conn=conn, actor=actor)
        return Reply(status.HTTP_201_CREATED, GroupOut.of(created).model_dump(mode="json"))

    return await once(request, runtime, actor, key, body, create)


@router.put(
    "/v1/groups/{group_id}/members/{user_id}",
    summary="Join a group (or ask to), add a member, or change a member's role",
    description="Yourself: join a public or internal group you can see, as a member (guests: "
    "public groups only), or any group you hold an invite to (which it consumes). A group "
    "whose `join_policy` is `request` you ask to join instead (unless invited): 202 with the "
    "pending request (emits a Join with `status: pending`); asking again → 200 with the same "
    "request. Someone else: a group admin or owner adds them (approving their request, if "
    "any) or changes their role; only owners grant or change the owner role; the last owner "
    "cannot step down. 201 when a membership is created, 200 otherwise. A group the caller "
    "cannot see → 404. Retry-safe with `Idempotency-Key`.",
    response_model=MembershipOut,
    responses={
        201: {"model": MembershipOut, "description": "Joined or added"},
        202: {"model": JoinRequestOut, "description": "Asked to join; pending"},
        **problems(403, 404, 409, 422),
    },
)
async def put_member(
    group_id: GroupId,
    user_id: MemberId,
    request: Request,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    body: Annotated[MembershipIn | None, Body()] = None,
    key: IdempotencyKey = None,
) -> Response:
    role = body.role if body is not None else MemberRole.MEMBER
    command = SetMembership(group_id=group_id, user_id=user_id, role=role)

    async def put(conn: Connection) -> Reply:
        result = await handle_set_membership(command, conn=conn, actor=actor)
        if result.request is not None:
            asked = result.change is MembershipChange.REQUEST
            code = status.HTTP_202_ACCEPTED if asked else status.HTTP_200_OK
            return Reply(code, JoinRequestOut.of(result.request).model_dump(mode="json"))
        created = result.change in (MembershipChange.JOIN, MembershipChange.ADD)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        membership = MembershipOut(group_id=result.group.id, user_id=result.user.id, role=role)
        return Reply(code, membership.model_dump(mode="json"))

    return await once(request, runtime, actor, key, body, put)


@router.delete(
    "/v1/groups/{group_id}/members/{user_id}",
    summary="Leave a group, or remove a member",
    description="Yourself: leave (the last owner cannot). Someone else: a group admin or "
    "owner removes them; only owners remove owners. Not a member → 404.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409),
)
async def delete_member(
    group_id: GroupId, user_id: MemberId, actor: CurrentActor, runtime: CurrentRuntime
) -> None:
    async with transaction(runtime, actor.tenant_id) as conn:
        await handle_end_membership(
            EndMembership(group_id=group_id, user_id=user_id), conn=conn, actor=actor
        )


@router.post(
    "/v1/groups/{group_id}/invites",
    summary="Invite someone into a group",
    description="Members invite people they can see into a public or internal group; only "
    "admins and owners invite into a private group, or invite a guest into a non-public one. "
    "Emits an Invite (to the invitee). The invitee then sees the group and joins it with "
    "`PUT /v1/groups/{group_id}/members/{their id}`, which consumes the invite. 201 for a new "
    "invite; 200 with the pending one when the person is invited already; a member → 409; "
    "a group or person the caller cannot see → 404. Retry-safe with `Idempotency-Key`.",
    status_code=status.HTTP_201_CREATED,
    response_model=InviteOut,
    responses={
        200: {"model": InviteOut, "description": "Invited already"},
        **problems(403, 404, 409),
    },
)
async def invite_to_group(
    group_id: GroupId,
    body: InviteIn,
    request: Request,
    actor: CurrentActor,
    runtime: CurrentRuntime,
    key: IdempotencyKey = None,
) -> Response:
    command = InviteToGroup(group_id=group_id, user_id=body.user_id)

    async def invite(conn: Connection) -> Reply:
        result = await handle_invite(command, conn=conn, actor=actor)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Reply(code, InviteOut.of(result.invite).model_dump(mode="json"))

    return await once(request, runtime, actor, key, body, invite)
