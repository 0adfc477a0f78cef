"""The payment policy as the booking site and the staff workspace show it: the deposit beside
the price (from the policy, not the catalogue), and what is said while payments are off."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.models import PaymentPolicy

pytestmark = pytest.mark.django_db


def _price_line(service, location) -> str:
    return render_to_string(
        "bookings/site/_summary.html",
        {"service": service, "location": location, "start": timezone.now()},
    )


def test_the_booking_sites_price_line_shows_the_policys_deposit(
    peel, peel_policy, location, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    line = _price_line(peel, location)
    assert "£180" in line
    assert "deposit £50, paid when you book" in line


def test_a_percentage_deposit_is_worked_out_from_the_price(peel, location, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    PaymentPolicy.objects.create(service=peel, deposit_percent=25)
    assert "deposit £45, paid when you book" in _price_line(peel, location)


def test_no_policy_no_deposit_on_the_price_line(peel, location, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    line = _price_line(peel, location)
    assert "£180" in line
    assert "deposit" not in line


def test_with_payments_off_the_price_line_says_the_deposit_is_paid_at_the_clinic(
    peel, peel_policy, location, settings
):
    settings.STRIPE_SECRET_KEY = ""
    assert "deposit £50, paid at the clinic: online payment is not available" in _price_line(
        peel, location
    )


def _staff_page(user) -> str:
    browser = Client()
    browser.force_login(user)
    answer = browser.get(reverse("staff-settings-services"))
    assert answer.status_code == 200
    return answer.content.decode()


def test_staff_see_a_banner_when_payments_are_off_but_services_ask_for_money(
    manager, peel_policy, settings
):
    settings.STRIPE_SECRET_KEY = ""
    assert 'data-testid="payments-off-banner"' in _staff_page(manager)
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert 'data-testid="payments-off-banner"' not in _staff_page(manager)


def test_no_banner_when_no_service_asks_for_money(manager, peel, settings):
    settings.STRIPE_SECRET_KEY = ""
    PaymentPolicy.objects.create(service=peel, is_active=False, deposit_amount=5000)
    assert 'data-testid="payments-off-banner"' not in _staff_page(manager)


def test_the_admin_refuses_a_deposit_above_the_price(peel):
    from django.core.exceptions import ValidationError

    policy = PaymentPolicy(service=peel, deposit_amount=20000)
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert "deposit_amount" in refused.value.message_dict


def test_the_public_catalogue_shows_the_policys_deposit(client, peel, settings):
    from decimal import Decimal

    PaymentPolicy.objects.create(service=peel, deposit_percent=25)
    listed = {row["slug"]: row for row in client.get("/api/v1/services").json()}
    assert Decimal(listed["glow-peel"]["deposit"]) == Decimal("45")
    PaymentPolicy.objects.filter(service=peel).update(is_active=False)
    listed = {row["slug"]: row for row in client.get("/api/v1/services").json()}
    assert Decimal(listed["glow-peel"]["deposit"]) == 0
