"""The read side of the analytics service: each report and discovery list, from the adapters'
rows through the domain's arithmetic and ranking to the response the API serves; and who may
read what (``domain/scopes.py``), with the facts it needs looked up here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from canopy_analytics import semantic_reads
from canopy_analytics.adapters import discovery as discovery_sql
from canopy_analytics.adapters import nearest_rows as semantic_sql
from canopy_analytics.adapters import reports as sql
from canopy_analytics.adapters.active import ActiveSets, Audience
from canopy_analytics.adapters.model_runtime import Semantics
from canopy_analytics.domain import discovery, similarity
from canopy_analytics.domain.discovery_views import Experts, GroupSuggestions, PeopleSuggestions
from canopy_analytics.domain.periods import (
    CONTENT_COUNTER,
    COUNTER_OF,
    COUNTERS,
    MONTH_DAYS,
    WEEK_DAYS,
    Interval,
    Metric,
    Period,
    Window,
    last_days,
    per,
    points_of,
    ratio,
    window_of,
)
from canopy_analytics.domain.reports import (
    Counters,
    GroupReport,
    Participation,
    Point,
    PostReport,
    QAHealth,
    Summary,
    Timeseries,
    Trending,
    TrendingTag,
    median_seconds,
)
from canopy_analytics.domain.scopes import (
    Access,
    group_report_access,
    is_guest,
    post_report_access,
    visible_group_kinds,
)
from canopy_common.auth import Principal
from canopy_common.db import Connection
from canopy_common.errors import Forbidden, NotFound

_COUNTED = (*COUNTERS, CONTENT_COUNTER)
# Candidates read before ranking: enough that the SQL pre-order (the same weights, fewer
# signals) never pushes a top result out, bounded so one request never ranks a whole tenant.
MAX_CANDIDATES = 1_000


# --- scopes --------------------------------------------------------------------------------


def _enforce(access: Access, what: str) -> None:
    if access is Access.HIDDEN:
        raise NotFound(f"no such {what}")
    if access is Access.FORBIDDEN:
        raise Forbidden(
            f"only the tenant's analysts and tenant admins may read this {what}'s analytics"
            + (", and its owners and admins" if what == "group" else ", and its author")
        )


async def caller_is_guest(conn: Connection, principal: Principal) -> bool:
    kind = await sql.profile_kind(conn, principal.tenant_id, principal.user_id)
    return is_guest(principal, kind)


async def ensure_not_guest(conn: Connection, principal: Principal, what: str) -> None:
    """Guests (external partners) may not read ``what``: it counts internal items too."""
    if await caller_is_guest(conn, principal):
        raise Forbidden(f"{what} counts internal posts: employees only, not guests")


async def readable_group(conn: Connection, principal: Principal, group_id: str) -> sql.GroupRow:
    """The group whose report the caller may read; else 404 (unknown to them) or 403."""
    tenant = principal.tenant_id
    found = await sql.group(conn, tenant, group_id)
    if found is None:
        raise NotFound("no such group")
    role = await sql.membership_role(conn, tenant, group_id, principal.user_id)
    guest = await caller_is_guest(conn, principal)
    _enforce(
        group_report_access(principal, visibility=found.visibility, role=role, guest=guest),
        "group",
    )
    return found


async def readable_post(conn: Connection, principal: Principal, post_id: str) -> sql.PostRow:
    """The post whose report the caller may read; else 404 (unknown to them) or 403."""
    tenant = principal.tenant_id
    found = await sql.post(conn, tenant, post_id)
    if found is None:
        raise NotFound("no such post")
    in_group = found.group_id is not None and (
        await sql.membership_role(conn, tenant, found.group_id, principal.user_id) is not None
    )
    group = await sql.group(conn, tenant, found.group_id) if found.group_id else None
    follows_author = found.author_id is not None and await sql.follows(
        conn, tenant, principal.user_id, found.author_id
    )
    access = post_report_access(
        principal,
        author_id=found.author_id,
        visibility=found.visibility,
        in_its_group=in_group,
        follows_author=follows_author,
        guest=await caller_is_guest(conn, principal),
        group_id=found.group_id,
        group_visibility=group.visibility if group is not None else None,
    )
    _enforce(access, "post")
    return found


# --- reports -------------------------------------------------------------------------------


def _qa(row: sql.QARow) -> QAHealth:
    return QAHealth(
        questions=row.questions,
        answered=row.answered,
        answered_share=ratio(row.answered, row.questions),
        median_first_answer_s=median_seconds(row.median_first_answer_s),
        accepted=row.accepted,
        accepted_share=ratio(row.accepted, row.questions),
    )


@dataclass(frozen=True, slots=True)
class People:
    """Distinct people over a period and the standard windows (HyperLogLog estimates)."""

    active: int
    engaged: int
    dau: int
    wau: int
    mau: int


async def people(active: ActiveSets, tenant: str, period: Period, today: date) -> People:
    days = window_of(period, today).days
    dau, wau, mau = [
        await active.count(tenant, Audience.ACTIVE, last_days(n, today).days)
        for n in (1, WEEK_DAYS, MONTH_DAYS)
    ]
    return People(
        active=await active.count(tenant, Audience.ACTIVE, days),
        engaged=await active.count(tenant, Audience.ENGAGED, days),
        dau=dau,
        wau=wau,
        mau=mau,
    )


async def summary(
    conn: Connection, tenant: str, period: Period, today: date, seen: People
) -> Summary:
    """The summary; ``seen`` from :func:`people` (counted apart: it needs no connection)."""
    window = window_of(period, today)
    counters = Counters.of(await sql.daily_counts(conn, tenant, window, list(_COUNTED)))
    creators, contributors, lurkers = await sql.participation(conn, tenant, window)
    return Summary(
        period=period,
        first_day=window.first,
        last_day=window.last,
        active_users=seen.active,
        engaged_users=seen.engaged,
        engagement_rate=ratio(seen.engaged, seen.active),
        dau=seen.dau,
        wau=seen.wau,
        mau=seen.mau,
        posts=counters.total(Metric.POSTS),
        comments=counters.total(Metric.COMMENTS),
        reactions=counters.total(Metric.REACTIONS),
        shares=counters.total(Metric.SHARES),
        new_follows=counters.total(Metric.NEW_FOLLOWS),
        new_members=counters.total(Metric.NEW_MEMBERS),
        content=counters.content,
        participation=Participation(creators=creators, contributors=contributors, lurkers=lurkers),
        qa=_qa(await sql.qa_health(conn, tenant, window)),
    )


async def _people_per_point(
    active: ActiveSets, tenant: str, audience: Audience, points: list[Window], interval: Interval
) -> list[int]:
    """Distinct people per point: per day, or the union over each week's days."""
    if interval is Interval.DAY:
        by_day = await active.per_day(tenant, audience, [p.first for p in points])
        return [by_day[p.first] for p in points]
    return [await active.count(tenant, audience, p.days) for p in points]


