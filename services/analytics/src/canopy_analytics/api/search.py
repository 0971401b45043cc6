"""HTTP routes: search (issue 18, docs/architecture.md §17) — posts, people and groups the
caller may see, ranked and highlighted; and the tenant's search language."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from canopy_analytics import search_reads
from canopy_analytics.adapters.search import PostFilters
from canopy_analytics.api.deps import reading, writing
from canopy_analytics.bootstrap import Collaborators
from canopy_analytics.domain.search import (
    MAX_QUERY_LENGTH,
    POST_KINDS,
    SearchPage,
    SearchSettings,
    SearchSettingsChange,
    SearchType,
    clean_query,
    normalize_tag,
)
from canopy_common.audit_events import OutsideAction, audit_event, publish_audit_events
from canopy_common.auth import CurrentPrincipal
from canopy_common.errors import Forbidden, InvalidInput
from canopy_common.openapi import problems
from canopy_common.paging import PAGE_DEFAULT, CursorParam, Limit, next_link
from canopy_common.principal import Role
from canopy_common.service import collaborators_of

router = APIRouter(tags=["search"])

_ID = Annotated[str | None, Query(min_length=1, max_length=300)]
_POST_FILTERS = ("group_id", "author", "tag", "kind", "since", "until")


@router.get(
    "/v1/search",
    summary="Search posts, people or groups",
    response_model=SearchPage,
    responses=problems(404),
)
async def search(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description='Web search syntax: words (stemmed: "deployment" finds "deploying"), '
            '"a phrase", `or`, -excluded',
            examples=['deploy "release train" -staging'],
        ),
    ],
    type: Annotated[SearchType, Query(description="What to find")] = SearchType.POSTS,
    group_id: Annotated[_ID, Query(description="posts: in this group (404 if not seen)")] = None,
    author: Annotated[_ID, Query(description="posts: by this person (user id)")] = None,
    tag: Annotated[
        str | None, Query(min_length=1, max_length=100, description="posts: with this hashtag")
    ] = None,
    kind: Annotated[
        str | None,
        Query(max_length=40, description="posts: " + ", ".join(sorted(POST_KINDS))),
    ] = None,
    since: Annotated[datetime | None, Query(description="posts: published at or after")] = None,
    until: Annotated[datetime | None, Query(description="posts: published before")] = None,
    limit: Limit = PAGE_DEFAULT,
    cursor: CursorParam = None,
) -> SearchPage:
    """Posts (default): full-text search in the tenant's language over each post's title and
    text — questions, answers, articles, notes, tasks and events — ranked by
    `ts_rank_cd * recency` (a post 30 days old keeps 75 % of its relevance, a very old one
    half; docs §17), each with a `snippet`: HTML-escaped text, every match in
    `<mark>…</mark>`. People: active people by name or handle (trigram: a typo still finds
    them), title, department and skills. Groups: by name and description. Only what the
    caller may see, through the one visibility rule: never a private group's post for a
    non-member, an internal post for a guest, a deactivated or erased person, a deleted post,
    anyone blocked either way. A query of stop words alone finds no posts (200, no items); a
    page may hold fewer than `limit` items, and only the last has no `next_cursor`."""
    text = clean_query(q)
    if not text:
        raise InvalidInput("q: give words to search for", extra={"field": "q"})
    if type is not SearchType.POSTS:
        given = [name for name in _POST_FILTERS if request.query_params.get(name) is not None]
        if given:
            raise InvalidInput(
                f"{given[0]}: filters posts only (type=posts)", extra={"field": given[0]}
            )
    if kind is not None and kind not in POST_KINDS:
        raise InvalidInput(f"kind: one of {', '.join(sorted(POST_KINDS))}", extra={"field": "kind"})
    filters = PostFilters(
        group_id=group_id,
        author=author,
        tag=normalize_tag(tag) if tag is not None else None,
        kind=kind,
        since=since,
        until=until,
    )
    async with reading(request) as conn:
        page = await search_reads.search(
            conn, principal, q=text, type_=type, filters=filters, limit=limit, cursor=cursor
        )
    response.headers.update(next_link(request, page.next_cursor, limit))
    return page


@router.get(
    "/v1/search/settings",
    summary="The tenant's search language",
    response_model=SearchSettings,
)
async def get_settings(request: Request, principal: CurrentPrincipal) -> SearchSettings:
    """The text search configuration the tenant's posts are indexed and searched with
    (`english` unless a tenant admin set another). Any member may read it."""
    async with reading(request) as conn:
        return await search_reads.settings(conn, principal.tenant_id)


@router.put(
    "/v1/search/settings",
    summary="Set the tenant's search language (tenant admins)",
    response_model=SearchSettings,
)
async def put_settings(
    request: Request,
    principal: CurrentPrincipal,
    change: Annotated[
        SearchSettingsChange, Body(openapi_examples={"german": {"value": {"language": "german"}}})
    ],
) -> SearchSettings:
    """Tenant admins set the text search configuration (one of the database's: english,
    german, french, simple, ...; an unknown one is a 422 naming the choices). The tenant's
    posts are re-indexed with it in the same transaction (about a second per 10,000 posts,
    docs §17), and the change is recorded in the tenant's audit log (`search.settings`)."""
    if not principal.has_role(Role.TENANT_ADMIN):
        raise Forbidden("only tenant admins set the search language")
    runtime = collaborators_of(request, Collaborators).runtime
    async with writing(request) as conn:
        before = await search_reads.settings(conn, principal.tenant_id)
        found, reindexed = await search_reads.change_settings(conn, principal, change.language)
        # Recorded before the change commits: no change goes unaudited (a failed commit
        # leaves an entry for a change that did not happen, which says so by `was`).
        entry = audit_event(
            tenant=principal.tenant_id,
            actor=principal.user_id,
            action=OutsideAction.SEARCH_SETTINGS,
            target=request.url.path,
            details={"language": found.language, "was": before.language, "reindexed": reindexed},
        )
        await publish_audit_events(runtime.producer, runtime.settings.kafka.topic_audit, [entry])
    return found
