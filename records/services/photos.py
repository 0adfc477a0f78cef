"""Treatment photos: the client's separate photo consent, uploads (EXIF stripped, a thumbnail
made, both kept in the ``photos`` storage) and the short-lived signed links that are the only
way to see one.

A link is a signed token naming the photo, the variant and the member of staff it was issued
to; opening it checks the signature's age, that the same person is asking and still holds a
clinical role, and writes the read to the health-data access log.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from bookings.access import check_client_access
from bookings.models import Appointment, Client, HealthDataAccess
from clinic import roles
from clinic.errors import Gone, NotFound, PermissionDenied, ValidationFailed
from clinic.roles import Actor
from records.access import audit, require_clinical_access, staff_user
from records.errors import PhotoConsentRequired
from records.models import PhotoConsent, TreatmentPhoto, TreatmentRecord
from records.services.treatment_records import session_client_id, treatment_record_save

logger = logging.getLogger(__name__)

PHOTO_LINK_SALT = "records.photo"
THUMBNAIL_SIZE = (480, 480)
MAX_PIXELS = 40_000_000  # a 40 MP phone photo; anything larger is refused, not decoded
PHOTO_CONSENT_WORDING = (
    "I agree that the clinic may take before and after photos of the treated area for my "
    "clinical record. They are seen only by my practitioners. I can withdraw this at any time."
)
PHOTO_MARKETING_WORDING = (
    "I also agree that the clinic may use these photos, without my name, in its marketing."
)


class Variant:
    IMAGE = "image"
    THUMBNAIL = "thumbnail"
    ALL = (IMAGE, THUMBNAIL)


def photo_consent_active(*, client_id: int) -> PhotoConsent | None:
    return PhotoConsent.objects.filter(client_id=client_id, withdrawn_at__isnull=True).first()


def photo_consent_record(
    *, actor: Actor, client: Client, allows_marketing: bool = False
) -> PhotoConsent:
    """Record that the client agreed to clinical photos (and, separately, to marketing use),
    with the wording shown. Replaces an earlier active consent. Raises PermissionDenied (not
    staff, or a client ``bookings.access`` does not let them see)."""
    check_client_access(actor=actor, client=client)
    wording = PHOTO_CONSENT_WORDING + (f" {PHOTO_MARKETING_WORDING}" if allows_marketing else "")
    now = timezone.now()
    with transaction.atomic():
        PhotoConsent.objects.filter(client=client, withdrawn_at__isnull=True).update(
            withdrawn_at=now
        )
        return PhotoConsent.objects.create(
            client=client,
            granted_at=now,
            recorded_by=staff_user(actor),
            wording=wording,
            allows_marketing=allows_marketing,
        )


def photo_consent_withdraw(*, actor: Actor, client: Client) -> int:
    """The client withdrew photo consent: no new photos from now. Returns 1 if one was active.
    Raises PermissionDenied as ``photo_consent_record``."""
    check_client_access(actor=actor, client=client)
    return PhotoConsent.objects.filter(client=client, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )


@dataclass(frozen=True)
class _Processed:
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _process(upload: File) -> _Processed:
    """Decode, turn upright, and re-encode without any metadata (EXIF with its GPS position,
    XMP, comments): only pixels are kept. Raises ValidationFailed(field="image")."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.PHOTO_MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            f"A photo can be at most {settings.PHOTO_MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
            field="image",
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed("This photo is too large.", field="image")
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as original:
            upright = ImageOps.exif_transpose(original)
            pixels = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationFailed("Upload a photo (JPEG, PNG or WebP).", field="image") from None
    image_bytes = io.BytesIO()
    # A fresh image carries no info dict: nothing but pixels is written.
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    clean.save(image_bytes, format="JPEG", quality=90, optimize=True)
    thumbnail = clean.copy()
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    thumbnail_bytes = io.BytesIO()
    thumbnail.save(thumbnail_bytes, format="JPEG", quality=80)
    return _Processed(image_bytes.getvalue(), thumbnail_bytes.getvalue(), *clean.size)


def photo_upload(
    *,
    actor: Actor,
    appointment: Appointment,
    stage: str,
    angle: str,
    upload: File,
    via: str = "staff",
) -> TreatmentPhoto:
    """Add a before/after photo to a session's record (starting the draft record if the
    "before" photo comes first).

    Raises PermissionDenied (not clinical), PhotoConsentRequired (no active photo consent),
    ValidationFailed (stage, angle, or not a readable image). Nothing is kept when refused."""
    client_id = session_client_id(appointment)
    require_clinical_access(
        actor=actor,
        client_id=client_id,
        record=f"treatment_record:appointment:{appointment.pk}",
        fields=["photos"],
        via=via,
    )
    user = staff_user(actor)
    if stage not in TreatmentPhoto.Stage.values:
        raise ValidationFailed("Choose before or after.", field="stage")
    if angle not in TreatmentPhoto.Angle.values:
        raise ValidationFailed("Choose an angle from the list.", field="angle")
    consent = photo_consent_active(client_id=client_id)
    if consent is None:
        raise PhotoConsentRequired(
            "The client has not given photo consent: record it before taking photos.",
            field="image",
        )
    processed = _process(upload)
    photo = TreatmentPhoto(
        client_id=client_id,
        consent=consent,
        stage=stage,
        angle=angle,
        width=processed.width,
        height=processed.height,
        uploaded_by=user,
    )
    photo.image.save("photo.jpg", ContentFile(processed.image), save=False)
    photo.thumbnail.save("thumb.jpg", ContentFile(processed.thumbnail), save=False)
    try:
        with transaction.atomic():
            # The consent may have been withdrawn while the photo was being processed.
            if not PhotoConsent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).exists():
                raise PhotoConsentRequired("The client withdrew photo consent.", field="image")
            record = TreatmentRecord.objects.filter(appointment_id=appointment.pk).first()
            if record is None:
                record = treatment_record_save(
                    actor=actor, appointment=appointment, content={}, via=via
                )
            photo.record = record
            photo.save()
            audit(
                actor=actor,
                action=HealthDataAccess.Action.CHANGE,
                record=f"photo:{photo.pk}",
                fields=["image"],
                client_id=client_id,
                via=via,
            )
    except BaseException:
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
        raise
    logger.info("treatment photo stored", extra={"photo_id": photo.pk, "record_id": record.pk})
    return photo


