from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Appointment, Client
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_appointments_are_read_only_in_the_admin(admin_client_logged_in):
    appointment = factories.AppointmentFactory()
    assert admin_client_logged_in.get("/admin/bookings/appointment/").status_code == 200
    assert admin_client_logged_in.get("/admin/bookings/appointment/add/").status_code == 403
    page = admin_client_logged_in.get(f"/admin/bookings/appointment/{appointment.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content


def test_admin_cancel_action_goes_through_the_booking_rules(admin_client_logged_in):
    upcoming = factories.AppointmentFactory(start_at=timezone.now() + timedelta(days=3))
    finished = factories.AppointmentFactory(
        start_at=timezone.now() + timedelta(days=4), status="completed"
    )
    response = admin_client_logged_in.post(
        "/admin/bookings/appointment/",
        {"action": "cancel_selected", "_selected_action": [upcoming.pk, finished.pk]},
        follow=True,
    )
    assert response.status_code == 200
    upcoming.refresh_from_db()
    finished.refresh_from_db()
    assert upcoming.status == "cancelled"
    assert upcoming.events.get(to_status="cancelled").actor_label == "staff:root"
    assert finished.status == "completed"
    assert Appointment.objects.filter(status="cancelled").count() == 1


def test_client_phone_is_normalised_and_checked_in_the_admin(admin_client_logged_in):
    person = factories.ClientFactory()
    form = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": "",
        "phone": "07911 123456",
    }
    response = admin_client_logged_in.post(f"/admin/bookings/client/{person.pk}/change/", form)
    assert response.status_code == 302
    assert Client.objects.get(pk=person.pk).phone == "+447911123456"
    bad = admin_client_logged_in.post(
        f"/admin/bookings/client/{person.pk}/change/", {**form, "phone": "nope"}
    )
    assert bad.status_code == 200
    assert "look like a phone number" in bad.content.decode()
