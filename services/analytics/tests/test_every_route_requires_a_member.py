"""Every analytics route refuses a token whose person was never provisioned or was erased (403
problem+json), and shows a person of another tenant nothing of this tenant's
(docs/architecture.md §8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from analytics_harness import Analytics

from canopy_analytics.app import create_app
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.route_outages import RouteCall, route_calls
from canopy_testing.route_refusals import Caller, figures, try_every_route

pytestmark = pytest.mark.integration


async def test_every_route_refuses_who_may_not_act(
    analytics: Analytics, record_property: Callable[[str, object], None]
) -> None:
    here, there = ActivityFactory(), ActivityFactory()
    bob, eve, ada = here.user("bob", skills=["python"]), here.user("eve"), there.user("ada")
    club = here.group("Club", owner=bob, visibility="public")
    post = here.post(bob, "Quarterly numbers #python", group=club)
    await analytics.send(bob, eve, ada, club, here.join(bob, club, role="owner"), post)
    await analytics.send(here.erase(eve))
    eve_id, ada_id = (user_id_of_subject(p) for p in (eve, ada))
    walked = route_calls(
        create_app(analytics.settings),
        path_values={"group_id": subject_id(club), "post_id": subject_id(post)},
        bodies={},
    )
    query = {  # required query parameters
        "GET /v1/analytics/timeseries": "?metric=posts",
        "GET /v1/people/experts": "?topic=python",
    }
    calls = [RouteCall(c.route, c.method, c.path + query.get(c.route, ""), c.body) for c in walked]
    callers = [
        Caller("never provisioned", here.tenant_id, "nobody"),
        Caller("erased", here.tenant_id, eve_id),
        Caller("other tenant", there.tenant_id, ada_id),
    ]

    answers = await try_every_route(analytics.client, analytics.settings.auth, calls, callers)

    print(figures("analytics", answers))
    record_property("refusal_figures", figures("analytics", answers))
    assert len({a.route for a in answers}) == len(calls) == 8
    for answer in answers:
        if answer.caller.kind != "other tenant":
            assert answer.refused_as_no_member(), answer
        elif "{" in answer.route:  # this tenant's group or post
            assert answer.status == 404, answer
            assert answer.problem, answer
        else:  # their own tenant's figures: nothing of this tenant's in them
            for secret in (here.tenant_id, subject_id(club), user_id_of_subject(bob)):
                assert secret not in answer.text, answer
