"""HTTP routes: the tenant's content rules (docs/architecture.md §4), for tenant admins.

``GET`` answers them (or the defaults), ``PUT`` replaces them (``{"rules": null}``: back to
the defaults), ``POST .../test`` shows where a text matches them. The tenant is the token's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from canopy_common.auth import Principal, Role, require_roles
from canopy_common.openapi import problems
from canopy_ingestion.api.deps import CurrentRuntime, caller_in, transaction
from canopy_ingestion.domain.policy import (
    MAX_CONTENT_CHARS,
    MAX_PATTERN_CHARS,
    MAX_RULE_NAME_CHARS,
    MAX_RULES,
    default_policy,
    findings,
    rules_for,
)
from canopy_ingestion.handlers.content_policy import (
    ReplaceContentPolicy,
    handle_replace_content_policy,
)

router = APIRouter(tags=["content policy"])

TenantAdmin = Annotated[Principal, Depends(require_roles(Role.TENANT_ADMIN))]
PATH = "/v1/tenant/content-policy"
# Findings a test answers per rule: enough to see what a rule catches, bounded for `a`.
TEST_FINDINGS_PER_RULE = 100


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        description=f"Unique; 1 to {MAX_RULE_NAME_CHARS} lower-case letters and digits, words "
        "joined by '-'",
        examples=["project-codename"],
    )
    pattern: str | None = Field(
        default=None,
        description=f"An RE2 regular expression of 1 to {MAX_PATTERN_CHARS} characters (no "
        "lookarounds or backreferences; `(?i)` ignores case); it must not match the empty "
        "text. Null only for a default rule's name: that rule, as built in",
        examples=["(?i)bluebird"],
    )


class PolicyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"rules": [{"name": "card-number"}, {"name": "c", "pattern": "x"}]}]
        },
    )

    rules: list[RuleIn] | None = Field(
        description=f"At most {MAX_RULES} rules, replacing all; null: back to the defaults"
    )


class RuleOut(BaseModel):
    name: str
    pattern: str | None


class PolicyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"rules": [{"name": "c", "pattern": "(?i)bluebird"}], "defaults": False}]
        }
    )

    rules: list[RuleOut]
    defaults: bool = Field(description="True when the tenant has set no rules of its own")


class SampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "hi"}]})

    text: str = Field(max_length=MAX_CONTENT_CHARS, description="At most a post's length")


class FindingOut(BaseModel):
    rule: str
    start: int = Field(description="Where the match starts, in characters (code points)")
    end: int = Field(description="Where it ends (exclusive)")


class SampleOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"matches": [{"rule": "c", "start": 0, "end": 8}]}]}
    )

    matches: list[FindingOut]


@router.get(
    PATH,
    summary="The tenant's content rules",
    description="Role `tenant_admin`. The rules posts are checked against: the tenant's own, "
    "or the defaults (`defaults: true`, each with its RE2 pattern).",
    response_model=PolicyOut,
    responses=problems(403),
)
async def read_content_policy(admin: TenantAdmin, runtime: CurrentRuntime) -> PolicyOut:
    async with transaction(runtime, admin.tenant_id) as conn:
        caller = await caller_in(conn, admin)
    stored = caller.tenant.content_policy
    entries = default_policy() if stored is None else stored
    return PolicyOut(
        rules=[RuleOut(name=str(e.get("name")), pattern=e.get("pattern")) for e in entries],
        defaults=stored is None,
    )


@router.put(
    PATH,
    summary="Replace the tenant's content rules",
    description=f"Role `tenant_admin`. Replaces every rule (at most {MAX_RULES}); "
    '`{"rules": null}` goes back to the defaults, `{"rules": []}` checks nothing. A default '
    "rule's name without a pattern keeps that rule (the card numbers are Luhn-checked). "
    "A bad rule is a 422 naming it (`index`, `rule`, `field`) and why. Audited "
    "(`policy.update`). Answers the rules now in force.",
    response_model=PolicyOut,
    responses=problems(403, 422),
)
async def replace_content_policy(
    body: PolicyIn, admin: TenantAdmin, runtime: CurrentRuntime
) -> PolicyOut:
    rules = None if body.rules is None else [(rule.name, rule.pattern) for rule in body.rules]
    async with transaction(runtime, admin.tenant_id) as conn:
        caller = await caller_in(conn, admin)
        await handle_replace_content_policy(
            ReplaceContentPolicy(admin.tenant_id, rules, by=caller.user.id), conn=conn
        )
    if body.rules is None:
        return PolicyOut(
            rules=[RuleOut(name=e["name"], pattern=e["pattern"]) for e in default_policy()],
            defaults=True,
        )
    return PolicyOut(
        rules=[RuleOut(name=rule.name, pattern=rule.pattern) for rule in body.rules],
        defaults=False,
    )


@router.post(
    f"{PATH}/test",
    summary="Where a text matches the tenant's content rules",
    description="Role `tenant_admin`. Every match of every rule now in force (at most "
    f"{TEST_FINDINGS_PER_RULE} per rule), by position: what a post with this text would "
    "be refused or flagged for. Positions count characters of the text as sent (posts are "
    "checked after NFC normalization).",
    response_model=SampleOut,
    responses=problems(403),
)
async def try_content_policy(
    body: SampleIn, admin: TenantAdmin, runtime: CurrentRuntime
) -> SampleOut:
    async with transaction(runtime, admin.tenant_id) as conn:
        caller = await caller_in(conn, admin)
    rules = rules_for(caller.tenant.content_policy)
    found = findings(body.text, rules, per_rule=TEST_FINDINGS_PER_RULE)
    return SampleOut(matches=[FindingOut(rule=f.rule, start=f.start, end=f.end) for f in found])
