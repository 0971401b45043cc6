"""Transient or poison: a dependency being down is retried, a bad record is dead-lettered."""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import TypeVar

import asyncpg
import orjson
import pydantic
import pytest
import redis.exceptions
from aiokafka import errors as kafka_errors

from canopy_common.errors import (
    CanopyError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
)
from canopy_common.events import InvalidActivity
from canopy_common.transient import TransientError, is_transient

E = TypeVar("E", bound=BaseException)


class _Note(pydantic.BaseModel):
    content: str


def _validation_error() -> pydantic.ValidationError:
    try:
        _Note.model_validate({"content": 42})
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("expected a validation error")


def _json_error() -> orjson.JSONDecodeError:
    try:
        orjson.loads(b"{not json")
    except orjson.JSONDecodeError as exc:
        return exc
    raise AssertionError("expected a decode error")


def _raised_from(exc: E, cause: BaseException) -> E:
    """``exc`` as a handler leaves it after ``raise exc from cause``."""
    try:
        raise exc from cause
    except BaseException:
        return exc


TRANSIENT = [
    pytest.param(OSError(errno.ENETUNREACH, "Network is unreachable"), id="os-error"),
    pytest.param(ConnectionError("connection lost"), id="connection-error"),
    pytest.param(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), id="connection-refused"),
    pytest.param(ConnectionResetError(errno.ECONNRESET, "reset by peer"), id="connection-reset"),
    pytest.param(BrokenPipeError(errno.EPIPE, "broken pipe"), id="broken-pipe"),
    pytest.param(socket.gaierror(socket.EAI_NONAME, "unknown host"), id="dns-failure"),
    pytest.param(TimeoutError(), id="timeout"),
    pytest.param(TransientError("database unavailable"), id="transient-error"),
    pytest.param(ServiceUnavailable("feed store unavailable"), id="service-unavailable"),
    pytest.param(CanopyError("upstream down", 503), id="canopy-503"),
    pytest.param(CanopyError("upstream timed out", 504), id="canopy-504"),
    pytest.param(CanopyError("bad gateway", 502), id="canopy-502"),
    pytest.param(CanopyError("slow down", 429), id="canopy-429"),
]

POSTGRES_TRANSIENT = [
    pytest.param(asyncpg.PostgresConnectionError("connection failure"), id="connection-error"),
    pytest.param(
        asyncpg.exceptions.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        ),
        id="connection-lost-mid-query",
    ),
    pytest.param(
        asyncpg.exceptions.ConnectionFailureError("server closed the connection"),
        id="connection-failure",
    ),
    pytest.param(
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        id="starting-up",
    ),
    pytest.param(
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        id="too-many-connections",
    ),
    pytest.param(
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        id="admin-shutdown",
    ),
    pytest.param(
        asyncpg.exceptions.CrashShutdownError("terminating connection due to crash"),
        id="crash-shutdown",
    ),
    pytest.param(
        asyncpg.exceptions.SerializationError("could not serialize access"), id="serialization"
    ),
    pytest.param(asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), id="deadlock"),
    pytest.param(asyncpg.InterfaceError("connection is closed"), id="connection-is-closed"),
    pytest.param(
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        id="operation-on-closed-connection",
    ),
    pytest.param(
        asyncpg.InterfaceError("cannot call Cursor.fetch(): the underlying connection is closed"),
        id="cursor-on-closed-connection",
    ),
    pytest.param(asyncpg.InterfaceError("pool is closing"), id="pool-is-closing"),
    pytest.param(asyncpg.InterfaceError("pool is closed"), id="pool-is-closed"),
    pytest.param(
        asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only"),
        id="read-only-after-failover",
    ),
    pytest.param(
        asyncpg.exceptions.LockNotAvailableError("could not obtain lock"), id="lock-timeout"
    ),
    pytest.param(
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        id="statement-timeout",
    ),
    pytest.param(asyncpg.exceptions.DiskFullError("could not extend file"), id="disk-full"),
    pytest.param(asyncpg.exceptions.OutOfMemoryError("out of memory"), id="postgres-oom"),
]

REDIS_TRANSIENT = [
    pytest.param(redis.exceptions.ConnectionError("Connection refused"), id="connection-error"),
    pytest.param(redis.exceptions.TimeoutError("Timeout reading from socket"), id="timeout"),
    pytest.param(
        redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"), id="loading"
    ),
    pytest.param(redis.exceptions.MaxConnectionsError("Too many connections"), id="pool-full"),
    pytest.param(redis.exceptions.TryAgainError("Multiple keys request"), id="tryagain"),
    pytest.param(redis.exceptions.ClusterDownError("The cluster is down"), id="clusterdown"),
    pytest.param(redis.exceptions.MasterDownError("Link with MASTER is down"), id="masterdown"),
    pytest.param(
        redis.exceptions.ReadOnlyError("You can't write against a read only replica."),
        id="readonly",
    ),
    pytest.param(
        redis.exceptions.OutOfMemoryError("OOM command not allowed when used memory > maxmemory"),
        id="oom",
    ),
    pytest.param(
        redis.exceptions.ResponseError("BUSY Redis is busy running a script."), id="busy-script"
    ),
]

