"""The demo seed against the whole running system, as `make up` runs it: the services under
supervisord, isolated (free ports, topics, groups and a database of their own, so neither a running
`make up` nor an earlier run is in the way), the demo company applied over HTTP and the
upstream topic twice. The
second run creates nothing, and the demo shows through the read APIs: a busy home feed,
notifications (tasks from upstream among them) and the tenant's analytics."""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from canopy_dev.demo import texts
from canopy_dev.demo.client import Api, Endpoints, http_client
from canopy_dev.demo.company import build_company
from canopy_dev.demo.seed import Seeder
from canopy_dev.devstack import StackEndpoints
from canopy_testing.polling import eventually
from canopy_testing.system import running_system

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[1]


async def test_seeding_twice_creates_the_demo_once_and_it_shows_in_every_read_api(
    stack: StackEndpoints, tmp_path: Path, tenant_id: str
) -> None:
    company = build_company(tenant_id)
    running = ExitStack()
    try:
        # Started and stopped off the event loop: session services share it.
        system = await asyncio.to_thread(
            running.enter_context, running_system(REPO_ROOT, tmp_path / "run", stack.pg_dsn)
        )
        async with http_client() as client:
            api = Api(Endpoints.local(system.ports), tenant_id, client)
            started = time.monotonic()
            first = await Seeder(company, api, system.kafka).run()
            first_s = time.monotonic() - started
            started = time.monotonic()
            second = await Seeder(company, api, system.kafka).run()
            second_s = time.monotonic() - started

            reader, analyst = company.reader_id, company.analyst_id
            home = await api.call("GET", f"{api.endpoints.fanout}/v1/feeds/home", reader)
            notes = await api.call(
                "GET", f"{api.endpoints.notify}/v1/notifications", reader, params={"limit": 100}
            )
            summary = await api.call(
                "GET",
                f"{api.endpoints.analytics}/v1/analytics/summary",
                analyst,
                roles=("member", "analyst"),
                params={"period": "1d"},
            )
            joiner = next(p for p in company.people if p.via_upstream)
            profile = await api.write("GET", f"/v1/users/{joiner.id}", reader)
            # The guide's tour: a question with its accepted answer in its thread, a group page.
            accepted = await api.write(
                "GET", "/v1/questions", reader, params={"status": "accepted", "limit": 1}
            )
            question = accepted.json()["items"][0]
            thread = await api.write("GET", f"/v1/posts/{question['id']}/context", reader)
            mine = await api.write("GET", "/v1/groups", reader, params={"mine": "true"})
            group_id = mine.json()["items"][0]["id"]
            group = await api.write("GET", f"/v1/groups/{group_id}", reader)
            members = await api.write("GET", f"/v1/groups/{group_id}/members", reader)
            # ... and a question asked again in other words finds its answered twin.
            asked = {p.content for p in company.posts if p.kind == "question"}
            twin, again = next((q, a) for q, a in texts.REASKED.items() if q in asked)

            async def twins() -> list[dict[str, Any]]:
                found = await api.call(
                    "GET",
                    f"{api.endpoints.analytics}/v1/questions/similar",
                    reader,
                    params={"text": again},
                )
                items: list[dict[str, Any]] = found.json()["items"]
                words = twin.split(" #")[0]  # its hashtags aside
                return [q for q in items if q["snippet"].startswith(words) and q["answered"]]

            similar = await eventually(twins, what="the re-asked question's twin")
    finally:
        await asyncio.to_thread(running.close)
    print(f"first seed {first_s:.1f} s, second {second_s:.1f} s: {first.describe()}")

    assert first.settled
    assert second.settled
    assert first.created["people"] + first.created["joiners (upstream)"] == len(company.people)
    assert first.created["posts"] == sum(p.reply_to is None for p in company.posts)
    assert first.created["tasks (upstream)"] == len(company.tasks)
    assert second.total_created == 0, second.created
    assert home.json()["items"]
    types = {n["type"] for n in notes.json()["items"]}
    assert {"task_assigned", "mention"} <= types, types
    counts = summary.json()
    assert counts["posts"] == sum(p.reply_to is None for p in company.posts) + len(
        company.bot_notes
    ), "the second seed posted again"
    assert counts["comments"] == sum(p.reply_to is not None for p in company.posts)
    assert counts["reactions"] == len(company.reactions)
    assert counts["shares"] == len(company.shares)
    assert counts["active_users"] > 150
    assert profile.json()["manager_id"] == joiner.manager_id
    answers = [p for p in thread.json()["descendants"] if p["kind"] == "answer"]
    assert [a["id"] for a in answers if a["accepted"]] == [question["acceptedAnswer"]]
    assert len(similar) == 1
    assert group.json()["member_count"] >= len(members.json()["items"]) > 0
    assert (
        reader in {m["user_id"] for m in members.json()["items"]} or members.json()["next_cursor"]
    )
