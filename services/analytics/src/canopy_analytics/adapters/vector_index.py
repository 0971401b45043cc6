"""The tenants' post vectors in memory, kept up to date from ``post_vectors`` (docs §17).

Each process keeps, per tenant it has served, a float32 matrix of the vectors of the current
model with what ranking needs beside each row (kind, author, group, open). Before every use a
tenant's copy reads the changes since its last one (``seq`` greater than the last seen: one
index range, usually empty); a tombstone (vector NULL, another model, another dimension) frees
the row. Similarity is then exact: one matrix product (``domain/similarity.py``).

Memory: 4 x dimension bytes per post plus about 200 bytes of ids and flags: 100,000 posts at
384 dimensions are 154 MB of floats (at 256, 102 MB), in every process that serves the tenant.
A cold tenant costs one read of all its vectors (the bench reports it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import numpy as np
import numpy.typing as npt

from canopy_analytics.domain import similarity
from canopy_analytics.domain.similarity import Matrix, Vector
from canopy_common.db import Connection

# Rows read per query while catching up (a cold tenant of 100,000 posts: ten queries).
REFRESH_CHUNK = 10_000
_INITIAL_CAPACITY = 256

_CHANGES = """
SELECT object_id, seq, model, vector, kind, author_id, group_id, open
  FROM post_vectors
 WHERE tenant_id = $1 AND seq > $2
 ORDER BY seq
 LIMIT $3
"""


@dataclass(frozen=True, slots=True)
class Item:
    """One live row of a tenant's copy."""

    row: int
    object_id: str
    kind: str | None
    author_id: str | None
    group_id: str | None
    open: bool


@dataclass
class TenantVectors:
    """One tenant's vectors: ``matrix[row]`` for each live row, and what it is."""

    dim: int
    seq: int = 0
    matrix: Matrix = field(init=False)
    live: npt.NDArray[np.bool_] = field(init=False)
    is_question: npt.NDArray[np.bool_] = field(init=False)
    is_open: npt.NDArray[np.bool_] = field(init=False)
    object_ids: list[str | None] = field(default_factory=list)
    kinds: list[str | None] = field(default_factory=list)
    authors: list[str | None] = field(default_factory=list)
    groups: list[str | None] = field(default_factory=list)
    row_of: dict[str, int] = field(default_factory=dict)
    free: list[int] = field(default_factory=list)
    version: int = 0  # goes up with every change applied (derived caches key on it)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # What each author and group writes about (their open rows' centroids), per version.
    _centroids: dict[str, tuple[int, dict[str, Vector]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.matrix = np.zeros((_INITIAL_CAPACITY, self.dim), dtype=np.float32)
        self.live = np.zeros(_INITIAL_CAPACITY, dtype=bool)
        self.is_question = np.zeros(_INITIAL_CAPACITY, dtype=bool)
        self.is_open = np.zeros(_INITIAL_CAPACITY, dtype=bool)

    def __len__(self) -> int:
        return len(self.row_of)

    @property
    def nbytes(self) -> int:
        """The bytes its arrays hold (capacity included)."""
        return self.matrix.nbytes + self.live.nbytes * 3

    def item(self, row: int) -> Item:
        object_id = self.object_ids[row]
        assert object_id is not None
        return Item(
            row,
            object_id,
            self.kinds[row],
            self.authors[row],
            self.groups[row],
            bool(self.is_open[row]),
        )

    def items(self, rows: npt.NDArray[np.bool_]) -> Iterator[Item]:
        for row in np.flatnonzero(rows).tolist():
            yield self.item(row)

    def centroids_of_authors(self) -> dict[str, Vector]:
        """What each person writes about: the centroid of their open rows (computed on first
        use after a change, then kept)."""
        return self._centroids_by("author", self.authors)

    def centroids_of_groups(self) -> dict[str, Vector]:
        """What each group's open posts are about."""
        return self._centroids_by("group", self.groups)

    def _centroids_by(self, name: str, owner_of: list[str | None]) -> dict[str, Vector]:
        cached = self._centroids.get(name)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        rows = np.flatnonzero(self.is_open)
        keys: dict[str, int] = {}
        owners: list[int] = []
        kept: list[int] = []
        for row in rows.tolist():
            owner = owner_of[row]
            if owner is not None:
                owners.append(keys.setdefault(owner, len(keys)))
                kept.append(row)
        unit = similarity.centroids(
            self.matrix, np.asarray(owners, dtype=np.int64), np.asarray(kept, dtype=np.int64)
        )
        found = {owner: unit[code] for owner, code in keys.items()}
        self._centroids[name] = (self.version, found)
        return found

    def put(
        self,
        object_id: str,
        vector: Vector,
        *,
        kind: str | None,
        author_id: str | None,
        group_id: str | None,
        open_: bool,
    ) -> None:
        row = self.row_of.get(object_id)
        if row is None:
            row = self.free.pop() if self.free else self._append()
            self.row_of[object_id] = row
        self.matrix[row] = vector
        self.live[row] = True
        self.is_question[row] = kind == "question"
        self.is_open[row] = open_
        self.object_ids[row] = object_id
        self.kinds[row] = kind
        self.authors[row] = author_id
        self.groups[row] = group_id

    def drop(self, object_id: str) -> None:
        row = self.row_of.pop(object_id, None)
        if row is None:
            return
        self.live[row] = self.is_question[row] = self.is_open[row] = False
        self.object_ids[row] = self.kinds[row] = self.authors[row] = self.groups[row] = None
        self.free.append(row)

    def _append(self) -> int:
        row = len(self.object_ids)
        if row == self.matrix.shape[0]:  # grow by doubling: appends cost O(1) amortised
            grow = self.matrix.shape[0]
            self.matrix = np.vstack([self.matrix, np.zeros((grow, self.dim), np.float32)])
            self.live, self.is_question, self.is_open = (
                np.concatenate([a, np.zeros(grow, dtype=bool)])
                for a in (self.live, self.is_question, self.is_open)
            )
        for column in (self.object_ids, self.kinds, self.authors, self.groups):
            column.append(None)
        return row


class VectorIndex:
    """Every tenant's :class:`TenantVectors` of one model, in this process."""

    def __init__(self, model: str, dim: int) -> None:
        self.model = model
        self.dim = dim
        self._tenants: dict[str, TenantVectors] = {}

    async def tenant(self, conn: Connection, tenant: str) -> TenantVectors:
        """``tenant``'s vectors, with every change committed before this call applied."""
        found = self._tenants.get(tenant)
        if found is None:
            found = self._tenants.setdefault(tenant, TenantVectors(self.dim))
        async with found.lock:
            while True:
                rows = await conn.fetch(_CHANGES, tenant, found.seq, REFRESH_CHUNK)
                for r in rows:
                    self._apply(found, r)
                if rows:
                    found.seq = rows[-1]["seq"]
                    found.version += 1
                if len(rows) < REFRESH_CHUNK:
                    return found

    def _apply(self, vectors: TenantVectors, row: asyncpg.Record) -> None:
        data: bytes | None = row["vector"]
        object_id: str = row["object_id"]
        if data is None or row["model"] != self.model or len(data) != 4 * self.dim:
            vectors.drop(object_id)  # removed, or not comparable with this model's vectors
            return
        vectors.put(
            object_id,
            similarity.from_bytes(data),
            kind=row["kind"],
            author_id=row["author_id"],
            group_id=row["group_id"],
            open_=row["open"],
        )

    def forget(self, tenant: str) -> None:
        """Drop a tenant's copy (it is read again on next use)."""
        self._tenants.pop(tenant, None)
