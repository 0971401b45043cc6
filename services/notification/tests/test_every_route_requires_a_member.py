"""Every notify route refuses a token whose person was never provisioned or was erased (403
problem+json), and shows a person of another tenant nothing of this tenant's
(docs/architecture.md §8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from notify_harness import Notify

from canopy_notify.app import create_app
from canopy_testing.factories import ActivityFactory, subject_id, user_id_of_subject
from canopy_testing.route_outages import route_calls
from canopy_testing.route_refusals import Caller, figures, try_every_route

pytestmark = pytest.mark.integration


async def test_every_route_refuses_who_may_not_act(
    notify: Notify, record_property: Callable[[str, object], None]
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
    callers = [
        Caller("never provisioned", here.tenant_id, "nobody"),
        Caller("erased", here.tenant_id, eve_id),
        Caller("other tenant", there.tenant_id, ada_id),
    ]

    answers = await try_every_route(notify.client, notify.settings.auth, calls, callers)

    print(figures("notify", answers))
    record_property("refusal_figures", figures("notify", answers))
    assert len({a.route for a in answers}) == len(calls) == 11
    for answer in answers:
        if answer.caller.kind != "other tenant":
            assert answer.refused_as_no_member(), answer
        else:  # their own notifications, settings and mutes: nothing of this tenant's in them
            for secret in (here.tenant_id, subject_id(post), "Quarterly"):
                assert secret not in answer.text, answer
