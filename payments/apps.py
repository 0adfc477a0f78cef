from __future__ import annotations

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from bookings.checkout import (
            register_cancellation_notice,
            register_checkout_step,
            register_price_note,
        )
        from clinic.pricing import register_deposit_lookup
        from payments import receivers
        from payments.services.cancellations import cancellation_notice
        from payments.services.deposits import checkout_step
        from payments.services.policies import catalogue_deposit, price_note

        receivers.connect()
        register_checkout_step("payments.deposit", checkout_step)
        register_cancellation_notice("payments.cancellation", cancellation_notice)
        register_price_note("payments.deposit", price_note)
        register_deposit_lookup(catalogue_deposit)
