"""Exports are personal data outside their owners' tables: this worker deletes every export
older than ``export_retention_s``, sections and chunks with it, every
``export_purge_interval_s`` (docs/architecture.md §16 "Export")."""

from __future__ import annotations

import asyncpg
import structlog

from canopy_common.loops import BackgroundLoop
from canopy_common.row_security import span_all_tenants
from canopy_common.service import Runtime
from canopy_ingestion.adapters import exports
from canopy_ingestion.settings import Settings

log = structlog.get_logger(__name__)

# Exports deleted per transaction: short transactions; another batch at once while more are due.
PURGE_BATCH = 500


class ExportPurge(BackgroundLoop):
    """Deletes exports past their retention, for every tenant."""

    task_name = "export-purge"

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], settings: Settings) -> None:
        super().__init__()
        self._pool = pool
        self._settings = settings

    @property
    def ready(self) -> bool:
        """Running; a failed purge is retried at the next interval (Postgres may be away)."""
        return self.running

    async def purge(self) -> int:
        """One round: every export past the retention, in batches; how many went."""
        total = 0
        while True:
            async with self._pool.acquire() as conn, conn.transaction():
                await span_all_tenants(conn)  # one worker for every tenant (§15)
                deleted = await exports.purge(
                    conn, retention_s=self._settings.export_retention_s, limit=PURGE_BATCH
                )
            total += deleted
            if deleted < PURGE_BATCH:
                break
        if total:
            log.info("exports past their retention purged", exports=total)
        return total

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.purge()
            except Exception as exc:
                log.warning(
                    "export purge failed, retrying later", error=f"{type(exc).__name__}: {exc}"
                )
            await self._sleep(self._settings.export_purge_interval_s)


def export_purge(runtime: Runtime[Settings]) -> ExportPurge:
    """The purge of a running ingestion service: a worker of its ``ServiceDefinition``."""
    return ExportPurge(runtime.pool, runtime.settings)
