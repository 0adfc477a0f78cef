from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from bookings.models import ApiToken, Appointment, HealthDataAccess
from bookings.services.api_tokens import api_token_create, api_token_revoke
from bookings.tokens import manage_token_for
from tests import factories
from tests.consultations.conftest import at

pytestmark = pytest.mark.django_db


def bearer(raw_token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"}


@pytest.fixture
def consultation(book_consultation, client_person, clock):
    appointment = book_consultation(client_person)
    clock.move_to(appointment.start_at)  # outcomes are recorded from the consultation's start
    return appointment.consultation


def test_public_api_refuses_a_treatment_without_clearance(
    client, treatment_service, location, practitioner
):
    response = client.post(
        "/api/v1/bookings",
        {
            "service": treatment_service.pk,
            "location": location.pk,
            "start": at(10).isoformat(),
            "client": {"first_name": "Ada", "phone": "07911 123456"},
            "sms_consent": True,
            "verification_token": factories.verification_token_for("+447911123456"),
        },
        content_type="application/json",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["error"] == "consultation_required"
    assert response.json()["message"]
    assert not Appointment.objects.filter(service=treatment_service).exists()


def test_bearer_token_authenticates_and_records_last_use(client, practitioner_user, consultation):
    token, raw_token = api_token_create(user=practitioner_user, name="reports")
    response = client.get("/api/v1/staff/consultations", **bearer(raw_token))
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [consultation.pk]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_only_the_hash_of_a_token_is_stored(practitioner_user):
    token, raw_token = api_token_create(user=practitioner_user)
    assert raw_token not in (token.token_hash, token.prefix)
    assert raw_token.startswith(token.prefix)
    assert len(token.token_hash) == 64


def test_revoked_token_is_refused(client, practitioner_user):
    token, raw_token = api_token_create(user=practitioner_user)
    api_token_revoke(token=token)
    response = client.get("/api/v1/staff/consultations", **bearer(raw_token))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


@pytest.mark.parametrize(
    "header", ["Bearer ac_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "ac_whatever"]
)
def test_wrong_or_malformed_credentials_are_refused(client, practitioner_user, header):
    api_token_create(user=practitioner_user)
    response = client.get("/api/v1/staff/consultations", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_anonymous_requests_are_refused(client):
    assert client.get("/api/v1/staff/consultations").status_code == 401


def test_a_token_of_a_user_without_a_staff_role_is_forbidden(client, stranger, practitioner_user):
    token, raw_token = api_token_create(user=practitioner_user)
    practitioner_user.groups.clear()
    response = HttpClient().get("/api/v1/staff/consultations", **bearer(raw_token))
    assert response.status_code == 403


def test_session_auth_works_for_reads(client, reception, consultation):
    client.force_login(reception)
    response = client.get("/api/v1/staff/consultations")
    assert response.status_code == 200


def test_session_auth_needs_a_csrf_token_for_writes(
    practitioner_user, consultation, treatment_service
):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(practitioner_user)
    body = {"outcome": "cleared", "services": [treatment_service.pk], "screened_in_person": True}
    refused = browser.post(
        f"/api/v1/staff/consultations/{consultation.pk}/outcome",
        body,
        content_type="application/json",
    )
    assert refused.status_code == 403
    consultation.refresh_from_db()
    assert consultation.outcome == "pending"

    browser.get("/admin/login/")  # any page that sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        f"/api/v1/staff/consultations/{consultation.pk}/outcome",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["outcome"] == "cleared"


def test_bearer_writes_need_no_csrf(practitioner_user, consultation, treatment_service):
    _, raw_token = api_token_create(user=practitioner_user)
    response = HttpClient(enforce_csrf_checks=True).post(
        f"/api/v1/staff/consultations/{consultation.pk}/outcome",
        {
            "outcome": "cleared",
            "services": [treatment_service.pk],
            "notes": "ok",
            "screened_in_person": True,
        },
        content_type="application/json",
        **bearer(raw_token),
    )
    assert response.status_code == 200
    assert response.json()["services_cleared"] == [treatment_service.pk]


def test_reception_gets_403_on_screening_answers(client, reception, consultation):
    client.force_login(reception)
    response = client.get(f"/api/v1/staff/consultations/{consultation.pk}/screening")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert HealthDataAccess.objects.filter(actor=reception, action="denied").count() == 1


def test_reception_sees_the_outcome(client, reception, consultation):
    client.force_login(reception)
    response = client.get(f"/api/v1/staff/consultations/{consultation.pk}")
    assert response.status_code == 200
    assert response.json()["outcome"] == "pending"
    assert "answers" not in response.json()


def test_practitioner_reads_screening_answers_and_the_read_is_audited(
    client, practitioner_user, consultation
):
    client.force_login(practitioner_user)
    response = client.get(f"/api/v1/staff/consultations/{consultation.pk}/screening")
    assert response.status_code == 200
    assert response.json()["answers"] == []
    assert HealthDataAccess.objects.filter(
        actor=practitioner_user, action="read", consultation=consultation
    ).exists()


def test_reception_cannot_record_an_outcome(client, reception, consultation, treatment_service):
    client.force_login(reception)
    response = client.post(
        f"/api/v1/staff/consultations/{consultation.pk}/outcome",
        {"outcome": "cleared", "services": [treatment_service.pk]},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_outcome_validation_names_the_field(client, practitioner_user, consultation):
    client.force_login(practitioner_user)
    response = client.post(
        f"/api/v1/staff/consultations/{consultation.pk}/outcome",
        {"outcome": "cleared", "services": []},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["field"] == "services"


def test_list_filters_by_status(client, practitioner_user, consultation, clear):
    clear(consultation.appointment)
    client.force_login(practitioner_user)
    assert client.get("/api/v1/staff/consultations").json() == []
    cleared = client.get("/api/v1/staff/consultations?status=cleared").json()
    assert [row["id"] for row in cleared] == [consultation.pk]
    assert client.get("/api/v1/staff/consultations?status=bogus").status_code == 422


def test_eligibility_endpoint_explains_a_refusal(
    client, reception, client_person, treatment_service, consultation, clear
):
    client.force_login(reception)
    url = f"/api/v1/staff/clients/{client_person.pk}/eligibility"
    pending = client.get(url, {"service": treatment_service.pk, "start": at(10).isoformat()})
    assert pending.status_code == 200
    assert pending.json()["reason"] == "consultation_pending"
    clear(consultation.appointment)
    allowed = client.get(url, {"service": treatment_service.pk, "start": at(10).isoformat()})
    assert allowed.json() == {"allowed": True, "reason": None, "message": "", "not_before": None}


def test_screening_can_be_submitted_with_the_manage_token(client, consultation):
    token = manage_token_for(consultation.appointment)
    questions = client.get(f"/api/v1/bookings/{token}/screening").json()["questions"]
    answers = {q["key"]: ("no" if q["answer_type"] == "yes_no" else "") for q in questions}
    answers["pregnant_or_breastfeeding"] = "yes"
    response = client.post(
        f"/api/v1/bookings/{token}/screening", {"answers": answers}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["may_not_be_suitable"] is True
    assert "alternatives" in response.json()["message"]
    consultation.refresh_from_db()
    assert consultation.submitted_at is not None
    assert [flag["key"] for flag in consultation.screening_flags] == ["pregnant_or_breastfeeding"]


def test_screening_with_a_missing_answer_names_the_question(client, consultation):
    token = manage_token_for(consultation.appointment)
    response = client.post(
        f"/api/v1/bookings/{token}/screening", {"answers": {}}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["field"] == "active_skin_problem"


def test_screening_for_a_treatment_booking_is_not_found(
    client, client_person, book_treatment, manager
):
    treatment = book_treatment(client_person, at(10), actor=manager, override_reason="Known client")
    token = manage_token_for(treatment)
    assert client.get(f"/api/v1/bookings/{token}/screening").status_code == 404


def test_create_api_token_command_prints_the_token_once(practitioner_user):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", practitioner_user.username, "--name", "cli", stdout=out, stderr=err
    )
    raw_token = out.getvalue().strip()
    token = ApiToken.objects.get(user=practitioner_user)
    assert token.name == "cli"
    assert raw_token.startswith(token.prefix)
    assert raw_token not in err.getvalue()


def test_the_staff_endpoints_are_documented_with_bearer_auth(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/staff/consultations/{consultation_id}/outcome" in schema["paths"]
    assert "/api/v1/bookings/{token}/screening" in schema["paths"]
    schemes = schema["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())
