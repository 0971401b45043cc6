"""HTTP routes: people (tenant admins provision and erase them; every person reads them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import CurrentPrincipal, Principal, Role, require_roles
from canopy_common.errors import Forbidden
from canopy_common.openapi import problems
from canopy_ingestion.api.deps import (
    CURSOR_MAX_LENGTH,
    ID_MAX_LENGTH,
    CurrentActor,
    CurrentRuntime,
    caller_in,
    transaction,
)
from canopy_ingestion.domain.model import User, UserKind
from canopy_ingestion.domain.text import EMAIL_MAX_LENGTH, HANDLE_MAX_LENGTH
from canopy_ingestion.handlers.leavers import SetStanding, handle_set_standing
from canopy_ingestion.handlers.people import (
    ASSIGNABLE_ROLES,
    LIST_ITEM_MAX_LENGTH,
    LIST_MAX_ITEMS,
    NAME_MAX_LENGTH,
    QUERY_MAX_LENGTH,
    EraseUser,
    ProvisionUser,
    SearchPeople,
    handle_erase_user,
    handle_provision_user,
    handle_search_people,
)
from canopy_ingestion.handlers.profiles import (
    PRONOUNS_MAX_LENGTH,
    REPORTS_SHOWN,
    SUMMARY_MAX_LENGTH,
    EditOwnProfile,
    ProfileView,
    handle_edit_own_profile,
    handle_view_profile,
)

router = APIRouter(tags=["people"])
ME = "me"  # the caller, in GET /v1/users/me
# Provisioning and erasure: a tenant admin's token, whether or not a person of the tenant.
provisioning = APIRouter(tags=["people"])

TenantAdmin = Annotated[Principal, Depends(require_roles(Role.TENANT_ADMIN))]
UserId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        description="The person's id",
        examples=["u-ada"],
    ),
]
SEARCH_PAGE_MAX = 100
ListItem = Annotated[str, Field(max_length=LIST_ITEM_MAX_LENGTH)]  # a skill, interest or role

_PROFILE_EXAMPLE: dict[str, Any] = {
    "handle": "ada",
    "display_name": "Ada Lovelace",
    "title": "Principal Engineer",
    "department": "Analytical Engines",
    "location": "London",
    "skills": ["python", "mathematics"],
    "interests": ["poetry"],
    "kind": "employee",
    "manager_id": "u-babbage",
    "email": "ada@example.com",
    "roles": ["moderator"],
}


class ProfileIn(BaseModel):
    """A person's profile as an HR system or a tenant admin gives it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PROFILE_EXAMPLE]})

    handle: str = Field(
        max_length=HANDLE_MAX_LENGTH,
        description="Unique in the tenant (any case): letters, digits, '_', '.', '-'; "
        "starts with a letter or digit; at most 40",
    )
    display_name: str = Field(max_length=NAME_MAX_LENGTH, description="1 to 200 characters")
    title: str | None = Field(None, max_length=NAME_MAX_LENGTH)
    department: str | None = Field(None, max_length=NAME_MAX_LENGTH)
    location: str | None = Field(
        None,
        max_length=NAME_MAX_LENGTH,
        description='Omitted or null keeps the person\'s own (they edit it too); "" clears it',
    )
    skills: list[ListItem] | None = Field(
        None,
        max_length=LIST_MAX_ITEMS,
        description="At most 50. Omitted or null keeps the person's own; [] clears them",
    )
    interests: list[ListItem] | None = Field(
        None,
        max_length=LIST_MAX_ITEMS,
        description="At most 50. Omitted or null keeps the person's own; [] clears them",
    )
    kind: UserKind = Field(
        UserKind.EMPLOYEE, description="guest: an external partner; bot: a system actor"
    )
    manager_id: str | None = Field(
        None, max_length=ID_MAX_LENGTH, description="An active person of the tenant"
    )
    email: str | None = Field(
        None, max_length=EMAIL_MAX_LENGTH, description="A work address, like ada@example.com"
    )
    roles: list[ListItem] | None = Field(
        None,
        max_length=LIST_MAX_ITEMS,
        description="Tenant roles: " + ", ".join(sorted(ASSIGNABLE_ROLES)) + " (not for "
        "guests). Omitted keeps the person's roles; [] clears them",
    )


