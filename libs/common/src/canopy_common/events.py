"""The Canopy activity: W3C Activity Streams 2.0 plus a small Canopy extension, and its codec.

Two profiles (docs/architecture.md §3): ``strict`` for production topics (``id``, ``type``,
``actor``,
``published`` and ``tenant`` required) and ``lenient`` for tools and imports (any AS2 document;
an activity's missing ``id``/``published`` are synthesised and named in ``synthesized``).
Decoding checks the AS2 rules of :mod:`canopy_common.as2_rules` first, so every refusal is one
:class:`InvalidActivity` naming the offending member.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Literal, Self, TypeAlias, overload

import orjson
from pydantic import AwareDatetime, ConfigDict, Field, ValidationError

from canopy_common.as2_rules import (
    AS2_CONTEXT,
    AS2_CONTEXTS,
    NATURAL_LANGUAGE_PROPS,
    Violation,
    is_activity,
    is_registered_language_map,
    iter_violations,
)
from canopy_common.errors import InvalidInput
from canopy_common.vocabulary.terms import CanopyTerms

__all__ = [
    "AS2_CONTEXT",
    "CANOPY_CONTEXT",
    "SCHEMA_VERSION",
    "AS2Object",
    "Activity",
    "InvalidActivity",
    "InvalidJSON",
    "Profile",
    "Ref",
    "Refs",
    "StrictActivity",
    "Visibility",
    "decode_activity",
    "encode",
    "new_activity_id",
    "new_uuid7",
    "parse_json",
    "ref_id",
    "ref_ids",
    "validate_activity",
]

SCHEMA_VERSION: Final = 1
CANOPY_NAMESPACE: Final = "https://canopy.dev/ns#"
CANOPY_TERMS: Final = (
    "tenant",
    "visibility",
    "source",
    "schemaVersion",
    "traceparent",
    "synthesized",
    # enrichment (docs/architecture.md §3: consumers never call back)
    "kind",  # employee | guest | bot for a Person; note | question | ... for a post
    "role",  # a membership role: owner | admin | member
    "reaction",  # the kind of a Like: like | celebrate | insightful | support
    "acceptedAnswer",
    "title",
    "department",
    "skills",
    "interests",
    "manager",
    "email",  # a person's work address (AS2 has no term for it): notifications by e-mail
    "roles",  # a person's tenant roles: moderator | tenant_admin | analyst | group_admin
    "pronouns",  # a person's, as they give them
    # a person's standing: false for a deactivated person (a former colleague) whose content
    # stays; absent means true (docs/architecture.md §16, leavers)
    "active",
    # a task's or event's state: open | completed | cancelled; a Join's: pending (a request
    # to join that makes nobody a member until an admin's Add)
    "status",
)
# Inline, so consumers never fetch a context document. AS2 defines `source` (ActivityPub's
# original-content term); Canopy redefines it as the producing system, as JSON-LD allows.
CANOPY_CONTEXT: Final[list[Any]] = [
    AS2_CONTEXT,
    {"canopy": CANOPY_NAMESPACE, **{term: f"canopy:{term}" for term in CANOPY_TERMS}},
]
_DEFAULT_CONTEXTS: Final[list[Any]] = [*AS2_CONTEXTS, [AS2_CONTEXT], CANOPY_CONTEXT]
PRIVATE_ADDRESSING: Final = frozenset({"bto", "bcc"})  # honoured for delivery, never shown

Profile: TypeAlias = Literal["strict", "lenient"]


class Visibility(StrEnum):
    """Who may see an activity or object; fan-out resolves the audience from it."""

    PUBLIC = "public"  # everyone in the tenant, guests too
    INTERNAL = "internal"  # employees, not guests
    GROUP = "group"  # members of the target group
    FOLLOWERS = "followers"
    DIRECT = "direct"  # addressees only


# --- ids --------------------------------------------------------------------------------------

_id_lock = threading.Lock()
_last_ms = 0
_last_random = 0
_RANDOM_BITS = 74  # rand_a (12) + rand_b (62) in RFC 9562's layout


def new_uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): Unix milliseconds first, so ids sort by creation time.

    Within one millisecond, or if the clock steps back, the random part grows by a random
    amount instead of being redrawn (RFC 9562 §6.2, "monotonic random"), so one process's ids are
    strictly increasing and still unguessable.
    """
    global _last_ms, _last_random
    with _id_lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _last_random = now_ms, secrets.randbits(_RANDOM_BITS - 2)  # headroom
        else:
            _last_random += 1 + secrets.randbits(31)
            if _last_random >> _RANDOM_BITS:  # overflow: borrow the next millisecond
                _last_ms, _last_random = _last_ms + 1, secrets.randbits(_RANDOM_BITS - 2)
        millis, random = _last_ms, _last_random
    rand_a, rand_b = random >> 62, random & ((1 << 62) - 1)
    return uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def new_activity_id() -> str:
    """A fresh activity id: ``urn:uuid:<UUIDv7>``, an absolute IRI that sorts by time."""
    return f"urn:uuid:{new_uuid7()}"


