"""Photos: refused without the client's separate photo consent, stored without EXIF location,
thumbnailed, and readable only through short-lived links issued to a clinical member of staff
(every read audited)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from PIL import Image

from bookings.models import HealthDataAccess
from clinic.errors import Gone, NotFound, PermissionDenied, ValidationFailed
from records.errors import PhotoConsentRequired
from records.models import TreatmentPhoto, TreatmentRecord
from records.services.photos import (
    photo_consent_record,
    photo_consent_withdraw,
    photo_open,
    photo_token_issue,
    photo_upload,
)
from records.services.treatment_records import treatment_record_save
from tests.factories import complete_record_content
from tests.records.conftest import jpeg_with_gps
from tests.records.conftest import photo_upload as an_upload


@pytest.fixture
def record(session, practitioner_user):
    return treatment_record_save(
        actor=practitioner_user, appointment=session, content=complete_record_content()
    )


@pytest.fixture
def consented(record, reception):
    return photo_consent_record(actor=reception, client=record.client)


def test_without_photo_consent_the_upload_is_refused_and_nothing_is_stored(
    record, practitioner_user, photo_root
):
    with pytest.raises(PhotoConsentRequired):
        photo_upload(
            actor=practitioner_user,
            appointment=record.appointment,
            stage="before",
            angle="front",
            upload=an_upload(),
        )
    assert not TreatmentPhoto.objects.exists()
    assert not photo_root.exists() or not any(photo_root.rglob("*.jpg"))


def test_a_withdrawn_photo_consent_stops_new_uploads(record, practitioner_user, reception):
    photo_consent_record(actor=reception, client=record.client)
    photo_consent_withdraw(actor=reception, client=record.client)
    with pytest.raises(PhotoConsentRequired):
        photo_upload(
            actor=practitioner_user,
            appointment=record.appointment,
            stage="after",
            angle="front",
            upload=an_upload(),
        )


def test_photo_consent_is_separate_from_marketing_use(record, reception):
    clinical_only = photo_consent_record(actor=reception, client=record.client)
    assert clinical_only.allows_marketing is False
    assert "marketing" not in clinical_only.wording
    with_marketing = photo_consent_record(
        actor=reception, client=record.client, allows_marketing=True
    )
    clinical_only.refresh_from_db()
    assert clinical_only.withdrawn_at is not None
    assert with_marketing.allows_marketing is True


def test_an_uploaded_photo_loses_its_gps_position_and_gets_a_thumbnail(
    record, consented, practitioner_user
):
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(0x8825)  # the phone's photo does carry a position

    photo = photo_upload(
        actor=practitioner_user,
        appointment=record.appointment,
        stage="before",
        angle="left",
        upload=an_upload(),
    )
    with photo.image.open("rb") as stored:
        kept = Image.open(stored)
        kept.load()
    assert not kept.getexif().get_ifd(0x8825)
    assert 0x010F not in kept.getexif()
    assert (photo.width, photo.height) == (1200, 900)
    with photo.thumbnail.open("rb") as stored:
        thumbnail = Image.open(stored)
        assert max(thumbnail.size) <= 480
    assert photo.consent == consented
    assert str(photo.client_id) in photo.image.name
    assert record.client.last_name not in photo.image.name


def test_something_that_is_not_an_image_is_refused_naming_the_field(
    record, consented, practitioner_user
):
    with pytest.raises(ValidationFailed) as refused:
        photo_upload(
            actor=practitioner_user,
            appointment=record.appointment,
            stage="before",
            angle="front",
            upload=an_upload("notes.jpg", b"%PDF-1.4 not a photo"),
        )
    assert refused.value.field == "image"
    with pytest.raises(ValidationFailed) as bad_stage:
        photo_upload(
            actor=practitioner_user,
            appointment=record.appointment,
            stage="during",
            angle="front",
            upload=an_upload(),
        )
    assert bad_stage.value.field == "stage"
    assert not TreatmentPhoto.objects.exists()


def test_reception_cannot_upload_or_get_a_link(record, consented, practitioner_user, reception):
    with pytest.raises(PermissionDenied):
        photo_upload(
            actor=reception,
            appointment=record.appointment,
            stage="before",
            angle="front",
            upload=an_upload(),
        )
    photo = photo_upload(
        actor=practitioner_user,
        appointment=record.appointment,
        stage="before",
        angle="front",
        upload=an_upload(),
    )
    with pytest.raises(PermissionDenied):
        photo_token_issue(actor=reception, photo=photo, variant="image")


@pytest.fixture
def photo(record, consented, practitioner_user):
    return photo_upload(
        actor=practitioner_user,
        appointment=record.appointment,
        stage="after",
        angle="front",
        upload=an_upload(),
    )


def test_a_photo_link_opens_for_the_person_it_was_issued_to_and_the_read_is_audited(
    photo, practitioner_user
):
    token = photo_token_issue(actor=practitioner_user, photo=photo, variant="thumbnail")
    opened = photo_open(actor=practitioner_user, token=token)
    with opened.file as stored:
        assert Image.open(stored).format == "JPEG"
    read = HealthDataAccess.objects.get(action="read", record=f"photo:{photo.pk}")
    assert read.actor == practitioner_user
    assert read.fields == ["thumbnail"]


def test_a_photo_link_expires(photo, practitioner_user, settings):
    settings.PHOTO_URL_MAX_AGE_SECONDS = 300
    token = photo_token_issue(actor=practitioner_user, photo=photo, variant="image")
    with time_machine.travel(timezone.now() + timedelta(seconds=301)), pytest.raises(Gone):
        photo_open(actor=practitioner_user, token=token)
    with time_machine.travel(timezone.now() + timedelta(seconds=299)):
        photo_open(actor=practitioner_user, token=token).file.close()


def test_a_photo_link_is_useless_to_anyone_else(photo, practitioner_user, manager, reception):
    token = photo_token_issue(actor=practitioner_user, photo=photo, variant="image")
    with pytest.raises(PermissionDenied):
        photo_open(actor=manager, token=token)
    with pytest.raises(PermissionDenied):
        photo_open(actor=reception, token=token)
    with pytest.raises(NotFound):
        photo_open(actor=practitioner_user, token=token[:-2] + "xx")


def test_a_link_stops_working_when_its_holder_loses_the_clinical_role(photo, practitioner_user):
    token = photo_token_issue(actor=practitioner_user, photo=photo, variant="image")
    practitioner_user.groups.clear()
    practitioner_user.__dict__.pop("_aftercare_roles", None)
    with pytest.raises(PermissionDenied):
        photo_open(actor=practitioner_user, token=token)


def test_a_first_photo_starts_the_draft_record_but_a_refused_one_starts_nothing(
    session, practitioner_user, reception
):
    with pytest.raises(PhotoConsentRequired):
        photo_upload(
            actor=practitioner_user,
            appointment=session,
            stage="before",
            angle="front",
            upload=an_upload(),
        )
    assert not TreatmentRecord.objects.exists()
    photo_consent_record(actor=reception, client=session.client)
    photo = photo_upload(
        actor=practitioner_user,
        appointment=session,
        stage="before",
        angle="front",
        upload=an_upload(),
    )
    assert photo.record.appointment == session
    assert photo.record.status == TreatmentRecord.Status.DRAFT
