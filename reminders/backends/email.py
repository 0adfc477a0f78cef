"""Sending an outbox email through Django's configured ``EMAIL_BACKEND`` (console in
development, locmem in tests, SMTP when ``EMAIL_HOST`` is set).

The only module that knows SMTP's failure modes. Errors come back as ``SmsError`` (the
dispatcher's one seam for "a send did not succeed", whatever the channel):
- a 5xx answer, or every recipient refused: permanent (the address does not exist, the domain
  refuses us);
- a 4xx answer, a refused or failed connection, a failed login: retryable, nothing was accepted;
- the connection lost or timed out after the message was handed over: the server MAY have it,
  so the row is left for reconciliation, which never sends an email twice (SMTP cannot be
  asked what it has).
"""

from __future__ import annotations

import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse

from reminders.backends.base import SendResult, SmsError, new_sid
from reminders.models import Message
from reminders.rendering import public_url
from reminders.tokens import email_unsubscribe_token_for


def unsubscribe_url_for(client_id: int) -> str:
    return public_url(
        reverse("reminders:email-unsubscribe", args=[email_unsubscribe_token_for(client_id)])
    )


def email_body_for(message: Message, *, unsubscribe_url: str) -> str:
    """The plain-text email: the rule's own text, then who sent it and how to stop emails."""
    location = message.location
    signature = location.name if location is not None else "Aftercare"
    if location is not None and location.phone:
        signature = f"{signature} · {location.phone}"
    return (
        f"{message.body}\n\n-- \n{signature}\n"
        "You get these emails because you asked us to email you about your appointments.\n"
        f"Stop emails: {unsubscribe_url}\n"
    )


def email_send(message: Message) -> SendResult:
    """Send one claimed email row. Returns a SendResult whose ``sid`` is our own Message-ID
    (stored as the row's provider id). Raises SmsError."""
    if message.client_id is None:
        raise SmsError("an email needs a client", permanent=True)
    sid = new_sid("EM")
    unsubscribe_url = unsubscribe_url_for(message.client_id)
    sender = settings.CLIENT_FROM_EMAIL
    domain = sender.rpartition("@")[2].rstrip(">") or "localhost"
    email = EmailMessage(
        subject=message.subject or "A message from your clinic",
        body=email_body_for(message, unsubscribe_url=unsubscribe_url),
        from_email=sender,
        to=[message.to],
        headers={
            "Message-ID": f"<{sid}@{domain}>",
            # RFC 2369 and RFC 8058: mail apps offer an unsubscribe button that POSTs here.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        connection=get_connection(fail_silently=False),
    )
    try:
        email.send(fail_silently=False)
    # First: SMTPConnectError is also an SMTPResponseException.
    except (smtplib.SMTPConnectError, ConnectionRefusedError, socket.gaierror) as exc:
        raise SmsError(f"could not connect: {type(exc).__name__}", permanent=False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise SmsError(
            f"the mail server refused the address ({_codes(exc)})", permanent=True
        ) from None
    except smtplib.SMTPResponseException as exc:
        code = int(exc.smtp_code)
        if code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            raise SmsError(
                f"the mail server refused it ({code})", permanent=True, code=code
            ) from None
        raise SmsError(
            f"the mail server said try later ({code})", permanent=False, code=code
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SmsError(
            f"connection lost while sending: {type(exc).__name__}",
            permanent=False,
            maybe_accepted=True,
        ) from None
    return SendResult(sid=sid, status="sent")


def _codes(exc: smtplib.SMTPRecipientsRefused) -> str:
    return ", ".join(str(code) for code, _text in exc.recipients.values()) or "refused"
