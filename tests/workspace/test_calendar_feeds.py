"""Private iCalendar feeds: valid iCalendar, no clinical details, signed and revocable."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from bookings.models import CalendarFeedToken
from bookings.services.calendar_feeds import (
    calendar_feed_render,
    calendar_feed_token_issue,
    calendar_feed_token_revoke,
)
from clinic.errors import Gone, NotFound, PermissionDenied
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db


def _events(body: bytes) -> list:
    return list(Calendar.from_ical(body).walk("VEVENT"))


def test_the_feed_is_valid_icalendar_with_the_practitioners_appointments(
    practitioner_user, practitioner, consultation, colleagues_consultation
):
    token = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    events = _events(calendar_feed_render(token=token))
    assert len(events) == 1
    event = events[0]
    assert str(event["uid"]) == f"appointment-{consultation.id}@aftercare"
    assert event.decoded("dtstart") == at(10)
    assert event.decoded("dtend") == at(10, 30)
    assert str(event["status"]) == "CONFIRMED"
    client = consultation.client
    assert str(event["summary"]) == f"{client.first_name} {client.last_name[0]}. · Consultation"


def test_the_feed_carries_no_clinical_details_or_phone_numbers(
    practitioner_user, practitioner, consultation
):
    from bookings.models import Consultation

    Consultation.objects.filter(appointment=consultation).update(
        notes="Rosacea flare on left cheek", contraindications=["isotretinoin"]
    )
    # A surname no practitioner or clinic name can contain (factories pick random names, and
    # "Lee" also names the feed's practitioner).
    consultation.client.last_name = "Okonkwo-Featherstonehaugh"
    consultation.client.save(update_fields=["last_name"])
    token = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    body = calendar_feed_render(token=token).decode()
    assert "Rosacea" not in body
    assert "isotretinoin" not in body
    assert consultation.client.phone not in body
    assert consultation.client.last_name not in body


def test_the_feed_url_serves_text_calendar_without_a_session(
    client, practitioner_user, practitioner, consultation
):
    token = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    response = client.get(f"/staff/feeds/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert len(_events(response.content)) == 1


def test_a_tampered_token_is_404(client, practitioner_user, practitioner):
    token = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    assert client.get(f"/staff/feeds/{token[:-2]}xx.ics").status_code == 404
    with pytest.raises(NotFound):
        calendar_feed_render(token="not-a-token")


def test_a_revoked_feed_is_410(client, practitioner_user, practitioner):
    token = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    assert calendar_feed_token_revoke(actor=practitioner_user, practitioner=practitioner) == 1
    assert client.get(f"/staff/feeds/{token}.ics").status_code == 410
    with pytest.raises(Gone):
        calendar_feed_render(token=token)


def test_issuing_a_new_link_revokes_the_old_one(practitioner_user, practitioner):
    old = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    new = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    with pytest.raises(Gone):
        calendar_feed_render(token=old)
    assert calendar_feed_render(token=new)
    assert CalendarFeedToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_secret_is_not_stored_in_clear(practitioner_user, practitioner):
    token = calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)
    stored = CalendarFeedToken.objects.get()
    assert stored.secret_hash not in token
    assert len(stored.secret_hash) == 64


def test_reception_and_colleagues_cannot_issue_someone_elses_feed(
    reception, colleague_user, practitioner
):
    for actor in (reception, colleague_user):
        with pytest.raises(PermissionDenied):
            calendar_feed_token_issue(actor=actor, practitioner=practitioner)


def test_a_manager_can_issue_and_revoke_any_practitioners_feed(manager, practitioner):
    token = calendar_feed_token_issue(actor=manager, practitioner=practitioner)
    calendar_feed_token_revoke(actor=manager, practitioner=practitioner)
    with pytest.raises(Gone):
        calendar_feed_render(token=token)


def test_the_feed_page_shows_the_new_url_once(as_practitioner, practitioner):
    response = as_practitioner.post("/staff/feeds/issue/")
    assert response.status_code == 302
    page = as_practitioner.get(response["Location"]).content.decode()
    assert "/staff/feeds/" in page
    assert ".ics" in page
    again = as_practitioner.get("/staff/feeds/").content.decode()
    assert ".ics" not in again
    assert "A link is active" in again


def test_reception_has_no_feed_to_create(as_reception, location):
    page = as_reception.get("/staff/feeds/").content.decode()
    assert "not linked to a practitioner" in page
    assert as_reception.post("/staff/feeds/issue/").status_code == 404


def test_revoking_the_link_says_so_on_the_next_page_only(client, practitioner_user, practitioner):
    client.force_login(practitioner_user)
    calendar_feed_token_issue(actor=practitioner_user, practitioner=practitioner)

    page = client.post("/staff/feeds/revoke/", {"practitioner": practitioner.pk}, follow=True)
    again = client.get("/staff/feeds/", {"practitioner": practitioner.pk})

    assert page.status_code == 200
    assert "Calendar link revoked." in page.content.decode()
    assert "Calendar link revoked." not in again.content.decode()
