"""Numbers and text reach Postgres only within what it stores (issue 16 point 4): a
notification id or change number beyond a bigint is refused with 422 problem+json naming the
field, never a 500 from the query."""

from __future__ import annotations

import pytest
from notify_harness import Notify

from canopy_common.errors import PROBLEM_JSON
from canopy_testing.factories import ActivityFactory

pytestmark = pytest.mark.integration

BEYOND_BIGINT = str(2**63)


@pytest.mark.parametrize(
    ("body", "field"),
    [({"up_to": BEYOND_BIGINT}, "up_to"), ({"ids": ["1", BEYOND_BIGINT]}, "ids")],
)
async def test_marking_read_past_a_bigint_is_refused_naming_the_field(
    notify: Notify, body: dict[str, object], field: str
) -> None:
    people = ActivityFactory()
    await notify.send(people.user(user_id="ada"))

    response = await notify.client.post(
        "/v1/notifications/read", json=body, headers=notify.headers(people.tenant_id, "ada")
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == field


async def test_a_cursor_longer_than_any_this_api_gives_is_refused(notify: Notify) -> None:
    people = ActivityFactory()
    await notify.send(people.user(user_id="ada"))

    response = await notify.get("/v1/notifications", people.tenant_id, "ada", cursor="x" * 201)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"