KAFKA_TRANSIENT = [
    pytest.param(kafka_errors.KafkaConnectionError("Unable to bootstrap"), id="connection"),
    pytest.param(kafka_errors.KafkaTimeoutError("Batch is expired"), id="timeout"),
    pytest.param(kafka_errors.RequestTimedOutError(), id="request-timed-out"),
    pytest.param(kafka_errors.NodeNotReadyError("node 1"), id="node-not-ready"),
    pytest.param(kafka_errors.NotLeaderForPartitionError(), id="leader-moved"),
    pytest.param(kafka_errors.LeaderNotAvailableError(), id="leader-election"),
    pytest.param(kafka_errors.NotEnoughReplicasError(), id="not-enough-replicas"),
    pytest.param(kafka_errors.CoordinatorNotAvailableError(), id="coordinator-unavailable"),
]

POISON = [
    pytest.param(ValueError("bad value"), id="value-error"),
    pytest.param(KeyError("object"), id="key-error"),
    pytest.param(TypeError("expected str"), id="type-error"),
    pytest.param(RuntimeError("unexpected state"), id="runtime-error"),
    pytest.param(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), id="not-utf8"),
    pytest.param(_json_error(), id="bad-json"),
    pytest.param(_validation_error(), id="pydantic-validation"),
    pytest.param(InvalidActivity("$.type", "unknown activity type"), id="invalid-activity"),
    pytest.param(CanopyError("bad request"), id="canopy-400"),
    pytest.param(Unauthorized("expired token"), id="canopy-401"),
    pytest.param(Forbidden("not a member"), id="canopy-403"),
    pytest.param(NotFound("no such group"), id="canopy-404"),
    pytest.param(Conflict("already exists"), id="canopy-409"),
    pytest.param(PayloadTooLarge("too big"), id="canopy-413"),
    pytest.param(InvalidInput("missing actor"), id="canopy-422"),
    pytest.param(CanopyError("internal", 500), id="canopy-500"),
]

POSTGRES_POISON = [
    pytest.param(
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        id="unique-violation",
    ),
    pytest.param(
        asyncpg.exceptions.ForeignKeyViolationError("violates foreign key constraint"),
        id="foreign-key-violation",
    ),
    pytest.param(
        asyncpg.exceptions.CheckViolationError("violates check constraint"), id="check-violation"
    ),
    pytest.param(
        asyncpg.exceptions.StringDataRightTruncationError("value too long"), id="value-too-long"
    ),
    pytest.param(
        asyncpg.exceptions.UndefinedTableError('relation "posts" does not exist'),
        id="undefined-table",
    ),
    pytest.param(
        asyncpg.DataError("invalid input for query argument $1: 'x' (an integer is required)"),
        id="invalid-query-argument",
    ),
    pytest.param(
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        id="concurrent-use-of-a-connection",
    ),
]

REDIS_POISON = [
    pytest.param(
        redis.exceptions.ResponseError("WRONGTYPE Operation against a key"), id="wrongtype"
    ),
    pytest.param(redis.exceptions.DataError("Invalid input of type: 'dict'"), id="bad-argument"),
    pytest.param(redis.exceptions.NoScriptError("No matching script"), id="noscript"),
]

KAFKA_POISON = [
    pytest.param(kafka_errors.MessageSizeTooLargeError(), id="message-too-large"),
    pytest.param(kafka_errors.TopicAuthorizationFailedError(), id="not-authorized"),
    pytest.param(kafka_errors.KafkaError("unknown"), id="plain-kafka-error"),
]


@pytest.mark.parametrize("exc", TRANSIENT)
def test_an_unreachable_dependency_or_timeout_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", POSTGRES_TRANSIENT)
def test_a_postgres_outage_or_retryable_conflict_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", REDIS_TRANSIENT)
def test_a_redis_outage_or_failover_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", KAFKA_TRANSIENT)
def test_a_retriable_kafka_error_or_kafka_timeout_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", POISON)
def test_bad_input_and_client_errors_are_poison(exc: Exception) -> None:
    assert not is_transient(exc)


@pytest.mark.parametrize("exc", POSTGRES_POISON)
def test_a_postgres_error_caused_by_the_record_is_poison(exc: Exception) -> None:
    assert not is_transient(exc)


