"""Notify's section of a person's data export (docs/architecture.md §16 "Export"): the
notifications they received (with who acted), their preference overrides and digest, their
notification mutes, the outside deliveries (email, push) made or due for them, the tasks
assigned to them, the routing of their questions and the rankings naming them as a likely
answerer (§17), and notify's projection of the person and their relations — whole rows
(``to_jsonb``), in a stable order.

Left out: the tenant's defaults (the same for everyone) and Redis (unread counts and presence,
caches that expire within minutes).
"""

from __future__ import annotations

from canopy_common.export_answers import SectionQuery, export_consumer, table_rows
from canopy_common.exports import ExportService
from canopy_common.service import ConsumerSpec
from canopy_notify.bootstrap import Collaborators

QUERIES: dict[str, SectionQuery] = {
    "person": SectionQuery(
        "SELECT to_jsonb(t) - 'tenant_id' FROM people t WHERE t.tenant_id = $1 AND t.user_id = $2",
        single=True,
    ),
    "notifications": SectionQuery(
        "SELECT to_jsonb(n) - 'tenant_id' || jsonb_build_object('actors', coalesce(("
        "    SELECT jsonb_agg(jsonb_build_object('actor_id', a.actor_id, 'at', a.at) "
        "                     ORDER BY a.at, a.actor_id) "
        "    FROM notification_actors a WHERE a.notification_id = n.id"
        "), '[]'::jsonb)) "
        "FROM notifications n WHERE n.tenant_id = $1 AND n.recipient = $2 "
        "ORDER BY n.created_at, n.id"
    ),
    "preferences": table_rows("user_preferences", "t.user_id = $2", "t.category, t.channel"),
    "settings": SectionQuery(
        "SELECT to_jsonb(t) - 'tenant_id' FROM user_settings t "
        "WHERE t.tenant_id = $1 AND t.user_id = $2",
        single=True,
    ),
    "mutes": table_rows("mutes", "t.user_id = $2", "t.kind, t.target_id"),
    "deliveries": table_rows("deliveries", "t.recipient = $2", "t.id"),
    "tasks_assigned": table_rows("tasks", "$2 = ANY(t.assignees)", "t.object_id"),
    "threads_taken_part_in": table_rows("thread_participants", "t.user_id = $2", "t.thread_id"),
    "following": table_rows("follows", "t.follower_id = $2", "t.followee_id"),
    "memberships": table_rows("memberships", "t.user_id = $2", "t.group_id"),
    "blocks": table_rows("blocks", "t.user_id = $2", "t.other_id"),
    # Rankings naming them as a likely answerer of a question not yet routed (§17).
    "question_expert_candidacies": SectionQuery(
        "SELECT jsonb_build_object('question_id', q.question_id, 'computed_at', q.computed_at, "
        "'model', q.model, 'expert', e) FROM question_experts q, "
        "jsonb_array_elements(q.experts) AS e WHERE q.tenant_id = $1 AND e->>'user_id' = $2 "
        "ORDER BY q.computed_at, q.question_id"
    ),
    "questions_asked_routing": table_rows(
        "routed_questions", "t.asker_id = $2", "t.published, t.question_id"
    ),
}


#: Answers export requests, in a consumer group of its own (``<group>.exports``).
EXPORT_CONSUMER: ConsumerSpec[Collaborators] = export_consumer(ExportService.NOTIFY, QUERIES)
