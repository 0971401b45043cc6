"""The impressions record fanout publishes and analytics consumes (no network)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from canopy_common.errors import InvalidInput
from canopy_common.impressions import (
    MAX_ID_LENGTH,
    MAX_ITEMS_PER_RECORD,
    Impressions,
    InvalidImpressions,
    decode_impressions,
)
from canopy_common.kafka import dumps
from canopy_common.transient import is_transient


def item(**changes: Any) -> dict[str, Any]:
    return {
        "activity": "act-1",
        "object": "urn:canopy:acme:post:1",
        "feed": "home",
        "viewed_at": "2025-03-01T09:30:00+00:00",
        **changes,
    }


def record(**changes: Any) -> bytes:
    return orjson.dumps({"tenant": "acme", "viewer": "ada", "items": [item()], **changes})


def test_a_record_as_fanout_publishes_it_decodes() -> None:
    decoded = decode_impressions(record(items=[item(), item(activity="act-2", feed="group")]))

    assert (decoded.tenant, decoded.viewer) == ("acme", "ada")
    assert [i.activity for i in decoded.items] == ["act-1", "act-2"]
    assert decoded.items[0].object == "urn:canopy:acme:post:1"
    assert decoded.items[1].feed == "group"
    assert decoded.items[0].viewed_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_a_model_survives_the_producers_encoding() -> None:
    decoded = decode_impressions(record())

    assert decode_impressions(dumps(decoded)) == decoded


def test_members_a_newer_producer_adds_are_ignored() -> None:
    decoded = decode_impressions(record(items=[item(position=3)], client="web"))

    assert decoded.items[0].activity == "act-1"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "$"),
        (b"\xff\xfe", "$"),
        (b"[]", "$"),
        (record(tenant=""), "tenant"),
        (record(viewer="   "), "viewer"),
        (orjson.dumps({"tenant": "acme", "items": [item()]}), "viewer"),
        (record(items=[]), "items"),
        (record(items=[item(activity="")]), "items[0].activity"),
        (record(items=[item(), item(object=None)]), "items[1].object"),
        (record(items=[item(feed="")]), "items[0].feed"),
        (record(items=[item(viewed_at="2025-03-01T09:30:00")]), "items[0].viewed_at"),
        (record(items=[item(viewed_at="yesterday")]), "items[0].viewed_at"),
        (record(viewer="x" * (MAX_ID_LENGTH + 1)), "viewer"),
        (record(items=[item()] * (MAX_ITEMS_PER_RECORD + 1)), "items"),
    ],
)
def test_a_bad_record_is_refused_naming_the_member_at_fault(raw: bytes, field: str) -> None:
    with pytest.raises(InvalidImpressions) as refused:
        decode_impressions(raw)

    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")


def test_a_refusal_is_invalid_input_so_consumers_dead_letter_it() -> None:
    with pytest.raises(InvalidImpressions) as refused:
        decode_impressions(b"{}")

    assert isinstance(refused.value, InvalidInput)
    assert refused.value.status == 422
    assert not is_transient(refused.value)


def test_the_largest_record_allowed_decodes() -> None:
    decoded = decode_impressions(record(items=[item()] * MAX_ITEMS_PER_RECORD))

    assert isinstance(decoded, Impressions)
    assert len(decoded.items) == MAX_ITEMS_PER_RECORD
