"""The request and response bodies of the posts API, with their OpenAPI descriptions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.events import Visibility
from canopy_ingestion.api.deps import ID_MAX_LENGTH
from canopy_ingestion.domain.model import PostKind, ReactionKind
from canopy_ingestion.domain.policy import MAX_ADDRESSEES, MAX_CONTENT_CHARS, MAX_NAME_CHARS
from canopy_ingestion.handlers.reactions import MAX_FLAG_REASON_CHARS

POST_ID_EXAMPLE = "urn:uuid:01968a4e-3b5c-7d2e-9f10-2a3b4c5d6e7f"
PostId = Annotated[
    str,
    Path(
        max_length=ID_MAX_LENGTH,
        description="The post's id, as `POST /v1/posts` returned it",
        examples=[POST_ID_EXAMPLE],
    ),
]
Id = Annotated[str, Field(max_length=ID_MAX_LENGTH)]
AUTHORED_KINDS = Literal["note", "question", "answer", "announcement", "article"]
_CONTENT = (
    f"Markdown, at most {MAX_CONTENT_CHARS:,} characters after NFC normalisation. `@handle` "
    "mentions active people of the tenant (unknown handles stay text); `#tag` adds a hashtag."
)


class NewPostBody(BaseModel):
    """A new post. In a thread (`in_reply_to`) it takes the thread's group and audience."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"content": "Shipped the #release notes, thanks @grace!"},
                {"content": "How do we rotate the API keys?", "kind": "question"},
                {"content": "Lunch?", "visibility": "direct", "to": ["grace"]},
            ]
        },
    )

    content: str = Field(description=_CONTENT, json_schema_extra={"maxLength": MAX_CONTENT_CHARS})
    kind: AUTHORED_KINDS = Field(
        "note",
        description="An `answer` must reply to a `question`; an `announcement` comes from "
        "the group's admins and owners, or (without `group_id`) from tenant admins",
    )
    name: str | None = Field(None, description="A title (articles)", max_length=MAX_NAME_CHARS)
    group_id: str | None = Field(
        None, max_length=ID_MAX_LENGTH, description="Post into this group (you must see it)"
    )
    visibility: Visibility | None = Field(
        None,
        description="Who sees it. Default: `group` in a group, `direct` with `to`, else "
        "`internal`. Never wider than its group; guests post `group` or `public` only.",
    )
    to: list[Id] | None = Field(
        None, description="The addressees of a `direct` post (user ids)", max_length=MAX_ADDRESSEES
    )
    in_reply_to: str | None = Field(
        None, max_length=ID_MAX_LENGTH, description="The id of the post this replies to"
    )


