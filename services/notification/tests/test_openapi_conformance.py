"""notify's API answers only what its OpenAPI document says, to a member and to a tenant
admin, over real HTTP against the real Postgres, Redis and broker
(canopy_testing.api_conformance, docs/architecture.md §8)."""

from __future__ import annotations

import pytest
from notify_harness import Notify

from canopy_common.service import Mode
from canopy_notify.app import create_app
from canopy_testing.api_conformance import conformance_of, member_and_admin
from canopy_testing.plugin import ReportFigures

pytestmark = pytest.mark.integration

# A live stream answers for as long as the client listens: no whole answer to check.
STREAM = "GET /v1/notifications/stream"


async def test_every_operation_answers_only_what_the_openapi_document_says(
    notify: Notify, tenant_id: str, report_figures: ReportFigures
) -> None:
    await notify.provision(tenant_id, "member", "admin")
    callers = member_and_admin(notify.settings.auth, tenant_id, "member", "admin")

    found = await conformance_of(create_app(notify.settings, Mode.API), callers, skip={STREAM})

    report_figures("conformance", found.figures("notify"))
    assert not found.failures, "\n\n".join(found.failures)
    assert len(found.examples) == 12
