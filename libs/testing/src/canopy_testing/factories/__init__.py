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
activity, which members) is mirrored here, as this package may not import them: one module per
subject (:mod:`.people`, :mod:`.groups`, :mod:`.graph`, :mod:`.posts`, :mod:`.tasks`) on the
shared building blocks of :mod:`.tenant_activities`.
"""

from canopy_common.vocabulary.builders import place
from canopy_testing.factories.activity_factory import ActivityFactory
from canopy_testing.factories.subjects import (
    Subject,
    new_tenant_id,
    subject_id,
    subject_object,
    user_id_of_subject,
)

__all__ = [
    "ActivityFactory",
    "Subject",
    "new_tenant_id",
    "place",
    "subject_id",
    "subject_object",
    "user_id_of_subject",
]
