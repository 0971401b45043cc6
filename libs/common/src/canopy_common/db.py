"""Postgres for Canopy: the asyncpg pool of a service and the runner of its migrations.

Each service owns one schema (docs/architecture.md §1) and keeps its versioned SQL in a
``migrations/`` folder inside its package, one file per change, named
``NNNN_description.sql``. At start every replica calls :func:`apply_migrations`; an advisory
lock keyed on the schema lets exactly one of them apply what is pending while the others wait
and then find nothing left to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import orjson
import structlog

from canopy_common.errors import CanopyError
from canopy_common.settings import PostgresSettings

MIGRATIONS_FOLDER = "migrations"
MIGRATIONS_TABLE = "schema_migrations"
# A migration (or the wait for another replica's run) may outlast the pool's command timeout:
# index builds on a large table take minutes, and a replica must not give up too early.
MIGRATION_TIMEOUT_S = 600.0

_MIGRATION_NAME = re.compile(r"^(?P<version>\d{4,})_(?P<name>[A-Za-z0-9_]+)\.sql$")
# Lower-case identifiers only, so the quoted and unquoted spellings name the same schema.
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Folder entries that are not migrations and may sit beside them in a package.
_IGNORED_SUFFIXES = (".py", ".pyc", ".md", ".txt")

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

# A connection of one's own, or one acquired from a pool (a string: asyncpg's classes are
# generic only in its stubs).
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

log = structlog.get_logger(__name__)


class MigrationError(CanopyError):
    """A migration cannot be read or applied; the service must not start."""

    status, code = 500, "migration-error"


@dataclass(frozen=True, slots=True)
class Migration:
    """One versioned SQL file of a service's schema."""

    version: int
    name: str
    sql: str
    checksum: str

    @property
    def id(self) -> str:
        """``NNNN_description``: the file name without ``.sql``."""
        return f"{self.version:04d}_{self.name}"

    @classmethod
    def from_text(cls, file_name: str, sql: str) -> Migration:
        """Build a migration from its file name and contents, checking the name."""
        match = _MIGRATION_NAME.match(file_name)
        if match is None:
            raise MigrationError(
                f"bad migration file name {file_name!r}: expected NNNN_description.sql "
                "(at least four digits, then letters, digits or underscores)"
            )
        version = int(match["version"])
        if version < 1:
            raise MigrationError(f"bad migration file name {file_name!r}: versions start at 1")
        # Line endings do not change a migration: a Windows checkout must not look edited.
        normalized = sql.replace("\r\n", "\n")
        checksum = hashlib.sha256(normalized.encode()).hexdigest()
        return cls(version=version, name=match["name"], sql=normalized, checksum=checksum)


# --- pool -----------------------------------------------------------------------------------


