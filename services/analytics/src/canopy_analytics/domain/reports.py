"""What the analytics endpoints answer (the response models, each also a CSV table) and the
pure arithmetic that turns stored counters into them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from canopy_analytics.domain.periods import (
    CONTENT_COUNTER,
    COUNTER_OF,
    Interval,
    Metric,
    Period,
    Window,
)
from canopy_analytics.domain.tables import Table

APPROXIMATE = (
    "Approximate: distinct people are counted with HyperLogLog per tenant per day "
    "(standard error about 0.81 %)."
)
_RATE = "engaged ÷ active; null when nobody was active. "


# --- counters ------------------------------------------------------------------------------


@dataclass
class Counters:
    """Rows of ``daily_counts`` for a window: each counter per day, and content by kind."""

    per_day: dict[str, dict[date, int]] = field(default_factory=lambda: defaultdict(dict))
    content: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Iterable[tuple[date, str, str, int]]) -> Counters:
        """From ``(day, metric, kind, n)`` rows (a metric's kinds are added up)."""
        counters = cls()
        for day, metric, kind, n in rows:
            if metric == CONTENT_COUNTER:
                if kind:
                    counters.content[kind] = counters.content.get(kind, 0) + int(n)
                continue
            days = counters.per_day[metric]
            days[day] = days.get(day, 0) + int(n)
        counters.content = dict(sorted(counters.content.items()))
        return counters

    def total(self, metric: Metric, window: Window | None = None) -> int:
        """A counted metric over ``window`` (all rows read when None). Net counts (follows
        less unfollows) may be negative on a day."""
        days = self.per_day.get(COUNTER_OF[metric], {})
        if window is None:
            return sum(days.values())
        return sum(n for d, n in days.items() if window.first <= d <= window.last)


# --- shapes --------------------------------------------------------------------------------


class QAHealth(BaseModel):
    """Questions asked in the period (deleted ones left out) and how they fared so far."""

    questions: int = Field(description="Questions asked in the period")
    answered: int = Field(description="Of those, how many have at least one answer")
    answered_share: float | None = Field(description="answered ÷ questions; null if none")
    median_first_answer_s: float | None = Field(
        description="Median seconds from asking to the first answer, over answered ones"
    )
    accepted: int = Field(description="Of those, how many have an accepted answer")
    accepted_share: float | None = Field(description="accepted ÷ questions; null if none")


class Participation(BaseModel):
    """Exact split of the people active in the period (from ``daily_actors``)."""

    creators: int = Field(description="Posted at least once")
    contributors: int = Field(description="Commented, answered or reacted, but never posted")
    lurkers: int = Field(description="Active (viewed or did anything else), neither of those")


class Summary(Table):
    """The tenant over a period (the N UTC days ending today)."""

    period: Period
    first_day: date
    last_day: date
    active_users: int = Field(description="People with any activity or feed view. " + APPROXIMATE)
    engaged_users: int = Field(
        description="People who posted, commented or reacted. " + APPROXIMATE
    )
    engagement_rate: float | None = Field(description=_RATE + APPROXIMATE)
    dau: int = Field(description="Active users today. " + APPROXIMATE)
    wau: int = Field(description="Active users in the 7 days ending today. " + APPROXIMATE)
    mau: int = Field(description="Active users in the 30 days ending today. " + APPROXIMATE)
    posts: int = Field(description="New top-level posts (exact)")
    comments: int = Field(description="New comments: replies and answers (exact)")
    reactions: int = Field(description="Reactions (exact, net of Undo)")
    shares: int = Field(description="Shares (Announce; exact, net of Undo)")
    new_follows: int = Field(description="Follows net of unfollows (exact)")
    new_members: int = Field(description="Group joins and adds net of leaves and removals (exact)")
    content: dict[str, int] = Field(description="New posts and comments by kind (exact)")
    participation: Participation
    qa: QAHealth


class Point(BaseModel):
    day: date = Field(description="The first day the point covers")
    value: int | float | None


class Timeseries(Table):
    """One metric per day (or per week) over a period, every point present (zeros too)."""

    CSV_COLUMNS: ClassVar[tuple[str, ...]] = ("day", "value")
    CSV_ROWS_FROM: ClassVar[str | None] = "points"

    metric: Metric
    period: Period
    interval: Interval
    points: list[Point]


class GroupReport(Table):
    """One group over a period."""

    group_id: str
    name: str | None
    visibility: str
    period: Period
    first_day: date
    last_day: date
    members: int = Field(description="Members now")
    active_members: int = Field(
        description="Members now who posted, commented, reacted or viewed its items in the period"
    )
    active_ratio: float | None = Field(description="active_members ÷ members; null if none")
    posts: int
    posts_per_member: float | None = Field(description="posts ÷ members; null if none")
    comments: int
    reactions: int
    shares: int
    new_members: int = Field(description="Joins and adds net of leaves and removals")
    content: dict[str, int] = Field(description="New posts and comments by kind")
    qa: QAHealth


class PostReport(Table):
    """One post (or comment) since it was published."""

    post_id: str
    author_id: str | None
    group_id: str | None
    kind: str | None
    published: datetime | None
    reach: int = Field(description="Distinct people who saw it in a feed (exact)")
    reactions: int
    comments: int
    shares: int
    engagement_rate: float | None = Field(
        description="(reactions + comments + shares) ÷ reach; null with no viewers. May "
        "exceed 1: people also engage without a recorded feed view (e.g. from a notification)"
    )


class TrendingTag(BaseModel):
    tag: str = Field(description="Lower-cased, without '#'")
    score: float = Field(description="Σ uses · 0.5^(age_h ÷ half_life_h) over the window")
    uses: int = Field(description="Uses in the window, undecayed")


class Trending(Table):
    CSV_COLUMNS: ClassVar[tuple[str, ...]] = ("tag", "score", "uses")
    CSV_ROWS_FROM: ClassVar[str | None] = "items"

    window_h: int
    half_life_h: float
    as_of: datetime
    items: list[TrendingTag]


# --- arithmetic ----------------------------------------------------------------------------


def median_seconds(value: float | None) -> float | None:
    return None if value is None else round(max(float(value), 0.0), 1)
