"""The migrations runner against a real Postgres: once only, edits refused, replicas racing."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from canopy_common.db import (
    MigrationError,
    apply_migrations,
    close_pool,
    create_pool,
    load_migrations,
    read_migrations,
)
from canopy_common.settings import PostgresSettings
from canopy_dev.devstack import StackEndpoints
from canopy_testing.plugin import pg_dsn_for_tests

pytestmark = pytest.mark.integration

# The session's server (the ``stack`` fixture creates the database): its DSN, password included.
PG_DSN = pg_dsn_for_tests(os.environ)

CREATE_POSTS = """
create table posts (
    id text primary key,
    body jsonb not null
);
"""
CREATE_REACTIONS = "create table reactions (post_id text references posts (id), kind text);\n"
ADD_INDEX = "create index reactions_post on reactions (post_id);\n"


def _settings() -> PostgresSettings:
    return PostgresSettings(dsn=PG_DSN, pool_min_size=1, pool_max_size=4)


@pytest.fixture
async def migration_pool(stack: StackEndpoints) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(_settings())
    yield pool
    await close_pool(pool)


@pytest.fixture
async def schema(migration_pool: asyncpg.Pool) -> AsyncIterator[str]:
    name = f"mig_{uuid.uuid4().hex}"
    yield name
    await migration_pool.execute(f'drop schema if exists "{name}" cascade')


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


async def _recorded(pool: asyncpg.Pool, schema: str) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        f'select version, name, checksum, applied_at from "{schema}".schema_migrations '
        "order by version"
    )
    return [tuple(row) for row in rows]


async def _tables(pool: asyncpg.Pool, schema: str) -> list[str]:
    rows = await pool.fetch(
        "select table_name from information_schema.tables where table_schema = $1 "
        "order by table_name",
        schema,
    )
    return [row["table_name"] for row in rows]


async def test_first_run_creates_tables_and_records_versions(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path, {"0001_create_posts.sql": CREATE_POSTS, "0002_reactions.sql": CREATE_REACTIONS}
    )

    applied = await apply_migrations(migration_pool, schema=schema, migrations=folder)

    assert applied == ["0001_create_posts", "0002_reactions"]
    assert await _tables(migration_pool, schema) == ["posts", "reactions", "schema_migrations"]
    recorded = await _recorded(migration_pool, schema)
    assert [(version, name) for version, name, *_ in recorded] == [
        (1, "create_posts"),
        (2, "reactions"),
    ]


async def test_second_run_applies_nothing_and_changes_nothing(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path, {"0001_create_posts.sql": CREATE_POSTS, "0002_reactions.sql": CREATE_REACTIONS}
    )
    await apply_migrations(migration_pool, schema=schema, migrations=folder)
    recorded, tables = (
        await _recorded(migration_pool, schema),
        await _tables(migration_pool, schema),
    )

    assert await apply_migrations(migration_pool, schema=schema, migrations=folder) == []

    assert await _recorded(migration_pool, schema) == recorded
    assert await _tables(migration_pool, schema) == tables


async def test_a_new_file_is_the_only_one_applied_later(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path, {"0001_create_posts.sql": CREATE_POSTS})
    await apply_migrations(migration_pool, schema=schema, migrations=folder)
    _write(folder, {"0002_reactions.sql": CREATE_REACTIONS, "0003_reaction_index.sql": ADD_INDEX})

    applied = await apply_migrations(migration_pool, schema=schema, migrations=folder)

    assert applied == ["0002_reactions", "0003_reaction_index"]
    assert [row[0] for row in await _recorded(migration_pool, schema)] == [1, 2, 3]


async def test_an_edited_applied_file_is_refused(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path, {"0001_create_posts.sql": CREATE_POSTS})
    await apply_migrations(migration_pool, schema=schema, migrations=folder)
    _write(
        folder,
        {
            "0001_create_posts.sql": CREATE_POSTS.replace("body jsonb", "body text"),
            "0002_reactions.sql": CREATE_REACTIONS,
        },
    )

    with pytest.raises(MigrationError, match=r"0001_create_posts\.sql .* changed after"):
        await apply_migrations(migration_pool, schema=schema, migrations=folder)

    assert await _tables(migration_pool, schema) == ["posts", "schema_migrations"]


async def test_line_endings_alone_are_not_an_edit(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path, {"0001_create_posts.sql": CREATE_POSTS})
    await apply_migrations(migration_pool, schema=schema, migrations=folder)
    (folder / "0001_create_posts.sql").write_bytes(CREATE_POSTS.replace("\n", "\r\n").encode())

    assert await apply_migrations(migration_pool, schema=schema, migrations=folder) == []


async def test_a_pending_file_numbered_below_an_applied_one_is_refused(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path, {"0001_create_posts.sql": CREATE_POSTS, "0003_x.sql": "select 1;"})
    await apply_migrations(migration_pool, schema=schema, migrations=folder)
    _write(folder, {"0002_reactions.sql": CREATE_REACTIONS})

    with pytest.raises(MigrationError, match="numbered below 0003"):
        await apply_migrations(migration_pool, schema=schema, migrations=folder)


async def test_a_failing_migration_is_rolled_back_and_later_ones_wait(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path,
        {
            "0001_create_posts.sql": CREATE_POSTS,
            "0002_broken.sql": "create table half (id int);\nselect * from no_such_table;\n",
            "0003_reactions.sql": CREATE_REACTIONS,
        },
    )

    with pytest.raises(asyncpg.UndefinedTableError):
        await apply_migrations(migration_pool, schema=schema, migrations=folder)

    assert await _tables(migration_pool, schema) == ["posts", "schema_migrations"]
    assert [row[0] for row in await _recorded(migration_pool, schema)] == [1]
    # The lock was released: a fixed file goes through.
    (folder / "0002_broken.sql").write_text("create table half (id int);\n")
    applied = await apply_migrations(migration_pool, schema=schema, migrations=folder)
    assert applied == ["0002_broken", "0003_reactions"]


async def test_concurrent_runs_apply_each_migration_once(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path,
        {
            # The sleep keeps the first runner inside the lock while the second one arrives.
            "0001_create_posts.sql": "select pg_sleep(0.3);\n" + CREATE_POSTS,
            "0002_reactions.sql": CREATE_REACTIONS,
            "0003_reaction_index.sql": ADD_INDEX,
        },
    )
    other_pool = await create_pool(_settings())
    other_conn = await asyncpg.connect(PG_DSN)
    try:
        results = await asyncio.gather(
            apply_migrations(migration_pool, schema=schema, migrations=folder),
            apply_migrations(other_pool, schema=schema, migrations=folder),
            apply_migrations(other_conn, schema=schema, migrations=folder),
        )
    finally:
        await other_conn.close()
        await close_pool(other_pool)

    expected = ["0001_create_posts", "0002_reactions", "0003_reaction_index"]
    assert sorted(results, key=len) == [[], [], expected]
    assert [row[0] for row in await _recorded(migration_pool, schema)] == [1, 2, 3]


async def test_the_service_pool_works_in_its_schema_with_json_values(
    migration_pool: asyncpg.Pool, schema: str, tmp_path: Path
) -> None:
    folder = _write(tmp_path, {"0001_create_posts.sql": CREATE_POSTS})
    await apply_migrations(migration_pool, schema=schema, migrations=folder)
    pool = await create_pool(_settings(), schema=schema)
    try:
        body = {"type": "Note", "content": "héllo", "tag": [{"name": "#x"}], "n": 1.5}
        await pool.execute("insert into posts (id, body) values ($1, $2)", "p1", body)

        assert await pool.fetchval("select body from posts where id = 'p1'") == body
        assert await pool.fetchval("select $1::json", [1, None, "a"]) == [1, None, "a"]
        assert await pool.fetchval("select body->>'content' from posts") == "héllo"
    finally:
        await close_pool(pool)


async def test_migrations_load_from_an_installed_package(
    migration_pool: asyncpg.Pool,
    schema: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    package = f"canopy_mig_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    _write(
        tmp_path / package / "migrations",
        {
            "__init__.py": "",
            "README.md": "notes",
            "0002_reactions.sql": CREATE_REACTIONS,
            "0001_create_posts.sql": CREATE_POSTS,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    migrations = load_migrations(package)
    applied = await apply_migrations(migration_pool, schema=schema, migrations=migrations)

    assert [m.id for m in migrations] == ["0001_create_posts", "0002_reactions"]
    assert applied == ["0001_create_posts", "0002_reactions"]
    monkeypatch.delitem(sys.modules, package, raising=False)


@pytest.mark.parametrize(
    "file_name",
    ["1_init.sql", "0001-init.sql", "0001_init.SQL", "0001_.sql", "init.sql", "0001_init.sql.bak"],
)
def test_bad_file_names_are_refused(tmp_path: Path, file_name: str) -> None:
    _write(tmp_path, {"0002_ok.sql": "select 1;", file_name: "select 1;"})

    with pytest.raises(MigrationError, match="bad migration file name"):
        read_migrations(tmp_path)


def test_two_files_of_one_version_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"0001_a.sql": "select 1;", "0001_b.sql": "select 2;"})

    with pytest.raises(MigrationError, match="share version 0001"):
        read_migrations(tmp_path)


async def test_bad_schema_names_are_refused(migration_pool: asyncpg.Pool, tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="bad schema name"):
        await apply_migrations(migration_pool, schema='x"; drop', migrations=tmp_path)
