"""Settings of the analytics service (`CANOPY_ANALYTICS_*`, plus the shared `CANOPY_*` groups)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from canopy_analytics.adapters.embedder import EmbeddingModel
from canopy_common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CANOPY_ANALYTICS_", extra="ignore")

    service_name: str = "analytics"
    port: int = 8004
    consumer_group: str = "canopy-analytics"
    db_schema: str = "analytics"

    # docs/architecture.md §17 "The model": MiniLM finds paraphrases the others miss (recall@3
    # 0.85 against 0.75 and 0.56) for about 4 ms of CPU per question (bench/embeddings.py).
    # WordLlama and E5 are installed with the dev tools only, for the comparison.
    embedding_model: EmbeddingModel = Field(
        default=EmbeddingModel.MINILM,
        description="Embedding model: minilm-l6-v2-int8; wordllama-l2-supercat-256 and "
        "e5-small-q4 with the dev tools only",
    )

    # One batch is one Postgres transaction: 500 activities commit in well under a second and
    # keep a redelivery after a crash small.
    stream_batch_size: int = Field(
        default=500, ge=1, description="Records the stream applies together (one transaction)"
    )
    # Figures are read in days and hours: half a second of delay costs nothing and fills
    # batches when traffic is light.
    stream_batch_wait_s: float = Field(
        default=0.5, gt=0, description="Longest wait for a batch to fill before applying it"
    )
    stream_retry_backoff_initial_s: float = Field(
        default=0.2, gt=0, description="Stream: first wait after a transient failure (doubles)"
    )
    stream_retry_backoff_max_s: float = Field(
        default=10.0, gt=0, description="Stream: longest wait between retries of a batch"
    )
    # Bounds what a crash makes the stream redo; each commit is one request to the broker.
    stream_commit_interval_s: float = Field(
        default=1.0, gt=0, description="How often the offsets of applied batches are committed"
    )
    # Under uvicorn's 30 s graceful shutdown, with room left to commit and close.
    stream_stop_grace_s: float = Field(
        default=20.0, gt=0, description="On stop, how long the batch in flight may take to finish"
    )

    # -- search by meaning (docs/architecture.md §17) --
    # One model call per batch: big enough to amortise the call, small enough that the posts
    # it locks (an edit of one waits for the pass) are released within a fraction of a second.
    embed_batch_size: int = Field(
        default=32, ge=1, le=1000, description="Posts the embedding worker claims per pass"
    )
    # NOTIFY wakes the worker when the stream changes a text; the poll is the fallback.
    embed_poll_interval_s: float = Field(
        default=5.0, gt=0, description="Embedding worker: longest sleep between passes"
    )
    # Below this cosine similarity two texts are about different things for the default model
    # (measured on the labelled set, docs §17): nothing that far is shown or counted.
    similarity_floor: float = Field(
        default=0.3,
        ge=-1,
        le=1,
        description="Least similarity for a similar question, an expert's item or a suggestion",
    )
    # Routing is for questions still waiting (notify routes after the tenant's delay, 4 h by
    # default): an older question embedded late (a backlog, a change of model) is not routed.
    question_experts_max_age_s: float = Field(
        default=7 * 86_400.0,
        gt=0,
        description="Likely answerers are published only for questions asked this recently",
    )
