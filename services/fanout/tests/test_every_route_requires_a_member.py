"""Every fanout route refuses a token whose person was never provisioned or was erased (403
problem+json), and shows a person of another tenant nothing of this tenant's
(docs/architecture.md §8)."""

from __future__ import annotations

import pytest
from fanout_harness import Fanout

from canopy_fanout.app import create_app
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import route_calls
from canopy_testing.route_refusals import try_every_route, who_may_not_act

pytestmark = pytest.mark.integration

# The routes a person of another tenant calls with this tenant's person or group.
NAMES_THIS_TENANTS = {
    "GET /v1/feeds/users/{user_id}",
    "GET /v1/feeds/groups/{group_id}",
    "PUT /v1/markers",
}


async def test_every_route_refuses_who_may_not_act(
    fanout: Fanout, report_figures: ReportFigures
) -> None:
    here, there = ActivityFactory(), ActivityFactory()
    bob, eve, ada = here.user("bob"), here.user("eve"), there.user("ada")
    club = here.group("Club", owner=bob, visibility="private")
    post = here.post(bob, "Quarterly numbers, here only", group=club)
    await fanout.send(bob, eve, ada, club, here.join(bob, club, role="owner"), post)
    await fanout.send(here.erase(eve))
    bob_id, eve_id, ada_id = (user_id_of_subject(p) for p in (bob, eve, ada))
    calls = route_calls(
        create_app(fanout.settings),
        path_values={"user_id": bob_id, "group_id": subject_id(club), "tag": "numbers"},
        bodies={
            "PUT /v1/markers": {f"group:{subject_id(club)}": {"last_read_id": subject_id(post)}}
        },
    )
    callers = who_may_not_act(
        here.tenant_id, erased=eve_id, other_tenant=there.tenant_id, other=ada_id
    )

    tried = await try_every_route(fanout.client, fanout.settings.auth, calls, callers)

    report_figures("refusal_figures", tried.figures("fanout"))
    assert len(tried.routes) == len(calls) == 6
    assert not tried.let_through(), tried.let_through()
    for answer in tried.of_other_tenant():
        if answer.route in NAMES_THIS_TENANTS:
            assert answer.status == 404, answer
            assert answer.problem, answer
        else:  # their own feeds (a tag is a tag of theirs) and markers: nothing of this tenant's
            assert answer.status == 200, answer
            for secret in (here.tenant_id, subject_id(club), subject_id(post), "Quarterly"):
                assert secret not in answer.text, answer
