from __future__ import annotations

from django.urls import path

from waitlist import views

urlpatterns = [
    path(
        "book/<slug:location_slug>/<slug:service_slug>/waitlist/",
        views.waitlist_join_page,
        name="waitlist-join",
    ),
    path("waitlist/verify/", views.waitlist_verify_page, name="waitlist-verify"),
    path("waitlist/<str:token>/", views.waitlist_entry_page, name="waitlist-entry"),
    path("waitlist/<str:token>/leave/", views.waitlist_leave_page, name="waitlist-leave"),
    # The short link in the offer text.
    path("w/<str:token>/", views.waitlist_claim_page, name="waitlist-claim"),
    path("w/<str:token>/decline/", views.waitlist_decline_page, name="waitlist-decline"),
]
