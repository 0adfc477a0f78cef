from __future__ import annotations

from django.urls import path

from bookings.views import data_export, manage_views, screening, site

urlpatterns = [
    # The client booking site and the manage-link pages.
    path("book/", site.book_start, name="site-book"),
    path("book/details/", site.book_details, name="site-details"),
    path("book/verify/", site.book_verify, name="site-verify"),
    path("book/<slug:location_slug>/<slug:service_slug>/", site.book_times, name="site-times"),
    path("book/<slug:location_slug>/<slug:service_slug>/hold/", site.book_hold, name="site-hold"),
    path("b/<str:token>/", manage_views.booking_manage, name="site-manage"),
    path("b/<str:token>/confirmed/", manage_views.booking_confirmed, name="site-confirmed"),
    path("b/<str:token>/calendar.ics", manage_views.booking_calendar, name="site-calendar"),
    path("b/<str:token>/reschedule/", manage_views.booking_reschedule, name="site-reschedule"),
    path("b/<str:token>/cancel/", manage_views.booking_cancel, name="site-cancel"),
    path("b/<str:token>/my-data/", manage_views.booking_data_request, name="site-data-request"),
    path("my-data/<str:token>/", data_export.client_data_export_page, name="site-data-export"),
    path(
        "b/<str:token>/first-treatment/",
        manage_views.booking_first_treatment,
        name="site-first-treatment",
    ),
    # Health questions: screening before a consultation, re-check before later sessions.
    path("b/<str:token>/screening/", screening.screening_form, name="site-screening"),
    path(
        "b/<str:token>/recheck/",
        screening.health_recheck_from_manage_link,
        name="site-recheck",
    ),
]
