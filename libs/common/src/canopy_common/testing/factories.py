"""Factories for canonical (strict-profile) activities, one tenant per factory.

Every call mints fresh ids, so tests never collide. People, groups and posts are built as the
``Create`` activity ingestion would publish; pass that activity (or the created object, or an
IRI) wherever another factory needs "who" or "what"::

    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group("Platform", visibility=Visibility.GROUP)
    post = f.post(ada, "Shipped! #release @bob", group=team, mentions=[bob], hashtags=["release"])
    f.like(bob, post)
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from canopy_common.events import (
    AS2Object,
    Ref,
    StrictActivity,
    Visibility,
    new_activity_id,
    new_uuid7,
    ref_id,
)

Subject = str | AS2Object  # an IRI, an object, or the activity that created the object

TEST_BASE_URL = "https://canopy.test"


def new_tenant_id() -> str:
    """A fresh tenant id (a UUID string, so it fits text and uuid columns alike)."""
    return str(uuid.uuid4())


def subject_object(subject: Subject) -> AS2Object | None:
    """The object a subject stands for: a ``Create``'s object, an object itself, or ``None``
    for a bare IRI."""
    if isinstance(subject, str):
        return None
    if isinstance(subject.object, AS2Object):
        return subject.object
    return subject


def subject_id(subject: Subject) -> str:
    """The IRI of the person, group or post a subject stands for."""
    found = subject if isinstance(subject, str) else ref_id(subject_object(subject))
    if not found:
        raise ValueError(f"{subject!r} names no id")
    return found


class ActivityFactory:
    """Builds strict activities for one tenant (a fresh one unless ``tenant_id`` is given)."""

    def __init__(
        self, tenant_id: str | None = None, *, base_url: str = TEST_BASE_URL, source: str = "http"
    ) -> None:
        self.tenant_id = tenant_id or new_tenant_id()
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.service = self.iri("services", "provisioning")  # actor of provisioning activities

    def iri(self, kind: str, key: str | None = None) -> str:
        """An IRI in this tenant, e.g. ``https://canopy.test/t/<tenant>/users/<uuid>``."""
        return f"{self.base_url}/t/{self.tenant_id}/{kind}/{key or new_uuid7().hex}"

    def activity(
        self,
        type: str,
        actor: Subject,
        obj: Ref,
        *,
        published: datetime | None = None,
        visibility: Visibility | None = None,
        **members: object,
    ) -> StrictActivity:
        """Any strict activity of this tenant; ``members`` are further AS2 members by alias."""
        return StrictActivity.model_validate(
            {
                "id": new_activity_id(),
                "type": type,
                "actor": subject_id(actor),
                "object": obj,
                "published": published or datetime.now(UTC),
                "tenant": self.tenant_id,
                "visibility": visibility,
                "source": self.source,
                **members,
            }
        )

    def tenant(self, name: str = "Example Corp") -> StrictActivity:
        """The tenant's provisioning: a ``Create`` of its ``Organization``."""
        org = AS2Object(id=self.iri("org", "self"), type="Organization", name=name)
        return self.activity("Create", self.service, org)

    def user(self, handle: str | None = None, *, display_name: str | None = None) -> StrictActivity:
        """A ``Create`` of a ``Person`` with a handle (``preferredUsername``) and display name."""
        handle = handle or f"user-{new_uuid7().hex[-8:]}"
        person = AS2Object(
            id=self.iri("users"),
            type="Person",
            preferred_username=handle,
            name=display_name or handle.title(),
        )
        return self.activity("Create", self.service, person)

    def group(
        self,
        name: str = "A group",
        *,
        owner: Subject | None = None,
        visibility: Visibility = Visibility.INTERNAL,
    ) -> StrictActivity:
        """A ``Create`` of a ``Group``; ``visibility`` is the group's own (``group`` = private)."""
        group = AS2Object(id=self.iri("groups"), type="Group", name=name, visibility=visibility)
        return self.activity("Create", owner or self.service, group, visibility=visibility)

    def post(
        self,
        author: Subject,
        content: str = "Hello, team!",
        *,
        group: Subject | None = None,
        visibility: Visibility | None = None,
        mentions: Sequence[Subject] = (),
        hashtags: Sequence[str] = (),
        in_reply_to: Subject | None = None,
        object_type: str = "Note",
        published: datetime | None = None,
    ) -> StrictActivity:
        """A ``Create`` of a ``Note`` (or ``object_type``), optionally into ``group`` (the
        ``target``) and in reply to another post; mentions and hashtags go in ``tag``."""
        if visibility is None:
            visibility = Visibility.GROUP if group is not None else Visibility.INTERNAL
        note_id = self.iri("posts")
        addressees: list[Ref] = [subject_id(group)] if group is not None else []
        if visibility == Visibility.DIRECT:
            addressees += [subject_id(person) for person in mentions]
        tags: list[Ref] = [self._mention(person) for person in mentions]
        tags += [self._hashtag(name) for name in hashtags]
        note = AS2Object(
            id=note_id,
            type=object_type,
            content=content,
            attributed_to=subject_id(author),
            published=published or datetime.now(UTC),
            to=addressees or None,
            tag=tags or None,
            context=_thread_of(in_reply_to) if in_reply_to is not None else note_id,
            in_reply_to=self._reply_target(in_reply_to),
            visibility=visibility,
        )
        return self.activity(
            "Create",
            author,
            note,
            published=note.published,
            visibility=visibility,
            target=subject_id(group) if group is not None else None,
            to=note.to,
        )

    def follow(self, follower: Subject, followee: Subject) -> StrictActivity:
        """``follower`` follows a person (or anything followable)."""
        return self.activity("Follow", follower, subject_id(followee))

    def join(self, member: Subject, group: Subject) -> StrictActivity:
        """``member`` joins ``group``."""
        return self.activity("Join", member, subject_id(group))

    def like(self, actor: Subject, liked: Subject) -> StrictActivity:
        """``actor`` likes a post (or any object)."""
        return self.activity("Like", actor, subject_id(liked))

    def _mention(self, person: Subject) -> AS2Object:
        known = subject_object(person)
        handle = known.preferred_username if known is not None else None
        return AS2Object(
            type="Mention", href=subject_id(person), name=f"@{handle}" if handle else None
        )

    def _hashtag(self, name: str) -> AS2Object:
        name = name.removeprefix("#")
        return AS2Object(type="Hashtag", href=self.iri("tags", name.lower()), name=f"#{name}")

    def _reply_target(self, parent: Subject | None) -> Ref | None:
        """The post replied to, with its author when known (consumers never call back)."""
        if parent is None:
            return None
        known = subject_object(parent)
        if known is None or known.attributed_to is None:
            return subject_id(parent)
        return AS2Object(id=known.id, type=known.type, attributed_to=known.attributed_to)


def _thread_of(parent: Subject) -> str:
    """A reply joins its parent's thread (``context``); a post without one starts its own."""
    known = subject_object(parent)
    return (ref_id(known.context) if known is not None else None) or subject_id(parent)
