"""Likely answerers of a question, from analytics to notify (docs/architecture.md §17,
"Routing questions to experts").

No service reads another's schema or calls another (§1). Analytics embeds every new question,
ranks the people whose posts and answers are close to it in meaning, and publishes the ranking
on ``canopy.question-experts.v1`` as one :class:`QuestionExperts` record per question. Notify
stores the candidates and, when the question is still unanswered after the tenant's delay,
notifies up to three of them who pass its own rules (who may see the question, mutes,
preferences); it owns the timing, the filters and the notification, analytics only the ranking.

Records are keyed ``tenant:question id`` (:func:`record_key`). A later record for the same
question replaces an earlier one (a recomputation); notify keeps the latest by ``computed_at``.

This module is pure (models and codec): both services take their names from here.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from canopy_common.principal import TENANT_ID_PATTERN

#: At most this many candidates per question, best first: notify keeps up to three who pass
#: its rules, so ten leave room for the asker, guests, people who muted the group and the like.
MAX_EXPERTS = 10
#: Object ids cited as the reason, per candidate (e.g. the similar questions they answered).
MAX_EVIDENCE = 3
#: The reason is shown to the person in the notification: one short sentence.
REASON_MAX_LENGTH = 300
OBJECT_ID_MAX_LENGTH = 2048  # an IRI
USER_ID_MAX_LENGTH = 255  # a token's `sub`
MODEL_MAX_LENGTH = 200
# Ten candidates with three IRIs and a reason each stay far under this; a larger record is a bug.
MAX_RECORD_BYTES = 256 * 1024

_Tenant = Annotated[str, Field(pattern=TENANT_ID_PATTERN)]
_UserId = Annotated[str, Field(min_length=1, max_length=USER_ID_MAX_LENGTH)]
_ObjectId = Annotated[str, Field(min_length=1, max_length=OBJECT_ID_MAX_LENGTH)]


class Expert(BaseModel):
    """One likely answerer: who, how close (higher is closer; comparable within one record
    only), why in a sentence shown to them, and the objects that sentence rests on."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    user_id: _UserId
    score: float = Field(allow_inf_nan=False)
    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX_LENGTH)]
    evidence: Annotated[list[_ObjectId], Field(max_length=MAX_EVIDENCE)] = []


class QuestionExperts(BaseModel):
    """The likely answerers of question ``question_id`` (the question's object id as
    activities carry it) asked by ``asker_id``, best first, as ``model`` ranked them at
    ``computed_at``. The asker may be among them: notify drops them, like everyone its rules
    drop."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    tenant: _Tenant
    question_id: _ObjectId
    asker_id: _UserId
    computed_at: AwareDatetime
    model: Annotated[str, Field(min_length=1, max_length=MODEL_MAX_LENGTH)]
    experts: Annotated[list[Expert], Field(max_length=MAX_EXPERTS)]


class InvalidQuestionExperts(ValueError):
    """A record of ``canopy.question-experts.v1`` that is no valid :class:`QuestionExperts`
    (poison: the consumer dead-letters it with this message as the reason)."""


def record_key(tenant: str, question_id: str) -> str:
    """``tenant:question id``, the key of a question's experts record."""
    return f"{tenant}:{question_id}"


def encode_question_experts(record: QuestionExperts) -> bytes:
    """The bytes of ``record`` on ``canopy.question-experts.v1``."""
    return orjson.dumps(record.model_dump(mode="json"))


def decode_question_experts(key: bytes | None, value: bytes | None) -> QuestionExperts:
    """The record (``key``, ``value``) checked strictly, its key too;
    :class:`InvalidQuestionExperts` says why it is none."""
    if not value:
        raise InvalidQuestionExperts("a question-experts record needs a value")
    if len(value) > MAX_RECORD_BYTES:
        raise InvalidQuestionExperts(
            f"a question-experts record is at most {MAX_RECORD_BYTES} bytes"
        )
    try:
        # JSON mode: datetimes arrive as strings, which strict mode accepts only from JSON.
        record = QuestionExperts.model_validate_json(value)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'record'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise InvalidQuestionExperts(f"not a question-experts record: {reasons}") from None
    if key != record_key(record.tenant, record.question_id).encode():
        # Always keyed so; another key says the producer is not ours.
        raise InvalidQuestionExperts(
            f"a question-experts record of tenant {record.tenant!r} keyed otherwise"
        )
    return record