@pytest.mark.parametrize("exc", REDIS_POISON)
def test_a_redis_error_caused_by_the_record_is_poison(exc: Exception) -> None:
    assert not is_transient(exc)


@pytest.mark.parametrize("exc", KAFKA_POISON)
def test_a_non_retriable_kafka_error_is_poison(exc: Exception) -> None:
    assert not is_transient(exc)


def test_a_refused_postgres_connection_is_transient() -> None:
    # What asyncpg.connect raises when nothing listens on the port.
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)")

    assert is_transient(refused)


async def test_an_expired_asyncio_timeout_is_transient() -> None:
    with pytest.raises(TimeoutError) as caught:
        async with asyncio.timeout(0):
            await asyncio.sleep(1)

    assert is_transient(caught.value)


def test_a_transient_error_renders_as_503_with_retry_after() -> None:
    exc = TransientError("database unavailable", retry_after_s=7)

    assert isinstance(exc, CanopyError)
    assert exc.status == 503
    assert exc.headers == {"Retry-After": "7"}


def test_a_closed_connection_named_in_bad_query_input_is_still_poison() -> None:
    # The rejected value is quoted in the message; only asyncpg's own closed-connection and
    # closing-pool errors are matched on their text.
    exc = asyncpg.DataError(
        "invalid input for query argument $1: 'connection is closed' (an integer is required)"
    )

    assert not is_transient(exc)


def test_poison_raised_from_an_outage_is_transient() -> None:
    exc = _raised_from(InvalidInput("could not load the group"), ConnectionResetError())

    assert is_transient(exc)


def test_a_wrapper_raised_from_a_postgres_outage_is_transient() -> None:
    outage = asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")

    assert is_transient(_raised_from(RuntimeError("could not store the post"), outage))


def test_an_outage_deep_in_a_chain_of_causes_is_transient() -> None:
    inner = _raised_from(KeyError("feed"), redis.exceptions.ConnectionError("refused"))

    assert is_transient(_raised_from(ValueError("could not fan out"), inner))


def test_poison_raised_from_poison_is_poison() -> None:
    exc = _raised_from(InvalidInput("bad object"), _validation_error())

    assert not is_transient(exc)


def _reject_while_handling_an_outage(*, suppress_context: bool) -> None:
    try:
        raise ConnectionResetError()
    except ConnectionResetError:
        if suppress_context:
            raise ValueError("bad record") from None
        raise ValueError("bad record")  # noqa: B904


def test_poison_raised_from_none_after_an_outage_is_poison() -> None:
    with pytest.raises(ValueError, match="bad record") as caught:
        _reject_while_handling_an_outage(suppress_context=True)

    assert not is_transient(caught.value)


def test_an_outage_that_was_only_being_handled_does_not_make_poison_transient() -> None:
    # Only explicit causes count: ``__context__`` is set for any error raised in an except
    # block, including a bad-record error that has nothing to do with the outage.
    with pytest.raises(ValueError, match="bad record") as caught:
        _reject_while_handling_an_outage(suppress_context=False)

    assert isinstance(caught.value.__context__, ConnectionResetError)
    assert not is_transient(caught.value)


def test_a_group_with_one_outage_among_poison_is_transient() -> None:
    group = ExceptionGroup("fan-out failed", [ValueError("bad"), ConnectionRefusedError()])

    assert is_transient(group)


def test_a_group_of_poison_only_is_poison() -> None:
    group = ExceptionGroup("fan-out failed", [ValueError("bad"), _validation_error()])

    assert not is_transient(group)


def test_an_outage_in_a_nested_group_is_transient() -> None:
    inner = ExceptionGroup("redis", [redis.exceptions.TimeoutError("slow")])
    group = ExceptionGroup("fan-out failed", [KeyError("x"), inner])

    assert is_transient(group)


def test_an_outage_as_the_cause_of_a_group_member_is_transient() -> None:
    member = _raised_from(RuntimeError("push failed"), redis.exceptions.ConnectionError("down"))
    group = ExceptionGroup("fan-out failed", [ValueError("bad"), member])

    assert is_transient(group)


def test_a_group_raised_from_an_outage_is_transient() -> None:
    group = _raised_from(ExceptionGroup("fan-out failed", [ValueError("bad")]), TimeoutError())

    assert is_transient(group)


def test_a_base_exception_group_with_a_cancellation_and_an_outage_is_transient() -> None:
    group = BaseExceptionGroup("stopped", [asyncio.CancelledError(), ConnectionResetError()])

    assert is_transient(group)


async def test_a_task_group_whose_task_hit_an_outage_is_transient() -> None:
    async def fetch_members() -> None:
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")

    with pytest.raises(ExceptionGroup) as caught:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(fetch_members())

    assert is_transient(caught.value)
