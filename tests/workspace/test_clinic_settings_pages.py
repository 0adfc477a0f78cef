"""The clinic settings pages: managers only, forms that show the service's error at the top
naming the field (nothing saved), and the warning list when a change strands booked visits."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from django.urls import reverse

from clinic.models import Location, Service, SettingsChange, TimeOff, WorkingHours
from payments.models import PaymentPolicy

pytestmark = pytest.mark.django_db


def _pages(location, practitioner, service) -> list[str]:
    return [
        reverse("staff-settings"),
        reverse("staff-settings-locations"),
        reverse("staff-settings-location-new"),
        reverse("staff-settings-location", args=[location.pk]),
        reverse("staff-settings-closures") + f"?location={location.pk}",
        reverse("staff-settings-practitioners"),
        reverse("staff-settings-practitioner", args=[practitioner.pk]),
        reverse("staff-settings-hours", args=[practitioner.pk]) + f"?location={location.pk}",
        reverse("staff-settings-hours", args=[practitioner.pk]) + f"?location={location.pk}&new=1",
        reverse("staff-settings-services"),
        reverse("staff-settings-service-new"),
        reverse("staff-settings-service", args=[service.pk]),
    ]


def test_every_settings_page_opens_for_a_manager_and_the_hub_links_each_section(
    as_manager, location, practitioner, treatment_service
):
    for url in _pages(location, practitioner, treatment_service):
        response = as_manager.get(url)
        assert response.status_code == 200, url
    hub = as_manager.get(reverse("staff-settings")).content.decode()
    for name in (
        "staff-settings-locations",
        "staff-settings-closures",
        "staff-settings-practitioners",
        "staff-settings-services",
        "staff-settings-reminders",
    ):
        assert f'href="{reverse(name)}"' in hub


@pytest.mark.parametrize("who", ["as_reception", "as_practitioner", "as_stranger"])
def test_other_staff_get_403_on_every_settings_page(
    request, who, location, practitioner, treatment_service
):
    browser = request.getfixturevalue(who)
    for url in _pages(location, practitioner, treatment_service):
        assert browser.get(url).status_code == 403, url
    response = browser.post(
        reverse("staff-settings-closures"),
        {"location": location.pk, "start_at": "2026-12-25T00:00", "end_at": "2026-12-26T00:00"},
    )
    assert response.status_code == 403
    assert not TimeOff.objects.exists()


def test_the_location_form_shows_numbers_in_national_format(as_manager, location):
    location.urgent_phone = "+442079460001"
    location.save()
    page = as_manager.get(reverse("staff-settings-location", args=[location.pk])).content
    assert b'value="020 7946 0001"' in page


def test_a_bad_urgent_number_is_named_at_the_top_of_the_form_and_nothing_is_saved(
    as_manager, location
):
    response = as_manager.post(
        reverse("staff-settings-location", args=[location.pk]),
        {
            "name": "Renamed",
            "timezone": "Europe/London",
            "urgent_phone": "12345",
            "emergency_number": "999",
            "opening_time": "09:00",
            "closing_time": "18:00",
            "online_change_cutoff_hours": "24",
            "online_upcoming_treatments_limit": "2",
            "online_upcoming_consultations_limit": "1",
            "practitioners_see": "own_clients",
        },
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-error-field="urgent_phone"' in page
    assert page.index('id="form-error"') < page.index('name="urgent_phone"')
    assert 'value="Renamed"' in page  # what was typed is kept
    assert Location.objects.get(pk=location.pk).name != "Renamed"
    assert not SettingsChange.objects.exists()


def test_a_manager_changes_tuesday_hours_with_the_grid(as_manager, practitioner, location):
    url = reverse("staff-settings-hours", args=[practitioner.pk])
    grid = {"location": location.pk}
    for weekday in range(5):
        grid[f"d{weekday}_0_start"] = "09:00"
        grid[f"d{weekday}_0_end"] = "17:00"
    grid |= {"d1_0_end": "12:00", "d1_1_start": "13:00", "d1_1_end": "16:00"}

    response = as_manager.post(url, grid)

    assert response.status_code == 302
    tuesday = WorkingHours.objects.filter(practitioner=practitioner, weekday=1)
    assert [(row.start_time, row.end_time) for row in tuesday.order_by("start_time")] == [
        (time(9), time(12)),
        (time(13), time(16)),
    ]
    assert SettingsChange.objects.filter(entity="working_hours").count() == 1


def test_a_wrong_time_in_the_grid_is_named_and_no_hours_change(as_manager, practitioner, location):
    url = reverse("staff-settings-hours", args=[practitioner.pk])
    response = as_manager.post(
        # "9am" is a time (clinic.parsing reads either clock); "25:00" is not.
        url,
        {"location": location.pk, "d1_0_start": "25:00", "d1_0_end": "17:00"},
    )

    assert response.status_code == 422
    assert 'data-error-field="d1_0_start"' in response.content.decode()
    assert WorkingHours.objects.filter(practitioner=practitioner).count() == 5


def test_hours_that_strand_a_visit_list_it_and_save_only_when_confirmed(
    as_manager, practitioner, location, consultation
):
    """The consultation is Wednesday 10:00."""
    url = reverse("staff-settings-hours", args=[practitioner.pk])
    grid = {"location": location.pk}
    for weekday in (0, 1, 3, 4):
        grid[f"d{weekday}_0_start"] = "09:00"
        grid[f"d{weekday}_0_end"] = "17:00"

    warned = as_manager.post(url, grid)

    assert warned.status_code == 409
    page = warned.content.decode()
    assert reverse("staff-appointment", args=[consultation.pk]) in page
    assert 'name="confirm"' in page
    assert WorkingHours.objects.filter(practitioner=practitioner, weekday=2).exists()

    saved = as_manager.post(url, {**grid, "confirm": "on"})
    assert saved.status_code == 302
    assert not WorkingHours.objects.filter(practitioner=practitioner, weekday=2).exists()


def test_a_manager_adds_and_removes_a_repeating_closure(as_manager, location):
    response = as_manager.post(
        reverse("staff-settings-closures"),
        {
            "location": location.pk,
            "start_at": "2026-12-25T00:00",
            "end_at": "2026-12-26T00:00",
            "reason": "Christmas Day",
            "repeats": "yearly",
        },
    )
    assert response.status_code == 302
    block = TimeOff.objects.get()
    assert (block.location, block.repeats, block.practitioner) == (location, "yearly", None)
    listed = as_manager.get(reverse("staff-settings-closures") + f"?location={location.pk}")
    assert "Fri 25 Dec 2026 00:00" in listed.content.decode()
    assert "every year" in listed.content.decode()

    as_manager.post(reverse("staff-settings-time-off-remove", args=[block.pk]))
    assert not TimeOff.objects.exists()
    assert SettingsChange.objects.filter(entity="time_off").count() == 2


def test_bad_time_off_is_named_and_nothing_saved(as_manager, practitioner, location):
    response = as_manager.post(
        reverse("staff-settings-time-off-add", args=[practitioner.pk]),
        {
            "location": location.pk,
            "start_at": "2026-12-10T12:00",
            "end_at": "2026-12-10T09:00",
            "reason": "Training",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-error-field="end_at"' in page
    assert 'value="Training"' in page
    assert not TimeOff.objects.exists()


def test_a_manager_adds_a_service_and_archives_it(as_manager, room):
    response = as_manager.post(
        reverse("staff-settings-service-new"),
        {
            "name": "LED facial",
            "kind": "treatment",
            "duration_minutes": "40",
            "buffer_before_minutes": "0",
            "buffer_after_minutes": "5",
            "slot_step_minutes": "20",
            "price": "65.00",
            "consultation_validity_days": "180",
            "course_size": "1",
            "min_interval_days": "0",
            "is_online_bookable": "on",
            "min_lead_minutes": "60",
            "horizon_days": "60",
            "display_order": "3",
            "rooms": [str(room.pk)],
        },
    )
    assert response.status_code == 302
    service = Service.objects.get(name="LED facial")
    assert list(service.rooms.all()) == [room]
    listing = as_manager.get(reverse("staff-settings-services")).content.decode()
    assert "£65.00" in listing

    as_manager.post(reverse("staff-settings-service-archive", args=[service.pk]))
    service.refresh_from_db()
    assert not service.is_active


def test_a_deposit_above_the_price_is_refused_on_the_page(as_manager, treatment_service):
    url = reverse("staff-settings-service", args=[treatment_service.pk])
    form = {
        "name": treatment_service.name,
        "kind": "treatment",
        "duration_minutes": "60",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "15",
        "slot_step_minutes": "15",
        "price": "100",
        "deposit_amount": "150",
        "consultation_validity_days": "180",
        "course_size": "3",
        "min_interval_days": "28",
        "min_lead_minutes": "120",
        "horizon_days": "90",
        "display_order": "0",
    }
    response = as_manager.post(url, form)
    assert response.status_code == 422
    assert 'data-error-field="deposit_amount"' in response.content.decode()
    # Nothing half-saved: the price typed with the refused deposit is not kept either.
    price_before = treatment_service.price
    treatment_service.refresh_from_db()
    assert treatment_service.price == price_before != Decimal("100")
    assert not PaymentPolicy.objects.filter(service=treatment_service).exists()


def test_hours_and_time_off_are_typed_the_clinics_way(as_manager, practitioner, location):
    """The grid and the time-off form read en-GB input (and show it back that way)."""
    url = reverse("staff-settings-hours", args=[practitioner.pk])
    grid = {"location": location.pk, "valid_from": "04/01/2027"}
    for weekday in range(5):
        grid[f"d{weekday}_0_start"] = "9.30"
        grid[f"d{weekday}_0_end"] = "5:00 pm"
    response = as_manager.post(url, grid)
    assert response.status_code in {200, 302}, response.content.decode()[:2000]
    new = WorkingHours.objects.filter(practitioner=practitioner, valid_from__isnull=False)
    assert {(row.start_time.isoformat(), row.end_time.isoformat()) for row in new} == {
        ("09:30:00", "17:00:00")
    }
    assert {row.valid_from.isoformat() for row in new} == {"2027-01-04"}


POLICY_FORM = {
    "kind": "treatment",
    "duration_minutes": "60",
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "15",
    "slot_step_minutes": "15",
    "price": "180",
    "consultation_validity_days": "180",
    "course_size": "3",
    "min_interval_days": "28",
    "min_lead_minutes": "120",
    "horizon_days": "90",
    "display_order": "0",
    "is_online_bookable": "on",
}


def test_the_service_page_edits_the_payment_policy_and_audits_it(
    as_manager, treatment_service, location
):
    url = reverse("staff-settings-service", args=[treatment_service.pk])
    response = as_manager.post(
        url,
        {
            **POLICY_FORM,
            "name": treatment_service.name,
            "deposit_amount": "50.00",
            "keeps_card_on_file": "on",
            "late_cancel_window_hours": "24",
            "late_cancel_fee": "20",
            "no_show_fee": "30.50",
            "deposit_on_early_cancel": "refund",
            "deposit_on_late_cancel": "keep",
            "deposit_on_no_show": "refund",
            "wording": "Our terms.",
        },
    )
    assert response.status_code == 302
    policy = PaymentPolicy.objects.get(service=treatment_service, location__isnull=True)
    assert (policy.deposit_amount, policy.late_cancel_fee, policy.no_show_fee) == (5000, 2000, 3050)
    assert policy.keeps_card_on_file
    assert policy.late_cancel_window_hours == 24
    assert (policy.deposit_on_no_show, policy.wording) == ("refund", "Our terms.")
    change = SettingsChange.objects.get(entity="payment_policy", object_id=policy.pk)
    assert change.changes["deposit_amount"] == [0, 5000]
    assert change.actor_label.startswith("staff:")

    page = as_manager.get(url).content.decode()
    assert 'name="deposit_amount" inputmode="decimal" value="50.00"' in page
    assert 'name="no_show_fee" inputmode="decimal" value="30.50"' in page
    listing = as_manager.get(reverse("staff-settings-services")).content.decode()
    assert "£50" in listing

    # Clearing the money switches the policy off (kept for the history); the list shows none.
    as_manager.post(url, {**POLICY_FORM, "name": treatment_service.name})
    policy.refresh_from_db()
    assert not policy.is_active
    assert SettingsChange.objects.filter(entity="payment_policy").count() == 2


def test_a_service_without_money_gets_no_policy(as_manager, treatment_service):
    url = reverse("staff-settings-service", args=[treatment_service.pk])
    response = as_manager.post(url, {**POLICY_FORM, "name": treatment_service.name})
    assert response.status_code == 302
    assert not PaymentPolicy.objects.exists()
    assert not SettingsChange.objects.filter(entity="payment_policy").exists()


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("deposit_percent", "150", "from 1 to 100"),
        ("late_cancel_window_hours", "0", "from 1 to"),
        ("no_show_fee", "12.345", "pounds and pence"),
        ("deposit_on_no_show", "burn", "kept or refunded"),
        ("wording", "x" * 2001, "under 2000"),
    ],
)
def test_bad_policy_input_names_the_field(as_manager, treatment_service, field, typed, says):
    url = reverse("staff-settings-service", args=[treatment_service.pk])
    response = as_manager.post(
        url, {**POLICY_FORM, "name": treatment_service.name, "deposit_amount": "10", field: typed}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert f'data-error-field="{field}"' in page
    assert says in page
    assert not PaymentPolicy.objects.exists()
