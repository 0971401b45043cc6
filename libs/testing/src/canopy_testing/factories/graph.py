"""The social graph: follows (of people and hashtags), blocks, mutes, and the ``Undo`` of
those, of reactions and of join requests."""

from __future__ import annotations

from canopy_common.activities import JOIN_PENDING, is_join_request
from canopy_common.events import AS2Object, StrictActivity, Visibility, ref_ids
from canopy_common.iris import tag_iri
from canopy_common.vocabulary import builders
from canopy_testing.factories.subjects import Doc, Subject, as_doc
from canopy_testing.factories.tenant_activities import TenantActivities

_RELATION_TYPES = frozenset(
    {"Follow", "Block", "Ignore"}
)  # undone as ingestion's handlers/graph.py does
_REACTION_TYPES = frozenset({"Like", "Announce"})  # as handlers/reactions.py does


class GraphActivities(TenantActivities):
    """Who follows, blocks or mutes whom, and taking it back."""

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
        actor = as_doc(activity.actor)
        undone_object = as_doc(activity.object)
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

    def _hashtag(self, tag: str) -> Doc:
        name = tag.removeprefix("#").lower()
        return {"type": "Hashtag", "id": tag_iri(self.tenant_id, name), "name": f"#{name}"}
