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
from canopy_common.consuming import Handler
from canopy_common.export_answers import SectionQuery, request_handler, rows_section
from canopy_common.exports import ExportService
from canopy_common.service import ConsumerSpec


def _rows(table: str, where: str, order: str) -> SectionQuery:
    return SectionQuery(
        f"SELECT to_jsonb(t) - 'tenant_id' FROM {table} t "
        f"WHERE t.tenant_id = $1 AND {where} ORDER BY {order}"
    )


QUERIES: dict[str, SectionQuery] = {
    "person": SectionQuery(
        "SELECT to_jsonb(t) - 'tenant_id' FROM people t WHERE t.tenant_id = $1 AND t.user_id = $2",
        single=True,
    ),
    "active_days": _rows("daily_actors", "t.user_id = $2", "t.day"),
    "group_active_days": _rows("daily_group_actors", "t.user_id = $2", "t.day, t.group_id"),
    "viewed_posts": _rows("post_viewers", "t.viewer_id = $2", "t.first_seen, t.object_id"),
    "posts": _rows("posts", "t.author_id = $2", "t.published, t.object_id"),
    "topic_contributions": _rows("topic_contributions", "t.user_id = $2", "t.topic"),
    "following": _rows("follows", "t.follower_id = $2", "t.followee_id"),
    "memberships": _rows("memberships", "t.user_id = $2", "t.group_id"),
    "blocks": _rows("blocks", "t.blocker_id = $2", "t.blocked_id"),
}


def _handler(service: Collaborators) -> Handler:
    runtime = service.runtime
    return request_handler(
        service=ExportService.ANALYTICS,
        pool=runtime.pool,
        producer=runtime.producer,
        topic=runtime.settings.kafka.topic_export_parts,
        build=lambda conn, request: rows_section(conn, QUERIES, request),
    )


#: Answers export requests, in a consumer group of its own (``<group>.exports``).
EXPORT_CONSUMER: ConsumerSpec[Collaborators] = ConsumerSpec(
    name="exports",
    topics=lambda settings: [settings.kafka.topic_exports],
    handler=_handler,
    group_suffix="exports",
)
