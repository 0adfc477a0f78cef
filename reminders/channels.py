"""Words shared by the outbox's two channels (kept free of imports so models can use them)."""

from __future__ import annotations

# Twilio errors after which the number cannot take a text (TWILIO.md): invalid number, not a
# mobile, region not enabled, carrier block, unknown number, landline, spam filter; and 21610,
# the client unsubscribed from SMS (their email consent is separate). A care message whose text
# ends with one of these goes by email instead, where the client agreed to email.
SMS_UNREACHABLE_REASONS: dict[int, str] = {
    21211: "invalid number",
    21408: "country not enabled",
    21610: "client opted out of SMS",
    21614: "not a mobile number",
    30004: "blocked by the carrier",
    30005: "unknown number",
    30006: "landline",
    30007: "carrier spam filter",
}
SMS_UNREACHABLE_CODES = frozenset(SMS_UNREACHABLE_REASONS)
OPTED_OUT_OF_SMS = "client opted out of SMS"


def sms_unreachable_reason(code: int | None) -> str:
    """The short reason staff read in "SMS failed: landline → sent by email"."""
    if code is None:
        return OPTED_OUT_OF_SMS
    return SMS_UNREACHABLE_REASONS.get(code, f"error {code}")
