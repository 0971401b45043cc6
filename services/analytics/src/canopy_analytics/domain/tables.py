"""Every analytics answer is also a table (issue 6: "every table also as CSV").

A :class:`Table` is a response model that knows its rows: by default the whole answer is one
row; answers with a list (``items``, ``points``) are one row per element. Rows are flattened
the same way everywhere: nested objects become dotted columns (``qa.answered_share``), lists
of plain values one cell joined with ``"; "``, null an empty cell, booleans ``true``/``false``.
:func:`render_csv` is the one renderer (RFC 4180, header row first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel

LIST_SEPARATOR = "; "
# A spreadsheet runs a cell starting with these as a formula (CSV injection): text cells that
# start with one get a leading apostrophe, which spreadsheets show as plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Table(BaseModel):
    """A response that can be rendered as CSV."""

    # The columns, in order, when there are no rows to read them from (list answers).
    CSV_COLUMNS: ClassVar[tuple[str, ...]] = ()
    # The list field whose elements are the rows (``items``, ``points``); None: one row.
    CSV_ROWS_FROM: ClassVar[str | None] = None

    def csv_rows(self) -> list[dict[str, Any]]:
        """The rows of the table, unflattened: the elements of ``CSV_ROWS_FROM``, or else the
        whole answer as one row."""
        if self.CSV_ROWS_FROM is None:
            return [self.model_dump(mode="json")]
        rows: list[dict[str, Any]] = self.model_dump(mode="json", include={self.CSV_ROWS_FROM})[
            self.CSV_ROWS_FROM
        ]
        return rows


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys: ``{"qa": {"answered": 2}}`` → ``{"qa.answered": 2}``."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def cell(value: Any) -> str:
    """The text of one cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(cell(v) for v in value)
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def columns_of(rows: Iterable[Mapping[str, Any]], declared: Sequence[str] = ()) -> list[str]:
    """The declared columns, then any other key in the order first seen."""
    seen = dict.fromkeys(declared)
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def render_csv(table: Table) -> str:
    """The table as CSV text: a header row, then one line per row (``\\r\\n`` endings)."""
    rows = [flatten(row) for row in table.csv_rows()]
    columns = columns_of(rows, table.CSV_COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()
