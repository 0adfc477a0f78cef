"""Copy the booking site must not repeat (issue 17): each phrase once on the page that says
it. These fail if a duplicate comes back ("Course of 3" next to "a course of 3 sessions",
"Thank you" then "Thank you —", "Free" twice, "Possible from <date>" under the friendly
sentence, "for 9:59 more minutes")."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from bookings.models import HealthRecheck, ScreeningQuestion
from bookings.tokens import manage_token_for
from tests.consultations.conftest import at
from tests.consultations.test_site_form import book_on_the_site

pytestmark = pytest.mark.django_db


def visible_text(html: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def count(phrase: str, html: str) -> int:
    return len(re.findall(rf"\b{re.escape(phrase)}\b", visible_text(html), flags=re.I))


def test_the_start_page_names_the_course_once(client, location, treatment_service, practitioner):
    html = client.get(reverse("site-book")).content.decode()
    assert "a course of 3 sessions" in visible_text(html)
    assert count("course of 3", html) == 1


def test_the_consultation_first_page_says_free_once(
    client, location, treatment_service, consultation_service, practitioner
):
    url = reverse("site-times", args=[location.slug, treatment_service.slug])
    html = client.get(url, {"consulted": "no"}).content.decode()
    assert "Let's start with a consultation" in html
    assert count("free", html) == 1


def test_the_booking_details_page_gives_the_hold_as_a_time_not_more_minutes(
    client, location, consultation_service, practitioner
):
    client.post(
        reverse("site-hold", args=[location.slug, consultation_service.slug]),
        {"start": at(10).isoformat()},
    )
    html = client.get(reverse("site-details")).content.decode()
    assert "holding this time for you until" in html
    assert "more minutes" not in visible_text(html)


@pytest.fixture
def sent_codes():
    from bookings.signals import phone_verification_requested

    codes: list[str] = []

    def receiver(sender, phone, code, location, **kwargs):
        codes.append(code)

    phone_verification_requested.connect(receiver, weak=False)
    yield codes
    phone_verification_requested.disconnect(receiver)


def test_a_refusal_for_a_later_date_says_it_once_in_words(
    client, location, treatment_service, book_consultation, clear, client_person, sent_codes
):
    client_person.first_name, client_person.last_name = "Maya", "Okafor"
    client_person.phone = "+447911123456"
    client_person.save()
    clear(book_consultation(client_person), not_before=date(2026, 12, 31))
    response = book_on_the_site(client, location, treatment_service, sent_codes)
    html = response.content.decode()
    assert "Please choose another date" in html
    assert "Possible from" not in html
    assert "2026-12-31" not in visible_text(html)
    assert count("thank you", html) <= 1


def test_the_consultation_first_refusal_thanks_once_and_says_free_once(
    client,
    location,
    treatment_service,
    consultation_service,
    practitioner,
    client_person,
    sent_codes,
):
    client_person.first_name, client_person.last_name = "Maya", "Okafor"
    client_person.phone = "+447911123456"
    client_person.save()
    html = book_on_the_site(client, location, treatment_service, sent_codes).content.decode()
    assert "Book your consultation first" in html
    assert count("thank you", html) == 1
    assert count("free", html) == 1


def test_the_screening_and_recheck_confirmations_thank_once(
    client, rf, book_consultation, client_person
):
    appointment = book_consultation(client_person)
    answers = {
        question.key: "no" if question.answer_type == "yes_no" else ""
        for question in ScreeningQuestion.objects.filter(is_active=True)
    }
    done = client.post(f"/b/{manage_token_for(appointment)}/screening/", answers)
    assert done.status_code == 200
    assert count("thank you", done.content.decode()) == 1

    for changed in (False, True):
        html = render_to_string(
            "bookings/screening/recheck_done.html",
            {
                "appointment": appointment,
                "location": appointment.location,
                "recheck": HealthRecheck(changed=changed),
            },
            request=rf.get("/"),
        )
        assert count("thank you", html) + count("thanks", html) <= 1
