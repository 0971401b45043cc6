"""Impressions: which feed items a reader was shown, as fanout publishes them on
``canopy.impressions.v1`` (docs/architecture.md §2, §5) for analytics' reach and active-people
figures.

One record per reader and flush, keyed ``tenant:viewer``::

    {"tenant": "acme", "viewer": "ada",
     "items": [{"activity": "…", "object": "…", "feed": "home", "viewed_at": "2025-…Z"}]}

:func:`decode_impressions` turns the record's bytes into :class:`Impressions`; anything else
raises :class:`InvalidImpressions`, which a consumer dead-letters (it is not transient).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from canopy_common.errors import InvalidInput

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_ITEMS_PER_RECORD",
    "Impression",
    "Impressions",
    "InvalidImpressions",
    "decode_impressions",
]

# A feed page holds at most 100 items and a reader's impressions are flushed every second or
# so: a record over this size is a producer bug, and it keeps one consumer batch bounded.
MAX_ITEMS_PER_RECORD: Final = 1_000
# Ids are activity ids, user ids and object IRIs; 2 KiB is the practical ceiling of an IRI.
MAX_ID_LENGTH: Final = 2_048
# Feed kinds are short words (home, user, group, tag).
MAX_FEED_LENGTH: Final = 64

# Not blank: at least one character other than whitespace.
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=r"\S")]
FeedKind = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_FEED_LENGTH, pattern=r"\S")
]


class Impression(BaseModel):
    """One item shown to the reader: the activity, its object, the feed it was read in, and
    when."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    activity: Id
    object: Id
    feed: FeedKind
    viewed_at: AwareDatetime


class Impressions(BaseModel):
    """What one reader of one tenant was shown since the last flush (at least one item)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant: Id
    viewer: Id
    items: list[Impression] = Field(min_length=1, max_length=MAX_ITEMS_PER_RECORD)


class InvalidImpressions(InvalidInput):
    """An impressions record that is not JSON or breaks the model (422). ``field`` is the
    JSON path of the offending member (``$`` for the whole document)."""

    code = "invalid-impressions"

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}", extra={"field": field})


def decode_impressions(raw: bytes | str) -> Impressions:
    """Parse and validate an impressions record; raise :class:`InvalidImpressions` naming the
    offending member (bad JSON or UTF-8, a missing or empty id, no items or too many, a
    timestamp without a time zone)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidImpressions("$", f"invalid JSON: {exc}") from None
    try:
        return Impressions.model_validate(doc)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidImpressions(_path(error["loc"]), str(error["msg"])) from None


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for step in loc:
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}" if parts else str(step))
    return "".join(parts) or "$"
