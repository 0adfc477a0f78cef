"""Money: what a clinic asks for (policy), what the client agreed to (terms, stored with the
booking), and every charge and refund as a row before it is a Stripe call.

Amounts are integers in the currency's minor unit (pence, cents); the currency is the policy's
(one per location). The idempotency key of a row is derived from its primary key, so a retried
call for the same row can never charge or refund twice at Stripe.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from bookings.models import Appointment, Client
from clinic.models import Location, Service


class DepositRule(models.TextChoices):
    KEEP = "keep", "Kept"
    REFUND = "refund", "Refunded"


class PaymentPolicy(models.Model):
    """What the clinic asks for a service at a location (or at every location when
    ``location`` is empty): a deposit online, a card kept on file, and the fees."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="payment_policies")
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="payment_policies",
        help_text="Empty: every location",
    )
    currency = models.CharField(
        max_length=3,
        default="gbp",
        validators=[RegexValidator(r"^[a-z]{3}$", "A lower-case ISO 4217 code, e.g. gbp")],
    )
    deposit_amount = models.PositiveIntegerField(
        default=0, help_text="Minor units (pence). Used when no percentage is set."
    )
    deposit_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text="Percentage of the service price; overrides the fixed amount",
    )
    keeps_card_on_file = models.BooleanField(
        default=False, help_text="Save the card (with consent) for later fees"
    )
    late_cancel_window_hours = models.PositiveSmallIntegerField(default=48)
    late_cancel_fee = models.PositiveIntegerField(
        default=0, help_text="Minor units, charged to the card on file on top of a kept deposit"
    )
    no_show_fee = models.PositiveIntegerField(
        default=0, help_text="Minor units, charged to the card on file on top of a kept deposit"
    )
    deposit_on_late_cancel = models.CharField(
        max_length=10, choices=DepositRule.choices, default=DepositRule.KEEP
    )
    deposit_on_early_cancel = models.CharField(
        max_length=10, choices=DepositRule.choices, default=DepositRule.REFUND
    )
    deposit_on_no_show = models.CharField(
        max_length=10, choices=DepositRule.choices, default=DepositRule.KEEP
    )
    wording = models.TextField(
        blank=True,
        help_text="Shown to the client before paying; empty: written from the numbers above",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "payment policies"
        constraints = [
            models.UniqueConstraint(
                fields=["service", "location"], name="payment_policy_one_per_service_location"
            ),
            models.UniqueConstraint(
                fields=["service"],
                condition=Q(location__isnull=True),
                name="payment_policy_one_default_per_service",
            ),
        ]

    def __str__(self) -> str:
        where = self.location.name if self.location is not None else "every location"
        return f"{self.service} at {where}"

    def clean(self) -> None:
        """The policy's own rules, for the settings page and the admin alike: a fixed deposit
        no more than the price, a late-cancellation window of at least an hour."""
        from django.core.exceptions import ValidationError

        errors: dict[str, str] = {}
        service = self.service if self.service_id else None
        if service is not None and self.deposit_percent is None and service.price is not None:
            price_minor = int(service.price * 100)
            if price_minor and self.deposit_amount > price_minor:
                errors["deposit_amount"] = "The deposit cannot be more than the price."
        if self.late_cancel_window_hours is not None and self.late_cancel_window_hours < 1:
            errors["late_cancel_window_hours"] = "The window must be at least one hour."
        if errors:
            raise ValidationError(errors)

    @property
    def asks_for_money(self) -> bool:
        """Whether the policy takes a deposit or charges a fee at all."""
        return bool(
            self.deposit_amount
            or self.deposit_percent
            or self.late_cancel_fee
            or self.no_show_fee
            or self.keeps_card_on_file
        )


class PaymentTerms(models.Model):
    """The policy as the client saw and accepted it, kept with the booking (like SMS consent):
    later changes to the policy never change what this booking owes."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="payment_terms"
    )
    currency = models.CharField(max_length=3)
    deposit_amount = models.PositiveIntegerField()
    keeps_card_on_file = models.BooleanField()
    late_cancel_window_hours = models.PositiveSmallIntegerField()
    late_cancel_fee = models.PositiveIntegerField()
    no_show_fee = models.PositiveIntegerField()
    deposit_on_late_cancel = models.CharField(max_length=10, choices=DepositRule.choices)
    deposit_on_early_cancel = models.CharField(max_length=10, choices=DepositRule.choices)
    deposit_on_no_show = models.CharField(max_length=10, choices=DepositRule.choices)
    wording = models.TextField()
    accepted_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "payment terms"

    def __str__(self) -> str:
        return f"Terms of appointment {self.appointment_id}"


class StripeCustomer(models.Model):
    """The client at Stripe, and the card kept on file with the consent they gave."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="stripe_customer")
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    payment_method_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_consent_wording = models.TextField(blank=True)
    card_saved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.stripe_customer_id

    @property
    def has_card_on_file(self) -> bool:
        return bool(self.payment_method_id and self.card_saved_at)


class Payment(models.Model):
    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        LATE_CANCEL_FEE = "late_cancel_fee", "Late-cancellation fee"
        NO_SHOW_FEE = "no_show_fee", "No-show fee"

    class Status(models.TextChoices):
        PENDING = "pending", "Not paid yet"
        REQUIRES_ACTION = "requires_action", "Waiting for the client to authenticate"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Cancelled"
        WAIVED = "waived", "Waived"

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="payments")
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.PositiveIntegerField(help_text="Minor units")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    stripe_payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_payment_method_id = models.CharField(max_length=255, blank=True)
    off_session = models.BooleanField(default=False)
    error_code = models.CharField(max_length=60, blank=True)
    waive_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments_created",
    )
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments_waived",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            # One live charge of a kind per appointment: a double click or a replayed request
            # finds the existing row instead of charging again.
            models.UniqueConstraint(
                fields=["appointment", "kind"],
                condition=Q(status__in=["pending", "requires_action", "processing", "succeeded"]),
                name="payment_one_live_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"aftercare-payment-{self.pk}"

    @property
    def amount_refunded(self) -> int:
        return sum(
            refund.amount
            for refund in self.refunds.all()
            if refund.status in (Refund.Status.PENDING, Refund.Status.SUCCEEDED)
        )


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Sending to Stripe"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField(help_text="Minor units")
    reason = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    error_code = models.CharField(max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Refund {self.amount} of payment {self.payment_id} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"aftercare-refund-{self.pk}"


class StripeEvent(models.Model):
    """Every webhook event received, once: a second delivery of the same id is a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class PaymentAuditEntry(models.Model):
    """Who did what to money, and why (waivers, refunds, fee charges, payment links)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="audit")
    action = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_label = models.CharField(max_length=40)
    reason = models.TextField(blank=True)
    amount = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} on payment {self.payment_id} by {self.actor_label}"


class ReconciliationMismatch(models.Model):
    """A difference between our rows and Stripe's records that the daily reconciliation could
    not resolve by itself; managers see it until someone marks it resolved."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status differs"
        AMOUNT = "amount", "Amount differs"
        UNKNOWN_AT_STRIPE = "unknown_at_stripe", "Stripe has no record of our row"
        UNKNOWN_HERE = "unknown_here", "Stripe has a charge we have no row for"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, null=True, blank=True, related_name="mismatches"
    )
    stripe_id = models.CharField(max_length=255, blank=True)
    detail = models.TextField()
    found_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.stripe_id or self.payment_id}"
