"""Staff API for treatment records, photos (metadata; the images through short-lived signed
URLs) and recalls. Clinical roles only for records and photos, managers for recalls: the
records services and selectors check and audit, as they do for the staff pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from bookings.auth import staff_auth
from bookings.models import Client
from bookings.selectors.staff import appointment_for_staff
from clinic.errors import NotFound
from clinic.http import ApiRequest
from clinic.parsing import ApiBool, ApiDate, Id
from records.models import Recall, TreatmentPhoto, TreatmentRecord, TreatmentRecordAmendment
from records.selectors import (
    lots_selectable,
    recall_read,
    recalls_list,
    treatment_record_by_id,
    treatment_record_read,
)
from records.services.photos import (
    Variant,
    photo_consent_record,
    photo_open,
    photo_token_issue,
    photo_upload,
)
from records.services.recalls import recall_create
from records.services.treatment_records import treatment_record_amend, treatment_record_save
from reminders.services.recalls import recall_notices_send
from workspace.selectors.recalls import recall_rows

router = Router(auth=staff_auth, tags=["staff: treatment records"])


class DepthIn(Schema):
    area: str = Field(..., max_length=60, examples=["cheeks"])
    depth_mm: str = Field(..., description="Millimetres, 0.1 to 3.0", examples=["1.0"])


class RecordContentIn(Schema):
    device: str = ""
    cartridge: str = ""
    depths: list[DepthIn] = Field(default_factory=list)
    passes: int | None = None
    anaesthetic_minutes: int | None = None
    erythema_grade: int | None = Field(None, description="0 (none) to 3 (marked)")
    pinpoint_bleeding: ApiBool | None = None
    reactions: str = ""
    aftercare_given: str = ""
    notes: str = ""
    lot_ids: list[Id] = Field(default_factory=list, description="Product lots used (in date)")


class RecordSaveIn(RecordContentIn):
    sign: ApiBool = Field(False, description="Sign the record: the caller's own confirmation")


class AmendmentIn(RecordContentIn):
    reason: str = Field(..., description="Why the signed record is corrected")


class LotOut(Schema):
    id: int
    product_id: int
    product: str
    kind: str
    lot_number: str
    expires_on: date


class AmendmentOut(Schema):
    number: int
    reason: str
    changed_fields: list[str]
    previous: dict[str, Any]
    amended_by: str
    amended_at: datetime


class RecordOut(Schema):
    id: int
    appointment_id: int
    client_id: int
    status: str
    device: str
    cartridge: str
    depths: list[dict[str, str]]
    passes: int | None
    anaesthetic_minutes: int | None
    erythema_grade: int | None
    pinpoint_bleeding: bool | None
    reactions: str
    aftercare_given: str
    notes: str
    lots: list[LotOut]
    signed_by: str | None
    signed_at: datetime | None
    revision: int
    amendments: list[AmendmentOut]
    photo_count: int


class PhotoOut(Schema):
    id: int
    record_id: int
    stage: str
    angle: str
    width: int
    height: int
    uploaded_at: datetime
    image_url: str = Field(..., description="Signed, for this caller only, short-lived")
    thumbnail_url: str
    urls_expire_at: datetime


class PhotoConsentIn(Schema):
    allows_marketing: ApiBool = Field(False, description="A separate yes to marketing use")


class PhotoConsentOut(Schema):
    id: int
    client_id: int
    granted_at: datetime
    allows_marketing: bool
    wording: str


class RecallIn(Schema):
    product_id: Id
    lot_id: Id | None = None
    treated_from: ApiDate | None = None
    treated_to: ApiDate | None = None
    reason: str
    client_instructions: str


class RecallRecipientOut(Schema):
    client_id: int
    client_name: str
    phone: str
    appointment_id: int
    treated_on: date
    practitioner: str
    notice_status: str
    notice_sent_at: datetime | None
    replied_at: datetime | None


class RecallOut(Schema):
    id: int
    product_id: int
    product: str
    lot_id: int | None
    lot_number: str | None
    treated_from: date | None
    treated_to: date | None
    reason: str
    client_instructions: str
    created_at: datetime
    recipients: list[RecallRecipientOut]


class RecallSummaryOut(Schema):
    id: int
    product: str
    lot_number: str | None
    created_at: datetime
    recipients: int
    notified: int
    replied: int


class RecallSendOut(Schema):
    queued: int
    already_queued: int
    cannot_receive_sms: int


def _lot(lot) -> dict:  # noqa: ANN001
    return {
        "id": lot.pk,
        "product_id": lot.product_id,
        "product": lot.product.name,
        "kind": lot.product.kind,
        "lot_number": lot.lot_number,
        "expires_on": lot.expires_on,
    }


def _amendment(amendment: TreatmentRecordAmendment) -> dict:
    return {
        "number": amendment.number,
        "reason": amendment.reason,
        "changed_fields": amendment.changed_fields,
        "previous": amendment.previous,
        "amended_by": amendment.amended_by.get_username(),
        "amended_at": amendment.amended_at,
    }


def _record(record: TreatmentRecord) -> dict:
    return {
        "id": record.pk,
        "appointment_id": record.appointment_id,
        "client_id": record.client_id,
        "status": record.status,
        "device": record.device,
        "cartridge": record.cartridge,
        "depths": record.depths,
        "passes": record.passes,
        "anaesthetic_minutes": record.anaesthetic_minutes,
        "erythema_grade": record.erythema_grade,
        "pinpoint_bleeding": record.pinpoint_bleeding,
        "reactions": record.reactions,
        "aftercare_given": record.aftercare_given,
        "notes": record.notes,
        "lots": [_lot(use.lot) for use in record.product_uses.select_related("lot__product")],
        "signed_by": record.signed_by.get_username() if record.signed_by else None,
        "signed_at": record.signed_at,
        "revision": record.revision,
        "amendments": [
            _amendment(a) for a in record.amendments.select_related("amended_by").order_by("number")
        ],
        "photo_count": record.photos.count(),
    }


def _content(payload: RecordContentIn) -> dict[str, Any]:
    content = payload.dict(include=set(RecordContentIn.model_fields))
    content["depths"] = [depth.dict() for depth in payload.depths]
    return content


def _photo(request: ApiRequest, photo: TreatmentPhoto) -> dict:
    def url(variant: str) -> str:
        token = photo_token_issue(actor=request.auth, photo=photo, variant=variant)
        return request.build_absolute_uri(reverse("api:staff_photo_file", args=[token]))

    return {
        "id": photo.pk,
        "record_id": photo.record_id,
        "stage": photo.stage,
        "angle": photo.angle,
        "width": photo.width,
        "height": photo.height,
        "uploaded_at": photo.uploaded_at,
        "image_url": url(Variant.IMAGE),
        "thumbnail_url": url(Variant.THUMBNAIL),
        "urls_expire_at": timezone.now() + timedelta(seconds=settings.PHOTO_URL_MAX_AGE_SECONDS),
    }


def _record_or_404(request: ApiRequest, record_id: Id) -> TreatmentRecord:
    record = treatment_record_by_id(actor=request.auth, record_id=record_id, via="api")
    if record is None:
        raise NotFound("No such treatment record.")
    return record


@router.get("/product-lots", response=list[LotOut])
def list_product_lots(request: ApiRequest, on: ApiDate | None = None) -> list[dict]:
    """Lots that may be recorded for a session on ``on`` (default today): expired lots are
    left out, and refused if sent."""
    return [_lot(lot) for lot in lots_selectable(on=on or timezone.localdate())]


@router.get("/appointments/{appointment_id}/record", response=RecordOut)
def get_record(request: ApiRequest, appointment_id: Id) -> dict:
    """The session's treatment record (clinical roles; the read is audited)."""
    appointment = appointment_for_staff(actor=request.auth, appointment_id=appointment_id)
    record = treatment_record_read(actor=request.auth, appointment=appointment, via="api")
    if record is None:
        raise NotFound("This session has no record yet.")
    return _record(record)