class PostEditBody(BaseModel):
    """The fields to change; absent ones stay. A reply keeps its thread's audience."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"content": "Fixed a typo, #release"}]}
    )

    content: str | None = Field(None, description=_CONTENT)
    name: str | None = Field(
        None, max_length=MAX_NAME_CHARS, description="The title; `null` removes it"
    )
    visibility: Visibility | None = None
    to: list[Id] | None = Field(None, max_length=MAX_ADDRESSEES)


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(
        max_length=ID_MAX_LENGTH, description="An answer replying to this question"
    )


class FlagBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Shares a customer's data"}]}
    )

    reason: str = Field(min_length=1, max_length=MAX_FLAG_REASON_CHARS)


class PostDocument(BaseModel):
    """A post as an Activity Streams 2.0 object — the object its activities carry."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "@context": ["https://www.w3.org/ns/activitystreams", {"canopy": "…"}],
                    "type": "Note",
                    "id": POST_ID_EXAMPLE,
                    "kind": "note",
                    "attributedTo": {
                        "type": "Person",
                        "id": "urn:canopy:acme:user:ada",
                        "name": "Ada Lovelace",
                        "preferredUsername": "ada",
                        "kind": "employee",
                    },
                    "content": "Shipped the #release notes, thanks @grace!",
                    "mediaType": "text/markdown",
                    "visibility": "internal",
                    "context": POST_ID_EXAMPLE,
                    "published": "2025-05-01T09:30:00+00:00",
                    "tag": [
                        {
                            "type": "Mention",
                            "href": "urn:canopy:acme:user:grace",
                            "name": "@grace",
                        },
                        {
                            "type": "Hashtag",
                            "href": "urn:canopy:acme:tag:release",
                            "name": "#release",
                        },
                    ],
                    "reactions": {"like": 3, "celebrate": 1},
                    "my_reactions": ["like"],
                    "replies_count": 2,
                    "bookmarked": False,
                }
            ]
        },
    )

    id: str = Field(description="The post id (`urn:uuid:`), used in `/v1/posts/{id}`")
    type: str = Field(description="Note, Question or Article")
    kind: PostKind
    attributed_to: dict[str, Any] = Field(alias="attributedTo", description="The author")
    content: str
    media_type: str = Field("text/markdown", alias="mediaType")
    name: str | None = None
    visibility: Visibility
    context: str = Field(description="The thread: the id of its first post")
    published: str
    updated: str | None = None
    tag: list[dict[str, Any]] | None = Field(None, description="Mentions and hashtags")
    target: dict[str, Any] | None = Field(
        None, description="Its group, with the group's visibility"
    )
    in_reply_to: dict[str, Any] | None = Field(
        None, alias="inReplyTo", description="The post it replies to, with that post's author"
    )
    to: list[str] | None = Field(None, description="The addressees of a direct post")
    accepted_answer: str | None = Field(
        None,
        alias="acceptedAnswer",
        description="A question's accepted answer (its id), while that answer is live",
    )
    # The reader's view (read routes: a post, a thread, questions, bookmarks); never in an
    # activity.
    reactions: dict[ReactionKind, int] | None = Field(
        None, description="Reactions per kind (kinds nobody used are left out)"
    )
    my_reactions: list[ReactionKind] | None = Field(None, description="Your reactions")
    replies_count: int | None = Field(None, ge=0, description="Its live direct replies")
    bookmarked: bool | None = Field(None, description="Whether you bookmarked it")
    accepted: bool | None = Field(
        None, description="An answer: whether its question's author accepted it"
    )


class ThreadContext(BaseModel):
    """A post's place in its thread."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ancestors": [],
                    "descendants": [
                        {
                            "id": POST_ID_EXAMPLE,
                            "type": "Note",
                            "kind": "answer",
                            "accepted": True,
                            "attributedTo": {"id": "urn:canopy:acme:user:grace"},
                            "content": "Run `make rotate-keys`.",
                            "visibility": "internal",
                            "context": "urn:uuid:01968a4e-0000-7d2e-9f10-2a3b4c5d6e7f",
                            "published": "2025-05-01T09:45:00+00:00",
                            "reactions": {"insightful": 2},
                            "my_reactions": [],
                            "replies_count": 0,
                            "bookmarked": False,
                        }
                    ],
                }
            ]
        }
    )

    ancestors: list[PostDocument] = Field(
        description="Root first, up to the post's parent (at most the 40 nearest)"
    )
    descendants: list[PostDocument] = Field(
        description="Thread order: depth first by reply, a post's replies oldest first "
        "(at most 1,000)"
    )


class ReactorOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "grace",
                    "handle": "grace",
                    "display_name": "Grace Hopper",
                    "kind": "celebrate",
                    "reacted_at": "2025-05-01T10:02:00+00:00",
                }
            ]
        }
    )

    user_id: str
    handle: str
    display_name: str
    kind: ReactionKind
    reacted_at: str


class ReactionOut(BaseModel):
    post_id: str
    kind: ReactionKind
    activity_id: str = Field(description="The Like's id (its Undo names it)")
    reacted_at: str


class FlagOut(BaseModel):
    id: str
    post_id: str
    reason: str
    flagged_at: str


class AnnounceDocument(BaseModel):
    """The Announce activity of a share, with the post as its object."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: Literal["Announce"]
    actor: dict[str, Any]
    object: dict[str, Any]
    visibility: Visibility
