"""The labelled paraphrase set that embedding models are judged on (docs/architecture.md §17).

The set itself is ``services/analytics/tests/data/paraphrases.json`` (its ``format`` field says
how it is built). Each paraphrase is a query, ranked against the pool of every original question
and every decoy; it is a hit at ``k`` when its own original is among the ``k`` best. The test of
the default model and ``bench/embeddings.py`` both score through :func:`recall_at`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: Where the set lives in the repository, relative to its root.
PARAPHRASES_FILE = Path("services/analytics/tests/data/paraphrases.json")


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    """A question, rewordings of it, and near-topic questions that ask for something else."""

    id: str
    question: str
    paraphrases: tuple[str, ...]
    decoys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LabelledSet:
    questions: tuple[LabelledQuestion, ...]

    @classmethod
    def load(cls, path: Path) -> LabelledSet:
        document = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            tuple(
                LabelledQuestion(
                    id=entry["id"],
                    question=entry["question"],
                    paraphrases=tuple(entry["paraphrases"]),
                    decoys=tuple(entry["decoys"]),
                )
                for entry in document["questions"]
            )
        )

    @property
    def pool(self) -> list[str]:
        """What each paraphrase is ranked against: the originals (in order), then the decoys."""
        originals = [q.question for q in self.questions]
        return originals + [decoy for q in self.questions for decoy in q.decoys]

    @property
    def queries(self) -> list[tuple[str, int]]:
        """Each paraphrase with the index in :attr:`pool` of its original."""
        return [(p, i) for i, q in enumerate(self.questions) for p in q.paraphrases]


class QueryEmbedder(Protocol):
    """What :func:`embedding_scores` needs of an embedder: unit vectors for both sides."""

    def passages(self, texts: Sequence[str]) -> NDArray[np.float32]: ...
    def query(self, text: str) -> NDArray[np.float32]: ...


def embedding_scores(embedder: QueryEmbedder, labelled: LabelledSet) -> NDArray[np.float32]:
    """Cosine of every query (rows) with every pool text (columns)."""
    pool = embedder.passages(labelled.pool)
    queries = np.stack([embedder.query(text) for text, _ in labelled.queries])
    scores: NDArray[np.float32] = queries @ pool.T
    return scores


def recall_at(
    scores: NDArray[np.floating], labelled: LabelledSet, ks: Sequence[int] = (1, 3)
) -> dict[int, float]:
    """The share of queries whose original ranks in the top ``k``, for each ``k``.

    A tie with the original counts against it, so a scorer that cannot tell texts apart
    (all scores equal) gets no credit.
    """
    targets = np.array([target for _, target in labelled.queries])
    own = scores[np.arange(len(targets)), targets]
    # The original's rank: how many pool texts score at least as high, itself excluded.
    rank = (scores >= own[:, None]).sum(axis=1) - 1
    return {k: float((rank < k).mean()) for k in ks}
