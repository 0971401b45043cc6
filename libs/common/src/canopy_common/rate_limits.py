"""Request budgets per person and per tenant, kept in Redis (docs/architecture.md §8).

Every authenticated route of every service belongs to one :class:`RouteClass`: ``GET`` routes
are ``reads`` and every other method ``writes`` unless the service's
:class:`~canopy_common.service.ServiceDefinition` names the route in its ``route_classes``
(people search, the live stream, analytics). :func:`create_service_app
<canopy_common.service.create_service_app>` puts :func:`rate_limit_dependency` on every
router it mounts, so no route can be left out; the operations routes (health, readiness,
metrics, OpenAPI) are mounted apart and never counted.

The check runs after authentication, keyed by the verified tenant and user. A request over
budget gets 429 problem+json (:class:`~canopy_common.errors.RateLimited`) with
``Retry-After``; every counted answer carries the ``RateLimit-Policy`` and ``RateLimit``
fields of draft-ietf-httpapi-ratelimit-headers-10 (structured fields: one list member for
the person's budget, one for the tenant's). Budgets are fixed windows of
``CANOPY_RATE_LIMIT_WINDOW_S`` (one Lua script, one round trip, both counters); live streams
hold a leased slot for as long as they are open.

Redis unreachable: the request goes through unchecked, logged and counted in
``canopy_<svc>_rate_limit_unchecked_total`` (fail-open). Budgets guard against runaway
clients, not against an attack an outage would let in; failing closed would turn a cache
outage into an outage of every write, which ingestion otherwise serves from Postgres alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canopy_common.auth import CurrentPrincipal
from canopy_common.errors import RateLimited
from canopy_common.metrics import get_or_create_counter, metric_name, route_template
from canopy_common.principal import Principal
from canopy_common.settings import RateLimitSettings
from canopy_common.transient import is_transient

log = structlog.get_logger(__name__)

# A live stream's slot expires this long after its last renewal, so a process that died
# with streams open frees their slots within a minute.
STREAM_LEASE_S = 60.0
STREAM_RENEW_S = STREAM_LEASE_S / 3
# What a refused stream is told to wait: slots free up when a stream closes, at no known time.
STREAM_RETRY_AFTER_S = 10
# An outage logs once per this many seconds (every request is still counted in the metric).
_OUTAGE_LOG_EVERY_S = 10.0
# Where request.state keeps the fields RateLimitHeaders adds to the answer.
_STATE_KEY = "rate_limit_headers"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RouteClass(StrEnum):
    """What a route costs, hence which budget it draws on."""

    WRITES = "writes"
    READS = "reads"
    SEARCH = "search"
    ANALYTICS = "analytics"
    STREAMS = "streams"  # live streams (SSE): counted while open, not per request


def route_key(method: str, path: str) -> str:
    """How ``route_classes`` names a route: ``"GET /v1/users"`` (the path template)."""
    return f"{method.upper()} {path}"


def classify(method: str, path: str, route_classes: Mapping[str, RouteClass]) -> RouteClass:
    """The class of the route ``method path``: the service's own naming, else ``reads`` for
    GET, HEAD and OPTIONS and ``writes`` for the rest."""
    named = route_classes.get(route_key(method, path))
    if named is not None:
        return named
    return RouteClass.READS if method.upper() in _READ_METHODS else RouteClass.WRITES


def every_route(route_class: RouteClass, *routers: APIRouter) -> dict[str, RouteClass]:
    """``route_classes`` putting every route of ``routers`` in ``route_class`` (a service
    whose every route costs alike, such as analytics)."""
    return {
        route_key(method, route.path): route_class
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget's state after a check: ``quota`` per ``window_s`` (None: at once), what is
    left, and in how many seconds it is whole again (None for streams)."""

    name: str
    quota: int
    remaining: int
    window_s: int | None
    reset_s: int | None

    def policy_item(self) -> str:
        """This budget as a ``RateLimit-Policy`` list member."""
        if self.window_s is None:
            return f'"{self.name}";q={self.quota};qu="concurrent-requests"'
        return f'"{self.name}";q={self.quota};w={self.window_s}'

    def state_item(self) -> str:
        """This budget as a ``RateLimit`` list member."""
        if self.reset_s is None:
            return f'"{self.name}";r={self.remaining}'
        return f'"{self.name}";r={self.remaining};t={self.reset_s}'


