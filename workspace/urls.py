"""Staff workspace pages under ``/staff/``. Names are global (no namespace) and stay as they
were when the pages lived in bookings and reminders."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from workspace.views import (
    appointments,
    auth,
    calendar,
    clients,
    clinic_settings,
    consultations,
    feeds,
    messages,
    recalls,
    records,
    settings,
    today,
)

urlpatterns = [
    path("staff/login/", auth.StaffLoginView.as_view(), name="staff-login"),
    path("staff/logout/", auth.StaffLogoutView.as_view(), name="staff-logout"),
    path("staff/", calendar.calendar_page, name="staff-calendar"),
    path("staff/calendar/", RedirectView.as_view(pattern_name="staff-calendar", query_string=True)),
    path("staff/today/", today.today_page, name="staff-today"),
    path("staff/settings/", clinic_settings.settings_hub, name="staff-settings"),
    path(
        "staff/settings/locations/",
        clinic_settings.location_list,
        name="staff-settings-locations",
    ),
    path(
        "staff/settings/locations/new/",
        clinic_settings.location_edit,
        name="staff-settings-location-new",
    ),
    path(
        "staff/settings/locations/<int:location_id>/",
        clinic_settings.location_edit,
        name="staff-settings-location",
    ),
    path(
        "staff/settings/closures/",
        clinic_settings.closures,
        name="staff-settings-closures",
    ),
    path(
        "staff/settings/practitioners/",
        clinic_settings.practitioner_list,
        name="staff-settings-practitioners",
    ),
    path(
        "staff/settings/practitioners/<int:practitioner_id>/",
        clinic_settings.practitioner_detail,
        name="staff-settings-practitioner",
    ),
    path(
        "staff/settings/practitioners/<int:practitioner_id>/hours/",
        clinic_settings.hours_edit,
        name="staff-settings-hours",
    ),
    path(
        "staff/settings/practitioners/<int:practitioner_id>/time-off/",
        clinic_settings.practitioner_time_off_add,
        name="staff-settings-time-off-add",
    ),
    path(
        "staff/settings/time-off/<int:time_off_id>/remove/",
        clinic_settings.time_off_delete,
        name="staff-settings-time-off-remove",
    ),
    path(
        "staff/settings/services/",
        clinic_settings.service_list,
        name="staff-settings-services",
    ),
    path(
        "staff/settings/services/new/",
        clinic_settings.service_edit,
        name="staff-settings-service-new",
    ),
    path(
        "staff/settings/services/<int:service_id>/",
        clinic_settings.service_edit,
        name="staff-settings-service",
    ),
    path(
        "staff/settings/services/<int:service_id>/archive/",
        clinic_settings.service_archive,
        name="staff-settings-service-archive",
    ),
    path("staff/settings/reminders/", settings.reminder_rules, name="staff-settings-reminders"),
    path(
        "staff/settings/reminders/<int:rule_id>/",
        settings.reminder_rule_edit,
        name="staff-settings-reminder",
    ),
    path(
        "staff/settings/reminders/preview/",
        settings.reminder_preview_fragment,
        name="staff-settings-reminder-preview",
    ),
    path("staff/appointments/new/", appointments.appointment_new, name="staff-appointment-new"),
    path(
        "staff/appointments/<int:appointment_id>/",
        appointments.appointment_detail,
        name="staff-appointment",
    ),
    path(
        "staff/appointments/<int:appointment_id>/action/",
        appointments.appointment_action,
        name="staff-appointment-action",
    ),
    path(
        "staff/appointments/<int:appointment_id>/move/",
        appointments.appointment_move,
        name="staff-appointment-move",
    ),
    path(
        "staff/appointments/<int:appointment_id>/record/",
        records.record_page,
        name="staff-record",
    ),
    path(
        "staff/appointments/<int:appointment_id>/record/photos/",
        records.record_photo_upload,
        name="staff-record-photo",
    ),
    path("staff/photos/<str:token>/", records.photo_file, name="staff-photo"),
    path(
        "staff/clients/<int:client_id>/photo-consent/",
        records.photo_consent,
        name="staff-photo-consent",
    ),
    path(
        "staff/clients/<int:client_id>/courses/<int:service_id>/",
        records.course_page,
        name="staff-course",
    ),
    path("staff/recalls/", recalls.recall_list, name="staff-recalls"),
    path("staff/recalls/<int:recall_id>/", recalls.recall_detail, name="staff-recall"),
    path("staff/recalls/<int:recall_id>/send/", recalls.recall_send, name="staff-recall-send"),
    path("staff/recalls/<int:recall_id>/csv/", recalls.recall_csv, name="staff-recall-csv"),
    path("staff/clients/", clients.client_list, name="staff-clients"),
    path("staff/clients/pick/", appointments.client_picker, name="staff-client-picker"),
    path("staff/clients/<int:client_id>/", clients.client_detail, name="staff-client"),
    path("staff/clients/<int:client_id>/edit/", clients.client_edit, name="staff-client-edit"),
    path("staff/clients/<int:client_id>/merge/", clients.client_merge, name="staff-client-merge"),
    path("staff/clients/<int:client_id>/data/", clients.client_data, name="staff-client-data"),
    path("staff/consultations/", consultations.consultation_queue, name="staff-consultations"),
    path(
        "staff/consultations/<int:appointment_id>/",
        consultations.consultation_outcome,
        name="staff-consultation",
    ),
    path(
        "staff/consultations/<int:appointment_id>/consent/",
        consultations.consultation_consent,
        name="staff-consultation-consent",
    ),
    path("staff/feeds/", feeds.feed_settings, name="staff-feeds"),
    path("staff/feeds/issue/", feeds.feed_issue, name="staff-feed-issue"),
    path("staff/feeds/revoke/", feeds.feed_revoke, name="staff-feed-revoke"),
    path("staff/feeds/<str:token>.ics", feeds.feed_ics, name="staff-calendar-feed"),
    path(
        "staff/messages/appointment/<int:appointment_id>/",
        messages.appointment_messages,
        name="staff-appointment-messages",
    ),
    path(
        "staff/messages/client/<int:client_id>/",
        messages.client_messages,
        name="staff-client-messages",
    ),
    path(
        "staff/messages/client/<int:client_id>/send/",
        messages.client_send_message,
        name="staff-client-send",
    ),
    path("staff/inbox/", messages.inbox, name="staff-inbox"),
    path("staff/inbox/<int:inbound_id>/handle/", messages.inbox_handle, name="staff-inbox-handle"),
    path("staff/outbox/", messages.outbox, name="staff-outbox"),
    path("staff/outbox/<int:message_id>/retry/", messages.outbox_retry, name="staff-outbox-retry"),
    path("staff/reports/", messages.reports, name="staff-reports"),
    path("staff/reports/csv/", messages.reports_csv, name="staff-reports-csv"),
]
