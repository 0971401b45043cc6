"""Similarity by meaning over plain arrays (docs/architecture.md §17). Pure: no I/O.

Vectors are L2-normalised float32 (the embedder's contract), so cosine similarity is a dot
product and a tenant's nearest items are one matrix-vector product and a partial sort: exact,
no approximate index (no pgvector on Debian 12; numpy does 100,000 x 384 in milliseconds).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Vector = npt.NDArray[np.float32]


def to_bytes(vector: Vector) -> bytes:
    """A vector as stored (``post_vectors.vector``): little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vector:
    """A stored vector (a read-only view on ``data``)."""
    return np.frombuffer(data, dtype="<f4")


def nearest(
    matrix: Matrix, query: Vector, candidates: npt.NDArray[np.bool_], k: int
) -> list[tuple[int, float]]:
    """The ``k`` rows of ``matrix`` most similar to ``query`` among those ``candidates``
    marks, best first, as (row, cosine similarity); ties by row."""
    rows = np.flatnonzero(candidates)
    if k <= 0 or rows.size == 0:
        return []
    scores = matrix[rows] @ query if rows.size < matrix.shape[0] else matrix @ query
    k = min(k, rows.size)
    top = np.argpartition(-scores, k - 1)[:k] if k < rows.size else np.arange(rows.size)
    ordered = sorted(top.tolist(), key=lambda i: (-float(scores[i]), int(rows[i])))
    return [(int(rows[i]), float(scores[i])) for i in ordered]


def centroid(vectors: Matrix) -> Vector | None:
    """The normalised mean of ``vectors`` (what someone or some group writes about); None for
    none (or vectors that cancel out)."""
    if vectors.shape[0] == 0:
        return None
    mean = vectors.mean(axis=0, dtype=np.float64)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-9:
        return None
    return (mean / norm).astype(np.float32)


def centroids(matrix: Matrix, owners: Sequence[int], rows: Sequence[int]) -> dict[int, Vector]:
    """:func:`centroid` of each owner's ``rows`` (``owners[i]`` owns ``rows[i]``)."""
    if not rows:
        return {}
    owner = np.asarray(owners)
    picked = np.asarray(rows)
    order = np.argsort(owner, kind="stable")
    owner, picked = owner[order], picked[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    sums = np.add.reduceat(matrix[picked].astype(np.float64), starts, axis=0)
    norms = np.linalg.norm(sums, axis=1)
    found: dict[int, Vector] = {}
    for start, total, norm in zip(starts.tolist(), sums, norms.tolist(), strict=True):
        if norm >= 1e-9:
            found[int(owner[start])] = (total / norm).astype(np.float32)
    return found


def similarity(a: Vector, b: Vector) -> float:
    """Cosine similarity of two normalised vectors."""
    return float(np.dot(a, b))
