"""A person's data export across the whole system (GDPR art. 15/20; docs/architecture.md §16
"Export"): ada posts, reacts, follows and is notified; her export is one document in which
ingestion, fanout, notify and analytics each show their part of it. A colleague may not take
it (403), someone of another tenant does not find her (404), a tenant admin may (audited)."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest

from canopy_testing.factories import new_tenant_id
from canopy_testing.polling import eventually
from canopy_testing.system import SystemClient

pytestmark = pytest.mark.e2e

EXPORT = "/v1/users/ada/export"


async def test_a_person_exports_what_every_service_holds_about_them(
    canopy: SystemClient, tenant_id: str
) -> None:
    t = tenant_id
    await canopy.provision(t, "ada", "bob", "cy")
    mine = await canopy.post(t, "ada", "Runbooks live in the wiki")
    theirs = await canopy.post(t, "bob", "Who owns the pager?")
    await canopy.follow(t, "ada", "bob")
    await canopy.call("ingestion", "PUT", f"/v1/posts/{theirs['id']}/reactions/support", t, "ada")
    reply = {"content": "@ada knows", "in_reply_to": mine["id"]}
    await canopy.call("ingestion", "POST", "/v1/posts", t, "bob", json=reply)
    marker = {"home": {"last_read_id": theirs["id"]}}
    await canopy.call("fanout", "PUT", "/v1/markers", t, "ada", json=marker)

    # An export holds what each service had applied when it built its section: wait until
    # notify, fanout and analytics have each seen the last of these steps.
    async def notified() -> list[dict[str, Any]]:
        return [
            n for n in await canopy.notifications(t, "ada") if n["type"] in ("reply", "mention")
        ]

    await eventually(notified, what="ada's notification")
    await eventually(
        partial(canopy.feed_holds, "/v1/feeds/users/ada", t, "ada", mine["id"]),
        what="ada's post fanned out",
    )

    async def counted() -> bool:
        path, period = "/v1/analytics/summary", {"period": "1d"}
        summary = await canopy.call("analytics", "GET", path, t, "cy", "analyst", params=period)
        return bool(summary["reactions"] >= 1 and summary["comments"] >= 1)

    await eventually(counted, what="the analytics of the reaction and the reply")

    async def exported() -> httpx.Response | None:
        answer = await canopy.request("ingestion", "GET", EXPORT, t, "ada")
        assert answer.status_code in (200, 202), answer.text
        return answer if answer.status_code == 200 else None

    answer = await eventually(exported, what="ada's whole export")
    colleague = await canopy.request("ingestion", "GET", EXPORT, t, "cy")
    elsewhere = new_tenant_id()
    await canopy.call(
        "ingestion", "PUT", f"/v1/tenants/{elsewhere}", elsewhere, "root", "platform_admin",
        json={"name": "Elsewhere"},
    )  # fmt: skip
    await canopy.call(
        "ingestion", "PUT", "/v1/users/zed", elsewhere, "root", "tenant_admin",
        json={"handle": "zed", "display_name": "Zed"},
    )  # fmt: skip
    stranger = await canopy.request("ingestion", "GET", EXPORT, elsewhere, "zed", "tenant_admin")
    by_admin = await canopy.request("ingestion", "GET", EXPORT, t, "cy", "tenant_admin")

    assert answer.headers["content-disposition"].startswith("attachment")
    document = answer.json()
    sections = document["sections"]
    assert set(sections) == {"ingestion", "fanout", "notify", "analytics"}
    assert {name: part["service"] for name, part in sections.items()} == {
        name: name for name in sections
    }
    ours = sections["ingestion"]
    assert [p["content"] for p in ours["posts"]] == ["Runbooks live in the wiki"]
    assert [(r["post_id"], r["kind"]) for r in ours["reactions"]] == [(theirs["id"], "support")]
    assert [f["followee_id"] for f in ours["following"]] == ["bob"]
    fanout = sections["fanout"]
    assert [(m["feed"], m["last_read_id"]) for m in fanout["markers"]] == [("home", theirs["id"])]
    assert [f["followee_id"] for f in fanout["following"]] == ["bob"]
    notify = sections["notify"]
    assert {n["type"] for n in notify["notifications"]} & {"reply", "mention"}
    analytics = sections["analytics"]
    assert [p["object_id"] for p in analytics["posts"]] == [mine["id"]]
    assert analytics["active_days"]
    assert colleague.status_code == 403, colleague.text
    assert stranger.status_code == 404, stranger.text
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["export"]["id"] == document["export"]["id"]
    audit = await canopy.call(
        "ingestion", "GET", "/v1/audit", t, "cy", "tenant_admin", params={"action": "user.export"}
    )
    assert [(e["actor"], e["target"]) for e in audit["items"]] == [("cy", "ada")]
