"""Idempotency-Key on the posts API's POSTs: a retry gets the first response and creates
nothing; the same key with another body is refused; a refused request does not use its key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company

pytestmark = pytest.mark.integration


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    return await company(api, tenant)


async def post_with_key(
    acme: Company, path: str, key: str, body: dict[str, Any] | None = None, user: str = "ada"
) -> httpx.Response:
    return await acme.api.client.post(
        path, json=body, headers=acme.headers(user, **{"Idempotency-Key": key})
    )


async def count(acme: Company, table: str) -> int:
    found: int = await acme.api.pool.fetchval(
        f"SELECT count(*) FROM {table} WHERE tenant_id = $1", acme.tenant
    )
    return found


async def test_a_retried_post_returns_the_first_post_and_creates_nothing(acme: Company) -> None:
    first = await post_with_key(acme, "/v1/posts", "k-1", {"content": "Hello"})
    retry = await post_with_key(acme, "/v1/posts", "k-1", {"content": "Hello"})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await count(acme, "posts") == 1
    assert len(await acme.api.outbox(acme.tenant)) == 1


async def test_the_same_key_with_another_body_is_refused(acme: Company) -> None:
    await post_with_key(acme, "/v1/posts", "k-1", {"content": "Hello"})

    response = await post_with_key(acme, "/v1/posts", "k-1", {"content": "Goodbye"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert await count(acme, "posts") == 1


async def test_keys_belong_to_the_person_using_them(acme: Company) -> None:
    ada = await post_with_key(acme, "/v1/posts", "shared", {"content": "Hello"}, user="ada")
    grace = await post_with_key(acme, "/v1/posts", "shared", {"content": "Hello"}, user="grace")

    assert ada.json()["id"] != grace.json()["id"]
    assert await count(acme, "posts") == 2


async def test_a_refused_request_does_not_use_up_its_key(acme: Company) -> None:
    refused = await post_with_key(acme, "/v1/posts", "k-1", {"content": "x", "kind": "answer"})
    fixed = await post_with_key(acme, "/v1/posts", "k-1", {"content": "x"})

    assert (refused.status_code, fixed.status_code) == (422, 201)


async def test_retried_shares_flags_and_accepts_publish_once(acme: Company) -> None:
    question = await acme.posted("ada", content="How?", kind="question")
    answer = await acme.posted("grace", content="So", kind="answer", in_reply_to=question)
    before = len(await acme.api.outbox(acme.tenant))

    for _ in range(2):
        shared = await post_with_key(acme, f"/v1/posts/{answer}/shares", "s", user="linus")
        flagged = await post_with_key(
            acme, f"/v1/posts/{answer}/flags", "f", {"reason": "spam"}, user="linus"
        )
        accepted = await post_with_key(
            acme, f"/v1/posts/{question}/accept", "a", {"answer_id": answer}
        )
        assert (shared.status_code, flagged.status_code, accepted.status_code) == (201, 201, 200)

    published = [act.type for act in await acme.activities()][before:]
    assert sorted(published) == ["Accept", "Announce", "Flag"]
    assert await count(acme, "flags") == 1


async def test_one_key_on_two_paths_is_two_different_requests(acme: Company) -> None:
    post_id = await acme.posted("ada", content="Hello")

    await post_with_key(acme, f"/v1/posts/{post_id}/shares", "k", user="grace")
    elsewhere = await post_with_key(acme, "/v1/posts", "k", {"content": "Hi"}, user="grace")

    assert elsewhere.status_code == 422


async def test_an_over_long_key_is_refused(acme: Company) -> None:
    response = await post_with_key(acme, "/v1/posts", "k" * 256, {"content": "Hello"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await count(acme, "posts") == 0
