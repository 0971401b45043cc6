"""Checks the analytics API tests share: JSON answers, problems, CSV matching JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from analytics_harness import Analytics

from canopy_analytics.domain.tables import flatten
from canopy_common.errors import PROBLEM_JSON
from canopy_common.events import StrictActivity
from canopy_testing.factories import user_id_of_subject

CSV = {"Accept": "text/csv"}


def uid(user: StrictActivity) -> str:
    return user_id_of_subject(user)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    detail = response.json()["detail"]
    assert all(word in detail for word in words), detail


async def get_csv(
    analytics: Analytics, path: str, tenant: str, user: str, *roles: str, **params: Any
) -> list[dict[str, str]]:
    headers = {**analytics.headers(tenant, user, *roles), **CSV}
    response = await analytics.client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


def as_cells(value: Any) -> str:
    """A JSON value as the CSV renders it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(as_cells(v) for v in value)
    return str(value)


def assert_csv_matches(rows: list[dict[str, str]], items: list[dict[str, Any]]) -> None:
    assert len(rows) == len(items)
    for row, item in zip(rows, items, strict=True):
        assert row == {k: as_cells(v) for k, v in flatten(item).items()}