def photo_token_issue(*, actor: Actor, photo: TreatmentPhoto, variant: str) -> str:
    """A token for one photo, one variant and this member of staff, good for
    PHOTO_URL_MAX_AGE_SECONDS. Raises PermissionDenied (not clinical)."""
    if variant not in Variant.ALL:
        raise ValidationFailed("Unknown photo size.", field="variant")
    if not roles.has_role(actor, *roles.CLINICAL_ROLES):
        raise PermissionDenied("Only practitioners and managers can see treatment photos.")
    return signing.dumps(
        {"p": photo.pk, "v": variant, "u": staff_user(actor).pk},
        salt=PHOTO_LINK_SALT,
        compress=True,
    )


@dataclass(frozen=True)
class OpenedPhoto:
    photo: TreatmentPhoto
    file: File
    content_type: str = "image/jpeg"


def photo_open(*, actor: Actor, token: str, via: str = "staff") -> OpenedPhoto:
    """Open the photo a link names, for the person it was issued to, and audit the read.

    Raises NotFound (tampered, or the photo is gone), Gone (the link is too old),
    PermissionDenied (issued to someone else, or the actor is not clinical now)."""
    try:
        payload = signing.loads(
            token, salt=PHOTO_LINK_SALT, max_age=settings.PHOTO_URL_MAX_AGE_SECONDS
        )
        photo_id, variant, user_id = int(payload["p"]), str(payload["v"]), int(payload["u"])
    except signing.SignatureExpired:
        raise Gone("This photo link has expired: reload the page.") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("This photo link is not valid.") from None
    if variant not in Variant.ALL:
        raise NotFound("This photo link is not valid.")
    photo = TreatmentPhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        raise NotFound("This photo no longer exists.")
    if roles.user_of(actor) is None or getattr(actor, "pk", None) != user_id:
        raise PermissionDenied("This photo link was issued to someone else.")
    require_clinical_access(
        actor=actor,
        client_id=photo.client_id,
        record=f"photo:{photo.pk}",
        fields=[variant],
        via=via,
    )
    audit(
        actor=actor,
        action=HealthDataAccess.Action.READ,
        record=f"photo:{photo.pk}",
        fields=[variant],
        client_id=photo.client_id,
        via=via,
    )
    stored = photo.image if variant == Variant.IMAGE else photo.thumbnail
    return OpenedPhoto(photo=photo, file=stored.storage.open(stored.name, "rb"))
