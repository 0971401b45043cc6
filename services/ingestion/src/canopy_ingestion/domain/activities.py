"""Canonical activities (docs/architecture.md §3) built from the write model, enriched so consumers
never call back: the actor's summary, the whole object, the target group and its visibility,
the in-reply-to author and thread, resolved mentions and hashtags, the subject of a relation.

Pure functions: the handlers load what they need and publish what these return.

An activity is built here as a plain JSON document and encoded once, with orjson, into the
bytes the outbox stores and the relay sends as they are. It is not parsed back through the
AS2 models: everything in it comes from the write model, which only ever holds what passed
strict validation on the way in, and the tests decode what is published with the strict
profile. A pydantic round trip cost several times the rest of a write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from canopy_common.events import CANOPY_CONTEXT, new_activity_id
from canopy_common.iris import user_iri
from canopy_common.vocabulary.builders import (
    activity_doc,
    group_doc,
    hashtag_tag,
    json_ready,
    mention_tag,
    person_doc,
)
from canopy_ingestion.domain.model import (
    SCHEDULED_KINDS,
    Group,
    Post,
    TaskStatus,
    User,
)

Doc = dict[str, Any]

# Who caused the activities being built: "http" for the write API, the upstream system's
# name while an upstream record is applied (docs/architecture.md §3 `source`).
_source: ContextVar[str] = ContextVar("canopy_activity_source", default="http")


@contextmanager
def activities_from(source: str) -> Iterator[None]:
    """Activities built inside the block name ``source`` as their origin."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def person(user: User, *, standing: bool = False) -> Doc:
    """A person as AS2, with the profile fields discovery and notifications use. A person who
    is not active says ``active: false`` (a post of a former colleague shows them as one);
    ``standing`` says ``active`` either way (the Update that deactivates or reactivates)."""
    return person_doc(
        user_iri(user.tenant_id, user.id),
        handle=user.handle,
        display_name=user.display_name,
        kind=user.kind.value,
        title=user.title,
        department=user.department,
        location=user.location,
        skills=user.skills,
        interests=user.interests,
        manager=user_iri(user.tenant_id, user.manager_id) if user.manager_id else None,
        email=user.email,
        roles=user.roles,
        summary=user.summary,
        pronouns=user.pronouns,
        active=user.active if standing or not user.active else None,
    )


def group(value: Group) -> Doc:
    """A group as AS2, with its visibility (private groups' items reach members only)."""
    return group_doc(
        value.id,
        name=value.name,
        summary=value.description,
        visibility=value.visibility,
        owner_iri=user_iri(value.tenant_id, value.owner_id),
    )


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
    tags = [mention_tag(user_iri(tenant, user.id), user.handle) for user in mentioned]
    tags += [hashtag_tag(tenant, tag) for tag in post.hashtags]
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


@dataclass(frozen=True, slots=True)
class CanonicalActivity:
    """A canonical activity ready to publish: its JSON document (no ``@context``, no null
    members, ISO 8601 dates) and when it was published."""

    doc: Doc
    published: datetime

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def tenant(self) -> str:
        return str(self.doc["tenant"])

    @property
    def type(self) -> str:
        return str(self.doc["type"])

    @property
    def actor_iri(self) -> str | None:
        actor = self.doc["actor"]
        return actor if isinstance(actor, str) else actor.get("id")

    @property
    def traceparent(self) -> str | None:
        value = self.doc.get("traceparent")
        return str(value) if value is not None else None

    def document(self) -> Doc:
        """The activity as AS2 JSON, with Canopy's context (ingestion never sets ``bto`` or
        ``bcc``: this is also what a response may show)."""
        return {"@context": CANOPY_CONTEXT, **self.doc}

    def payload(self) -> bytes:
        """The record value, encoded once: the outbox stores it, the relay sends it as it is."""
        return orjson.dumps(self.document())

    def with_members(self, members: dict[str, Any]) -> CanonicalActivity:
        """A copy with some members replaced (``None`` removes one)."""
        doc = {**self.doc, **{key: json_ready(value) for key, value in members.items()}}
        return CanonicalActivity({k: v for k, v in doc.items() if v is not None}, self.published)


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
) -> CanonicalActivity:
    """A canonical activity by ``actor`` (see the module docstring for why it is not
    validated again)."""
    at = published or datetime.now(UTC)
    doc = activity_doc(
        type_,
        activity_id=activity_id or new_activity_id(),
        actor=person(actor),
        obj=obj,
        target=target,
        to=to,
        published=at,
        tenant=actor.tenant_id,
        visibility=visibility,
        source=source or _source.get(),
        traceparent=traceparent,
        **extra,
    )
    return CanonicalActivity(doc, at)
