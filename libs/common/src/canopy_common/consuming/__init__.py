"""Consuming Kafka the Canopy way (docs/architecture.md §9): at least once, idempotent handlers,
transient failures retried, poison dead-lettered, offsets committed last.

- :mod:`~canopy_common.consuming.records` — the record a handler sees, the handler signatures;
- :mod:`~canopy_common.consuming.steps` — decode each, one by one, retry transient;
- :mod:`~canopy_common.consuming.dead_letters` — the DLQ step and its headers;
- :mod:`~canopy_common.consuming.offsets` — done offsets and the manual commit;
- :mod:`~canopy_common.consuming.consumer` — the aiokafka loop (fetch, pause, rewind, rebalance);
- :mod:`~canopy_common.consuming.metrics` — the consumer series (the lag one every stream shares).

Analytics' faust agents compose the same steps (``canopy_analytics.batches``).
"""

from __future__ import annotations

from canopy_common.consuming.consumer import Consumer
from canopy_common.consuming.dead_letters import (
    DeadLetterHeaders,
    DeadLetters,
    Fetched,
    dead_letter_headers,
    original_headers,
)
from canopy_common.consuming.metrics import (
    ConsumerMetrics,
    PartitionLag,
    consumer_metrics,
    partition_lag,
)
from canopy_common.consuming.records import BatchHandler, ConsumedRecord, Handler, Rejected
from canopy_common.consuming.steps import GaveUp, decode_each, one_by_one, retry_transient

__all__ = [
    "BatchHandler",
    "ConsumedRecord",
    "Consumer",
    "ConsumerMetrics",
    "DeadLetterHeaders",
    "DeadLetters",
    "Fetched",
    "GaveUp",
    "Handler",
    "PartitionLag",
    "Rejected",
    "consumer_metrics",
    "dead_letter_headers",
    "decode_each",
    "one_by_one",
    "original_headers",
    "partition_lag",
    "retry_transient",
]
