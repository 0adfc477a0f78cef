"""What records holds about a client, for the client's data export (``client_data_collect``),
and the purge of their clinical records when the retention period ends.

Erasure keeps treatment records: like consultations they are clinical records kept for the
retention period (the client's name goes with the client row; records hold no contact
details); the nightly retention job then deletes them (``client_clinical_purging``). Photos are
listed by their metadata; the images stay behind signed links."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from bookings.models import Client
from records.models import (
    CourseRating,
    PhotoConsent,
    RecallRecipient,
    TreatmentPhoto,
    TreatmentRecord,
    TreatmentRecordAmendment,
)
from records.services.treatment_records import record_content_of


def client_records_export(*, client: Client) -> dict[str, Any]:
    records = (
        TreatmentRecord.objects.filter(client=client)
        .select_related("appointment__service", "signed_by")
        .prefetch_related("product_uses__lot__product", "amendments__amended_by", "photos")
        .order_by("appointment__start_at")
    )
    return {
        "treatment_records": [
            {
                "appointment_id": record.appointment_id,
                "service": record.appointment.service.name,
                "start_at": record.appointment.start_at.isoformat(),
                "status": record.status,
                **{
                    name: value
                    for name, value in vars(record_content_of(record)).items()
                    if name != "lot_ids"
                },
                "products": [
                    {
                        "product": use.lot.product.name,
                        "lot": use.lot.lot_number,
                        "expires_on": use.lot.expires_on.isoformat(),
                    }
                    for use in record.product_uses.all()
                ],
                "signed_by": record.signed_by.get_username() if record.signed_by else None,
                "signed_at": record.signed_at.isoformat() if record.signed_at else None,
                "amendments": [
                    {
                        "number": amendment.number,
                        "reason": amendment.reason,
                        "changed_fields": amendment.changed_fields,
                        "previous": amendment.previous,
                        "amended_by": amendment.amended_by.get_username(),
                        "amended_at": amendment.amended_at.isoformat(),
                    }
                    for amendment in record.amendments.all()
                ],
                "photos": [
                    {
                        "stage": photo.stage,
                        "angle": photo.angle,
                        "uploaded_at": photo.uploaded_at.isoformat(),
                    }
                    for photo in record.photos.all()
                ],
            }
            for record in records
        ],
        "photo_consents": [
            {
                "granted_at": consent.granted_at.isoformat(),
                "wording": consent.wording,
                "allows_marketing": consent.allows_marketing,
                "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
            }
            for consent in PhotoConsent.objects.filter(client=client).order_by("granted_at")
        ],
        "course_ratings": [
            {
                "service": rating.service.name,
                "rating": rating.rating,
                "rated_at": rating.rated_at.isoformat(),
            }
            for rating in CourseRating.objects.filter(client=client).select_related("service")
        ],
        "recall_notices": [
            {
                "product": recipient.recall.product.name,
                "treated_on": recipient.treated_on.isoformat(),
                "notice_queued_at": recipient.notice_queued_at.isoformat()
                if recipient.notice_queued_at
                else None,
                "replied_at": recipient.replied_at.isoformat() if recipient.replied_at else None,
            }
            for recipient in RecallRecipient.objects.filter(client=client).select_related(
                "recall__product"
            )
        ],
    }


def client_records_purge(*, client: Client) -> int:
    """Delete ``client``'s treatment records with their amendments, products used and photos,
    once the clinical retention period after erasure has ended (``client_clinical_purging``).
    Photo files leave storage only after the purge commits, so a rolled-back purge keeps the
    files its rows point at. Returns how many treatment records were deleted. Idempotent."""
    records = TreatmentRecord.objects.filter(client=client)
    photos = TreatmentPhoto.objects.filter(record__client=client)
    stored = [
        (field.storage, field.name)
        for photo in photos
        for field in (photo.image, photo.thumbnail)
        if field.name
    ]
    photos.delete()
    TreatmentRecordAmendment.objects.filter(record__client=client).delete()
    _, deleted = records.delete()  # product uses go with their record (cascade)

    def delete_files() -> None:
        for storage, name in stored:
            storage.delete(name)

    if stored:
        transaction.on_commit(delete_files)
    return deleted.get(TreatmentRecord._meta.label, 0)