_OWN_EXAMPLE: dict[str, Any] = {
    "summary": "I write programs for engines that do not exist yet.",
    "pronouns": "she/her",
}


class ProfileOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "u-ada", **_PROFILE_EXAMPLE, **_OWN_EXAMPLE, "active": True}]
        }
    )

    id: str
    handle: str
    display_name: str
    title: str | None
    department: str | None
    location: str | None
    skills: list[str]
    interests: list[str]
    kind: UserKind
    manager_id: str | None
    email: str | None
    roles: list[str]
    summary: str | None = Field(description="About them, in their words (several lines)")
    pronouns: str | None
    active: bool = Field(
        True, description="False for a deactivated person: a former colleague (their posts stay)"
    )

    @classmethod
    def of(cls, user: User) -> ProfileOut:
        return cls(
            id=user.id,
            handle=user.handle,
            display_name=user.display_name,
            title=user.title,
            department=user.department,
            location=user.location,
            skills=list(user.skills),
            interests=list(user.interests),
            kind=user.kind,
            manager_id=user.manager_id,
            email=user.email,
            roles=list(user.roles),
            summary=user.summary,
            pronouns=user.pronouns,
            active=user.active,
        )


class PersonRefOut(BaseModel):
    """A person in a list (followers, reports, a manager): enough to show and link them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "u-ada",
                    "handle": "ada",
                    "display_name": "Ada Lovelace",
                    "title": "Principal Engineer",
                    "active": True,
                }
            ]
        }
    )

    id: str
    handle: str
    display_name: str
    title: str | None
    active: bool = Field(description="false: a former colleague")

    @classmethod
    def of(cls, user: User) -> PersonRefOut:
        return cls(
            id=user.id,
            handle=user.handle,
            display_name=user.display_name,
            title=user.title,
            active=user.active,
        )


_BABBAGE = {"id": "u-babbage", "handle": "babbage", "display_name": "Charles Babbage"}


class PersonOut(ProfileOut):
    """A profile with the person's place in the org chart."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "u-ada",
                    **_PROFILE_EXAMPLE,
                    **_OWN_EXAMPLE,
                    "manager": {**_BABBAGE, "title": "Director", "active": True},
                    "reports": [
                        {
                            "id": "u-mary",
                            "handle": "mary",
                            "display_name": "Mary Somerville",
                            "title": "Engineer",
                            "active": True,
                        }
                    ],
                    "reports_total": 1,
                }
            ]
        }
    )

    manager: PersonRefOut | None = Field(description="null for guests, who see no org chart")
    reports: list[PersonRefOut] = Field(
        description=f"Active direct reports by name, the first {REPORTS_SHOWN}"
    )
    reports_total: int = Field(description="How many active direct reports they have")

    @classmethod
    def of_view(cls, view: ProfileView) -> PersonOut:
        manager = PersonRefOut.of(view.manager) if view.manager is not None else None
        return cls(
            **ProfileOut.of(view.person).model_dump(),
            manager=manager,
            reports=[PersonRefOut.of(user) for user in view.reports],
            reports_total=view.reports_total,
        )


