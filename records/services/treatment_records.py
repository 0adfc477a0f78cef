"""Writing treatment records: drafts, the practitioner's signature, amendments with history,
and the completion guard "a treatment cannot be completed without a signed record".

Content arrives as a mapping (from the record page's form or the staff API) and is cleaned
here, once, so every interface refuses the same bad input with the same field name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings.completion import CompletionBlocker
from bookings.models import Appointment, HealthDataAccess
from bookings.policy import Refusal
from clinic import roles
from clinic.errors import PermissionDenied, ValidationFailed
from clinic.models import Service
from clinic.roles import Actor
from records.access import audit, require_clinical_access, staff_user
from records.errors import RecordSigned
from records.models import ProductLot, ProductUse, TreatmentRecord, TreatmentRecordAmendment

MAX_DEPTH_MM = Decimal("3.0")
TEXT_FIELDS = ("device", "cartridge", "reactions", "aftercare_given", "notes")
CONTENT_FIELDS = (
    "device",
    "cartridge",
    "depths",
    "passes",
    "anaesthetic_minutes",
    "erythema_grade",
    "pinpoint_bleeding",
    "reactions",
    "aftercare_given",
    "notes",
    "lot_ids",
)
# Statuses in which a session took place (or is taking place) and may be recorded.
RECORDABLE_STATUSES = (
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.ARRIVED,
    Appointment.Status.COMPLETED,
)


@dataclass
class RecordContent:
    """A record's content, cleaned: what a draft holds and what a signature confirms."""

    device: str = ""
    cartridge: str = ""
    depths: list[dict[str, str]] = field(default_factory=list)
    passes: int | None = None
    anaesthetic_minutes: int | None = None
    erythema_grade: int | None = None
    pinpoint_bleeding: bool | None = None
    reactions: str = ""
    aftercare_given: str = ""
    notes: str = ""
    lot_ids: list[int] = field(default_factory=list)

    def missing_for_signature(self) -> list[str]:
        """Fields a signed record must have."""
        missing = [name for name in ("device", "cartridge") if not getattr(self, name)]
        if not self.depths:
            missing.append("depths")
        for name in ("passes", "erythema_grade", "pinpoint_bleeding"):
            if getattr(self, name) is None:
                missing.append(name)
        if not self.aftercare_given:
            missing.append("aftercare_given")
        return missing


def _optional_int(raw: Any, *, field_name: str, low: int, high: int) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValidationFailed("Give a whole number.", field=field_name) from None
    if not low <= value <= high:
        raise ValidationFailed(f"Give a number from {low} to {high}.", field=field_name)
    return value


def _optional_bool(raw: Any, *, field_name: str) -> bool | None:
    if raw is None or isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text == "":
        return None
    if text in {"yes", "true", "1", "on"}:
        return True
    if text in {"no", "false", "0", "off"}:
        return False
    raise ValidationFailed("Answer yes or no.", field=field_name)


def _clean_depths(raw: Any) -> list[dict[str, str]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple):
        raise ValidationFailed("Give the depth per area as a list.", field="depths")
    depths = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise ValidationFailed("Each depth needs an area and millimetres.", field="depths")
        area = str(entry.get("area") or "").strip()[:60]
        depth_text = str(entry.get("depth_mm") or "").strip()
        if not area and not depth_text:
            continue  # an empty row of the form
        if not area:
            raise ValidationFailed(f"Name the area of depth {index + 1}.", field="depths")
        try:
            depth = Decimal(depth_text.replace(",", "."))
        except InvalidOperation:
            raise ValidationFailed(
                f"Give the depth for {area} in millimetres, e.g. 0.5.", field="depths"
            ) from None
        if not depth.is_finite() or not Decimal("0.1") <= depth <= MAX_DEPTH_MM:
            raise ValidationFailed(
                f"The depth for {area} must be between 0.1 and {MAX_DEPTH_MM} mm.", field="depths"
            )
        if area.lower() in seen:
            raise ValidationFailed(f"{area} is listed twice.", field="depths")
        seen.add(area.lower())
        depths.append({"area": area, "depth_mm": f"{depth.quantize(Decimal('0.01')):f}"})
    return depths


