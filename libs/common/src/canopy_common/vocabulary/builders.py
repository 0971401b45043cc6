"""The one set of builders of canonical activity shapes (docs/architecture.md §3): the Person,
Group, tag and activity documents ingestion publishes, used by ingestion and, so that tests
build exactly what ingestion publishes, by ``canopy_testing.factories``.

They build plain JSON documents (no AS2 model round trip: ingestion encodes them once, with
orjson). Member order is part of the bytes published, so it is fixed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias

from canopy_common.iris import tag_iri
from canopy_common.visibility import GroupVisibility

Doc: TypeAlias = dict[str, Any]


def place(name: str) -> Doc:
    """A person's office as published: an AS2 ``Place`` (AS2's ``location`` is a reference)."""
    return {"type": "Place", "name": name}


def person_doc(
    iri: str,
    *,
    handle: str,
    display_name: str,
    kind: str,
    title: str | None = None,
    department: str | None = None,
    location: str | None = None,
    skills: Sequence[str] | None = None,
    interests: Sequence[str] | None = None,
    manager: str | None = None,
    email: str | None = None,
    roles: Sequence[str] | None = None,
    summary: str | None = None,
    pronouns: str | None = None,
    active: bool | None = None,
) -> Doc:
    """A person as AS2, with the profile fields discovery and notifications use (``email``
    for mail deliveries, ``roles`` to find the tenant's moderators) and what they say about
    themselves (``summary``, ``pronouns``); empty ones are left out. ``manager`` is the
    manager's IRI. ``active``: the person's standing, left out when ``None`` (consumers read a
    Person without it as active)."""
    doc: Doc = {
        "type": "Person",
        "id": iri,
        "name": display_name,
        "preferredUsername": handle,
        "kind": kind,
    }
    profile = {
        "title": title,
        "department": department,
        "location": place(location) if location else None,
        "skills": list(skills) if skills else None,
        "interests": list(interests) if interests else None,
        "manager": manager,
        "email": email,
        "roles": list(roles) if roles else None,
        "summary": summary,
        "pronouns": pronouns,
        "active": active,
    }
    doc.update({key: value for key, value in profile.items() if value is not None})
    return doc


def group_doc(
    group_id: str,
    *,
    name: str,
    summary: str | None,
    visibility: GroupVisibility,
    owner_iri: str,
) -> Doc:
    """A group as AS2; ``visibility`` is the group's own (public, internal, private) and is
    published as its items are seen (:attr:`GroupVisibility.as2`; private: ``group``)."""
    return {
        "type": "Group",
        "id": group_id,
        "name": name,
        "summary": summary or None,
        "visibility": visibility.as2.value,
        "attributedTo": owner_iri,
    }


def mention_tag(person_iri: str, handle: str) -> Doc:
    """The tag of a resolved mention."""
    return {"type": "Mention", "href": person_iri, "name": f"@{handle}"}


def hashtag_tag(tenant: str, tag: str) -> Doc:
    """The tag of a hashtag (``tag`` lower case, without ``#``)."""
    return {"type": "Hashtag", "href": tag_iri(tenant, tag), "name": f"#{tag}"}


def activity_doc(
    type_: str,
    *,
    activity_id: str,
    actor: Doc,
    obj: Doc | str,
    tenant: str,
    published: datetime,
    source: str,
    target: Doc | None = None,
    to: Sequence[str] | None = None,
    visibility: str | None = None,
    traceparent: str | None = None,
    **extra: Any,
) -> Doc:
    """A canonical activity document, JSON-ready (see :func:`json_ready`); ``extra`` are
    further members by their wire names (``context``, ``role``, ...)."""
    doc: Doc = {
        "id": activity_id,
        "type": type_,
        "actor": actor,
        "object": obj,
        "target": target,
        "to": list(to) if to is not None else None,
        "published": published,
        "tenant": tenant,
        "visibility": visibility,
        "source": source,
        "traceparent": traceparent,
        **extra,
    }
    ready: Doc = json_ready(doc)
    return ready


def json_ready(value: Any) -> Any:
    """JSON-ready: datetimes as ISO 8601, ``None`` members dropped at every depth."""
    # Strings (most members) are taken as they are without a call: this runs on every
    # member of every activity.
    if isinstance(value, dict):
        return {
            key: item if type(item) is str else json_ready(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, (list, tuple)):
        return [item if type(item) is str else json_ready(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
