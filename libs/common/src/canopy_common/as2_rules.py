"""Activity Streams 2.0 conformance rules, checked on plain JSON before the pydantic models.

Pydantic types say what shape a field has; these rules say what AS2 allows and name the
offending member by its path (``object.tag[1].href``), so an upstream producer gets a reason it
can act on. They follow AS2 Core and Vocabulary and the W3C test documents in
``shared/conformance/as2`` (the ``fail/`` folder lists what must be refused).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS2_NAMESPACE = AS2_CONTEXT + "#"
# Spellings of the AS2 context IRI seen in the wild and accepted by the W3C validator.
AS2_CONTEXTS = frozenset(
    {
        AS2_CONTEXT,
        AS2_NAMESPACE,
        "http://www.w3.org/ns/activitystreams",
        "http://www.w3.org/ns/activitystreams#",
    }
)

ACTIVITY_TYPES = frozenset(
    [
        "Activity",
        "IntransitiveActivity",
        "Accept",
        "Add",
        "Announce",
        "Arrive",
        "Block",
        "Create",
        "Delete",
        "Dislike",
        "Flag",
        "Follow",
        "Ignore",
        "Invite",
        "Join",
        "Leave",
        "Like",
        "Listen",
        "Move",
        "Offer",
        "Question",
        "Reject",
        "Read",
        "Remove",
        "TentativeReject",
        "TentativeAccept",
        "Travel",
        "Undo",
        "Update",
        "View",
    ]
)
_PAGE_OR_LINK = frozenset({"CollectionPage", "OrderedCollectionPage", "Link", "Mention"})
_COLLECTION_OR_LINK = frozenset(
    {"Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage", "Link"}
)
_ORDERED = frozenset({"OrderedCollection", "OrderedCollectionPage"})
# The members _check_collection looks at: an object with none of them needs no look.
_COLLECTION_KEYS = frozenset(
    {"items", "orderedItems", "first", "last", "current", "next", "prev", "partOf"}
)
_UNORDERED = frozenset({"Collection", "CollectionPage"})

# Properties whose values are IRIs, objects or links, alone or in an array.
_REFERENCE_PROPS = frozenset(
    [
        "actor",
        "object",
        "target",
        "origin",
        "result",
        "instrument",
        "attributedTo",
        "attachment",
        "audience",
        "to",
        "cc",
        "bto",
        "bcc",
        "context",
        "generator",
        "icon",
        "image",
        "inReplyTo",
        "location",
        "preview",
        "replies",
        "tag",
        "url",
        "items",
        "orderedItems",
        "oneOf",
        "anyOf",
        "first",
        "last",
        "current",
        "next",
        "prev",
        "partOf",
        "subject",
        "relationship",
        "describes",
    ]
)
NATURAL_LANGUAGE_PROPS = ("name", "content", "summary")  # each has a ...Map twin
_STRING_PROPS = frozenset({*NATURAL_LANGUAGE_PROPS, "mediaType", "duration", "units"})
_DATETIME_PROPS = frozenset({"published", "updated", "startTime", "endTime", "deleted"})
_NONNEGATIVE_INT_PROPS = frozenset({"totalItems", "startIndex", "width", "height"})
# AS2 vocabulary examples use bare terms ("IsContact") as relationship values.
_RELATIVE_IRI_ALLOWED = frozenset({"relationship"})
# Deeper documents are refused rather than risk the interpreter's recursion limit.
MAX_DEPTH = 32

_AS2_TYPE_PREFIX = re.compile(r"^(?:https?://www\.w3\.org/ns/activitystreams#|as:)")
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*")
_ALNUM = "[A-Za-z0-9]"
_PRIVATE_USE = rf"x(?:-{_ALNUM}{{1,8}})+"
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|"
    "i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn|"
    "zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
# RFC 5646 section 2.1 "Language-Tag", case-insensitive.
_LANGUAGE_TAG = re.compile(
    rf"""
    (?:(?:[A-Za-z]{{2,3}}(?:-[A-Za-z]{{3}}){{0,3}}|[A-Za-z]{{4,8}})  # language, extlang
       (?:-[A-Za-z]{{4}})?                                        # script
       (?:-(?:[A-Za-z]{{2}}|[0-9]{{3}}))?                          # region
       (?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*                # variants
       (?:-[0-9A-WY-Za-wy-z](?:-{_ALNUM}{{2,8}})+)*                # extensions
       (?:-{_PRIVATE_USE})?)
    |{_PRIVATE_USE}|{_GRANDFATHERED}
    """,
    re.VERBOSE | re.IGNORECASE,
)


# ISO 639-1 codes. A language map given as plain `name`/`content`/`summary` is lifted into its
# ...Map twin by the lenient profile only when every key starts with one of these, so a map that
# is unmistakably one passes, and anything else (fail/namemap-as-name.json's "sp") is refused.
ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr
    ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw
    ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv
    ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr
    ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu
    """.split()  # noqa: SIM905 - a table is easier to read than 184 quoted strings
)


