"""SQL statements per HTTP route, for the benchmarks and for operators
(docs/architecture.md §10): ``canopy_<service>_db_statements_total{route}``.

Off unless ``CANOPY_PG_COUNT_STATEMENTS`` is true: asyncpg then times every statement of the
service's pool and calls :class:`StatementCounter` after it, a few microseconds each. The
statement is counted under the route template of the HTTP request it ran for (the request's
scope travels in a context variable set by :class:`~canopy_common.metrics.HttpMetrics`), or
``background`` for consumers and workers. ``BEGIN``, ``COMMIT`` and ``SET`` count too: they are
round trips like any other.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from prometheus_client import Counter

from canopy_common.metrics import (
    get_or_create_counter,
    metric_name,
    request_scope,
    route_template,
)

BACKGROUND = "background"


class StatementCounter:
    """Counts each statement a connection runs, by the route it ran for."""

    def __init__(self, service: str) -> None:
        self.total = get_or_create_counter(
            metric_name(service, "db_statements_total"),
            "SQL statements run (each a round trip to Postgres), by the HTTP route they ran "
            "for; 'background' for consumers and workers.",
            ("route",),
        )
        self._series: dict[str, Counter] = {}

    async def attach(self, conn: asyncpg.Connection[asyncpg.Record]) -> None:
        """A pool ``init`` step: count what ``conn`` runs from now on."""
        conn.add_query_logger(self._count)

    def _count(self, _record: Any) -> None:
        # asyncpg calls this with call_soon, which keeps the context of the statement's task.
        scope = request_scope.get()
        route = route_template(scope) if scope is not None else BACKGROUND
        series = self._series.get(route)
        if series is None:
            series = self._series[route] = self.total.labels(route)
        series.inc()
