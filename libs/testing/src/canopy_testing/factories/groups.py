"""Groups and memberships: creating a group, joining, adding, roles, requests, invites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

from canopy_common.activities import JOIN_PENDING, is_join_request
from canopy_common.events import StrictActivity, Visibility, ref_ids
from canopy_common.iris import new_object_id
from canopy_common.visibility import GroupVisibility as GroupSeen
from canopy_common.vocabulary import builders
from canopy_testing.factories.subjects import Subject
from canopy_testing.factories.tenant_activities import TenantActivities

GroupVisibility: TypeAlias = Literal["public", "internal", "private"]
MemberRole: TypeAlias = Literal["owner", "admin", "member"]

# Who sees a group's items, as the `visibility` term says it (it knows no `private`); a test
# may also name a group's visibility as its items' (`group`).
GROUP_ITEMS_VISIBILITY: Mapping[str, Visibility] = {
    **{group.value: group.as2 for group in GroupSeen},
    "group": Visibility.GROUP,
}


class GroupActivities(TenantActivities):
    """The activities ingestion publishes about groups and their members."""

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

    def update_group(
        self,
        admin: Subject,
        group: Subject,
        *,
        name: str | None = None,
        description: str | None = None,
        archived: bool | None = None,
    ) -> StrictActivity:
        """An admin (or owner, or tenant admin) edits or (un)archives ``group``: an ``Update``
        embedding the whole group as it now is (archived: ``status: archived``)."""
        found = dict(self.group_object(group))
        if name is not None:
            found["name"] = name
        if description is not None:
            found["summary"] = description or None
        if archived is not None:
            found["status"] = builders.GROUP_ARCHIVED if archived else None
        found = builders.json_ready(found)
        return self._group_activity("Update", found, admin, found)

    def pin(self, admin: Subject, group: Subject, post: Subject) -> StrictActivity:
        """An admin pins ``post`` in ``group``: an ``Add`` of the whole post to the group's
        featured collection, addressed like the post."""
        obj = self.post_object(post)
        featured = builders.featured_doc(self.group_object(group)["id"])
        return self._about_post("Add", admin, obj, obj, target=featured)

    def unpin(self, admin: Subject, group: Subject, post: Subject) -> StrictActivity:
        """An admin unpins ``post``: a ``Remove`` of the post's id (it may be gone by then)
        from the group's featured collection, with the group's visibility."""
        found = self.group_object(group)
        featured = builders.featured_doc(found["id"])
        post_id = str(self.post_object(post)["id"])
        return self.activity(
            "Remove", admin, post_id, target=featured, visibility=found["visibility"]
        )