class OwnProfileIn(BaseModel):
    """The fields a person edits on their own profile; each one given is set, the others
    stay. Name, handle, title, department, manager, e-mail, kind and roles are HR's or a
    tenant admin's: naming one (or any other field) is refused with 422."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{**_OWN_EXAMPLE, "location": "London", "skills": ["python", "maths"]}]
        },
    )

    summary: str | None = Field(
        None,
        max_length=SUMMARY_MAX_LENGTH,
        description=f"About you, at most {SUMMARY_MAX_LENGTH} characters, several lines; "
        'null or "" clears it',
    )
    pronouns: str | None = Field(
        None, max_length=PRONOUNS_MAX_LENGTH, description='One line; null or "" clears them'
    )
    location: str | None = Field(
        None, max_length=NAME_MAX_LENGTH, description='One line; null or "" clears it'
    )
    skills: list[ListItem] | None = Field(
        None, max_length=LIST_MAX_ITEMS, description="At most 50; null or [] clears them"
    )
    interests: list[ListItem] | None = Field(
        None, max_length=LIST_MAX_ITEMS, description="At most 50; null or [] clears them"
    )


class PeoplePageOut(BaseModel):
    items: list[ProfileOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


@provisioning.put(
    "/v1/users/{user_id}",
    summary="Provision or update a person",
    description="Role `tenant_admin`, in the token's tenant (which must be provisioned). "
    "Creates the person (201, emits a Create of the Person) or updates their profile (200, "
    "an Update; nothing when the profile is unchanged). A handle taken in the tenant → 409; "
    "an implausible e-mail address or a role a person may not hold → 422.",
    response_model=ProfileOut,
    responses={201: {"model": ProfileOut, "description": "Created"}, **problems(403, 409, 422)},
)
async def put_user(
    user_id: UserId,
    body: ProfileIn,
    admin: TenantAdmin,
    runtime: CurrentRuntime,
    response: Response,
) -> ProfileOut:
    command = ProvisionUser(
        tenant_id=admin.tenant_id,
        user_id=user_id,
        by=admin.user_id,
        handle=body.handle,
        display_name=body.display_name,
        kind=body.kind,
        title=body.title,
        department=body.department,
        location=body.location,
        skills=tuple(body.skills) if body.skills is not None else None,
        interests=tuple(body.interests) if body.interests is not None else None,
        manager_id=body.manager_id,
        email=body.email,
        roles=tuple(body.roles) if body.roles is not None else None,
    )
    async with transaction(runtime, admin.tenant_id) as conn:
        result = await handle_provision_user(command, conn=conn)
    runtime.members.forget([(admin.tenant_id, user_id)])  # committed: who may act changed
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return ProfileOut.of(result.user)


@provisioning.delete(
    "/v1/users/{user_id}",
    summary="Deactivate a person and erase their data (GDPR)",
    description="Role `tenant_admin`. Anonymises the profile, ends their memberships, "
    "follows, tag follows, blocks and mutes, and emits a Delete of the Person that every "
    "service honours. An unknown or already erased person → 404.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404),
)
async def delete_user(user_id: UserId, admin: TenantAdmin, runtime: CurrentRuntime) -> None:
    async with transaction(runtime, admin.tenant_id) as conn:
        await handle_erase_user(
            EraseUser(tenant_id=admin.tenant_id, user_id=user_id, by=admin.user_id), conn=conn
        )
    runtime.members.forget([(admin.tenant_id, user_id)])  # committed: they may act no more


@router.get(
    "/v1/users/{user_id}",
    summary="A person's profile",
    description="Any active person of the tenant (`me`: the caller), with their manager and "
    f"direct reports (the first {REPORTS_SHOWN}, by name, and how many). A guest sees only "
    "the people they share a group with, and no org chart. A deactivated person (a former "
    "colleague) is shown with `active: false`. Another tenant's, an erased or an invisible "
    "person → 404.",
    response_model=PersonOut,
    responses=problems(403, 404),
)
async def get_user(user_id: UserId, actor: CurrentActor, runtime: CurrentRuntime) -> PersonOut:
    async with transaction(runtime, actor.tenant_id) as conn:
        view = await handle_view_profile(
            actor.id if user_id == ME else user_id, conn=conn, viewer=actor
        )
    return PersonOut.of_view(view)


@router.patch(
    "/v1/users/me",
    summary="Edit your own profile",
    description="Sets the fields given: summary, pronouns, location, skills, interests (NFC, "
    "no control characters; the summary may have several lines). Everything else on a profile "
    "is HR's or a tenant admin's: naming it, or any unknown field, is refused with 422 naming "
    "the field. A change emits an Update of your Person; an edit that changes nothing emits "
    "nothing.",
    response_model=PersonOut,
    responses=problems(403, 422),
)
async def edit_own_profile(
    body: OwnProfileIn, actor: CurrentActor, runtime: CurrentRuntime
) -> PersonOut:
    edit = EditOwnProfile(
        given=frozenset(body.model_fields_set),
        summary=body.summary,
        pronouns=body.pronouns,
        location=body.location,
        skills=tuple(body.skills or ()),
        interests=tuple(body.interests or ()),
    )
    async with transaction(runtime, actor.tenant_id) as conn:
        await handle_edit_own_profile(edit, conn=conn, actor=actor)
        view = await handle_view_profile(actor.id, conn=conn, viewer=actor)
    return PersonOut.of_view(view)


@router.get(
    "/v1/users",
    summary="Search people in the tenant",
    description="Active people (never a deactivated one) whose handle, name, title or "
    "department contains `q`, and who list `skill` (both ignore case), ordered by name. "
    "Guests find only the people they share a group with. `former=true` (tenant admins only, "
    "403 for others): the deactivated people instead, never erased ones, so they can be found "
    "to reactivate.",
    response_model=PeoplePageOut,
    responses=problems(403, 422),
)
async def search_users(
    actor: CurrentActor,
    principal: CurrentPrincipal,
    runtime: CurrentRuntime,
    q: Annotated[
        str | None,
        Query(max_length=QUERY_MAX_LENGTH, description="Text to look for", examples=["engine"]),
    ] = None,
    skill: Annotated[
        str | None,
        Query(max_length=LIST_ITEM_MAX_LENGTH, description="A skill, exact", examples=["python"]),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=SEARCH_PAGE_MAX)] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=CURSOR_MAX_LENGTH, description="`next_cursor` of the last page"),
    ] = None,
    former: Annotated[
        bool,
        Query(description="Tenant admins: deactivated people (former colleagues) instead"),
    ] = False,
) -> PeoplePageOut:
    if former and not principal.has_role(Role.TENANT_ADMIN):
        raise Forbidden("former: only tenant admins list deactivated people")
    query = SearchPeople(text=q, skill=skill, limit=limit, cursor=cursor, former=former)
    async with transaction(runtime, actor.tenant_id) as conn:
        page = await handle_search_people(query, conn=conn, viewer=actor)
    return PeoplePageOut(
        items=[ProfileOut.of(user) for user in page.people], next_cursor=page.next_cursor
    )


_STANDING_ROUTE = (
    "Role `tenant_admin`, who must be an active person of the tenant (unlike provisioning: a "
    "deactivated admin's token must not reactivate them). Idempotent: a person already so "
    "answers 200 and nothing is published. Answers the profile."
)


@router.post(
    "/v1/users/{user_id}/deactivate",
    summary="Deactivate a leaver (their knowledge stays)",
    description="The person may no longer act (403 on every route of every service), is "
    "told nothing (no notifications, no e-mail), and leaves people search, suggestions and "
    "experts; their posts and answers stay readable and in feeds, their author shown with "
    "`active: false`. Publishes an Update of the Person with `active: false`, audited as "
    "`user.deactivate`. Nothing is erased: `DELETE /v1/users/{id}` does that. "
    + _STANDING_ROUTE
    + " An unknown or erased person → 404.",
    response_model=ProfileOut,
    responses=problems(403, 404),
)
async def deactivate_user(
    user_id: UserId, admin: TenantAdmin, runtime: CurrentRuntime
) -> ProfileOut:
    return await _set_standing(user_id, admin, runtime, active=False)


@router.post(
    "/v1/users/{user_id}/reactivate",
    summary="Reactivate a deactivated person",
    description="Undoes a deactivation: they may act again, are told and found again. "
    "Publishes an Update of the Person with `active: true`, audited as `user.reactivate`. "
    + _STANDING_ROUTE
    + " An unknown person → 404; an erased one → 409 (erasure is final: `PUT` provisions "
    "them anew); their handle taken by someone else meanwhile → 409.",
    response_model=ProfileOut,
    responses=problems(403, 404, 409),
)
async def reactivate_user(
    user_id: UserId, admin: TenantAdmin, runtime: CurrentRuntime
) -> ProfileOut:
    return await _set_standing(user_id, admin, runtime, active=True)


async def _set_standing(
    user_id: str, admin: Principal, runtime: CurrentRuntime, *, active: bool
) -> ProfileOut:
    command = SetStanding(admin.tenant_id, user_id, active=active, by=admin.user_id)
    async with transaction(runtime, admin.tenant_id) as conn:
        await caller_in(conn, admin)  # the admin's own row: the router's check may be cached
        user = await handle_set_standing(command, conn=conn)
    runtime.members.forget([(admin.tenant_id, user_id)])  # committed: who may act changed
    return ProfileOut.of(user)