def _series(
    metric: Metric,
    period: Period,
    interval: Interval,
    points: list[Window],
    values: list[int | float | None],
) -> Timeseries:
    return Timeseries(
        metric=metric,
        period=period,
        interval=interval,
        points=[Point(day=p.first, value=v) for p, v in zip(points, values, strict=True)],
    )


async def counted_series(
    conn: Connection, tenant: str, metric: Metric, period: Period, interval: Interval, today: date
) -> Timeseries:
    """A counted metric (posts, comments, reactions, shares, new follows, new members)."""
    window = window_of(period, today)
    points = points_of(window, interval)
    counters = Counters.of(await sql.daily_counts(conn, tenant, window, [COUNTER_OF[metric]]))
    return _series(metric, period, interval, points, [counters.total(metric, p) for p in points])


async def people_series(
    active: ActiveSets, tenant: str, metric: Metric, period: Period, interval: Interval, today: date
) -> Timeseries:
    """Active users, engaged users or the engagement rate (HyperLogLog estimates)."""
    points = points_of(window_of(period, today), interval)
    values: list[int | float | None]
    if metric is Metric.ENGAGEMENT_RATE:
        actives = await _people_per_point(active, tenant, Audience.ACTIVE, points, interval)
        engaged = await _people_per_point(active, tenant, Audience.ENGAGED, points, interval)
        values = [ratio(e, a) for e, a in zip(engaged, actives, strict=True)]
    else:
        audience = Audience.ACTIVE if metric is Metric.ACTIVE_USERS else Audience.ENGAGED
        values = list(await _people_per_point(active, tenant, audience, points, interval))
    return _series(metric, period, interval, points, values)


async def group_report(
    conn: Connection, tenant: str, group: sql.GroupRow, period: Period, today: date
) -> GroupReport:
    window = window_of(period, today)
    counters = Counters.of(
        await sql.daily_counts(conn, tenant, window, list(_COUNTED), group_id=group.group_id)
    )
    members, active_members = await sql.group_members(conn, tenant, group.group_id, window)
    posts = counters.total(Metric.POSTS)
    return GroupReport(
        group_id=group.group_id,
        name=group.name,
        visibility=group.visibility,
        period=period,
        first_day=window.first,
        last_day=window.last,
        members=members,
        active_members=active_members,
        active_ratio=ratio(active_members, members),
        posts=posts,
        posts_per_member=per(posts, members),
        comments=counters.total(Metric.COMMENTS),
        reactions=counters.total(Metric.REACTIONS),
        shares=counters.total(Metric.SHARES),
        new_members=counters.total(Metric.NEW_MEMBERS),
        content=counters.content,
        qa=_qa(await sql.qa_health(conn, tenant, window, group_id=group.group_id)),
    )


def post_report(row: sql.PostRow) -> PostReport:
    engagements = row.reactions + row.comments + row.shares
    return PostReport(
        post_id=row.object_id,
        author_id=row.author_id,
        group_id=row.group_id,
        kind=row.kind,
        published=row.published,
        reach=row.viewers,
        reactions=row.reactions,
        comments=row.comments,
        shares=row.shares,
        engagement_rate=per(engagements, row.viewers),
    )


