from __future__ import annotations

from django.urls import path

from payments import views

urlpatterns = [
    path("book/pay/<str:token>/", views.pay, name="payments-pay"),
    path("book/pay/<str:token>/card", views.pay_card, name="payments-pay-card"),
    path("book/pay/<str:token>/done", views.pay_done, name="payments-pay-done"),
    path("webhooks/stripe", views.stripe_webhook, name="payments-stripe-webhook"),
]
