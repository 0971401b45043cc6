"""The read side of search (docs/architecture.md §17): one page of posts, people or groups the
caller may see, from the adapters' rows through the one visibility rule to the answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from canopy_analytics.adapters import discovery as discovery_sql
from canopy_analytics.adapters import search as sql
from canopy_analytics.adapters import search_settings
from canopy_analytics.domain.scopes import is_guest, visible_group_kinds
from canopy_analytics.domain.search import (
    GroupHit,
    Hit,
    PersonHit,
    PostHit,
    SearchPage,
    SearchSettings,
    SearchType,
    highlighted,
)
from canopy_common.auth import Principal
from canopy_common.cursors import BadCursor, decode_cursor, encode_cursor
from canopy_common.db import Connection
from canopy_common.errors import InvalidInput, NotFound
from canopy_common.visibility import Content, Person, Reader, Ties, may_see, sees_group, sees_person

_KEYS = {SearchType.POSTS: "object_id", SearchType.PEOPLE: "user_id", SearchType.GROUPS: "group_id"}


async def search(
    conn: Connection,
    principal: Principal,
    *,
    q: str,
    type_: SearchType,
    filters: sql.PostFilters,
    limit: int,
    cursor: str | None,
) -> SearchPage:
    """One page of what ``q`` finds that the caller may see, best first."""
    tenant, me = principal.tenant_id, principal.user_id
    as_of, after = _position(cursor)
    language, searchable = await sql.prepare(conn, tenant, q)
    if not searchable and type_ is SearchType.POSTS:
        # Stop words only, or no word at all: no post to find. (People and groups are still
        # matched by trigrams: someone may be called Will.)
        return SearchPage(items=[])
    viewer = await discovery_sql.viewer(conn, tenant, me)
    reader = Reader(id=me, guest=is_guest(principal, viewer.kind))
    if filters.group_id is not None:
        standing = await sql.group_standing(conn, tenant, filters.group_id, me)
        if standing is None or not sees_group(reader, standing[0], member=standing[1]):
            raise NotFound("no such group")
    query = sql.Query(
        tenant=tenant,
        reader=me,
        guest=reader.guest,
        text=q,
        language=language,
        blocked=await sql.blocked(conn, tenant, me),
        seen_groups=visible_group_kinds(reader.guest),
        limit=limit,
        after=after,
    )
    items: list[Hit]
    match type_:
        case SearchType.POSTS:
            rows = await sql.posts(conn, query, filters, as_of)
            items = [_post(r) for r in rows[:limit] if _sees_post(reader, query.blocked, r)]
        case SearchType.PEOPLE:
            rows = await sql.people(conn, query)
            items = [_person(r) for r in rows[:limit] if _sees_person(reader, r)]
        case SearchType.GROUPS:
            rows = await sql.groups(conn, query)
            items = [_group(r) for r in rows[:limit] if _sees_group(reader, r)]
    # The rule may drop rows the SQL kept: a page can hold fewer than `limit`; only the last
    # page has no cursor. The cursor is the last row read, kept or not.
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    next_cursor = (
        encode_cursor(as_of, float(last["score"]), str(last[_KEYS[type_]])) if last else None
    )
    return SearchPage(items=items, next_cursor=next_cursor)


def _position(cursor: str | None) -> tuple[datetime, tuple[float, str] | None]:
    """The reference time of the ranking and the last (score, id) of the previous page."""
    if cursor is None:
        return datetime.now(UTC), None
    as_of, score, last = decode_cursor(cursor, (datetime, float, str))
    if "\x00" in last:  # Postgres text holds no NUL: no id has one
        raise BadCursor()
    return as_of, (float(score), last)


def _sees_post(reader: Reader, blocked: Sequence[str], row: Mapping[str, Any]) -> bool:
    post = Content(
        author_id=row["author_id"],
        visibility=row["visibility"],
        group_id=row["group_id"],
        group_visibility=row["group_visibility"],
        addressees=row["addressees"],
        mentions=row["mentions"],
    )
    author = row["author_id"]
    ties = Ties(
        follows=frozenset({author}) if row["follows_author"] and author else frozenset(),
        member=row["member"],
        blocked=author in blocked,
    )
    return may_see(reader, post, ties)


def _sees_person(reader: Reader, row: Mapping[str, Any]) -> bool:
    person = Person(row["user_id"], active=row["active"])
    return sees_person(reader, person, shares_group=bool(row["shares_group"]))


def _sees_group(reader: Reader, row: Mapping[str, Any]) -> bool:
    return sees_group(reader, row["visibility"], member=row["member"])


def _post(row: Mapping[str, Any]) -> PostHit:
    return PostHit(
        id=row["object_id"],
        kind=row["kind"],
        title=row["title"],
        author_id=row["author_id"],
        group_id=row["group_id"],
        in_reply_to=row["parent_id"],
        published=row["published"],
        tags=list(row["tags"]),
        snippet=highlighted(row["headline"]),
        score=round(row["score"], 6),
    )


def _person(row: Mapping[str, Any]) -> PersonHit:
    return PersonHit(
        user_id=row["user_id"],
        handle=row["handle"],
        name=row["name"],
        title=row["title"],
        department=row["department"],
        skills=list(row["skills"]),
        score=round(row["score"], 6),
    )


def _group(row: Mapping[str, Any]) -> GroupHit:
    return GroupHit(
        group_id=row["group_id"],
        name=row["name"],
        description=row["description"],
        visibility=row["visibility"],
        member=row["member"],
        score=round(row["score"], 6),
    )


# --- settings ------------------------------------------------------------------------------


async def settings(conn: Connection, tenant: str) -> SearchSettings:
    found = await search_settings.language(conn, tenant)
    return SearchSettings(
        language=found.language, updated_at=found.updated_at, updated_by=found.updated_by
    )


async def change_settings(
    conn: Connection, principal: Principal, language: str
) -> tuple[SearchSettings, int]:
    """Set the tenant's configuration (422 naming an unknown one) and re-index its posts."""
    known = await search_settings.configurations(conn)
    if language not in known:
        raise InvalidInput(
            f"language: {language!r} is no text search configuration here; one of: "
            + ", ".join(known),
            extra={"field": "language"},
        )
    found, reindexed = await search_settings.set_language(
        conn, principal.tenant_id, language, principal.user_id
    )
    return (
        SearchSettings(
            language=found.language, updated_at=found.updated_at, updated_by=found.updated_by
        ),
        reindexed,
    )
