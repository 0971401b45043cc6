"""Audit entries of actions outside ingestion: what a valid entry is, which tenant a dead
letter belongs to, and one replay entry per tenant it touched (docs/architecture.md §14)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from canopy_common.audit_events import (
    InvalidAuditEvent,
    OutsideAction,
    audit_event,
    decode_audit_event,
    encode_audit_event,
)
from canopy_common.consuming.dead_letters import DeadLetterHeaders
from canopy_common.dead_letters import DeadLetter, Filters, LetterId, ReplayReport
from canopy_common.dead_letters.replay import tenant_of
from canopy_common.kafka_producer import Delivery

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def entry_json(**changes: object) -> bytes:
    entry = audit_event(
        tenant="acme",
        actor="operator:sam",
        action=OutsideAction.DLQ_REPLAY,
        target="canopy.upstream.v1",
        details={"replayed": 1},
        at=AT,
    )
    return orjson.dumps(orjson.loads(encode_audit_event(entry)) | changes)


def letter(offset: int, key: bytes | None, value: bytes | None, topic: str) -> DeadLetter:
    why = DeadLetterHeaders(topic, 0, offset, "canopy-ingestion", "InvalidJSON", "bad", AT)
    return DeadLetter(LetterId(0, offset), key, value, (), why, AT)


def test_an_entry_round_trips_through_its_bytes() -> None:
    raw = entry_json()

    entry = decode_audit_event(raw)

    assert (entry.tenant, entry.actor, entry.action, entry.at) == (
        "acme",
        "operator:sam",
        OutsideAction.DLQ_REPLAY,
        AT,
    )
    assert decode_audit_event(encode_audit_event(entry)) == entry


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"action": "user.erase"}, "action"),  # an action ingestion takes itself: never forged
        ({"tenant": "acme:other"}, "tenant"),
        ({"actor": "sam\nroot"}, "actor"),
        ({"at": "2026-03-01T09:30:00"}, "at"),  # no time zone
        ({"id": "not-a-uuid"}, "id"),
        ({"extra": 1}, "extra"),
        ({"details": ["a"]}, "details"),
    ],
)
def test_anything_but_a_valid_entry_is_refused_naming_the_field(
    changes: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidAuditEvent, match=named):
        decode_audit_event(entry_json(**changes))


def test_bytes_that_are_no_entry_are_refused() -> None:
    for raw in (None, b"", b"{", b"[]", b"x" * 70_000):
        with pytest.raises(InvalidAuditEvent):
            decode_audit_event(raw)


def test_a_letters_tenant_comes_from_its_value_else_from_a_tenant_key() -> None:
    activity = orjson.dumps({"tenant": "acme", "type": "Create"})

    assert tenant_of(letter(1, b"whatever", activity, "up")) == "acme"
    assert tenant_of(letter(2, b"globex:ada", b'{"type": ', "up")) == "globex"
    assert tenant_of(letter(3, b"free-key", b"\x00garbage", "up")) is None
    assert tenant_of(letter(4, None, orjson.dumps({"tenant": "a b"}), "up")) is None


def test_a_replay_makes_one_entry_per_tenant_with_that_tenants_letters() -> None:
    report = ReplayReport(operator="sam", filters=Filters(topic="up"), started_at=AT)
    acme_1 = letter(1, b"acme:x", b"{", "up")
    globex = letter(2, b"globex:y", b"{", "acts")
    acme_2 = letter(3, b"acme:z", b"{", "acts")
    nobody = letter(4, b"free", b"{", "up")
    for each in (acme_1, globex, acme_2, nobody):
        report.letters[each.id] = (tenant_of(each), each.why.original_topic)
    report.replayed += [(acme_1.id, Delivery("up", 0, 10)), (globex.id, Delivery("acts", 0, 11))]
    report.failed += [(acme_2.id, "KafkaTimeoutError()"), (nobody.id, "KafkaTimeoutError()")]

    entries = {entry.tenant: entry for entry in report.audit_events()}

    assert sorted(entries) == ["acme", "globex"]
    acme = entries["acme"]
    assert (acme.actor, acme.action, acme.target, acme.at) == (
        "operator:sam",
        OutsideAction.DLQ_REPLAY,
        "acts, up",
        AT,
    )
    assert acme.details == {
        "filters": {"topic": "up"},
        "replayed": 1,
        "failed": 1,
        "letters": ["0:1"],
        "failures": {"0:3": "KafkaTimeoutError()"},
    }
    assert entries["globex"].details["letters"] == ["0:2"]
    assert len({entry.id for entry in entries.values()}) == 2
    assert report.summary()["without_tenant"] == ["0:4"]
