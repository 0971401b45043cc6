"""Analytics' section of a person's data export (docs/architecture.md §16 "Export"), asked for
over the real broker as ingestion asks: the days they were active, what they viewed, their
posts' engagement and topic contributions, and nothing of anyone else's."""

from __future__ import annotations

import pytest
from analytics_harness import Analytics

from canopy_common.exports import ExportService
from canopy_testing.exports import exported_section
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject

pytestmark = pytest.mark.integration


async def test_the_section_holds_the_persons_activity_views_and_contributions(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ada, bob = f.user("ada", skills=["kafka"]), f.user("bob")
    ada_id, bob_id = user_id_of_subject(ada), user_id_of_subject(bob)
    mine = f.post(ada, "Partitions explained #kafka", hashtags=["kafka"], visibility="internal")
    theirs = f.post(bob, "Lunch?")
    await analytics.send(ada, bob, mine, theirs, f.follow(ada, bob), f.like(bob, mine))
    await analytics.send_impressions(f.tenant_id, ada_id, [theirs])

    section = await exported_section(
        analytics.settings.kafka, analytics.producer, ExportService.ANALYTICS, f.tenant_id, ada_id
    )

    assert (section["service"], section["person"]["user_id"]) == ("analytics", ada_id)
    assert section["person"]["skills"] == ["kafka"]
    assert [d["created"] for d in section["active_days"]] == [True]
    assert [v["object_id"] for v in section["viewed_posts"]] == [subject_id(theirs)]
    assert [(p["object_id"], p["reactions"]) for p in section["posts"]] == [(subject_id(mine), 1)]
    assert [t["topic"] for t in section["topic_contributions"]] == ["kafka"]
    assert [r["followee_id"] for r in section["following"]] == [bob_id]
