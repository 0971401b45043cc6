"""Upstream records are counted per source system, with a bounded set of label values."""

from __future__ import annotations

from prometheus_client import REGISTRY

from canopy_ingestion.upstream_metrics import INVALID, MAX_SOURCES, OTHER, UpstreamSources
from canopy_testing.factories import ActivityFactory

METRIC = "canopy_ingestion_upstream_records_total"


def test_a_source_is_its_own_label_until_too_many_sources_are_seen() -> None:
    sources = UpstreamSources()
    names = [f"system{i}" for i in range(MAX_SOURCES)]

    labels = [sources.label(name) for name in names]

    assert labels == names
    assert sources.label("one-too-many") == OTHER
    assert sources.label("system0") == "system0"  # a known one keeps its label


def test_a_source_that_is_no_short_slug_counts_as_invalid() -> None:
    sources = UpstreamSources()

    assert sources.label("HR") == "hr"
    assert sources.label(None) == "upstream"  # the activity named none
    assert sources.label("x" * 41) == INVALID
    assert sources.label("hr system") == INVALID
    assert sources.label("drop table;") == INVALID


def test_counted_activities_add_to_their_source_series() -> None:
    f = ActivityFactory()
    activity = f.user("ada").model_copy(update={"source": "workday"})
    before = REGISTRY.get_sample_value(METRIC, {"source": "workday"}) or 0.0

    UpstreamSources().count([activity, activity])

    assert REGISTRY.get_sample_value(METRIC, {"source": "workday"}) == before + 2