def is_registered_language_map(value: Any) -> bool:
    """Whether ``value`` maps tags of registered ISO 639-1 languages to strings."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(
            isinstance(text, str)
            and is_language_tag(tag)
            and tag.split("-")[0].lower() in ISO_639_1
            for tag, text in value.items()
        )
    )


class Violation(NamedTuple):
    """One broken rule: the JSON path of the offending member and why it is refused."""

    field: str
    reason: str


def is_language_tag(tag: str) -> bool:
    """Whether ``tag`` is a well-formed BCP 47 (RFC 5646) language tag."""
    return _LANGUAGE_TAG.fullmatch(tag) is not None


def is_absolute_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI (a scheme, then no whitespace)."""
    return _IRI.fullmatch(value) is not None


def canonical_types(value: Any) -> frozenset[str]:
    """The ``type`` value as a set of names, AS2 types without their namespace prefix."""
    names = value if isinstance(value, list) else [value]
    return frozenset(_AS2_TYPE_PREFIX.sub("", name) for name in names if isinstance(name, str))


def is_activity(doc: Mapping[str, Any]) -> bool:
    """Whether a document is an activity: an AS2 activity type, or any type with an actor."""
    return bool(canonical_types(doc.get("type")) & ACTIVITY_TYPES) or doc.get("actor") is not None


def iter_violations(doc: Any) -> Iterator[Violation]:
    """Every AS2 rule ``doc`` (parsed JSON) breaks, outermost first."""
    if not isinstance(doc, dict):
        yield Violation("$", f"an AS2 document must be a JSON object, not {_kind(doc)}")
        return
    # Every record a consumer reads goes through here: plain functions adding to one list,
    # and paths spelled out only for a violation or a nested object, cost a fraction of
    # generators and an f-string for every member.
    found: list[Violation] = []
    _check_context(doc.get("@context"), found)
    _check_object(doc, "", 0, found)
    yield from found


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object" if value is not None else "null"


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_context(context: Any, found: list[Violation]) -> None:
    if context is None:  # AS2 core 2.1: without @context the AS2 context is implied
        return
    entries = context if isinstance(context, list) else [context]
    for entry in entries:
        if not isinstance(entry, str | dict):
            found.append(
                Violation(
                    "@context",
                    "must be a context IRI, a context object or an array of them, "
                    f"not {_kind(entry)}",
                )
            )
            return
    if not any(isinstance(entry, str) and entry in AS2_CONTEXTS for entry in entries):
        found.append(Violation("@context", f"does not reference the AS2 context {AS2_CONTEXT}"))


def _check_object(obj: dict[str, Any], path: str, depth: int, found: list[Violation]) -> None:
    if depth > MAX_DEPTH:
        found.append(Violation(path, f"objects nested deeper than {MAX_DEPTH} levels"))
        return
    for key, value in obj.items():
        if value is not None:
            _check_member(key, value, path, depth, found)
    if not _COLLECTION_KEYS.isdisjoint(obj):
        found.extend(_check_collection(obj, path))


