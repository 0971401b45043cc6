"""Every route of a service called by tokens that may not act there (docs/architecture.md §8):
a person never provisioned, an erased one, and an active person of another tenant on this
tenant's ids (:func:`who_may_not_act`). The routes come from
:func:`canopy_testing.route_outages.route_calls` (the app's OpenAPI walked);
:func:`try_every_route` calls each with each token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from canopy_testing.http import bearer
from canopy_testing.route_outages import STREAM_WAIT_S, RouteCall

# The routes that provision tenants and people: an admin's token, no person needed.
PROVISIONING = frozenset(
    {"PUT /v1/tenants/{tenant_id}", "PUT /v1/users/{user_id}", "DELETE /v1/users/{user_id}"}
)
# Every role a token may hold in a tenant: no role makes up for not being a person there.
ROLES = ("member", "moderator", "tenant_admin", "analyst", "group_admin")
NOT_A_MEMBER = "is not an active member of tenant"
# The kinds of token tried: no person in the token's tenant, or a person of another tenant.
NEVER_PROVISIONED, ERASED, DEACTIVATED = "never provisioned", "erased", "deactivated"
OTHER_TENANT = "other tenant"


@dataclass(frozen=True)
class Caller:
    """One kind of token: ``user`` of ``tenant``."""

    kind: str  # NEVER_PROVISIONED, ERASED, DEACTIVATED or OTHER_TENANT
    tenant: str
    user: str


def who_may_not_act(
    tenant: str, *, erased: str, other_tenant: str, other: str, deactivated: str | None = None
) -> list[Caller]:
    """The callers to try in ``tenant``: someone never provisioned there, the ``erased``
    person (and the ``deactivated`` one, when given), and ``other``, an active person of
    ``other_tenant``."""
    return [
        Caller(NEVER_PROVISIONED, tenant, "nobody"),
        Caller(ERASED, tenant, erased),
        *([Caller(DEACTIVATED, tenant, deactivated)] if deactivated is not None else []),
        Caller(OTHER_TENANT, other_tenant, other),
    ]


@dataclass(frozen=True)
class Answer:
    """What ``route`` answered ``caller``."""

    route: str
    caller: Caller
    status: int
    problem: bool  # application/problem+json
    text: str

    def refused_as_no_member(self) -> bool:
        """403 problem+json saying the caller is no active member of the token's tenant."""
        return self.status == 403 and self.problem and NOT_A_MEMBER in self.text


@dataclass(frozen=True)
class Refusals:
    """Every route's answer to every caller of :func:`try_every_route`."""

    answers: list[Answer]

    @property
    def routes(self) -> set[str]:
        """The routes tried."""
        return {a.route for a in self.answers}

    def let_through(self) -> list[Answer]:
        """The answers to callers with no active person in the token's tenant that were not
        :meth:`Answer.refused_as_no_member`: none, when every route requires a member."""
        return [
            a
            for a in self.answers
            if a.caller.kind != OTHER_TENANT and not a.refused_as_no_member()
        ]

    def of_other_tenant(self) -> list[Answer]:
        """The answers to the person of another tenant, for the service's own checks."""
        return [a for a in self.answers if a.caller.kind == OTHER_TENANT]

    def figures(self, service: str) -> str:
        """One line: routes x token kinds tried, and the statuses seen per kind."""
        kinds: dict[str, dict[int, int]] = {}
        for answer in self.answers:
            seen = kinds.setdefault(answer.caller.kind, {})
            seen[answer.status] = seen.get(answer.status, 0) + 1
        per_kind = "; ".join(
            f"{kind}: " + ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items()))
            for kind, statuses in kinds.items()
        )
        tried = f"{len(self.routes)} routes x {len(kinds)} token kinds = {len(self.answers)} calls"
        return f"{service}: {tried}; {per_kind}"


async def try_every_route(
    client: httpx.AsyncClient, auth: Any, calls: Sequence[RouteCall], callers: Iterable[Caller]
) -> Refusals:
    """Each of ``calls`` (but :data:`PROVISIONING`) with a token of each of ``callers``."""
    answers = []
    for call in calls:
        if call.route in PROVISIONING:
            continue
        for caller in callers:
            headers = bearer(auth, caller.tenant, caller.user, *ROLES)
            request = client.request(call.method, call.path, headers=headers, json=call.body)
            try:
                response = await asyncio.wait_for(request, STREAM_WAIT_S)
            except TimeoutError:  # a stream opened: the caller's own, empty
                answers.append(Answer(call.route, caller, 200, False, "a stream opened"))
                continue
            problem = response.headers.get("content-type", "").startswith(
                "application/problem+json"
            )
            answers.append(Answer(call.route, caller, response.status_code, problem, response.text))
    return Refusals(answers)
