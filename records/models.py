"""Treatment records: what was done to whom with what (device, depths, products by lot), the
practitioner's signature and every later amendment, photos under their own consent, and
product-lot recalls.

All of it is health data: only clinical roles read it, every read is audited
(``bookings.services.health_data``), and none of it is logged or put in a message body.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q


class Product(models.Model):
    """Something applied to the skin in a session: a glide serum, a numbing cream …"""

    class Kind(models.TextChoices):
        SERUM = "serum", "Serum / glide"
        ANAESTHETIC = "anaesthetic", "Topical anaesthetic"
        OTHER = "other", "Other product"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SERUM)
    manufacturer = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "manufacturer"], name="product_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ProductLot(models.Model):
    """One batch of a product as the clinic received it; recalls name a lot."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=60)
    expires_on = models.DateField()
    received_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["product__name", "expires_on", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="lot_unique_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.product.name} lot {self.lot_number} (exp. {self.expires_on:%Y-%m-%d})"

    def is_expired_on(self, day: date) -> bool:
        return self.expires_on < day


class TreatmentRecord(models.Model):
    """The record of one treatment session. A draft until the practitioner signs it; after
    that every change is a ``TreatmentRecordAmendment`` that keeps what the record said
    before, so the signed history is never overwritten."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    appointment = models.OneToOneField(
        "bookings.Appointment", on_delete=models.PROTECT, related_name="treatment_record"
    )
    client = models.ForeignKey(
        "bookings.Client", on_delete=models.PROTECT, related_name="treatment_records"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    device = models.CharField(max_length=120, blank=True)
    cartridge = models.CharField(
        max_length=120, blank=True, help_text="Needle cartridge / configuration, e.g. 36-pin nano"
    )
    depths = models.JSONField(
        default=list,
        blank=True,
        help_text='Depth per area: [{"area": "cheeks", "depth_mm": "1.0"}]',
    )
    passes = models.PositiveSmallIntegerField(null=True, blank=True)
    anaesthetic_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Minutes the topical anaesthetic was left on"
    )
    erythema_grade = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Immediate redness, 0 (none) to 3 (marked)"
    )
    pinpoint_bleeding = models.BooleanField(null=True, blank=True)
    reactions = models.TextField(blank=True)
    aftercare_given = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=0, help_text="How many amendments so far")

    class Meta:
        ordering = ["-appointment__start_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="signed") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="record_signed_has_signature",
            ),
            models.CheckConstraint(
                condition=Q(erythema_grade__isnull=True) | Q(erythema_grade__lte=3),
                name="record_erythema_grade_0_to_3",
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment record {self.pk} ({self.status})"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class ProductUse(models.Model):
    """One product lot applied in a session. Recalls search these by lot."""

    record = models.ForeignKey(
        TreatmentRecord, on_delete=models.CASCADE, related_name="product_uses"
    )
    lot = models.ForeignKey(ProductLot, on_delete=models.PROTECT, related_name="uses")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "lot"], name="product_use_once_per_record")
        ]

    def __str__(self) -> str:
        return f"{self.lot} in record {self.record_id}"


class TreatmentRecordAmendment(models.Model):
    """A correction to a signed record: who, when, why, which fields, and what the record said
    before (``previous``, the whole signed content), so any signed version can be shown."""

    record = models.ForeignKey(TreatmentRecord, on_delete=models.PROTECT, related_name="amendments")
    number = models.PositiveIntegerField()
    reason = models.TextField()
    changed_fields = models.JSONField(default=list)
    previous = models.JSONField(help_text="The record's content before this amendment")
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField()

    class Meta:
        ordering = ["record", "number"]
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="amendment_number_unique")
        ]

    def __str__(self) -> str:
        return f"Amendment {self.number} to record {self.record_id}"


class PhotoConsent(models.Model):
    """The client's consent to clinical photos: separate from the treatment consent, and
    marketing use is a further, separate yes. One active consent per client; withdrawing it
    stops new uploads."""

    client = models.ForeignKey(
        "bookings.Client", on_delete=models.CASCADE, related_name="photo_consents"
    )
    granted_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    wording = models.TextField(help_text="The exact wording the client agreed to")
    allows_marketing = models.BooleanField(
        default=False, help_text="The client also agreed to marketing use (a separate question)"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(withdrawn_at__isnull=True),
                name="photo_consent_one_active",
            )
        ]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "active"
        return f"Photo consent of client {self.client_id} ({state})"


def photo_storage() -> Storage:
    """Photos live in the ``photos`` storage (local files by default, S3 in production; see
    settings.STORAGES), never under a public media URL."""
    return storages["photos"]


def _photo_path(photo: TreatmentPhoto, filename: str) -> str:
    # Random names: the path says nothing about the client, and cannot be guessed.
    return f"treatment-photos/{photo.client_id}/{uuid.uuid4().hex}{PurePosixPath(filename).suffix}"


class TreatmentPhoto(models.Model):
    class Stage(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"

    class Angle(models.TextChoices):
        FRONT = "front", "Front"
        LEFT = "left", "Left profile"
        RIGHT = "right", "Right profile"
        LEFT_45 = "left_45", "Left 45°"
        RIGHT_45 = "right_45", "Right 45°"
        OTHER = "other", "Other"

    record = models.ForeignKey(TreatmentRecord, on_delete=models.CASCADE, related_name="photos")
    client = models.ForeignKey("bookings.Client", on_delete=models.PROTECT, related_name="+")
    consent = models.ForeignKey(PhotoConsent, on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    angle = models.CharField(max_length=10, choices=Angle.choices, default=Angle.FRONT)
    image = models.FileField(upload_to=_photo_path, storage=photo_storage, max_length=200)
    thumbnail = models.FileField(upload_to=_photo_path, storage=photo_storage, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record", "stage", "angle", "id"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} photo ({self.get_angle_display()}) of record {self.record_id}"


class Recall(models.Model):
    """A manager's recall of a product lot (or of a product over a date range)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="recalls")
    lot = models.ForeignKey(
        ProductLot, null=True, blank=True, on_delete=models.PROTECT, related_name="recalls"
    )
    treated_from = models.DateField(null=True, blank=True)
    treated_to = models.DateField(null=True, blank=True)
    reason = models.TextField(help_text="For staff and the regulator (not sent to clients)")
    client_instructions = models.TextField(
        help_text="Shown on the client's recall page behind the link in the SMS"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lot__isnull=False)
                | Q(treated_from__isnull=False)
                | Q(treated_to__isnull=False),
                name="recall_names_lot_or_dates",
            )
        ]

    def __str__(self) -> str:
        return f"Recall {self.pk} of {self.lot or self.product}"


