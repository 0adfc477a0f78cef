"""The staff pages for records: filling in and signing at the couch, the desk panel that only
offers "Completed" once the record is signed, photos behind signed links, the course
comparison, and recalls from the form to the regulator's CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from bookings.models import HealthDataAccess
from records.models import Recall, TreatmentPhoto, TreatmentRecord
from records.services.photos import photo_consent_record
from reminders.models import Message
from reminders.services.inbound import inbound_receive
from tests import factories
from tests.records.conftest import photo_upload as an_upload


def _logged_in(user) -> HttpClient:
    browser = HttpClient()
    browser.force_login(user)
    return browser


@pytest.fixture
def as_practitioner(practitioner_user):
    return _logged_in(practitioner_user)


@pytest.fixture
def as_reception(reception):
    return _logged_in(reception)


@pytest.fixture
def as_manager(manager):
    return _logged_in(manager)


def _record_form(**changes) -> dict:
    form = {
        "device": "Dermapen 4",
        "cartridge": "16-pin",
        "depth_area_0": "forehead",
        "depth_mm_0": "0.5",
        "depth_area_2": "cheeks",
        "depth_mm_2": "1.0",
        "passes": "3",
        "anaesthetic_minutes": "30",
        "erythema_grade": "2",
        "pinpoint_bleeding": "yes",
        "aftercare_given": "Leaflet and SPF",
        "intent": "save",
    }
    form.update(changes)
    return form


def test_the_panel_offers_completed_only_once_the_record_is_signed(
    session, as_practitioner, glide_lot
):
    panel = as_practitioner.get(reverse("staff-appointment", args=[session.id]))
    assert b'data-action="completed"' not in panel.content
    assert b'data-blocker="needs_signed_record"' in panel.content

    url = reverse("staff-record", args=[session.id])
    page = as_practitioner.get(url)
    assert page.status_code == 200
    assert b"HG-2026-07" in page.content  # the lot in date is offered
    assert as_practitioner.post(url, _record_form(lot_ids=[glide_lot.id])).status_code == 302
    record = TreatmentRecord.objects.get(appointment=session)
    assert record.status == "draft"
    assert record.depths == [
        {"area": "forehead", "depth_mm": "0.50"},
        {"area": "cheeks", "depth_mm": "1.00"},
    ]
    assert [use.lot for use in record.product_uses.all()] == [glide_lot]

    as_practitioner.post(url, _record_form(intent="sign", lot_ids=[glide_lot.id]))
    record.refresh_from_db()
    assert record.is_signed
    panel = as_practitioner.get(reverse("staff-appointment", args=[session.id]))
    assert b'data-action="completed"' in panel.content


def test_a_bad_record_form_comes_back_with_the_field_named_and_what_was_typed(
    session, as_practitioner
):
    url = reverse("staff-record", args=[session.id])
    response = as_practitioner.post(url, _record_form(depth_mm_2="7", notes="keep me"))
    assert response.status_code == 422
    assert b"between 0.1 and 3.0 mm" in response.content
    assert b"keep me" in response.content
    assert not TreatmentRecord.objects.exists()


def test_an_expired_lot_is_not_offered_and_a_forged_one_is_refused(
    session, as_practitioner, expired_lot
):
    url = reverse("staff-record", args=[session.id])
    assert b"NC-OLD" not in as_practitioner.get(url).content
    response = as_practitioner.post(url, _record_form(lot_ids=[expired_lot.id]))
    assert response.status_code == 422
    assert b"expired" in response.content


def test_amending_a_signed_record_from_the_page_keeps_the_history(session, as_practitioner):
    url = reverse("staff-record", args=[session.id])
    as_practitioner.post(url, _record_form(intent="sign"))
    response = as_practitioner.post(url, _record_form(intent="amend", passes="4", reason=""))
    assert response.status_code == 422
    as_practitioner.post(url, _record_form(intent="amend", passes="4", reason="Miscounted"))
    page = as_practitioner.get(url)
    assert b"Amendment 1" in page.content
    assert b"Miscounted" in page.content
    assert b"<dt>Passes</dt><dd>3</dd>" in page.content  # what it said before
    assert b"forehead 0.50 mm" in page.content
    assert TreatmentRecord.objects.get().passes == 4


def test_a_consultation_has_no_record_page(
    client_person, practitioner, consultation_service, location, as_practitioner
):
    consultation = factories.AppointmentFactory(
        client=client_person,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        status="arrived",
    )
    response = as_practitioner.get(reverse("staff-record", args=[consultation.id]))
    assert response.status_code == 404
    panel = as_practitioner.get(reverse("staff-appointment", args=[consultation.id]))
    assert b'data-testid="record-link"' not in panel.content


def test_reception_cannot_open_a_record_or_a_course(session, as_reception, reception):
    assert as_reception.get(reverse("staff-record", args=[session.id])).status_code == 403
    course = reverse("staff-course", args=[session.client_id, session.service_id])
    assert as_reception.get(course).status_code == 403
    assert HealthDataAccess.objects.filter(actor=reception, action="denied").count() == 2
    panel = as_reception.get(reverse("staff-appointment", args=[session.id]))
    assert b'data-testid="record-link"' not in panel.content


def test_a_photo_needs_consent_then_is_shown_only_through_a_signed_link(
    session, as_practitioner, as_manager, reception
):
    upload_url = reverse("staff-record-photo", args=[session.id])
    refused = as_practitioner.post(
        upload_url, {"stage": "before", "angle": "front", "image": an_upload()}
    )
    assert refused.status_code == 409
    assert b"photo consent" in refused.content
    photo_consent_record(actor=reception, client=session.client)
    done = as_practitioner.post(
        upload_url, {"stage": "before", "angle": "front", "image": an_upload()}
    )
    assert done.status_code == 302
    photo = TreatmentPhoto.objects.get()

    page = as_practitioner.get(reverse("staff-record", args=[session.id])).content.decode()
    assert photo.image.name not in page  # no storage path, only signed links
    link = page.split('<img src="')[1].split('"')[0]
    image = as_practitioner.get(link)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert image["Cache-Control"] == "private, no-store"
    assert as_manager.get(link).status_code == 403  # issued to the practitioner, not to them
    assert HttpClient().get(link).status_code == 302  # to the login page


def test_the_course_page_puts_each_sessions_photos_side_by_side(
    session, practitioner, practitioner_user, as_practitioner, reception
):
    from records.services.photos import photo_upload
    from records.services.ratings import course_rating_record
    from tests.factories import sign_treatment_record

    earlier = factories.AppointmentFactory(
        client=session.client,
        service=session.service,
        practitioner=practitioner,
        location=session.location,
        start_at=session.start_at - timedelta(days=28),
        status="completed",
    )
    sign_treatment_record(earlier, signer=practitioner_user, passes=2)
    sign_treatment_record(session, signer=practitioner_user, passes=3)
    photo_consent_record(actor=reception, client=session.client)
    for visit in (earlier, session):
        photo_upload(
            actor=practitioner_user,
            appointment=visit,
            stage="after",
            angle="front",
            upload=an_upload(),
        )
    course_rating_record(client=session.client, service=session.service, rating=4)
    page = as_practitioner.get(
        reverse("staff-course", args=[session.client_id, session.service_id])
    ).content.decode()
    assert '<strong data-testid="rating">4 / 5</strong>' in page
    row = page.split('class="photo-row"')[1].split("</tr>")[0]
    assert "After · Front" in row
    assert row.count("<img") == 2
    heading = page.split("<thead>")[1].split("</thead>")[0]
    assert heading.index(earlier.local_start.strftime("%-d %b %Y")) < heading.index(
        session.local_start.strftime("%-d %b %Y")
    )


@pytest.fixture
def treated_with_lot(session, practitioner_user, glide_lot):
    """The session's client was treated with the glide lot; another client with another lot."""
    factories.sign_treatment_record(session, signer=practitioner_user, lot_ids=[glide_lot.id])
    other_lot = factories.ProductLotFactory(product=glide_lot.product, lot_number="HG-2026-09")
    other = factories.AppointmentFactory(
        service=session.service,
        practitioner=session.practitioner,
        location=session.location,
        start_at=timezone.now() - timedelta(days=3),
        status="completed",
    )
    factories.sign_treatment_record(other, signer=practitioner_user, lot_ids=[other_lot.id])
    return session


