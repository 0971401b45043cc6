"""Every CSV answer is an export, audited (docs/architecture.md §14): before the file goes out,
an ``analytics.export`` entry of the caller's tenant is on ``canopy.audit.v1`` for ingestion
to record. JSON answers are not exports."""

from __future__ import annotations

import pytest
from analytics_checks import get_csv, ok
from analytics_harness import Analytics

from canopy_common.audit_events import AuditEvent, OutsideAction, decode_audit_event
from canopy_testing.kafka import read_topic

pytestmark = pytest.mark.integration

SUMMARY = "/v1/analytics/summary"


async def audit_entries(analytics: Analytics, tenant: str) -> list[AuditEvent]:
    kafka = analytics.settings.kafka
    return [
        decode_audit_event(record.value)
        for record in await read_topic(kafka, kafka.topic_audit)
        if record.key == tenant.encode()
    ]


async def test_a_csv_answer_is_published_as_an_export_of_the_callers_tenant(
    analytics: Analytics, tenant_id: str
) -> None:
    await analytics.provision(tenant_id, "an")

    rows = await get_csv(analytics, SUMMARY, tenant_id, "an", "analyst", period="28d")

    [entry] = await audit_entries(analytics, tenant_id)
    assert (entry.tenant, entry.actor, entry.action, entry.target) == (
        tenant_id,
        "an",
        OutsideAction.ANALYTICS_EXPORT,
        SUMMARY,
    )
    assert entry.details == {
        "file": "analytics-summary-28d.csv",
        "rows": len(rows),
        "query": {"period": "28d"},
    }


async def test_json_answers_and_refused_csv_requests_are_no_exports(
    analytics: Analytics, tenant_id: str
) -> None:
    await analytics.provision(tenant_id, "an", "member")

    ok(await analytics.get(SUMMARY, tenant_id, "an", "analyst"))
    refused = await analytics.client.get(
        SUMMARY, headers={**analytics.headers(tenant_id, "member"), "Accept": "text/csv"}
    )

    assert refused.status_code == 403
    assert await audit_entries(analytics, tenant_id) == []
