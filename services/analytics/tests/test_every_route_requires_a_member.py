"""Every analytics route refuses a token whose person was never provisioned or was erased (403
problem+json), and shows a person of another tenant nothing of this tenant's
(docs/architecture.md §8)."""

from __future__ import annotations

import pytest
from analytics_harness import Analytics

from canopy_analytics.app import create_app
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import route_calls
from canopy_testing.route_refusals import try_every_route, who_may_not_act

pytestmark = pytest.mark.integration


async def test_every_route_refuses_who_may_not_act(
    analytics: Analytics, report_figures: ReportFigures
) -> None:
    here, there = ActivityFactory(), ActivityFactory()
    bob, eve, ada = here.user("bob", skills=["python"]), here.user("eve"), there.user("ada")
    club = here.group("Club", owner=bob, visibility="public")
    post = here.post(bob, "Quarterly numbers #python", group=club)
    await analytics.send(bob, eve, ada, club, here.join(bob, club, role="owner"), post)
    await analytics.send(here.erase(eve))
    eve_id, ada_id = (user_id_of_subject(p) for p in (eve, ada))
    calls = route_calls(
        create_app(analytics.settings),
        path_values={"group_id": subject_id(club), "post_id": subject_id(post)},
        bodies={"PUT /v1/search/settings": {"language": "english"}},
        query_values={"metric": "posts", "topic": "python", "q": "quarterly", "text": "quarterly"},
    )
    callers = who_may_not_act(
        here.tenant_id, erased=eve_id, other_tenant=there.tenant_id, other=ada_id
    )

    tried = await try_every_route(analytics.client, analytics.settings.auth, calls, callers)

    report_figures("refusal_figures", tried.figures("analytics"))
    assert len(tried.routes) == len(calls) == 12
    assert not tried.let_through(), tried.let_through()
    for answer in tried.of_other_tenant():
        if "{" in answer.route:  # this tenant's group or post
            assert answer.status == 404, answer
            assert answer.problem, answer
        else:  # their own tenant's figures: nothing of this tenant's in them
            for secret in (here.tenant_id, subject_id(club), user_id_of_subject(bob)):
                assert secret not in answer.text, answer
