from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from bookings.signals import phone_verification_requested

# A Monday morning in London (GMT), before the practitioner's 09:00 start.
MONDAY = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
PHONE = "+447911123456"


@pytest.fixture
def frozen_monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sent_codes():
    """Codes sent through the phone_verification_requested signal, newest last."""
    codes: list[dict] = []

    def receiver(sender, phone, code, location, **kwargs):
        codes.append({"phone": phone, "code": code, "location": location})

    phone_verification_requested.connect(receiver, weak=False)
    yield codes
    phone_verification_requested.disconnect(receiver)
