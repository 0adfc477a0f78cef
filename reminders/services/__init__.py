"""Writes for reminders: planning the outbox, staff actions, consent, provider outcomes and
inbound replies. Import from here; the submodules are an implementation detail."""

from __future__ import annotations

from reminders.services.inbound import InboundResult, inbound_receive
from reminders.services.nudge import nudge_dispatch_on_commit
from reminders.services.outbox import (
    client_opt_in,
    client_opt_out,
    describe_error,
    inbound_mark_handled,
    message_apply_provider_status,
    message_retry,
    message_send_adhoc,
    messages_move_to_client,
)
from reminders.services.planning import (
    appointment_message_context,
    course_is_unfinished,
    message_plan_data_export_link,
    message_plan_payment_link,
    message_plan_verification,
    message_plan_waitlist_offer,
    messages_cancel_after_no_show,
    messages_cancel_unsent,
    messages_follow_consultation_outcome,
    messages_follow_screening_submitted,
    messages_plan_after_cancellation,
    messages_plan_after_completion,
    messages_plan_for_appointment,
    messages_replan_after_reschedule,
    messages_restore_after_no_show_reverted,
    rule_due_at,
)

__all__ = [
    "InboundResult",
    "appointment_message_context",
    "client_opt_in",
    "client_opt_out",
    "course_is_unfinished",
    "describe_error",
    "inbound_mark_handled",
    "inbound_receive",
    "message_apply_provider_status",
    "message_plan_data_export_link",
    "message_plan_payment_link",
    "message_plan_verification",
    "message_plan_waitlist_offer",
    "message_retry",
    "message_send_adhoc",
    "messages_cancel_after_no_show",
    "messages_cancel_unsent",
    "messages_follow_consultation_outcome",
    "messages_follow_screening_submitted",
    "messages_move_to_client",
    "messages_plan_after_cancellation",
    "messages_plan_after_completion",
    "messages_plan_for_appointment",
    "messages_replan_after_reschedule",
    "messages_restore_after_no_show_reverted",
    "nudge_dispatch_on_commit",
    "rule_due_at",
]
