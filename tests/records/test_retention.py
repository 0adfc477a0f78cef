"""Retention of treatment records (issue 14, point 7): once an erased client's clinical
retention period ends, the nightly job deletes their treatment records, amendments and photos,
the photo files included; other clients' records stay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.models import Client, DataProtectionAction
from bookings.services.data_protection import client_erase, retention_enforce
from records.models import ProductUse, TreatmentPhoto, TreatmentRecord, TreatmentRecordAmendment
from records.services.photos import photo_consent_record, photo_upload
from records.services.treatment_records import treatment_record_amend, treatment_record_save
from tests import factories
from tests.factories import complete_record_content
from tests.records.conftest import photo_upload as an_upload

pytestmark = pytest.mark.django_db

REASON = "Client's written request of 1 December"


@pytest.fixture
def kept_record(session, practitioner_user, glide_lot):
    """A signed and amended record of the session, with a photo, and a draft record of another
    client's session the same morning."""
    record = treatment_record_save(
        actor=practitioner_user,
        appointment=session,
        content=complete_record_content(lot_ids=[glide_lot.pk]),
        sign=True,
    )
    treatment_record_amend(
        actor=practitioner_user,
        record=record,
        content=complete_record_content(passes=4, lot_ids=[glide_lot.pk]),
        reason="Counted the passes wrong",
    )
    photo_consent_record(actor=practitioner_user, client=session.client)
    photo = photo_upload(
        actor=practitioner_user,
        appointment=session,
        stage="after",
        angle="front",
        upload=an_upload(),
    )
    other_session = factories.AppointmentFactory(
        service=session.service,
        practitioner=session.practitioner,
        location=session.location,
        start_at=session.start_at - timedelta(hours=2),
        status="arrived",
    )
    other = treatment_record_save(
        actor=practitioner_user, appointment=other_session, content=complete_record_content()
    )
    return record, photo, other


def test_retention_deletes_an_erased_clients_treatment_records_and_photo_files(
    manager, kept_record, settings, django_capture_on_commit_callbacks
):
    record, photo, other = kept_record
    storage = photo.image.storage
    files = [photo.image.name, photo.thumbnail.name]
    assert all(storage.exists(name) for name in files)
    client_erase(actor=manager, client=record.client, reason=REASON)
    erased_at = Client.objects.get(pk=record.client_id).erased_at

    assert retention_enforce(now=erased_at + timedelta(days=30))["treatment_records_purged"] == 0
    assert TreatmentRecord.objects.filter(pk=record.pk).exists()  # kept during the period
    later = erased_at + timedelta(days=settings.CLINICAL_RECORD_RETENTION_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_enforce(now=later)["treatment_records_purged"] == 1

    assert not TreatmentRecord.objects.filter(client=record.client_id).exists()
    assert not TreatmentRecordAmendment.objects.filter(record_id=record.pk).exists()
    assert not ProductUse.objects.filter(record_id=record.pk).exists()
    assert not TreatmentPhoto.objects.filter(pk=photo.pk).exists()
    assert not any(storage.exists(name) for name in files)
    assert TreatmentRecord.objects.filter(pk=other.pk).exists()  # another client's record stays
    assert DataProtectionAction.objects.filter(
        kind="clinical_purged", client_ref=record.client_id
    ).exists()
    assert retention_enforce(now=later)["treatment_records_purged"] == 0  # idempotent
