"""A leaver keeps their knowledge, across the whole system (docs/architecture.md §16): an admin
deactivates Mateo; Nadia still reads his answer and finds his tip in her feed, shown as a
former colleague's; Mateo's token is refused everywhere; a mention of him tells nobody; and
reactivating him restores it all."""

from __future__ import annotations

from functools import partial

import pytest

from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

HOME = "/v1/feeds/home"
# A read of each service that changes nothing (as SystemClient's "known" check).
READS = (
    ("ingestion", "/v1/users/mateo"),
    ("fanout", "/v1/markers"),
    ("notify", "/v1/notification-mutes"),
    ("analytics", "/v1/people/suggestions"),
)


async def statuses(canopy: SystemClient, tenant: str, user: str) -> list[int]:
    return [(await canopy.request(s, "GET", path, tenant, user)).status_code for s, path in READS]


async def everywhere(canopy: SystemClient, tenant: str, user: str, status: int) -> bool:
    return await statuses(canopy, tenant, user) == [status] * len(READS)


async def tip_in_home(canopy: SystemClient, tenant: str, tip: str, former: bool) -> bool:
    """Whether Nadia's home shows Mateo's tip, its author marked as wanted."""
    items = [i for i in await canopy.feed(HOME, tenant, "nadia") if i["object"]["id"] == tip]
    return bool(items) and all((i["actor"].get("active") is False) == former for i in items)


async def told(canopy: SystemClient, tenant: str, user: str, post: str) -> bool:
    return post in await told_of(canopy, tenant, user)


async def told_of(canopy: SystemClient, tenant: str, user: str) -> list[str]:
    """The posts ``user``'s notifications are about."""
    notices = await canopy.notifications(tenant, user)
    return [n["object"]["id"] for n in notices if n.get("object")]


async def test_a_deactivated_leavers_answers_stay_and_they_can_neither_act_nor_be_told(
    canopy: SystemClient, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "root", "mateo", "nadia", "omar")
    await canopy.follow(t, "nadia", "mateo")
    assert await canopy.feed(HOME, t, "nadia") == []  # a recent reader: she gets pushes
    question = await canopy.post(t, "nadia", "How do we page exports?", kind="question")
    answer = await canopy.post(
        t, "mateo", "With the cursor", kind="answer", in_reply_to=question["id"]
    )
    tip = await canopy.post(t, "mateo", "Exports are paged by cursor, see the v2 docs")
    await eventually(partial(tip_in_home, canopy, t, tip["id"], False), what="mateo's tip")

    left = await canopy.call(
        "ingestion", "POST", "/v1/users/mateo/deactivate", t, "root", "tenant_admin"
    )

    assert left["active"] is False
    await eventually(partial(everywhere, canopy, t, "mateo", 403), what="mateo refused")
    await eventually(partial(tip_in_home, canopy, t, tip["id"], True), what="a former colleague")
    read = await canopy.call("ingestion", "GET", f"/v1/posts/{answer['id']}", t, "nadia")
    assert read["attributedTo"]["active"] is False
    mention = await canopy.post(t, "nadia", "@mateo @omar who owns exports now?")
    await eventually(partial(told, canopy, t, "omar", mention["id"]), what="omar told")

    back = await canopy.call(
        "ingestion", "POST", "/v1/users/mateo/reactivate", t, "root", "tenant_admin"
    )

    assert back["active"] is True
    await eventually(partial(everywhere, canopy, t, "mateo", 200), what="mateo back")
    await eventually(partial(tip_in_home, canopy, t, tip["id"], False), what="a colleague again")
    assert mention["id"] not in await told_of(canopy, t, "mateo")  # nobody told him
