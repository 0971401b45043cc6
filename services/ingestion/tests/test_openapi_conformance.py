"""ingestion's API answers only what its OpenAPI document says, to a member and to a tenant
admin, over real HTTP against the real Postgres, Redis and broker
(canopy_testing.api_conformance, docs/architecture.md §8)."""

from __future__ import annotations

import pytest
from ingestion_harness import Api

from canopy_common.service import Mode
from canopy_ingestion.app import create_app
from canopy_testing.api_conformance import conformance_of, member_and_admin
from canopy_testing.plugin import ReportFigures

pytestmark = pytest.mark.integration


async def test_every_operation_answers_only_what_the_openapi_document_says(
    api: Api, tenant: str, report_figures: ReportFigures
) -> None:
    provisioned = await api.client.put(
        f"/v1/tenants/{tenant}",
        json={"name": "Conformance"},
        headers=api.headers(tenant, "platform", "platform_admin"),
    )
    assert provisioned.status_code == 201, provisioned.text
    for person in ("member", "admin"):
        created = await api.client.put(
            f"/v1/users/{person}",
            json={"handle": person, "display_name": person.title()},
            headers=api.headers(tenant, "hr", "tenant_admin"),
        )
        assert created.status_code == 201, created.text
    callers = member_and_admin(api.settings.auth, tenant, "member", "admin")

    found = await conformance_of(create_app(api.settings, Mode.API), callers)

    report_figures("conformance", found.figures("ingestion"))
    assert not found.failures, "\n\n".join(found.failures)
    assert len(found.examples) == 62