@router.put("/appointments/{appointment_id}/record", response=RecordOut)
def save_record(request: ApiRequest, appointment_id: Id, payload: RecordSaveIn) -> dict:
    """Create or update the draft record; ``sign: true`` signs it. A signed record is
    corrected through ``POST /records/{id}/amendments`` (409 ``record_signed`` here)."""
    appointment = appointment_for_staff(actor=request.auth, appointment_id=appointment_id)
    record = treatment_record_save(
        actor=request.auth,
        appointment=appointment,
        content=_content(payload),
        sign=payload.sign,
        via="api",
    )
    return _record(record)


@router.post("/records/{record_id}/amendments", response={201: AmendmentOut})
def amend_record(request: ApiRequest, record_id: Id, payload: AmendmentIn) -> Status:
    """Correct a signed record; the amendment keeps what it said before."""
    record = _record_or_404(request, record_id)
    amendment = treatment_record_amend(
        actor=request.auth,
        record=record,
        content=_content(payload),
        reason=payload.reason,
        via="api",
    )
    return Status(201, _amendment(amendment))


@router.get("/records/{record_id}/photos", response=list[PhotoOut])
def list_photos(request: ApiRequest, record_id: Id) -> list[dict]:
    """Photo metadata with signed image URLs that work for the caller only, briefly."""
    record = _record_or_404(request, record_id)
    return [_photo(request, photo) for photo in record.photos.order_by("stage", "angle", "id")]


