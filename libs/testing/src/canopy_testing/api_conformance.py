"""A service's API against its own OpenAPI document, with schemathesis (docs/architecture.md §8).

:func:`check_conformance` reads the document the server serves and, for every operation and
every caller given (a member, a tenant admin, ...), sends requests schemathesis generates from
it — valid ones and, with ``negative``, invalid ones — and checks each answer: no server error,
a documented status, a documented content type, the documented headers, the documented body.
Generation is derandomized, so a run repeats exactly; every failure is collected (not only
the first), and the figures say what was tried.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisDeprecationWarning, Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from canopy_common.settings import AuthSettings
from canopy_testing.http import bearer, served_over_http

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# One request may wait this long: a stuck route fails the run instead of hanging it.
REQUEST_TIMEOUT_S = 10.0
# Per operation, caller and kind (valid, invalid): what the four services' runs, some
# 4,000 requests in all, take within about a minute of `make test`.
EXAMPLES = 25


@dataclass
class Conformance:
    """What a run tried and found: examples sent per operation (``"METHOD /path"``), the
    statuses answered, and one message per failing (caller, operation, check)."""

    examples: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self, service: str) -> str:
        """One line: operations and examples, statuses, failures, time."""
        total = sum(self.examples.values())
        statuses = ", ".join(f"{s} x{n}" for s, n in sorted(self.statuses.items()))
        server_errors = sum(n for s, n in self.statuses.items() if s >= 500 and s != 503)
        return (
            f"{service}: {len(self.examples)} operations, {total} examples "
            f"({statuses}); {server_errors} server errors, {len(self.failures)} failures; "
            f"{self.seconds:.1f} s"
        )


def _run_operation(
    operation: Any,
    base_url: str,
    callers: Mapping[str, Mapping[str, str]],
    max_examples: int,
    modes: Collection[GenerationMode],
    found: Conformance,
) -> None:
    seen: set[tuple[str, str]] = set()  # one message per caller and failing checks
    for caller, headers in callers.items():
        for mode in modes:
            _examples(operation, mode, caller, dict(headers), base_url, max_examples, found, seen)


def _examples(
    operation: Any,
    mode: GenerationMode,
    caller: str,
    headers: dict[str, str],
    base_url: str,
    max_examples: int,
    found: Conformance,
    seen: set[tuple[str, str]],
) -> None:
    label = operation.label

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S)
        found.examples[label] = found.examples.get(label, 0) + 1
        found.statuses[response.status_code] = found.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as failure:
            names = ",".join(sorted({type(f).__name__ for f in failure.exceptions}))
            if (caller, names) not in seen:
                seen.add((caller, names))
                found.failures.append(f"{label} as {caller} ({mode.value}): {failure}")

    try:
        with warnings.catch_warnings():
            # schemathesis' strategies touch the global `random` (hypothesis frowns on it);
            # the run is derandomized all the same.
            warnings.filterwarnings(
                "ignore", "Do not use the `random` module", HypothesisDeprecationWarning
            )
            run()
    except Unsatisfiable:
        # No input to make invalid (an operation without parameters or body): nothing to send.
        if mode is not GenerationMode.NEGATIVE:
            raise


async def check_conformance(
    base_url: str,
    callers: Mapping[str, Mapping[str, str]],
    *,
    max_examples: int,
    negative: bool = True,
    skip: Collection[str] = (),
) -> Conformance:
    """Every operation of the document served at ``base_url/openapi.json`` but ``skip``
    (``"GET /v1/x"``), tried ``max_examples`` times per caller (``callers``: name → headers,
    e.g. a bearer token) with valid data, and as many with invalid data when ``negative``.
    Runs in a worker thread: the server may live in this event loop."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        document = (await client.get("/openapi.json")).raise_for_status().json()
    schema = schemathesis.openapi.from_dict(document)
    modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if negative else [])]
    found = Conformance()
    started = time.monotonic()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is wrong
        operation = result.ok()
        if operation.label in skip:
            continue
        await asyncio.to_thread(
            _run_operation, operation, base_url, callers, max_examples, modes, found
        )
    found.seconds = time.monotonic() - started
    return found


async def conformance_of(
    app: FastAPI, callers: Mapping[str, Mapping[str, str]], *, skip: Collection[str] = ()
) -> Conformance:
    """``app`` served over real HTTP (its lifespan builds its clients against the real
    Postgres, Redis and broker) and checked by :func:`check_conformance`, :data:`EXAMPLES`
    times per operation, caller and kind."""
    async with served_over_http(app) as base_url:
        return await check_conformance(base_url, callers, max_examples=EXAMPLES, skip=skip)


def member_and_admin(
    auth: AuthSettings, tenant: str, member: str, admin: str
) -> dict[str, dict[str, str]]:
    """The two callers every service is tried as: ``member`` (role member) and ``admin``
    (roles member and tenant_admin) of ``tenant``, as ``callers`` of
    :func:`check_conformance`. Both must be provisioned, active people."""
    return {
        "member": bearer(auth, tenant, member, "member"),
        "tenant admin": bearer(auth, tenant, admin, "member", "tenant_admin"),
    }
