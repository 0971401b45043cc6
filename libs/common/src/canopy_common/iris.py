"""How Canopy names things in activities: one owner for every IRI form.

Objects Canopy creates (posts, groups, activities) have ``urn:uuid:<UUIDv7>`` ids, used as they
are in API paths. A group's pinned posts are its ``featured`` collection, ``<group id>/featured``
(the target of the ``Add`` and ``Remove`` that pin and unpin a post). Things a tenant names —
people (``PUT /v1/users/alice``) and hashtags — get ``urn:canopy:<tenant>:<kind>:<key>``, so the
same key in two tenants never collides and every service can read the tenant and the key back
out of an activity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from urllib.parse import quote, unquote

from canopy_common.events import new_activity_id

Kind = Literal["user", "tag"]
_CANOPY_URN = re.compile(r"^urn:canopy:(?P<tenant>[^:]+):(?P<kind>user|tag):(?P<key>.+)$")
_UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class CanopyName:
    """A tenant-scoped name read back from an IRI."""

    tenant: str
    kind: Kind
    key: str


@lru_cache(maxsize=65_536)  # quote() is slow, and activities name the same people often
def user_iri(tenant: str, user_id: str) -> str:
    """The IRI of a person: ``urn:canopy:<tenant>:user:<id>``."""
    return f"urn:canopy:{tenant}:user:{quote(user_id, safe='')}"


def tag_iri(tenant: str, tag: str) -> str:
    """The IRI of a hashtag (lower-cased, without ``#``)."""
    return f"urn:canopy:{tenant}:tag:{quote(tag.lower(), safe='')}"


@lru_cache(maxsize=65_536)  # the same people and bots come up in record after record
def parse_name(iri: str) -> CanopyName | None:
    """The tenant, kind and key of a ``urn:canopy:`` IRI; None for any other IRI."""
    found = _CANOPY_URN.match(iri)
    if found is None:
        return None
    kind: Kind = "user" if found["kind"] == "user" else "tag"
    return CanopyName(found["tenant"], kind, unquote(found["key"]))


def user_id_of(iri: str, tenant: str) -> str | None:
    """The user id in a person IRI of ``tenant``; None for another tenant's or any other IRI."""
    name = parse_name(iri)
    return name.key if name is not None and name.kind == "user" and name.tenant == tenant else None


FEATURED_SUFFIX = "/featured"


def featured_iri(group_id: str) -> str:
    """The IRI of a group's pinned posts (its AS2 ``featured`` collection)."""
    return f"{group_id}{FEATURED_SUFFIX}"


def group_of_featured(iri: str) -> str | None:
    """The group id of a :func:`featured_iri`; None for any other IRI."""
    group_id = iri.removesuffix(FEATURED_SUFFIX)
    return group_id if group_id != iri and is_object_id(group_id) else None


def new_object_id() -> str:
    """A fresh id for something Canopy creates (post, group): a time-ordered ``urn:uuid``."""
    return new_activity_id()


def is_object_id(value: str) -> bool:
    """Whether ``value`` has the form of an id Canopy creates."""
    return _UUID_URN.match(value) is not None
