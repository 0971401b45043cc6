"""``/analytics``: the tenant's engagement for analysts and tenant admins — people, content,
participation, Q&A health, trending tags and one group's figures — over a chosen period, each
chart drawn on the server with its table beside it, and every table as a CSV download
(analytics' ``/v1/analytics/*``; the service decides who may read them)."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from canopy_web.api import Api, Service
from canopy_web.charts import Datum, bar_chart, line_chart
from canopy_web.deps import CurrentApi, CurrentSession, csrf_protected
from canopy_web.rendering import render
from canopy_web.strings import t

router = APIRouter(dependencies=[Depends(csrf_protected)])

PERIODS = ("1d", "7d", "28d", "30d", "90d")  # analytics' Period values
DEFAULT_PERIOD = "7d"
# The series charted, each one call: people over time, then what they did.
SERIES = ("active_users", "engaged_users", "engagement_rate", "posts", "comments", "reactions")
TRENDING_SHOWN = 10
GROUPS_OFFERED = 100  # the group picker's first page (the directory's largest)
MAX_TRENDING_WINDOW_H = 30 * 24  # analytics looks back at most a month for trending


class Report(StrEnum):
    """The tables a CSV download may be of."""

    SUMMARY = "summary"
    TIMESERIES = "timeseries"
    TRENDING = "trending"
    GROUP = "group"


PeriodQuery = Annotated[str, Query(pattern="^(1d|7d|28d|30d|90d)$")]
GroupQuery = Annotated[str | None, Query(max_length=512)]
MetricQuery = Annotated[str | None, Query(pattern="^[a-z_]{1,40}$")]


def interval_of(period: str) -> str:
    """Daily points up to a month; weekly beyond, so a quarter stays readable."""
    return "week" if period == "90d" else "day"


def trending_window_h(period: str) -> int:
    """Trending looks back over the period, as far as analytics allows."""
    return min(int(period.removesuffix("d")) * 24, MAX_TRENDING_WINDOW_H)


def _value(metric: str, value: Any) -> float | None:
    if value is None:
        return None
    return float(value) * 100 if metric == "engagement_rate" else float(value)


def series_chart(metric: str, body: dict[str, Any]) -> dict[str, Any]:
    """A timeseries as what the page shows: its chart and its rows."""
    data = [Datum(str(p["day"]), _value(metric, p["value"])) for p in body.get("points", [])]
    title = t(f"analytics.metric.{metric}")
    desc = t("analytics.series_desc", interval=t(f"analytics.interval.{body.get('interval')}"))
    return {
        "metric": metric,
        "title": title,
        "chart": line_chart(data, chart_id=f"chart-{metric}", title=title, desc=desc),
        "rows": data,
        "percent": metric == "engagement_rate",
    }


async def _groups(api: Api) -> list[dict[str, Any]]:
    page = await api.page(Service.INGESTION, "/v1/groups", limit=GROUPS_OFFERED)
    return page.items


@router.get("/analytics", include_in_schema=False)
async def analytics(
    request: Request,
    session: CurrentSession,
    api: CurrentApi,
    period: PeriodQuery = DEFAULT_PERIOD,
    group: GroupQuery = None,
) -> Response:
    interval = interval_of(period)
    # The summary first: a person analytics refuses gets its 403 page before anything else.
    summary = await api.get(Service.ANALYTICS, "/v1/analytics/summary", period=period)
    series, trending, groups = await asyncio.gather(
        asyncio.gather(
            *(
                api.get(
                    Service.ANALYTICS,
                    "/v1/analytics/timeseries",
                    metric=m,
                    period=period,
                    interval=interval,
                )
                for m in SERIES
            )
        ),
        api.get(
            Service.ANALYTICS,
            "/v1/analytics/trending",
            window_h=trending_window_h(period),
            limit=TRENDING_SHOWN,
        ),
        _groups(api),
    )
    group_report = None
    if group:
        path = f"/v1/analytics/groups/{quote(group, safe=':')}"
        group_report = await api.get(Service.ANALYTICS, path, period=period)
    tags = [Datum("#" + str(i["tag"]), float(i["uses"])) for i in trending.get("items", [])]
    participation = summary["participation"]
    people = [
        Datum(t(f"analytics.participation.{k}"), float(participation[k]))
        for k in ("creators", "contributors", "lurkers")
    ]
    return await render(
        request,
        "analytics/index.html",
        session=session,
        api=api,
        period=period,
        periods=PERIODS,
        summary=summary,
        charts=[series_chart(m, body) for m, body in zip(SERIES, series, strict=True)],
        trending=trending,
        trending_chart=bar_chart(
            tags,
            chart_id="chart-trending",
            title=t("analytics.trending"),
            desc=t("analytics.trending_desc", hours=trending.get("window_h")),
        ),
        participation_rows=people,
        participation_chart=bar_chart(
            people,
            chart_id="chart-participation",
            title=t("analytics.participation"),
            desc=t("analytics.participation_desc"),
        ),
        groups=groups,
        group=group,
        group_report=group_report,
    )


@router.get("/analytics/export.csv", include_in_schema=False)
async def export_csv(
    api: CurrentApi,
    report: Report,
    period: PeriodQuery = DEFAULT_PERIOD,
    metric: MetricQuery = None,
    group: GroupQuery = None,
) -> Response:
    """One of analytics' tables as the CSV file it answers (it records the export)."""
    path, params = _report_query(report, period, metric, group)
    upstream = await api.request("GET", Service.ANALYTICS, path, params=params, accept="text/csv")
    filename = upstream.headers.get("Content-Disposition") or (
        f'attachment; filename="analytics-{report}.csv"'
    )
    return Response(
        upstream.content,
        media_type=upstream.headers.get("Content-Type", "text/csv; charset=utf-8"),
        headers={"Content-Disposition": filename},
    )


def _report_query(
    report: Report, period: str, metric: str | None, group: str | None
) -> tuple[str, dict[str, Any]]:
    if report is Report.SUMMARY:
        return "/v1/analytics/summary", {"period": period}
    if report is Report.TIMESERIES:
        return "/v1/analytics/timeseries", {
            "metric": metric or SERIES[0],
            "period": period,
            "interval": interval_of(period),
        }
    if report is Report.TRENDING:
        return "/v1/analytics/trending", {"window_h": trending_window_h(period)}
    return f"/v1/analytics/groups/{quote(group or '-', safe=':')}", {"period": period}