def _check_member(key: str, value: Any, parent: str, depth: int, found: list[Violation]) -> None:
    """Check ``parent.key``; its path is spelled out only when it is needed."""
    if key in _REFERENCE_PROPS:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str) and key not in _RELATIVE_IRI_ALLOWED:
                    if _IRI.fullmatch(item) is None:
                        found.append(Violation(f"{_at(parent, key)}[{index}]", _not_absolute(item)))
                else:
                    _check_reference(key, item, f"{_at(parent, key)}[{index}]", depth, found)
        elif isinstance(value, str) and key not in _RELATIVE_IRI_ALLOWED:
            if _IRI.fullmatch(value) is None:
                found.append(Violation(_at(parent, key), _not_absolute(value)))
        else:
            _check_reference(key, value, _at(parent, key), depth, found)
    elif key in NATURAL_LANGUAGE_PROPS and isinstance(value, dict):
        found.append(
            Violation(_at(parent, key), f"must be a string; put language maps in {key}Map")
        )
    elif key in _STRING_PROPS:
        if not isinstance(value, str):
            found.append(Violation(_at(parent, key), f"must be a string, not {_kind(value)}"))
    elif key in ("id", "href"):
        if not isinstance(value, str):
            found.append(Violation(_at(parent, key), f"must be an IRI string, not {_kind(value)}"))
        elif _IRI.fullmatch(value) is None:
            found.append(Violation(_at(parent, key), _not_absolute(value)))
    elif key == "type":
        if isinstance(value, str) and value:
            return  # the usual case, without a generator
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(name, str) and name for name in names):
            found.append(
                Violation(_at(parent, key), "must be a type name or an array of type names")
            )
    elif key in _DATETIME_PROPS:
        _check_datetime(value, _at(parent, key), found)
    elif key.endswith("Map") and key[:-3] in NATURAL_LANGUAGE_PROPS:
        _check_language_map(value, _at(parent, key), found)
    elif key in _NONNEGATIVE_INT_PROPS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            found.append(Violation(_at(parent, key), "must be a non-negative integer"))
    elif key == "hreflang":
        if not (isinstance(value, str) and is_language_tag(value)):
            found.append(
                Violation(_at(parent, key), f"must be a BCP 47 language tag, not {value!r}")
            )
    elif key == "rel":
        rels = value if isinstance(value, list) else [value]
        if not all(isinstance(rel, str) for rel in rels):
            found.append(
                Violation(_at(parent, key), "must be a link relation string or an array of them")
            )


def _not_absolute(value: str) -> str:
    return f"must be an absolute IRI, not {value!r}"


def _check_language_map(value: Any, path: str, found: list[Violation]) -> None:
    if not isinstance(value, dict):
        found.append(Violation(path, f"must map language tags to strings, not {_kind(value)}"))
        return
    for tag, text in value.items():
        if not is_language_tag(tag):
            found.append(Violation(path, f"{tag!r} is not a valid BCP 47 language tag"))
        elif not isinstance(text, str):
            found.append(Violation(_at(path, tag), f"must be a string, not {_kind(text)}"))


def _check_datetime(value: Any, path: str, found: list[Violation]) -> None:
    if not isinstance(value, str):
        found.append(Violation(path, f"must be an ISO 8601 date-time string, not {_kind(value)}"))
        return
    try:
        datetime.fromisoformat(value)
    except ValueError:
        found.append(Violation(path, f"must be an ISO 8601 date-time, not {value!r}"))


def _check_reference(key: str, item: Any, path: str, depth: int, found: list[Violation]) -> None:
    if isinstance(item, dict):
        _check_object(item, path, depth + 1, found)
    elif not isinstance(item, str):
        found.append(Violation(path, f"must be an IRI, an object or a link, not {_kind(item)}"))
    elif key not in _RELATIVE_IRI_ALLOWED and not is_absolute_iri(item):
        found.append(Violation(path, _not_absolute(item)))


def _check_collection(obj: dict[str, Any], path: str) -> Iterator[Violation]:
    types = canonical_types(obj.get("type"))
    if types & _ORDERED and obj.get("items") is not None:
        yield Violation(_at(path, "items"), "an ordered collection lists orderedItems, not items")
    if types & _UNORDERED and not types & _ORDERED and obj.get("orderedItems") is not None:
        yield Violation(_at(path, "orderedItems"), "an unordered collection lists items")
    for key in ("first", "last", "current", "next", "prev", "partOf"):
        allowed = _COLLECTION_OR_LINK if key == "partOf" else _PAGE_OR_LINK
        value = obj.get(key)
        given = canonical_types(value.get("type")) if isinstance(value, dict) else frozenset()
        if given and not given & allowed:  # an untyped object may be either
            wanted = "a collection" if key == "partOf" else "a collection page"
            found = ", ".join(sorted(given))
            yield Violation(_at(path, key), f"must be an IRI, a link or {wanted}, not {found}")
