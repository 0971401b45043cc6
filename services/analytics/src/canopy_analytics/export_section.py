"""Analytics' section of a person's data export (docs/architecture.md §16 "Export"): its
projection of the person and their relations, the days they were active (and in which
groups), the posts they viewed, the engagement of the posts they wrote, and their topic
contributions (the expertise signal) — whole rows (``to_jsonb``), in a stable order.

Left out: the Redis HyperLogLogs (no person can be read back out of one; ``daily_actors``,
exported here, is their durable record) and tenant-wide counters (no person in them).

Analytics' stream is a faust app (§7); answering export requests is a plain consumer beside
it, the one every other service runs (``canopy_common.exports.request_handler``).
"""

from __future__ import annotations

from canopy_analytics.bootstrap import Collaborators
from canopy_common.export_answers import SectionQuery, export_consumer, table_rows
from canopy_common.exports import ExportService
from canopy_common.service import ConsumerSpec

QUERIES: dict[str, SectionQuery] = {
    "person": SectionQuery(
        "SELECT to_jsonb(t) - 'tenant_id' FROM people t WHERE t.tenant_id = $1 AND t.user_id = $2",
        single=True,
    ),
    "active_days": table_rows("daily_actors", "t.user_id = $2", "t.day"),
    "group_active_days": table_rows("daily_group_actors", "t.user_id = $2", "t.day, t.group_id"),
    "viewed_posts": table_rows("post_viewers", "t.viewer_id = $2", "t.first_seen, t.object_id"),
    "posts": table_rows("posts", "t.author_id = $2", "t.published, t.object_id"),
    "topic_contributions": table_rows("topic_contributions", "t.user_id = $2", "t.topic"),
    "following": table_rows("follows", "t.follower_id = $2", "t.followee_id"),
    "memberships": table_rows("memberships", "t.user_id = $2", "t.group_id"),
    "blocks": table_rows("blocks", "t.blocker_id = $2", "t.blocked_id"),
}


#: Answers export requests, in a consumer group of its own (``<group>.exports``).
EXPORT_CONSUMER: ConsumerSpec[Collaborators] = export_consumer(ExportService.ANALYTICS, QUERIES)
