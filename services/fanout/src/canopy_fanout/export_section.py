"""Fanout's section of a person's data export (docs/architecture.md §16 "Export"): what its
own schema holds about them — its projection of the person, of their follows, memberships,
blocks, mutes and reactions, their feed read markers, and the activity store's record of
what they did — whole rows (``to_jsonb``), in a stable order.

Left out: Redis timelines and bodies (caches of other people's items, rebuilt from ``items``)
and the bodies of their items (the posts themselves are in ingestion's section).
"""

from __future__ import annotations

from canopy_common.consuming import Handler
from canopy_common.export_answers import SectionQuery, request_handler, rows_section
from canopy_common.exports import ExportService
from canopy_common.service import ConsumerSpec
from canopy_fanout.bootstrap import Collaborators


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
    "markers": _rows("markers", "t.user_id = $2", "t.feed"),
    "following": _rows("follows", "t.follower_id = $2", "t.followee_id"),
    "followed_tags": _rows("tag_follows", "t.user_id = $2", "t.tag"),
    "memberships": _rows("memberships", "t.user_id = $2", "t.group_id"),
    "blocks": _rows("blocks", "t.user_id = $2", "t.other_id"),
    "mutes": _rows("mutes", "t.user_id = $2", "t.other_id"),
    "reactions": _rows("reactions", "t.user_id = $2", "t.object_id, t.kind"),
    "activities": SectionQuery(
        "SELECT jsonb_build_object('activity_id', activity_id, 'type', type, "
        "    'object_id', object_id, 'in_reply_to', in_reply_to, 'visibility', visibility, "
        "    'group_id', group_id, 'published', published, 'deleted', deleted) "
        "FROM items WHERE tenant_id = $1 AND actor_id = $2 ORDER BY score, activity_id"
    ),
}


def _handler(service: Collaborators) -> Handler:
    runtime = service.runtime
    return request_handler(
        service=ExportService.FANOUT,
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
