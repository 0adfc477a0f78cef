from __future__ import annotations

from datetime import time

import pytest

from payments.models import PaymentPolicy
from tests import factories
from tests.conftest import REQUIRE_SERVICES
from tests.stripe_fake import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, start_localstripe


@pytest.fixture(scope="session")
def _localstripe_process():
    try:
        server = start_localstripe()
    except (RuntimeError, OSError) as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"localstripe could not start: {error}")
        pytest.skip(f"localstripe could not start: {error}")
    yield server
    server.stop()


@pytest.fixture
def localstripe(_localstripe_process, settings):
    """A clean localstripe, and the app pointed at it (``STRIPE_API_BASE``)."""
    _localstripe_process.flush()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = _localstripe_process.url
    settings.STRIPE_JS_URL = f"{_localstripe_process.url}/js.stripe.com/v3/"
    settings.STRIPE_JS_ORIGIN = _localstripe_process.url
    settings.STRIPE_API_ORIGIN = _localstripe_process.url
    settings.PUBLIC_BASE_URL = "https://clinic.example"
    return _localstripe_process


@pytest.fixture
def peel(location, room):
    """A treatment that needs no consultation, £180 with a £50 deposit and a card on file."""
    service = factories.ServiceFactory(
        name="Glow peel",
        slug="glow-peel",
        kind="treatment",
        duration_minutes=60,
        requires_consultation=False,
        price=180,
    )
    service.rooms.add(room)
    practitioner = factories.PractitionerFactory(display_name="Pat Lee")
    practitioner.locations.add(location)
    practitioner.services.add(service)
    for weekday in range(7):
        factories.WorkingHoursFactory(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            start_time=time(8),
            end_time=time(20),
        )
    return service


@pytest.fixture
def peel_policy(peel, location):
    return PaymentPolicy.objects.create(
        service=peel,
        location=location,
        currency="gbp",
        deposit_amount=5000,
        keeps_card_on_file=True,
        late_cancel_window_hours=48,
        late_cancel_fee=2000,
        no_show_fee=3000,
    )
