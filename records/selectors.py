"""Reading treatment records: one session's record, a client's course side by side, the lots
that may be chosen, and who was treated with a product. Every read of record content or
photos is permission-checked and audited here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Prefetch, Q

from bookings.models import Appointment, Client, HealthDataAccess
from clinic import roles
from clinic.errors import NotFound, PermissionDenied
from clinic.models import Service
from clinic.roles import Actor
from records.access import audit, require_clinical_access
from records.models import (
    CourseRating,
    Product,
    ProductLot,
    Recall,
    RecallRecipient,
    TreatmentPhoto,
    TreatmentRecord,
    TreatmentRecordAmendment,
)
from records.services.treatment_records import CONTENT_FIELDS, session_client_id

# Sessions shown on a course page: the ones that happened or are still to come.
COURSE_STATUSES = (
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.ARRIVED,
    Appointment.Status.COMPLETED,
)


def lots_selectable(*, on: date) -> list[ProductLot]:
    """Lots of active products that had not expired on ``on`` (an expired lot is not offered;
    the service refuses one anyway)."""
    return list(
        ProductLot.objects.select_related("product")
        .filter(product__is_active=True, expires_on__gte=on)
        .order_by("product__kind", "product__name", "expires_on")
    )


def _records_with_detail():
    return TreatmentRecord.objects.select_related(
        "signed_by", "appointment__practitioner", "appointment__service", "appointment__location"
    ).prefetch_related(
        "product_uses__lot__product",
        Prefetch(
            "amendments", queryset=TreatmentRecordAmendment.objects.select_related("amended_by")
        ),
        "photos",
    )


def treatment_record_read(
    *, actor: Actor, appointment: Appointment, via: str = "staff"
) -> TreatmentRecord | None:
    """The record of a session (None before one is started), audited. Raises PermissionDenied
    for anyone without a clinical role."""
    require_clinical_access(
        actor=actor,
        client_id=session_client_id(appointment),
        record=f"treatment_record:appointment:{appointment.pk}",
        fields=CONTENT_FIELDS,
        via=via,
    )
    record = _records_with_detail().filter(appointment_id=appointment.pk).first()
    if record is not None:
        audit(
            actor=actor,
            action=HealthDataAccess.Action.READ,
            record=f"treatment_record:{record.pk}",
            fields=[*CONTENT_FIELDS, "amendments", "photos"],
            client_id=record.client_id,
            via=via,
        )
    return record


def treatment_record_by_id(
    *, actor: Actor, record_id: int, via: str = "staff"
) -> TreatmentRecord | None:
    record = TreatmentRecord.objects.select_related("appointment").filter(pk=record_id).first()
    if record is None:
        return None
    return treatment_record_read(actor=actor, appointment=record.appointment, via=via)


@dataclass
class CourseSession:
    appointment: Appointment
    number: int
    record: TreatmentRecord | None
    photos: dict[tuple[str, str], TreatmentPhoto] = field(default_factory=dict)


@dataclass
class CourseView:
    client: Client
    service: Service
    sessions: list[CourseSession]
    angles: list[tuple[str, str]]  # (stage, angle) rows that at least one session has
    ratings: list[CourseRating]

    @property
    def latest_rating(self) -> CourseRating | None:
        return self.ratings[0] if self.ratings else None


def course_for_client(
    *, actor: Actor, client: Client, service: Service, via: str = "staff"
) -> CourseView:
    """A client's course of one service: every session in order, with its record, settings
    and photos by stage and angle (for the side-by-side comparison), and the client's ratings.
    Audited as one read of the client's records. Raises PermissionDenied."""
    require_clinical_access(
        actor=actor,
        client_id=client.pk,
        record=f"course:{client.pk}:{service.pk}",
        fields=[*CONTENT_FIELDS, "photos"],
        via=via,
    )
    appointments = list(
        Appointment.objects.filter(client=client, service=service, status__in=COURSE_STATUSES)
        .select_related("practitioner", "location", "service")
        .order_by("start_at")
    )
    records = {
        record.appointment_id: record
        for record in _records_with_detail().filter(appointment__in=appointments)
    }
    sessions = []
    rows: set[tuple[str, str]] = set()
    for number, appointment in enumerate(appointments, start=1):
        record = records.get(appointment.pk)
        session = CourseSession(appointment=appointment, number=number, record=record)
        if record is not None:
            for photo in sorted(record.photos.all(), key=lambda p: p.uploaded_at):
                # The latest photo of a stage and angle is the one compared.
                session.photos[(photo.stage, photo.angle)] = photo
                rows.add((photo.stage, photo.angle))
        sessions.append(session)
    stage_order = {value: index for index, value in enumerate(TreatmentPhoto.Stage.values)}
    angle_order = {value: index for index, value in enumerate(TreatmentPhoto.Angle.values)}
    audit(
        actor=actor,
        action=HealthDataAccess.Action.READ,
        record=f"course:{client.pk}:{service.pk}",
        fields=[*CONTENT_FIELDS, "photos"],
        client_id=client.pk,
        via=via,
    )
    return CourseView(
        client=client,
        service=service,
        sessions=sessions,
        angles=sorted(rows, key=lambda row: (angle_order[row[1]], stage_order[row[0]])),
        ratings=list(CourseRating.objects.filter(client=client, service=service)),
    )


