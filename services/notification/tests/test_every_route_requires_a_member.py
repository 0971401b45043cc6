"""Every notify route refuses a token whose person was never provisioned or was erased (403
problem+json), and shows a person of another tenant nothing of this tenant's
(docs/architecture.md §8)."""

from __future__ import annotations

import pytest
from notify_harness import Notify

from canopy_notify.app import create_app
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.plugin import ReportFigures
from canopy_testing.route_outages import route_calls
from canopy_testing.route_refusals import try_every_route, who_may_not_act

pytestmark = pytest.mark.integration


async def test_every_route_refuses_who_may_not_act(
    notify: Notify, report_figures: ReportFigures
) -> None:
    here, there = ActivityFactory(), ActivityFactory()
    bob, eve, ada = here.user("bob"), here.user("eve"), there.user("ada")
    post = here.post(bob, "Quarterly numbers for @eve")
    await notify.send(bob, eve, ada, post, here.follow(eve, bob))
    await notify.send(here.erase(eve))
    bob_id, eve_id, ada_id = (user_id_of_subject(p) for p in (bob, eve, ada))
    calls = route_calls(
        create_app(notify.settings),
        path_values={"kind": "actor", "target_id": bob_id},
        bodies={
            "POST /v1/notifications/read": {"ids": []},
            "PUT /v1/notification-preferences": {"digest": "daily"},
            "PUT /v1/notification-preferences/tenant": {"reminder_leads_s": [3600]},
            "PUT /v1/notification-mutes/{kind}/{target_id}": {},
        },
    )
    callers = who_may_not_act(
        here.tenant_id, erased=eve_id, other_tenant=there.tenant_id, other=ada_id
    )

    tried = await try_every_route(notify.client, notify.settings.auth, calls, callers)

    report_figures("refusal_figures", tried.figures("notify"))
    assert len(tried.routes) == len(calls) == 11
    assert not tried.let_through(), tried.let_through()
    # The other tenant's person sees their own notifications, settings and mutes: nothing of
    # this tenant's in them.
    for answer in tried.of_other_tenant():
        for secret in (here.tenant_id, subject_id(post), "Quarterly"):
            assert secret not in answer.text, answer