class RecallRecipient(models.Model):
    """A client treated with the recalled product: whether they were notified and replied."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="recipients")
    client = models.ForeignKey(
        "bookings.Client", on_delete=models.PROTECT, related_name="recall_notices"
    )
    appointment = models.ForeignKey(
        "bookings.Appointment",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The latest session in which the product was used",
    )
    treated_on = models.DateField()
    notice_queued_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recall", "treated_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recall", "client"], name="recall_recipient_once")
        ]
        indexes = [models.Index(fields=["client", "replied_at"])]

    def __str__(self) -> str:
        return f"Recall {self.recall_id} → client {self.client_id}"


class CourseRating(models.Model):
    """The client's own rating of a course's results, 1 (poor) to 5 (excellent): asked by SMS
    some weeks after the last session (a protocol rule), or entered by staff."""

    class Via(models.TextChoices):
        SMS = "sms", "SMS reply"
        STAFF = "staff", "Staff"

    client = models.ForeignKey(
        "bookings.Client", on_delete=models.CASCADE, related_name="course_ratings"
    )
    service = models.ForeignKey("clinic.Service", on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField()
    via = models.CharField(max_length=10, choices=Via.choices)
    rated_at = models.DateTimeField()

    class Meta:
        ordering = ["-rated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="course_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"Rating {self.rating} from client {self.client_id}"
