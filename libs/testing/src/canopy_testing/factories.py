"""Factories for canonical activities: exactly what ingestion publishes on
``canopy.activities.v1`` (docs/architecture.md §3), one tenant per factory.

Every call mints fresh ids, so tests never collide. People, groups and posts are built as the
``Create`` activity ingestion would publish; pass that activity (or the created object)
wherever another factory needs "who" or "what". The activities are enriched as ingestion
enriches them, so consumers under test never need to call back: the actor is the embedded
``Person``, a post's object carries its author, thread, tags, group and addressees, a group
activity carries the whole group as its ``target``, an ``Undo`` embeds what it undoes::

    f = ActivityFactory()
    ada, bob = f.user("ada"), f.user("bob")
    team = f.group("Platform", owner=ada, visibility="private")
    post = f.post(ada, "Shipped! #release @bob", group=team, mentions=[bob], hashtags=["release"])
    like = f.like(bob, post)
    f.undo(like)
    f.invite(ada, team, bob)
    ask = f.join_request(bob, f.group("Guild", owner=ada))  # a request: bob is no member yet
    review = f.task(f.user(kind="bot"), "Review", due=tomorrow, assignees=[bob])
    f.update_task(review, status="completed")

The Person, Group, tag and activity shapes come from the builders ingestion publishes with
(:mod:`canopy_common.vocabulary.builders`); what ingestion's handlers add around them (which
activity, which members) is mirrored here, as this module may not import them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from canopy_common.activities import JOIN_PENDING, is_join_request
from canopy_common.events import (
    Activity,
    AS2Object,
    StrictActivity,
    Visibility,
    new_activity_id,
    ref_id,
    ref_ids,
    validate_activity,
)
from canopy_common.iris import new_object_id, parse_name, tag_iri, user_iri
from canopy_common.visibility import GroupVisibility as GroupSeen
from canopy_common.vocabulary import builders
from canopy_common.vocabulary.builders import hashtag_tag, mention_tag, person_doc
from canopy_common.vocabulary.builders import place as place  # public here too

Subject: TypeAlias = str | AS2Object  # an IRI, an object, or the activity that created it
Doc: TypeAlias = dict[str, Any]
PersonKind: TypeAlias = Literal["employee", "guest", "bot"]
GroupVisibility: TypeAlias = Literal["public", "internal", "private"]
MemberRole: TypeAlias = Literal["owner", "admin", "member"]
Reaction: TypeAlias = Literal["like", "celebrate", "insightful", "support"]
# A person's tenant roles (canopy_common.auth.Role but those a token's kind or platform gives).
TenantRole: TypeAlias = Literal["moderator", "tenant_admin", "analyst", "group_admin"]
TaskStatus: TypeAlias = Literal["open", "completed", "cancelled"]
ScheduledType: TypeAlias = Literal["Task", "Event"]

# What ingestion accepts as a tenant id (``PUT /v1/tenants/{id}``, tokens); no ':' either,
# so it fits in ``urn:canopy:<tenant>:...``.
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ERASED_DISPLAY_NAME = "Deleted user"  # what erasure leaves of a person's name
UPSTREAM_SOURCE = "upstream"  # the `source` of an upstream record that names none
SCHEDULED_TYPES = frozenset({"Task", "Event"})  # what upstream systems schedule

# The post kinds and the AS2 type each is published as.
AS2_TYPE: Mapping[str, str] = {
    "note": "Note",
    "question": "Question",
    "answer": "Note",  # an answer is a reply Note to a Question
    "announcement": "Note",
    "article": "Article",
    "task": "Task",
    "event": "Event",
    "document": "Document",
    "link": "Link",
}
_KIND_OF_TYPE = {
    "Note": "note",
    "Question": "question",
    "Article": "article",
    "Task": "task",
    "Event": "event",
    "Document": "document",
    "Link": "link",
}
# Who sees a group's items, as the `visibility` term says it (it knows no `private`); a test
# may also name a group's visibility as its items' (`group`).
GROUP_ITEMS_VISIBILITY: Mapping[str, Visibility] = {
    **{group.value: group.as2 for group in GroupSeen},
    "group": Visibility.GROUP,
}
# Which post visibilities a group of each (items) visibility allows.
_ALLOWED_IN_GROUP: Mapping[Visibility, frozenset[Visibility]] = {
    Visibility.GROUP: frozenset({Visibility.GROUP}),
    Visibility.INTERNAL: frozenset({Visibility.GROUP, Visibility.INTERNAL}),
    Visibility.PUBLIC: frozenset({Visibility.GROUP, Visibility.INTERNAL, Visibility.PUBLIC}),
}
_NOT_SHAREABLE = frozenset({Visibility.FOLLOWERS, Visibility.DIRECT})
_RELATION_TYPES = frozenset({"Follow", "Block", "Ignore"})  # undone as graph.py does
_REACTION_TYPES = frozenset({"Like", "Announce"})  # undone as reactions.py does
# profile_update() keywords and the Person members they set.
_PROFILE_MEMBERS = {
    "handle": "preferredUsername",
    "display_name": "name",
    "kind": "kind",
    "title": "title",
    "department": "department",
    "location": "location",
    "skills": "skills",
    "interests": "interests",
    "manager": "manager",
    "email": "email",
    "roles": "roles",
}


def new_tenant_id() -> str:
    """A fresh tenant id, as the test plugin's ``tenant_id`` fixture makes them
    (``t_<12 hex>``: a valid ingestion tenant id)."""
    return f"t_{uuid.uuid4().hex[:12]}"


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


def user_id_of_subject(subject: Subject) -> str:
    """The user id of the person a subject stands for (the key of ``urn:canopy:…:user:<id>``)."""
    name = parse_name(subject_id(subject))
    if name is None or name.kind != "user":
        raise ValueError(f"{subject_id(subject)!r} is not a person's IRI")
    return name.key


class ActivityFactory:
    """Builds canonical strict activities for one tenant (a fresh one unless ``tenant_id``).

    ``admin`` is the tenant admin who provisions people (the ``attributedTo`` of profile
    activities) and the default owner of groups.
    """

    def __init__(self, tenant_id: str | None = None, *, source: str = "http") -> None:
        self.tenant_id = tenant_id or new_tenant_id()
        if not TENANT_ID.match(self.tenant_id):
            raise ValueError(f"{self.tenant_id!r} is not a tenant id ({TENANT_ID.pattern})")
        self.source = source
        admin_id = f"admin-{uuid.uuid4().hex[:8]}"
        self.admin = self.user(
            "tenant-admin",
            user_id=admin_id,
            display_name="Tenant Admin",
            by=user_iri(self.tenant_id, admin_id),
        )

    # --- building blocks ----------------------------------------------------------------------

    def activity(
        self,
        type: str,
        actor: Subject | Doc,
        obj: Doc | str | AS2Object,
        *,
        target: Doc | None = None,
        visibility: Visibility | str | None = None,
        to: Sequence[str] | None = None,
        published: datetime | None = None,
        activity_id: str | None = None,
        **members: Any,
    ) -> StrictActivity:
        """Any canonical activity of this tenant by ``actor`` (embedded as its Person, or
        given as a Person document); ``members`` are further members by their wire names
        (``context``, ``role``, …). Validated as ingestion validates before publishing."""
        doc = builders.activity_doc(
            type,
            activity_id=activity_id or new_activity_id(),
            actor=actor if isinstance(actor, dict) else self.person(actor),
            obj=_doc(obj) if isinstance(obj, AS2Object) else obj,
            tenant=self.tenant_id,
            published=published or datetime.now(UTC),
            source=members.pop("source", self.source),  # an upstream record names its own
            target=target,
            to=list(to) if to else None,
            visibility=Visibility(visibility).value if visibility is not None else None,
            **members,
        )
        return validate_activity(doc)

    def person(self, subject: Subject) -> Doc:
        """The embedded Person a subject stands for. A bare person IRI of this tenant makes a
        minimal employee whose handle and name are the user id."""
        if isinstance(subject, str):
            name = parse_name(subject)
            if name is None or name.kind != "user" or name.tenant != self.tenant_id:
                raise ValueError(f"{subject!r} is no person IRI of tenant {self.tenant_id!r}")
            return person_doc(subject, handle=name.key, display_name=name.key, kind="employee")
        found = _object_doc(subject)
        if found.get("type") != "Person":
            raise ValueError(f"{subject_id(subject)!r} is not a Person")
        return found

    def group_object(self, subject: Subject) -> Doc:
        """The Group a subject stands for (pass the group's ``Create`` or object)."""
        found = _object_doc(subject)
        if found.get("type") != "Group":
            raise ValueError(f"{subject_id(subject)!r} is not a Group: pass the group's Create")
        return found

    def post_object(self, subject: Subject) -> Doc:
        """The post a subject stands for (its ``Create``, ``Update`` or object)."""
        found = _object_doc(subject)
        if "kind" not in found or "context" not in found or "attributedTo" not in found:
            raise ValueError(f"{subject_id(subject)!r} is not a post: pass the post's Create")
        return found

    # --- tenants and people -------------------------------------------------------------------

    def tenant(self, name: str = "Example Corp") -> StrictActivity:
        """A ``Create`` of the tenant's ``Organization`` by its admin. Ingestion publishes no
        such activity; it is here for consumers that want one."""
        org = {"type": "Organization", "id": f"urn:canopy:{self.tenant_id}:org", "name": name}
        return self.activity("Create", self.admin, org, visibility=Visibility.PUBLIC)

    def user(
        self,
        handle: str | None = None,
        *,
        user_id: str | None = None,
        display_name: str | None = None,
        kind: PersonKind = "employee",
        title: str | None = None,
        department: str | None = None,
        location: str | None = None,
        skills: Sequence[str] = (),
        interests: Sequence[str] = (),
        manager: Subject | None = None,
        email: str | None = None,
        roles: Sequence[TenantRole] = (),
        by: Subject | None = None,
        published: datetime | None = None,
    ) -> StrictActivity:
        """The ``Create`` of a provisioned person: actor and object are the Person,
        ``visibility: public``, ``attributedTo`` who provisioned them (``by``, the admin).
        ``email`` is published as given (ingestion lower-cases its domain); ``roles``
        distinct and sorted, as ingestion stores them."""
        handle = handle or f"user-{uuid.uuid4().hex[:8]}"
        user_id = user_id or f"{handle}-{uuid.uuid4().hex[:8]}"
        person = person_doc(
            user_iri(self.tenant_id, user_id),
            handle=handle,
            display_name=display_name or handle.title(),
            kind=kind,
            title=title,
            department=department,
            location=location,
            skills=list(skills) or None,
            interests=list(interests) or None,
            manager=subject_id(manager) if manager is not None else None,
            email=email,
            roles=_roles(roles),
        )
        return self._profile_activity("Create", person, by=by, published=published)

    def profile_update(
        self, user: Subject, *, by: Subject | None = None, **changes: Any
    ) -> StrictActivity:
        """The ``Update`` of a changed profile. ``changes``: handle, display_name, kind,
        title, department, location, skills, interests, manager (a person), email, roles;
        ``None`` clears."""
        unknown = sorted(set(changes) - set(_PROFILE_MEMBERS))
        if unknown:
            raise TypeError(f"not profile fields: {', '.join(unknown)}")
        person = self.person(user)
        for key, value in changes.items():
            member = _PROFILE_MEMBERS[key]
            if key == "manager" and value is not None:
                value = subject_id(value)
            elif key == "location" and value is not None:
                value = place(value)
            elif key in ("skills", "interests"):
                value = list(value or ()) or None
            elif key == "roles":
                value = _roles(value or ())
            if value is None:
                person.pop(member, None)
            else:
                person[member] = value
        return self._profile_activity("Update", person, by=by)

    def erase(self, user: Subject, *, by: Subject | None = None) -> StrictActivity:
        """The ``Delete`` of an erased person (GDPR): the actor is what is left of them
        (anonymised), the object a ``Tombstone`` with ``formerType: Person``."""
        person = self.person(user)
        erased = person_doc(
            person["id"],
            handle=user_id_of_subject(person["id"]),  # erasure sets the handle to the id
            display_name=ERASED_DISPLAY_NAME,
            kind=person["kind"],
        )
        tombstone = {
            "type": "Tombstone",
            "id": person["id"],
            "formerType": "Person",
            "deleted": datetime.now(UTC),
        }
        return self.activity(
            "Delete",
            erased,
            tombstone,
            visibility=Visibility.PUBLIC,
            attributedTo=subject_id(by or self.admin),
        )

    # --- groups -------------------------------------------------------------------------------

    def group(
        self,
        name: str = "A group",
        *,
        owner: Subject | None = None,
        visibility: GroupVisibility | Visibility = "internal",
        description: str | None = None,
    ) -> StrictActivity:
        """The ``Create`` of a group by its owner (the tenant admin unless ``owner``).

        ``visibility`` is the group's own (``private``, or ``Visibility.GROUP``, reaches its
        members only); the group object says it as items are seen: ``private`` -> ``group``.
        Ingestion follows the Create with the owner's ``Join`` (``role: owner``): make it
        with ``join(owner, group, role="owner")`` when the test needs the membership.
        """
        items = GROUP_ITEMS_VISIBILITY.get(str(visibility))
        if items is None:
            raise ValueError(f"a group is public, internal or private, not {visibility!r}")
        owner = owner or self.admin
        group = builders.group_doc(
            new_object_id(),
            name=name,
            summary=description,
            visibility=GroupSeen.PRIVATE if items is Visibility.GROUP else GroupSeen(items),
            owner_iri=self.person(owner)["id"],
        )
        return self._group_activity("Create", group, owner, group)

    def join(
        self, member: Subject, group: Subject, *, role: MemberRole = "member"
    ) -> StrictActivity:
        """``member`` joins ``group`` by themselves (``role: owner`` after a Create)."""
        found = self.group_object(group)
        return self._group_activity("Join", found, member, found, role=role)

    def add(
        self, admin: Subject, group: Subject, member: Subject, *, role: MemberRole = "member"
    ) -> StrictActivity:
        """An admin adds ``member`` to ``group``: object the Person, ``to`` them."""
        person = self.person(member)
        found = self.group_object(group)
        return self._group_activity("Add", found, admin, person, to=[person["id"]], role=role)

    def change_role(
        self, admin: Subject, group: Subject, member: Subject, role: MemberRole
    ) -> StrictActivity:
        """An admin changes ``member``'s role: an ``Update`` of a ``Relationship``."""
        person = self.person(member)
        found = self.group_object(group)
        relationship = {
            "type": "Relationship",
            "subject": person,
            "object": found["id"],
            "role": role,
        }
        return self._group_activity(
            "Update", found, admin, relationship, to=[person["id"]], role=role
        )

    def leave(self, member: Subject, group: Subject) -> StrictActivity:
        """``member`` leaves ``group``."""
        found = self.group_object(group)
        return self._group_activity("Leave", found, member, found)

    def remove(self, admin: Subject, group: Subject, member: Subject) -> StrictActivity:
        """An admin removes ``member`` from ``group``: object the Person, ``to`` them."""
        person = self.person(member)
        found = self.group_object(group)
        return self._group_activity("Remove", found, admin, person, to=[person["id"]])

    def join_request(self, member: Subject, group: Subject) -> StrictActivity:
        """``member`` asks to join a public or internal group whose ``join_policy`` is
        ``request``: a ``Join`` as :meth:`join` makes (``role: member``) with ``status:
        pending``. Nobody is a member until an admin's :meth:`add`, which consumes it;
        :meth:`reject_join` declines it, :meth:`undo` withdraws it."""
        found = self.group_object(group)
        if found["visibility"] == Visibility.GROUP.value:
            raise ValueError("a private group takes no join requests: invite or add people")
        return self._group_activity(
            "Join", found, member, found, role="member", status=JOIN_PENDING
        )

    def reject_join(
        self, admin: Subject, group: Subject, request: StrictActivity
    ) -> StrictActivity:
        """An admin or owner declines a :meth:`join_request`: a ``Reject`` whose object is the
        pending Join's id, ``to`` the requester, the group as ``target``."""
        if not is_join_request(request):
            raise ValueError(f"{request.id!r} is not a pending Join: make it with join_request()")
        found = self.group_object(group)
        requester = ref_ids(request.actor)
        return self._group_activity("Reject", found, admin, request.id, to=requester)

    def invite(self, inviter: Subject, group: Subject, invitee: Subject) -> StrictActivity:
        """A member invites ``invitee`` into ``group``: object the invitee's Person, ``to``
        them, the group as ``target``. (Their later ``join`` consumes the invite.)"""
        person = self.person(invitee)
        found = self.group_object(group)
        return self._group_activity("Invite", found, inviter, person, to=[person["id"]])

    # --- the social graph ---------------------------------------------------------------------

    def follow(self, follower: Subject, followee: Subject) -> StrictActivity:
        """``follower`` follows a person: ``direct`` to the followee."""
        person = self.person(followee)
        return self.activity(
            "Follow", follower, person, visibility=Visibility.DIRECT, to=[person["id"]]
        )

    def follow_tag(self, user: Subject, tag: str) -> StrictActivity:
        """``user`` follows a hashtag (``release`` or ``#Release``): ``direct``, nobody told."""
        return self.activity("Follow", user, self._hashtag(tag), visibility=Visibility.DIRECT)

    def block(self, blocker: Subject, blocked: Subject) -> StrictActivity:
        """A ``Block``: ``direct`` with no addressee. (Ingestion also ends the follows between
        the two, each with the ``undo`` of its Follow.)"""
        return self.activity("Block", blocker, self.person(blocked), visibility=Visibility.DIRECT)

    def mute(self, user: Subject, muted: Subject) -> StrictActivity:
        """A mute, AS2's ``Ignore``: ``direct`` with no addressee."""
        return self.activity("Ignore", user, self.person(muted), visibility=Visibility.DIRECT)

    def undo(self, activity: StrictActivity) -> StrictActivity:
        """The ``Undo`` of a Follow (of a person or hashtag), Block, Ignore, Like, Announce or
        pending Join (a withdrawn :meth:`join_request`), by the same actor, embedding what it
        undoes (type, id, actor, object) and addressed like it."""
        kind = activity.type
        if not isinstance(activity.actor, AS2Object) or not isinstance(activity.object, AS2Object):
            raise ValueError(f"{activity.id!r} is not a canonical activity")
        actor = _doc(activity.actor)
        undone_object = _doc(activity.object)
        if is_join_request(activity):
            found = self.group_object(activity.object)
            request: Doc = {
                "type": kind,
                "id": activity.id,
                "actor": actor["id"],
                "object": undone_object,
                "published": activity.published,
                "status": JOIN_PENDING,
            }
            return self._group_activity("Undo", found, actor, builders.json_ready(request))
        if kind in _RELATION_TYPES:
            undone: Doc = {
                "type": kind,
                "id": activity.id,
                "actor": actor["id"],
                "object": undone_object,
                "published": activity.published,
            }
            return self.activity(
                "Undo",
                actor,
                undone,
                visibility=Visibility.DIRECT,
                to=ref_ids(activity.to) or None,
            )
        if kind in _REACTION_TYPES:
            post = self.post_object(activity.object)
            undone = {
                "type": kind,
                "id": activity.id,
                "actor": actor["id"],
                "object": {
                    "type": post["type"],
                    "id": post["id"],
                    "attributedTo": post["attributedTo"]["id"],
                },
                "reaction": activity.reaction,
            }
            return self._about_post("Undo", actor, post, undone)
        raise ValueError(f"ingestion publishes no Undo of a {kind!r} (but of a pending Join)")

    # --- posts --------------------------------------------------------------------------------

    def post(
        self,
        author: Subject,
        content: str = "Hello, team!",
        *,
        group: Subject | None = None,
        visibility: Visibility | str | None = None,
        to: Sequence[Subject] = (),
        mentions: Sequence[Subject] = (),
        hashtags: Sequence[str] = (),
        in_reply_to: Subject | None = None,
        object_type: str | None = None,
        kind: str | None = None,
        name: str | None = None,
        published: datetime | None = None,
        **members: Any,
    ) -> StrictActivity:
        """The ``Create`` of a post by ``author``.

        Audience as ingestion decides it: in ``group`` (its ``target``) the default visibility
        is ``group``; addressed ``to`` people it is ``direct``; otherwise ``internal``. A
        reply (``in_reply_to``, or :meth:`reply`) takes its thread's visibility, group and
        ``context``; a direct reply goes to everyone in the conversation plus ``to``.
        ``mentions`` (people) and ``hashtags`` go in ``tag``; ingestion reads them from the
        content, so write them there too when it matters. ``object_type`` (Note, Question,
        Article, Task, Event, Document) and ``kind`` (note, question, answer, …) follow from
        each other. ``members`` are further object members by wire name (``startTime``, …).
        """
        kind, object_type = _kind_and_type(kind, object_type)
        person = self.person(author)
        post_id = new_object_id()
        addressees = _distinct(subject_id(p) for p in to)
        inherited: list[str] = []
        reply_to: Doc | None = None
        if in_reply_to is not None:
            parent = self.post_object(in_reply_to)
            parent_group = parent.get("target")
            if group is not None and (
                parent_group is None or subject_id(group) != parent_group["id"]
            ):
                raise ValueError("a reply is posted where its thread is; leave group out")
            wanted = Visibility(parent["visibility"])
            if visibility is not None and Visibility(visibility) is not wanted:
                raise ValueError(f"a reply has the visibility of its thread ({wanted})")
            visibility, group_doc, thread = wanted, parent_group, parent["context"]
            if wanted is Visibility.DIRECT:
                inherited = [*parent.get("to", ()), parent["attributedTo"]["id"]]
            reply_to = {"id": parent["id"], "attributedTo": parent["attributedTo"]["id"]}
        else:
            group_doc = self.group_object(group) if group is not None else None
            thread = post_id
            if visibility is None:
                visibility = (
                    Visibility.GROUP
                    if group_doc is not None
                    else Visibility.DIRECT
                    if addressees
                    else Visibility.INTERNAL
                )
        seen = Visibility(visibility)
        to_iris = [iri for iri in _distinct([*inherited, *addressees]) if iri != person["id"]]
        _check_audience(seen, group_doc, to_iris)
        now = published or datetime.now(UTC)
        obj: Doc = {
            "type": object_type,
            "id": post_id,
            "kind": kind,
            "attributedTo": person,
            "content": content,
            "mediaType": "text/markdown",
            "name": name,
            "visibility": seen.value,
            "context": thread,
            "published": now,
            "tag": self._tags(mentions, hashtags) or None,
            "to": to_iris or None,
            **members,
        }
        if group_doc is not None:
            obj["target"] = group_doc
        if reply_to is not None:
            obj["inReplyTo"] = reply_to
        return self._about_post("Create", author, builders.json_ready(obj), obj, published=now)

    def reply(
        self,
        author: Subject,
        parent: Subject,
        content: str = "Nice one!",
        **options: Any,
    ) -> StrictActivity:
        """The ``Create`` of a reply to ``parent`` (options as :meth:`post`)."""
        return self.post(author, content, in_reply_to=parent, **options)

    def answer(
        self, author: Subject, question: Subject, content: str = "Here is how.", **options: Any
    ) -> StrictActivity:
        """The ``Create`` of an answer (a reply ``Note`` of kind ``answer``) to a question."""
        if self.post_object(question)["kind"] != "question":
            raise ValueError("an answer replies to a question")
        return self.post(author, content, in_reply_to=question, kind="answer", **options)

    def edit(
        self,
        post: Subject,
        content: str | None = None,
        *,
        name: str | None = None,
        mentions: Sequence[Subject] | None = None,
        hashtags: Sequence[str] | None = None,
        visibility: Visibility | str | None = None,
        to: Sequence[Subject] | None = None,
        updated: datetime | None = None,
    ) -> StrictActivity:
        """The author's ``Update`` of a post: the whole edited object, same id, ``updated``
        set. ``None`` keeps a field; a reply keeps its thread's audience. (An upstream task
        or event changes with :meth:`update_task`.)"""
        obj = self._authored_post(post, instead="update_task")
        if content is not None:
            obj["content"] = content
        if name is not None:
            obj["name"] = name
        if mentions is not None or hashtags is not None:
            old = obj.get("tag", [])
            kept_mentions = [t for t in old if t.get("type") == "Mention"]
            kept_hashtags = [t for t in old if t.get("type") == "Hashtag"]
            tags = [
                *(self._tags(mentions, ()) if mentions is not None else kept_mentions),
                *(self._tags((), hashtags) if hashtags is not None else kept_hashtags),
            ]
            obj["tag"] = tags or None
        if visibility is not None or to is not None:
            if "inReplyTo" in obj:
                raise ValueError("a reply keeps its thread's audience")
            seen = Visibility(visibility or obj["visibility"])
            if to is not None:
                to_iris = _distinct(subject_id(p) for p in to)
            else:
                to_iris = obj.get("to", []) if seen is Visibility.DIRECT else []
            _check_audience(seen, obj.get("target"), to_iris)
            obj["visibility"], obj["to"] = seen.value, to_iris or None
        obj["updated"] = updated or datetime.now(UTC)
        obj = builders.json_ready(obj)
        return self._about_post("Update", obj["attributedTo"], obj, obj)

    def delete(self, actor: Subject, post: Subject) -> StrictActivity:
        """The ``Delete`` of a post (by its author, a group admin or a moderator): its
        ``Tombstone`` with the former type, kind, author, thread and parent. (An upstream
        task or event goes with :meth:`delete_task`.)"""
        obj = self._authored_post(post, instead="delete_task")
        reply_to = obj.get("inReplyTo")
        tombstone: Doc = {
            "type": "Tombstone",
            "id": obj["id"],
            "formerType": obj["type"],
            "kind": obj["kind"],
            "deleted": datetime.now(UTC),
            "attributedTo": obj["attributedTo"]["id"],
            "context": obj["context"],
            "inReplyTo": reply_to["id"] if reply_to else None,
        }
        return self._about_post("Delete", actor, obj, tombstone)

    def accept(
        self, question_author: Subject, question: Subject, answer: Subject
    ) -> StrictActivity:
        """The question's author accepts an answer: object the answer, target the question
        (with ``acceptedAnswer`` and ``updated``), addressed like the question."""
        asked = self.post_object(question)
        answered = self.post_object(answer)
        if answered.get("inReplyTo", {}).get("id") != asked["id"]:
            raise ValueError(f"{answered['id']!r} does not answer {asked['id']!r}")
        now = datetime.now(UTC)
        asked = builders.json_ready({**asked, "acceptedAnswer": answered["id"], "updated": now})
        return self._about_post("Accept", question_author, asked, answered, target=asked)

    # --- upstream tasks and events ------------------------------------------------------------

    def task(
        self,
        author: Subject,
        name: str,
        *,
        due: datetime,
        assignees: Sequence[Subject] = (),
        status: TaskStatus = "open",
        group: Subject | None = None,
        object_type: ScheduledType = "Task",
        start: datetime | None = None,
        content: str = "",
        task_id: str | None = None,
        source: str | None = None,
        published: datetime | None = None,
    ) -> StrictActivity:
        """The ``Create`` of a task (or ``object_type="Event"``) an upstream system sent,
        as ingestion publishes it: the object keeps the upstream id (``task_id``, else a
        made-up tracker URL) and carries ``endTime`` (``due``), ``startTime``, ``status``
        and the assignees in ``to``; in ``group`` it is seen by the group's members
        (``visibility: group``, the group in the object's ``target``), else ``direct`` to
        the assignees. The activity, addressed like the object, has neither ``target`` nor
        ``context``; ``source`` names the upstream system (default: the factory's, or
        ``upstream`` when that is ``http``, through which no task is ever created)."""
        if object_type not in SCHEDULED_TYPES:
            raise ValueError(f"upstream systems schedule a Task or an Event, not {object_type!r}")
        object_id = task_id or f"https://tracker.example/{self.tenant_id}/{uuid.uuid4().hex[:12]}"
        group_doc = self.group_object(group) if group is not None else None
        now = published or datetime.now(UTC)
        obj: Doc = {
            "type": object_type,
            "id": object_id,
            "kind": _KIND_OF_TYPE[object_type],
            "attributedTo": self.person(author),
            "content": content,
            "mediaType": "text/markdown",
            "name": name,
            "visibility": (Visibility.GROUP if group_doc else Visibility.DIRECT).value,
            "context": object_id,
            "published": now,
            "startTime": start,
            "endTime": due,
            "to": _distinct(self.person(a)["id"] for a in assignees) or None,
            "status": status,
            "target": group_doc,
        }
        if source is None:
            source = UPSTREAM_SOURCE if self.source == "http" else self.source
        return self._scheduled_activity("Create", builders.json_ready(obj), source, published=now)

    def update_task(
        self,
        task: Subject,
        *,
        due: datetime | None = None,
        status: TaskStatus | None = None,
        assignees: Sequence[Subject] | None = None,
        name: str | None = None,
        by: Subject | None = None,
        updated: datetime | None = None,
    ) -> StrictActivity:
        """The ``Update`` an upstream change of a task or event becomes: the whole object,
        same id and ``published``, ``updated`` set, by ``by`` (the author unless given, who
        then is its ``attributedTo``). ``None`` keeps a field: ingestion keeps the status
        of an upstream Update that does not say it."""
        obj = self._scheduled_object(task)
        if due is not None:
            obj["endTime"] = due
        if status is not None:
            obj["status"] = status
        if assignees is not None:
            obj["to"] = _distinct(self.person(a)["id"] for a in assignees) or None
        if name is not None:
            obj["name"] = name
        if by is not None:
            obj["attributedTo"] = self.person(by)
        obj["updated"] = updated or datetime.now(UTC)
        return self._scheduled_activity("Update", builders.json_ready(obj), _source_of(task))

    def delete_task(self, task: Subject, *, by: Subject | None = None) -> StrictActivity:
        """The ``Delete`` of an upstream task or event: a bare ``Tombstone`` (id and former
        type), addressed as the task was, by ``by`` (the author unless given)."""
        obj = self._scheduled_object(task)
        tombstone = {"type": "Tombstone", "id": obj["id"], "formerType": obj["type"]}
        actor = self.person(by) if by is not None else obj["attributedTo"]
        return self.activity(
            "Delete",
            actor,
            tombstone,
            visibility=obj["visibility"],
            to=obj.get("to"),
            source=_source_of(task),
        )

    # --- reactions ----------------------------------------------------------------------------

    def like(self, actor: Subject, post: Subject, reaction: Reaction = "like") -> StrictActivity:
        """A reaction: a ``Like`` of the whole post object, with its ``reaction`` term."""
        obj = self.post_object(post)
        return self._about_post("Like", actor, obj, obj, reaction=reaction)

    def share(self, actor: Subject, post: Subject) -> StrictActivity:
        """An ``Announce`` of a post to its own audience (direct and followers-only posts
        cannot be shared)."""
        obj = self.post_object(post)
        if Visibility(obj["visibility"]) in _NOT_SHAREABLE:
            raise ValueError(f"a {obj['visibility']} post cannot be shared")
        return self._about_post("Announce", actor, obj, obj)

    def flag(self, actor: Subject, post: Subject, reason: str = "Spam") -> StrictActivity:
        """A report to the tenant's moderators: ``direct`` with no addressee."""
        obj = self.post_object(post)
        return self._about_post(
            "Flag", actor, obj, obj, visibility=Visibility.DIRECT, to=None, content=reason
        )

    # --- shared -------------------------------------------------------------------------------

    def _profile_activity(
        self,
        type_: str,
        person: Doc,
        *,
        by: Subject | None,
        published: datetime | None = None,
    ) -> StrictActivity:
        return self.activity(
            type_,
            person,
            person,
            visibility=Visibility.PUBLIC,
            published=published,
            attributedTo=subject_id(by if by is not None else self.admin),
        )

    def _group_activity(
        self,
        type_: str,
        group: Doc,
        actor: Subject | Doc,
        obj: Doc | str,
        *,
        to: list[str] | None = None,
        role: str | None = None,
        status: str | None = None,
    ) -> StrictActivity:
        """Every group activity carries the whole group as ``target`` and its visibility."""
        return self.activity(
            type_,
            actor,
            obj,
            target=group,
            visibility=group["visibility"],
            to=to,
            role=role,
            status=status,
        )

    def _about_post(
        self, type_: str, actor: Subject | Doc, post: Doc, obj: Doc, **members: Any
    ) -> StrictActivity:
        """An activity on ``post`` addressed like it: its visibility and addressees, its group
        as ``target``, its thread as ``context`` (``members`` may override or add)."""
        members.setdefault("visibility", post["visibility"])
        members.setdefault("to", post.get("to"))
        members.setdefault("target", post.get("target"))
        return self.activity(type_, actor, obj, context=post["context"], **members)

    def _authored_post(self, post: Subject, *, instead: str) -> Doc:
        """A post people write (not an upstream task or event, which change otherwise)."""
        obj = self.post_object(post)
        if obj["type"] in SCHEDULED_TYPES and obj.get("status") is not None:
            raise ValueError(f"an upstream {obj['type']} changes with {instead}()")
        return obj

    def _scheduled_object(self, task: Subject) -> Doc:
        obj = self.post_object(task)
        if obj["type"] not in SCHEDULED_TYPES:
            raise ValueError(f"{obj['id']!r} is not a task or event: pass the task's Create")
        return obj

    def _scheduled_activity(
        self, type_: str, obj: Doc, source: str, *, published: datetime | None = None
    ) -> StrictActivity:
        """An upstream task's activity: by its author, addressed like it, nothing more."""
        return self.activity(
            type_,
            obj["attributedTo"],
            obj,
            visibility=obj["visibility"],
            to=obj.get("to"),
            published=published,
            source=source,
        )

    def _tags(self, mentions: Iterable[Subject], hashtags: Iterable[str]) -> list[Doc]:
        tags: list[Doc] = []
        for mentioned in mentions:
            person = self.person(mentioned)
            tags.append(mention_tag(person["id"], person["preferredUsername"]))
        for tag in _distinct(tag.removeprefix("#").lower() for tag in hashtags):
            tags.append(hashtag_tag(self.tenant_id, tag))
        return tags

    def _hashtag(self, tag: str) -> Doc:
        name = tag.removeprefix("#").lower()
        return {"type": "Hashtag", "id": tag_iri(self.tenant_id, name), "name": f"#{name}"}


def _roles(values: Iterable[str]) -> list[str] | None:
    """A person's roles as ingestion publishes them: distinct, sorted, absent when none."""
    return sorted(set(values)) or None


def _source_of(subject: Subject) -> str:
    """Who sent the activity a subject is (an upstream record keeps its system's name)."""
    source = subject.source if isinstance(subject, Activity) else None
    return source or UPSTREAM_SOURCE


def _check_audience(visibility: Visibility, group: Doc | None, to: Sequence[str]) -> None:
    """What ingestion refuses (422) is a mistake in a test: say so early."""
    if group is not None:
        allowed = _ALLOWED_IN_GROUP[Visibility(group["visibility"])]
        if visibility not in allowed:
            raise ValueError(f"a post in a {group['visibility']} group may not be {visibility}")
    elif visibility is Visibility.GROUP:
        raise ValueError("visibility 'group' needs a group")
    if visibility is Visibility.DIRECT and not to:
        raise ValueError("a direct post needs its addressees in 'to'")
    if visibility is not Visibility.DIRECT and to:
        raise ValueError("'to' names the addressees of a direct post only")


def _kind_and_type(kind: str | None, object_type: str | None) -> tuple[str, str]:
    if kind is None:
        object_type = object_type or "Note"
        if object_type not in _KIND_OF_TYPE:
            raise ValueError(f"no post kind is published as {object_type!r}")
        return _KIND_OF_TYPE[object_type], object_type
    if kind not in AS2_TYPE:
        raise ValueError(f"{kind!r} is not a post kind ({', '.join(AS2_TYPE)})")
    if object_type is not None and object_type != AS2_TYPE[kind]:
        raise ValueError(f"a {kind} is published as {AS2_TYPE[kind]}, not {object_type}")
    return kind, AS2_TYPE[kind]


def _object_doc(subject: Subject) -> Doc:
    found = subject_object(subject)
    if found is None:
        raise ValueError(f"{subject!r} is a bare IRI: pass the activity that created it")
    return _doc(found)


def _doc(value: AS2Object) -> Doc:
    dumped: Doc = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
