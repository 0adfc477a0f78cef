"""What staff and clients read: labels instead of codes, phone numbers as people write them."""

from __future__ import annotations

import pytest

from clinic.templatetags.phone_format import phone
from tests import factories


@pytest.mark.parametrize(
    ("stored", "region", "shown"),
    [
        ("+442079460000", "GB", "020 7946 0000"),
        ("+447911123456", "GB", "07911 123456"),
        ("+12125550100", "GB", "+1 212-555-0100"),
        ("+442079460000", "US", "+44 20 7946 0000"),
        ("not a number", "GB", "not a number"),
        ("", "GB", ""),
    ],
)
def test_numbers_from_the_clinics_country_are_shown_in_the_national_format(stored, region, shown):
    assert phone(stored, region) == shown


def test_the_appointment_panel_shows_the_consent_method_in_words_and_a_national_number(
    as_reception, consultation
):
    consultation.client.sms_consent_method = "staff_phone"
    consultation.client.phone = "+447911123456"
    consultation.client.save()

    html = as_reception.get(f"/staff/appointments/{consultation.id}/").content.decode()

    assert "Agreed by phone, to staff" in html
    assert "staff_phone" not in html
    assert ">07911 123456<" in html
    assert 'href="tel:+447911123456"' in html


def test_the_client_page_names_a_texted_opt_in(as_reception, consultation):
    client = consultation.client
    client.sms_consent_method = "sms_start"
    client.save()

    html = as_reception.get(f"/staff/clients/{client.id}/").content.decode()

    assert "by texting START" in html
    assert "(sms_start)" not in html


def test_the_booking_site_shows_the_clinic_number_in_the_national_format(client, db):
    factories.LocationFactory(phone="+442079460000", country="GB")

    html = client.get("/book/").content.decode()

    assert "Call 020 7946 0000" in html
    assert "+442079460000</a>" not in html


def test_the_calendar_formats_dates_in_the_locations_locale(as_reception, practitioner):
    import json
    import re

    html = as_reception.get("/staff/").content.decode()
    config = json.loads(
        re.search(r'<script id="calendar-config" type="application/json">(.*?)</script>', html)[1]
    )

    assert config["locale"] == "en-GB"
