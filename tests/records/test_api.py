"""Staff API for records, photos and recalls: status codes, the JSON shape, permissions, and
that it is all in the OpenAPI schema."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from records.models import TreatmentRecord
from tests import factories
from tests.records.conftest import photo_upload as an_upload

API = "/api/v1/staff"


def _logged_in(user) -> HttpClient:
    browser = HttpClient()
    browser.force_login(user)
    return browser


@pytest.fixture
def as_practitioner(practitioner_user):
    return _logged_in(practitioner_user)


@pytest.fixture
def as_reception(reception):
    return _logged_in(reception)


@pytest.fixture
def as_manager(manager):
    return _logged_in(manager)


def _json(browser, method, url, payload=None):
    return getattr(browser, method)(
        url, data=json.dumps(payload or {}), content_type="application/json"
    )


def test_a_record_is_saved_signed_and_amended_through_the_api(session, as_practitioner, glide_lot):
    url = f"{API}/appointments/{session.id}/record"
    assert as_practitioner.get(url).status_code == 404
    content = factories.complete_record_content(lot_ids=[glide_lot.id])
    draft = _json(as_practitioner, "put", url, content)
    assert draft.status_code == 200
    assert draft.json()["status"] == "draft"
    assert draft.json()["lots"][0]["lot_number"] == "HG-2026-07"

    signed = _json(as_practitioner, "put", url, {**content, "sign": True}).json()
    assert signed["status"] == "signed"
    assert signed["signed_by"] == "pat_practitioner"

    overwrite = _json(as_practitioner, "put", url, {**content, "passes": 5})
    assert overwrite.status_code == 409
    assert overwrite.json()["error"] == "record_signed"

    amended = _json(
        as_practitioner,
        "post",
        f"{API}/records/{signed['id']}/amendments",
        {**content, "passes": 5, "reason": "Five passes on the scars"},
    )
    assert amended.status_code == 201
    assert amended.json()["changed_fields"] == ["passes"]
    assert amended.json()["previous"]["passes"] == 3
    record = as_practitioner.get(url).json()
    assert record["passes"] == 5
    assert [a["number"] for a in record["amendments"]] == [1]


def test_bad_record_input_is_a_422_naming_the_field(session, as_practitioner, expired_lot):
    url = f"{API}/appointments/{session.id}/record"
    expired = _json(as_practitioner, "put", url, {"lot_ids": [expired_lot.id]})
    assert expired.status_code == 422
    assert expired.json()["field"] == "lot_ids"
    deep = _json(as_practitioner, "put", url, {"depths": [{"area": "cheeks", "depth_mm": "9"}]})
    assert deep.json()["field"] == "depths"
    unsigned = _json(as_practitioner, "put", url, {"sign": True})
    assert unsigned.status_code == 422
    assert "device" in unsigned.json()["missing"]
    assert not TreatmentRecord.objects.exists()


def test_expired_lots_are_not_listed(as_practitioner, glide_lot, expired_lot):
    lots = as_practitioner.get(f"{API}/product-lots").json()
    assert [lot["lot_number"] for lot in lots] == ["HG-2026-07"]


def test_the_lots_day_is_a_date_written_yyyy_mm_dd(as_practitioner, glide_lot):
    """A number was read as a Unix time (1970) and answered 200 (schemathesis, seed 20261201)."""
    refused = as_practitioner.get(f"{API}/product-lots", {"on": "0.0"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "on"
    assert as_practitioner.get(f"{API}/product-lots", {"on": "2026-12-01"}).status_code == 200


def test_reception_gets_403_for_records_and_photos(session, as_reception):
    assert as_reception.get(f"{API}/appointments/{session.id}/record").status_code == 403
    response = as_reception.post(
        f"{API}/appointments/{session.id}/photos",
        {"stage": "before", "angle": "front", "image": an_upload()},
    )
    assert response.status_code == 403


def test_photo_upload_and_its_signed_urls(session, as_practitioner, as_manager, settings):
    upload_url = f"{API}/appointments/{session.id}/photos"
    refused = as_practitioner.post(
        upload_url, {"stage": "before", "angle": "front", "image": an_upload()}
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "photo_consent_required"
    consent = _json(as_manager, "post", f"{API}/clients/{session.client_id}/photo-consent", {})
    assert consent.status_code == 201
    assert consent.json()["allows_marketing"] is False

    created = as_practitioner.post(
        upload_url, {"stage": "before", "angle": "front", "image": an_upload()}
    )
    assert created.status_code == 201
    photo = created.json()
    assert (photo["width"], photo["height"]) == (1200, 900)
    listed = as_practitioner.get(f"{API}/records/{photo['record_id']}/photos").json()
    assert [p["id"] for p in listed] == [photo["id"]]

    image_url = photo["image_url"].removeprefix("http://testserver")
    assert as_practitioner.get(image_url)["Content-Type"] == "image/jpeg"
    assert as_manager.get(image_url).status_code == 403
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.PHOTO_URL_MAX_AGE_SECONDS + 1)
    ):
        assert as_practitioner.get(image_url).status_code == 410


def test_recalls_through_the_api(
    session, practitioner_user, glide_lot, as_manager, as_practitioner
):
    factories.sign_treatment_record(session, signer=practitioner_user, lot_ids=[glide_lot.id])
    payload = {
        "product_id": glide_lot.product_id,
        "lot_id": glide_lot.id,
        "reason": "Maker's recall",
        "client_instructions": "Call us.",
    }
    assert _json(as_practitioner, "post", f"{API}/recalls", payload).status_code == 403
    opened = _json(as_manager, "post", f"{API}/recalls", payload)
    assert opened.status_code == 201
    recall = opened.json()
    assert [r["client_id"] for r in recall["recipients"]] == [session.client_id]
    sent = _json(as_manager, "post", f"{API}/recalls/{recall['id']}/notices").json()
    assert sent == {"queued": 1, "already_queued": 0, "cannot_receive_sms": 0}
    again = _json(as_manager, "post", f"{API}/recalls/{recall['id']}/notices").json()
    assert again["already_queued"] == 1
    assert as_manager.get(f"{API}/recalls").json()[0]["notified"] == 1
    missing = _json(as_manager, "post", f"{API}/recalls", {**payload, "lot_id": None})
    assert missing.status_code == 422
    assert missing.json()["field"] == "lot"


def test_the_records_endpoints_are_in_the_openapi_schema(as_practitioner):
    schema = HttpClient().get(reverse("api:openapi-json")).json()
    paths = schema["paths"]
    for path in (
        f"{API}/appointments/{{appointment_id}}/record",
        f"{API}/records/{{record_id}}/amendments",
        f"{API}/records/{{record_id}}/photos",
        f"{API}/appointments/{{appointment_id}}/photos",
        f"{API}/photos/{{token}}",
        f"{API}/product-lots",
        f"{API}/recalls",
        f"{API}/recalls/{{recall_id}}/notices",
    ):
        assert path in paths, path
    assert "PhotoOut" in schema["components"]["schemas"]
    assert "image_url" in schema["components"]["schemas"]["PhotoOut"]["properties"]


@pytest.mark.parametrize("value", [0, 1, "yes", "true", None])
def test_a_consent_given_by_anything_but_json_true_or_false_is_refused(session, as_manager, value):
    """The schema says boolean: 0, 1 or "yes" is not a yes (schemathesis found 0 accepted)."""
    url = f"{API}/clients/{session.client_id}/photo-consent"
    refused = _json(as_manager, "post", url, {"allows_marketing": value})
    assert refused.status_code == 422, refused.content
    assert refused.json()["field"] == "allows_marketing"
    assert not session.client.photo_consents.exists()

    granted = _json(as_manager, "post", url, {"allows_marketing": True})
    assert granted.status_code == 201
    assert granted.json()["allows_marketing"] is True
