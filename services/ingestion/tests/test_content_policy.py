"""Tenant admins read, replace and try their tenant's content rules (RE2) over HTTP; posts
are then refused or flagged under the new rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from ingestion_harness import Api
from posts_harness import PROBLEM, Company, company

from canopy_ingestion.domain.policy import DEFAULT_RULES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PATH = "/v1/tenant/content-policy"
CODENAME: dict[str, Any] = {"name": "project-codename", "pattern": "(?i)bluebird"}


@pytest.fixture
async def acme(api: Api, tenant: str) -> Company:
    shop = await company(api, tenant)
    await api.seed_user(tenant, "boss")
    return shop


def boss(acme: Company) -> dict[str, str]:
    return acme.headers("boss", "tenant_admin")


async def put(acme: Company, rules: list[dict[str, Any]] | None) -> httpx.Response:
    return await acme.api.client.put(PATH, json={"rules": rules}, headers=boss(acme))


async def try_text(acme: Company, text: str) -> list[dict[str, Any]]:
    response = await acme.api.client.post(f"{PATH}/test", json={"text": text}, headers=boss(acme))
    assert response.status_code == 200, response.text
    matches: list[dict[str, Any]] = response.json()["matches"]
    return matches


async def test_a_tenant_without_rules_reads_the_defaults(acme: Company) -> None:
    response = await acme.api.client.get(PATH, headers=boss(acme))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["defaults"] is True
    assert [rule["name"] for rule in body["rules"]] == [rule.name for rule in DEFAULT_RULES]
    assert all(rule["pattern"] for rule in body["rules"])


async def test_rules_put_are_read_back_and_null_goes_back_to_the_defaults(acme: Company) -> None:
    kept: list[dict[str, Any]] = [CODENAME, {"name": "card-number", "pattern": None}]

    assert (await put(acme, kept)).status_code == 200
    read = await acme.api.client.get(PATH, headers=boss(acme))
    assert read.json() == {"rules": kept, "defaults": False}

    back = await put(acme, None)
    assert back.status_code == 200
    assert back.json()["defaults"] is True
    assert (await acme.api.client.get(PATH, headers=boss(acme))).json()["defaults"] is True


async def test_the_defaults_read_back_and_put_again_keep_the_luhn_check(acme: Company) -> None:
    defaults = (await acme.api.client.get(PATH, headers=boss(acme))).json()["rules"]

    assert (await put(acme, defaults)).status_code == 200

    assert await try_text(acme, "order 4111 1111 1111 1112") == []  # fails the Luhn check
    assert await try_text(acme, "card 4111 1111 1111 1111.") == [
        {"rule": "card-number", "start": 5, "end": 24}
    ]


@pytest.mark.parametrize(
    ("rules", "index", "field", "why"),
    [
        ([CODENAME, {"name": "broken", "pattern": "(a"}], 1, "pattern", "RE2"),
        ([{"name": "twice", "pattern": r"(a)\1"}], 0, "pattern", "RE2"),
        ([{"name": "ahead", "pattern": "foo(?!bar)"}], 0, "pattern", "RE2"),
        ([{"name": "everything", "pattern": "x*"}], 0, "pattern", "empty text"),
        ([CODENAME, CODENAME], 1, "name", "unique"),
        ([{"name": "Not A Slug", "pattern": "x"}], 0, "name", "lower-case"),
        ([{"name": "mine", "pattern": None}], 0, "pattern", "needs a pattern"),
        ([{"name": "long", "pattern": "x" * 501}], 0, "pattern", "500"),
    ],
)
async def test_a_bad_rule_is_refused_naming_it_and_why(
    acme: Company, rules: list[dict[str, Any]], index: int, field: str, why: str
) -> None:
    response = await put(acme, rules)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert (problem["index"], problem["rule"]) == (index, rules[index]["name"])
    assert problem["field"] == f"rules[{index}].{field}"
    assert why in problem["detail"]
    assert (await acme.api.client.get(PATH, headers=boss(acme))).json()["defaults"] is True


async def test_more_than_fifty_rules_are_refused(acme: Company) -> None:
    rules = [{"name": f"rule-{n}", "pattern": f"word{n}"} for n in range(51)]

    response = await put(acme, rules)

    assert response.status_code == 422
    assert response.json()["limit"] == 50


async def test_a_pathological_pattern_answers_at_once_in_linear_time(acme: Company) -> None:
    assert (await put(acme, [{"name": "nested", "pattern": "(a+)+$"}])).status_code == 200

    # Backtracking engines take exponential time on this; RE2 answers in one pass.
    assert await try_text(acme, "a" * 9_999 + "!") == []
    assert await try_text(acme, "a" * 10_000) == [{"rule": "nested", "start": 0, "end": 10_000}]


async def test_a_text_over_a_posts_length_is_refused(acme: Company) -> None:
    response = await acme.api.client.post(
        f"{PATH}/test", json={"text": "a" * 10_001}, headers=boss(acme)
    )

    assert response.status_code == 422


async def test_a_test_lists_every_match_by_position(acme: Company) -> None:
    await put(acme, [CODENAME, {"name": "card-number"}])

    matches = await try_text(acme, "Bluebird: 4111111111111111 and bluebird")

    assert matches == [
        {"rule": "project-codename", "start": 0, "end": 8},
        {"rule": "card-number", "start": 10, "end": 26},
        {"rule": "project-codename", "start": 31, "end": 39},
    ]


async def test_posts_are_refused_where_guests_read_and_flagged_elsewhere_under_new_rules(
    acme: Company,
) -> None:
    assert (await put(acme, [CODENAME])).status_code == 200

    public = await acme.post("ada", content="Launching Bluebird", visibility="public")
    internal = await acme.post("ada", content="Launching Bluebird")
    secret = await acme.post("ada", content="-----BEGIN PRIVATE KEY-----", visibility="public")

    assert public.status_code == 422
    assert public.json()["rule"] == "project-codename"
    assert internal.status_code == 201
    assert [flag.type for flag in await acme.published("Flag")] == ["Flag"]
    row = await acme.api.pool.fetchrow("SELECT rule FROM flags WHERE tenant_id = $1", acme.tenant)
    assert row is not None
    assert row["rule"] == "project-codename"
    assert secret.status_code == 201  # the defaults are replaced, not added to


async def test_only_tenant_admins_read_replace_or_test_the_rules(acme: Company) -> None:
    member = acme.headers("ada")

    answers = [
        await acme.api.client.get(PATH, headers=member),
        await acme.api.client.put(PATH, json={"rules": [CODENAME]}, headers=member),
        await acme.api.client.post(f"{PATH}/test", json={"text": "x"}, headers=member),
    ]

    assert [response.status_code for response in answers] == [403, 403, 403]
    assert all(r.headers["content-type"].startswith(PROBLEM) for r in answers)


async def test_every_replacement_is_audited_with_the_rule_names(acme: Company) -> None:
    await put(acme, [CODENAME])
    await put(acme, None)

    response = await acme.api.client.get(
        "/v1/audit", params={"action": "policy.update"}, headers=boss(acme)
    )

    assert response.status_code == 200, response.text
    back, first = response.json()["items"]
    defaults = [rule.name for rule in DEFAULT_RULES]
    assert (first["actor"], first["target"]) == ("boss", acme.tenant)
    assert first["details"] == {
        "from": defaults,
        "to": ["project-codename"],
        "defaults": {"from": True, "to": False},
    }
    assert back["details"]["to"] == defaults
    assert back["details"]["defaults"] == {"from": False, "to": True}