def test_a_recall_lists_the_clients_treated_with_the_lot_and_sends_them_a_notice(
    treated_with_lot, glide_lot, as_manager
):
    response = as_manager.post(
        reverse("staff-recalls"),
        {
            "product": glide_lot.product_id,
            "lot": glide_lot.id,
            "reason": "Maker's notice 2026/14: possible contamination",
            "client_instructions": "Please call us. If the skin is red or hot, see a doctor.",
        },
    )
    recall = Recall.objects.get()
    assert response.status_code == 302
    assert [r.client for r in recall.recipients.all()] == [treated_with_lot.client]

    as_manager.post(reverse("staff-recall-send", args=[recall.id]))
    as_manager.post(reverse("staff-recall-send", args=[recall.id]))  # twice: still one notice
    notice = Message.objects.get(category="recall")
    assert notice.to == treated_with_lot.client.phone
    assert "Hyaluronic" not in notice.body
    assert "HG-2026" not in notice.body
    link = notice.body.split("read ")[1].split(" ")[0].removeprefix("http://127.0.0.1:8000")
    recall_page = HttpClient().get(link)
    assert recall_page.status_code == 200
    assert b"Hyaluronic glide" in recall_page.content
    assert b"see a doctor" in recall_page.content

    inbound_receive(
        provider_sid="SM-reply-1",
        from_number=treated_with_lot.client.phone,
        to_number="+15005550006",
        body="Thanks, I'm fine",
    )
    exported = as_manager.get(reverse("staff-recall-csv", args=[recall.id]))
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert len(rows) == 1
    assert rows[0]["phone"] == treated_with_lot.client.phone
    assert rows[0]["lot"] == "HG-2026-07"
    assert rows[0]["notice_status"] == "Scheduled"
    assert rows[0]["replied_at"]


