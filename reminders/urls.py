from __future__ import annotations

from django.urls import path

from reminders import views, webhooks

app_name = "reminders"

urlpatterns = [
    path("webhooks/twilio/status", webhooks.twilio_status, name="twilio-status"),
    path("webhooks/twilio/inbound", webhooks.twilio_inbound, name="twilio-inbound"),
    path("c/<str:token>/", views.care_page, name="care-page"),
    path("c/recall/<str:token>/", views.recall_page, name="recall-page"),
    path("e/unsubscribe/<str:token>/", views.email_unsubscribe, name="email-unsubscribe"),
]
