"""Pure rules of the feed pages (docs/architecture.md §18): which post a page URL names, where
a form may send the browser back to, the body a compose form becomes, and the tags offered
while typing ``#``. No I/O: unit-tested in services/web/tests/test_posting.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

# What ingestion's POST /v1/posts accepts (post_schemas.NewPostBody).
VISIBILITIES = ("internal", "public", "followers", "group", "direct")
COMPOSE_KINDS = ("note", "question", "announcement", "article")
REACTION_KINDS = ("like", "celebrate", "insightful", "support")
COMPLETIONS = 8  # a short list a person scans at a glance
_URN = "urn:uuid:"


def post_urn(uuid: str) -> str | None:
    """The API id (``urn:uuid:<uuid>``) of the post a page URL names; None for anything that
    is not a UUID (the page is a 404 without asking the API)."""
    try:
        parsed = UUID(uuid)
    except ValueError:
        return None
    return _URN + str(parsed)


def new_post_body(form: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON for POST /v1/posts from a compose or reply form; empty fields are left out so
    the service applies its defaults (visibility from the group, kind ``note``)."""
    body: dict[str, Any] = {"content": str(form.get("content") or "")}
    for field in ("kind", "name", "group_id", "visibility", "in_reply_to"):
        value = str(form.get(field) or "").strip()
        if value:
            body[field] = value
    to = [h.strip().lstrip("@") for h in str(form.get("to") or "").split(",") if h.strip()]
    if to:
        body["to"] = to
    return body


def matching_tags(prefix: str, *sources: Iterable[str], limit: int = COMPLETIONS) -> list[str]:
    """Tags starting with ``prefix`` (any case, without ``#``), from the sources in order of
    preference, each once."""
    wanted = prefix.lstrip("#").casefold()
    seen: dict[str, None] = {}
    for source in sources:
        for tag in source:
            key = tag.lstrip("#").casefold()
            if key and key.startswith(wanted) and key not in seen:
                seen[key] = None
                if len(seen) == limit:
                    return list(seen)
    return list(seen)


def reply_depths(post_id: str, descendants: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How deep each reply sits below ``post_id`` (its direct replies: 0), from ``inReplyTo``;
    a reply whose parent is hidden from the reader keeps its parent's place (depth 0 when
    unknown)."""
    depths: dict[str, int] = {}
    for reply in descendants:  # thread order: a parent comes before its replies
        parent = str((reply.get("inReplyTo") or {}).get("id"))
        depths[str(reply["id"])] = 0 if parent == post_id else depths.get(parent, -1) + 1
    return depths
