"""Search (docs/architecture.md §17): what a search asks, how results rank, how a snippet's
highlights are marked, and what one answers. Pure.

Ranking of posts: ``score = relevance * (1 - RECENCY_SHARE + RECENCY_SHARE * recency)`` with
``relevance = ts_rank_cd(search, query, 32)`` (cover density, normalised to rank/(rank+1), so
in [0, 1)) and ``recency = 1 / (1 + age_days / RECENCY_DAYS)`` of the post's ``published`` at
the search's reference time ``as_of``: a post as old as RECENCY_DAYS keeps 75 % of its
relevance, a very old one tends to half. Relevance decides; recency breaks near-ties. The
reference time is fixed by the first page and travels in the cursor, so every page of one
search ranks alike.

People rank by ``max(word_similarity(q, name), word_similarity(q, handle)) +
ts_rank(profile, query)`` (profile: name, handle, title, department, skills); groups by
``max(word_similarity(q, name), word_similarity(q, description)) + ts_rank(name and
description, query)``.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field

from canopy_analytics.domain.post_text import MARK_END, MARK_START
from canopy_common.vocabulary.post_kinds import AS2_TYPE

RECENCY_SHARE: Final = 0.5
RECENCY_DAYS: Final = 30.0
# A query longer than this is refused (422): a search box, not a document.
MAX_QUERY_LENGTH: Final = 500
# ts_headline's options: up to two fragments of 10 to 30 words around the matches.
HEADLINE_OPTIONS: Final = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=30, MinWords=10, "
    "FragmentDelimiter=\u2009…\u2009"
)
# Trigram matching: how close a name must be (pg_trgm's word_similarity) to be found. At 0.6
# (pg_trgm's default) "Maria Garsia" finds Maria Garcia, and "maria" does not find Marta.
NAME_SIMILARITY: Final = 0.6
POST_KINDS: Final = frozenset(AS2_TYPE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SearchType(StrEnum):
    POSTS = "posts"
    PEOPLE = "people"
    GROUPS = "groups"


def clean_query(q: str) -> str:
    """The query as searched: control characters blanked, outer blanks dropped ('' when
    nothing is left, which the route refuses)."""
    return _CONTROL.sub(" ", q).strip()


def normalize_tag(tag: str) -> str:
    """A hashtag as the posts projection stores it: lower case, without ``#``."""
    return tag.strip().removeprefix("#").lower()


def highlighted(headline: str) -> str:
    """A snippet safe to put into HTML: the text escaped, each match in ``<mark>…</mark>``."""
    escaped = html.escape(headline, quote=False)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


# --- answers -------------------------------------------------------------------------------


class PostHit(BaseModel):
    type: Literal["post"] = "post"
    id: str = Field(description="The post's id (an IRI)")
    kind: str | None = Field(description="note, question, answer, article, ...")
    title: str | None = Field(description="A question's or article's title")
    author_id: str | None
    group_id: str | None
    in_reply_to: str | None = Field(description="The post an answer or reply belongs to")
    published: datetime | None
    tags: list[str]
    snippet: str = Field(
        description="Up to two fragments around the matches: HTML-escaped text in which each "
        "match is wrapped in <mark>…</mark> (no other markup)"
    )
    score: float = Field(description="relevance * recency factor (docs §17)")


class PersonHit(BaseModel):
    type: Literal["person"] = "person"
    user_id: str
    handle: str | None
    name: str | None
    title: str | None
    department: str | None
    skills: list[str]
    score: float


class GroupHit(BaseModel):
    type: Literal["group"] = "group"
    group_id: str
    name: str | None
    description: str | None
    visibility: str
    member: bool = Field(description="The caller is a member")
    score: float


Hit = Annotated[PostHit | PersonHit | GroupHit, Field(discriminator="type")]


class SearchPage(BaseModel):
    """One page of results, best first."""

    items: list[Hit]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page"
    )


class SearchSettings(BaseModel):
    language: str = Field(
        description="The text search configuration posts are indexed and searched with"
    )
    updated_at: datetime | None = Field(None, description="null while it is the default")
    updated_by: str | None = None


class SearchSettingsChange(BaseModel):
    model_config = {"extra": "forbid"}

    language: str = Field(
        min_length=1,
        max_length=63,
        description="A text search configuration of the database: english, german, french, "
        "simple (no stemming), ...",
    )