@router.post("/appointments/{appointment_id}/photos", response={201: PhotoOut})
def upload_photo(
    request: ApiRequest,
    appointment_id: Id,
    stage: Form[str],
    angle: Form[str],
    image: File[UploadedFile],
) -> Status:
    """Upload a before/after photo (multipart). 409 ``photo_consent_required`` without the
    client's photo consent; EXIF (with any GPS position) is stripped."""
    appointment = appointment_for_staff(actor=request.auth, appointment_id=appointment_id)
    photo = photo_upload(
        actor=request.auth,
        appointment=appointment,
        stage=stage,
        angle=angle,
        upload=image,
        via="api",
    )
    return Status(201, _photo(request, photo))


@router.get("/photos/{token}", url_name="staff_photo_file", include_in_schema=True)
def photo_file(request: ApiRequest, token: str) -> FileResponse:
    """The image behind a signed URL (JPEG). 410 once expired, 403 for anyone but the caller
    it was issued to."""
    opened = photo_open(actor=request.auth, token=token, via="api")
    response = FileResponse(opened.file, content_type=opened.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/clients/{client_id}/photo-consent", response={201: PhotoConsentOut})
def record_photo_consent(request: ApiRequest, client_id: Id, payload: PhotoConsentIn) -> Status:
    """Record the client's photo consent (separate from treatment consent and marketing)."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise NotFound("No such client.")
    consent = photo_consent_record(
        actor=request.auth, client=client, allows_marketing=payload.allows_marketing
    )
    return Status(
        201,
        {
            "id": consent.pk,
            "client_id": client.pk,
            "granted_at": consent.granted_at,
            "allows_marketing": consent.allows_marketing,
            "wording": consent.wording,
        },
    )


def _recall(recall: Recall) -> dict:
    return {
        "id": recall.pk,
        "product_id": recall.product_id,
        "product": recall.product.name,
        "lot_id": recall.lot_id,
        "lot_number": recall.lot.lot_number if recall.lot else None,
        "treated_from": recall.treated_from,
        "treated_to": recall.treated_to,
        "reason": recall.reason,
        "client_instructions": recall.client_instructions,
        "created_at": recall.created_at,
        "recipients": [
            {
                "client_id": row.recipient.client_id,
                "client_name": row.client_name,
                "phone": row.phone,
                "appointment_id": row.recipient.appointment_id,
                "treated_on": row.treated_on,
                "practitioner": row.practitioner,
                "notice_status": row.notice_status,
                "notice_sent_at": row.notice_sent_at,
                "replied_at": row.replied_at,
            }
            for row in recall_rows(recall=recall)
        ],
    }


@router.get("/recalls", response=list[RecallSummaryOut])
def list_recalls(request: ApiRequest) -> list[dict]:
    """Product recalls (managers)."""
    return [
        {
            "id": summary.recall.pk,
            "product": summary.recall.product.name,
            "lot_number": summary.recall.lot.lot_number if summary.recall.lot else None,
            "created_at": summary.recall.created_at,
            "recipients": summary.recipients,
            "notified": summary.notified,
            "replied": summary.replied,
        }
        for summary in recalls_list(actor=request.auth)
    ]


@router.post("/recalls", response={201: RecallOut})
def open_recall(request: ApiRequest, payload: RecallIn) -> Status:
    """Open a recall of a product lot (or of a product over dates) and list every client
    treated with it (managers)."""
    recall = recall_create(actor=request.auth, **payload.dict())
    return Status(201, _recall(recall_read(actor=request.auth, recall_id=recall.pk, via="api")))


@router.get("/recalls/{recall_id}", response=RecallOut)
def get_recall(request: ApiRequest, recall_id: Id) -> dict:
    return _recall(recall_read(actor=request.auth, recall_id=recall_id, via="api"))


@router.post("/recalls/{recall_id}/notices", response=RecallSendOut)
def send_recall_notices(request: ApiRequest, recall_id: Id) -> dict:
    """Queue the notice to every recipient not yet notified (idempotent)."""
    recall = recall_read(actor=request.auth, recall_id=recall_id, via="api")
    result = recall_notices_send(actor=request.auth, recall=recall)
    return {
        "queued": result.queued,
        "already_queued": result.already_queued,
        "cannot_receive_sms": result.cannot_receive_sms,
    }
