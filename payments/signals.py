"""What payments announces. ``reminders`` texts the link (the outbox is its job).

``payment_link_requested``: payment=<Payment>, link=<absolute URL of the pay page>, sent inside
the transaction that records the request, so the text commits with it. The body never names the
treatment."""

from __future__ import annotations

from django.dispatch import Signal

payment_link_requested = Signal()
