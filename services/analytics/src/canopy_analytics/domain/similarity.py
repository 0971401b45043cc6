"""Similarity by meaning over plain arrays (docs/architecture.md §17). Pure: no I/O.

Vectors are L2-normalised float32 (the embedder's contract), so cosine similarity is a dot
product and a tenant's nearest items are one matrix-vector product and a partial sort: exact,
no approximate index (no pgvector on Debian 12; numpy does 100,000 x 384 in milliseconds).
"""

from __future__ import annotations

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
    count = int(np.count_nonzero(candidates))
    if k <= 0 or count == 0:
        return []
    # One product over every row (no copy of the candidates' rows), the others masked out.
    scores = matrix @ query
    scores[~candidates] = -np.inf
    k = min(k, count)
    top = np.argpartition(-scores, k - 1)[:k]
    ordered = sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
    return [(i, float(scores[i])) for i in ordered]


# Rows summed at a time: bounds the copy a tenant's centroids need (8,192 x 384 floats: 12 MB).
CENTROID_CHUNK = 8_192


def centroids(matrix: Matrix, owners: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]) -> Matrix:
    """The normalised mean of each owner's rows: ``owners[i]`` (0 .. n - 1) owns
    ``matrix[rows[i]]``; row ``o`` of the answer is owner ``o``'s (zero when it has none)."""
    count = int(owners.max()) + 1 if owners.size else 0
    sums = np.zeros((count, matrix.shape[1]), dtype=np.float32)
    for start in range(0, rows.size, CENTROID_CHUNK):
        part = slice(start, start + CENTROID_CHUNK)
        order = np.argsort(owners[part], kind="stable")
        owner, picked = owners[part][order], rows[part][order]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        sums[owner[starts]] += np.add.reduceat(matrix[picked], starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    unit: Matrix = np.divide(sums, norms, out=np.zeros_like(sums), where=norms >= 1e-9)
    return unit


def similarity(a: Vector, b: Vector) -> float:
    """Cosine similarity of two normalised vectors."""
    return float(np.dot(a, b))
