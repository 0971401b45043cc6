"""The one client of the four services' public HTTP APIs (docs/architecture.md §18).

Every call carries the signed-in person's token. Answers are mapped once, here: a 2xx gives
its JSON; a problem+json 4xx becomes :class:`ApiError` with the service's own words (a page
shows them); 401 becomes :class:`SignInRequired` (the session is over); a 5xx, a timeout or a
refused connection becomes :class:`ServiceDown` (a 503 page with Retry-After).
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from httpx_sse import EventSource, aconnect_sse

from canopy_web.metrics import Outcome, WebMetrics

# Seconds a browser is told to wait before trying again when a service is down.
RETRY_AFTER_S = 5


class Service(StrEnum):
    INGESTION = "ingestion"
    FANOUT = "fanout"
    NOTIFY = "notify"
    ANALYTICS = "analytics"


class ApiError(Exception):
    """A service refused the request (4xx): its status and problem+json title and detail."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail


class SignInRequired(Exception):
    """No session, an ended one, or a token the services no longer accept: sign in again."""


class ServiceDown(Exception):
    """A service did not answer, or failed (5xx)."""

    def __init__(self, service: Service, reason: str, retry_after_s: int = RETRY_AFTER_S) -> None:
        super().__init__(f"{service} unavailable: {reason}")
        self.service = service
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list route: its items and the cursors to the next and previous pages."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    prev_cursor: str | None = None


def _problem(response: httpx.Response) -> ApiError:
    title, detail = response.reason_phrase, ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or title)
        detail = str(body.get("detail") or "")
        errors = body.get("errors")
        if not detail and isinstance(errors, list) and errors:
            detail = "; ".join(str(e.get("msg", e)) for e in errors if isinstance(e, dict))
    return ApiError(response.status_code, title, detail)


def outcome_of(status: int) -> Outcome:
    """How an answer with ``status`` ends a call, as :meth:`Api.request` maps it."""
    if status == 401:
        return Outcome.SIGNED_OUT
    if status >= 500 or status == 429:
        return Outcome.DOWN
    if status >= 400:
        return Outcome.REFUSED
    return Outcome.OK


class Api:
    """The four services, as one signed-in person."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        urls: Mapping[Service, str],
        token: str,
        *,
        metrics: WebMetrics,
    ) -> None:
        self._http = http
        self._urls = urls
        self._token = token
        self._metrics = metrics

    def url(self, service: Service, path: str) -> str:
        """The absolute URL of ``path`` on ``service``."""
        return self._urls[service].rstrip("/") + path

    @property
    def headers(self) -> dict[str, str]:
        """The headers every call carries."""
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}

    async def request(
        self,
        method: str,
        service: Service,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: str = "application/json",
    ) -> httpx.Response:
        """The service's answer when it is a 2xx; every other outcome raised as above."""
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method,
                self.url(service, path),
                params=query,
                json=json,
                headers={**self.headers, "Accept": accept},
            )
        except httpx.TransportError as exc:  # timeouts, refused connections, resets
            self._metrics.api_call(service, Outcome.UNREACHABLE, time.perf_counter() - started)
            raise ServiceDown(service, type(exc).__name__) from exc
        self._metrics.api_call(
            service, outcome_of(response.status_code), time.perf_counter() - started
        )
        _raise_for(service, response)
        return response

    async def get(self, service: Service, path: str, **params: Any) -> Any:
        """GET ``path``: its JSON body."""
        return (await self.request("GET", service, path, params=params)).json()

    async def page(self, service: Service, path: str, **params: Any) -> Page:
        """GET a list route: one page of items and its cursors."""
        body = await self.get(service, path, **params)
        return Page(
            items=list(body.get("items", [])),
            next_cursor=body.get("next_cursor"),
            prev_cursor=body.get("prev_cursor"),
        )

    async def send(
        self,
        method: str,
        service: Service,
        path: str,
        json: Any = None,
        **params: Any,
    ) -> Any:
        """A POST, PUT, PATCH or DELETE: the JSON answered, None for an empty answer."""
        response = await self.request(method, service, path, params=params, json=json)
        if not response.content:
            return None
        return response.json()

    @asynccontextmanager
    async def events(
        self, service: Service, path: str, *, last_event_id: str | None, idle_s: float
    ) -> AsyncIterator[EventSource]:
        """A Server-Sent Events stream of ``service`` (``Last-Event-ID`` resumes it), mapped as
        every other answer; a stream silent for ``idle_s`` is taken as broken (ServiceDown)."""
        headers = {"Authorization": f"Bearer {self._token}"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        timeout = httpx.Timeout(self._http.timeout.connect, read=idle_s)
        try:
            # A client of its own: closing it surely closes the socket, so the service sees the
            # stream end at once (a stream cancelled on the shared client kept its connection
            # open, and notify kept a stream, with its Redis connection, for every page left).
            async with (
                httpx.AsyncClient(timeout=timeout, verify=_tls_context()) as client,
                aconnect_sse(client, "GET", self.url(service, path), headers=headers) as source,
            ):
                response = source.response
                if response.status_code != 200:
                    await response.aread()
                    _raise_for(service, response)
                yield source
        except httpx.TransportError as exc:  # refused, reset, or silent past idle_s
            raise ServiceDown(service, type(exc).__name__) from exc


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for the stream clients: building one (the CA bundle) costs milliseconds
    of CPU, too much for every page's stream."""
    return ssl.create_default_context()


def _raise_for(service: Service, response: httpx.Response) -> None:
    """The one mapping of a non-2xx answer to the exceptions above."""
    outcome = outcome_of(response.status_code)
    if outcome is Outcome.SIGNED_OUT:
        raise SignInRequired
    if outcome is Outcome.DOWN:
        retry = response.headers.get("Retry-After", "")
        raise ServiceDown(
            service,
            f"HTTP {response.status_code}",
            int(retry) if retry.isdigit() else RETRY_AFTER_S,
        )
    if outcome is Outcome.REFUSED:
        raise _problem(response)
