"""HTTP routes: people discovery (issue 6) — experts on a topic, people you may know, groups
you may like. Any member of the tenant may call them; every list holds only what the caller
may see (``adapters/discovery.py`` says exactly who), ranked by a transparent score
(``domain/discovery.py``). Every route answers CSV with ``Accept: text/csv``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from canopy_analytics import reads
from canopy_analytics.api.deps import reading
from canopy_analytics.api.negotiation import CSV_RESPONSES, respond
from canopy_analytics.api.questions import meaningful_text
from canopy_analytics.bootstrap import Collaborators
from canopy_analytics.domain.discovery import MAX_TOPIC_LENGTH, normalize_topic
from canopy_analytics.domain.discovery_views import Experts, GroupSuggestions, PeopleSuggestions
from canopy_analytics.domain.questions_similar import MAX_TEXT_LENGTH
from canopy_common.auth import CurrentPrincipal
from canopy_common.errors import InvalidInput
from canopy_common.service import collaborators_of

router = APIRouter(tags=["people discovery"])

MAX_RESULTS = 50  # a list to look through, not an export of the directory
LimitParam = Annotated[int, Query(ge=1, le=MAX_RESULTS, description="How many, best first")]


@router.get(
    "/v1/people/experts",
    summary="Who knows about a topic or a text: ranked by contributions, skills or meaning",
    response_model=Experts,
    responses=CSV_RESPONSES,
)
async def experts(
    request: Request,
    principal: CurrentPrincipal,
    topic: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_TOPIC_LENGTH,
            description="A hashtag or skill, e.g. kubernetes or #Kubernetes (case-insensitive)",
        ),
    ] = None,
    text: Annotated[
        str | None,
        Query(
            description="Or a text, e.g. a question: people who wrote things close to it in "
            f"meaning (at most {MAX_TEXT_LENGTH} characters)",
            examples=["How do I renew the certificate of the VPN client?"],
        ),
    ] = None,
    limit: LimitParam = 10,
) -> Response:
    """Give `topic` or `text` (one of them; both or neither is a 422).

    `topic`: score = 2·posts + 5·accepted answers + 0.5·reactions received on the topic
    (counting only items every employee may see), + 3 when the person's skills name the topic
    (compared case-insensitively, ignoring spaces, '-', '_' and '.'). Ties: more accepted
    answers, more posts, more reactions, then user id.

    `text`: by meaning (docs §17): the items every employee may see nearest the text (cosine
    similarity of the embedding model's vectors, at least `CANOPY_ANALYTICS_SIMILARITY_FLOOR`),
    and for each person the sum of weight x similarity over their 3 closest — an accepted
    answer weighs 3, an answer 2, a post or comment 1, a question 0.5. `reason` quotes the closest
    ("Answered a similar question: “…”"), `evidence` lists their ids; `breakdown` counts them.

    Only active people of the tenant, never someone blocked either way; a guest sees only
    people sharing a group with them. CSV columns: user_id, name, title, department, score,
    breakdown.posts, breakdown.accepted_answers, breakdown.reactions_received,
    breakdown.skill_match, breakdown.answers, reason, evidence."""
    if (topic is None) == (text is None):
        raise InvalidInput(
            "give either topic (a hashtag or skill) or text (words close in meaning), not both "
            "and not neither",
            extra={"field": "topic" if topic is not None else "text"},
        )
    if text is not None:
        wanted_text = meaningful_text(text)
        service = collaborators_of(request, Collaborators)
        async with reading(request) as conn:
            body = await reads.text_experts(
                conn,
                principal,
                service.semantics,
                wanted_text,
                limit=limit,
                floor=service.settings.similarity_floor,
            )
        return await respond(request, principal, body, filename="people-experts")
    assert topic is not None
    wanted = normalize_topic(topic)
    if not wanted:
        raise InvalidInput("topic: give a hashtag or skill", extra={"field": "topic"})
    async with reading(request) as conn:
        body = await reads.experts(conn, principal, wanted, limit)
    return await respond(request, principal, body, filename="people-experts")


@router.get(
    "/v1/people/suggestions",
    summary="People you may know",
    response_model=PeopleSuggestions,
    responses=CSV_RESPONSES,
)
async def people_suggestions(
    request: Request, principal: CurrentPrincipal, limit: LimitParam = 10
) -> Response:
    """score = 4 if they follow you + 3·mutual follows (people you follow who follow them) +
    2·shared groups + 1·shared skill + 1·shared interest + 4·writes alike (the similarity of
    what they and you write where everyone may read it, docs §17; counted from the service's
    floor on, and bringing in people who write about what you write about); `reasons` says
    which. Ties: more
    mutual follows, more shared groups, then user id. Never yourself, anyone you follow,
    anyone blocked either way, or an inactive (erased) person; a guest is suggested only
    people sharing a group with them. CSV columns: user_id, name, title, department, score,
    reasons, signals.follows_you, signals.mutual_follows, signals.shared_groups,
    signals.shared_skills, signals.shared_interests (lists joined with '; '),
    signals.writes_alike."""
    service = collaborators_of(request, Collaborators)
    async with reading(request) as conn:
        body = await reads.people_suggestions(
            conn,
            principal,
            limit,
            semantics=service.semantics,
            floor=service.settings.similarity_floor,
        )
    return await respond(request, principal, body, filename="people-suggestions")


@router.get(
    "/v1/groups/suggestions",
    summary="Groups you may like",
    response_model=GroupSuggestions,
    responses=CSV_RESPONSES,
)
async def group_suggestions(
    request: Request, principal: CurrentPrincipal, limit: LimitParam = 10
) -> Response:
    """score = 3·people you follow who are members + 2·your skills and interests it is about
    (its hashtags, or named in its name) + 0.2·active members in the last 28 days (at most
    10 count) + 4·writes alike (the similarity of its open posts to what you write, docs §17,
    from the service's floor on); `reasons` says which. Ties: more followed members, more
    members, then group id.
    Only groups you are not in: public and internal ones (guests: public only); never a
    private or deleted group. CSV columns: group_id, name, visibility, members, score,
    reasons, signals.followed_members, signals.topics, signals.active_members,
    signals.writes_alike."""
    today = datetime.now(UTC).date()
    service = collaborators_of(request, Collaborators)
    async with reading(request) as conn:
        body = await reads.group_suggestions(
            conn,
            principal,
            limit,
            today,
            semantics=service.semantics,
            floor=service.settings.similarity_floor,
        )
    return await respond(request, principal, body, filename="group-suggestions")
