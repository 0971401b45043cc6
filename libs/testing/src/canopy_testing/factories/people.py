"""Tenants and people: the organisation, provisioned persons, profile changes, erasure."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from canopy_common.events import StrictActivity, Visibility
from canopy_common.iris import user_iri
from canopy_common.vocabulary.builders import person_doc, place
from canopy_testing.factories.subjects import Doc, Subject, subject_id, user_id_of_subject
from canopy_testing.factories.tenant_activities import TenantActivities

PersonKind: TypeAlias = Literal["employee", "guest", "bot"]
# A person's tenant roles (canopy_common.auth.Role but those a token's kind or platform gives).
TenantRole: TypeAlias = Literal["moderator", "tenant_admin", "analyst", "group_admin"]

ERASED_DISPLAY_NAME = "Deleted user"  # what erasure leaves of a person's name
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
    "active": "active",
}


class PeopleActivities(TenantActivities):
    """The activities ingestion publishes about a tenant's people."""

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
        title, department, location, skills, interests, manager (a person), email, roles,
        active (``False``: deactivated, ``True``: reactivated); ``None`` clears."""
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
            active=False,
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


def _roles(values: Iterable[str]) -> list[str] | None:
    """A person's roles as ingestion publishes them: distinct, sorted, absent when none."""
    return sorted(set(values)) or None