@dataclass(frozen=True, slots=True)
class Verdict:
    """A check's outcome: whether the request may go on, and the person's and the tenant's
    budgets as they stand."""

    allowed: bool
    person: Budget
    tenant: Budget

    @classmethod
    def of(
        cls,
        route_class: RouteClass,
        allowed: object,
        quotas: tuple[int, int],
        used: tuple[int, int],
        window_s: int | None = None,
        reset_s: int | None = None,
    ) -> Verdict:
        """The verdict of a check of ``route_class`` as a script answered it: the person's and
        the tenant's ``quotas`` and what each has ``used`` (requests in the window, or open
        streams when ``window_s`` is None). The tenant's budget is named ``<class>-tenant``."""
        person, tenant = (
            Budget(name, quota, max(0, quota - int(spent)), window_s, reset_s)
            for name, quota, spent in zip(
                (str(route_class), f"{route_class}-tenant"), quotas, used, strict=True
            )
        )
        return cls(allowed=bool(allowed), person=person, tenant=tenant)

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers-10)."""
        budgets = (self.person, self.tenant)
        return {
            "RateLimit-Policy": ", ".join(b.policy_item() for b in budgets),
            "RateLimit": ", ".join(b.state_item() for b in budgets),
        }

    def refusal(self, route_class: RouteClass) -> RateLimited:
        """The 429 of a refused request: which budget ran out, and when to come back."""
        spent = self.person if self.person.remaining <= 0 else self.tenant
        whose = "your" if spent is self.person else "your organisation's"
        if spent.reset_s is None:
            retry_after = STREAM_RETRY_AFTER_S
            detail = f"{whose} {spent.quota} live streams are all open; close one first"
        else:
            retry_after = max(1, spent.reset_s)
            detail = (
                f"{whose} budget of {spent.quota} {route_class} requests per "
                f"{spent.window_s} s is spent; retry in {retry_after} s"
            )
        return RateLimited(
            detail,
            retry_after,
            headers={"Retry-After": str(retry_after), **self.headers()},
            extra={"budget": spent.name, "limit": spent.quota, "window_s": spent.window_s},
        )


# Both counters of this window in one round trip; a refused request is not counted.
# KEYS: person counter, tenant counter. ARGV: person quota, tenant quota, TTL.
_WINDOW_SCRIPT = """
local p = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = tonumber(redis.call('GET', KEYS[2]) or '0')
if p >= tonumber(ARGV[1]) or t >= tonumber(ARGV[2]) then return {0, p, t} end
p = redis.call('INCR', KEYS[1])
if p == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
t = redis.call('INCR', KEYS[2])
if t == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return {1, p, t}
"""
# A stream slot in the person's and the tenant's sorted sets (member: the stream's id, score:
# the lease's end); expired leases are dropped first. KEYS: person set, tenant set.
# ARGV: now, lease end, stream id, person quota, tenant quota, TTL.
_SLOT_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local p = redis.call('ZCARD', KEYS[1])
local t = redis.call('ZCARD', KEYS[2])
if p >= tonumber(ARGV[4]) or t >= tonumber(ARGV[5]) then return {0, p, t} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return {1, p + 1, t + 1}
"""


def key(tenant: str, route_class: RouteClass, window: int | None, user: str | None) -> str:
    """Every rate-limit key: ``rl:{tenant}:<class>[:<window>][:u:<user>]``. The ``{tenant}``
    hash tag keeps a person's and their tenant's keys in one Redis Cluster slot, as one
    script touching both requires."""
    name = f"rl:{{{tenant}}}:{route_class}"
    if window is not None:
        name += f":{window}"
    return name if user is None else f"{name}:u:{user}"


