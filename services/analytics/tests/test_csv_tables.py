"""Every analytics answer as CSV: one renderer, flattened the same way everywhere."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from canopy_analytics.api.negotiation import wants_csv
from canopy_analytics.domain.discovery import Expert, ExpertCandidate
from canopy_analytics.domain.discovery_views import Experts, PeopleSuggestions
from canopy_analytics.domain.periods import Interval, Metric, Period
from canopy_analytics.domain.reports import (
    Participation,
    Point,
    QAHealth,
    Summary,
    Timeseries,
)
from canopy_analytics.domain.tables import cell, flatten, render_csv


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def summary() -> Summary:
    return Summary(
        period=Period.WEEK,
        first_day=date(2025, 3, 4),
        last_day=date(2025, 3, 10),
        active_users=10,
        engaged_users=4,
        engagement_rate=0.4,
        dau=3,
        wau=10,
        mau=12,
        posts=5,
        comments=7,
        reactions=9,
        shares=1,
        new_follows=-1,
        new_members=2,
        content={"note": 4, "question": 1},
        participation=Participation(creators=2, contributors=2, lurkers=6),
        qa=QAHealth(
            questions=1,
            answered=1,
            answered_share=1.0,
            median_first_answer_s=90.0,
            accepted=0,
            accepted_share=0.0,
        ),
    )


def test_a_summary_is_one_row_with_dotted_columns_for_nested_fields() -> None:
    rows = parse(render_csv(summary()))
    assert len(rows) == 1
    row = rows[0]
    assert row["period"] == "7d"
    assert row["engagement_rate"] == "0.4"
    assert row["new_follows"] == "-1"  # a number, not a formula to escape
    assert row["content.question"] == "1"
    assert row["participation.lurkers"] == "6"
    assert row["qa.median_first_answer_s"] == "90.0"


def test_a_timeseries_is_a_row_per_point_and_null_is_an_empty_cell() -> None:
    series = Timeseries(
        metric=Metric.ENGAGEMENT_RATE,
        period=Period.DAY,
        interval=Interval.DAY,
        points=[Point(day=date(2025, 3, 9), value=None), Point(day=date(2025, 3, 10), value=0.5)],
    )
    text = render_csv(series)
    assert text.splitlines()[0] == "day,value"
    assert parse(text) == [
        {"day": "2025-03-09", "value": ""},
        {"day": "2025-03-10", "value": "0.5"},
    ]
    assert text.endswith("\r\n")


def test_an_empty_list_still_has_its_header_row() -> None:
    text = render_csv(Experts(topic="go", items=[]))
    assert text.splitlines() == [",".join(Experts.CSV_COLUMNS)]
    assert render_csv(PeopleSuggestions(items=[])).startswith("user_id,name,")


def test_list_items_flatten_their_breakdown_and_quote_what_needs_it() -> None:
    ranked = [Expert(ExpertCandidate("ada", 'Ada "the" Lovelace, PhD', "Eng", None, posts=1), 2.0)]
    rows = parse(render_csv(Experts.of("go", ranked)))
    assert rows == [
        {
            "user_id": "ada",
            "name": 'Ada "the" Lovelace, PhD',
            "title": "Eng",
            "department": "",
            "score": "2.0",
            "breakdown.posts": "1",
            "breakdown.accepted_answers": "0",
            "breakdown.reactions_received": "0",
            "breakdown.skill_match": "false",
            "breakdown.answers": "0",
            "reason": "",
            "evidence": "",
        }
    ]


def test_text_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert cell("@cmd") == "'@cmd"
    assert cell(-3) == "-3"
    assert cell(["a", "b"]) == "a; b"
    assert cell(True) == "true"
    assert flatten({"a": {"b": {"c": 1}}, "d": [1]}) == {"a.b.c": 1, "d": [1]}


@pytest.mark.parametrize(
    ("accept", "csv_wanted"),
    [
        ("text/csv", True),
        ("text/csv; charset=utf-8", True),
        ("TEXT/CSV", True),
        ("text/csv, */*;q=0.1", True),
        ("application/json, text/csv;q=0.5", False),
        ("text/csv;q=0", False),
        ("*/*", False),
        ("application/json", False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
        (None, False),
    ],
)
def test_csv_is_served_when_the_client_prefers_it(accept: str | None, csv_wanted: bool) -> None:
    assert wants_csv(accept) is csv_wanted
