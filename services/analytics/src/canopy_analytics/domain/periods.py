"""Reporting periods, intervals and metrics: which UTC days a question covers.

A period ends today (UTC) and includes it: ``7d`` is the 7 UTC days ending today. A timeseries
cuts its period into points of one day, or of seven days ending today (the first week point
may be shorter, so every point but the first covers a whole week).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum


class Period(StrEnum):
    """How many UTC days, ending today, a report covers."""

    DAY = "1d"
    WEEK = "7d"
    FOUR_WEEKS = "28d"
    MONTH = "30d"
    QUARTER = "90d"

    @property
    def days(self) -> int:
        return int(self.value.removesuffix("d"))


class Interval(StrEnum):
    """The width of a timeseries point."""

    DAY = "day"
    WEEK = "week"


class Metric(StrEnum):
    """What a timeseries may chart."""

    ACTIVE_USERS = "active_users"
    ENGAGED_USERS = "engaged_users"
    ENGAGEMENT_RATE = "engagement_rate"
    POSTS = "posts"
    COMMENTS = "comments"
    REACTIONS = "reactions"
    SHARES = "shares"
    NEW_FOLLOWS = "new_follows"
    NEW_MEMBERS = "new_members"


# The exact counters of ``daily_counts`` behind each counted metric (the rest are HyperLogLogs).
COUNTER_OF: dict[Metric, str] = {
    Metric.POSTS: "posts",
    Metric.COMMENTS: "comments",
    Metric.REACTIONS: "reactions",
    Metric.SHARES: "shares",
    Metric.NEW_FOLLOWS: "follows",
    Metric.NEW_MEMBERS: "members",
}
COUNTERS: tuple[str, ...] = tuple(COUNTER_OF.values())
# The counter of new posts and comments by kind.
CONTENT_COUNTER = "content"
WEEK_DAYS = 7  # DAU/WAU/MAU: the 1, 7 and 30 days ending today
MONTH_DAYS = 30


@dataclass(frozen=True, slots=True)
class Window:
    """Consecutive UTC days, ``first`` to ``last`` inclusive."""

    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def starts_at(self) -> datetime:
        """The first instant of the window (UTC midnight of its first day)."""
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def ends_before(self) -> datetime:
        """The first instant after the window (UTC midnight after its last day)."""
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)


def today_utc() -> date:
    return datetime.now(UTC).date()


def last_days(n: int, today: date) -> Window:
    """The ``n`` UTC days ending ``today`` inclusive."""
    if n < 1:
        raise ValueError("a window holds at least one day")
    return Window(today - timedelta(days=n - 1), today)


def window_of(period: Period, today: date) -> Window:
    """The days ``period`` covers when asked on ``today``."""
    return last_days(period.days, today)


def points_of(window: Window, interval: Interval) -> list[Window]:
    """The window cut into timeseries points, oldest first: one per day, or seven-day weeks
    ending on the window's last day (the first week is what is left, possibly shorter)."""
    if interval is Interval.DAY:
        return [Window(d, d) for d in window.days]
    points: list[Window] = []
    last = window.last
    while last >= window.first:
        first = max(window.first, last - timedelta(days=WEEK_DAYS - 1))
        points.append(Window(first, last))
        last = first - timedelta(days=1)
    return points[::-1]


def ratio(part: float, whole: float) -> float | None:
    """``part ÷ whole`` rounded to 4 places; None when ``whole`` is 0 (undefined, not 0 %).
    Capped at 1: two approximate counts may disagree by their error."""
    if whole <= 0:
        return None
    return round(min(part / whole, 1.0), 4)


def per(part: float, whole: float) -> float | None:
    """``part`` per one of ``whole`` (posts per member), rounded to 4 places; None when
    ``whole`` is 0. Not capped."""
    if whole <= 0:
        return None
    return round(part / whole, 4)


def sum_days(by_day: dict[date, int], days: Sequence[date]) -> int:
    return sum(by_day.get(d, 0) for d in days)