def test_a_recall_by_dates_and_its_refusals(treated_with_lot, glide_lot, as_manager, as_reception):
    assert as_reception.get(reverse("staff-recalls")).status_code == 403
    no_scope = as_manager.post(
        reverse("staff-recalls"),
        {"product": glide_lot.product_id, "reason": "r", "client_instructions": "i"},
    )
    assert no_scope.status_code == 422
    assert b"Give the lot, or the dates" in no_scope.content
    today = timezone.localdate()
    as_manager.post(
        reverse("staff-recalls"),
        {
            "product": glide_lot.product_id,
            "treated_from": (today - timedelta(days=7)).isoformat(),
            "treated_to": today.isoformat(),
            "reason": "Whole product withdrawn",
            "client_instructions": "Call us.",
        },
    )
    assert Recall.objects.get().recipients.count() == 2


def test_the_demo_catalogue_is_idempotent_and_its_expired_lot_is_not_offered(db):
    from django.core.management import call_command

    from records.models import ProductLot
    from records.selectors import lots_selectable

    call_command("seed_demo_products", stdout=io.StringIO())
    call_command("seed_demo_products", stdout=io.StringIO())
    assert ProductLot.objects.count() == 5
    offered = {lot.lot_number for lot in lots_selectable(on=timezone.localdate())}
    assert "NC-097" not in offered
    assert "HG-24A" in offered


def test_photo_consent_is_recorded_and_withdrawn_from_the_record_page(session, as_reception):
    from records.models import PhotoConsent

    url = reverse("staff-photo-consent", args=[session.client_id])
    response = as_reception.post(url, {"appointment": session.id, "allows_marketing": "yes"})
    assert response.status_code == 302
    consent = PhotoConsent.objects.get()
    assert consent.allows_marketing is True
    assert "marketing" in consent.wording
    as_reception.post(url, {"appointment": session.id, "withdraw": "yes"})
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
