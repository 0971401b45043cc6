"""Outside-channel deliveries as they travel on ``canopy.deliveries.v1``, and the email each one
becomes. Pure: parsing, rendering and building the MIME message; sending is
:mod:`canopy_notify.mailer`'s business.

The record is parsed strictly (every member present, nothing extra, no coercion): producer and
consumer ship together, so a mismatch is a bug that should surface in the DLQ at once rather
than as a half-filled email.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from canopy_common.errors import InvalidInput

# RFC 5322 recommends lines, and so subjects, of at most 78 characters.
SUBJECT_MAX_CHARS = 78
# Where the web app lets people change what they are emailed about, below its public URL.
PREFERENCES_PATH = "/settings/notifications"
# The right-hand side of a Message-ID when the sender address has no domain.
FALLBACK_MESSAGE_ID_DOMAIN = "canopy.localhost"

_Text = Annotated[str, StringConstraints(min_length=1)]
# Only web links: an email must never carry a javascript: or data: href.
_Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")]
_WHITESPACE = re.compile(r"\s+")
# Characters allowed as-is in a Message-ID's left part (a subset of RFC 5322 atext); others
# are %-escaped so that any delivery id gives a valid, reversible Message-ID.
_MESSAGE_ID_SAFE = re.compile(r"[A-Za-z0-9_-]")


def _email_address(value: str) -> str:
    try:
        Address(addr_spec=value)
    except Exception as exc:  # the header parser raises several kinds for a bad address
        raise ValueError(f"not an email address: {exc}") from None
    return value


class _Record(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Recipient(_Record):
    """Who it goes to; ``email`` is ``None`` when no address is known for them."""

    name: str | None
    email: Annotated[str, AfterValidator(_email_address)] | None


class DeliveryItem(_Record):
    """One notification in a delivery, as its email shows it."""

    id: int
    type: _Text
    text: _Text
    url: _Url
    created_at: AwareDatetime
    urgent: bool


class Delivery(_Record):
    """One record of ``canopy.deliveries.v1``: a notification, or a digest of several, for one
    person on one outside channel. ``id`` is unique per delivery: sending is idempotent on it."""

    id: _Text
    tenant: _Text
    recipient: _Text
    channel: Literal["email", "push"]
    to: Recipient
    digest: Literal["hourly", "daily", "weekly"] | None
    items: tuple[DeliveryItem, ...] = Field(min_length=1)
    created_at: AwareDatetime

    @classmethod
    def decode(cls, raw: bytes | str) -> Delivery:
        """Parse a record's value; :class:`InvalidInput` (dead-lettered) for bad JSON or shape."""
        try:
            delivery = cls.model_validate_json(raw)
        except ValidationError as exc:
            raise InvalidInput(f"not a delivery record: {_describe(exc)}") from None
        if delivery.digest is None and len(delivery.items) != 1:
            raise InvalidInput(
                f"not a delivery record: items: a delivery that is not a digest carries "
                f"exactly one notification, got {len(delivery.items)}"
            )
        return delivery


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    # The first few are enough to fix the producer; the DLQ header is short.
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


@dataclass(frozen=True, slots=True)
class Email:
    """What one delivery says: its subject and the same body as plain text and as HTML."""

    subject: str
    text: str
    html: str