class RateLimiter:
    """The budgets of :class:`RateLimitSettings`, checked against Redis.

    :meth:`check` counts one request; :meth:`stream_slot` holds a live stream's slot while
    the stream is open. Both fail open when Redis is unreachable (module docstring).
    """

    def __init__(
        self,
        redis: Redis,
        settings: RateLimitSettings,
        *,
        service: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._window_script = redis.register_script(_WINDOW_SCRIPT)
        self._slot_script = redis.register_script(_SLOT_SCRIPT)
        self._refused = get_or_create_counter(
            metric_name(service, "rate_limited_total"),
            "Requests refused with 429, by route class and whose budget ran out.",
            ("route_class", "budget"),
        )
        self._unchecked = get_or_create_counter(
            metric_name(service, "rate_limit_unchecked_total"),
            "Requests let through unchecked because Redis was unreachable, by route class.",
            ("route_class",),
        )
        self._outage_logged_at = -math.inf

    @property
    def enabled(self) -> bool:
        """Whether budgets are enforced at all (``CANOPY_RATE_LIMIT_ENABLED``)."""
        return self._settings.enabled

    def quotas(self, route_class: RouteClass) -> tuple[int, int]:
        """The person's and the tenant's quota of ``route_class``."""
        settings = self._settings
        return (
            getattr(settings, f"{route_class}_per_person"),
            getattr(settings, f"{route_class}_per_tenant"),
        )

    async def check(self, principal: Principal, route_class: RouteClass) -> Verdict | None:
        """Count one request of ``principal`` against ``route_class``'s budgets.

        Returns the verdict (``allowed`` False: over budget, nothing counted), or None when
        Redis could not be asked (the request goes on unchecked).
        """
        if route_class is RouteClass.STREAMS:
            raise ValueError("streams hold a slot: use stream_slot()")
        window_s = self._settings.window_s
        now = self._clock()
        window = int(now // window_s)
        person_quota, tenant_quota = self.quotas(route_class)
        tenant = principal.tenant_id
        try:
            allowed, person_used, tenant_used = await self._window_script(
                keys=[
                    key(tenant, route_class, window, principal.user_id),
                    key(tenant, route_class, window, None),
                ],
                args=[person_quota, tenant_quota, window_s + 1],
            )
        except Exception as exc:
            self._unreachable(exc, route_class)
            return None
        reset_s = max(1, math.ceil((window + 1) * window_s - now))
        verdict = Verdict.of(
            route_class,
            allowed,
            (person_quota, tenant_quota),
            (person_used, tenant_used),
            window_s,
            reset_s,
        )
        if not verdict.allowed:
            self._count_refusal(verdict, route_class)
        return verdict

    @contextlib.asynccontextmanager
    async def stream_slot(self, principal: Principal) -> AsyncIterator[Verdict | None]:
        """Hold one of the person's (and the tenant's) live-stream slots while the block runs.

        Raises :class:`RateLimited` when every slot is taken. The slot is a lease renewed in
        the background and given back at the end; if the process dies, it lapses after
        :data:`STREAM_LEASE_S`. Yields None when Redis could not be asked.
        """
        route_class = RouteClass.STREAMS
        person_quota, tenant_quota = self.quotas(route_class)
        tenant = principal.tenant_id
        keys = [
            key(tenant, route_class, None, principal.user_id),
            key(tenant, route_class, None, None),
        ]
        stream_id = uuid.uuid4().hex
        now = self._clock()
        try:
            allowed, person_open, tenant_open = await self._slot_script(
                keys=keys,
                args=[
                    now,
                    now + STREAM_LEASE_S,
                    stream_id,
                    person_quota,
                    tenant_quota,
                    int(STREAM_LEASE_S) * 2,
                ],
            )
        except Exception as exc:
            self._unreachable(exc, route_class)
            yield None
            return
        verdict = Verdict.of(
            route_class, allowed, (person_quota, tenant_quota), (person_open, tenant_open)
        )
        if not verdict.allowed:
            self._count_refusal(verdict, route_class)
            raise verdict.refusal(route_class)
        renewal = asyncio.create_task(self._renew(keys, stream_id), name="stream-slot-renewal")
        try:
            yield verdict
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for name in keys:
                        pipe.zrem(name, stream_id)
                    await pipe.execute()
            except Exception as exc:  # the lease lapses by itself
                if not is_transient(exc):
                    raise
                log.warning("stream slot not released; its lease lapses", error=str(exc))

    async def _renew(self, keys: list[str], stream_id: str) -> None:
        while True:
            await asyncio.sleep(STREAM_RENEW_S)
            until = self._clock() + STREAM_LEASE_S
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for name in keys:
                        pipe.zadd(name, {stream_id: until}, xx=True)
                        pipe.expire(name, int(STREAM_LEASE_S) * 2)
                    await pipe.execute()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("stream slot not renewed; retrying", error=str(exc))

    def _count_refusal(self, verdict: Verdict, route_class: RouteClass) -> None:
        whose = "person" if verdict.person.remaining <= 0 else "tenant"
        self._refused.labels(str(route_class), whose).inc()

    def _unreachable(self, exc: Exception, route_class: RouteClass) -> None:
        # Only an outage fails open; anything else is a bug and answers 500.
        if not is_transient(exc):
            raise exc
        self._unchecked.labels(str(route_class)).inc()
        now = time.monotonic()
        if now - self._outage_logged_at >= _OUTAGE_LOG_EVERY_S:
            self._outage_logged_at = now
            log.warning(
                "rate limits unchecked: redis unreachable",
                route_class=str(route_class),
                error=f"{type(exc).__name__}: {exc}",
            )


def install_rate_limits(app: Any, limiter: RateLimiter) -> None:
    """Keep ``limiter`` on ``app.state.rate_limiter``, where :func:`rate_limit_dependency`
    finds it (the lifespan calls this once Redis is built)."""
    app.state.rate_limiter = limiter


def rate_limit_dependency(
    route_classes: Mapping[str, RouteClass],
) -> Callable[[Request, Principal], AsyncIterator[None]]:
    """The FastAPI dependency that checks every request of a router against its budget.

    Put on every router of a service by ``create_service_app`` with the service's
    ``route_classes``. It authenticates first (:data:`CurrentPrincipal`), so its key is the
    verified tenant and user; a stream route holds its slot until its response has ended.
    """
    classes = dict(route_classes)

    async def rate_limited(request: Request, principal: CurrentPrincipal) -> AsyncIterator[None]:
        limiter = getattr(request.app.state, "rate_limiter", None)
        if not isinstance(limiter, RateLimiter):
            raise RuntimeError("no RateLimiter on app.state; call install_rate_limits")
        if not limiter.enabled:
            yield
            return
        route_class = classify(request.method, route_template(request.scope), classes)
        if route_class is RouteClass.STREAMS:
            async with limiter.stream_slot(principal) as verdict:
                if verdict is not None:
                    setattr(request.state, _STATE_KEY, verdict.headers())
                yield
            return
        verdict = await limiter.check(principal, route_class)
        if verdict is not None:
            if not verdict.allowed:
                raise verdict.refusal(route_class)
            setattr(request.state, _STATE_KEY, verdict.headers())
        yield

    return rate_limited


class RateLimitHeaders:
    """ASGI middleware adding the ``RateLimit`` fields a check left on the request's state to
    the answer, whatever the route returns (a ``Response`` of its own, a stream)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                fields = scope.get("state", {}).get(_STATE_KEY)
                if fields:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    extra = [
                        (name.lower().encode(), value.encode())
                        for name, value in fields.items()
                        if name.lower().encode() not in present
                    ]
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_fields)