# --- models -----------------------------------------------------------------------------------


class AS2Object(CanopyTerms):
    """Any AS2 Object, Link or Activity. The core properties are typed; every other member is
    kept as it came (``model_extra``), because AS2 is extensible, and the Canopy terms among
    them are read through :class:`~canopy_common.vocabulary.terms.CanopyTerms`."""

    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)

    jsonld_context: str | dict[str, Any] | list[str | dict[str, Any]] | None = Field(
        None, alias="@context"
    )
    id: str | None = None
    type: str | list[str] | None = None
    name: str | None = None
    name_map: dict[str, str] | None = Field(None, alias="nameMap")
    summary: str | None = None
    summary_map: dict[str, str] | None = Field(None, alias="summaryMap")
    content: str | None = None
    content_map: dict[str, str] | None = Field(None, alias="contentMap")
    media_type: str | None = Field(None, alias="mediaType")
    preferred_username: str | None = Field(None, alias="preferredUsername")
    published: datetime | None = None
    updated: datetime | None = None
    start_time: datetime | None = Field(None, alias="startTime")
    end_time: datetime | None = Field(None, alias="endTime")
    # activity
    actor: Refs | None = None
    object: Refs | None = None
    target: Refs | None = None
    origin: Refs | None = None
    result: Refs | None = None
    instrument: Refs | None = None
    # addressing
    to: Refs | None = None
    cc: Refs | None = None
    bto: Refs | None = None
    bcc: Refs | None = None
    audience: Refs | None = None
    # relations
    attributed_to: Refs | None = Field(None, alias="attributedTo")
    context: Refs | None = None  # the thread, not the JSON-LD @context
    in_reply_to: Refs | None = Field(None, alias="inReplyTo")
    tag: Refs | None = None
    attachment: Refs | None = None
    url: Refs | None = None
    icon: Refs | None = None
    image: Refs | None = None
    # link
    href: str | None = None
    rel: str | list[str] | None = None
    hreflang: str | None = None
    width: int | None = None
    height: int | None = None
    # Canopy extension, on objects too (a group's or a post's own visibility)
    visibility: Visibility | None = None

    def public_view(self) -> Self:
        """A copy without ``bto``/``bcc`` at any depth: the only form that may leave the
        backend."""
        return self.model_validate(_without_private(self.model_dump(by_alias=True)))


class Activity(AS2Object):
    """An activity (or, in the lenient profile, any AS2 document) with the Canopy terms."""

    tenant: str | None = None
    source: str | None = None  # "http" or the upstream system's name
    schema_version: int | None = Field(None, alias="schemaVersion")
    traceparent: str | None = None  # W3C trace context of the request that caused it
    synthesized: list[str] | None = None  # members the lenient profile made up


