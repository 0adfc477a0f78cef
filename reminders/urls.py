from __future__ import annotations

from django.urls import path

from reminders import views, webhooks

app_name = "reminders"

urlpatterns = [
    path("webhooks/twilio/status", webhooks.twilio_status, name="twilio-status"),
    path("webhooks/twilio/inbound", webhooks.twilio_inbound, name="twilio-inbound"),
    path("c/<str:token>/", views.care_page, name="care-page"),
]

# Staff workspace pages on the reminders side (issue 8)
from reminders import staff_views  # noqa: E402

urlpatterns += [
    path(
        "staff/messages/appointment/<int:appointment_id>/",
        staff_views.appointment_messages,
        name="staff-appointment-messages",
    ),
    path(
        "staff/messages/client/<int:client_id>/",
        staff_views.client_messages,
        name="staff-client-messages",
    ),
    path(
        "staff/messages/client/<int:client_id>/send/",
        staff_views.client_send_message,
        name="staff-client-send",
    ),
    path("staff/inbox/", staff_views.inbox, name="staff-inbox"),
    path(
        "staff/inbox/<int:inbound_id>/handle/", staff_views.inbox_handle, name="staff-inbox-handle"
    ),
    path("staff/outbox/", staff_views.outbox, name="staff-outbox"),
    path(
        "staff/outbox/<int:message_id>/retry/", staff_views.outbox_retry, name="staff-outbox-retry"
    ),
    path("staff/reports/", staff_views.reports, name="staff-reports"),
    path("staff/reports/csv/", staff_views.reports_csv, name="staff-reports-csv"),
]