def render(delivery: Delivery, *, preferences_url: str | None = None) -> Email:
    """The email of ``delivery``: one notification, or a digest listing every item with its link,
    urgent ones first, then newest first. ``preferences_url`` adds a footer pointing to where
    the recipient can change what they are emailed about."""
    if delivery.digest is None:
        item = delivery.items[0]
        subject = shorten(item.text, SUBJECT_MAX_CHARS)
        text_lines = [one_line(item.text), "", f"Open it: {item.url}"]
        html_body = f'<p>{_h(item.text)}</p>\n<p><a href="{_h(item.url)}">Open it in Canopy</a></p>'
    else:
        items = digest_order(delivery.items)
        subject = digest_subject(delivery.digest, len(items))
        text_lines = [f"{subject}.", ""]
        html_rows = []
        for item in items:
            mark = "[urgent] " if item.urgent else ""
            text_lines += [f"- {mark}{one_line(item.text)}", f"  {item.url}"]
            html_mark = "<strong>Urgent:</strong> " if item.urgent else ""
            html_rows.append(
                f'<li>{html_mark}<a href="{_h(item.url)}">{_h(one_line(item.text))}</a></li>'
            )
        html_body = f"<p>{_h(subject)}.</p>\n<ul>\n" + "\n".join(html_rows) + "\n</ul>"
    if preferences_url is not None:
        text_lines += ["", "-- ", f"Choose what Canopy emails you about: {preferences_url}"]
        html_body += (
            f'\n<hr>\n<p><small><a href="{_h(preferences_url)}">'
            "Choose what Canopy emails you about</a></small></p>"
        )
    html_doc = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{_h(subject)}</title></head>\n<body>\n{html_body}\n</body></html>\n"
    )
    return Email(subject=subject, text="\n".join(text_lines) + "\n", html=html_doc)


def build_message(
    delivery: Delivery, *, sender: str, preferences_url: str | None = None
) -> EmailMessage:
    """The MIME message of an email ``delivery``: plain text with an HTML alternative, ``To``
    its recipient (display name encoded as needed), ``Message-ID`` derived from the delivery id
    so a re-sent copy is recognisable as the same email.

    Raises :class:`ValueError` when the delivery has no address (check ``delivery.to.email``).
    """
    if delivery.to.email is None:
        raise ValueError(f"delivery {delivery.id} has no email address")
    email = render(delivery, preferences_url=preferences_url)
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = Address(
        display_name=one_line(delivery.to.name or ""), addr_spec=delivery.to.email
    )
    message["Date"] = format_datetime(delivery.created_at)
    message["Message-ID"] = message_id(delivery.id, sender)
    # RFC 3834: out-of-office and other auto-responders must not answer it.
    message["Auto-Submitted"] = "auto-generated"
    if preferences_url is not None:
        message["List-Unsubscribe"] = f"<{preferences_url}>"
    # Quoted-printable keeps the message 7-bit: it passes servers without 8BITMIME unchanged.
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    return message


def preferences_url_of(public_url: str) -> str:
    """Where the web app at ``public_url`` lets people choose what they are emailed about."""
    return public_url.rstrip("/") + PREFERENCES_PATH


def message_id(delivery_id: str, sender: str) -> str:
    """``<escaped-delivery-id@sender-domain>``: the same for every send of one delivery."""
    left = "".join(
        char if _MESSAGE_ID_SAFE.fullmatch(char) else "".join(f"%{b:02X}" for b in char.encode())
        for char in delivery_id
    )
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    domain = domain if at and domain else FALLBACK_MESSAGE_ID_DOMAIN
    return f"<{left}@{domain}>"


def digest_order(items: tuple[DeliveryItem, ...]) -> list[DeliveryItem]:
    """Urgent items first, then newest first (ties by id, newest first)."""
    return sorted(items, key=lambda item: (not item.urgent, -item.created_at.timestamp(), -item.id))


def digest_subject(digest: str, count: int) -> str:
    """``Your daily Canopy digest: 5 notifications``."""
    noun = "notification" if count == 1 else "notifications"
    return f"Your {digest} Canopy digest: {count} {noun}"


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) turned into one space."""
    return _WHITESPACE.sub(" ", text).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters with an
    ellipsis when it is longer (a word longer than that is cut where the limit falls)."""
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    head, space, _ = cut.rpartition(" ")
    return (head if space and head else cut).rstrip(" ,;:.-") + "…"


def _h(text: str) -> str:
    return html.escape(text, quote=True)