class StrictActivity(Activity):
    """The canonical activity of production topics: identified, attributed, dated, tenanted."""

    id: str
    type: str | list[str]
    actor: Refs
    published: AwareDatetime
    tenant: str = Field(min_length=1)
    schema_version: int = Field(SCHEMA_VERSION, alias="schemaVersion")


Ref: TypeAlias = str | AS2Object
Refs: TypeAlias = Ref | list[Ref]
AS2Object.model_rebuild()
Activity.model_rebuild()
StrictActivity.model_rebuild()


def ref_ids(refs: Refs | None) -> list[str]:
    """The ids a reference value names: IRIs as given, objects by ``id``, links by ``href``."""
    items = refs if isinstance(refs, list) else [] if refs is None else [refs]
    found = (item if isinstance(item, str) else item.id or item.href for item in items)
    return [iri for iri in found if iri]


def ref_id(refs: Refs | None) -> str | None:
    """The first id a reference value names, or ``None``."""
    return next(iter(ref_ids(refs)), None)


def _without_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: item if key == "@context" else _without_private(item)
            for key, item in value.items()
            if key not in PRIVATE_ADDRESSING
        }
    if isinstance(value, list):
        return [_without_private(item) for item in value]
    return value


# --- errors -----------------------------------------------------------------------------------


class InvalidActivity(InvalidInput):
    """An activity that breaks AS2 or its profile (422). ``field`` is the JSON path of the
    offending member (``$`` for the whole document), ``reason`` says what is wrong."""

    code = "invalid-activity"

    def __init__(self, field: str, reason: str, *, violations: Sequence[Violation] = ()) -> None:
        self.field, self.reason = field, reason
        self.violations = list(violations) or [Violation(field, reason)]
        super().__init__(
            f"{field}: {reason}",
            extra={"field": field, "errors": [v._asdict() for v in self.violations]},
        )


class InvalidJSON(InvalidActivity):
    """The payload is not JSON (or not UTF-8, which JSON text must be)."""

    code = "invalid-json"


# --- codec ------------------------------------------------------------------------------------


def parse_json(raw: bytes | str) -> Any:
    """Parse JSON text; raise :class:`InvalidJSON` (naming the member, for bad UTF-8)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if isinstance(raw, bytes) and (bad := _invalid_utf8(raw)) is not None:
            raise InvalidJSON(*bad) from None
        raise InvalidJSON("$", f"invalid JSON: {exc}") from None


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of non-UTF-8 bytes


def _invalid_utf8(raw: bytes) -> Violation | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"is not valid UTF-8 (byte {exc.start}), which JSON text must be"
    else:
        return None
    try:
        doc = json.loads(raw.decode("utf-8", "surrogateescape"))
    except ValueError:
        return Violation("$", reason)
    return Violation(_not_utf8_path(doc, "") or "$", reason)


def _not_utf8_path(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if _NOT_UTF8.search(value) else None
    if isinstance(value, list):
        children = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    elif isinstance(value, dict):
        children = []
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if _NOT_UTF8.search(key):
                return _NOT_UTF8.sub("\ufffd", here)  # the path must itself be valid text
            children.append((here, item))
    else:
        return None
    return next((found for here, item in children if (found := _not_utf8_path(item, here))), None)


@overload
def validate_activity(doc: Any, *, profile: Literal["strict"] = "strict") -> StrictActivity: ...
@overload
def validate_activity(doc: Any, *, profile: Literal["lenient"]) -> Activity: ...
@overload
def validate_activity(doc: Any, *, profile: Profile) -> Activity: ...
def validate_activity(doc: Any, *, profile: Profile = "strict") -> Activity:
    """Validate parsed JSON as an activity in ``profile``; raise :class:`InvalidActivity`."""
    if profile not in ("strict", "lenient"):
        raise ValueError(f"unknown profile {profile!r}")
    lifted: list[str] = []
    if profile == "lenient" and isinstance(doc, dict):
        doc = _lift_language_maps(doc, lifted)
    if violations := list(iter_violations(doc)):
        raise InvalidActivity(*violations[0], violations=violations)
    if doc.get("@context") in _DEFAULT_CONTEXTS:  # encode() restores it; keeps round trips equal
        doc = {key: value for key, value in doc.items() if key != "@context"}
    if profile == "lenient" and is_activity(doc):
        doc = _synthesize(doc, lifted)
    model = StrictActivity if profile == "strict" else Activity
    try:
        return model.model_validate(doc, by_name=False)  # wire names only
    except ValidationError as exc:
        found = [_violation(error, doc) for error in exc.errors()]
        raise InvalidActivity(*found[0], violations=found) from None


@overload
def decode_activity(
    raw: bytes | str, *, profile: Literal["strict"] = "strict"
) -> StrictActivity: ...
@overload
def decode_activity(raw: bytes | str, *, profile: Literal["lenient"]) -> Activity: ...
@overload
def decode_activity(raw: bytes | str, *, profile: Profile) -> Activity: ...
def decode_activity(raw: bytes | str, *, profile: Profile = "strict") -> Activity:
    """Parse and validate a JSON activity; raise :class:`InvalidJSON` or
    :class:`InvalidActivity` with the offending member's path."""
    return validate_activity(parse_json(raw), profile=profile)


