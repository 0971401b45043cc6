"""The search projection (docs/architecture.md §17): each post's plain text and its version,
kept by the stream through creates, edits, deletes and erasure."""

from __future__ import annotations

import pytest
from analytics_harness import Analytics

from canopy_testing.factories import ActivityFactory, subject_id

pytestmark = pytest.mark.integration


async def text_of(analytics: Analytics, tenant: str, post: object) -> tuple[str, int, str]:
    row = await analytics.pool.fetchrow(
        "SELECT text, text_version, search::text AS search FROM posts "
        "WHERE tenant_id = $1 AND object_id = $2",
        tenant,
        subject_id(post),  # type: ignore[arg-type]
    )
    assert row is not None
    return row["text"], row["text_version"], row["search"]


async def test_a_posts_text_and_version_follow_its_edits_deletion_and_its_authors_erasure(
    analytics: Analytics,
) -> None:
    f = ActivityFactory()
    ann, bob = f.user("ann"), f.user("bob")
    question = f.post(
        ann, "<p>We keep <b>deploying</b> &amp; failing</p>", kind="question", name="Deploys?"
    )
    liked_first = f.post(bob, "Rollbacks happen")
    await analytics.send(ann, bob, f.like(ann, liked_first), question)  # the like comes first
    await analytics.send(liked_first)

    assert await text_of(analytics, f.tenant_id, question) == (
        "Deploys?\n\nWe keep deploying & failing",
        1,
        "'deploy':1,4 'fail':5 'keep':3",
    )
    assert (await text_of(analytics, f.tenant_id, liked_first))[:2] == ("Rollbacks happen", 1)

    retagged = f.edit(question, hashtags=["ops"])  # the text stays: no new version
    edited = f.edit(question, "We keep shipping")
    await analytics.send(retagged, edited)
    assert (await text_of(analytics, f.tenant_id, question))[:2] == (
        "Deploys?\n\nWe keep shipping",
        2,
    )

    await analytics.send(f.delete(ann, question), f.erase(bob))
    assert await text_of(analytics, f.tenant_id, question) == ("", 3, "")
    assert await text_of(analytics, f.tenant_id, liked_first) == ("", 2, "")
