"""What the factories take for "who" or "what": a subject is an IRI, an AS2 object, or the
activity that created it (pass a person's, group's or post's ``Create`` wherever another
factory needs it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TypeAlias

from canopy_common.events import AS2Object, ref_id
from canopy_common.iris import parse_name

Subject: TypeAlias = str | AS2Object  # an IRI, an object, or the activity that created it
Doc: TypeAlias = dict[str, Any]


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


def object_doc(subject: Subject) -> Doc:
    """The document of the object a subject stands for (not a bare IRI)."""
    found = subject_object(subject)
    if found is None:
        raise ValueError(f"{subject!r} is a bare IRI: pass the activity that created it")
    return as_doc(found)


def as_doc(value: AS2Object) -> Doc:
    """An AS2 object as the JSON document it was published as."""
    dumped: Doc = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def distinct(values: Iterable[str]) -> list[str]:
    """``values`` without repeats, in their first order."""
    return list(dict.fromkeys(values))
