"""The ingestion test harness itself: the API app runs on its own schema, tokens verify."""

from __future__ import annotations

import pytest
from ingestion_harness import Api

pytestmark = pytest.mark.integration


async def test_the_api_is_ready_and_serves_its_openapi(api: Api) -> None:
    ready = await api.client.get("/readyz")
    spec = await api.client.get("/openapi.json")

    assert ready.status_code == 200
    assert spec.json()["info"]["title"] == "Canopy Ingestion"


async def test_seeded_people_are_in_the_tests_schema(api: Api, tenant: str) -> None:
    await api.seed_user(tenant, "ada", skills=["python"])

    row = await api.pool.fetchrow("SELECT handle, skills FROM users WHERE tenant_id = $1", tenant)

    assert row is not None
    assert (row["handle"], row["skills"]) == ("ada", ["python"])
