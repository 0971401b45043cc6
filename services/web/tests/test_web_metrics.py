"""The web client's own series: every API call counted by service and by how it ended, as
canopy_web.api maps the answer (no servers: the answers come from an httpx transport)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from canopy_web.api import Api, ApiError, Service, ServiceDown, SignInRequired, outcome_of
from canopy_web.metrics import Outcome, web_metrics

URLS = {service: f"http://{service}.test" for service in Service}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.OK),
        (204, Outcome.OK),
        (401, Outcome.SIGNED_OUT),
        (403, Outcome.REFUSED),
        (404, Outcome.REFUSED),
        (422, Outcome.REFUSED),
        (429, Outcome.DOWN),
        (500, Outcome.DOWN),
        (503, Outcome.DOWN),
    ],
)
def test_each_answer_is_one_outcome(status: int, outcome: Outcome) -> None:
    assert outcome_of(status) is outcome


def _count(service: Service, outcome: Outcome) -> float:
    labels = {"service": service.value, "outcome": outcome.value}
    return REGISTRY.get_sample_value("canopy_web_api_calls_total", labels) or 0.0


async def test_every_call_is_counted_with_its_service_and_outcome() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        status = int(request.url.path.strip("/"))
        return httpx.Response(status, json={"title": "t", "detail": "d", "items": []})

    calls = [
        ("/200", Service.FANOUT, Outcome.OK, None),
        ("/403", Service.INGESTION, Outcome.REFUSED, ApiError),
        ("/401", Service.NOTIFY, Outcome.SIGNED_OUT, SignInRequired),
        ("/503", Service.ANALYTICS, Outcome.DOWN, ServiceDown),
        ("/down", Service.ANALYTICS, Outcome.UNREACHABLE, ServiceDown),
    ]
    before = {(s, o): _count(s, o) for _, s, o, _ in calls}
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        api = Api(http, URLS, "token", metrics=web_metrics())
        for path, service, _, raised in calls:
            if raised is None:
                await api.get(service, path)
            else:
                with pytest.raises(raised):
                    await api.get(service, path)

    assert {(s, o): _count(s, o) - before[(s, o)] for _, s, o, _ in calls} == {
        (s, o): 1.0 for _, s, o, _ in calls
    }
