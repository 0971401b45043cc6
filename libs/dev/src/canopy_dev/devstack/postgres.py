"""Postgres for the local stack: Debian clusters (pg_ctlcluster) and the database and role."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped,unused-ignore]

from canopy_dev.devstack.probes import dsn_with_database, is_local_host, url_address
from canopy_dev.devstack.processes import DevStackError, run_command

log = logging.getLogger("canopy.devstack")

PG_CTL_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 10.0


def server_installed() -> bool:
    """Whether Debian's Postgres server and its cluster tools are installed."""
    binaries = Path("/usr/lib/postgresql").glob("*/bin/postgres")
    return shutil.which("pg_ctlcluster") is not None and any(binaries)


def cluster_on_port(port: int) -> tuple[str, bool]:
    """``("<version>/<name>", online)`` of the Debian cluster configured for ``port``."""
    listing = run_command(["pg_lsclusters", "--no-header"], 30, "pg_lsclusters")
    for line in listing.splitlines():
        version, name, cluster_port, status, *_ = [*line.split(), "", "", "", ""]
        if cluster_port == str(port):
            return f"{version}/{name}", status.startswith("online")
    raise DevStackError(
        f"no Postgres cluster is set up for port {port} (found: {listing.strip() or 'none'}); "
        f"create one: pg_createcluster --port {port} <version> main"
    )


def pg_ctlcluster(cluster: str, action: str) -> None:
    """``pg_ctlcluster <version> <name> start|stop``, bypassing systemd (none in containers)."""
    version, name = cluster.split("/")
    run_command(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
        PG_CTL_TIMEOUT_S,
        f"pg_ctlcluster {action} {cluster}",
    )


async def ensure_database(dsn: str) -> bool:
    """Create the DSN's database when missing (its role too, when we may); True if created."""
    parts = urlsplit(dsn)
    database = parts.path.lstrip("/") or parts.username or "postgres"
    admin_dsn = dsn_with_database(dsn, "postgres")
    try:
        conn = await asyncpg.connect(admin_dsn, timeout=CONNECT_TIMEOUT_S)
    except asyncpg.InvalidAuthorizationSpecificationError as refused:
        try:
            if not await asyncio.to_thread(ensure_role, dsn):
                raise refused
            conn = await asyncpg.connect(admin_dsn, timeout=CONNECT_TIMEOUT_S)
        except asyncpg.InvalidAuthorizationSpecificationError as exc:
            raise DevStackError(
                f"Postgres refused {parts.username!r}: {exc}. Put the role's password in "
                "CANOPY_PG_DSN (devstack sets it when run as root on a local server) or allow "
                "the role without one in pg_hba.conf"
            ) from exc
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            return False
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # a concurrent creator won
            await conn.execute(f"CREATE DATABASE {_quote_ident(database)}")
        log.info("postgres: created database %s", database)
        return True
    finally:
        await conn.close()


def ensure_role(dsn: str) -> bool:
    """Create the DSN's role (LOGIN CREATEDB) and set its password, as the ``postgres`` OS user.

    Only for a server on this machine and when running as root; False when we may not or it
    failed. psql reads the SQL from stdin so the password never shows in a process list.
    """
    parts = urlsplit(dsn)
    user, password = parts.username, parts.password
    host, port = url_address(dsn, 5432)
    if not user or not is_local_host(host) or os.geteuid() != 0 or not shutil.which("psql"):
        return False
    role = _quote_ident(user)
    sql = (
        f"SELECT 'CREATE ROLE {role} LOGIN CREATEDB' "
        f"WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_quote_literal(user)})\\gexec\n"
    )
    if password:
        sql += f"ALTER ROLE {role} PASSWORD {_quote_literal(password)};\n"
    argv = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    argv += ["-p", str(port), "-d", "postgres", "-f", "-"]
    try:
        done = subprocess.run(argv, input=sql, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if done.returncode != 0:
        log.warning("postgres: could not create role %s: %s", user, done.stderr.strip())
        return False
    log.info("postgres: ensured role %s", user)
    return True


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
