"""Redis client of a service: created in its lifespan, closed after it."""

from __future__ import annotations

from redis.asyncio import Redis

from canopy_common.settings import RedisSettings

# Ping a connection idle this long before reusing it, so one dropped by Redis or a proxy
# (after a restart or an idle timeout) is replaced instead of failing a command.
HEALTH_CHECK_INTERVAL_S = 30
# Fail fast when Redis is down: callers retry with backoff or answer 503 (docs/architecture.md §9).
CONNECT_TIMEOUT_S = 5.0


def create_redis(settings: RedisSettings) -> Redis:
    """A client for ``settings.url`` returning ``bytes`` (callers decode what they need)."""
    return Redis.from_url(
        settings.url,
        decode_responses=False,
        max_connections=settings.max_connections,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
    )


async def close_redis(client: Redis) -> None:
    """Close ``client`` and its connection pool."""
    await client.aclose(close_connection_pool=True)
