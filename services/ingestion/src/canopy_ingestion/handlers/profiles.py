"""A person's profile as people read it (with the org chart) and as they edit it themselves.

Who owns which field (as Viva Engage with Entra ID: the directory's fields are HR's):

- The person: ``summary`` (about me), ``pronouns``, ``location``, ``skills``, ``interests``
  (``PATCH /v1/users/me``). Provisioning keeps summary and pronouns, and keeps location,
  skills and interests when it leaves them out (handlers.people.planned_profile).
- HR or a tenant admin (``PUT /v1/users/{id}``, an upstream Person): handle, display name,
  title, department, manager, e-mail, kind, roles. A person's own edit naming one of them is
  refused (422 naming the field).

An edit emits an ``Update`` of the Person, exactly as provisioning does, attributed to the
person, so every service's projection of people follows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from canopy_common.db import Connection
from canopy_common.errors import Forbidden
from canopy_ingestion.adapters import outbox, people
from canopy_ingestion.domain.model import User
from canopy_ingestion.domain.text import clean_block, clean_line
from canopy_ingestion.handlers.people import (
    NAME_MAX_LENGTH,
    clean_list,
    find_visible_person,
    profile_activity,
)

SUMMARY_MAX_LENGTH = 2000  # a few paragraphs about oneself
PRONOUNS_MAX_LENGTH = 40  # "they/them", "sie/ihr", "she/her/hers" with room to spare
# Direct reports shown on a profile; the total says how many there are. Spans of control
# beyond this are rare, and a directory search lists the rest.
REPORTS_SHOWN = 50


@dataclass(frozen=True)
class EditOwnProfile:
    """A person's edit of their own profile: the fields in ``given`` are set (``None`` or
    ``""`` clears a text, ``()`` a list), the others stay as they are."""

    given: frozenset[str]
    summary: str | None = None
    pronouns: str | None = None
    location: str | None = None
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()


async def handle_edit_own_profile(edit: EditOwnProfile, *, conn: Connection, actor: User) -> User:
    """Apply ``edit`` to the actor's profile and emit an ``Update`` of their Person; an edit
    that changes nothing stores and emits nothing. Raises :class:`InvalidText` (422) for a
    bad field."""
    cleaned = _cleaned(edit)  # refused before anything is locked
    await people.lock_person(conn, actor.tenant_id, actor.id)
    current = await people.get_user(conn, actor.tenant_id, actor.id)
    if current is None or not current.active:  # erased since the request was admitted
        raise Forbidden(f"user {actor.id!r} is not an active member of this tenant")
    wanted = _applied(cleaned, current)
    if wanted == current:
        return current
    await people.save_own_profile(conn, wanted)
    await outbox.append(conn, profile_activity("Update", wanted, by=actor.id))
    return wanted


def _cleaned(edit: EditOwnProfile) -> EditOwnProfile:
    """The edit checked and normalised as every profile field is (NFC, lengths, no control
    characters; a summary may have several lines); an empty text is None."""
    summary = clean_block(edit.summary or "", field="summary", max_length=SUMMARY_MAX_LENGTH)
    return replace(
        edit,
        summary=summary or None,
        pronouns=_line(edit.pronouns, "pronouns", PRONOUNS_MAX_LENGTH),
        location=_line(edit.location, "location", NAME_MAX_LENGTH),
        skills=clean_list(edit.skills, "skills"),
        interests=clean_list(edit.interests, "interests"),
    )


def _applied(edit: EditOwnProfile, current: User) -> User:
    given = edit.given
    return replace(
        current,
        summary=edit.summary if "summary" in given else current.summary,
        pronouns=edit.pronouns if "pronouns" in given else current.pronouns,
        location=edit.location if "location" in given else current.location,
        skills=edit.skills if "skills" in given else current.skills,
        interests=edit.interests if "interests" in given else current.interests,
    )


def _line(value: str | None, name: str, max_length: int) -> str | None:
    return clean_line(value or "", field=name, max_length=max_length, min_length=0) or None


@dataclass(frozen=True)
class ProfileView:
    """A person's profile with their place in the org chart: their manager and the first
    :data:`REPORTS_SHOWN` of their active direct reports (by name), and how many they have."""

    person: User
    manager: User | None
    reports: list[User]
    reports_total: int


async def handle_view_profile(user_id: str, *, conn: Connection, viewer: User) -> ProfileView:
    """The profile of a person the viewer may see (404 otherwise). Guests, external
    partners, see no org chart (no manager, no reports)."""
    found = await find_visible_person(conn, viewer, user_id, former=True)
    if viewer.is_guest:
        return ProfileView(found, None, [], 0)
    manager = (
        await people.get_user(conn, viewer.tenant_id, found.manager_id)
        if found.manager_id
        else None
    )
    reports, total = await people.direct_reports(
        conn, viewer.tenant_id, found.id, limit=REPORTS_SHOWN
    )
    return ProfileView(found, manager, reports, total)


__all__ = [
    "PRONOUNS_MAX_LENGTH",
    "REPORTS_SHOWN",
    "SUMMARY_MAX_LENGTH",
    "EditOwnProfile",
    "ProfileView",
    "handle_edit_own_profile",
    "handle_view_profile",
]