def _clean_lots(raw: Any, *, treated_on: date) -> list[int]:
    """Lot ids that exist and had not expired on the day of the treatment."""
    if raw in (None, ""):
        return []
    try:
        wanted = sorted({int(lot_id) for lot_id in raw})
    except (TypeError, ValueError):
        raise ValidationFailed("Choose products from the list.", field="lot_ids") from None
    lots = {
        lot.pk: lot for lot in ProductLot.objects.select_related("product").filter(pk__in=wanted)
    }
    unknown = [lot_id for lot_id in wanted if lot_id not in lots]
    if unknown:
        raise ValidationFailed("Choose products from the list.", field="lot_ids")
    for lot in lots.values():
        if lot.is_expired_on(treated_on):
            raise ValidationFailed(
                f"{lot.product.name} lot {lot.lot_number} expired on {lot.expires_on:%d %b %Y} "
                "and cannot be used.",
                field="lot_ids",
            )
    return wanted


def record_content_clean(raw: Mapping[str, Any], *, treated_on: date) -> RecordContent:
    """Clean a record's content. Raises ValidationFailed naming the field."""
    unknown = set(raw) - set(CONTENT_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    content = RecordContent()
    for name in TEXT_FIELDS:
        value = raw.get(name) or ""
        if not isinstance(value, str):
            raise ValidationFailed("Give text.", field=name)
        limit = 120 if name in {"device", "cartridge"} else 4000
        if len(value.strip()) > limit:
            raise ValidationFailed(f"At most {limit} characters.", field=name)
        setattr(content, name, value.strip())
    content.depths = _clean_depths(raw.get("depths"))
    content.passes = _optional_int(raw.get("passes"), field_name="passes", low=1, high=20)
    content.anaesthetic_minutes = _optional_int(
        raw.get("anaesthetic_minutes"), field_name="anaesthetic_minutes", low=0, high=120
    )
    content.erythema_grade = _optional_int(
        raw.get("erythema_grade"), field_name="erythema_grade", low=0, high=3
    )
    content.pinpoint_bleeding = _optional_bool(
        raw.get("pinpoint_bleeding"), field_name="pinpoint_bleeding"
    )
    content.lot_ids = _clean_lots(raw.get("lot_ids"), treated_on=treated_on)
    return content


def record_content_of(record: TreatmentRecord) -> RecordContent:
    return RecordContent(
        **{name: getattr(record, name) for name in CONTENT_FIELDS if name != "lot_ids"},
        lot_ids=sorted(use.lot_id for use in record.product_uses.all()),
    )


def _snapshot(record: TreatmentRecord) -> dict[str, Any]:
    """What the record says now, with the lots spelled out (a lot row could be renamed)."""
    content = asdict(record_content_of(record))
    content["lots"] = [
        {"lot_id": use.lot_id, "product": use.lot.product.name, "lot_number": use.lot.lot_number}
        for use in record.product_uses.select_related("lot__product")
    ]
    content["signed_by"] = record.signed_by.get_username() if record.signed_by else None
    content["signed_at"] = record.signed_at.isoformat() if record.signed_at else None
    content["revision"] = record.revision
    return content


def _apply(record: TreatmentRecord, content: RecordContent) -> None:
    for name in CONTENT_FIELDS:
        if name != "lot_ids":
            setattr(record, name, getattr(content, name))
    record.save()
    current = set(record.product_uses.values_list("lot_id", flat=True))
    wanted = set(content.lot_ids)
    record.product_uses.filter(lot_id__in=current - wanted).delete()
    ProductUse.objects.bulk_create(
        [ProductUse(record=record, lot_id=lot_id) for lot_id in sorted(wanted - current)]
    )


def session_client_id(appointment: Appointment) -> int:
    """The client of a treatment session (a held slot without a client has no record)."""
    if appointment.client_id is None:
        raise ValidationFailed("This slot has no client, so it has no record.", field=None)
    return appointment.client_id


def _require_signer(actor: Actor, appointment: Appointment) -> None:
    # The signature is the treating practitioner's (or a manager's) own confirmation.
    if roles.has_role(actor, roles.MANAGER):
        return
    if appointment.practitioner.user_id != staff_user(actor).pk:
        raise PermissionDenied("Only the treating practitioner or a manager can sign this record.")


def treatment_record_save(
    *,
    actor: Actor,
    appointment: Appointment,
    content: Mapping[str, Any],
    sign: bool = False,
    via: str = "staff",
) -> TreatmentRecord:
    """Create or update the draft record of a treatment session; with ``sign`` the actor signs
    it (their authenticated confirmation, timestamped).

    Raises PermissionDenied (not clinical, or signing someone else's session), ValidationFailed
    (bad content naming the field, an expired lot, a field a signature needs), RecordSigned
    (a signed record changes only by ``treatment_record_amend``)."""
    label = f"treatment_record:appointment:{appointment.pk}"
    client_id = session_client_id(appointment)
    require_clinical_access(
        actor=actor, client_id=client_id, record=label, fields=CONTENT_FIELDS, via=via
    )
    user = staff_user(actor)
    if appointment.service.kind != Service.Kind.TREATMENT:
        raise ValidationFailed("Only treatment sessions have a treatment record.", field=None)
    if appointment.status not in RECORDABLE_STATUSES:
        raise ValidationFailed(
            f"A {appointment.get_status_display().lower()} appointment has no treatment record.",
            field=None,
        )
    cleaned = record_content_clean(content, treated_on=appointment.local_start.date())
    if sign:
        _require_signer(actor, appointment)
        missing = cleaned.missing_for_signature()
        if missing:
            raise ValidationFailed(
                "Fill this in before signing.", field=missing[0], extra={"missing": missing}
            )
    with transaction.atomic():
        record = (
            TreatmentRecord.objects.select_for_update()
            .filter(appointment_id=appointment.pk)
            .first()
        )
        if record is None:
            record = TreatmentRecord(appointment=appointment, client_id=client_id, created_by=user)
        elif record.is_signed:
            raise RecordSigned(
                "This record is signed: correct it with an amendment and a reason.",
                field="reason",
            )
        if sign:
            record.status = TreatmentRecord.Status.SIGNED
            record.signed_by = user
            record.signed_at = timezone.now()
        _apply(record, cleaned)
        audit(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=f"treatment_record:{record.pk}",
            fields=[*CONTENT_FIELDS, *(["signature"] if sign else [])],
            client_id=record.client_id,
            via=via,
        )
    return record


def treatment_record_amend(
    *,
    actor: Actor,
    record: TreatmentRecord,
    content: Mapping[str, Any],
    reason: str,
    via: str = "staff",
) -> TreatmentRecordAmendment:
    """Correct a signed record. The amendment keeps the whole previous content, who amended,
    when and why; the record shows the corrected content.

    Raises PermissionDenied, ValidationFailed (no reason, nothing changed, bad content, a
    field a signed record needs left empty, or the record is still a draft, which is saved
    with ``treatment_record_save`` instead)."""
    label = f"treatment_record:{record.pk}"
    require_clinical_access(
        actor=actor, client_id=record.client_id, record=label, fields=CONTENT_FIELDS, via=via
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the record is being corrected.", field="reason")
    appointment = record.appointment
    cleaned = record_content_clean(content, treated_on=appointment.local_start.date())
    missing = cleaned.missing_for_signature()
    if missing:
        raise ValidationFailed(
            "A signed record needs this.", field=missing[0], extra={"missing": missing}
        )
    with transaction.atomic():
        locked = TreatmentRecord.objects.select_for_update().get(pk=record.pk)
        if not locked.is_signed:
            raise ValidationFailed(
                "This record is still a draft: save it instead of amending it.", field=None
            )
        before = record_content_of(locked)
        changed = [
            name for name in CONTENT_FIELDS if getattr(before, name) != getattr(cleaned, name)
        ]
        if not changed:
            raise ValidationFailed("Nothing was changed.", field=None)
        amendment = TreatmentRecordAmendment.objects.create(
            record=locked,
            number=locked.revision + 1,
            reason=reason[:2000],
            changed_fields=changed,
            previous=_snapshot(locked),
            amended_by=staff_user(actor),
            amended_at=timezone.now(),
        )
        locked.revision += 1
        _apply(locked, cleaned)
        audit(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=label,
            fields=[*changed, "amendment"],
            client_id=locked.client_id,
            via=via,
        )
    record.refresh_from_db()
    return amendment


def signed_record_blocker(appointment: Appointment) -> CompletionBlocker | None:
    """The completion guard records registers with bookings: a treatment needs a signed
    record before it is completed."""
    if appointment.service.kind != Service.Kind.TREATMENT:
        return None
    if TreatmentRecord.objects.filter(
        appointment_id=appointment.pk, status=TreatmentRecord.Status.SIGNED
    ).exists():
        return None
    return CompletionBlocker(
        code=Refusal.NEEDS_SIGNED_RECORD,
        message="Sign the treatment record before marking the visit completed.",
    )
