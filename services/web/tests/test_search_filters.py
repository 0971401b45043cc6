"""The search page's date filters: a day from a form as the instants analytics compares."""

from __future__ import annotations

import pytest

from canopy_web.pages.search import _day


def test_a_day_runs_from_its_start_to_the_next_days_start() -> None:
    assert _day("2026-12-04") == "2026-12-04T00:00:00Z"
    assert _day("2026-12-31", end=True) == "2027-01-01T00:00:00Z"


def test_an_empty_field_is_no_filter_and_anything_else_is_refused() -> None:
    assert _day("") is None
    assert _day("  ") is None
    with pytest.raises(ValueError, match="Invalid isoformat"):
        _day("yesterday")
