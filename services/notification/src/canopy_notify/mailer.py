"""The email sender: consumes ``canopy.deliveries.v1`` and sends each email delivery over SMTP.

Outcomes (the ``outcome`` label of ``canopy_notify_deliveries_total``):

- ``sent``: handed to the SMTP server, then recorded in ``sent_deliveries``;
- ``duplicate``: its id is in ``sent_deliveries`` already (a redelivered record): not re-sent;
- ``no-address``: no email address is known for the recipient; logged, never retried;
- ``refused``: the server permanently (5xx) refused the recipient or the message; logged,
  never retried (retrying cannot change a permanent answer);
- ``no-provider``: a push delivery. No push provider is configured in this product yet, so
  push deliveries are acknowledged and logged at info; a provider plugs in here.
- ``retried``: a transient failure, counted per attempt; :class:`TransientError` is raised so
  the consumer pauses and retries instead of dead-lettering.

Transient: the server unreachable, timeouts, dropped connections, any 4xx answer, and failures
that say our sending setup is wrong rather than this delivery (authentication, sender refused,
STARTTLS unsupported): every email would fail alike, so pausing until it is fixed keeps them
all, where dead-lettering would drain the topic into the DLQ.

Idempotency is on the delivery id: checked before sending and recorded after. A crash between
the two sends that email twice (at least once); its ``Message-ID`` comes from the delivery id,
so mail clients see the copy as the same message.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Final, Literal

import aiosmtplib
import asyncpg
import structlog
from prometheus_client import Counter

from canopy_common.consuming import ConsumedRecord, Handler
from canopy_common.metrics import get_or_create_counter, metric_name
from canopy_common.transient import TransientError
from canopy_notify.domain.emails import (
    Delivery,
    DeliveryItem,
    Recipient,
    build_message,
    preferences_url_of,
)
from canopy_notify.settings import Settings, SmtpSettings

__all__ = [
    "Delivery",
    "DeliveryItem",
    "MailerMetrics",
    "Outcome",
    "Recipient",
    "deliveries_handler",
    "mailer_metrics",
    "send_delivery",
]

log = structlog.get_logger(__name__)

SERVICE: Final = "notify"
# How long a paused consumer waits before trying the SMTP server again.
SMTP_RETRY_AFTER_S: Final = 5

Outcome = Literal["sent", "duplicate", "no-address", "refused", "no-provider"]


@dataclass(frozen=True, slots=True)
class MailerMetrics:
    deliveries: Counter


def mailer_metrics() -> MailerMetrics:
    """The sender's metrics (registered once per process).

    ``canopy_notify_deliveries_total{channel, outcome}``: channel ``email`` or ``push``;
    outcome one of :data:`Outcome` or ``retried`` (a transient failure, per attempt).
    """
    return MailerMetrics(
        deliveries=get_or_create_counter(
            metric_name(SERVICE, "deliveries_total"),
            "Outside-channel deliveries by channel and outcome",
            ("channel", "outcome"),
        )
    )


async def send_delivery(
    delivery: Delivery,
    *,
    pool: asyncpg.Pool,
    smtp: SmtpSettings,
    metrics: MailerMetrics,
    preferences_url: str | None = None,
) -> Outcome:
    """Deliver ``delivery`` once and say what happened (see the module doc for the outcomes).

    ``pool`` works in the service's schema (``sent_deliveries``); ``preferences_url`` is where
    the email's footer and ``List-Unsubscribe`` point, if given. Raises
    :class:`TransientError` when the SMTP server cannot take the email now; Postgres errors
    propagate (the consumer retries those too).
    """
    try:
        outcome = await _deliver(delivery, pool=pool, smtp=smtp, preferences_url=preferences_url)
    except TransientError:
        metrics.deliveries.labels(delivery.channel, "retried").inc()
        raise
    metrics.deliveries.labels(delivery.channel, outcome).inc()
    return outcome


async def _deliver(
    delivery: Delivery, *, pool: asyncpg.Pool, smtp: SmtpSettings, preferences_url: str | None
) -> Outcome:
    context = {"tenant": delivery.tenant, "delivery": delivery.id, "recipient": delivery.recipient}
    if delivery.channel == "push":
        log.info("push delivery dropped: no push provider is configured", **context)
        return "no-provider"
    if await pool.fetchval("SELECT 1 FROM sent_deliveries WHERE delivery_id = $1", delivery.id):
        log.info("email delivery already sent", **context)
        return "duplicate"
    if delivery.to.email is None:
        log.warning("email delivery dropped: no email address known", **context)
        return "no-address"
    message = build_message(delivery, sender=smtp.sender, preferences_url=preferences_url)
    refusal = await _send(message, to=delivery.to.email, smtp=smtp, context=context)
    if refusal is not None:
        log.warning("email delivery refused by the SMTP server", smtp_answer=refusal, **context)
        return "refused"
    await pool.execute(
        "INSERT INTO sent_deliveries (delivery_id) VALUES ($1) ON CONFLICT DO NOTHING",
        delivery.id,
    )
    log.info("email delivery sent", items=len(delivery.items), digest=delivery.digest, **context)
    return "sent"


async def _send(
    message: EmailMessage, *, to: str, smtp: SmtpSettings, context: dict[str, str]
) -> str | None:
    """Hand ``message`` to the SMTP server: ``None`` when accepted, the server's answer when it
    refused it for good; :class:`TransientError` for everything worth retrying."""
    try:
        await aiosmtplib.send(
            message,
            sender=parseaddr(smtp.sender)[1],
            recipients=[to],
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            use_tls=smtp.use_tls,
            # Implicit TLS already encrypts; the client refuses both at once.
            start_tls=smtp.starttls and not smtp.use_tls,
            timeout=smtp.timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        answer = "; ".join(f"{refused.code} {refused.message}" for refused in exc.recipients)
        if all(refused.code >= 500 for refused in exc.recipients):
            return answer
        raise _transient("the SMTP server deferred the recipient", answer, exc, context) from exc
    except aiosmtplib.SMTPResponseException as exc:
        answer = f"{exc.code} {exc.message}"
        # 5xx to DATA refuses this message's content (size, policy): for good. Other 5xx
        # (HELO, MAIL FROM, AUTH) refuse our sending setup, which an operator can fix.
        if isinstance(exc, aiosmtplib.SMTPDataError) and exc.code >= 500:
            return answer
        raise _transient("the SMTP server refused to take email", answer, exc, context) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise _transient("the SMTP server cannot be reached", repr(exc), exc, context) from exc
    return None


def _transient(what: str, answer: str, exc: Exception, context: dict[str, str]) -> TransientError:
    log.warning(what, error_class=type(exc).__name__, smtp_answer=answer, **context)
    return TransientError(f"{what}: {answer}", retry_after_s=SMTP_RETRY_AFTER_S)


def deliveries_handler(*, pool: asyncpg.Pool, settings: Settings) -> Handler:
    """The consumer handler of ``canopy.deliveries.v1``: decode (bad records are dead-lettered
    as :class:`~canopy_common.errors.InvalidInput`), then :func:`send_delivery`."""
    metrics = mailer_metrics()
    preferences_url = preferences_url_of(settings.public_url)

    async def handle(record: ConsumedRecord) -> None:
        await send_delivery(
            Delivery.decode(record.value),
            pool=pool,
            smtp=settings.smtp,
            metrics=metrics,
            preferences_url=preferences_url,
        )

    return handle
