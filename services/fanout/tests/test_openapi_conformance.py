"""fanout's API tells the truth about itself: schemathesis sends what its OpenAPI document
allows (and what it does not) as a member and as a tenant admin, over real HTTP against the
real Postgres, Redis and broker, and every answer is documented — status, content type,
headers, body — and none is a server error (docs/architecture.md §8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fanout_harness import Fanout

from canopy_common.service import Mode
from canopy_fanout.app import create_app
from canopy_testing.api_conformance import check_conformance, member_and_admin, served_over_http
from canopy_testing.factories import ActivityFactory

pytestmark = pytest.mark.integration

# Per operation, caller and kind (valid, invalid): what the four services' runs, some
# 4,000 requests in all, take within about a minute of `make test`.
EXAMPLES = 25


async def test_every_operation_answers_only_what_the_openapi_document_says(
    fanout: Fanout, record_property: Callable[[str, object], None]
) -> None:
    people = ActivityFactory()
    await fanout.send(people.user(user_id="member"), people.user(user_id="admin"))
    callers = member_and_admin(fanout.settings.auth, people.tenant_id, "member", "admin")

    async with served_over_http(create_app(fanout.settings, Mode.API)) as base_url:
        found = await check_conformance(base_url, callers, max_examples=EXAMPLES)

    print(found.figures("fanout"))
    record_property("conformance", found.figures("fanout"))
    assert not found.failures, "\n\n".join(found.failures)
    assert len(found.examples) == 8
