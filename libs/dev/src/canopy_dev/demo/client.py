"""Calling the running services as the demo's people: a JWT each, retries of transient answers.

Everything the demo does goes through the services' public HTTP APIs (and the upstream topic),
exactly as a client would; nothing touches a database.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from canopy_common.auth import issue_token
from canopy_common.settings import AuthSettings

T = TypeVar("T")

HTTP_TIMEOUT_S = 30.0
# The seeder keeps a few requests in flight (seed.CONCURRENCY); keep their connections warm.
_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=16)
RETRIES = 6  # 429/5xx and dropped connections: 0.2 s doubling, about 12 s in all
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class DemoError(RuntimeError):
    """The demo could not be applied; the message says which request and what it answered."""


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the four services."""

    ingestion: str
    fanout: str
    notify: str
    analytics: str

    @classmethod
    def local(cls, ports: Mapping[str, int], host: str = "127.0.0.1") -> Endpoints:
        """The services of ``make up`` (``ports`` from ``ports.service_ports()``)."""
        url = {name: f"http://{host}:{port}" for name, port in ports.items()}
        return cls(url["ingestion"], url["fanout"], url["notify"], url["analytics"])


def http_client() -> httpx.AsyncClient:
    """The demo's HTTP client (the caller closes it)."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        # httpcore 1.0.9 tries `import sniffio` on every request; without sniffio (anyio no
        # longer pulls it in) each failed import walks sys.path and costs the seeder about
        # half its CPU (encode/httpcore#1103). A None entry makes the import fail at once.
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, limits=_LIMITS)


class Api:
    """One HTTP client for the demo: every call is made as a person of ``tenant``."""

    def __init__(
        self,
        endpoints: Endpoints,
        tenant: str,
        client: httpx.AsyncClient,
        auth: AuthSettings | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.tenant = tenant
        self.client = client
        self.auth = auth or AuthSettings()
        self._tokens: dict[tuple[str, tuple[str, ...]], str] = {}

    def headers(self, user: str, roles: Iterable[str] = ("member",)) -> dict[str, str]:
        wanted = tuple(sorted(roles))
        token = self._tokens.get((user, wanted))
        if token is None:
            token = issue_token(self.auth, tenant=self.tenant, user=user, roles=wanted)
            self._tokens[(user, wanted)] = token
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        method: str,
        url: str,
        user: str,
        *,
        roles: Iterable[str] = ("member",),
        json: Any = None,
        key: str | None = None,
        params: Mapping[str, str | int] | None = None,
        expect: Iterable[int] = (200, 201, 202, 204),
    ) -> httpx.Response:
        """Make the request as ``user``; a status outside ``expect`` raises :class:`DemoError`.

        Transient answers (429, 502 to 504, a dropped connection) are retried with backoff.
        ``key`` is sent as the ``Idempotency-Key``.
        """
        headers = self.headers(user, roles)
        if key is not None:
            headers["Idempotency-Key"] = key
        delay = 0.2
        for attempt in range(RETRIES + 1):
            try:
                response = await self.client.request(
                    method, url, headers=headers, json=json, params=params
                )
            except httpx.TransportError as exc:
                if attempt == RETRIES:
                    raise DemoError(f"{method} {url} as {user}: {exc!r}") from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt == RETRIES:
                    break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        if response.status_code not in set(expect):
            raise DemoError(
                f"{method} {url} as {user}: {response.status_code} {response.text[:500]}"
            )
        return response

    async def write(self, method: str, path: str, user: str, **kwargs: Any) -> httpx.Response:
        """A call to ingestion's write API."""
        return await self.call(method, self.endpoints.ingestion + path, user, **kwargs)


def created(response: httpx.Response) -> bool:
    """Whether a write made something new (not a replay, not "already so")."""
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    return response.status_code in (201, 202) and not replayed


async def each(items: Iterable[T], act: Callable[[T], Awaitable[bool]], limit: int) -> int:
    """Run ``act`` on every item, at most ``limit`` at a time; how many answered True.

    The first failure cancels the rest and is raised.
    """
    gate = asyncio.Semaphore(limit)
    results: list[bool] = []

    async def one(item: T) -> None:
        async with gate:
            results.append(await act(item))

    try:
        async with asyncio.TaskGroup() as group:
            for item in items:
                group.create_task(one(item))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return sum(results)
