"""analytics's API answers only what its OpenAPI document says, to a member and to a tenant
admin, over real HTTP against the real Postgres, Redis and broker
(canopy_testing.api_conformance, docs/architecture.md §8)."""

from __future__ import annotations

import pytest
from analytics_harness import Analytics

from canopy_analytics.app import create_app
from canopy_common.service import Mode
from canopy_testing.api_conformance import conformance_of, member_and_admin
from canopy_testing.plugin import ReportFigures

pytestmark = pytest.mark.integration


async def test_every_operation_answers_only_what_the_openapi_document_says(
    analytics: Analytics, tenant_id: str, report_figures: ReportFigures
) -> None:
    await analytics.provision(tenant_id, "member", "admin")
    callers = member_and_admin(analytics.settings.auth, tenant_id, "member", "admin")

    found = await conformance_of(create_app(analytics.settings, Mode.API), callers)

    report_figures("conformance", found.figures("analytics"))
    assert not found.failures, "\n\n".join(found.failures)
    assert len(found.examples) == 14
