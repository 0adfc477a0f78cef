from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from bookings.views.staff import appointments, auth, calendar, clients, consultations, feeds

urlpatterns = [
    path("staff/login/", auth.StaffLoginView.as_view(), name="staff-login"),
    path("staff/logout/", auth.StaffLogoutView.as_view(), name="staff-logout"),
    path("staff/", calendar.calendar_page, name="staff-calendar"),
    path("staff/calendar/", RedirectView.as_view(pattern_name="staff-calendar", query_string=True)),
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
    path("staff/clients/", clients.client_list, name="staff-clients"),
    path("staff/clients/pick/", appointments.client_picker, name="staff-client-picker"),
    path("staff/clients/<int:client_id>/", clients.client_detail, name="staff-client"),
    path("staff/consultations/", consultations.consultation_queue, name="staff-consultations"),
    path(
        "staff/consultations/<int:appointment_id>/",
        consultations.consultation_outcome,
        name="staff-consultation",
    ),
    path("staff/feeds/", feeds.feed_settings, name="staff-feeds"),
    path("staff/feeds/issue/", feeds.feed_issue, name="staff-feed-issue"),
    path("staff/feeds/revoke/", feeds.feed_revoke, name="staff-feed-revoke"),
    path("staff/feeds/<str:token>.ics", feeds.feed_ics, name="staff-calendar-feed"),
]
