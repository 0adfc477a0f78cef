"""Every status × every role × three moments: what the desk panel, the staff API and the manage
page offer is exactly what the services then accept (``bookings.policy`` is the one answer).

Each action is tried through the interface that offers it, inside a savepoint that is rolled
back, so every attempt starts from the same appointment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse

from bookings import policy
from bookings.models import Appointment
from bookings.tokens import manage_token_for
from tests import factories
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db

Status = Appointment.Status
START = at(10)
MOMENTS = {
    "a day and a half before": START - timedelta(hours=36),
    "half an hour before": START - timedelta(minutes=30),
    "half an hour after": START + timedelta(minutes=30),
}
MOVE_TO = "2026-12-02T14:00:00"  # a free Wednesday afternoon time, local
STAFF_OFFERS = {*policy.DESK_ACTIONS, policy.Action.MOVE}
CLIENT_OFFERS = {policy.Action.CANCEL, policy.Action.CHANGE_ONLINE}


def _appointment(*, status, client_person, consultation_service, location, practitioner):
    return factories.AppointmentFactory(
        client=client_person,
        service=consultation_service,
        location=location,
        practitioner=practitioner,
        start_at=START,
        status=status,
        hold_expires_at=START if status == Status.HELD else None,
    )


def _rolled_back(attempt) -> int:
    with transaction.atomic():
        status_code = attempt()
        transaction.set_rollback(True)
    return status_code


def _panel_offers(browser: HttpClient, appointment: Appointment) -> set[str]:
    response = browser.get(
        reverse("staff-appointment", args=[appointment.pk]), headers={"HX-Request": "true"}
    )
    if response.status_code == 403:
        return set()
    assert response.status_code == 200
    page = response.content.decode()
    offered = set(re.findall(r'name="action" value="([a-z_]+)"', page))
    if reverse("staff-appointment-move", args=[appointment.pk]) in page:
        offered.add(policy.Action.MOVE)
    return offered


def _api_offers(browser: HttpClient, appointment: Appointment) -> set[str]:
    response = browser.get(f"/api/v1/staff/appointments/{appointment.pk}")
    if response.status_code == 403:
        return set()
    body = response.json()
    assert body["can_move"] == (policy.Action.MOVE in body["allowed_actions"])
    return set(body["allowed_actions"]) & STAFF_OFFERS


def _staff_attempt(browser: HttpClient, appointment: Appointment, action: str) -> int:
    if action == policy.Action.MOVE:
        return browser.post(
            f"/api/v1/staff/appointments/{appointment.pk}/reschedule",
            {"start": MOVE_TO},
            content_type="application/json",
        ).status_code
    return browser.post(
        f"/api/v1/staff/appointments/{appointment.pk}/status",
        {"action": action, "reason": "walk"},
        content_type="application/json",
    ).status_code


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("status", Status.values)
def test_staff_are_offered_exactly_what_the_services_accept(
    status,
    moment,
    clock,
    client_person,
    consultation_service,
    location,
    practitioner,
    colleague,
    reception,
    manager,
    practitioner_user,
    colleague_user,
):
    appointment = _appointment(
        status=status,
        client_person=client_person,
        consultation_service=consultation_service,
        location=location,
        practitioner=practitioner,
    )
    clock.move_to(MOMENTS[moment])
    for user in (reception, manager, practitioner_user, colleague_user):
        browser = HttpClient()
        browser.force_login(user)
        allowed = set(policy.allowed_actions(appointment=appointment, actor=user)) & STAFF_OFFERS
        case = f"{status} {moment} as {user.username}"

        assert _panel_offers(browser, appointment) == allowed, case
        assert _api_offers(browser, appointment) == allowed, case
        for action in sorted(STAFF_OFFERS):
            status_code = _rolled_back(lambda: _staff_attempt(browser, appointment, action))  # noqa: B023
            assert (status_code == 200) == (action in allowed), f"{case}: {action} → {status_code}"


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("status", Status.values)
def test_the_client_is_offered_exactly_what_the_services_accept(
    status, moment, clock, client_person, consultation_service, location, practitioner
):
    appointment = _appointment(
        status=status,
        client_person=client_person,
        consultation_service=consultation_service,
        location=location,
        practitioner=practitioner,
    )
    token = manage_token_for(appointment)
    clock.move_to(MOMENTS[moment])
    browser = HttpClient()
    allowed = set(policy.allowed_actions(appointment=appointment, actor_label="client"))
    allowed &= CLIENT_OFFERS
    case = f"{status} {moment}"

    page = browser.get(reverse("site-manage", args=[token])).content.decode()
    offered = {
        action
        for action, url_name in (
            (policy.Action.CANCEL, "site-cancel"),
            (policy.Action.CHANGE_ONLINE, "site-reschedule"),
        )
        if reverse(url_name, args=[token]) in page
    }
    assert offered == allowed, case

    def cancel() -> int:
        return browser.post(reverse("site-cancel", args=[token])).status_code

    def move() -> int:
        response = browser.post(
            reverse("site-reschedule", args=[token]), {"start": f"{MOVE_TO}+00:00"}
        )
        return response.status_code

    assert (_rolled_back(cancel) == 302) == (policy.Action.CANCEL in allowed), case
    assert (_rolled_back(move) == 302) == (policy.Action.CHANGE_ONLINE in allowed), case


def test_an_arrived_client_is_offered_completed_and_no_show_but_not_cancel(
    as_reception, reception, consultation, clock
):
    Appointment.objects.filter(pk=consultation.pk).update(status=Status.ARRIVED)
    clock.move_to(START + timedelta(minutes=5))
    as_reception.force_login(reception)  # a day later: yesterday's session has ended
    # A no-show is recordable from 15 minutes after the start (clinical order).
    assert _panel_offers(as_reception, consultation) == {policy.Action.COMPLETE}
    clock.move_to(START + timedelta(minutes=20))

    offered = _panel_offers(as_reception, consultation)

    assert offered == {policy.Action.COMPLETE, policy.Action.NO_SHOW}
