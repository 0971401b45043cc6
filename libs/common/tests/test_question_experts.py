"""The question-experts records (canopy_common.question_experts): a record comes back as it
went, and whatever is no record of ours is refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from canopy_common.question_experts import (
    Expert,
    InvalidQuestionExperts,
    QuestionExperts,
    decode_question_experts,
    encode_question_experts,
    record_key,
)

QUESTION = "https://canopy.example/acme/objects/q-1"


def _record() -> QuestionExperts:
    return QuestionExperts(
        tenant="acme",
        question_id=QUESTION,
        asker_id="u-ada",
        computed_at=datetime(2027, 1, 5, 9, 30, tzinfo=UTC),
        model="bge-small",
        experts=[
            Expert(
                user_id="u-bob",
                score=0.83,
                reason="Answered a similar question: “How do I renew the VPN certificate?”",
                evidence=["https://canopy.example/acme/objects/q-0"],
            )
        ],
    )


def test_a_record_comes_back_as_it_went_under_its_key() -> None:
    record = _record()
    key = record_key("acme", QUESTION).encode()

    assert key == f"acme:{QUESTION}".encode()
    assert decode_question_experts(key, encode_question_experts(record)) == record


def test_records_that_are_not_ours_are_refused_with_the_reason() -> None:
    key = record_key("acme", QUESTION).encode()
    value = orjson.loads(encode_question_experts(_record()))
    expert = value["experts"][0]

    cases = {
        "keyed otherwise": (b"acme:q-2", orjson.dumps(value)),
        "needs a value": (key, b""),
        "computed_at: Input should have timezone": (
            key,
            orjson.dumps(value | {"computed_at": "2027-01-05T09:30:00"}),
        ),
        "experts: List should have at most 10": (
            key,
            orjson.dumps(value | {"experts": [expert] * 11}),
        ),
        "reason: String should have at most 300": (
            key,
            orjson.dumps(value | {"experts": [expert | {"reason": "x" * 301}]}),
        ),
        "admin: Extra inputs": (key, orjson.dumps(value | {"admin": True})),
        "not a question-experts record": (key, b"{not json"),
    }
    for reason, (record_key_, raw) in cases.items():
        with pytest.raises(InvalidQuestionExperts, match=reason):
            decode_question_experts(record_key_, raw)
