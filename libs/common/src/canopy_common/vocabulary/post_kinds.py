"""The post kinds (the ``kind`` term) and the AS2 type each is published as
(docs/architecture.md §3): one map for ingestion, which publishes them, and the test factories,
which build what it publishes."""

from __future__ import annotations

from collections.abc import Mapping

AS2_TYPE: Mapping[str, str] = {
    "note": "Note",
    "question": "Question",
    "answer": "Note",  # an answer is a reply Note to a Question
    "announcement": "Note",
    "article": "Article",
    "task": "Task",
    "event": "Event",
    "document": "Document",
    "link": "Link",
}

# The kind an AS2 type stands for when nothing says more: the first kind published as it
# (a Note is a `note`; an answer or announcement says its kind).
KIND_OF_AS2_TYPE: Mapping[str, str] = {
    as2_type: kind for kind, as2_type in reversed(list(AS2_TYPE.items()))
}
