"""A deactivated person in analytics (docs/architecture.md §16): out of experts and of people
to follow, refused on every route, their contributions kept; reactivation brings them back."""

from __future__ import annotations

import pytest
from analytics_checks import ok, uid
from analytics_harness import Analytics

from canopy_testing.factories import ActivityFactory

pytestmark = pytest.mark.integration

EXPERTS = "/v1/people/experts"
PEOPLE = "/v1/people/suggestions"


def ids(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [item["user_id"] for item in items]


async def test_a_leaver_leaves_experts_and_suggestions_and_comes_back_when_reactivated(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    mateo = f.user("mateo", skills=["exports"])
    nadia, omar = f.user("nadia", skills=["exports"]), f.user("omar")
    tip = f.post(mateo, "#exports are paged", hashtags=["exports"])
    await analytics.send(mateo, nadia, omar, tip, f.follow(nadia, omar), f.follow(omar, mateo))
    tenant, caller = f.tenant_id, uid(nadia)

    before = ok(await analytics.get(EXPERTS, tenant, caller, "member", topic="exports"))
    assert ids(before) == [uid(mateo), uid(nadia)]
    assert uid(mateo) in ids(ok(await analytics.get(PEOPLE, tenant, caller, "member")))

    await analytics.send(f.profile_update(mateo, active=False))

    refused = await analytics.get(PEOPLE, tenant, uid(mateo), "member")
    assert refused.status_code == 403
    assert ids(ok(await analytics.get(EXPERTS, tenant, caller, "member", topic="exports"))) == [
        uid(nadia)
    ]
    assert uid(mateo) not in ids(ok(await analytics.get(PEOPLE, tenant, caller, "member")))

    await analytics.send(f.profile_update(mateo, active=True))

    back = ok(await analytics.get(EXPERTS, tenant, caller, "member", topic="exports"))
    assert ids(back) == ids(before)  # their contributions were kept
    assert ok(await analytics.get(PEOPLE, tenant, uid(mateo), "member"))
