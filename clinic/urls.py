"""Project URL wiring. As the composition root this module may import every app."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

import bookings.api
import bookings.screening_api
import bookings.verification_api
import clinic.catalogue_api
import waitlist.api
import workspace.api
from clinic.api import api
from clinic.health import healthz
from clinic.http import favicon
from clinic.metrics import metrics

api.add_router("/", clinic.catalogue_api.router)
api.add_router("/", bookings.api.router)
api.add_router("/", bookings.screening_api.router)
api.add_router("/staff/", workspace.api.router)
api.add_router("/", bookings.verification_api.router)
api.add_router("/", waitlist.api.router)

handler404 = "clinic.http.page_not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    # Browsers and bookmarking tools ask for /favicon.ico whatever the page links to.
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("bookings.urls")),
    path("", include("payments.urls")),
    path("", include("reminders.urls")),
    path("", include("waitlist.urls")),
    path("", include("workspace.urls")),
    path("", RedirectView.as_view(pattern_name="site-book", permanent=False), name="home"),
]
