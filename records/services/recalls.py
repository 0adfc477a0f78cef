"""Product-lot recalls: a manager names a product and lot (or a date range), and every client
treated with it becomes a recipient whose notice and reply are tracked. Sending the notices is
the outbox's job (``reminders.services.recalls``), which records here what it queued."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from bookings.models import Client
from clinic import roles
from clinic.errors import ValidationFailed
from clinic.roles import Actor
from records.access import staff_user
from records.models import Product, ProductLot, Recall, RecallRecipient
from records.selectors import clients_treated_with


def recall_create(
    *,
    actor: Actor,
    product_id: int | None,
    lot_id: int | None = None,
    treated_from: date | None = None,
    treated_to: date | None = None,
    reason: str,
    client_instructions: str,
) -> Recall:
    """Open a recall and list its recipients (one per client, with their latest matching
    session). Raises PermissionDenied (managers only), ValidationFailed naming the field."""
    roles.require_role(actor, roles.MANAGER)
    product = Product.objects.filter(pk=product_id).first() if product_id else None
    if product is None:
        raise ValidationFailed("Choose the recalled product.", field="product")
    lot = None
    if lot_id:
        lot = ProductLot.objects.filter(pk=lot_id, product=product).first()
        if lot is None:
            raise ValidationFailed("Choose a lot of this product.", field="lot")
    if lot is None and treated_from is None and treated_to is None:
        raise ValidationFailed("Give the lot, or the dates the product was used.", field="lot")
    if treated_from and treated_to and treated_from > treated_to:
        raise ValidationFailed("The first date must be before the last.", field="treated_to")
    reason = (reason or "").strip()
    client_instructions = (client_instructions or "").strip()
    if not reason:
        raise ValidationFailed("Say why the product is recalled.", field="reason")
    if not client_instructions:
        raise ValidationFailed("Tell clients what to do.", field="client_instructions")
    treated = clients_treated_with(
        product_id=product.pk,
        lot_id=lot.pk if lot else None,
        treated_from=treated_from,
        treated_to=treated_to,
    )
    with transaction.atomic():
        recall = Recall.objects.create(
            product=product,
            lot=lot,
            treated_from=treated_from,
            treated_to=treated_to,
            reason=reason[:4000],
            client_instructions=client_instructions[:2000],
            created_by=staff_user(actor),
        )
        RecallRecipient.objects.bulk_create(
            [
                RecallRecipient(
                    recall=recall,
                    client=row.client,
                    appointment=row.appointment,
                    treated_on=row.treated_on,
                )
                for row in treated
            ]
        )
    return recall


def recall_recipient_mark_queued(*, recipient_id: int, now: datetime) -> bool:
    """The outbox queued this recipient's notice. False if it already had (so it sends once)."""
    return bool(
        RecallRecipient.objects.filter(pk=recipient_id, notice_queued_at__isnull=True).update(
            notice_queued_at=now
        )
    )


def recall_replies_record(*, client: Client, received_at: datetime | None = None) -> int:
    """A text from the client answers every recall notice they were sent and have not yet
    answered. Returns how many were marked replied."""
    received_at = received_at or timezone.now()
    return RecallRecipient.objects.filter(
        client=client,
        notice_queued_at__isnull=False,
        notice_queued_at__lte=received_at,
        replied_at__isnull=True,
    ).update(replied_at=received_at)
