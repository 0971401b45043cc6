"""A real SMTP server for the notification tests: aiosmtpd in a thread on a free local port,
keeping every message it accepts."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from canopy_notify.settings import SmtpSettings
from canopy_testing.http import free_port

SENDER = "Canopy <notifications@canopy.example>"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping every message it accepts; ``answers`` maps a recipient to
    what RCPT answers for it (e.g. ``"550 5.1.1 No such user"``) instead of accepting it."""

    received: list[Received] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    def to(self, address: str) -> list[Received]:
        """What arrived for ``address`` (a mailbox shared by many tests tells them apart)."""
        return [r for r in self.received if address in r.rcpt_tos]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        assert envelope.mail_from is not None
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    mailbox: Mailbox
    settings: SmtpSettings


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server and the settings that send to it; stopped on exit."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = SmtpSettings(
            host="127.0.0.1", port=controller.port, sender=SENDER, timeout_s=5.0
        )
        yield SmtpServer(mailbox, settings)
    finally:
        controller.stop()
