"""HTTP routes: tenants (platform admins provision them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import Principal, Role, require_roles
from canopy_common.openapi import problems
from canopy_common.principal import TENANT_ID_PATTERN
from canopy_ingestion.api.deps import CurrentRuntime, transaction
from canopy_ingestion.handlers.people import (
    NAME_MAX_LENGTH,
    ProvisionTenant,
    handle_provision_tenant,
)

router = APIRouter(tags=["tenants"])

PlatformAdmin = Annotated[Principal, Depends(require_roles(Role.PLATFORM_ADMIN))]
TenantId = Annotated[
    str,
    Path(
        pattern=TENANT_ID_PATTERN,
        description="The tenant's id: letters, digits, '.', '_' or '-', at most 64",
        examples=["acme"],
    ),
]


class TenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Acme"}]})

    name: str = Field(max_length=NAME_MAX_LENGTH, description="Display name, 1 to 200 characters")


class TenantOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "acme", "name": "Acme"}]})

    id: str
    name: str


@router.put(
    "/v1/tenants/{tenant_id}",
    summary="Provision or rename a tenant",
    description="Role `platform_admin`. Creates the tenant (201) or sets its name (200); "
    "the token's own tenant claim does not matter, the path names the tenant.",
    response_model=TenantOut,
    responses={201: {"model": TenantOut, "description": "Created"}, **problems(403, 422)},
)
async def put_tenant(
    tenant_id: TenantId,
    body: TenantIn,
    runtime: CurrentRuntime,
    response: Response,
    admin: PlatformAdmin,
) -> TenantOut:
    async with transaction(runtime, tenant_id) as conn:
        tenant, created = await handle_provision_tenant(
            ProvisionTenant(tenant_id, body.name, by=admin.user_id), conn=conn
        )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return TenantOut(id=tenant.id, name=tenant.name)
