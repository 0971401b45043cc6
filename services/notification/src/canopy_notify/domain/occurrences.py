"""Reading canonical activities (docs/architecture.md §3) as notifications need them.

Ingestion enriches every activity so consumers never call back: a Like, Announce, Flag or
Accept embeds the whole post; a reply names the author of the post it replies to; a task names
its assignees in ``to`` and its due time in ``endTime``.
"""

from __future__ import annotations

from typing import Any

from canopy_common.activities import (
    activity_type,
    as_object,
    is_join_request,
    item_of,
    post_item,
    user_id,
    user_ids,
)
from canopy_common.events import AS2Object, StrictActivity, ref_id
from canopy_notify.domain.model import Occurrence

ABOUT_A_POST = frozenset({"Like", "Announce", "Flag", "Accept", "Update"})
DONE_STATUSES = frozenset({"completed", "cancelled"})
_SUMMARY_CHARS = 140


def occurrence_of(activity: StrictActivity) -> Occurrence | None:
    """What ``activity`` means for notifications, or None when it can concern nobody."""
    tenant = activity.tenant
    kind = activity_type(activity)
    actor = user_id(tenant, activity.actor)
    if actor is None:
        return None
    obj = as_object(activity.object)
    base: dict[str, Any] = {
        "tenant_id": tenant,
        "activity_id": activity.id,
        "activity_type": kind,
        "actor_id": actor,
        "published": activity.published,
    }
    if kind == "Update" and obj is not None and activity_type(obj) == "Flag":
        return _decision(base, activity, obj)
    if kind == "Create" or kind in ABOUT_A_POST:
        item = item_of(activity) if kind == "Create" else post_item(activity, obj)
        if item is None or obj is None:
            return Occurrence(**base) if kind == "Flag" else None
        parent = as_object(obj.in_reply_to)
        return Occurrence(
            **base,
            item=item,
            kind=obj.kind,
            object_id=item.object_id,
            summary=summarize(obj),
            thread_id=ref_id(obj.context),
            parent_id=ref_id(obj.in_reply_to),
            parent_author=user_id(tenant, parent.attributed_to) if parent is not None else None,
            group_id=item.group_id,
            assignees=frozenset(user_ids(tenant, obj.to)),
            due_at=obj.end_time,
            done=obj.status in DONE_STATUSES,
        )
    if kind == "Follow" and obj is not None and obj.type == "Person":
        return Occurrence(**base, followee=user_id(tenant, obj.id), object_id=obj.id)
    if kind == "Invite":
        group = as_object(activity.target)
        return Occurrence(
            **base,
            invitee=user_id(tenant, activity.object),
            group_id=ref_id(activity.target),
            object_id=ref_id(activity.target),
            summary=summarize(group) if group is not None else {},
        )
    if is_join_request(activity):
        group = as_object(activity.object)
        return Occurrence(
            **base,
            join_request=True,
            group_id=ref_id(activity.object),
            object_id=ref_id(activity.object),
            summary=summarize(group) if group is not None else {},
        )
    return Occurrence(**base)


def _decision(base: dict[str, Any], activity: StrictActivity, report: AS2Object) -> Occurrence:
    """A moderator's decision on a report: an Update of the Flag, its ``status`` what became
    of it, addressed to the reporters (and the author, unless dismissed); the note as
    ``content``. It embeds no post, so no visibility check applies: the people it names are
    the ones the moderator meant to tell."""
    tenant = activity.tenant
    post = as_object(report.object)
    post_id = ref_id(report.object)
    summary: dict[str, Any] = {"id": post_id, "type": post.type if post else None, "name": ""}
    summary["status"] = report.status
    if activity.content:
        summary["note"] = activity.content
    return Occurrence(
        **base,
        object_id=post_id,
        summary={key: value for key, value in summary.items() if value is not None},
        thread_id=ref_id(activity.context),
        moderation=report.status,
        told=frozenset(user_ids(tenant, activity.to)),
        flagged_author=user_id(tenant, post.attributed_to) if post is not None else None,
    )


def summarize(obj: AS2Object) -> dict[str, Any]:
    """What a notification shows of its object: id, type, kind, a name or the start of the
    content (no addressing, nothing private)."""
    text = obj.name or obj.content or ""
    if len(text) > _SUMMARY_CHARS:
        text = text[: _SUMMARY_CHARS - 1].rstrip() + "…"
    summary: dict[str, Any] = {"id": obj.id, "type": obj.type, "name": text}
    if obj.kind:
        summary["kind"] = obj.kind
    if obj.end_time is not None:
        summary["endTime"] = obj.end_time.isoformat()
    return summary
