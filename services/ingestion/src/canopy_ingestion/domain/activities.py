"""Canonical activities (ARCHITECTURE §3) built from the write model, enriched so consumers
never call back: the actor's summary, the whole object, the target group and its visibility,
the in-reply-to author and thread, resolved mentions and hashtags, the subject of a relation.

Pure functions: the handlers load what they need and publish what these return.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from canopy_common.events import StrictActivity, Visibility, new_activity_id, validate_activity
from canopy_common.iris import tag_iri, user_iri
from canopy_ingestion.domain.model import (
    SCHEDULED_KINDS,
    Group,
    GroupVisibility,
    Post,
    TaskStatus,
    User,
)

Doc = dict[str, Any]

# Who caused the activities being built: "http" for the write API, the upstream system's
# name while an upstream record is applied (ARCHITECTURE §3 `source`).
_source: ContextVar[str] = ContextVar("canopy_activity_source", default="http")


@contextmanager
def activities_from(source: str) -> Iterator[None]:
    """Activities built inside the block name ``source`` as their origin."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def person(user: User) -> Doc:
    """A person as AS2, with the profile fields discovery and notifications use (``email``
    for mail deliveries, ``roles`` to find the tenant's moderators)."""
    doc: Doc = {
        "type": "Person",
        "id": user_iri(user.tenant_id, user.id),
        "name": user.display_name,
        "preferredUsername": user.handle,
        "kind": user.kind.value,
    }
    profile = {
        "title": user.title,
        "department": user.department,
        # AS2's own `location` is a reference: a Place named after the office.
        "location": {"type": "Place", "name": user.location} if user.location else None,
        "skills": list(user.skills) or None,
        "interests": list(user.interests) or None,
        "manager": user_iri(user.tenant_id, user.manager_id) if user.manager_id else None,
        "email": user.email,
        "roles": list(user.roles) or None,
    }
    doc.update({key: value for key, value in profile.items() if value is not None})
    return doc


# Who sees a group's items, as the AS2 `visibility` term says it (it knows no `private`).
GROUP_ITEMS_VISIBILITY = {
    GroupVisibility.PUBLIC: Visibility.PUBLIC,
    GroupVisibility.INTERNAL: Visibility.INTERNAL,
    GroupVisibility.PRIVATE: Visibility.GROUP,
}


def group(value: Group) -> Doc:
    """A group as AS2, with its visibility (private groups' items reach members only)."""
    return {
        "type": "Group",
        "id": value.id,
        "name": value.name,
        "summary": value.description or None,
        "visibility": GROUP_ITEMS_VISIBILITY[value.visibility].value,
        "attributedTo": user_iri(value.tenant_id, value.owner_id),
    }


def post_object(
    post: Post,
    *,
    author: User,
    mentioned: tuple[User, ...] = (),
    group_of: Group | None = None,
    reply_author: User | None = None,
) -> Doc:
    """A post (or task, event, document) as the AS2 object its activities carry; a task or
    event says whether it is still ``open`` (``status``)."""
    tenant = post.tenant_id
    tags: list[Doc] = [
        {"type": "Mention", "href": user_iri(tenant, user.id), "name": f"@{user.handle}"}
        for user in mentioned
    ]
    tags += [
        {"type": "Hashtag", "href": tag_iri(tenant, tag), "name": f"#{tag}"}
        for tag in post.hashtags
    ]
    doc: Doc = {
        "type": post.as2_type,
        "id": post.id,
        "kind": post.kind.value,
        "attributedTo": person(author),
        "content": post.content,
        "mediaType": "text/markdown",
        "name": post.name,
        "visibility": post.visibility.value,
        "context": post.thread_id,
        "published": post.published,
        "updated": post.updated if post.updated != post.published else None,
        "tag": tags or None,
        "url": post.url,
        "startTime": post.start_time,
        "endTime": post.end_time,
        "acceptedAnswer": post.accepted_answer_id,
        "to": [user_iri(tenant, uid) for uid in post.to_ids] or None,
        "status": (post.status or TaskStatus.OPEN).value if post.kind in SCHEDULED_KINDS else None,
    }
    if group_of is not None:
        doc["target"] = group(group_of)
    if post.in_reply_to is not None:
        doc["inReplyTo"] = {
            "id": post.in_reply_to,
            "attributedTo": user_iri(tenant, reply_author.id) if reply_author else None,
        }
    return {key: value for key, value in doc.items() if value is not None}


def activity(
    type_: str,
    *,
    actor: User,
    obj: Doc | str,
    target: Doc | None = None,
    visibility: str | None = None,
    to: list[str] | None = None,
    source: str | None = None,
    traceparent: str | None = None,
    activity_id: str | None = None,
    published: datetime | None = None,
    **extra: Any,
) -> StrictActivity:
    """A canonical activity by ``actor``; validated with the strict profile before it leaves."""
    doc: Doc = {
        "id": activity_id or new_activity_id(),
        "type": type_,
        "actor": person(actor),
        "object": obj,
        "target": target,
        "to": to,
        "published": (published or datetime.now(UTC)).isoformat(),
        "tenant": actor.tenant_id,
        "visibility": visibility,
        "source": source or _source.get(),
        "traceparent": traceparent,
        **extra,
    }
    return validate_activity(_json_ready({k: v for k, v in doc.items() if v is not None}))


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value
