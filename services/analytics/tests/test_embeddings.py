"""The embedding models (docs/architecture.md §17 "The model"): no servers, only the models."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from canopy_analytics.adapters.embedder import (
    MAX_TOKENS,
    Embedder,
    EmbeddingModel,
    load_embedder,
)
from canopy_analytics.settings import Settings
from canopy_testing.paraphrases import LabelledSet, embedding_scores, recall_at

PARAPHRASES = Path(__file__).parent / "data" / "paraphrases.json"
DEFAULT_MODEL = Settings.model_fields["embedding_model"].default
# Measured on the labelled set (73 paraphrases against 159 texts) with the default model,
# all-MiniLM-L6-v2 int8: recall@1 0.616, recall@3 0.849 (bench/embeddings.py prints both).
# The floors sit a little below, so a drift in the model or its tokenizer fails the test.
RECALL_AT_1_FLOOR = 0.55
RECALL_AT_3_FLOOR = 0.80
TEXTS = [
    "How do I connect to the VPN when I'm working from home?",
    "",
    "Zürich office: Weihnachtsfeier am 18. Dezember 🎄",
    "kubectl logs -f deploy/api --since=10m | grep ERROR",
]


@pytest.fixture(scope="module", params=list(EmbeddingModel))
def embedder(request: pytest.FixtureRequest) -> Iterator[Embedder]:
    # The E5 engine sets OMP_NUM_THREADS for itself: it is put back for the other tests.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
        yield load_embedder(request.param)


@pytest.fixture(scope="module")
def default_embedder() -> Embedder:
    return load_embedder(DEFAULT_MODEL)


def test_the_default_model_finds_paraphrases_that_share_few_words_with_the_question(
    default_embedder: Embedder,
) -> None:
    labelled = LabelledSet.load(PARAPHRASES)
    recall = recall_at(embedding_scores(default_embedder, labelled), labelled)
    assert recall[1] >= RECALL_AT_1_FLOOR, recall
    assert recall[3] >= RECALL_AT_3_FLOOR, recall


def test_vectors_are_unit_length_float32_rows_of_the_models_dimension(
    embedder: Embedder,
) -> None:
    vectors = embedder.passages(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = embedder.query(TEXTS[0])
    assert query.shape == (embedder.dim,)
    assert query.dtype == np.float32
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-5)
    assert embedder.passages([]).shape == (0, embedder.dim)


def test_the_same_text_gives_the_same_vector_alone_in_a_batch_and_in_threads(
    embedder: Embedder,
) -> None:
    alone = embedder.passages(TEXTS[:1])[0]
    assert np.array_equal(alone, embedder.passages(TEXTS[:1])[0])
    # Beside longer texts (padding) the vector may move in the last float digits only.
    assert np.allclose(alone, embedder.passages(TEXTS)[0], atol=1e-5)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(embedder.passages, [TEXTS] * 8))
    for result in results:
        assert np.allclose(result, results[0], atol=1e-5)


def test_a_long_text_is_read_up_to_the_token_budget_only(embedder: Embedder) -> None:
    opening = " ".join(["deployment"] * (2 * MAX_TOKENS))
    vectors = embedder.passages([opening, opening + " holidays in Lisbon " * 500])
    assert np.allclose(vectors[0], vectors[1], atol=1e-5)


def test_the_model_names_its_vectors_and_the_setting_chooses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert {m.value for m in EmbeddingModel} == {
        "minilm-l6-v2-int8",
        "wordllama-l2-supercat-256",
        "e5-small-q4",
    }
    monkeypatch.setenv("CANOPY_ANALYTICS_EMBEDDING_MODEL", "wordllama-l2-supercat-256")
    assert Settings().embedding_model is EmbeddingModel.WORDLLAMA
    monkeypatch.setenv("CANOPY_ANALYTICS_EMBEDDING_MODEL", "bert-from-the-hub")
    with pytest.raises(ValueError, match="embedding_model"):
        Settings()


# Run in a fresh interpreter: an audit hook cannot be removed again.
NO_NETWORK = """
import sys
from canopy_analytics.adapters.embedder import EmbeddingModel, load_embedder

def refuse(event, args):
    if event.startswith(("socket.", "urllib.")):
        raise RuntimeError(f"network: {event} {args!r}")

sys.addaudithook(refuse)
for model in EmbeddingModel:
    embedder = load_embedder(model)
    print(model.value, embedder.passages(["hello"]).shape)
"""


def test_every_model_loads_from_its_package_without_network_or_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(home / "hf"),
    }
    done = subprocess.run(
        [sys.executable, "-c", NO_NETWORK],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == len(EmbeddingModel)
    assert list(home.iterdir()) == []  # nothing downloaded, nothing cached
