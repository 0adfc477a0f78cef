from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from bookings.models import HealthRecheck, ScreeningQuestion
from bookings.tokens import manage_token_for
from tests.consultations.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def consultation(book_consultation, client_person):
    return book_consultation(client_person).consultation


def form_answers(**overrides: str) -> dict[str, str]:
    answers = {
        question.key: "no" if question.answer_type == "yes_no" else ""
        for question in ScreeningQuestion.objects.filter(is_active=True)
    }
    return answers | overrides


def test_the_screening_page_shows_every_active_question(client, consultation):
    response = client.get(f"/b/{manage_token_for(consultation.appointment)}/screening/")
    assert response.status_code == 200
    page = response.content.decode()
    for question in ScreeningQuestion.objects.filter(is_active=True):
        assert f'name="{question.key}"' in page


def test_submitting_the_form_thanks_the_client(client, consultation):
    response = client.post(
        f"/b/{manage_token_for(consultation.appointment)}/screening/", form_answers()
    )
    assert response.status_code == 200
    assert "your answers are with your practitioner" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.submitted_at is not None


def test_an_absolute_contraindication_is_explained_kindly_not_rejected(client, consultation):
    response = client.post(
        f"/b/{manage_token_for(consultation.appointment)}/screening/",
        form_answers(pregnant_or_breastfeeding="yes"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "may not be the right treatment" in page
    assert "alternatives" in page
    assert "still booked" in page
    consultation.appointment.refresh_from_db()
    assert consultation.appointment.status == "booked"


def test_a_missing_answer_is_shown_next_to_its_question(client, consultation):
    answers = form_answers()
    answers.pop("keloid_scarring")
    response = client.post(f"/b/{manage_token_for(consultation.appointment)}/screening/", answers)
    assert response.status_code == 422
    assert 'id="q-keloid_scarring-error"' in response.content.decode()


def test_a_tampered_link_explains_itself(client, location):
    response = client.get("/b/not-a-token/screening/")
    assert response.status_code == 404
    assert "link" in response.content.decode()


@pytest.fixture
def later_session(book_consultation, book_treatment, clear, client_person, clock):
    clear(book_consultation(client_person))
    first = book_treatment(client_person, at(10))
    second = book_treatment(client_person, at(10, day=date(2027, 1, 4)))
    first.status = "completed"
    first.save(update_fields=["status"])
    clock.move_to(at(12, day=date(2027, 1, 4) - timedelta(days=2)))
    return second


def test_recheck_page_records_that_something_changed(client, later_session):
    url = reverse("site-recheck", args=[manage_token_for(later_session)])
    assert client.get(url).status_code == 200
    response = client.post(url, {"changed": "yes"})
    assert response.status_code == 200
    assert "Your practitioner will look at this" in response.content.decode()
    assert HealthRecheck.objects.get(appointment=later_session).needs_review is True


def test_recheck_page_needs_an_answer(client, later_session):
    response = client.post(reverse("site-recheck", args=[manage_token_for(later_session)]), {})
    assert response.status_code == 422
    assert not HealthRecheck.objects.filter(appointment=later_session).exists()


def test_the_recheck_page_is_also_reached_from_the_manage_link(client, later_session):
    response = client.post(f"/b/{manage_token_for(later_session)}/recheck/", {"changed": "no"})
    assert response.status_code == 200
    recheck = HealthRecheck.objects.get(appointment=later_session)
    assert (recheck.changed, recheck.via) == (False, "link")