def encode(model: AS2Object) -> bytes:
    """Serialise to AS2 JSON: camelCase names, no null members, ``@context`` first (the AS2
    context, plus Canopy's terms when any are used, unless the model carries its own)."""
    body = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    context = body.pop("@context", None)
    if context is None:
        context = CANOPY_CONTEXT if any(term in body for term in CANOPY_TERMS) else AS2_CONTEXT
    return orjson.dumps({"@context": context, **body})


def _synthesize(doc: dict[str, Any], lifted: list[str]) -> dict[str, Any]:
    made: dict[str, Any] = {}
    if doc.get("id") is None:
        made["id"] = new_activity_id()
    if doc.get("published") is None:
        made["published"] = datetime.now(UTC)
    flagged = [*made, *lifted]
    return {**doc, **made, "synthesized": flagged} if flagged else doc


def _lift_language_maps(doc: dict[str, Any], lifted: list[str], path: str = "") -> dict[str, Any]:
    """Lenient profile: move a language map given as ``name`` (etc.) into ``nameMap``.

    Only maps whose every key is a registered language are lifted; what was lifted is recorded
    in ``lifted`` (``name`` becomes ``nameMap``) so the activity's ``synthesized`` flags it.
    """
    out: dict[str, Any] = {}
    for key, value in doc.items():
        here = f"{path}.{key}" if path else key
        twin = f"{key}Map"
        if key in NATURAL_LANGUAGE_PROPS and twin not in doc and is_registered_language_map(value):
            out[twin] = value
            lifted.append(f"{path}.{twin}" if path else twin)
        elif isinstance(value, dict):
            out[key] = _lift_language_maps(value, lifted, here)
        elif isinstance(value, list):
            out[key] = [
                _lift_language_maps(item, lifted, f"{here}[{i}]")
                if isinstance(item, dict)
                else item
                for i, item in enumerate(value)
            ]
        else:
            out[key] = value
    return out


def _violation(error: Any, doc: Any) -> Violation:
    """Map a pydantic error to the member it is about; union branch names in ``loc`` (such
    as ``str``) are not members of the document and are skipped."""
    loc, node = error["loc"], doc
    parts: list[str] = []
    for position, step in enumerate(loc):
        if isinstance(node, dict) and step in node:
            node = node[step]
            parts.append(f".{step}" if parts else str(step))
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            parts.append(f"[{step}]")
        elif error["type"] == "missing" and position == len(loc) - 1:
            parts.append(f".{step}" if parts else str(step))
    if error["type"] == "missing":
        return Violation("".join(parts), "is required in the strict profile")
    return Violation("".join(parts) or "$", str(error["msg"]))
