"""Transient or poison: how Canopy tells "a dependency is down" from "this input is bad".

A consumer retries a transient failure (pausing, never dead-lettering it) and dead-letters any
other; an HTTP handler can map a transient failure to 503 + Retry-After.
"""

from __future__ import annotations

import asyncpg
import redis.exceptions
from aiokafka.errors import KafkaError, KafkaTimeoutError

from canopy_common.errors import CanopyError, ServiceUnavailable


class TransientError(ServiceUnavailable):
    """Raise from a handler when a dependency is unavailable: the record is retried, never
    dead-lettered. Rendered as 503 + Retry-After when raised in an HTTP request."""


_ASYNCPG_TRANSIENT: tuple[type[Exception], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    # A failover leaves the old primary read-only; overload shows as lock and statement
    # timeouts and as insufficient resources (class 53: disk full, out of memory).
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.InsufficientResourcesError,
)
_ASYNCPG_CONNECTION_GONE = ("connection is closed", "pool is closing", "pool is closed")
_REDIS_TRANSIENT: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.OutOfMemoryError,  # maxmemory reached: Redis is full, the record is fine
)
# BUSY: a script holds the server. redis-py raises a plain ResponseError for it.
_REDIS_BUSY_PREFIX = "BUSY "
# Statuses a dependency answers while overloaded or restarting.
_TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})

# Every exception class :func:`is_transient` can say yes to, apart from :class:`CanopyError`
# and an explicit cause: what an HTTP app hands to its outage handler (which still asks
# :func:`is_transient`; a constraint violation is a PostgresError too).
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # ConnectionError and TimeoutError (a pool acquire timing out) among them
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    redis.exceptions.RedisError,
    KafkaError,
    ExceptionGroup,
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` means "a dependency is down, try again later" rather than a bad record.

    Transient: :class:`TransientError` and 429/502/503/504 :class:`CanopyError`; ``OSError``
    (so ``ConnectionError``) and timeouts; asyncpg connection, shutdown, too-many-connections,
    serialization, deadlock, read-only (failover), lock and statement timeout and
    insufficient-resources errors and "connection/pool is closed"; Redis connection, timeout,
    LOADING, TRYAGAIN, CLUSTERDOWN, READONLY, OOM and BUSY; retriable Kafka errors and Kafka
    timeouts.
    Explicit causes (``raise X from exc``) and exception groups count if any member does.
    """
    if isinstance(exc, BaseExceptionGroup):
        transient = any(is_transient(inner) for inner in exc.exceptions)
    elif isinstance(exc, CanopyError):
        transient = exc.status in _TRANSIENT_STATUSES
    elif isinstance(exc, KafkaError):
        transient = bool(exc.retriable) or isinstance(exc, KafkaTimeoutError)
    elif isinstance(exc, redis.exceptions.ResponseError) and str(exc).startswith(
        _REDIS_BUSY_PREFIX
    ):
        transient = True
    elif isinstance(exc, asyncpg.InterfaceError):
        transient = any(phrase in str(exc) for phrase in _ASYNCPG_CONNECTION_GONE)
    else:
        transient = isinstance(exc, (OSError, TimeoutError, *_ASYNCPG_TRANSIENT, *_REDIS_TRANSIENT))
    return transient or (exc.__cause__ is not None and is_transient(exc.__cause__))
