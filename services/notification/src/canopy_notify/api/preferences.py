"""HTTP routes: notification preferences and mutes (docs/architecture.md §6).

``/v1/notification-preferences``: the caller's categories by channels, resolved when read (a
changed tenant default reaches everyone without an override), and their digest. A ``PUT`` is
sparse: it names only what changes, and ``null`` removes an override. ``…/tenant`` holds the
tenant's defaults, locks, reminder lead times and question routing delay (tenant admins only).
``/v1/notification-mutes``: the threads, groups and actors the caller silenced, each with an
optional end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from canopy_common.auth import CurrentPrincipal, Principal, Role, require_roles
from canopy_common.db import Connection
from canopy_common.errors import InvalidInput, NotFound
from canopy_common.openapi import problems
from canopy_notify.adapters import preferences as store
from canopy_notify.api.deps import Service
from canopy_notify.bootstrap import Collaborators
from canopy_notify.domain.model import Category, Channel, Digest
from canopy_notify.domain.pipeline import Mute
from canopy_notify.domain.preferences import (
    Effective,
    Resolved,
    Setting,
    TenantDefault,
    locked_conflicts,
)
from canopy_notify.domain.routing import MAX_DELAY_S, MIN_DELAY_S
from canopy_notify.settings import Settings

router = APIRouter(tags=["notification preferences"])

TenantAdmin = Annotated[Principal, Depends(require_roles(Role.TENANT_ADMIN))]

DAY_S = 86_400
MIN_LEAD_S = 60  # a reminder closer to the due time than a minute is no reminder
MAX_LEAD_S = 30 * DAY_S  # further ahead it is forgotten before it matters
MAX_LEADS = 5  # each lead time is a reminder per task and assignee
# Bounds what a person may store and what the list answers in one response.
MAX_MUTES = 500
_TARGET_ID = r"^[^\s\x00-\x1f\x7f]{1,512}$"


class MuteKind(StrEnum):
    THREAD = "thread"
    GROUP = "group"
    ACTOR = "actor"


# --- shapes --------------------------------------------------------------------------------


class SettingOut(BaseModel):
    enabled: bool
    locked: bool = False


# category → channel → setting
CategoriesOut = dict[str, dict[str, SettingOut]]


class PreferencesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "digest": "off",
                    "categories": {
                        "mention": {
                            "in_app": {"enabled": True, "locked": False},
                            "email": {"enabled": True, "locked": False},
                            "push": {"enabled": True, "locked": False},
                        }
                    },
                }
            ]
        }
    )

    digest: Digest
    categories: CategoriesOut = Field(description="Every category on every channel")


class PreferencesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"digest": "daily", "categories": {"reaction": {"email": False}}}]
        },
    )

    digest: Digest | None = Field(None, description="off, hourly, daily or weekly; absent: kept")
    categories: dict[str, dict[str, StrictBool | None]] = Field(
        default_factory=dict,
        description="Only what changes; null removes the override (back to the default)",
    )


class TenantDefaultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    locked: StrictBool = Field(False, description="Users cannot change it")


LeadTime = Annotated[StrictInt, Field(ge=MIN_LEAD_S, le=MAX_LEAD_S)]


def _routing_delay(delay_s: int) -> int:
    if 0 < delay_s < MIN_DELAY_S:
        raise ValueError(f"0 (routing off) or at least {MIN_DELAY_S} seconds")
    return delay_s


RoutingDelay = Annotated[StrictInt, Field(ge=0, le=MAX_DELAY_S), AfterValidator(_routing_delay)]


class TenantPreferencesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "categories": {"announcement": {"in_app": {"enabled": True, "locked": True}}},
                    "reminder_leads_s": [86_400, 3_600],
                    "question_routing_delay_s": 14_400,
                }
            ]
        },
    )

    categories: dict[str, dict[str, TenantDefaultIn | None]] = Field(
        default_factory=dict,
        description="Only what changes; null removes the tenant default (back to built-in)",
    )
    reminder_leads_s: list[LeadTime] | None = Field(
        None,
        max_length=MAX_LEADS,
        description="Seconds before a task is due to remind its assignees; null: the service "
        "default; absent: kept",
    )
    question_routing_delay_s: RoutingDelay | None = Field(
        None,
        description="Seconds a question waits unanswered before up to three likely answerers "
        f"are notified: 0 (never) or {MIN_DELAY_S} to {MAX_DELAY_S}; null: the service "
        "default; absent: kept",
    )


class TenantPreferencesOut(BaseModel):
    categories: CategoriesOut = Field(description="The tenant's own defaults (sparse)")
    reminder_leads_s: list[int]
    question_routing_delay_s: int = Field(
        description="Seconds before an unanswered question is routed to likely answerers; 0: never"
    )


class MuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime | None = Field(None, description="When it ends; absent: until unmuted")


class MuteOut(BaseModel):
    kind: MuteKind
    id: str
    until: datetime | None


class MutesOut(BaseModel):
    items: list[MuteOut]


# --- plumbing ------------------------------------------------------------------------------


@asynccontextmanager
async def _transaction(service: Collaborators) -> AsyncIterator[Connection]:
    """A connection in a transaction (Postgres unreachable: 503, by the service's handler)."""
    async with service.runtime.pool.acquire() as conn, conn.transaction():
        yield conn


_Value = TypeVar("_Value")
_Name = TypeVar("_Name", bound=StrEnum)


def _known(kind: type[_Name], name: str, *, what: str, under: str) -> _Name:
    """``name`` as a ``kind``; an unknown one is a 422 naming it, where, and the known ones."""
    try:
        return kind(name)
    except ValueError:
        known = ", ".join(kind)
        raise InvalidInput(
            f"{under}: unknown {what} {name!r} (known: {known})",
            extra={"field": f"{under}.{name}"},
        ) from None


def _settings_of(categories: Mapping[str, Mapping[str, _Value]]) -> dict[Setting, _Value]:
    """``{"reaction": {"email": …}}`` as settings; an unknown name is a 422 naming it."""
    parsed: dict[Setting, _Value] = {}
    for category_name, by_channel in categories.items():
        category = _known(Category, category_name, what="category", under="categories")
        for channel_name, value in by_channel.items():
            channel = _known(Channel, channel_name, what="channel", under=f"categories.{category}")
            parsed[(category, channel)] = value
    return parsed


def _categories_out(settings: Mapping[Setting, Effective | TenantDefault]) -> CategoriesOut:
    out: CategoriesOut = {}
    for (category, channel), setting in settings.items():
        out.setdefault(category.value, {})[channel.value] = SettingOut(
            enabled=setting.enabled, locked=setting.locked
        )
    return out


async def _preferences(conn: Connection, principal: Principal) -> PreferencesOut:
    tenant, user = principal.tenant_id, principal.user_id
    resolved: Resolved = (await store.resolved_for(conn, tenant, [user]))[user]
    digest = (await store.digest_of(conn, tenant, [user]))[user]
    return PreferencesOut(digest=digest, categories=_categories_out(resolved))


async def _tenant_preferences(
    conn: Connection, tenant: str, settings: Settings
) -> TenantPreferencesOut:
    defaults = await store.tenant_defaults(conn, tenant)
    leads = await store.reminder_leads(conn, tenant, settings.reminder_leads_s)
    delay = await store.question_routing_delay(conn, tenant, settings.question_routing_delay_s)
    return TenantPreferencesOut(
        categories=_categories_out(defaults),
        reminder_leads_s=leads,
        question_routing_delay_s=delay,
    )


def _mute_out(mute: Mute) -> MuteOut:
    return MuteOut(kind=MuteKind(mute.kind), id=mute.target_id, until=mute.until)


# --- preferences ---------------------------------------------------------------------------


@router.get(
    "/v1/notification-preferences",
    summary="The caller's notification preferences, resolved",
    response_model=PreferencesOut,
)
async def get_preferences(service: Service, principal: CurrentPrincipal) -> PreferencesOut:
    async with _transaction(service) as conn:
        return await _preferences(conn, principal)


@router.put(
    "/v1/notification-preferences",
    summary="Change the caller's notification preferences (sparse)",
    description="Names only what changes; `null` removes an override. A setting the tenant "
    "locked cannot be changed to another value (422).",
    response_model=PreferencesOut,
)
async def put_preferences(
    service: Service, principal: CurrentPrincipal, body: PreferencesIn
) -> PreferencesOut:
    wanted = _settings_of(body.categories)
    tenant, user = principal.tenant_id, principal.user_id
    async with _transaction(service) as conn:
        defaults = await store.tenant_defaults(conn, tenant)
        chosen = {s: enabled for s, enabled in wanted.items() if enabled is not None}
        if conflicts := locked_conflicts(defaults, chosen):
            names = [f"{category}.{channel}" for category, channel in conflicts]
            raise InvalidInput(
                f"locked by the tenant: {', '.join(names)}",
                code="locked",
                extra={"locked": names},
            )
        await store.set_user_overrides(conn, tenant, user, wanted)
        if body.digest is not None:
            await store.set_digest(conn, tenant, user, body.digest)
        return await _preferences(conn, principal)


@router.get(
    "/v1/notification-preferences/tenant",
    summary="The tenant's notification defaults, reminder lead times and routing delay",
    description="Role `tenant_admin`.",
    response_model=TenantPreferencesOut,
)
async def get_tenant_preferences(service: Service, admin: TenantAdmin) -> TenantPreferencesOut:
    async with _transaction(service) as conn:
        return await _tenant_preferences(conn, admin.tenant_id, service.settings)


@router.put(
    "/v1/notification-preferences/tenant",
    summary="Change the tenant's notification defaults (sparse)",
    description="Role `tenant_admin`. `null` removes a default; a locked default holds for "
    "everyone. `reminder_leads_s`: 60 s to 30 days, at most 5; `question_routing_delay_s`: "
    "0 (no question is routed to likely answerers) or 60 s to 30 days, for questions asked "
    "from then on; `null` restores the service's default.",
    response_model=TenantPreferencesOut,
)
async def put_tenant_preferences(
    service: Service, admin: TenantAdmin, body: TenantPreferencesIn
) -> TenantPreferencesOut:
    wanted = _settings_of(body.categories)
    defaults = {
        s: None if d is None else TenantDefault(d.enabled, locked=d.locked)
        for s, d in wanted.items()
    }
    async with _transaction(service) as conn:
        await store.set_tenant_defaults(conn, admin.tenant_id, defaults)
        if "reminder_leads_s" in body.model_fields_set:
            leads = body.reminder_leads_s
            normalised = None if leads is None else sorted(set(leads), reverse=True)
            await store.set_reminder_leads(conn, admin.tenant_id, normalised)
        if "question_routing_delay_s" in body.model_fields_set:
            await store.set_question_routing_delay(
                conn, admin.tenant_id, body.question_routing_delay_s
            )
        return await _tenant_preferences(conn, admin.tenant_id, service.settings)


# --- mutes ---------------------------------------------------------------------------------

TargetId = Annotated[
    str, Path(pattern=_TARGET_ID, description="The thread, group or actor id (at most 512)")
]


@router.get("/v1/notification-mutes", summary="The caller's active mutes", response_model=MutesOut)
async def get_mutes(service: Service, principal: CurrentPrincipal) -> MutesOut:
    now = datetime.now(UTC)
    async with _transaction(service) as conn:
        mutes = await store.list_mutes(conn, principal.tenant_id, principal.user_id, now)
    return MutesOut(items=[_mute_out(m) for m in mutes])


@router.put(
    "/v1/notification-mutes/{kind}/{target_id:path}",
    summary="Mute a thread, group or actor",
    description='Optional body `{"until": "<ISO datetime>"}`: when the mute ends (in the '
    "future); without it, until unmuted. What the tenant locked on still gets through.",
    response_model=MuteOut,
)
async def put_mute(
    service: Service,
    principal: CurrentPrincipal,
    kind: MuteKind,
    target_id: TargetId,
    body: MuteIn | None = None,
) -> MuteOut:
    now = datetime.now(UTC)
    until = body.until if body is not None else None
    if until is not None and until <= now:
        raise InvalidInput("until: must be in the future", extra={"field": "until"})
    tenant, user = principal.tenant_id, principal.user_id
    async with _transaction(service) as conn:
        await store.purge_expired_mutes(conn, tenant, user, now)
        existing = await store.list_mutes(conn, tenant, user, now)
        renewing = any(m.kind == kind and m.target_id == target_id for m in existing)
        if len(existing) >= MAX_MUTES and not renewing:
            raise InvalidInput(f"at most {MAX_MUTES} mutes; remove one first", code="too-many")
        mute = await store.set_mute(conn, tenant, user, kind.value, target_id, until)
    return _mute_out(mute)


@router.delete(
    "/v1/notification-mutes/{kind}/{target_id:path}",
    summary="Unmute a thread, group or actor",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(404),
)
async def delete_mute(
    service: Service, principal: CurrentPrincipal, kind: MuteKind, target_id: TargetId
) -> Response:
    now = datetime.now(UTC)
    async with _transaction(service) as conn:
        found = await store.delete_mute(
            conn, principal.tenant_id, principal.user_id, kind.value, target_id, now
        )
    if not found:
        raise NotFound(f"no {kind} mute for {target_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
