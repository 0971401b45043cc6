"""Fanout's section of a person's data export (docs/architecture.md §16 "Export"): what its
own schema holds about them — its projection of the person, of their follows, memberships,
blocks, mutes and reactions, their feed read markers, and the activity store's record of
what they did — whole rows (``to_jsonb``), in a stable order.

Left out: Redis timelines and bodies (caches of other people's items, rebuilt from ``items``)
and the bodies of their items (the posts themselves are in ingestion's section).
"""

from __future__ import annotations

from canopy_common.export_answers import SectionQuery, export_consumer, table_rows
from canopy_common.exports import ExportService
from canopy_common.service import ConsumerSpec
from canopy_fanout.bootstrap import Collaborators

QUERIES: dict[str, SectionQuery] = {
    "person": SectionQuery(
        "SELECT to_jsonb(t) - 'tenant_id' FROM people t WHERE t.tenant_id = $1 AND t.user_id = $2",
        single=True,
    ),
    "markers": table_rows("markers", "t.user_id = $2", "t.feed"),
    "following": table_rows("follows", "t.follower_id = $2", "t.followee_id"),
    "followed_tags": table_rows("tag_follows", "t.user_id = $2", "t.tag"),
    "memberships": table_rows("memberships", "t.user_id = $2", "t.group_id"),
    "blocks": table_rows("blocks", "t.user_id = $2", "t.other_id"),
    "mutes": table_rows("mutes", "t.user_id = $2", "t.other_id"),
    "reactions": table_rows("reactions", "t.user_id = $2", "t.object_id, t.kind"),
    "activities": SectionQuery(
        "SELECT jsonb_build_object('activity_id', activity_id, 'type', type, "
        "    'object_id', object_id, 'in_reply_to', in_reply_to, 'visibility', visibility, "
        "    'group_id', group_id, 'published', published, 'deleted', deleted) "
        "FROM items WHERE tenant_id = $1 AND actor_id = $2 ORDER BY score, activity_id"
    ),
}


#: Answers export requests, in a consumer group of its own (``<group>.exports``).
EXPORT_CONSUMER: ConsumerSpec[Collaborators] = export_consumer(ExportService.FANOUT, QUERIES)
