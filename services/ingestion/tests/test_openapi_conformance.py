"""ingestion's API tells the truth about itself: schemathesis sends what its OpenAPI document
allows (and what it does not) as a member and as a tenant admin, over real HTTP against the
real Postgres, Redis and broker, and every answer is documented — status, content type,
headers, body — and none is a server error (docs/architecture.md §8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ingestion_harness import Api

from canopy_common.service import Mode
from canopy_ingestion.app import create_app
from canopy_testing.api_conformance import check_conformance, member_and_admin, served_over_http

pytestmark = pytest.mark.integration

# Per operation, caller and kind (valid, invalid): what the four services' runs, some
# 4,000 requests in all, take within about a minute of `make test`.
EXAMPLES = 25


async def test_every_operation_answers_only_what_the_openapi_document_says(
    api: Api, tenant: str, record_property: Callable[[str, object], None]
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

    async with served_over_http(create_app(api.settings, Mode.API)) as base_url:
        found = await check_conformance(base_url, callers, max_examples=EXAMPLES)

    print(found.figures("ingestion"))
    record_property("conformance", found.figures("ingestion"))
    assert not found.failures, "\n\n".join(found.failures)
    assert len(found.examples) == 33
