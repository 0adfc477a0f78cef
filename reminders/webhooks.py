"""Twilio webhooks: delivery status callbacks and inbound replies.

Both validate ``X-Twilio-Signature`` against the public URL Twilio called (PUBLIC_BASE_URL +
path and query: behind a proxy the internal URL differs) and answer 403, changing nothing,
when it is missing or wrong (invariant 7).
"""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from clinic.parsing import MAX_INTEGER, id_or_none, whole_number_or_none
from reminders import services
from reminders.models import InboundMessage

logger = logging.getLogger(__name__)


def _signature_is_valid(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)


def _fits(value: str, field: str) -> bool:
    """Whether a value Twilio sent fits the column it is stored in (a signed request from a
    misconfigured sender must be a 400, not a database error)."""
    max_length = getattr(InboundMessage._meta.get_field(field), "max_length", None) or 0
    return len(value) <= max_length


def _twiml(reply: str) -> HttpResponse:
    body = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
        content_type="text/xml",
    )


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _signature_is_valid(request):
        logger.warning("status callback with a bad signature")
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or ""
    if not sid or not status:
        return HttpResponse(status=400)
    services.message_apply_provider_status(
        provider_sid=sid,
        provider_status=status,
        # Twilio's error codes are small positive numbers; anything else is not one.
        error_code=whole_number_or_none(request.POST.get("ErrorCode"), maximum=MAX_INTEGER),
        message_id=id_or_none(request.GET.get("m")),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signature_is_valid(request):
        logger.warning("inbound webhook with a bad signature")
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    from_number, to_number = request.POST.get("From", ""), request.POST.get("To", "")
    if not sid or not _fits(sid, "provider_sid"):
        return HttpResponse("MessageSid is missing or too long", status=400)
    if not _fits(from_number, "from_number") or not _fits(to_number, "to_number"):
        return HttpResponse("From or To is not a phone number", status=400)
    result = services.inbound_receive(
        provider_sid=sid,
        from_number=from_number,
        to_number=to_number,
        body=request.POST.get("Body", ""),
    )
    return _twiml(result.reply)
