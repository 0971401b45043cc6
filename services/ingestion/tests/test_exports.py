"""A person's data export (GDPR; docs/architecture.md §16 "Export") through ingestion, real
Postgres and Kafka: the request goes out through the outbox, the other services' sections
come back as parts (sent here as fanout, notify and analytics send them, one in many chunks),
and the person gets one document; who may export whom (a tenant admin a leaver too); purge
and erasure drop exports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company

from canopy_common.exports import (
    CHUNK_BYTES,
    ExportRequest,
    ExportService,
    decode_request,
    encode_part,
    record_key,
    section_parts,
)
from canopy_common.kafka import Producer
from canopy_ingestion.export_purge import ExportPurge
from canopy_testing.factories import new_tenant_id
from canopy_testing.kafka import read_topic
from canopy_testing.polling import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    return await company(api, tenant)


async def export(acme: Company, caller: str, subject: str, *roles: str) -> httpx.Response:
    return await acme.api.client.get(
        f"/v1/users/{subject}/export", headers=acme.headers(caller, *roles)
    )


async def requested(api: Api, tenant: str) -> ExportRequest | None:
    """The export request the outbox relay published for ``tenant``, once it has."""
    kafka = api.settings.kafka
    for record in await read_topic(kafka, kafka.topic_exports):
        if record.key.startswith(f"{tenant}:".encode()):
            return decode_request(record.key, record.value)
    return None


async def user_exports(api: Api, tenant: str) -> list[tuple[str, str]]:
    rows = await api.pool.fetch(
        "SELECT actor, target FROM audit_log WHERE tenant_id = $1 AND action = 'user.export'",
        tenant,
    )
    return [(row["actor"], row["target"]) for row in rows]


async def test_a_person_gets_one_document_with_every_services_section(
    acme: Company, api: Api, upstream: Producer
) -> None:
    post = await acme.posted("ada", content="Runbook for the outage")
    for method, path in (
        ("PUT", f"/v1/posts/{post}/reactions/insightful"),
        ("PUT", "/v1/follows/grace"),
        ("PUT", f"/v1/bookmarks/{post}"),
    ):
        done = await api.client.request(method, path, headers=acme.headers("ada"))
        assert done.is_success, done.text

    first = await export(acme, "ada", "ada")

    assert first.status_code == 202, first.text
    assert first.headers["location"] == "/v1/users/ada/export"
    assert int(first.headers["retry-after"]) > 0
    pending = first.json()["export"]
    assert pending["sections"] == {
        "ingestion": True,
        "fanout": False,
        "notify": False,
        "analytics": False,
    }
    request = await eventually(lambda: requested(api, acme.tenant), what="the request sent")
    assert (str(request.id), request.subject) == (pending["id"], "ada")
    sent: dict[ExportService, dict[str, Any]] = {
        ExportService.FANOUT: {"markers": [{"feed": "home", "last_read_id": "e-1"}]},
        ExportService.NOTIFY: {
            "notifications": [{"id": n, "type": "reaction", "object_id": post} for n in range(40)]
        },
        ExportService.ANALYTICS: {"active_days": [{"day": "2025-03-01", "created": True}]},
    }
    chunks = 0
    for service, section in sent.items():
        size = 512 if service is ExportService.NOTIFY else CHUNK_BYTES  # notify's in chunks
        for part in section_parts(service, request, section, chunk_bytes=size):
            key = record_key(request.tenant, request.id)
            await upstream.send(api.settings.kafka.topic_export_parts, encode_part(part), key=key)
            chunks += 1

    async def whole() -> httpx.Response | None:
        answer = await export(acme, "ada", "ada")
        return answer if answer.status_code == 200 else None

    delivered = await eventually(whole, what="every section stored")
    own = await export(acme, "ada", "me")
    by_admin = await export(acme, "linus", "ada", "tenant_admin")

    assert chunks > len(sent)
    assert own.status_code == 200, own.text
    assert delivered.headers["content-disposition"].startswith("attachment; filename=")
    assert delivered.headers["cache-control"] == "no-store"
    document = delivered.json()
    assert document["export"]["id"] == pending["id"]
    assert document["export"]["completed_at"] is not None
    sections = document["sections"]
    assert list(sections) == ["ingestion", "fanout", "notify", "analytics"]
    ours = sections["ingestion"]
    assert ours["service"] == "ingestion"
    assert ours["generated_at"]
    assert ours["profile"]["id"] == "ada"
    assert [p["content"] for p in ours["posts"]] == ["Runbook for the outage"]
    assert [(r["post_id"], r["kind"]) for r in ours["reactions"]] == [(post, "insightful")]
    assert [f["followee_id"] for f in ours["following"]] == ["grace"]
    assert [b["post_id"] for b in ours["bookmarks"]] == [post]
    for service, section in sent.items():
        theirs = sections[service.value]
        assert theirs["service"] == service.value
        assert theirs["generated_at"]
        assert {k: v for k, v in theirs.items() if k in section} == section
    # A tenant admin gets the same export, and the audit log says so; ada's own does not.
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["export"]["id"] == pending["id"]
    assert await user_exports(api, acme.tenant) == [("linus", "ada")]


async def test_only_the_person_or_a_tenant_admin_may_export_and_others_get_403_or_404(
    acme: Company, api: Api
) -> None:
    other = new_tenant_id()
    await api.seed_user(other, "ada")  # a namesake in another tenant

    colleague = await export(acme, "grace", "ada")
    guest = await export(acme, "gus", "ada")  # shares no group with ada: does not see her
    await api.seed_user(acme.tenant, "eve", erased=True)
    unknown = await export(acme, "linus", "nobody", "tenant_admin")
    erased = await export(acme, "linus", "eve", "tenant_admin")
    leaver = await export(acme, "linus", "olga", "tenant_admin")  # deactivated, not erased
    elsewhere = await api.client.get(
        "/v1/users/grace/export", headers=api.headers(other, "ada", "tenant_admin")
    )
    by_admin = await export(acme, "linus", "grace", "tenant_admin")

    assert colleague.status_code == 403, colleague.text
    for refused in (guest, unknown, erased, elsewhere):
        assert (refused.status_code, refused.headers["content-type"]) == (404, PROBLEM)
    assert by_admin.status_code == leaver.status_code == 202, (by_admin.text, leaver.text)
    assert await user_exports(api, acme.tenant) == []  # nothing handed over yet


async def test_exports_past_their_retention_and_those_of_an_erased_person_are_deleted(
    acme: Company, api: Api
) -> None:
    for person in ("ada", "grace"):
        assert (await export(acme, person, person)).status_code == 202
    await api.pool.execute(
        "UPDATE exports SET requested_at = requested_at - $2::interval "
        "WHERE tenant_id = $1 AND subject_id = 'ada'",
        acme.tenant,
        timedelta(seconds=api.settings.export_retention_s + 60),
    )

    purged = await ExportPurge(api.pool, api.settings).purge()
    erased = await api.client.delete(
        "/v1/users/grace", headers=acme.headers("root", "tenant_admin")
    )

    assert purged >= 1
    assert erased.status_code == 204, erased.text
    left = await api.pool.fetch(
        "SELECT 1 FROM export_sections WHERE tenant_id = $1 "
        "UNION ALL SELECT 1 FROM exports WHERE tenant_id = $1",
        acme.tenant,
    )
    assert left == []