async def register_json_codecs(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Encode and decode ``json``/``jsonb`` with orjson, so queries take and return Python values.

    Pass dicts and lists as parameters, not pre-serialised strings (a string is stored as a
    JSON string).
    """
    await conn.set_type_codec(
        "json", schema="pg_catalog", format="binary", encoder=orjson.dumps, decoder=orjson.loads
    )
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        format="binary",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
    )


def _encode_jsonb(value: Any) -> bytes:
    # jsonb's binary wire format is a version byte (1) followed by the JSON text.
    return b"\x01" + orjson.dumps(value)


def _decode_jsonb(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def create_pool(
    settings: PostgresSettings,
    *,
    schema: str | None = None,
    init: Callable[[asyncpg.Connection[asyncpg.Record]], Awaitable[None]] | None = None,
    session_settings: Mapping[str, str] | None = None,
) -> asyncpg.Pool[asyncpg.Record]:
    """Open a pool to ``settings.dsn`` whose connections work in ``schema``.

    ``search_path`` is set to the service's schema (then ``public``, where extensions live), so
    queries name tables without a schema prefix, and ``random_page_cost`` to the setting's (see
    :class:`~canopy_common.settings.PostgresSettings`); JSON and JSONB use orjson
    (:func:`register_json_codecs`); then ``init`` runs on each new connection (e.g.
    :func:`canopy_common.row_security.assume_app_role`); ``session_settings`` are set on each
    connection too. Close it with :func:`close_pool`.

    A connection goes back to the pool without asyncpg's session reset (see
    :func:`_keep_session`): Canopy keeps no session state on pooled connections.
    """
    server_settings = {"random_page_cost": str(settings.random_page_cost)}
    server_settings.update(session_settings or {})
    if schema is not None:
        server_settings["search_path"] = f"{quote_schema(schema)}, public"
    pool: asyncpg.Pool[asyncpg.Record] = await asyncpg.create_pool(
        settings.dsn,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        command_timeout=settings.command_timeout_s,
        server_settings=server_settings,
        init=register_json_codecs if init is None else _then(init),
        reset=_keep_session,
    )
    return pool


def _then(
    init: Callable[[asyncpg.Connection[asyncpg.Record]], Awaitable[None]],
) -> Callable[[asyncpg.Connection[asyncpg.Record]], Coroutine[Any, Any, None]]:
    async def both(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        await register_json_codecs(conn)
        await init(conn)

    return both


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """What a pooled connection needs on release, beyond what asyncpg always does (roll back
    a transaction left open, drop listeners): nothing.

    asyncpg's default reset (``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``)
    is a round trip on every release, a fifth of a short request's. Canopy keeps no session
    state on pooled connections: advisory locks are ``pg_advisory_xact_lock`` (released at
    commit) except the migrations' lock, which :func:`apply_migrations` releases itself;
    cursors live in transactions; ``search_path`` is a connection parameter; the role of a
    pool with row-level security is set once by its ``init`` and kept on purpose; LISTEN runs
    on connections of their own. Keep it so: use ``SET LOCAL``, never ``SET``.
    """


async def close_pool(pool: asyncpg.Pool[asyncpg.Record], *, timeout_s: float = 10.0) -> None:
    """Close ``pool`` gracefully, or terminate its connections after ``timeout_s``."""
    try:
        await asyncio.wait_for(pool.close(), timeout_s)
    except TimeoutError:
        log.warning("postgres pool did not close in time; terminating", timeout_s=timeout_s)
        pool.terminate()


def quote_schema(schema: str) -> str:
    """Check a schema name (lower-case letters, digits, ``_``) and quote it for SQL."""
    if not _SCHEMA_NAME.match(schema):
        raise MigrationError(
            f"bad schema name {schema!r}: use lower-case letters, digits and underscores, "
            "starting with a letter or underscore (at most 63 characters)"
        )
    return f'"{schema}"'


# --- migrations -----------------------------------------------------------------------------


def read_migrations(folder: Traversable) -> list[Migration]:
    """Read every ``NNNN_description.sql`` in ``folder``, ordered by version.

    Python files, ``__pycache__``, hidden files and ``.md``/``.txt`` notes are skipped; any
    other entry with a bad name, and two files of one version, are errors.
    """
    if not folder.is_dir():
        raise MigrationError(f"migrations folder {folder} does not exist")
    found: list[Migration] = []
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith((".", "_")) or name.endswith(_IGNORED_SUFFIXES):
            continue
        if not entry.is_file():
            raise MigrationError(f"unexpected folder {name!r} among migrations in {folder}")
        found.append(Migration.from_text(name, entry.read_text(encoding="utf-8")))
    return _in_version_order(found)


def load_migrations(package: str) -> list[Migration]:
    """Read the ``migrations/`` folder of an importable package (works from an installed wheel).

    ``load_migrations("canopy_fanout")`` reads ``canopy_fanout/migrations/*.sql`` through
    :mod:`importlib.resources`.
    """
    return read_migrations(files(package) / MIGRATIONS_FOLDER)


def _in_version_order(migrations: Sequence[Migration]) -> list[Migration]:
    ordered = sorted(migrations, key=lambda m: m.version)
    for before, after in itertools.pairwise(ordered):
        if before.version == after.version:
            raise MigrationError(
                f"two migrations share version {after.version:04d}: "
                f"{before.id}.sql and {after.id}.sql"
            )
    return ordered


async def apply_migrations(
    pool_or_conn: asyncpg.Pool[asyncpg.Record] | asyncpg.Connection[asyncpg.Record],
    *,
    schema: str,
    migrations: Path | Traversable | Sequence[Migration],
    timeout_s: float | None = MIGRATION_TIMEOUT_S,
) -> list[str]:
    """Bring ``schema`` up to date; return the ids (``NNNN_description``) applied, in order.

    Creates the schema and its ``schema_migrations`` table if missing, then, holding a Postgres
    advisory lock keyed on the schema name (replicas starting together wait for each other),
    applies each pending migration in its own transaction, with ``search_path`` set to the
    schema, and records its version, name and checksum. Running it again applies nothing.

    ``migrations`` is a folder of ``NNNN_description.sql`` files or what
    :func:`load_migrations` returned. ``timeout_s`` bounds each statement and the wait for the
    lock (``None``: the connection's command timeout).

    Raises :class:`MigrationError` when an applied migration's file has changed (never
    re-applied: add a new migration instead), when a pending migration is numbered below one
    already applied, or on a bad file name. A failed migration is rolled back and the error
    propagates; those applied before it stay applied.
    """
    quote_schema(schema)
    wanted = (
        _in_version_order(migrations)
        if isinstance(migrations, Sequence)
        else read_migrations(migrations)
    )
    if isinstance(pool_or_conn, asyncpg.Pool):
        async with pool_or_conn.acquire() as conn:
            return await _apply_locked(conn, schema, wanted, timeout_s)
    return await _apply_locked(pool_or_conn, schema, wanted, timeout_s)


def _lock_key(schema: str) -> int:
    digest = hashlib.blake2b(f"canopy.migrations:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # pg_advisory_lock takes a bigint


async def _apply_locked(
    conn: Connection, schema: str, wanted: list[Migration], timeout_s: float | None
) -> list[str]:
    if conn.is_in_transaction():
        raise MigrationError("apply_migrations needs a connection that is not in a transaction")
    key = _lock_key(schema)
    # A session-level lock: each migration commits on its own while the lock is held throughout.
    await conn.execute("select pg_advisory_lock($1)", key, timeout=timeout_s)
    try:
        applied = await _apply_pending(conn, schema, wanted, timeout_s)
    except BaseException:
        # Closing the session releases the lock too (and the pool resets it on release).
        with contextlib.suppress(Exception):
            await conn.execute("select pg_advisory_unlock($1)", key)
        raise
    await conn.execute("select pg_advisory_unlock($1)", key)
    return applied


async def _apply_pending(
    conn: Connection, schema: str, wanted: list[Migration], timeout_s: float | None
) -> list[str]:
    quoted = quote_schema(schema)
    table = f"{quoted}.{MIGRATIONS_TABLE}"
    # Created under the lock: concurrent `create ... if not exists` can still collide.
    await conn.execute(f"create schema if not exists {quoted}", timeout=timeout_s)
    await conn.execute(
        f"""
        create table if not exists {table} (
            version integer primary key,
            name text not null,
            checksum text not null,
            applied_at timestamptz not null default now()
        )
        """,
        timeout=timeout_s,
    )
    rows = await conn.fetch(f"select version, name, checksum from {table}", timeout=timeout_s)
    recorded: dict[int, tuple[str, str]] = {
        row["version"]: (row["name"], row["checksum"]) for row in rows
    }

    for migration in wanted:
        if migration.version not in recorded:
            continue
        name, checksum = recorded[migration.version]
        if checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.id}.sql of schema {schema!r} changed after it was applied "
                f"(applied as {migration.version:04d}_{name}, checksum {checksum[:12]}, "
                f"file now {migration.checksum[:12]}); never edit an applied migration, "
                "add a new one"
            )

    pending = [m for m in wanted if m.version not in recorded]
    latest = max(recorded, default=0)
    late = [m.id for m in pending if m.version < latest]
    if late:
        raise MigrationError(
            f"migrations {late} of schema {schema!r} are numbered below {latest:04d}, which is "
            "already applied; renumber them after it"
        )
    unknown = sorted(set(recorded) - {m.version for m in wanted})
    if unknown:
        # Normal for an older replica during a rolling upgrade; worth seeing otherwise.
        log.warning(
            "schema has migrations this code does not know", schema=schema, versions=unknown
        )

    applied: list[str] = []
    for migration in pending:
        async with conn.transaction():
            await conn.execute(f"set local search_path to {quoted}, public")
            await conn.execute(migration.sql, timeout=timeout_s)
            await conn.execute(
                f"insert into {table} (version, name, checksum) values ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
                timeout=timeout_s,
            )
        log.info("migration applied", schema=schema, migration=migration.id)
        applied.append(migration.id)
    return applied
