"""What ``GET /v1/questions/similar`` answers (docs/architecture.md §17): the questions nearest
a text in meaning, each marked answered or accepted, so a client asks "already answered?"
while someone types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

# A question's title and body: longer input is pasted text, not a question being typed.
MAX_TEXT_LENGTH = 2_000
DEFAULT_LIMIT = 5  # what fits under a text box
MAX_LIMIT = 20
SNIPPET_CHARS = 240


class Author(BaseModel):
    id: str | None
    name: str | None = None
    handle: str | None = None


class GroupRef(BaseModel):
    id: str
    name: str | None = None


class SimilarQuestion(BaseModel):
    id: str = Field(description="The question's object id")
    title: str | None = Field(description="Its title (a question's name), if it has one")
    snippet: str = Field(description="The start of its text after the title, plain text")
    score: float = Field(description="Cosine similarity to the text, -1..1; higher is closer")
    answered: bool = Field(description="It has a live answer")
    accepted: bool = Field(description="Its asker accepted an answer that is still live")
    author: Author
    group: GroupRef | None
    published: datetime | None
    tags: list[str]

    @classmethod
    def of(cls, row: Mapping[str, Any], score: float) -> SimilarQuestion:
        group_id = row["group_id"]
        return cls(
            id=row["object_id"],
            title=row["title"],
            snippet=snippet(row["title"], row["text"]),
            score=round(score, 4),
            answered=row["answered"],
            accepted=row["accepted"],
            author=Author(
                id=row["author_id"], name=row["author_name"], handle=row["author_handle"]
            ),
            group=GroupRef(id=group_id, name=row["group_name"]) if group_id else None,
            published=row["published"],
            tags=list(row["tags"]),
        )


class SimilarQuestions(BaseModel):
    items: list[SimilarQuestion]
    model: str = Field(description="The embedding model that compared them")


def snippet(title: str | None, text: str) -> str:
    """The text after its title (the projection's text starts with it), on one line, cut at a
    word near :data:`SNIPPET_CHARS`."""
    body = text[len(title) :] if title and text.startswith(title) else text
    flat = " ".join(body.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut + "…"
