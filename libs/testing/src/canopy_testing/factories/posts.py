"""Posts and reactions: writing, replying, answering, editing, deleting, accepting an answer;
likes, shares and flags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from canopy_common.events import StrictActivity, Visibility, new_activity_id
from canopy_common.iris import new_object_id
from canopy_common.vocabulary import builders
from canopy_common.vocabulary.builders import hashtag_tag, mention_tag
from canopy_common.vocabulary.post_kinds import AS2_TYPE, KIND_OF_AS2_TYPE
from canopy_testing.factories.subjects import Doc, Subject, distinct, subject_id
from canopy_testing.factories.tasks import SCHEDULED_TYPES
from canopy_testing.factories.tenant_activities import TenantActivities

Reaction: TypeAlias = Literal["like", "celebrate", "insightful", "support"]

# Which post visibilities a group of each (items) visibility allows.
_ALLOWED_IN_GROUP: Mapping[Visibility, frozenset[Visibility]] = {
    Visibility.GROUP: frozenset({Visibility.GROUP}),
    Visibility.INTERNAL: frozenset({Visibility.GROUP, Visibility.INTERNAL}),
    Visibility.PUBLIC: frozenset({Visibility.GROUP, Visibility.INTERNAL, Visibility.PUBLIC}),
}
_NOT_SHAREABLE = frozenset({Visibility.FOLLOWERS, Visibility.DIRECT})


class PostActivities(TenantActivities):
    """The activities ingestion publishes about posts people write, and reactions to them.
    (Upstream tasks and events: :mod:`.tasks`.)"""

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
        addressees = distinct(subject_id(p) for p in to)
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
        to_iris = [iri for iri in distinct([*inherited, *addressees]) if iri != person["id"]]
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
                to_iris = distinct(subject_id(p) for p in to)
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

    def moderation_decision(
        self,
        moderator: Subject,
        post: Subject,
        status: str,
        reporters: Sequence[Subject],
        note: str | None = None,
        *,
        case_id: str | None = None,
    ) -> StrictActivity:
        """A moderator's decision on a post's reports, as ingestion publishes it: an
        ``Update`` of the ``Flag`` with its ``status`` (dismissed, removed, warned), the note
        as ``content``, ``direct`` to the reporters and, unless dismissed, the author."""
        obj = self.post_object(post)
        author = obj["attributedTo"]["id"]
        to = [self.person(reporter)["id"] for reporter in reporters]
        if status != "dismissed":
            to.append(author)
        report: Doc = {
            "type": "Flag",
            "id": case_id or new_activity_id(),
            "object": {"type": obj["type"], "id": obj["id"], "attributedTo": author},
            "status": status,
        }
        return self._about_post(
            "Update",
            moderator,
            obj,
            report,
            visibility=Visibility.DIRECT,
            to=to or None,
            target=None,
            content=note,
        )

    def _authored_post(self, post: Subject, *, instead: str) -> Doc:
        """A post people write (not an upstream task or event, which change otherwise)."""
        obj = self.post_object(post)
        if obj["type"] in SCHEDULED_TYPES and obj.get("status") is not None:
            raise ValueError(f"an upstream {obj['type']} changes with {instead}()")
        return obj

    def _tags(self, mentions: Iterable[Subject], hashtags: Iterable[str]) -> list[Doc]:
        tags: list[Doc] = []
        for mentioned in mentions:
            person = self.person(mentioned)
            tags.append(mention_tag(person["id"], person["preferredUsername"]))
        for tag in distinct(tag.removeprefix("#").lower() for tag in hashtags):
            tags.append(hashtag_tag(self.tenant_id, tag))
        return tags


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
        if object_type not in KIND_OF_AS2_TYPE:
            raise ValueError(f"no post kind is published as {object_type!r}")
        return KIND_OF_AS2_TYPE[object_type], object_type
    if kind not in AS2_TYPE:
        raise ValueError(f"{kind!r} is not a post kind ({', '.join(AS2_TYPE)})")
    if object_type is not None and object_type != AS2_TYPE[kind]:
        raise ValueError(f"a {kind} is published as {AS2_TYPE[kind]}, not {object_type}")
    return kind, AS2_TYPE[kind]
