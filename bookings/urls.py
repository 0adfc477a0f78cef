from __future__ import annotations

from django.urls import path

from bookings.views import manage_views, site

urlpatterns: list = [
    # Client booking site (issue 7)
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
    path(
        "b/<str:token>/first-treatment/",
        manage_views.booking_first_treatment,
        name="site-first-treatment",
    ),
]

# Staff workspace (issue 8)
from bookings.views.staff.urls import urlpatterns as staff_urlpatterns  # noqa: E402

urlpatterns += staff_urlpatterns

# Health questions (issue 5): screening before a consultation, re-check before later sessions.
from bookings.views import screening as screening_views  # noqa: E402

urlpatterns += [
    path("b/<str:token>/screening/", screening_views.screening_form, name="site-screening"),
    path("r/<str:token>/", screening_views.health_recheck, name="health-recheck"),
    path(
        "b/<str:token>/recheck/",
        screening_views.health_recheck_from_manage_link,
        name="site-recheck",
    ),
]
