"""Dates and times in inputs follow the location's convention, not the browser's: a UK clinic
types and reads 01/12/2026 and 14:30 whatever the laptop's language (issue 17). Pages render
text inputs with a visible format; views read the same format back (and ISO, for links)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path

import pytest
from django.conf import settings

from clinic.parsing import (
    input_locale,
    local_date_or_none,
    local_datetime_or_none,
    local_time_or_none,
)
from clinic.templatetags.local_inputs import date_input, datetime_input, time_input
from tests.workspace.conftest import at

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("typed", "region", "meant"),
    [
        ("01/12/2026", "GB", date(2026, 12, 1)),
        ("1/12/2026", "GB", date(2026, 12, 1)),
        ("01.12.2026", "DE", date(2026, 12, 1)),
        ("01-12-2026", "GB", date(2026, 12, 1)),
        ("12/01/2026", "US", date(2026, 12, 1)),
        ("2026-12-01", "GB", date(2026, 12, 1)),
        ("2026-12-01", "US", date(2026, 12, 1)),
        (" 01/12/2026 ", None, date(2026, 12, 1)),
        ("31/02/2026", "GB", None),
        ("12/31/2026", "GB", None),
        ("01/12/26", "GB", None),
        ("01/12/9999", "GB", None),
        ("tomorrow", "GB", None),
        ("０1/12/2026", "GB", None),
        ("", "GB", None),
    ],
)
def test_dates_are_read_in_the_locations_order(typed, region, meant):
    assert local_date_or_none(typed, region=region) == meant


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("14:30", time(14, 30)),
        ("9:05", time(9, 5)),
        ("14.30", time(14, 30)),
        ("2:30 pm", time(14, 30)),
        ("2:30PM", time(14, 30)),
        ("2pm", time(14, 0)),
        ("12 am", time(0, 0)),
        ("12:15 p.m.", time(12, 15)),
        ("24:00", None),
        ("13:00 pm", None),
        ("14", None),
        ("14:60", None),
        ("", None),
    ],
)
def test_times_are_read_on_either_clock(typed, meant):
    assert local_time_or_none(typed) == meant


@pytest.mark.parametrize(
    ("typed", "region", "meant"),
    [
        ("02/12/2026 14:30", "GB", datetime(2026, 12, 2, 14, 30)),  # noqa: DTZ001
        ("02/12/2026, 2:30 pm", "GB", datetime(2026, 12, 2, 14, 30)),  # noqa: DTZ001
        ("12/02/2026 2:30 pm", "US", datetime(2026, 12, 2, 14, 30)),  # noqa: DTZ001
        ("2026-12-02T14:30", "GB", datetime(2026, 12, 2, 14, 30)),  # noqa: DTZ001
        ("2026-12-02T14:30:00", "GB", datetime(2026, 12, 2, 14, 30)),  # noqa: DTZ001
        ("02/12/2026", "GB", None),
        ("02/12/2026 25:00", "GB", None),
    ],
)
def test_a_date_and_time_is_read_as_typed_or_iso(typed, region, meant):
    assert local_datetime_or_none(typed, region=region) == meant


def test_the_uk_writes_day_first_on_a_24_hour_clock_and_the_us_does_not():
    uk, us = input_locale("GB"), input_locale("US")
    moment = datetime(2026, 12, 2, 14, 30)  # noqa: DTZ001
    assert uk.format_datetime(moment) == "02/12/2026 14:30"
    assert us.format_datetime(moment) == "12/02/2026 2:30 pm"
    assert (uk.date_hint, us.date_hint) == ("dd/mm/yyyy", "mm/dd/yyyy")


def test_the_inputs_are_text_with_a_visible_format_and_an_iso_value_is_shown_the_uk_way():
    html = str(date_input("from", "2026-12-01", "GB", id="from"))
    assert 'type="text" inputmode="numeric"' in html
    assert 'value="01/12/2026"' in html
    assert 'aria-describedby="from-hint"' in html
    hint = re.sub(r"<[^>]+>", "", html.split('id="from-hint">', 1)[1])
    assert hint == "For example 01/12/2026 (dd/mm/yyyy)"
    assert 'value="14:30"' in str(time_input("at", time(14, 30), "GB"))
    assert 'value="02/12/2026 09:15"' in str(datetime_input("start", "2026-12-02T09:15", "GB"))
    # What someone typed wrongly is shown back as typed, to correct.
    assert 'value="31/31/2026"' in str(date_input("from", "31/31/2026", "GB"))


def test_no_template_uses_a_native_date_or_time_input():
    templates = Path(settings.BASE_DIR) / "templates"
    native = re.compile(r"""type=["']?(date|time|datetime-local|month|week)\b""")
    offenders = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if native.search(path.read_text())
    ]
    assert offenders == []


# --- round trips through the pages ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_move_typed_the_uk_way_lands_at_that_wall_clock_time(as_reception, consultation):
    panel = as_reception.get(f"/staff/appointments/{consultation.id}/", **HTMX).content.decode()
    assert 'value="02/12/2026 10:00"' in panel
    response = as_reception.post(
        f"/staff/appointments/{consultation.id}/move/", {"start": "02/12/2026 14:15"}, **HTMX
    )
    assert response.status_code == 200
    consultation.refresh_from_db()
    assert consultation.start_at == at(14, 15)
    moved = as_reception.get(f"/staff/appointments/{consultation.id}/", **HTMX).content.decode()
    assert 'value="02/12/2026 14:15"' in moved


@pytest.mark.django_db
def test_a_date_of_birth_typed_day_first_is_stored_and_shown_back(
    as_reception, client_person, location
):
    url = f"/staff/clients/{client_person.id}/edit/"
    response = as_reception.post(
        url,
        {
            "first_name": client_person.first_name,
            "last_name": client_person.last_name,
            "email": "",
            "date_of_birth": "03/04/1990",
            "notes": "",
            "alert": "",
        },
    )
    assert response.status_code == 302
    client_person.refresh_from_db()
    assert client_person.date_of_birth == date(1990, 4, 3)
    assert 'value="03/04/1990"' in as_reception.get(url).content.decode()


@pytest.mark.django_db
def test_a_date_of_birth_in_the_wrong_format_names_the_field(as_reception, client_person, location):
    response = as_reception.post(
        f"/staff/clients/{client_person.id}/edit/",
        {"first_name": "Maya", "date_of_birth": "1990/04/03"},
    )
    assert response.status_code == 422
    assert 'data-error-field="date_of_birth"' in response.content.decode()
    client_person.refresh_from_db()
    assert client_person.date_of_birth is None


@pytest.mark.django_db
def test_the_outbox_range_reads_and_shows_uk_dates(as_manager, location):
    response = as_manager.get("/staff/outbox/", {"from": "01/11/2026", "to": "30/11/2026"})
    assert response.status_code == 200
    assert response.context["start_on"] == date(2026, 11, 1)
    html = response.content.decode()
    assert 'value="01/11/2026"' in html
    assert 'value="30/11/2026"' in html
