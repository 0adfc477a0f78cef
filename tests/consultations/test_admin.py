from __future__ import annotations

import pytest

from bookings.models import ApiToken, HealthDataAccess, ScreeningQuestion
from bookings.services.api_tokens import api_token_authenticate

pytestmark = pytest.mark.django_db


@pytest.fixture
def consultation(book_consultation, client_person):
    return book_consultation(client_person).consultation


def admin_login(client, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)


def test_practitioner_opens_a_consultation_in_the_admin_and_it_is_audited(
    client, practitioner_user, consultation
):
    admin_login(client, practitioner_user)
    response = client.get(f"/admin/bookings/consultation/{consultation.pk}/change/")
    assert response.status_code == 200
    row = HealthDataAccess.objects.get(consultation=consultation)
    assert (row.action, row.via, row.actor) == ("read", "admin", practitioner_user)


def test_reception_cannot_open_consultations_in_the_admin(client, reception, consultation):
    admin_login(client, reception)
    assert client.get(f"/admin/bookings/consultation/{consultation.pk}/change/").status_code == 403
    assert client.get("/admin/bookings/consultation/").status_code == 403
    assert not HealthDataAccess.objects.exists()


def test_changing_a_questions_wording_bumps_its_version(client, django_user_model):
    superuser = django_user_model.objects.create_superuser(
        "root", "root@clinic.test", "pw-root-123"
    )
    client.force_login(superuser)
    question = ScreeningQuestion.objects.get(key="under_18")
    url = f"/admin/bookings/screeningquestion/{question.pk}/change/"
    rules = question.rules.all()
    data = {
        "key": question.key,
        "text": "Are you younger than 18?",
        "help_text": "",
        "answer_type": "yes_no",
        "choices": "[]",
        "is_required": "on",
        "order": question.order,
        "is_active": "on",
        "applies_to_kinds": "[]",
        "rules-TOTAL_FORMS": str(rules.count()),
        "rules-INITIAL_FORMS": str(rules.count()),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for index, rule in enumerate(rules):
        data |= {
            f"rules-{index}-id": rule.pk,
            f"rules-{index}-question": question.pk,
            f"rules-{index}-answer": rule.answer,
            f"rules-{index}-flag": rule.flag,
            f"rules-{index}-wait_days": rule.wait_days or "",
            f"rules-{index}-note": rule.note,
        }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    assert (question.text, question.version) == ("Are you younger than 18?", 2)


def test_creating_a_token_in_the_admin_shows_it_once_and_revoking_stops_it(
    client, django_user_model, manager
):
    superuser = django_user_model.objects.create_superuser(
        "root", "root@clinic.test", "pw-root-123"
    )
    client.force_login(superuser)
    response = client.post(
        "/admin/bookings/apitoken/add/", {"user": manager.pk, "name": "zapier"}, follow=True
    )
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    raw_token = next(
        word for message in shown for word in message.split() if word.startswith("ac_")
    )
    token = ApiToken.objects.get(user=manager)
    assert api_token_authenticate(raw_token=raw_token) == manager
    page = client.get(f"/admin/bookings/apitoken/{token.pk}/change/").content.decode()
    assert raw_token not in page
    client.post(
        "/admin/bookings/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert api_token_authenticate(raw_token=raw_token) is None