@dataclass(frozen=True)
class TreatedClient:
    client: Client
    appointment: Appointment  # the latest matching session
    treated_on: date
    lot_numbers: tuple[str, ...]


def clients_treated_with(
    *,
    product_id: int,
    lot_id: int | None = None,
    treated_from: date | None = None,
    treated_to: date | None = None,
) -> list[TreatedClient]:
    """Every client whose session record lists the product (that lot, if given), in sessions
    that started between the dates (inclusive, clinic-local days), latest session first per
    client. Cancelled sessions never had products applied and are left out."""
    uses = Q(product_uses__lot__product_id=product_id)
    if lot_id is not None:
        uses &= Q(product_uses__lot_id=lot_id)
    records = (
        TreatmentRecord.objects.filter(uses)
        .exclude(appointment__status__in=[Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW])
        .select_related("client", "appointment__location")
        .prefetch_related("product_uses__lot")
        .order_by("client_id", "-appointment__start_at")
        .distinct()
    )
    found: dict[int, TreatedClient] = {}
    for record in records:
        treated_on = record.appointment.local_start.date()
        if treated_from and treated_on < treated_from:
            continue
        if treated_to and treated_on > treated_to:
            continue
        if record.client_id in found:
            continue
        lots = tuple(
            sorted(
                use.lot.lot_number
                for use in record.product_uses.all()
                if use.lot.product_id == product_id and (lot_id is None or use.lot_id == lot_id)
            )
        )
        found[record.client_id] = TreatedClient(record.client, record.appointment, treated_on, lots)
    return sorted(found.values(), key=lambda row: (row.treated_on, row.client.pk))


def _require_manager_audited(*, actor: Actor, record: str, via: str) -> None:
    if not roles.has_role(actor, roles.MANAGER):
        if roles.is_staff_member(actor):
            audit(
                actor=actor,
                action=HealthDataAccess.Action.DENIED,
                record=record,
                fields=["recipients"],
                client_id=None,
                via=via,
            )
        raise PermissionDenied("Only managers can see product recalls.")


@dataclass(frozen=True)
class RecallSummary:
    recall: Recall
    recipients: int
    notified: int
    replied: int


def recalls_list(*, actor: Actor) -> list[RecallSummary]:
    """Every recall, newest first, with how many clients it names, were notified and replied.
    Managers only."""
    _require_manager_audited(actor=actor, record="recalls", via="staff")
    recalls = Recall.objects.select_related("product", "lot", "created_by").annotate(
        recipient_count=Count("recipients"),
        queued_count=Count("recipients", filter=Q(recipients__notice_queued_at__isnull=False)),
        replied_count=Count("recipients", filter=Q(recipients__replied_at__isnull=False)),
    )
    return [
        RecallSummary(
            recall=recall,
            recipients=recall.recipient_count,
            notified=recall.queued_count,
            replied=recall.replied_count,
        )
        for recall in recalls
    ]


def recall_read(*, actor: Actor, recall_id: int, via: str = "staff") -> Recall:
    """One recall with its recipients (clients, their session, notice and reply), audited as
    a read of who was treated with the product. Managers only. Raises NotFound."""
    _require_manager_audited(actor=actor, record=f"recall:{recall_id}", via=via)
    recall = (
        Recall.objects.select_related("product", "lot", "created_by")
        .prefetch_related(
            Prefetch(
                "recipients",
                queryset=RecallRecipient.objects.select_related(
                    "client", "appointment__practitioner", "appointment__location"
                ).order_by("treated_on", "id"),
            )
        )
        .filter(pk=recall_id)
        .first()
    )
    if recall is None:
        raise NotFound("No such recall.")
    audit(
        actor=actor,
        action=HealthDataAccess.Action.READ,
        record=f"recall:{recall.pk}",
        fields=["recipients"],
        client_id=None,
        via=via,
    )
    return recall


def products_for_recall() -> list[Product]:
    return list(Product.objects.prefetch_related("lots").order_by("name"))