async def trending(
    conn: Connection, tenant: str, *, now: datetime, window_h: int, half_life_h: float, limit: int
) -> Trending:
    rows = await sql.trending_tags(
        conn, tenant, now=now, window_h=window_h, half_life_h=half_life_h, limit=limit
    )
    return Trending(
        window_h=window_h,
        half_life_h=half_life_h,
        as_of=now,
        items=[TrendingTag(tag=t, score=round(s, 4), uses=n) for t, s, n in rows],
    )


# --- discovery -----------------------------------------------------------------------------


async def experts(conn: Connection, principal: Principal, topic: str, limit: int) -> Experts:
    tenant = principal.tenant_id
    me = await discovery_sql.viewer(conn, tenant, principal.user_id)
    candidates = await discovery_sql.experts(
        conn,
        tenant,
        principal.user_id,
        topic,
        guest=is_guest(principal, me.kind),
        limit=MAX_CANDIDATES,
    )
    return Experts.of(topic, discovery.rank_experts(candidates, limit))


async def text_experts(
    conn: Connection,
    principal: Principal,
    semantics: Semantics,
    text: str,
    *,
    limit: int,
    floor: float,
) -> Experts:
    """People by what they wrote that every employee may see, close in meaning to ``text``
    (docs §17; weights in ``domain/discovery.py``); only people discovery may show the caller."""
    tenant = principal.tenant_id
    query = await semantics.query(text)
    me = await discovery_sql.viewer(conn, tenant, principal.user_id)
    vectors = await semantics.index.tenant(conn, tenant)
    items = await semantic_reads.close_items(conn, vectors, query, tenant=tenant, floor=floor)
    ranked = discovery.rank_text_experts(items, len(items) or 1)
    shown = await semantic_sql.people_shown(
        conn,
        tenant,
        principal.user_id,
        [e.user_id for e in ranked],
        guest=is_guest(principal, me.kind),
    )
    return Experts.of_text(text, [e for e in ranked if e.user_id in shown][:limit], shown)


# People suggested for writing alike, read beside the graph's candidates: the closest this many.
WRITES_ALIKE_CANDIDATES = 50


async def people_suggestions(
    conn: Connection,
    principal: Principal,
    limit: int,
    *,
    semantics: Semantics | None = None,
    floor: float = 1.0,
) -> PeopleSuggestions:
    tenant = principal.tenant_id
    me = await discovery_sql.viewer(conn, tenant, principal.user_id)
    alike = await _writing_alike(conn, tenant, principal.user_id, semantics, floor, groups=False)
    closest = sorted(alike, key=lambda user: -alike[user])[:WRITES_ALIKE_CANDIDATES]
    candidates = await discovery_sql.people_you_may_know(
        conn,
        tenant,
        me,
        guest=is_guest(principal, me.kind),
        limit=MAX_CANDIDATES,
        writing_alike=closest,
    )
    scored = [replace(c, writes_alike=alike.get(c.user_id, 0.0)) for c in candidates]
    return PeopleSuggestions.of(discovery.rank_people(me.profile(), scored, limit))


async def group_suggestions(
    conn: Connection,
    principal: Principal,
    limit: int,
    today: date,
    *,
    semantics: Semantics | None = None,
    floor: float = 1.0,
) -> GroupSuggestions:
    tenant = principal.tenant_id
    me = await discovery_sql.viewer(conn, tenant, principal.user_id)
    candidates = await discovery_sql.groups_you_may_like(
        conn,
        tenant,
        me,
        visibilities=visible_group_kinds(is_guest(principal, me.kind)),
        active_since=today - timedelta(days=discovery.GROUP_ACTIVITY_DAYS - 1),
        limit=MAX_CANDIDATES,
    )
    alike = await _writing_alike(conn, tenant, principal.user_id, semantics, floor, groups=True)
    scored = [replace(c, writes_alike=alike.get(c.group_id, 0.0)) for c in candidates]
    return GroupSuggestions.of(discovery.rank_groups(me.profile(), scored, limit))


async def _writing_alike(
    conn: Connection,
    tenant: str,
    caller: str,
    semantics: Semantics | None,
    floor: float,
    *,
    groups: bool,
) -> dict[str, float]:
    """How close what each other person (or each group) writes in the open is to what the
    caller writes in the open, for those at least ``floor`` close (docs §17)."""
    if semantics is None:
        return {}
    vectors = await semantics.index.tenant(conn, tenant)
    authors = vectors.centroids_of_authors()
    mine = authors.get(caller)
    if mine is None:  # they wrote nothing open yet
        return {}
    others = vectors.centroids_of_groups() if groups else authors
    found = {key: round(similarity.similarity(mine, theirs), 4) for key, theirs in others.items()}
    return {key: s for key, s in found.items() if s >= floor and (groups or key != caller)}
