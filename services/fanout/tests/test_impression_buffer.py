"""The impressions buffer builds each record through the common model (no network)."""

from __future__ import annotations

from canopy_common.impressions import MAX_ITEMS_PER_RECORD, Impressions, decode_impressions
from canopy_fanout.impressions import ImpressionBuffer


class Sent:
    """The records published, as analytics reads them back."""

    def __init__(self) -> None:
        self.records: list[tuple[str, Impressions]] = []

    async def __call__(self, key: str, value: bytes) -> None:
        self.records.append((key, decode_impressions(value)))


async def test_a_flush_publishes_one_valid_record_per_reader() -> None:
    sent = Sent()
    buffer = ImpressionBuffer(sent, flush_s=60, batch=10_000)
    buffer.add("acme", "ada", "home", [("a1", "o1"), ("a2", "o2")])
    buffer.add("acme", "bob", "group", [("a1", "o1")])

    assert await buffer.flush() == 3

    assert [key for key, _ in sent.records] == ["acme:ada", "acme:bob"]
    ada = sent.records[0][1]
    assert [(i.activity, i.object, i.feed) for i in ada.items] == [
        ("a1", "o1", "home"),
        ("a2", "o2", "home"),
    ]
    assert all(i.viewed_at.utcoffset() is not None for i in ada.items)


async def test_a_reader_who_saw_more_than_a_record_holds_gets_several_records() -> None:
    sent = Sent()
    buffer = ImpressionBuffer(sent, flush_s=60, batch=10_000)
    buffer.add("acme", "ada", "home", [(f"a{i}", f"o{i}") for i in range(MAX_ITEMS_PER_RECORD + 5)])

    await buffer.flush()

    assert [len(value.items) for _, value in sent.records] == [MAX_ITEMS_PER_RECORD, 5]


async def test_impressions_with_blank_ids_are_left_out_not_raised() -> None:
    sent = Sent()
    buffer = ImpressionBuffer(sent, flush_s=60, batch=10_000)
    buffer.add("acme", "ada", "home", [("", "o1")])
    buffer.add("acme", "", "home", [("a1", "o1")])

    assert await buffer.flush() == 0
    assert sent.records == []
