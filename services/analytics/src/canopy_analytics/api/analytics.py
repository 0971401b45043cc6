"""HTTP routes: engagement analytics (docs/architecture.md §7; issue 6).

Tenant-wide reports (summary, timeseries) are for the tenant's analysts and tenant admins; a
group's report also for that group's owners and admins; a post's also for its author. Trending
hashtags are a public signal inside the company: every employee may read them (not guests, as
they count internal posts too; never posts in private groups or addressed to a few).
What the caller cannot see answers 404, like another tenant's; what they see but may not
analyse, 403. Periods are the N UTC days ending today, today included. Counts of distinct
people (active, engaged, DAU/WAU/MAU, engagement rate) are HyperLogLog estimates, about 0.81 %
standard error; everything else is exact. Every route answers CSV with ``Accept: text/csv``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from canopy_analytics import reads
from canopy_analytics.adapters.active import ActiveSets
from canopy_analytics.api.deps import active_sets, reading
from canopy_analytics.api.negotiation import CSV_RESPONSES, respond
from canopy_analytics.domain.periods import COUNTER_OF, Interval, Metric, Period
from canopy_analytics.domain.reports import (
    GroupReport,
    PostReport,
    Summary,
    Timeseries,
    Trending,
)
from canopy_analytics.domain.scopes import TENANT_ANALYTICS_ROLES
from canopy_common.auth import CurrentPrincipal, Principal, require_roles
from canopy_common.openapi import problems

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

TenantAnalyst = Annotated[Principal, Depends(require_roles(*TENANT_ANALYTICS_ROLES))]
Active = Annotated[ActiveSets, Depends(active_sets)]

MAX_WINDOW_H = 30 * 24  # trending looks back at most a month: older buzz is not trending
# Under a minute, every bucket but the current one decays to nothing: no ranking to speak of.
MIN_HALF_LIFE_H = 0.01
DEFAULT_HALF_LIFE_H = 6.0  # a use six hours old counts half: a working day's buzz fades by night
MAX_TRENDING = 100

PeriodParam = Annotated[
    Period, Query(description="The UTC days ending today, today included: 1d, 7d, 28d, 30d, 90d")
]
_ID = Annotated[str, Path(min_length=1, max_length=512)]


@router.get(
    "/summary",
    summary="The tenant over a period: people, content, participation, Q&A",
    response_model=Summary,
    responses=CSV_RESPONSES,
)
async def summary(
    request: Request, principal: TenantAnalyst, active: Active, period: PeriodParam = Period.WEEK
) -> Response:
    """Analysts and tenant admins. `active_users`, `engaged_users`, `engagement_rate`, `dau`,
    `wau` and `mau` are HyperLogLog estimates (about 0.81 % standard error); the rest is exact.
    CSV: one row, nested fields as dotted columns (`content.question`, `qa.answered_share`)."""
    today = datetime.now(UTC).date()
    seen = await reads.people(active, principal.tenant_id, period, today)
    async with reading(request) as conn:
        body = await reads.summary(conn, principal.tenant_id, period, today, seen)
    return await respond(request, principal, body, filename=f"analytics-summary-{period}")


@router.get(
    "/timeseries",
    summary="One metric per day or week over a period",
    response_model=Timeseries,
    responses=CSV_RESPONSES,
)
async def timeseries(
    request: Request,
    principal: TenantAnalyst,
    active: Active,
    metric: Annotated[
        Metric,
        Query(
            description="What to chart; active_users, engaged_users and engagement_rate are "
            "HyperLogLog estimates (about 0.81 % standard error)"
        ),
    ],
    period: PeriodParam = Period.WEEK,
    interval: Annotated[
        Interval,
        Query(description="day, or week: seven-day points ending today (the first may be shorter)"),
    ] = Interval.DAY,
) -> Response:
    """Analysts and tenant admins. Every point is present, zeros included; a point's `day` is
    the first day it covers. `engagement_rate` is null where nobody was active.
    `active_users`, `engaged_users` and `engagement_rate` are HyperLogLog estimates (about
    0.81 % standard error); the other metrics are exact. CSV: `day,value`, one row a point."""
    today = datetime.now(UTC).date()
    tenant = principal.tenant_id
    if metric in COUNTER_OF:
        async with reading(request) as conn:
            body = await reads.counted_series(conn, tenant, metric, period, interval, today)
    else:
        body = await reads.people_series(active, tenant, metric, period, interval, today)
    return await respond(
        request, principal, body, filename=f"analytics-{metric}-{period}-{interval}"
    )


@router.get(
    "/groups/{group_id}",
    summary="One group over a period: members, activity, content, Q&A",
    response_model=GroupReport,
    responses={**CSV_RESPONSES, **problems(404)},
)
async def group_report(
    request: Request, principal: CurrentPrincipal, group_id: _ID, period: PeriodParam = Period.WEEK
) -> Response:
    """Analysts, tenant admins, and the group's owners and admins (403 for its other members;
    404 for a group unknown in the tenant, deleted, or one the caller may not see). Exact."""
    today = datetime.now(UTC).date()
    async with reading(request) as conn:
        group = await reads.readable_group(conn, principal, group_id)
        body = await reads.group_report(conn, principal.tenant_id, group, period, today)
    return await respond(request, principal, body, filename=f"analytics-group-{period}")


@router.get(
    "/posts/{post_id}",
    summary="One post's reach and engagement",
    response_model=PostReport,
    responses={**CSV_RESPONSES, **problems(404)},
)
async def post_report(request: Request, principal: CurrentPrincipal, post_id: _ID) -> Response:
    """Its author, analysts and tenant admins (403 for others who can see the post; 404 for a
    post unknown in the tenant, deleted, or one the caller may not see). Reach is exact."""
    async with reading(request) as conn:
        found = await reads.readable_post(conn, principal, post_id)
    return await respond(request, principal, reads.post_report(found), filename="analytics-post")


@router.get(
    "/trending",
    summary="Trending hashtags: top-K by decayed uses over a sliding window",
    response_model=Trending,
    responses=CSV_RESPONSES,
)
async def trending(
    request: Request,
    principal: CurrentPrincipal,
    window_h: Annotated[
        int, Query(ge=1, le=MAX_WINDOW_H, description="Hours looked back, this one included")
    ] = 24,
    half_life_h: Annotated[
        float,
        Query(
            ge=MIN_HALF_LIFE_H,
            le=MAX_WINDOW_H,
            allow_inf_nan=False,
            description="Hours after which a use counts half",
        ),
    ] = DEFAULT_HALF_LIFE_H,
    limit: Annotated[int, Query(ge=1, le=MAX_TRENDING)] = 10,
) -> Response:
    """Every employee; guests get 403. Counts hashtags of public and internal posts outside
    private groups only. score = Σ uses · 0.5^(age_h ÷ half_life_h) over the hour buckets of
    the window (age from the bucket's start); ties: more uses, then the tag. Exact. CSV
    columns: tag, score, uses."""
    async with reading(request) as conn:
        await reads.ensure_not_guest(conn, principal, "trending")
        body = await reads.trending(
            conn,
            principal.tenant_id,
            now=datetime.now(UTC),
            window_h=window_h,
            half_life_h=half_life_h,
            limit=limit,
        )
    return await respond(request, principal, body, filename=f"analytics-trending-{window_h}h")
