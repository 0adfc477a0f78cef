"""Concurrent code requests for one phone on PostgreSQL: the limit holds under a race."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from bookings.models import PhoneVerification
from bookings.services.verification import verification_start
from clinic.errors import ApplicationError

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
REQUESTS = 6


def test_simultaneous_code_requests_for_one_phone_send_one_code():
    everyone_ready = threading.Barrier(REQUESTS, timeout=20)

    def ask(index: int) -> str:
        try:
            everyone_ready.wait()
            verification_start(phone="+447911123456", ip=f"198.51.100.{index}")
            return "sent"
        except ApplicationError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        outcomes = list(pool.map(ask, range(REQUESTS)))

    assert outcomes.count("sent") == 1, outcomes
    assert PhoneVerification.objects.filter(phone="+447911123456").count() == 1
