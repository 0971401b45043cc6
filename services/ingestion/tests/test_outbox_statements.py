"""The outbox's one-statement writes, as SQL: a change and the outbox insert share one
statement, so their parameters are numbered one after the other."""

from __future__ import annotations

from canopy_ingestion.adapters.outbox import Statement


def test_a_statements_parameters_are_renumbered_from_where_it_goes() -> None:
    change = Statement(
        "UPDATE posts SET name = $3 WHERE tenant_id = $1 AND id = $2", ("t", "p", "x")
    )

    assert change.numbered_from(1) == change.sql
    assert change.numbered_from(5) == "UPDATE posts SET name = $7 WHERE tenant_id = $5 AND id = $6"


def test_parameters_with_two_digits_are_renumbered_whole() -> None:
    change = Statement("VALUES ($1, $10, $16, $16)", tuple(range(16)))

    assert change.numbered_from(3) == "VALUES ($3, $12, $18, $18)"
