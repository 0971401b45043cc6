"""Delivery records and the emails they become: strict parsing (a bad record is dead-lettered
with a clear reason) and rendering (subjects, digest order, escaping, encoded names)."""

from __future__ import annotations

import copy
import email
import email.policy
from email.message import EmailMessage
from typing import Any

import orjson
import pytest

from canopy_common.errors import InvalidInput
from canopy_notify.domain.emails import (
    SUBJECT_MAX_CHARS,
    Delivery,
    Recipient,
    build_message,
    message_id,
    preferences_url_of,
    render,
    shorten,
)

SENDER = "Canopy <notifications@canopy.example>"
PREFERENCES = "http://127.0.0.1:8080/settings/notifications"


def item_doc(n: int = 42, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": n,
        "type": "mention",
        "text": f"Bob Smith mentioned you: “Launch is Friday” ({n})",
        "url": f"http://127.0.0.1:8080/notifications/{n}",
        "created_at": f"2026-11-21T10:{n % 60:02d}:00+00:00",
        "urgent": False,
    }
    return doc | changes


def delivery_doc(*items: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The record exactly as the service publishes it; ``changes`` override top-level members."""
    doc: dict[str, Any] = {
        "id": "dl:t_abc:42",
        "tenant": "t_abc",
        "recipient": "u123",
        "channel": "email",
        "to": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "digest": None,
        "items": list(items) or [item_doc()],
        "created_at": "2026-11-21T10:02:00+00:00",
    }
    return doc | changes


def decode(doc: dict[str, Any]) -> Delivery:
    return Delivery.decode(orjson.dumps(doc))


def parsed(message: EmailMessage) -> EmailMessage:
    """The message as a receiving mail client reads it back from the wire."""
    wire = message.as_bytes(policy=email.policy.SMTP)
    result = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(result, EmailMessage)
    return result


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    assert part.get_content_subtype() == subtype
    content = part.get_content()
    assert isinstance(content, str)
    return content


# --- parsing --------------------------------------------------------------------------------


def test_the_published_record_parses() -> None:
    delivery = decode(delivery_doc())

    assert delivery.id == "dl:t_abc:42"
    assert delivery.channel == "email"
    assert delivery.digest is None
    assert delivery.to == Recipient(name="Ada Lovelace", email="ada@example.com")
    assert [item.id for item in delivery.items] == [42]
    assert delivery.items[0].created_at.utcoffset() is not None


def test_a_recipient_without_an_address_or_name_parses() -> None:
    delivery = decode(delivery_doc(to={"name": None, "email": None}))

    assert delivery.to == Recipient(name=None, email=None)


def test_a_digest_may_carry_many_items() -> None:
    delivery = decode(delivery_doc(item_doc(1), item_doc(2), item_doc(3), digest="weekly"))

    assert len(delivery.items) == 3


def _without(doc: dict[str, Any], *path: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return doc


BAD_RECORDS: dict[str, tuple[bytes, str]] = {
    "not JSON": (b"{not json", "json"),
    "not UTF-8": (b'{"id": "\xff"}', "json"),
    "a JSON list": (b"[]", "should be an object"),
    "missing id": (orjson.dumps(_without(delivery_doc(), "id")), "id"),
    "missing digest": (orjson.dumps(_without(delivery_doc(), "digest")), "digest"),
    "missing to.email": (orjson.dumps(_without(delivery_doc(), "to", "email")), "to.email"),
    "empty id": (orjson.dumps(delivery_doc(id="")), "id"),
    "unknown channel": (orjson.dumps(delivery_doc(channel="sms")), "channel"),
    "unknown digest": (orjson.dumps(delivery_doc(digest="monthly")), "digest"),
    "extra member": (orjson.dumps(delivery_doc(priority="high")), "priority"),
    "bad address": (
        orjson.dumps(delivery_doc(to={"name": "Ada", "email": "ada at example"})),
        "to.email",
    ),
    "header injection in address": (
        orjson.dumps(delivery_doc(to={"name": "Ada", "email": "a@b.com\r\nBcc: x@y.com"})),
        "to.email",
    ),
    "no items": (orjson.dumps(delivery_doc(items=[], digest="daily")), "items"),
    "two items, no digest": (orjson.dumps(delivery_doc(item_doc(1), item_doc(2))), "items"),
    "item id as a string": (orjson.dumps(delivery_doc(item_doc(id="42"))), "items.0.id"),
    "item urgent as a string": (
        orjson.dumps(delivery_doc(item_doc(urgent="yes"))),
        "items.0.urgent",
    ),
    "javascript url": (
        orjson.dumps(delivery_doc(item_doc(url="javascript:alert(1)"))),
        "items.0.url",
    ),
    "naive time": (
        orjson.dumps(delivery_doc(item_doc(created_at="2026-11-21T10:00:00"))),
        "items.0.created_at",
    ),
    "not a time": (orjson.dumps(delivery_doc(created_at="yesterday")), "created_at"),
}


@pytest.mark.parametrize(("raw", "where"), BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_record_is_invalid_input_naming_what_is_wrong(raw: bytes, where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Delivery.decode(raw)

    assert caught.value.message.startswith("not a delivery record: ")
    assert where.lower() in caught.value.message.lower()


# --- rendering ------------------------------------------------------------------------------


def test_one_notification_has_its_text_as_subject_and_its_link_in_the_body() -> None:
    delivery = decode(delivery_doc())

    rendered = render(delivery, preferences_url=PREFERENCES)

    assert rendered.subject == "Bob Smith mentioned you: “Launch is Friday” (42)"
    assert "Bob Smith mentioned you: “Launch is Friday” (42)" in rendered.text
    assert "http://127.0.0.1:8080/notifications/42" in rendered.text
    assert 'href="http://127.0.0.1:8080/notifications/42"' in rendered.html
    assert PREFERENCES in rendered.text
    assert PREFERENCES in rendered.html


def test_a_long_text_is_shortened_at_a_word_for_the_subject_but_whole_in_the_body() -> None:
    text = "Bob Smith replied to your post: " + "all work and no play " * 10 + "\nend"
    delivery = decode(delivery_doc(item_doc(text=text)))

    rendered = render(delivery)

    assert len(rendered.subject) <= SUBJECT_MAX_CHARS
    assert rendered.subject.endswith("…")
    assert rendered.subject.startswith("Bob Smith replied to your post: all work")
    assert rendered.subject[:-1].split(" ")[-1] in {"all", "work", "and", "no", "play"}
    assert "\n" not in rendered.subject
    assert rendered.text.count("all work and no play") == 10


def test_shorten_keeps_short_text_and_cuts_a_single_long_word() -> None:
    assert shorten("  hello\n  world ", 78) == "hello world"
    assert shorten("x" * 100, 10) == "x" * 9 + "…"


def test_a_digest_lists_every_item_urgent_first_then_newest_first() -> None:
    items = [
        item_doc(1, text="old note", created_at="2026-11-21T08:00:00+00:00"),
        item_doc(2, text="new note", created_at="2026-11-21T12:00:00+00:00"),
        item_doc(3, text="old task due", created_at="2026-11-21T07:00:00+00:00", urgent=True),
        item_doc(4, text="mid note", created_at="2026-11-21T10:00:00+00:00"),
        item_doc(5, text="new flag", created_at="2026-11-21T11:00:00+00:00", urgent=True),
    ]
    delivery = decode(delivery_doc(*items, digest="daily"))

    rendered = render(delivery)

    assert rendered.subject == "Your daily Canopy digest: 5 notifications"
    expected = ["new flag", "old task due", "new note", "mid note", "old note"]
    for body_text in (rendered.text, rendered.html):
        positions = [body_text.index(text) for text in expected]
        assert positions == sorted(positions)
    for n in range(1, 6):
        assert f"http://127.0.0.1:8080/notifications/{n}" in rendered.text
        assert f'href="http://127.0.0.1:8080/notifications/{n}"' in rendered.html
    assert rendered.text.count("[urgent]") == 2


def test_a_digest_of_one_says_notification() -> None:
    delivery = decode(delivery_doc(item_doc(1), digest="hourly"))

    assert render(delivery).subject == "Your hourly Canopy digest: 1 notification"


def test_html_in_a_notification_is_escaped_in_the_html_part() -> None:
    text = 'Mallory mentioned you: <script>alert("x")</script> & more'
    url = 'http://127.0.0.1:8080/notifications/7?a=1&b="><script>'
    for doc in (
        delivery_doc(item_doc(text=text, url=url)),
        delivery_doc(item_doc(text=text, url=url), digest="daily"),
    ):
        rendered = render(decode(doc))

        assert "<script>" not in rendered.html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in rendered.html
        assert (
            'href="http://127.0.0.1:8080/notifications/7?a=1&amp;b=&quot;&gt;&lt;script&gt;"'
            in rendered.html
        )
        assert text in rendered.text  # plain text stays as written


# --- the message ----------------------------------------------------------------------------


def test_the_message_has_both_parts_and_recognisable_headers() -> None:
    delivery = decode(delivery_doc())

    message = parsed(build_message(delivery, sender=SENDER, preferences_url=PREFERENCES))

    assert message["Subject"] == "Bob Smith mentioned you: “Launch is Friday” (42)"
    assert message["From"] == SENDER
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message["Message-ID"] == "<dl%3At_abc%3A42@canopy.example>"
    assert message["List-Unsubscribe"] == f"<{PREFERENCES}>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert "Launch is Friday" in body(message, "plain")
    assert "Launch is Friday" in body(message, "html")


def test_a_non_ascii_name_is_encoded_and_reads_back_whole() -> None:
    delivery = decode(
        delivery_doc(to={"name": "Zoë Ægir-Łukasiewicz, Jr.", "email": "zoe@example.com"})
    )

    message = build_message(delivery, sender=SENDER)
    wire = message.as_bytes(policy=email.policy.SMTP)

    assert wire.isascii()  # an encoded word, not raw UTF-8, in the header
    to = parsed(message)["To"]
    assert to.addresses[0].display_name == "Zoë Ægir-Łukasiewicz, Jr."
    assert to.addresses[0].addr_spec == "zoe@example.com"


def test_a_recipient_without_a_name_is_addressed_by_email_alone() -> None:
    delivery = decode(delivery_doc(to={"name": None, "email": "ada@example.com"}))

    assert parsed(build_message(delivery, sender=SENDER))["To"] == "ada@example.com"


def test_building_a_message_without_an_address_is_refused() -> None:
    delivery = decode(delivery_doc(to={"name": "Ada", "email": None}))

    with pytest.raises(ValueError, match="no email address"):
        build_message(delivery, sender=SENDER)


def test_the_message_id_is_stable_and_valid_for_any_delivery_id() -> None:
    assert message_id("dl:t_abc:42", SENDER) == message_id("dl:t_abc:42", SENDER)
    assert message_id("dl:t_abc:42", SENDER) != message_id("dl:t_abc:43", SENDER)
    odd = message_id("dl: <x>@ü..", "no-domain")
    assert odd == "<dl%3A%20%3Cx%3E%40%C3%BC%2E%2E@canopy.localhost>"


def test_the_preferences_url_sits_under_the_public_url() -> None:
    assert preferences_url_of("https://canopy.example/") == (
        "https://canopy.example/settings/notifications"
    )
